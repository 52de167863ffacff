//! Data versions of entries: each upload as it is ingested, and the ones published, numbered in
//! order. Publishing numbers the version and switches the entry's current version in one
//! transaction, so readers see the old version or the new one, never a half-written one.

use domain::clock::Timestamp;
use domain::ids::{DatasetId, OrgId};

use crate::{Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    Ingesting,
    Published,
    Refused,
    Failed,
    Cancelled,
}

impl VersionState {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Ingesting => "ingesting",
            VersionState::Published => "published",
            VersionState::Refused => "refused",
            VersionState::Failed => "failed",
            VersionState::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for VersionState {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        Ok(match s {
            "ingesting" => VersionState::Ingesting,
            "published" => VersionState::Published,
            "refused" => VersionState::Refused,
            "failed" => VersionState::Failed,
            "cancelled" => VersionState::Cancelled,
            _ => return Err(()),
        })
    }
}

/// Whether an upload replaces the entry's data or adds rows to it (a time series).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Replace,
    Append,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Replace => "replace",
            Mode::Append => "append",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        match s {
            "replace" => Ok(Mode::Replace),
            "append" => Ok(Mode::Append),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DataVersion {
    pub id: String,
    pub dataset_id: DatasetId,
    pub org_id: OrgId,
    pub number: Option<i64>,
    pub state: VersionState,
    pub mode: Mode,
    pub source_name: String,
    pub source_sha256: String,
    pub source_size: i64,
    pub source_format: String,
    pub declared_encoding: Option<String>,
    pub encoding: Option<String>,
    pub job_id: Option<String>,
    pub parquet_sha256: Option<String>,
    pub parquet_size: Option<i64>,
    pub failures_sha256: Option<String>,
    pub rows: Option<i64>,
    /// Tenths of a point, 0–1000.
    pub score: Option<i64>,
    /// JSON, as the data crate wrote them.
    pub items: String,
    pub report: Option<String>,
    pub profile: Option<String>,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, dataset_id, org_id, number, state, mode, source_name, source_sha256, \
     source_size, source_format, declared_encoding, encoding, job_id, parquet_sha256, \
     parquet_size, failures_sha256, rows, score, items, report, profile, error, created_by, \
     created_at, finished_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    dataset_id: String,
    org_id: String,
    number: Option<i64>,
    state: String,
    mode: String,
    source_name: String,
    source_sha256: String,
    source_size: i64,
    source_format: String,
    declared_encoding: Option<String>,
    encoding: Option<String>,
    job_id: Option<String>,
    parquet_sha256: Option<String>,
    parquet_size: Option<i64>,
    failures_sha256: Option<String>,
    rows: Option<i64>,
    score: Option<i64>,
    items: String,
    report: Option<String>,
    profile: Option<String>,
    error: Option<String>,
    created_by: String,
    created_at: i64,
    finished_at: Option<i64>,
}

impl TryFrom<Row> for DataVersion {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("data version {what}: {v:?}"));
        Ok(DataVersion {
            dataset_id: crate::parse(&r.dataset_id, "dataset id")?,
            org_id: crate::parse(&r.org_id, "org id")?,
            number: r.number,
            state: r.state.parse().map_err(|_| bad("state", &r.state))?,
            mode: r.mode.parse().map_err(|_| bad("mode", &r.mode))?,
            id: r.id,
            source_name: r.source_name,
            source_sha256: r.source_sha256,
            source_size: r.source_size,
            source_format: r.source_format,
            declared_encoding: r.declared_encoding,
            encoding: r.encoding,
            job_id: r.job_id,
            parquet_sha256: r.parquet_sha256,
            parquet_size: r.parquet_size,
            failures_sha256: r.failures_sha256,
            rows: r.rows,
            score: r.score,
            items: r.items,
            report: r.report,
            profile: r.profile,
            error: r.error,
            created_by: r.created_by,
            created_at: Timestamp(r.created_at),
            finished_at: r.finished_at.map(Timestamp),
        })
    }
}

/// Records a new upload, to be ingested. [`StoreError::Conflict`] ("ingesting") while another
/// file of the entry is.
pub async fn insert(tx: &mut WriteTx, v: &DataVersion) -> Result<()> {
    sqlx::query(
        "INSERT INTO data_versions (id, dataset_id, org_id, state, mode, source_name, \
         source_sha256, source_size, source_format, declared_encoding, job_id, items, \
         created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&v.id)
    .bind(v.dataset_id.to_string())
    .bind(v.org_id.to_string())
    .bind(v.state.as_str())
    .bind(v.mode.as_str())
    .bind(&v.source_name)
    .bind(&v.source_sha256)
    .bind(v.source_size)
    .bind(&v.source_format)
    .bind(&v.declared_encoding)
    .bind(&v.job_id)
    .bind(&v.items)
    .bind(&v.created_by)
    .bind(v.created_at.0)
    .execute(tx.conn())
    .await
    .map_err(|e| StoreError::conflict_on(e, "ingesting"))?;
    Ok(())
}

/// What an ingestion ended with.
#[derive(Debug, Clone, Default)]
pub struct Ended {
    pub encoding: Option<String>,
    pub parquet_sha256: Option<String>,
    pub parquet_size: Option<i64>,
    pub failures_sha256: Option<String>,
    pub rows: Option<i64>,
    pub score: Option<i64>,
    pub report: Option<String>,
    pub profile: Option<String>,
    pub error: Option<String>,
}

/// Ends an ingestion in `state`. Only a version still being ingested ends; the answer says
/// whether this one did (a second worker's late answer changes nothing).
pub async fn end(
    tx: &mut WriteTx,
    id: &str,
    state: VersionState,
    e: &Ended,
    now: Timestamp,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE data_versions SET state = $1, encoding = $2, parquet_sha256 = $3, \
         parquet_size = $4, failures_sha256 = $5, rows = $6, score = $7, report = $8, \
         profile = $9, error = $10, finished_at = $11 \
         WHERE id = $12 AND state = 'ingesting'",
    )
    .bind(state.as_str())
    .bind(&e.encoding)
    .bind(&e.parquet_sha256)
    .bind(e.parquet_size)
    .bind(&e.failures_sha256)
    .bind(e.rows)
    .bind(e.score)
    .bind(&e.report)
    .bind(&e.profile)
    .bind(&e.error)
    .bind(now.0)
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Publishes an ended-well version: numbers it after the entry's last one and makes it the
/// entry's data, recording the data update (A9.4). Returns its number.
pub async fn publish(
    tx: &mut WriteTx,
    id: &str,
    dataset: DatasetId,
    now: Timestamp,
) -> Result<i64> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(number) FROM data_versions WHERE dataset_id = $1")
            .bind(dataset.to_string())
            .fetch_one(tx.conn())
            .await?;
    let number = last.unwrap_or(0) + 1;
    let n = sqlx::query(
        "UPDATE data_versions SET state = 'published', number = $1 \
         WHERE id = $2 AND state = 'published' AND number IS NULL",
    )
    .bind(number)
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict("the version is not ready to publish"));
    }
    let (rows, size, sha256): (Option<i64>, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT rows, parquet_size, parquet_sha256 FROM data_versions WHERE id = $1",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    let summary = crate::datasets::DataSummary {
        number,
        rows: rows.unwrap_or(0),
        size: size.unwrap_or(0),
        sha256: sha256.unwrap_or_default(),
        published_at: now.0,
    };
    // The entry's description changes (its data): it is a change of the entry, so the
    // search index and every other follower of the change feed hear of it.
    sqlx::query(
        "UPDATE datasets SET data_version = $1, data_updated_at = $2, data_summary = $3 \
         WHERE id = $4",
    )
    .bind(id)
    .bind(now.0)
    .bind(serde_json::to_string(&summary).expect("a summary serializes"))
    .bind(dataset.to_string())
    .execute(tx.conn())
    .await?;
    crate::datasets::bump_change_seq(tx, dataset).await?;
    Ok(number)
}

impl Store {
    pub async fn data_version(&self, id: &str) -> Result<DataVersion> {
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM data_versions WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// An entry's versions, newest first: the published ones and the uploads that were not.
    pub async fn data_versions_of(
        &self,
        dataset: DatasetId,
        limit: i64,
    ) -> Result<Vec<DataVersion>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM data_versions WHERE dataset_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        )))
        .bind(dataset.to_string())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The entry's published version `number`.
    pub async fn data_version_numbered(
        &self,
        dataset: DatasetId,
        number: i64,
    ) -> Result<DataVersion> {
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM data_versions WHERE dataset_id = $1 AND number = $2"
        )))
        .bind(dataset.to_string())
        .bind(number)
        .fetch_optional(self.pool())
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The entry's current data: the version last published.
    pub async fn current_data_version(&self, dataset: DatasetId) -> Result<Option<DataVersion>> {
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM data_versions \
             WHERE id = (SELECT data_version FROM datasets WHERE id = $1)"
        )))
        .bind(dataset.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Every upload since `since` (at most `limit`, newest first), as the quality evaluation
    /// counts them (A16.4).
    pub async fn data_uploads_since(
        &self,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<domain::quality::Upload>> {
        use domain::quality::{Upload, UploadEnd};
        let rows: Vec<(String, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT org_id, created_at, state, score FROM data_versions \
             WHERE created_at >= $1 ORDER BY created_at DESC LIMIT $2",
        )
        .bind(since.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(org, at, state, score)| {
                let end = match state.parse::<VersionState>() {
                    Ok(VersionState::Published) => UploadEnd::Published,
                    Ok(VersionState::Refused) => UploadEnd::Refused,
                    Ok(VersionState::Ingesting) => UploadEnd::Pending,
                    Ok(VersionState::Failed | VersionState::Cancelled) => UploadEnd::Failed,
                    Err(()) => return Err(StoreError::Corrupt(format!("version state {state}"))),
                };
                Ok(Upload {
                    org: org
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("org id {org}")))?,
                    at: Timestamp(at),
                    end,
                    score_tenths: score,
                })
            })
            .collect()
    }

    /// Versions still marked as being ingested whose job has ended for good: its worker died
    /// on the last attempt, so nothing will end them (housekeeping does).
    pub async fn stranded_data_versions(&self) -> Result<Vec<DataVersion>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM data_versions WHERE state = 'ingesting' AND EXISTS \
             (SELECT 1 FROM jobs WHERE jobs.id = data_versions.job_id \
              AND jobs.state IN ('succeeded', 'failed', 'cancelled'))"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Versions being ingested for an entry: one at a time.
    pub async fn ingesting_of(&self, dataset: DatasetId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM data_versions WHERE dataset_id = $1 AND state = 'ingesting'",
        )
        .bind(dataset.to_string())
        .fetch_one(self.pool())
        .await?)
    }
}
