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
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long, env = "KAIFANG_LISTEN")]
    pub listen: Option<String>,
    /// Mark cookies Secure (serve behind HTTPS).
    #[arg(long, env = "KAIFANG_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Trust X-Forwarded-For for the client address (only behind your own proxy).
    #[arg(long, env = "KAIFANG_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: Option<bool>,
    /// The address the public reaches the platform at, e.g. https://data.example.gov.cn
    /// (used in citations); default: http:// and the listen address.
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
    pub secure_cookies: Option<bool>,
    pub trust_forwarded_for: Option<bool>,
    pub session_ttl_secs: Option<i64>,
    pub max_body_bytes: Option<usize>,
    pub max_upload_bytes: Option<usize>,
    pub login_max_failures: Option<i64>,
    pub login_window_secs: Option<i64>,
    pub public_url: Option<String>,
    pub name_similarity_threshold: Option<f64>,
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
) -> web::WebConfig {
    let d = web::WebConfig::default();
    web::WebConfig {
        secure_cookies: serve
            .secure_cookies
            .or(file.secure_cookies)
            .unwrap_or(d.secure_cookies),
        trust_forwarded_for: serve
            .trust_forwarded_for
            .or(file.trust_forwarded_for)
            .unwrap_or(d.trust_forwarded_for),
        session_ttl_secs: file.session_ttl_secs.unwrap_or(d.session_ttl_secs),
        max_body_bytes: file.max_body_bytes.unwrap_or(d.max_body_bytes),
        max_upload_bytes: file.max_upload_bytes.unwrap_or(d.max_upload_bytes),
        login_max_failures: file.login_max_failures.unwrap_or(d.login_max_failures),
        login_window_secs: file.login_window_secs.unwrap_or(d.login_window_secs),
        demo,
        public_url: serve
            .public_url
            .clone()
            .or_else(|| file.public_url.clone())
            .unwrap_or_else(|| format!("http://{listen}")),
        name_similarity_threshold: file
            .name_similarity_threshold
            .unwrap_or(d.name_similarity_threshold),
    }
}
