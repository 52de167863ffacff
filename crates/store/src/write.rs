//! Write transactions that cannot commit without an audit record.

use domain::audit::{AuditRecord, digest};
use domain::clock::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Any, AnyConnection, Transaction};

use crate::{Result, StoreError};

/// One change of state, as the audit trail records it.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub actor_id: Option<String>,
    pub actor_role: String,
    /// A stable dotted name, e.g. `user.register`, `token.revoke`.
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: String,
    /// The state before and after, digested (never stored in clear: it may hold personal data).
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub client_addr: Option<String>,
}

impl AuditEvent {
    /// A change made by the platform itself or an operator's tool, not by a signed-in account:
    /// `role` says which (`system`, `cli`, ...).
    pub fn system(
        at: Timestamp,
        role: &str,
        action: &'static str,
        target_type: &'static str,
        target_id: String,
    ) -> Self {
        AuditEvent {
            at,
            actor_id: None,
            actor_role: role.to_owned(),
            action,
            target_type,
            target_id,
            before: None,
            after: None,
            client_addr: None,
        }
    }
}

pub struct WriteTx {
    tx: Transaction<'static, Any>,
    audited: bool,
    /// Whether this transaction changed an open-list entry, and the store's count of those.
    changes_entry: bool,
    entry_changes: Arc<AtomicU64>,
}

impl WriteTx {
    pub(crate) fn new(tx: Transaction<'static, Any>, entry_changes: Arc<AtomicU64>) -> Self {
        Self {
            tx,
            audited: false,
            changes_entry: false,
            entry_changes,
        }
    }

    /// Marks this transaction as changing an open-list entry: once committed, what this
    /// process holds about entries is read again.
    pub(crate) fn changes_entry(&mut self) {
        self.changes_entry = true;
    }

    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Appends `event` to the hash chain inside this transaction.
    pub async fn audit(&mut self, event: AuditEvent) -> Result<i64> {
        // Bumping the head first locks it (PostgreSQL row lock; SQLite holds the write lock
        // already), and hands back the previous hash, which is not yet overwritten.
        let (seq, prev_hash): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *self.tx)
                .await?;
        let digest_of = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .map(|v| digest(serde_json::to_string(v).unwrap_or_default().as_bytes()))
        };
        let mut record = AuditRecord {
            seq,
            at: event.at.0,
            actor_id: event.actor_id,
            actor_role: event.actor_role,
            action: event.action.to_owned(),
            target_type: event.target_type.to_owned(),
            target_id: event.target_id,
            before_digest: digest_of(&event.before),
            after_digest: digest_of(&event.after),
            client_addr: event.client_addr,
            prev_hash,
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_id, actor_role, action, target_type, target_id, \
             before_digest, after_digest, client_addr, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(record.seq)
        .bind(record.at)
        .bind(&record.actor_id)
        .bind(&record.actor_role)
        .bind(&record.action)
        .bind(&record.target_type)
        .bind(&record.target_id)
        .bind(&record.before_digest)
        .bind(&record.after_digest)
        .bind(&record.client_addr)
        .bind(&record.prev_hash)
        .bind(&record.hash)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&record.hash)
            .execute(&mut *self.tx)
            .await?;
        self.audited = true;
        Ok(seq)
    }

    pub async fn commit(self) -> Result<()> {
        if !self.audited {
            // Dropping the transaction rolls it back: an unaudited change never lands.
            return Err(StoreError::Unaudited);
        }
        self.tx.commit().await?;
        if self.changes_entry {
            self.entry_changes.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }
}
