//! Throttling counters: attempts counted under a key (an address, an account digest and an
//! address, ...) in fixed windows, in the database so that limits hold across nodes.
//!
//! Counting is one atomic upsert, so parallel attempts cannot slip past a limit: each attempt
//! is counted before it is tried, and a successful one may be given back ([`Store::forget`]).
//! The counters are not state of the platform but a bound on what callers may try, so they are
//! written outside the audited write transactions; their rows are bounded by the limits they
//! enforce and purged when their window is over ([`Store::purge_throttle`]).

use domain::clock::Timestamp;

use crate::{Result, Store};

/// The attempts counted under a key in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub hits: i64,
    pub started: Timestamp,
}

impl Window {
    /// When this window ends and counting starts afresh.
    pub fn ends(&self, window_secs: i64) -> Timestamp {
        self.started.plus_seconds(window_secs)
    }
}

impl Store {
    /// Counts one attempt under `key` at `now`; a window older than `window_secs` starts anew.
    pub async fn hit(&self, key: &str, now: Timestamp, window_secs: i64) -> Result<Window> {
        self.hit_by(key, now, window_secs, 1).await
    }

    /// Counts `n` under `key` at `now` (rows delivered, say); a window older than
    /// `window_secs` starts anew.
    pub async fn hit_by(
        &self,
        key: &str,
        now: Timestamp,
        window_secs: i64,
        n: i64,
    ) -> Result<Window> {
        let expired_before = now.plus_seconds(-window_secs);
        let (hits, started): (i64, i64) = sqlx::query_as(
            "INSERT INTO throttle_counters (key, window_start, hits) VALUES ($1, $2, $4) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN throttle_counters.window_start <= $3 THEN $4 \
                           ELSE throttle_counters.hits + $4 END, \
               window_start = CASE WHEN throttle_counters.window_start <= $3 THEN $2 \
                                   ELSE throttle_counters.window_start END \
             RETURNING hits, window_start",
        )
        .bind(key)
        .bind(now.0)
        .bind(expired_before.0)
        .bind(n)
        .fetch_one(self.writer())
        .await?;
        Ok(Window {
            hits,
            started: Timestamp(started),
        })
    }

    /// Gives back one attempt counted under `key` (a sign-in that succeeded).
    pub async fn give_back(&self, key: &str) -> Result<()> {
        sqlx::query("UPDATE throttle_counters SET hits = hits - 1 WHERE key = $1 AND hits > 0")
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Forgets every attempt counted under `key`.
    pub async fn forget(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM throttle_counters WHERE key = $1")
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Removes counters whose window started before `before`; returns how many.
    pub async fn purge_throttle(&self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM throttle_counters WHERE window_start < $1")
            .bind(before.0)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
