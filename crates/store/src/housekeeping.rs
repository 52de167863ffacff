//! Removing what has run out: expired sessions, tokens long expired or revoked, and throttling
//! counters whose window is over. Run periodically by every node (each run is idempotent).

use domain::clock::Timestamp;

use crate::{AuditEvent, Result, Store};

/// How many rows a run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub sessions: u64,
    pub tokens: u64,
    pub counters: u64,
}

impl Store {
    /// Removes sessions expired at `now`, tokens that expired or were revoked more than
    /// `keep_tokens_secs` ago (their owners see them in their list until then), and throttling
    /// counters whose window started more than `counter_window_secs` ago. The removal of
    /// sessions, tokens and expired password-reset links is audited as the system's act, when there was any.
    pub async fn purge_expired(
        &self,
        now: Timestamp,
        keep_tokens_secs: i64,
        counter_window_secs: i64,
    ) -> Result<Purged> {
        let tokens_before = now.plus_seconds(-keep_tokens_secs).0;
        let mut tx = self.begin_write().await?;
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.0)
            .execute(tx.conn())
            .await?
            .rows_affected();
        let tokens = sqlx::query(
            "DELETE FROM api_tokens WHERE (expires_at IS NOT NULL AND expires_at <= $1) \
             OR (revoked_at IS NOT NULL AND revoked_at <= $1)",
        )
        .bind(tokens_before)
        .execute(tx.conn())
        .await?
        .rows_affected();
        let resets = sqlx::query("DELETE FROM password_resets WHERE expires_at <= $1")
            .bind(now.0)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if sessions + tokens + resets > 0 {
            let mut ev =
                AuditEvent::system(now, "system", "housekeeping.purge", "platform", "-".into());
            ev.after = Some(
                serde_json::json!({ "sessions": sessions, "tokens": tokens, "password_resets": resets }),
            );
            tx.audit(ev).await?;
            tx.commit().await?;
        } else {
            // Nothing to remove: let go of the write lock before the counters are purged.
            drop(tx);
        }
        let counters = self
            .purge_throttle(now.plus_seconds(-counter_window_secs))
            .await?;
        Ok(Purged {
            sessions,
            tokens,
            counters,
        })
    }
}
