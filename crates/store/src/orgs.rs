//! Organizations (providers and the operator) and their members.

use domain::clock::Timestamp;
use domain::ids::{OrgId, UserId};
use domain::roles::{OrgKind, OrgRole};

use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct OrgRecord {
    pub id: OrgId,
    pub slug: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: OrgKind,
    pub uscc: Option<String>,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    slug: String,
    name_zh: String,
    name_en: String,
    kind: String,
    uscc: Option<String>,
    created_at: i64,
}

impl TryFrom<Row> for OrgRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(OrgRecord {
            id: parse(&r.id, "org id")?,
            slug: r.slug,
            name_zh: r.name_zh,
            name_en: r.name_en,
            kind: parse(&r.kind, "org kind")?,
            uscc: r.uscc,
            created_at: Timestamp(r.created_at),
        })
    }
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct MemberRecord {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: OrgRole,
}

pub async fn insert(tx: &mut WriteTx, org: &OrgRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO organizations (id, slug, name_zh, name_en, kind, uscc, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org.id.to_string())
    .bind(&org.slug)
    .bind(&org.name_zh)
    .bind(&org.name_en)
    .bind(org.kind.as_str())
    .bind(&org.uscc)
    .bind(org.created_at.0)
    .execute(tx.conn())
    .await
    .map_err(|e| StoreError::conflict_on(e, "slug"))?;
    Ok(())
}

/// Adds `user` to `org` with `role`, or changes the role of an existing member.
pub async fn set_member(
    tx: &mut WriteTx,
    org: OrgId,
    user: UserId,
    role: OrgRole,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(org.to_string())
    .bind(user.to_string())
    .bind(role.as_str())
    .bind(at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// How many administrators `org` has, as this transaction sees it.
pub async fn admin_count(tx: &mut WriteTx, org: OrgId) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = $2")
            .bind(org.to_string())
            .bind(OrgRole::ProviderAdmin.as_str())
            .fetch_one(tx.conn())
            .await?,
    )
}

pub async fn remove_member(tx: &mut WriteTx, org: OrgId, user: UserId) -> Result<()> {
    let done = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org.to_string())
        .bind(user.to_string())
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

impl Store {
    pub async fn list_orgs(&self) -> Result<Vec<OrgRecord>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, slug, name_zh, name_en, kind, uscc, created_at FROM organizations ORDER BY slug",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// An organization by id or by slug.
    pub async fn org(&self, id_or_slug: &str) -> Result<OrgRecord> {
        let row: Row = sqlx::query_as(
            "SELECT id, slug, name_zh, name_en, kind, uscc, created_at FROM organizations \
             WHERE id = $1 OR slug = $1",
        )
        .bind(id_or_slug)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn members(&self, org: OrgId) -> Result<Vec<MemberRecord>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.email, u.display_name, m.role FROM memberships m \
             JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.email",
        )
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, email, display_name, role)| {
                Ok(MemberRecord {
                    user_id: parse(&id, "user id")?,
                    email,
                    display_name,
                    role: parse(&role, "org role")?,
                })
            })
            .collect()
    }
}
