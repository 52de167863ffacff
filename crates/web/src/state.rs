use std::sync::Arc;

use domain::clock::Clock;
use domain::openlist::text::Segmenter;
use search::SearchIndex;
use store::Store;
use tokio::sync::{Mutex, OnceCell};

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
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_ttl_secs: 8 * 3600,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 8 * 1024 * 1024,
            login_max_failures: 5,
            login_max_failures_per_addr: 30,
            login_window_secs: 15 * 60,
            registrations_per_addr_hour: 10,
            trusted_proxies: Vec::new(),
            token_default_days: 90,
            max_tokens_per_account: 20,
            demo: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
            name_similarity_threshold: 0.8,
        }
    }
}

/// Everything a request needs, passed explicitly: no global state.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub messages: Arc<Messages>,
    pub config: Arc<WebConfig>,
    /// Chinese word segmentation, loaded on first use so that start-up stays fast.
    segmenter: Arc<OnceCell<Arc<Segmenter>>>,
    /// This node's search index, derived from the database (see `indexer`).
    pub search: Arc<SearchIndex>,
    pub(crate) index_lock: Arc<Mutex<()>>,
}

impl AppState {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        search: Arc<SearchIndex>,
    ) -> Self {
        Self {
            store,
            clock,
            messages: Arc::new(Messages::embedded()),
            config: Arc::new(config),
            segmenter: Arc::new(OnceCell::new()),
            search,
            index_lock: Arc::new(Mutex::new(())),
        }
    }

    pub async fn segmenter(&self) -> Arc<Segmenter> {
        self.segmenter
            .get_or_init(|| async {
                let loaded = tokio::task::spawn_blocking(Segmenter::new).await;
                Arc::new(loaded.unwrap_or_else(|_| Segmenter::new()))
            })
            .await
            .clone()
    }
}
