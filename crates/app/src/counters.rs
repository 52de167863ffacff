//! Counts kept in this process and written to the shared throttle counters at most once a
//! second per key: the calls a credential makes are counted on every call, and a database
//! write per call would be most of what a call costs (SQLite has one writer). Within one
//! process a count is exact; across several processes each sees the others' calls at most a
//! second late, so a day's quota can be passed by what the other servers answered in that
//! second. See docs/decisions/0022-conditional-delivery.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use domain::clock::Timestamp;

use crate::error::Result;

/// How often a key's count is written to, and read back from, the shared counters.
pub const SYNC_MILLIS: i64 = 1_000;
/// Keys held before those idle for a window are forgotten.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Local {
    /// The shared count as last read.
    shared: i64,
    /// Counted here since.
    pending: i64,
    synced: Timestamp,
}

/// This process's counts.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    keys: Arc<Mutex<HashMap<String, Local>>>,
}

impl Counters {
    /// Counts `n` under `key` at `now` in a window of `window_secs` (the shared counters'
    /// semantics); returns the count as this process knows it.
    pub async fn add(
        &self,
        store: &store::Store,
        key: &str,
        n: i64,
        now: Timestamp,
        window_secs: i64,
    ) -> Result<i64> {
        let flush = {
            let mut keys = self.keys.lock().expect("counters lock");
            if keys.len() >= MAX_KEYS {
                let idle = now.plus_seconds(-window_secs.max(60));
                keys.retain(|_, l| l.pending > 0 || l.synced.0 > idle.0);
            }
            let l = keys.entry(key.to_owned()).or_insert(Local {
                shared: 0,
                pending: 0,
                synced: Timestamp(i64::MIN),
            });
            l.pending += n;
            if now.0.saturating_sub(l.synced.0) < SYNC_MILLIS {
                return Ok(l.shared + l.pending);
            }
            let pending = l.pending;
            l.pending = 0;
            // Marked synced now, so that the calls arriving while it is written count locally.
            l.synced = now;
            pending
        };
        let window = store.hit_by(key, now, window_secs, flush).await;
        let mut keys = self.keys.lock().expect("counters lock");
        let l = keys.entry(key.to_owned()).or_insert(Local {
            shared: 0,
            pending: 0,
            synced: now,
        });
        match window {
            Ok(w) => {
                l.shared = w.hits;
                Ok(l.shared + l.pending)
            }
            Err(e) => {
                // Not written: counted again with the next write.
                l.pending += flush;
                l.synced = Timestamp(i64::MIN);
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(dir: &std::path::Path) -> store::Store {
        let s = store::Store::connect(&format!("sqlite://{}", dir.join("c.db").display()))
            .await
            .unwrap();
        s.migrate(Timestamp(0)).await.unwrap();
        s
    }

    #[tokio::test]
    async fn counts_are_exact_here_and_shared_with_other_processes_within_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let db = store(dir.path()).await;
        // Two servers on one database.
        let (a, b) = (Counters::default(), Counters::default());
        let t = |ms: i64| Timestamp(1_800_000_000_000 + ms);
        for i in 1..=5 {
            assert_eq!(a.add(&db, "k", 1, t(i), 86_400).await.unwrap(), i);
        }
        // The first call was written at once; the next four wait for the next second.
        assert_eq!(b.add(&db, "k", 1, t(10), 86_400).await.unwrap(), 2);
        assert_eq!(a.add(&db, "k", 1, t(1_001), 86_400).await.unwrap(), 7);
        assert_eq!(b.add(&db, "k", 1, t(1_011), 86_400).await.unwrap(), 8);
        // Counting by more than one (rows delivered).
        assert_eq!(a.add(&db, "rows", 250, t(0), 86_400).await.unwrap(), 250);
        assert_eq!(a.add(&db, "rows", 250, t(5), 86_400).await.unwrap(), 500);
    }
}
