//! Uploads: files streamed to the file store by an account, waiting to be attached. Attaching
//! consumes the upload (its row goes; the file stays under its content address); an upload
//! left unattached is purged by housekeeping, and its file with it when nothing else names it.

use domain::clock::Timestamp;
use domain::ids::UserId;

use crate::{AuditEvent, Result, Store, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UploadRecord {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

type Row = (String, String, String, String, i64, String, i64);

impl From<Row> for UploadRecord {
    fn from((id, owner_id, name, media_type, size, sha256, at): Row) -> Self {
        Self {
            id,
            owner_id,
            name,
            media_type,
            size,
            sha256,
            created_at: Timestamp(at),
        }
    }
}

pub async fn insert(tx: &mut WriteTx, u: &UploadRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO uploads (id, owner_id, name, media_type, size, sha256, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&u.id)
    .bind(&u.owner_id)
    .bind(&u.name)
    .bind(&u.media_type)
    .bind(u.size)
    .bind(&u.sha256)
    .bind(u.created_at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Uploads `owner` made since `since`, for the per-account bound.
pub async fn count_since(tx: &mut WriteTx, owner: UserId, since: Timestamp) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE owner_id = $1 AND created_at >= $2")
            .bind(owner.to_string())
            .bind(since.0)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Takes `owner`'s upload `id` made after `not_before` out of the waiting uploads, for
/// attaching it in the same transaction. Another account's upload, a used one and an
/// expired one are all `None`.
pub async fn take(
    tx: &mut WriteTx,
    id: &str,
    owner: UserId,
    not_before: Timestamp,
) -> Result<Option<UploadRecord>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, owner_id, name, media_type, size, sha256, created_at FROM uploads \
         WHERE id = $1 AND owner_id = $2 AND created_at > $3",
    )
    .bind(id)
    .bind(owner.to_string())
    .bind(not_before.0)
    .fetch_optional(tx.conn())
    .await?;
    if row.is_some() {
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    Ok(row.map(Into::into))
}

impl Store {
    /// Uploads `owner` made since `since` (a read, for a check before the bytes come).
    pub async fn uploads_since(&self, owner: UserId, since: Timestamp) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM uploads WHERE owner_id = $1 AND created_at >= $2",
        )
        .bind(owner.to_string())
        .bind(since.0)
        .fetch_one(self.pool())
        .await?)
    }

    /// Removes uploads made before `before` that were never attached, and returns the content
    /// addresses of their files that nothing names any more (to be deleted from the file
    /// store).
    pub async fn purge_uploads(&self, now: Timestamp, before: Timestamp) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let stale: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT sha256 FROM uploads WHERE created_at < $1")
                .bind(before.0)
                .fetch_all(tx.conn())
                .await?;
        if stale.is_empty() {
            return Ok(Vec::new());
        }
        let uploads = sqlx::query("DELETE FROM uploads WHERE created_at < $1")
            .bind(before.0)
            .execute(tx.conn())
            .await?
            .rows_affected();
        let mut orphans = Vec::new();
        for sha256 in stale {
            let named: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM uploads WHERE sha256 = $1) \
                 + (SELECT COUNT(*) FROM ticket_attachments WHERE sha256 = $1) \
                 + (SELECT COUNT(*) FROM article_attachments WHERE sha256 = $1) \
                 + (SELECT COUNT(*) FROM data_versions \
                    WHERE source_sha256 = $1 OR parquet_sha256 = $1 OR failures_sha256 = $1)",
            )
            .bind(&sha256)
            .fetch_one(tx.conn())
            .await?;
            if named == 0 {
                orphans.push(sha256);
            }
        }
        let mut ev = AuditEvent::system(
            now,
            "system",
            "housekeeping.purge_uploads",
            "platform",
            "-".into(),
        );
        ev.after = Some(serde_json::json!({ "uploads": uploads, "files": orphans }));
        tx.audit(ev).await?;
        tx.commit().await?;
        Ok(orphans)
    }
}
