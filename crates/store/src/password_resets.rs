//! Links to set a new password, sent by e-mail. Only a hash of a link's secret is stored.

use domain::clock::Timestamp;
use domain::ids::UserId;

use crate::{Result, Store, WriteTx, parse};

pub async fn insert(
    tx: &mut WriteTx,
    token_hash: &str,
    user: UserId,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user.to_string())
    .bind(created_at.0)
    .bind(expires_at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Uses up the link with this hash: the account it was sent for, if it was live at `now`.
/// A link works once; a used, expired or unknown one answers none.
pub async fn take(tx: &mut WriteTx, token_hash: &str, now: Timestamp) -> Result<Option<UserId>> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires_at",
    )
    .bind(token_hash)
    .fetch_optional(tx.conn())
    .await?;
    match row {
        Some((user, expires_at)) if expires_at > now.0 => Ok(Some(parse(&user, "user id")?)),
        _ => Ok(None),
    }
}

impl Store {
    /// The account the link with this hash is for, if it is live at `now`; the link is not
    /// used up (to show the form, and to check the new password before using it).
    pub async fn password_reset_live(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<UserId>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT user_id FROM password_resets WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?;
        row.map(|(u,)| parse(&u, "user id")).transpose()
    }

    /// How many links sent for `user` are live at `now`.
    pub async fn live_password_resets(&self, user: UserId, now: Timestamp) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user.to_string())
        .bind(now.0)
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }
}

/// Withdraws every link sent for `user` (once the password has changed, by any way).
pub async fn delete_for_user(tx: &mut WriteTx, user: UserId) -> Result<u64> {
    let done = sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
        .bind(user.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}
