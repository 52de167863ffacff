//! Entries' privacy plans, the secrets their pseudonyms are keyed with, and the operator's
//! exceptions (migration 0030).

use domain::clock::Timestamp;
use domain::ids::DatasetId;

use crate::{Result, Store, StoreError, WriteTx};

/// An entry's plan as stored: the JSON of a `domain::privacy::PrivacyPlan`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanRecord {
    pub plan: String,
    pub row_version: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

/// An exception: a kind of personal information an operator let an item open, and why.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ExceptionRecord {
    pub id: String,
    pub dataset_id: String,
    pub item: String,
    pub kind: String,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: i64,
}

/// Saves `plan` as the entry's plan if `base` is still its row version (0 for an entry without
/// one); else [`StoreError::Conflict`]`("row_version")`. Returns the new row version.
pub async fn save_plan(
    tx: &mut WriteTx,
    dataset: DatasetId,
    plan: &str,
    base: i64,
    by: &str,
    at: Timestamp,
) -> Result<i64> {
    // No row version is negative or the largest integer: such a base names no version.
    let next = base
        .checked_add(1)
        .filter(|_| base >= 0)
        .ok_or(StoreError::Conflict("row_version"))?;
    let changed = if base == 0 {
        sqlx::query(
            "INSERT INTO privacy_plans (dataset_id, plan, row_version, updated_by, updated_at) \
             VALUES ($1, $2, 1, $3, $4)",
        )
        .bind(dataset.to_string())
        .bind(plan)
        .bind(by)
        .bind(at.0)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on(e, "row_version"))?
        .rows_affected()
    } else {
        sqlx::query(
            "UPDATE privacy_plans SET plan = $1, row_version = $2, updated_by = $3, updated_at = $4 \
             WHERE dataset_id = $5 AND row_version = $6",
        )
        .bind(plan)
        .bind(next)
        .bind(by)
        .bind(at.0)
        .bind(dataset.to_string())
        .bind(base)
        .execute(tx.conn())
        .await?
        .rows_affected()
    };
    if changed == 0 {
        return Err(StoreError::Conflict("row_version"));
    }
    Ok(next)
}

/// Keeps `secret` as the entry's pseudonym key unless it has one; returns the one kept.
pub async fn keep_secret(
    tx: &mut WriteTx,
    dataset: DatasetId,
    secret: &str,
    at: Timestamp,
) -> Result<String> {
    sqlx::query(
        "INSERT INTO pseudonym_keys (dataset_id, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (dataset_id) DO NOTHING",
    )
    .bind(dataset.to_string())
    .bind(secret)
    .bind(at.0)
    .execute(tx.conn())
    .await?;
    let (kept,): (String,) =
        sqlx::query_as("SELECT secret FROM pseudonym_keys WHERE dataset_id = $1")
            .bind(dataset.to_string())
            .fetch_one(tx.conn())
            .await?;
    Ok(kept)
}

pub async fn insert_exception(tx: &mut WriteTx, e: &ExceptionRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO privacy_exceptions (id, dataset_id, item, kind, reason, granted_by, granted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&e.id)
    .bind(&e.dataset_id)
    .bind(&e.item)
    .bind(&e.kind)
    .bind(&e.reason)
    .bind(&e.granted_by)
    .bind(e.granted_at)
    .execute(tx.conn())
    .await
    .map_err(|err| StoreError::conflict_on(err, "exception_exists"))?;
    Ok(())
}

/// Removes an exception of `dataset`; false when there was none.
pub async fn delete_exception(tx: &mut WriteTx, dataset: DatasetId, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM privacy_exceptions WHERE id = $1 AND dataset_id = $2")
        .bind(id)
        .bind(dataset.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Store {
    pub async fn privacy_plan(&self, dataset: DatasetId) -> Result<Option<PlanRecord>> {
        Ok(sqlx::query_as(
            "SELECT plan, row_version, updated_by, updated_at FROM privacy_plans WHERE dataset_id = $1",
        )
        .bind(dataset.to_string())
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn pseudonym_secret(&self, dataset: DatasetId) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT secret FROM pseudonym_keys WHERE dataset_id = $1")
                .bind(dataset.to_string())
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(s,)| s))
    }

    pub async fn privacy_exceptions(&self, dataset: DatasetId) -> Result<Vec<ExceptionRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, dataset_id, item, kind, reason, granted_by, granted_at \
             FROM privacy_exceptions WHERE dataset_id = $1 ORDER BY granted_at, id",
        )
        .bind(dataset.to_string())
        .fetch_all(self.pool())
        .await?)
    }
}
