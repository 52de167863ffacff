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
    /// Mark cookies `Secure` (on when served behind HTTPS).
    pub secure_cookies: bool,
    pub session_ttl_secs: i64,
    pub max_body_bytes: usize,
    /// Forms that carry files (multipart) may be this large; each file at most 5 MB, checked
    /// at its field.
    pub max_upload_bytes: usize,
    /// Failed sign-ins of one account allowed within `login_window_secs` before a pause.
    pub login_max_failures: i64,
    pub login_window_secs: i64,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Show the "synthetic demo" banner.
    pub demo: bool,
    /// The address the public reaches the platform at, for citations and links.
    pub public_url: String,
    /// Names of open-list entries at least this similar (0..1) are refused as near-duplicates.
    pub name_similarity_threshold: f64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl_secs: 8 * 3600,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 8 * 1024 * 1024,
            login_max_failures: 5,
            login_window_secs: 15 * 60,
            trust_forwarded_for: false,
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
