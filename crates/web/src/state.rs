use std::sync::Arc;

use domain::clock::Clock;
use store::Store;

use crate::i18n::Messages;

/// Settings of the web layer; the binary fills them from flags, environment and config file.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (on when served behind HTTPS).
    pub secure_cookies: bool,
    pub session_ttl_secs: i64,
    pub max_body_bytes: usize,
    /// Failed sign-ins of one account allowed within `login_window_secs` before a pause.
    pub login_max_failures: i64,
    pub login_window_secs: i64,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Show the "synthetic demo" banner.
    pub demo: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl_secs: 8 * 3600,
            max_body_bytes: 1024 * 1024,
            login_max_failures: 5,
            login_window_secs: 15 * 60,
            trust_forwarded_for: false,
            demo: false,
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
}

impl AppState {
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: WebConfig) -> Self {
        Self {
            store,
            clock,
            messages: Arc::new(Messages::embedded()),
            config: Arc::new(config),
        }
    }
}
