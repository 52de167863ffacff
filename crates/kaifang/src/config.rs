//! Settings from flags, environment variables (`KAIFANG_*`) and an optional TOML file, in that
//! order of precedence.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

/// Where the platform keeps its data. Shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the SQLite database and stored files.
    #[arg(long, env = "KAIFANG_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://FILE` or `postgres://USER@HOST/DB`; default: a SQLite file in the data dir.
    #[arg(long, env = "KAIFANG_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A TOML file with any of the settings (flags and environment variables win over it).
    #[arg(long, env = "KAIFANG_CONFIG")]
    pub config: Option<PathBuf>,
    /// The key that signs audit checkpoints (made on first use); default: `audit-signing.key`
    /// in the data dir. Keep it, or a copy of its public half, away from the database.
    #[arg(long, env = "KAIFANG_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// Keep files in this S3-compatible store (e.g. http://127.0.0.1:9000) instead of
    /// `DATA_DIR/files`; with --s3-bucket and the KAIFANG_S3_ACCESS_KEY_ID and
    /// KAIFANG_S3_SECRET_ACCESS_KEY environment variables.
    #[arg(long, env = "KAIFANG_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    #[arg(long, env = "KAIFANG_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    #[arg(long, env = "KAIFANG_S3_REGION")]
    pub s3_region: Option<String>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long, env = "KAIFANG_LISTEN")]
    pub listen: Option<String>,
    /// Proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For and
    /// X-Forwarded-Proto are believed; by default none, and the socket's address is the client's.
    #[arg(long, env = "KAIFANG_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// The address the public reaches the platform at, e.g. https://data.example.gov.cn
    /// (used in citations; when https, every cookie is Secure); default: http:// and the
    /// listen address.
    #[arg(long, env = "KAIFANG_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// The config file's shape; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub session_ttl_secs: Option<i64>,
    pub max_body_bytes: Option<usize>,
    pub max_upload_bytes: Option<usize>,
    pub login_max_failures: Option<i64>,
    pub login_max_failures_per_addr: Option<i64>,
    pub login_window_secs: Option<i64>,
    pub registrations_per_addr_hour: Option<i64>,
    pub token_default_days: Option<i64>,
    pub max_tokens_per_account: Option<i64>,
    pub public_url: Option<String>,
    pub name_similarity_threshold: Option<f64>,
    pub audit_key_file: Option<PathBuf>,
    /// Seconds between automatic audit checkpoints of a running server.
    pub audit_checkpoint_secs: Option<u64>,
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: Option<String>,
    /// What a government website shows at the foot of every page (主办单位, ICP 备案号...).
    pub site: Option<web::SiteInfo>,
    /// The SMTP server for the mail the platform sends (password reset links).
    pub smtp: Option<SmtpFile>,
    /// The quality gate's bar for uploaded data.
    pub quality: Option<QualityFile>,
    /// Memory the rows of data versions held for queries may take, in bytes.
    pub max_table_bytes: Option<u64>,
    /// A tile server for the maps of data with coordinates.
    pub map: Option<MapFile>,
    /// The privacy guard's bars.
    pub privacy: Option<PrivacyFile>,
}

/// `[privacy]` of the config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyFile {
    /// The smallest group of rows sharing their quasi-identifiers that unconditional data may
    /// have (k-anonymity); 5 when not set.
    pub k: Option<u64>,
    /// The fewest records a group answered in a sandbox holds (A21.2); 10 when not set.
    pub sandbox_threshold: Option<u64>,
}

/// `[map]` of the config file: a tile server whose terms allow this use, e.g.
/// `tile_url = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"` with its credit in
/// `tile_attribution`. Without it the maps draw a grid with the district seats.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapFile {
    pub tile_url: String,
    pub tile_attribution: String,
}

/// `[quality]` of the config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityFile {
    /// The lowest score (0–100, the share of rows without a problem) that is published.
    pub min_score: Option<f64>,
}

/// Where the data plane works (under the data dir) and the quality gate's bar.
pub fn data_settings(file: &FileConfig, data_dir: &Path) -> anyhow::Result<app::DataSettings> {
    let d = app::DataSettings::default();
    let min_score = file
        .quality
        .as_ref()
        .and_then(|q| q.min_score)
        .unwrap_or(d.quality.min_score);
    if !(0.0..=100.0).contains(&min_score) {
        anyhow::bail!("quality.min_score must be between 0 and 100");
    }
    let min_k = file
        .privacy
        .as_ref()
        .and_then(|p| p.k)
        .unwrap_or(d.privacy.min_k);
    if !(1..=1000).contains(&min_k) {
        anyhow::bail!("privacy.k must be between 1 and 1000");
    }
    let sandbox_threshold = file
        .privacy
        .as_ref()
        .and_then(|p| p.sandbox_threshold)
        .unwrap_or(d.privacy.sandbox_threshold);
    if !(2..=1000).contains(&sandbox_threshold) {
        anyhow::bail!("privacy.sandbox_threshold must be between 2 and 1000");
    }
    Ok(app::DataSettings {
        scratch_dir: data_dir.join("scratch"),
        cache_dir: data_dir.join("cache"),
        max_table_bytes: file.max_table_bytes.unwrap_or(d.max_table_bytes),
        quality: data_gate_thresholds(min_score),
        area: d.area,
        sql: d.sql,
        privacy: app::privacy::Settings {
            min_k,
            sandbox_threshold,
            ..d.privacy
        },
    })
}

fn data_gate_thresholds(min_score: f64) -> app::data_versions::Thresholds {
    app::data_versions::Thresholds { min_score }
}

/// `[smtp]` of the config file. The password comes from the `KAIFANG_SMTP_PASSWORD`
/// environment variable, never from the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    pub host: String,
    pub port: Option<u16>,
    /// `tls` (port 465), `starttls` (port 587, the default) or `none` (a local relay only).
    pub security: Option<app::mail::SmtpSecurity>,
    pub username: Option<String>,
    /// The sender, e.g. "开放平台 <noreply@data.example.gov.cn>".
    pub from: String,
}

/// The SMTP settings the file names, checked now so that a mistake stops the start.
fn smtp_settings(file: &FileConfig) -> anyhow::Result<Option<app::mail::SmtpSettings>> {
    let Some(f) = &file.smtp else {
        return Ok(None);
    };
    let settings = app::mail::SmtpSettings {
        host: f.host.clone(),
        port: f.port,
        security: f.security.unwrap_or(app::mail::SmtpSecurity::Starttls),
        username: f.username.clone(),
        password: std::env::var("KAIFANG_SMTP_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty()),
        from: f.from.clone(),
    };
    if settings.username.is_some() && settings.password.is_none() {
        anyhow::bail!(
            "smtp.username is set: the KAIFANG_SMTP_PASSWORD environment variable is needed"
        );
    }
    app::mail::Mailer::new(&settings).context("invalid [smtp] settings")?;
    Ok(Some(settings))
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// Where the audit signing key is: the flag, the file setting, or the data dir.
pub fn audit_key_path(args: &StoreArgs, file: &FileConfig, data_dir: &Path) -> PathBuf {
    args.audit_key_file
        .clone()
        .or_else(|| file.audit_key_file.clone())
        .unwrap_or_else(|| data_dir.join("audit-signing.key"))
}

/// The file store the settings name: an S3-compatible bucket, or `DATA_DIR/files`.
pub fn blob_config(
    args: &StoreArgs,
    file: &FileConfig,
    data_dir: &Path,
) -> anyhow::Result<store::blobs::BlobConfig> {
    let endpoint = args
        .s3_endpoint
        .clone()
        .or_else(|| file.s3_endpoint.clone());
    let Some(endpoint) = endpoint else {
        return Ok(store::blobs::BlobConfig::Local(data_dir.join("files")));
    };
    let secret = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .with_context(|| format!("an S3 file store needs the {name} environment variable"))
    };
    Ok(store::blobs::BlobConfig::S3 {
        endpoint,
        bucket: args
            .s3_bucket
            .clone()
            .or_else(|| file.s3_bucket.clone())
            .context("an S3 file store needs --s3-bucket")?,
        region: args
            .s3_region
            .clone()
            .or_else(|| file.s3_region.clone())
            .unwrap_or_else(|| "us-east-1".to_owned()),
        access_key_id: secret("KAIFANG_S3_ACCESS_KEY_ID")?,
        secret_access_key: secret("KAIFANG_S3_SECRET_ACCESS_KEY")?,
    })
}

/// Where the audit checkpoints are written: the file store the settings name, beside the
/// attachments (a local directory or an S3 bucket), never the database.
pub fn checkpoint_files(
    args: &StoreArgs,
    file: &FileConfig,
    data_dir: &Path,
) -> anyhow::Result<store::checkpoints::CheckpointFiles> {
    let blobs = store::blobs::Blobs::open(&blob_config(args, file, data_dir)?)
        .context("cannot open the file store")?;
    Ok(store::checkpoints::CheckpointFiles::new(&blobs))
}

/// The data dir the settings name, created if missing.
pub fn data_dir(
    args: &StoreArgs,
    file: &FileConfig,
    default_dir: &Path,
) -> anyhow::Result<PathBuf> {
    let data_dir = args
        .data_dir
        .clone()
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(|| default_dir.to_path_buf());
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
    Ok(data_dir)
}

/// The database URL the settings name: by default a SQLite file in the data dir.
pub fn database_url(args: &StoreArgs, file: &FileConfig, data_dir: &Path) -> String {
    match args
        .database_url
        .clone()
        .or_else(|| file.database_url.clone())
    {
        Some(url) => url,
        None => format!("sqlite://{}", data_dir.join("kaifang.db").display()),
    }
}

pub fn web_config(
    serve: &ServeArgs,
    file: &FileConfig,
    listen: &str,
    demo: bool,
) -> anyhow::Result<web::WebConfig> {
    let d = web::WebConfig::default();
    let trusted_proxies = serve
        .trusted_proxies
        .clone()
        .or_else(|| file.trusted_proxies.clone())
        .unwrap_or_default()
        .iter()
        .map(|p| parse_proxy(p))
        .collect::<anyhow::Result<_>>()?;
    let site = file.site.clone().unwrap_or_default();
    if let Some(url) = &site.party_gov_mark_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        anyhow::bail!("site.party_gov_mark_url must be an http or https address");
    }
    Ok(web::WebConfig {
        trusted_proxies,
        session_ttl_secs: file.session_ttl_secs.unwrap_or(d.session_ttl_secs),
        max_body_bytes: file.max_body_bytes.unwrap_or(d.max_body_bytes),
        max_upload_bytes: file.max_upload_bytes.unwrap_or(d.max_upload_bytes),
        login_max_failures: file.login_max_failures.unwrap_or(d.login_max_failures),
        login_max_failures_per_addr: file
            .login_max_failures_per_addr
            .unwrap_or(d.login_max_failures_per_addr),
        login_window_secs: file.login_window_secs.unwrap_or(d.login_window_secs),
        registrations_per_addr_hour: file
            .registrations_per_addr_hour
            .unwrap_or(d.registrations_per_addr_hour),
        token_default_days: file.token_default_days.unwrap_or(d.token_default_days),
        max_tokens_per_account: file
            .max_tokens_per_account
            .unwrap_or(d.max_tokens_per_account),
        demo,
        public_url: serve
            .public_url
            .clone()
            .or_else(|| file.public_url.clone())
            .unwrap_or_else(|| format!("http://{listen}")),
        name_similarity_threshold: file
            .name_similarity_threshold
            .unwrap_or(d.name_similarity_threshold),
        site,
        smtp: smtp_settings(file)?,
        map_tiles: file
            .map
            .as_ref()
            .map(|m| web::map::Tiles::parse(&m.tile_url, &m.tile_attribution))
            .transpose()
            .map_err(|e| anyhow::anyhow!("[map]: {e}"))?,
        // Set from the data dir by the commands that serve or work (`data_settings`).
        data: d.data,
    })
}

/// A trusted proxy: one address (`10.0.0.5`) or a range (`10.0.0.0/8`).
fn parse_proxy(text: &str) -> anyhow::Result<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .with_context(|| format!("trusted_proxies: {text:?} is not an address or CIDR range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_settings_are_read_and_a_mark_link_must_be_a_web_address() {
        let file: FileConfig = toml::from_str(
            "[site]\nsponsor = \"上海市经济和信息化委员会\"\nicp_record = \"沪ICP备00000000号\"\n",
        )
        .unwrap();
        let web = web_config(&ServeArgs::default(), &file, "127.0.0.1:8080", false).unwrap();
        assert_eq!(
            web.site.sponsor.as_deref(),
            Some("上海市经济和信息化委员会")
        );
        assert_eq!(web.site.organizer, None);
        let file: FileConfig =
            toml::from_str("[site]\nparty_gov_mark_url = \"javascript:alert(1)\"\n").unwrap();
        assert!(web_config(&ServeArgs::default(), &file, "127.0.0.1:8080", false).is_err());
        assert!(toml::from_str::<FileConfig>("[site]\nsponser = \"x\"\n").is_err());
    }

    #[test]
    fn a_tile_server_is_read_and_a_bad_address_stops_the_start() {
        let web_of = |text: &str| {
            let file: FileConfig = toml::from_str(text).unwrap();
            web_config(&ServeArgs::default(), &file, "127.0.0.1:8080", false)
        };
        let web = web_of(
            "[map]\ntile_url = \"https://tiles.example.gov.cn/{z}/{x}/{y}.png\"\n\
             tile_attribution = \"© 上海市测绘院\"\n",
        )
        .unwrap();
        assert_eq!(
            web.map_tiles.unwrap().origin(),
            "https://tiles.example.gov.cn"
        );
        assert!(web_of("").unwrap().map_tiles.is_none());
        let err = web_of(
            "[map]\ntile_url = \"https://tiles.example.gov.cn/{z}/{x}.png\"\n\
             tile_attribution = \"© 上海市测绘院\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("{y}"), "{err}");
    }
}
