//! Sample data (migration 0031): each conditional entry's sample definition, and the samples
//! drawn from its versions.

use domain::clock::Timestamp;
use domain::ids::DatasetId;

use crate::{Result, Store, WriteTx};

/// A sample drawn (or being drawn) from one version.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SampleRecord {
    pub id: String,
    pub dataset_id: String,
    pub version_id: String,
    /// The JSON of the definition it was drawn by.
    pub spec: String,
    pub seed: i64,
    /// `building`, `published`, `refused` (not faithful) or `failed`.
    pub state: String,
    pub rows: Option<i64>,
    pub parquet_sha256: Option<String>,
    pub parquet_size: Option<i64>,
    /// The JSON of its fidelity report.
    pub report: Option<String>,
    pub error: Option<String>,
    pub job_id: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, dataset_id, version_id, spec, seed, state, rows, parquet_sha256, \
    parquet_size, report, error, job_id, created_at, finished_at";

/// How a sample ended.
#[derive(Debug, Clone, Default)]
pub struct SampleEnd {
    pub rows: Option<i64>,
    pub parquet_sha256: Option<String>,
    pub parquet_size: Option<i64>,
    pub report: Option<String>,
    pub error: Option<String>,
}

/// Keeps `spec` as the entry's sample definition.
pub async fn save_spec(
    tx: &mut WriteTx,
    dataset: DatasetId,
    spec: &str,
    by: &str,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sample_specs (dataset_id, spec, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (dataset_id) DO UPDATE SET spec = excluded.spec, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(dataset.to_string())
    .bind(spec)
    .bind(by)
    .bind(at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn insert(tx: &mut WriteTx, s: &SampleRecord) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO samples ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )))
    .bind(&s.id)
    .bind(&s.dataset_id)
    .bind(&s.version_id)
    .bind(&s.spec)
    .bind(s.seed)
    .bind(&s.state)
    .bind(s.rows)
    .bind(&s.parquet_sha256)
    .bind(s.parquet_size)
    .bind(&s.report)
    .bind(&s.error)
    .bind(&s.job_id)
    .bind(s.created_at)
    .bind(s.finished_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ends a sample being built in `state`; false when it had already ended.
pub async fn finish(
    tx: &mut WriteTx,
    id: &str,
    state: &str,
    end: &SampleEnd,
    at: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE samples SET state = $1, rows = $2, parquet_sha256 = $3, parquet_size = $4, \
         report = $5, error = $6, finished_at = $7 WHERE id = $8 AND state = 'building'",
    )
    .bind(state)
    .bind(end.rows)
    .bind(&end.parquet_sha256)
    .bind(end.parquet_size)
    .bind(&end.report)
    .bind(&end.error)
    .bind(at.0)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

impl Store {
    pub async fn sample_spec(&self, dataset: DatasetId) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT spec FROM sample_specs WHERE dataset_id = $1")
                .bind(dataset.to_string())
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(s,)| s))
    }

    pub async fn sample(&self, id: &str) -> Result<Option<SampleRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM samples WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The entry's newest sample in `state`, or in any state.
    pub async fn newest_sample(
        &self,
        dataset: DatasetId,
        state: Option<&str>,
    ) -> Result<Option<SampleRecord>> {
        let order = "ORDER BY created_at DESC, id DESC LIMIT 1";
        Ok(match state {
            Some(state) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM samples WHERE dataset_id = $1 AND state = $2 {order}"
                )))
                .bind(dataset.to_string())
                .bind(state)
                .fetch_optional(self.pool())
                .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM samples WHERE dataset_id = $1 {order}"
                )))
                .bind(dataset.to_string())
                .fetch_optional(self.pool())
                .await?
            }
        })
    }
}
