//! Accounts, their platform roles, and what the policy needs to know about them.

use domain::clock::Timestamp;
use domain::ids::{OrgId, UserId};
use domain::roles::{AccountKind, Membership, OrgRole, PlatformRole, UserActor};

use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub kind: AccountKind,
    pub legal_name: Option<String>,
    pub uscc: Option<String>,
    pub created_at: Timestamp,
}

pub struct NewUser<'a> {
    pub record: &'a UserRecord,
    pub password_hash: &'a str,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    email: String,
    display_name: String,
    kind: String,
    legal_name: Option<String>,
    uscc: Option<String>,
    created_at: i64,
}

impl TryFrom<Row> for UserRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(UserRecord {
            id: parse(&r.id, "user id")?,
            email: r.email,
            display_name: r.display_name,
            kind: parse(&r.kind, "account kind")?,
            legal_name: r.legal_name,
            uscc: r.uscc,
            created_at: Timestamp(r.created_at),
        })
    }
}

pub async fn insert(tx: &mut WriteTx, new: NewUser<'_>) -> Result<()> {
    let u = new.record;
    sqlx::query(
        "INSERT INTO users (id, email, display_name, kind, legal_name, uscc, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(u.id.to_string())
    .bind(&u.email)
    .bind(&u.display_name)
    .bind(u.kind.as_str())
    .bind(&u.legal_name)
    .bind(&u.uscc)
    .bind(new.password_hash)
    .bind(u.created_at.0)
    .execute(tx.conn())
    .await
    .map_err(|e| {
        // Two unique rules: the e-mail address and the organization's credit code.
        let on_uscc = matches!(&e, sqlx::Error::Database(db)
            if db.constraint() == Some("users_uscc") || db.message().contains("users.uscc"));
        StoreError::conflict_on(e, if on_uscc { "uscc" } else { "email" })
    })?;
    Ok(())
}

/// Whether an account already holds this unified social credit code.
pub async fn uscc_taken(tx: &mut WriteTx, uscc: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE uscc = $1")
        .bind(uscc)
        .fetch_one(tx.conn())
        .await?;
    Ok(n > 0)
}

pub async fn grant_platform_role(
    tx: &mut WriteTx,
    user: UserId,
    role: PlatformRole,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_platform_roles (user_id, role, granted_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, role) DO NOTHING",
    )
    .bind(user.to_string())
    .bind(role.as_str())
    .bind(at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the account's password hash.
pub async fn set_password_hash(tx: &mut WriteTx, user: UserId, hash: &str) -> Result<()> {
    let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user.to_string())
        .bind(hash)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

impl Store {
    /// The account's password hash, to check the password typed before changing it.
    pub async fn password_hash(&self, user: UserId) -> Result<String> {
        let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(hash)
    }

    /// The account and its password hash, for signing in.
    pub async fn user_credentials(&self, email: &str) -> Result<Option<(UserRecord, String)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(self.pool())
                .await?;
        let Some((id, hash)) = row else {
            return Ok(None);
        };
        let user = self.user(parse(&id, "user id")?).await?;
        Ok(Some((user, hash)))
    }

    pub async fn user(&self, id: UserId) -> Result<UserRecord> {
        let row: Row = sqlx::query_as(
            "SELECT id, email, display_name, kind, legal_name, uscc, created_at FROM users WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<UserRecord> {
        let row: Row = sqlx::query_as(
            "SELECT id, email, display_name, kind, legal_name, uscc, created_at FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn list_users(&self, limit: i64, offset: i64) -> Result<Vec<UserRecord>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, email, display_name, kind, legal_name, uscc, created_at FROM users \
             ORDER BY created_at, id LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Every platform role granted: (account, role), for the list of people.
    pub async fn platform_roles(&self) -> Result<Vec<(UserId, PlatformRole)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT user_id, role FROM user_platform_roles ORDER BY user_id, role")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|(user, role)| {
                Ok((
                    parse::<UserId>(user, "user id")?,
                    parse::<PlatformRole>(role, "platform role")?,
                ))
            })
            .collect()
    }

    /// Everything the authorization policy needs about an account.
    pub async fn actor(&self, id: UserId) -> Result<UserActor> {
        let roles: Vec<(String,)> =
            sqlx::query_as("SELECT role FROM user_platform_roles WHERE user_id = $1 ORDER BY role")
                .bind(id.to_string())
                .fetch_all(self.pool())
                .await?;
        let members: Vec<(String, String)> = sqlx::query_as(
            "SELECT org_id, role FROM memberships WHERE user_id = $1 ORDER BY org_id",
        )
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        Ok(UserActor {
            scope: None,
            id,
            platform_roles: roles
                .iter()
                .map(|(r,)| parse::<PlatformRole>(r, "platform role"))
                .collect::<Result<_>>()?,
            memberships: members
                .iter()
                .map(|(org, role)| {
                    Ok(Membership {
                        org: parse::<OrgId>(org, "org id")?,
                        role: parse::<OrgRole>(role, "org role")?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }
}
