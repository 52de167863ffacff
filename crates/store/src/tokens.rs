//! Personal API tokens. The secret is shown once at creation; only its hash is stored.

use domain::clock::Timestamp;
use domain::ids::{TokenId, UserId};

use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRecord {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the secret, so the owner can tell tokens apart.
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub scope: domain::roles::TokenScope,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    user_id: String,
    name: String,
    prefix: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    read_only: i64,
    scope_org: Option<String>,
    scope_agreement: Option<String>,
}

impl TryFrom<Row> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(TokenRecord {
            id: parse(&r.id, "token id")?,
            user_id: parse(&r.user_id, "user id")?,
            name: r.name,
            prefix: r.prefix,
            created_at: Timestamp(r.created_at),
            expires_at: r.expires_at.map(Timestamp),
            revoked_at: r.revoked_at.map(Timestamp),
            scope: domain::roles::TokenScope {
                read_only: r.read_only != 0,
                org: r.scope_org.map(|o| parse(&o, "org id")).transpose()?,
                agreement: r
                    .scope_agreement
                    .map(|a| parse(&a, "agreement id"))
                    .transpose()?,
            },
        })
    }
}

pub async fn insert(tx: &mut WriteTx, token: &TokenRecord, token_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at, expires_at, revoked_at, \
         read_only, scope_org, scope_agreement) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10)",
    )
    .bind(token.id.to_string())
    .bind(token.user_id.to_string())
    .bind(&token.name)
    .bind(token_hash)
    .bind(&token.prefix)
    .bind(token.created_at.0)
    .bind(token.expires_at.map(|t| t.0))
    .bind(i64::from(token.scope.read_only))
    .bind(token.scope.org.map(|o| o.to_string()))
    .bind(token.scope.agreement.map(|a| a.to_string()))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Revokes the owner's live token `id`. Someone else's token is `NotFound`, like a missing one.
pub async fn revoke(tx: &mut WriteTx, id: TokenId, owner: UserId, at: Timestamp) -> Result<()> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(at.0)
    .bind(id.to_string())
    .bind(owner.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Revokes a credential issued under an agreement (the agreement was revoked or replaced).
pub async fn revoke_credential(tx: &mut WriteTx, id: TokenId, at: Timestamp) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(at.0)
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The owner's personal tokens that still work at `now` (neither revoked nor expired);
/// credentials issued under agreements are not counted.
pub async fn live_count(tx: &mut WriteTx, owner: UserId, now: Timestamp) -> Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL \
         AND scope_agreement IS NULL AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(owner.to_string())
    .bind(now.0)
    .fetch_one(tx.conn())
    .await?;
    Ok(n)
}

impl Store {
    pub async fn tokens_of(&self, user: UserId) -> Result<Vec<TokenRecord>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, user_id, name, prefix, created_at, expires_at, revoked_at, read_only, scope_org, scope_agreement FROM api_tokens \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(user.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The token with this hash, whatever its state; the caller decides about expiry.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, user_id, name, prefix, created_at, expires_at, revoked_at, read_only, scope_org, scope_agreement FROM api_tokens \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(TryInto::try_into).transpose()
    }
}
