//! Files attached to tickets and to articles, kept in the database base64-encoded: one table
//! per owner, the same columns and the same code for both.

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

pub struct NewAttachment {
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub content_base64: String,
}

/// `SELECT id, name, media_type, size, sha256, created_at`.
type InfoRow = (String, String, String, i64, String, i64);

/// The same and `content` (base64).
type ContentRow = (String, String, String, i64, String, i64, String);

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
            "INSERT INTO ticket_attachments (id, ticket_id, name, media_type, size, sha256, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        }
        Owner::Article(_) => {
            "INSERT INTO article_attachments (id, article_id, name, media_type, size, sha256, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
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
        .bind(&a.content_base64)
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

    /// (info, base64 content) of attachment `id` of `owner`.
    pub async fn attachment(&self, owner: Owner, id: &str) -> Result<(AttachmentInfo, String)> {
        let sql = match owner {
            Owner::Ticket(_) => {
                "SELECT id, name, media_type, size, sha256, created_at, content FROM ticket_attachments \
                 WHERE ticket_id = $1 AND id = $2"
            }
            Owner::Article(_) => {
                "SELECT id, name, media_type, size, sha256, created_at, content FROM article_attachments \
                 WHERE article_id = $1 AND id = $2"
            }
        };
        let row: Option<ContentRow> = sqlx::query_as(sql)
            .bind(owner.id())
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let (id, name, media_type, size, sha256, at, content) = row.ok_or(StoreError::NotFound)?;
        Ok((
            AttachmentInfo::from((id, name, media_type, size, sha256, at)),
            content,
        ))
    }
}
