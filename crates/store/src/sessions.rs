//! Browser sessions, kept in the database so any node can serve any request. Only a hash of the
//! session token is stored; the token itself lives in the visitor's cookie.

use domain::clock::Timestamp;
use domain::ids::UserId;

use crate::{Result, Store, WriteTx, parse};

pub struct SessionRecord {
    pub user_id: UserId,
    pub csrf_token: String,
}

pub async fn insert(
    tx: &mut WriteTx,
    token_hash: &str,
    user: UserId,
    csrf_token: &str,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user.to_string())
    .bind(csrf_token)
    .bind(created_at.0)
    .bind(expires_at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ends a session; returns whether there was one.
pub async fn delete(tx: &mut WriteTx, token_hash: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Store {
    /// The live session with this token hash, if any.
    pub async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<SessionRecord>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT user_id, csrf_token FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?;
        row.map(|(user, csrf)| {
            Ok(SessionRecord {
                user_id: parse(&user, "user id")?,
                csrf_token: csrf,
            })
        })
        .transpose()
    }
}

/// Ends every session of `user` except the one whose token hash is `keep`; returns how many.
pub async fn delete_others(tx: &mut WriteTx, user: UserId, keep: Option<&str>) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user.to_string())
        .bind(keep.unwrap_or(""))
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}
