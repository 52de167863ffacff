use std::sync::Arc;

use domain::clock::Clock;
use domain::openlist::text::Segmenter;
use search::SearchIndex;
use store::Store;
use tokio::sync::Mutex;

use crate::i18n::Messages;

/// Settings of the web layer; the binary fills them from flags, environment and config file.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub session_ttl_secs: i64,
    pub max_body_bytes: usize,
    /// Forms that carry files (multipart) may be this large; each file at most 5 MB, checked
    /// at its field.
    pub max_upload_bytes: usize,
    /// Failed sign-ins to one account from one address allowed within `login_window_secs`
    /// before that address must pause for that account (others, and the owner elsewhere, are
    /// not affected).
    pub login_max_failures: i64,
    /// Failed sign-ins from one address, whatever the account, allowed within the window: a
    /// password sprayed over many accounts is slowed.
    pub login_max_failures_per_addr: i64,
    pub login_window_secs: i64,
    /// Accounts one address may register per hour.
    pub registrations_per_addr_hour: i64,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Days an API token lives when its creator names no expiry.
    pub token_default_days: i64,
    /// Live (unrevoked, unexpired) tokens one account may hold.
    pub max_tokens_per_account: i64,
    /// Show the "synthetic demo" banner.
    pub demo: bool,
    /// The address the public reaches the platform at, for citations and links. When it is
    /// https, every cookie is `Secure`.
    pub public_url: String,
    /// Names of open-list entries at least this similar (0..1) are refused as near-duplicates.
    pub name_similarity_threshold: f64,
    /// What a government website shows at the foot of every page.
    pub site: SiteInfo,
    /// The SMTP server mail leaves through (password reset links); none: no mail is sent.
    pub smtp: Option<app::mail::SmtpSettings>,
    /// The data plane's working directories, memory and quality bar.
    pub data: app::DataSettings,
    /// A tile server for the maps of data with coordinates; none: the maps draw a grid.
    pub map_tiles: Option<crate::map::Tiles>,
}

/// The identification a Chinese government website carries at the foot of every page
/// (《政府网站发展指引》, 国办发〔2017〕47号), each shown only when the deployment sets it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteInfo {
    /// 主办单位.
    pub sponsor: Option<String>,
    /// 承办单位.
    pub organizer: Option<String>,
    /// How to reach the platform's operator: an address, a telephone number.
    pub contact: Option<String>,
    /// 政府网站标识码.
    pub site_code: Option<String>,
    /// Where the 党政机关网站标识 leads: the registration's verification page.
    pub party_gov_mark_url: Option<String>,
    /// ICP 备案号, linked to the MIIT's register.
    pub icp_record: Option<String>,
    /// 公安机关备案号.
    pub police_record: Option<String>,
}

impl WebConfig {
    /// The settings the use cases read, from these.
    pub fn app_config(&self) -> app::Config {
        app::Config {
            login_max_failures: self.login_max_failures,
            login_max_failures_per_addr: self.login_max_failures_per_addr,
            login_window_secs: self.login_window_secs,
            registrations_per_addr_hour: self.registrations_per_addr_hour,
            session_ttl_secs: self.session_ttl_secs,
            token_default_days: self.token_default_days,
            max_tokens_per_account: self.max_tokens_per_account,
            name_similarity_threshold: self.name_similarity_threshold,
            data: self.data.clone(),
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        let app = app::Config::default();
        Self {
            session_ttl_secs: app.session_ttl_secs,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 8 * 1024 * 1024,
            login_max_failures: app.login_max_failures,
            login_max_failures_per_addr: app.login_max_failures_per_addr,
            login_window_secs: app.login_window_secs,
            registrations_per_addr_hour: app.registrations_per_addr_hour,
            trusted_proxies: Vec::new(),
            token_default_days: app.token_default_days,
            max_tokens_per_account: app.max_tokens_per_account,
            demo: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
            name_similarity_threshold: app.name_similarity_threshold,
            site: SiteInfo::default(),
            smtp: None,
            data: app::DataSettings::default(),
            map_tiles: None,
        }
    }
}

/// Everything a request needs, passed explicitly: no global state. Cloned for every request
/// (and by each layer it passes), so it is one shared reference.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    /// The use cases, with the store and clock they share with the routes' reads.
    pub app: app::App,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub messages: Arc<Messages>,
    pub config: Arc<WebConfig>,
    /// This node's search index, derived from the database (see `indexer`).
    pub search: Arc<SearchIndex>,
    pub(crate) index_lock: Arc<Mutex<()>>,
    /// Set once this node's index has caught up with the database after start: until then the
    /// node is not ready, since a search would find only part of the open list.
    pub(crate) index_ready: Arc<std::sync::atomic::AtomicBool>,
    /// This app's Prometheus metrics.
    pub metrics: Arc<crate::observe::Metrics>,
    /// `/api/v1/openapi.json`, written once: it follows from the code and the public URL alone.
    pub(crate) openapi: Arc<std::sync::OnceLock<String>>,
}

impl AppState {
    pub fn new(
        store: Store,
        blobs: store::blobs::Blobs,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        search: Arc<SearchIndex>,
    ) -> Self {
        let messages = Arc::new(Messages::embedded());
        let texts: app::notify::Texts = {
            let (messages, public_url) = (messages.clone(), config.public_url.clone());
            Arc::new(move |n| crate::notices::mail(&messages, &public_url, n))
        };
        Self(Arc::new(Shared {
            app: app::App::new(store.clone(), blobs, clock.clone(), config.app_config())
                .with_mailer(config.smtp.as_ref().and_then(|s| {
                    // The settings were checked when read; a failure here is only logged.
                    app::mail::Mailer::new(s)
                        .map_err(|e| tracing::error!(error = %e, "mail cannot be sent"))
                        .ok()
                }))
                .with_notice_texts(texts),
            store,
            clock,
            messages,
            config: Arc::new(config),
            search,
            index_lock: Arc::new(Mutex::new(())),
            index_ready: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            metrics: Arc::new(crate::observe::Metrics::default()),
            openapi: Arc::default(),
        }))
    }

    pub async fn segmenter(&self) -> Arc<Segmenter> {
        self.app.segmenter().await
    }
}
