//! Files attached to tickets and to articles: their names, types, sizes and SHA-256 in the
//! database, one table per owner with the same columns and code; their content in the file
//! store (`blobs`) under that SHA-256.

use domain::clock::Timestamp;
use domain::ids::{ArticleId, TicketId};

use crate::{Result, Store, StoreError, WriteTx};

/// What a file is attached to.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Ticket(TicketId),
    Article(ArticleId),
}

impl Owner {
    fn id(&self) -> String {
        match self {
            Owner::Ticket(id) => id.to_string(),
            Owner::Article(id) => id.to_string(),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AttachmentInfo {
    pub id: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

/// A file to attach, already in the file store under `sha256` (an upload's).
pub struct NewAttachment {
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

/// `SELECT id, name, media_type, size, sha256, created_at`.
type InfoRow = (String, String, String, i64, String, i64);

impl From<InfoRow> for AttachmentInfo {
    fn from((id, name, media_type, size, sha256, at): InfoRow) -> Self {
        Self {
            id,
            name,
            media_type,
            size,
            sha256,
            created_at: Timestamp(at),
        }
    }
}

/// Attaches `a` to `owner`; returns the attachment's id.
pub async fn add(
    tx: &mut WriteTx,
    owner: Owner,
    a: &NewAttachment,
    at: Timestamp,
) -> Result<String> {
    let sql = match owner {
        Owner::Ticket(_) => {
            "INSERT INTO ticket_attachments (id, ticket_id, name, media_type, size, sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        }
        Owner::Article(_) => {
            "INSERT INTO article_attachments (id, article_id, name, media_type, size, sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        }
    };
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(sql)
        .bind(&id)
        .bind(owner.id())
        .bind(&a.name)
        .bind(&a.media_type)
        .bind(a.size)
        .bind(&a.sha256)
        .bind(at.0)
        .execute(tx.conn())
        .await?;
    Ok(id)
}

/// Removes attachment `id` of `owner`; `NotFound` when it has no such attachment.
pub async fn remove(tx: &mut WriteTx, owner: Owner, id: &str) -> Result<()> {
    let sql = match owner {
        Owner::Ticket(_) => "DELETE FROM ticket_attachments WHERE ticket_id = $1 AND id = $2",
        Owner::Article(_) => "DELETE FROM article_attachments WHERE article_id = $1 AND id = $2",
    };
    let done = sqlx::query(sql)
        .bind(owner.id())
        .bind(id)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

impl Store {
    /// What is attached to `owner`, oldest first.
    pub async fn attachments(&self, owner: Owner) -> Result<Vec<AttachmentInfo>> {
        let sql = match owner {
            Owner::Ticket(_) => {
                "SELECT id, name, media_type, size, sha256, created_at FROM ticket_attachments \
                 WHERE ticket_id = $1 ORDER BY created_at, id"
            }
            Owner::Article(_) => {
                "SELECT id, name, media_type, size, sha256, created_at FROM article_attachments \
                 WHERE article_id = $1 ORDER BY created_at, id"
            }
        };
        let rows: Vec<InfoRow> = sqlx::query_as(sql)
            .bind(owner.id())
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(AttachmentInfo::from).collect())
    }

    /// Attachment `id` of `owner`; its content is in the file store under its SHA-256.
    pub async fn attachment(&self, owner: Owner, id: &str) -> Result<AttachmentInfo> {
        let sql = match owner {
            Owner::Ticket(_) => {
                "SELECT id, name, media_type, size, sha256, created_at FROM ticket_attachments \
                 WHERE ticket_id = $1 AND id = $2"
            }
            Owner::Article(_) => {
                "SELECT id, name, media_type, size, sha256, created_at FROM article_attachments \
                 WHERE article_id = $1 AND id = $2"
            }
        };
        let row: Option<InfoRow> = sqlx::query_as(sql)
            .bind(owner.id())
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(AttachmentInfo::from).ok_or(StoreError::NotFound)
    }

    /// Moves attachments written before the file store (base64 in their rows) into `blobs`,
    /// a row at a time: each row's content is stored, its SHA-256 and size set from what was
    /// stored, and only then the content cleared. Safe to run again after an interruption; a row
    /// whose content cannot be read is left as it is and logged. Returns how many were moved.
    pub async fn move_attachments_to(&self, blobs: &crate::blobs::Blobs) -> Result<usize> {
        use base64::Engine;
        let mut moved = 0;
        for table in ["ticket_attachments", "article_attachments"] {
            let mut after = String::new();
            loop {
                let select = format!(
                    "SELECT id, content FROM {table} WHERE content IS NOT NULL AND id > $1 \
                     ORDER BY id LIMIT 100"
                );
                let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(select))
                    .bind(&after)
                    .fetch_all(self.writer())
                    .await?;
                let Some((last, _)) = rows.last() else {
                    break;
                };
                after = last.clone();
                for (id, content) in rows {
                    let Ok(bytes) =
                        base64::engine::general_purpose::STANDARD.decode(content.trim())
                    else {
                        tracing::warn!(%table, %id, "attachment content is not base64; left in place");
                        continue;
                    };
                    let stored = blobs
                        .put_bytes(bytes.into(), u64::MAX)
                        .await
                        .map_err(StoreError::from)?;
                    let clear = format!(
                        "UPDATE {table} SET content = NULL, sha256 = $1, size = $2 WHERE id = $3"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(clear))
                        .bind(&stored.sha256)
                        .bind(stored.size as i64)
                        .bind(&id)
                        .execute(self.writer())
                        .await?;
                    moved += 1;
                }
            }
        }
        Ok(moved)
    }
}
