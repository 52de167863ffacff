//! Open-list entries: the working copy of each entry, its published versions, and the links of
//! its fields to catalogue items.

use domain::clock::Timestamp;
use domain::ids::{DatasetId, OrgId};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::vocab::DatasetStatus;

use crate::paging::{Page, Paged};
use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct DatasetRecord {
    pub id: DatasetId,
    pub org_id: OrgId,
    pub status: DatasetStatus,
    pub meta: DatasetMeta,
    pub guide_version: i64,
    pub published_version: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_reviewed_at: Option<Timestamp>,
    /// Raised by every update; an update names the version it was made from.
    pub row_version: i64,
    /// The data version published now, if any.
    pub data: Option<DataSummary>,
}

/// What an entry's public description says of its current data.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct DataSummary {
    /// The version's number.
    pub number: i64,
    pub rows: i64,
    /// Bytes of its Parquet file.
    pub size: i64,
    /// The Parquet file's SHA-256.
    pub sha256: String,
    /// When it was published, in milliseconds since the epoch.
    pub published_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    status: String,
    metadata: String,
    guide_version: i64,
    published_version: Option<i64>,
    created_at: i64,
    updated_at: i64,
    last_reviewed_at: Option<i64>,
    row_version: i64,
    #[sqlx(default)]
    data_summary: Option<String>,
}

impl TryFrom<Row> for DatasetRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(DatasetRecord {
            id: parse(&r.id, "dataset id")?,
            org_id: parse(&r.org_id, "org id")?,
            status: parse(&r.status, "dataset status")?,
            meta: serde_json::from_str(&r.metadata)
                .map_err(|e| StoreError::Corrupt(format!("dataset {}: {e}", r.id)))?,
            guide_version: r.guide_version,
            published_version: r.published_version,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            last_reviewed_at: r.last_reviewed_at.map(Timestamp),
            row_version: r.row_version,
            // A summary that does not read is no summary: the data stays reachable through
            // its versions.
            data: r
                .data_summary
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok()),
        })
    }
}

impl DatasetRecord {
    /// What the authorization policy decides on.
    pub fn facts(&self) -> domain::policy::DatasetFacts {
        domain::policy::DatasetFacts {
            org: self.org_id,
            status: self.status,
            open_type: self.meta.open_type,
        }
    }
}

fn json(meta: &DatasetMeta) -> String {
    serde_json::to_string(meta).expect("metadata serializes")
}

pub async fn insert(tx: &mut WriteTx, d: &DatasetRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO datasets (id, org_id, status, name, open_type, domain, metadata, guide_version, \
         published_version, created_at, updated_at, last_reviewed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(d.id.to_string())
    .bind(d.org_id.to_string())
    .bind(d.status.as_str())
    .bind(&d.meta.name)
    .bind(d.meta.open_type.as_str())
    .bind(&d.meta.domain)
    .bind(json(&d.meta))
    .bind(d.guide_version)
    .bind(d.published_version)
    .bind(d.created_at.0)
    .bind(d.updated_at.0)
    .bind(d.last_reviewed_at.map(|t| t.0))
    .execute(tx.conn())
    .await?;
    bump_change_seq(tx, d.id).await?;
    relink(tx, d).await
}

const REVIEW_SCOPE: &str = "SELECT id, org_id, status, metadata, guide_version, published_version, \
     created_at, updated_at, last_reviewed_at, row_version, data_summary FROM datasets WHERE org_id = $1 \
     AND status IN ('published', 'static', 'suspended') ORDER BY id";

/// What an organization's annual review covers (A10.1): every entry on its list, open or not
/// (published, static, suspended), read in the transaction that submits the review.
pub async fn review_scope(tx: &mut WriteTx, org: OrgId) -> Result<Vec<DatasetRecord>> {
    let rows: Vec<Row> = sqlx::query_as(REVIEW_SCOPE)
        .bind(org.to_string())
        .fetch_all(tx.conn())
        .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Gives the entry the next change number (see migration 0004).
pub(crate) async fn bump_change_seq(tx: &mut WriteTx, id: DatasetId) -> Result<()> {
    tx.changes_entry();
    let (seq,): (i64,) = sqlx::query_as(
        "UPDATE counters SET value = value + 1 WHERE name = 'dataset_change' RETURNING value",
    )
    .fetch_one(tx.conn())
    .await?;
    sqlx::query("UPDATE datasets SET change_seq = $1 WHERE id = $2")
        .bind(seq)
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Replaces the working copy of an entry (status, metadata, versions) with `d`, if the entry is
/// still at `d.row_version`: otherwise someone changed it since it was read, and this fails with
/// [`StoreError::Conflict`]`("row_version")`. Returns the new row version.
pub async fn update(tx: &mut WriteTx, d: &DatasetRecord) -> Result<i64> {
    let done = sqlx::query(
        "UPDATE datasets SET status = $1, name = $2, open_type = $3, domain = $4, metadata = $5, \
         guide_version = $6, published_version = $7, updated_at = $8, last_reviewed_at = $9, \
         row_version = row_version + 1 WHERE id = $10 AND row_version = $11",
    )
    .bind(d.status.as_str())
    .bind(&d.meta.name)
    .bind(d.meta.open_type.as_str())
    .bind(&d.meta.domain)
    .bind(json(&d.meta))
    .bind(d.guide_version)
    .bind(d.published_version)
    .bind(d.updated_at.0)
    .bind(d.last_reviewed_at.map(|t| t.0))
    .bind(d.id.to_string())
    .bind(d.row_version)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("row_version"));
    }
    bump_change_seq(tx, d.id).await?;
    relink(tx, d).await?;
    Ok(d.row_version + 1)
}

/// Keeps `dataset_item_links` equal to the fields' links of the working copy.
async fn relink(tx: &mut WriteTx, d: &DatasetRecord) -> Result<()> {
    sqlx::query("DELETE FROM dataset_item_links WHERE dataset_id = $1")
        .bind(d.id.to_string())
        .execute(tx.conn())
        .await?;
    for item in &d.meta.data_items {
        if let Some(cat) = &item.catalogue_item {
            sqlx::query("INSERT INTO dataset_item_links (dataset_id, item_name, catalogue_item_id) VALUES ($1, $2, $3)")
                .bind(d.id.to_string())
                .bind(&item.name)
                .bind(cat)
                .execute(tx.conn())
                .await
                .map_err(|e| StoreError::conflict_on(e, "catalogue_item"))?;
        }
    }
    Ok(())
}

/// Records that the provider reviewed the entry in its annual review (A10.1).
pub async fn mark_reviewed(tx: &mut WriteTx, id: DatasetId, at: Timestamp) -> Result<()> {
    let done = sqlx::query("UPDATE datasets SET last_reviewed_at = $1 WHERE id = $2")
        .bind(at.0)
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Records that the data of entry `id` was updated at `at` (A9.4).
pub async fn record_data_update(tx: &mut WriteTx, id: DatasetId, at: Timestamp) -> Result<()> {
    let done = sqlx::query("UPDATE datasets SET data_updated_at = $1 WHERE id = $2")
        .bind(at.0)
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Records the working copy as published version `d.published_version`.
pub async fn record_version(
    tx: &mut WriteTx,
    d: &DatasetRecord,
    ticket: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    let version = d
        .published_version
        .ok_or_else(|| StoreError::Corrupt("no version to record".into()))?;
    sqlx::query(
        "INSERT INTO dataset_versions (dataset_id, version, metadata, status, published_at, ticket_id) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(d.id.to_string())
    .bind(version)
    .bind(json(&d.meta))
    .bind(d.status.as_str())
    .bind(at.0)
    .bind(ticket)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionRecord {
    pub version: i64,
    pub status: DatasetStatus,
    pub published_at: Timestamp,
    pub ticket_id: Option<String>,
    pub meta: DatasetMeta,
}

/// A count of an organization's entries with one status, open type and domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetCount {
    pub status: DatasetStatus,
    pub open_type: String,
    pub domain: String,
    pub n: i64,
}

/// An entry as changed at `change_seq`, with its provider's names.
#[derive(Debug, Clone)]
pub struct ChangedDataset {
    pub change_seq: i64,
    /// Reads of the last 30 days (the usage log's roll-up): what "most used" ranks by.
    pub usage_recent: i64,
    pub dataset: DatasetRecord,
    pub provider_slug: String,
    pub provider_name: String,
}

impl Store {
    /// Entries changed after `after`, in change order, at most `limit`.
    pub async fn datasets_changed_since(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ChangedDataset>> {
        #[derive(sqlx::FromRow)]
        struct Changed {
            change_seq: i64,
            usage_recent: i64,
            slug: String,
            name_zh: String,
            #[sqlx(flatten)]
            row: Row,
        }
        let rows: Vec<Changed> = sqlx::query_as(
            "SELECT d.change_seq, d.usage_recent, o.slug, o.name_zh, d.id, d.org_id, d.status, d.metadata, d.guide_version,              d.published_version, d.created_at, d.updated_at, d.last_reviewed_at, d.row_version, d.data_summary              FROM datasets d JOIN organizations o ON o.id = d.org_id              WHERE d.change_seq > $1 ORDER BY d.change_seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|c| {
                Ok(ChangedDataset {
                    change_seq: c.change_seq,
                    usage_recent: c.usage_recent,
                    provider_slug: c.slug,
                    provider_name: c.name_zh,
                    dataset: c.row.try_into()?,
                })
            })
            .collect()
    }

    /// The newest change number.
    pub async fn last_dataset_change(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM counters WHERE name = 'dataset_change'")
                .fetch_one(self.pool())
                .await?,
        )
    }

    pub async fn dataset(&self, id: &str) -> Result<DatasetRecord> {
        let row: Row = sqlx::query_as(
            "SELECT id, org_id, status, metadata, guide_version, published_version, created_at, updated_at, \
             last_reviewed_at, row_version, data_summary FROM datasets WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// One page of an organization's entries, optionally of one status, newest change first.
    pub async fn datasets_of(
        &self,
        org: OrgId,
        status: Option<DatasetStatus>,
        page: &Page,
    ) -> Result<Paged<DatasetRecord>> {
        let mut w = crate::filters::Filters::default();
        w.text("org_id", "=", Some(&org.to_string()))
            .text("status", "=", status.map(|s| s.as_str()))
            .after(("updated_at", "<"), ("id", ">"), page.cursor());
        let sql = w.sql(
            "SELECT id, org_id, status, metadata, guide_version, published_version, created_at, \
             updated_at, last_reviewed_at, row_version, data_summary FROM datasets",
            "ORDER BY updated_at DESC, id LIMIT $?",
        );
        let rows: Vec<Row> = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(page.limit)
            .fetch_all(self.pool())
            .await?;
        Paged::from_rows(rows, page, |d: &DatasetRecord| {
            (d.updated_at.0, d.id.to_string())
        })
    }

    /// How many entries an organization has, by (status, open type, domain).
    pub async fn dataset_counts(&self, org: OrgId) -> Result<Vec<DatasetCount>> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT status, open_type, domain, COUNT(*) FROM datasets WHERE org_id = $1 \
             GROUP BY status, open_type, domain",
        )
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(status, open_type, domain, n)| {
                Ok(DatasetCount {
                    status: parse(&status, "dataset status")?,
                    open_type,
                    domain,
                    n,
                })
            })
            .collect()
    }

    /// An organization's published entries, for the timeliness of their data (A9.4).
    pub async fn published_of(&self, org: OrgId) -> Result<Vec<DatasetRecord>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, org_id, status, metadata, guide_version, published_version, created_at, updated_at, \
             last_reviewed_at, row_version, data_summary FROM datasets WHERE org_id = $1 AND status = 'published' \
             ORDER BY id",
        )
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// What an organization's annual review covers (A10.1): see [`review_scope`].
    pub async fn review_scope(&self, org: OrgId) -> Result<Vec<DatasetRecord>> {
        let rows: Vec<Row> = sqlx::query_as(REVIEW_SCOPE)
            .bind(org.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The identifiers of the open list's public entries (published, static or suspended, and
    /// not "not open"), oldest first: a page of names, never whole documents.
    pub async fn public_dataset_ids(&self, limit: i64, offset: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM datasets WHERE status IN ('published', 'static', 'suspended') \
             AND open_type <> 'not_open' ORDER BY id LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?)
    }

    /// Public entries, most recently changed first, `limit` from `offset` (CKAN's paging).
    pub async fn public_datasets_recent(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<DatasetRecord>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, org_id, status, metadata, guide_version, published_version, created_at, updated_at, \
             last_reviewed_at, row_version, data_summary FROM datasets \
             WHERE status IN ('published', 'static', 'suspended') AND open_type <> 'not_open' \
             ORDER BY updated_at DESC, id LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// (id, name) of every entry except `except`, for the similarity check.
    pub async fn dataset_names(&self, except: Option<&str>) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT id, name FROM datasets WHERE ($1 IS NULL OR id <> $1) AND status <> 'withdrawn'")
            .bind(except)
            .fetch_all(self.pool())
            .await?)
    }

    /// When the data of each of `org`'s entries was last recorded as updated, for those that
    /// have such a record.
    pub async fn data_updates(
        &self,
        org: OrgId,
    ) -> Result<std::collections::HashMap<DatasetId, Timestamp>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, data_updated_at FROM datasets WHERE org_id = $1 AND data_updated_at IS NOT NULL",
        )
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, at)| Ok((parse::<DatasetId>(&id, "dataset id")?, Timestamp(at))))
            .collect()
    }

    pub async fn dataset_exists(&self, id: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM datasets WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }

    pub async fn dataset_versions(&self, id: &str) -> Result<Vec<VersionRecord>> {
        let rows: Vec<(i64, String, i64, Option<String>, String)> = sqlx::query_as(
            "SELECT version, status, published_at, ticket_id, metadata FROM dataset_versions \
             WHERE dataset_id = $1 ORDER BY version DESC",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(version, status, at, ticket_id, metadata)| {
                Ok(VersionRecord {
                    version,
                    status: parse(&status, "dataset status")?,
                    published_at: Timestamp(at),
                    ticket_id,
                    meta: serde_json::from_str(&metadata)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }
}
