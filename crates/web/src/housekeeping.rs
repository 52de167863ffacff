//! The periodic purge of what has run out (see `store::housekeeping`), on every node.

use std::time::Duration;

use crate::state::AppState;

/// Tokens stay listed (as expired or revoked) this long before they are removed.
const KEEP_TOKENS_SECS: i64 = 30 * 86_400;

/// Runs one purge; counters older than the longest throttling window (a day covers the
/// sign-in and registration windows) go too.
pub async fn run_once(state: &AppState) -> store::Result<store::housekeeping::Purged> {
    let window = state.config.login_window_secs.max(86_400);
    state
        .store
        .purge_expired(state.clock.now(), KEEP_TOKENS_SECS, window)
        .await
}

/// Purges every `every` for as long as the app runs.
pub fn spawn(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match run_once(&state).await {
                Ok(p) if p.sessions + p.tokens + p.counters > 0 => {
                    tracing::info!(?p, "housekeeping purged expired rows")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "housekeeping failed; will retry"),
            }
        }
    })
}
