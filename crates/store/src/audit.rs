//! Reading and verifying the audit trail.

use domain::audit::{AuditRecord, ChainBreak, ChainVerifier};
use futures_util::TryStreamExt;

use crate::{Result, Store};

#[derive(Debug, sqlx::FromRow)]
struct Row {
    seq: i64,
    at: i64,
    actor_id: Option<String>,
    actor_role: String,
    action: String,
    target_type: String,
    target_id: String,
    before_digest: Option<String>,
    after_digest: Option<String>,
    client_addr: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<Row> for AuditRecord {
    fn from(r: Row) -> Self {
        AuditRecord {
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            before_digest: r.before_digest,
            after_digest: r.after_digest,
            client_addr: r.client_addr,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// Which records to list. Every bound is optional; results are newest first.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Keyset pagination: only records with a smaller sequence number.
    pub before_seq: Option<i64>,
    /// Only sign-ins and sign-outs (`auth.*`), or only everything else.
    pub kind: Option<AuditKind>,
    pub limit: i64,
}

/// What a record of the trail is about: someone signing in or out, or a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    SignIns,
    Changes,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Intact { records: i64 },
    Broken(ChainBreak),
}

impl Store {
    pub async fn list_audit(&self, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let mut w = crate::filters::Filters::default();
        w.text("actor_id", "=", f.actor_id.as_deref())
            .text("target_type", "=", f.target_type.as_deref())
            .text("target_id", "=", f.target_id.as_deref())
            .text("action", "=", f.action.as_deref())
            .int("at", ">=", f.from)
            .int("at", "<", f.to)
            .int("seq", "<", f.before_seq)
            .text(
                "action",
                match f.kind {
                    Some(AuditKind::Changes) => "NOT LIKE",
                    _ => "LIKE",
                },
                f.kind.map(|_| "auth.%"),
            );
        let sql = w.sql(
            "SELECT seq, at, actor_id, actor_role, action, target_type, target_id, \
             before_digest, after_digest, client_addr, prev_hash, hash FROM audit_log",
            "ORDER BY seq DESC LIMIT $?",
        );
        let rows: Vec<Row> = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(f.limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The chain's head: the last record's sequence number and hash.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        Ok(
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Walks the chain in order, streaming, and checks it against the head and, when given, a
    /// verified checkpoint's (seq, hash). The head is read first and only the records up to it
    /// are walked: the head and its record are written in one transaction, so what is read is
    /// a consistent snapshot even while others append.
    pub async fn verify_audit(&self, anchor: Option<(i64, &str)>) -> Result<Verification> {
        let (head_seq, head_hash) = self.audit_head().await?;
        let mut verifier = match anchor {
            Some((seq, hash)) => ChainVerifier::anchored(seq, hash),
            None => ChainVerifier::default(),
        };
        {
            let mut rows = sqlx::query_as::<_, Row>(
                "SELECT seq, at, actor_id, actor_role, action, target_type, target_id, \
                 before_digest, after_digest, client_addr, prev_hash, hash FROM audit_log \
                 WHERE seq <= $1 ORDER BY seq",
            )
            .bind(head_seq)
            .fetch(&self.pool);
            while let Some(row) = rows.try_next().await? {
                if let Err(brk) = verifier.push(&row.into()) {
                    return Ok(Verification::Broken(brk));
                }
            }
        }
        Ok(match verifier.finish(head_seq, &head_hash) {
            Ok(records) => Verification::Intact { records },
            Err(brk) => Verification::Broken(brk),
        })
    }
}
