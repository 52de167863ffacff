//! Recording and rolling up usage (see `domain::usage`). A request only hands its use over
//! (never waiting for the database, never failing because of it); a background task tallies
//! uses in memory and writes them in batches, one row per minute and key, so a flood of the
//! same request adds rows in proportion to the minutes, not to the requests.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::clock::Timestamp;
use domain::usage::{Tally, UsageKey, Use, day_of};
use tokio::sync::{mpsc, oneshot};

use crate::App;
use crate::caller::{Caller, Via};

/// Uses waiting to be counted; beyond this, uses are dropped (and said so in the log) rather
/// than slowing requests.
const QUEUE: usize = 10_000;
/// How often tallied uses are written.
const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Keys tallied before they are written whatever the time: callers choose the fields and so
/// can make every use a key of its own; the memory this takes stays bounded.
const MAX_KEYS: usize = 20_000;

enum Msg {
    Use(UsageKey, Tally),
    Flush(oneshot::Sender<()>),
}

/// The handle requests count uses through. Cheap to clone.
#[derive(Clone)]
pub struct UsageLog {
    tx: mpsc::Sender<Msg>,
}

impl UsageLog {
    /// Starts the writer task on the current runtime.
    pub fn start(store: store::Store) -> Self {
        let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE);
        tokio::spawn(async move {
            let mut counts: BTreeMap<UsageKey, Tally> = BTreeMap::new();
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                let flushed = tokio::select! {
                    msg = rx.recv() => match msg {
                        Some(Msg::Use(key, tally)) => {
                            counts.entry(key).or_default().add(tally);
                            if counts.len() > 2 * MAX_KEYS {
                                // The database has stayed away: the oldest minute goes.
                                counts.pop_first();
                            }
                            (counts.len() == MAX_KEYS).then_some(None)
                        }
                        Some(Msg::Flush(done)) => Some(Some(done)),
                        // Every handle is gone: write what is left and stop.
                        None => {
                            write(&store, &mut counts).await;
                            return;
                        }
                    },
                    _ = tick.tick() => Some(None),
                };
                if let Some(done) = flushed {
                    write(&store, &mut counts).await;
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                }
            }
        });
        Self { tx }
    }

    /// Logs one use by `caller` at `at`. Never waits.
    pub fn record(&self, caller: &Caller, at: Timestamp, one: Use) {
        let via = match caller.via {
            Via::Anonymous => "anonymous",
            Via::Session { .. } => "session",
            Via::ApiToken => "token",
            Via::Cli => "cli",
            Via::System => "system",
        };
        let actor = caller.actor.user().map(|u| u.id.to_string());
        let (mut key, tally) = UsageKey::of(at, one, actor, via);
        key.agreement_id = caller
            .actor
            .user()
            .and_then(|u| u.scope)
            .and_then(|s| s.agreement)
            .map(|a| a.to_string());
        if self.tx.try_send(Msg::Use(key, tally)).is_err() {
            tracing::warn!("usage log queue full; a use was not counted");
        }
    }

    /// Writes what has been counted so far (for shutdown and tests).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write(store: &store::Store, counts: &mut BTreeMap<UsageKey, Tally>) {
    if counts.is_empty() {
        return;
    }
    match store.append_usage(counts).await {
        Ok(()) => counts.clear(),
        // Kept for the next flush (bounded: see `MAX_KEYS`).
        Err(e) => tracing::warn!(error = %e, "usage counts not written; will retry"),
    }
}

/// Rolls the usage log up into daily counts (from the day after the last complete one rolled
/// up, through today) and refreshes each entry's reads of the last 30 days. Idempotent.
/// Returns how many entries' recent reads changed.
pub async fn roll_up(app: &App) -> crate::Result<usize> {
    let today = day_of(app.clock.now());
    let first = match app.store.last_rolled_up_day().await? {
        // The last day rolled up may have been rolled up while it was still going.
        Some(last) => Some(last),
        None => app.store.first_usage_minute().await?.map(day_of),
    };
    if let Some(mut day) = first {
        while day <= today {
            app.store.roll_up_usage_day(day).await?;
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
    }
    Ok(app.store.refresh_recent_usage(today).await?)
}
