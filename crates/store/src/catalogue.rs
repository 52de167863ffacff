//! Each provider's public data catalogue (公共数据目录, the data lake's items), which the fields
//! of open-list entries link to (A9.5).

use domain::clock::Timestamp;
use domain::ids::{CatalogueItemId, OrgId};

use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct CatalogueItem {
    pub id: CatalogueItemId,
    pub org_id: OrgId,
    /// The provider's own code for the item, unique within the provider.
    pub code: String,
    pub name: String,
    pub description: String,
    pub source_system: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Raised by every update; an import may name the version it was made from.
    pub row_version: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    code: String,
    name: String,
    description: String,
    source_system: String,
    created_at: i64,
    updated_at: i64,
    row_version: i64,
}

impl TryFrom<Row> for CatalogueItem {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(CatalogueItem {
            id: parse(&r.id, "catalogue item id")?,
            org_id: parse(&r.org_id, "org id")?,
            code: r.code,
            name: r.name,
            description: r.description,
            source_system: r.source_system,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            row_version: r.row_version,
        })
    }
}

/// One item to import: new codes are added, known codes updated in place (their id and links
/// stay).
#[derive(Debug, Clone)]
pub struct ImportItem {
    pub code: String,
    pub name: String,
    pub description: String,
    pub source_system: String,
    /// When set, the item is updated only if it is still at this version (it was exported,
    /// edited and imported back while nobody else changed it).
    pub row_version: Option<i64>,
}

/// Imports `items` into `org`'s catalogue. Returns (added, updated). An item that names a row
/// version other than its current one fails with [`StoreError::Conflict`]`("row_version")`.
pub async fn import(
    tx: &mut WriteTx,
    org: OrgId,
    items: &[ImportItem],
    at: Timestamp,
) -> Result<(usize, usize)> {
    let (mut added, mut updated) = (0, 0);
    for item in items {
        let done = sqlx::query(
            "UPDATE catalogue_items SET name = $1, description = $2, source_system = $3, updated_at = $4, \
             row_version = row_version + 1 WHERE org_id = $5 AND code = $6 AND ($7 IS NULL OR row_version = $7)",
        )
        .bind(&item.name)
        .bind(&item.description)
        .bind(&item.source_system)
        .bind(at.0)
        .bind(org.to_string())
        .bind(&item.code)
        .bind(item.row_version)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() > 0 {
            updated += 1;
            continue;
        }
        if item.row_version.is_some() {
            // Named a version: the item was changed since, or never existed to be edited.
            return Err(StoreError::Conflict("row_version"));
        }
        sqlx::query(
            "INSERT INTO catalogue_items (id, org_id, code, name, description, source_system, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(CatalogueItemId::new().to_string())
        .bind(org.to_string())
        .bind(&item.code)
        .bind(&item.name)
        .bind(&item.description)
        .bind(&item.source_system)
        .bind(at.0)
        .execute(tx.conn())
        .await?;
        added += 1;
    }
    Ok((added, updated))
}

/// Deletes an item of `org`. An item that fields of entries link to is refused with the ids of
/// those entries.
pub async fn delete(
    tx: &mut WriteTx,
    org: OrgId,
    id: CatalogueItemId,
) -> Result<std::result::Result<(), Vec<String>>> {
    let users: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT dataset_id FROM dataset_item_links WHERE catalogue_item_id = $1 ORDER BY dataset_id")
            .bind(id.to_string())
            .fetch_all(tx.conn())
            .await?;
    if !users.is_empty() {
        return Ok(Err(users.into_iter().map(|(d,)| d).collect()));
    }
    let done = sqlx::query("DELETE FROM catalogue_items WHERE id = $1 AND org_id = $2")
        .bind(id.to_string())
        .bind(org.to_string())
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(Ok(()))
}

impl Store {
    pub async fn catalogue(&self, org: OrgId) -> Result<Vec<CatalogueItem>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, org_id, code, name, description, source_system, created_at, updated_at, row_version \
             FROM catalogue_items WHERE org_id = $1 ORDER BY code",
        )
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Ids of `org`'s catalogue items, for linkage checks.
    /// How many open-list entries use each of `org`'s catalogue items; an item missing from
    /// the map is unopened data (A12.1).
    pub async fn catalogue_usage(
        &self,
        org: OrgId,
    ) -> Result<std::collections::HashMap<CatalogueItemId, i64>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT l.catalogue_item_id, COUNT(DISTINCT l.dataset_id) FROM dataset_item_links l \
             JOIN catalogue_items c ON c.id = l.catalogue_item_id WHERE c.org_id = $1 \
             GROUP BY l.catalogue_item_id",
        )
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, n)| Ok((parse::<CatalogueItemId>(&id, "catalogue item id")?, n)))
            .collect()
    }

    pub async fn catalogue_ids(&self, org: OrgId) -> Result<std::collections::BTreeSet<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM catalogue_items WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
