//! Versions of the classification guide (A13.1). The newest version is the one in force; every
//! version stays readable.

use domain::clock::Timestamp;
use domain::openlist::classification::Guide;

use crate::{Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, serde::Serialize)]
pub struct GuideVersion {
    pub version: i64,
    pub created_at: Timestamp,
    pub created_by: Option<String>,
    pub body: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    version: i64,
    body: String,
    created_at: i64,
    created_by: Option<String>,
}

impl From<Row> for GuideVersion {
    fn from(r: Row) -> Self {
        GuideVersion {
            version: r.version,
            created_at: Timestamp(r.created_at),
            created_by: r.created_by,
            body: r.body,
        }
    }
}

/// Saves `body` (already checked by [`Guide::from_toml`]) as the next version. With `base`, only
/// if `base` is still the newest version; two editors saving at once cannot both win either,
/// as the version number is the key. Both fail with [`StoreError::Conflict`]`("row_version")`.
pub async fn insert(
    tx: &mut WriteTx,
    body: &str,
    base: Option<i64>,
    by: Option<&str>,
    at: Timestamp,
) -> Result<i64> {
    let (next,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(version), 0) + 1 FROM classification_guides")
            .fetch_one(tx.conn())
            .await?;
    if base.is_some_and(|b| b != next - 1) {
        return Err(StoreError::Conflict("row_version"));
    }
    sqlx::query("INSERT INTO classification_guides (version, body, created_at, created_by) VALUES ($1, $2, $3, $4)")
        .bind(next)
        .bind(body)
        .bind(at.0)
        .bind(by)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on(e, "row_version"))?;
    Ok(next)
}

impl Store {
    pub async fn guide_version(&self, version: Option<i64>) -> Result<GuideVersion> {
        let row: Option<Row> = match version {
            Some(v) => sqlx::query_as(
                "SELECT version, body, created_at, created_by FROM classification_guides WHERE version = $1",
            )
            .bind(v)
            .fetch_optional(self.pool())
            .await?,
            None => sqlx::query_as(
                "SELECT version, body, created_at, created_by FROM classification_guides ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(self.pool())
            .await?,
        };
        row.map(Into::into).ok_or(StoreError::NotFound)
    }

    /// The guide in force, parsed, with its version.
    pub async fn current_guide(&self) -> Result<(i64, Guide)> {
        let v = self.guide_version(None).await?;
        let guide = Guide::from_toml(&v.body)
            .map_err(|e| StoreError::Corrupt(format!("guide {}: {e}", v.version)))?;
        Ok((v.version, guide))
    }

    pub async fn guide_versions(&self) -> Result<Vec<GuideVersion>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT version, '' AS body, created_at, created_by FROM classification_guides ORDER BY version DESC",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
