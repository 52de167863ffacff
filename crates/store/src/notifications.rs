//! The in-app inbox: notices written in the transaction of the change they tell of.

use domain::clock::Timestamp;
use domain::ids::UserId;
use domain::notice::Notice;

use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct NotificationRecord {
    pub id: String,
    pub notice: Notice,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

pub async fn insert(tx: &mut WriteTx, user: UserId, notice: &Notice, at: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, params, link, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(user.to_string())
    .bind(notice.kind.as_str())
    .bind(serde_json::to_string(&notice.params).expect("params serialize"))
    .bind(&notice.link)
    .bind(at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

impl Store {
    /// `user`'s latest `limit` notices, newest first.
    pub async fn notifications(&self, user: UserId, limit: i64) -> Result<Vec<NotificationRecord>> {
        let rows: Vec<(String, String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, kind, params, link, created_at, read_at FROM notifications \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user.to_string())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, kind, params, link, at, read)| {
                Ok(NotificationRecord {
                    notice: Notice {
                        kind: parse(&kind, "notice kind")?,
                        params: serde_json::from_str(&params)
                            .map_err(|e| StoreError::Corrupt(format!("notice {id}: {e}")))?,
                        link,
                    },
                    id,
                    created_at: Timestamp(at),
                    read_at: read.map(Timestamp),
                })
            })
            .collect()
    }

    /// How many of `user`'s notices are unread.
    pub async fn unread_notifications(&self, user: UserId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user.to_string())
        .fetch_one(self.pool())
        .await?)
    }

    /// Marks every notice of `user` read (they opened their inbox). Not a change of anything
    /// the audit trail follows: the inbox's own bookkeeping.
    pub async fn mark_notifications_read(&self, user: UserId, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(at.0)
            .bind(user.to_string())
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
