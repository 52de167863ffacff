//! Sandbox delivery (migration 0032): the privacy budget each sandbox grant has spent, and
//! the log of the queries asked in sandboxes with what they returned.

use domain::ids::{AgreementId, DatasetId};

use crate::{Result, Store, WriteTx};

/// One query asked in a sandbox.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SandboxQueryRecord {
    pub id: String,
    pub agreement_id: String,
    pub dataset_id: Option<String>,
    pub version: Option<i64>,
    pub user_id: String,
    pub sql: String,
    /// `answered`, `refused` or `failed`.
    pub outcome: String,
    /// Why it was refused or failed.
    pub code: Option<String>,
    /// Groups answered.
    pub group_count: i64,
    pub suppressed: i64,
    /// Thousandths of epsilon spent.
    pub epsilon: i64,
    /// The JSON of the answer returned.
    pub answer: Option<String>,
    pub at: i64,
}

const COLUMNS: &str = "id, agreement_id, dataset_id, version, user_id, sql, outcome, code, \
    group_count, suppressed, epsilon, answer, at";

pub async fn log(tx: &mut WriteTx, q: &SandboxQueryRecord) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sandbox_queries ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )))
    .bind(&q.id)
    .bind(&q.agreement_id)
    .bind(&q.dataset_id)
    .bind(q.version)
    .bind(&q.user_id)
    .bind(&q.sql)
    .bind(&q.outcome)
    .bind(&q.code)
    .bind(q.group_count)
    .bind(q.suppressed)
    .bind(q.epsilon)
    .bind(&q.answer)
    .bind(q.at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Spends `amount` thousandths of epsilon of a grant whose budget is `budget`: false, and
/// nothing spent, when that would pass the budget. One statement, so two queries at once
/// cannot both spend the last of it.
pub async fn spend(
    tx: &mut WriteTx,
    agreement: AgreementId,
    dataset: DatasetId,
    amount: i64,
    budget: i64,
) -> Result<bool> {
    sqlx::query(
        "INSERT INTO sandbox_budgets (agreement_id, dataset_id, spent) VALUES ($1, $2, 0) \
         ON CONFLICT (agreement_id, dataset_id) DO NOTHING",
    )
    .bind(agreement.to_string())
    .bind(dataset.to_string())
    .execute(tx.conn())
    .await?;
    let done = sqlx::query(
        "UPDATE sandbox_budgets SET spent = spent + $1 \
         WHERE agreement_id = $2 AND dataset_id = $3 AND spent + $1 <= $4",
    )
    .bind(amount)
    .bind(agreement.to_string())
    .bind(dataset.to_string())
    .bind(budget)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

impl Store {
    /// Thousandths of epsilon a grant has spent.
    pub async fn sandbox_spent(&self, agreement: AgreementId, dataset: DatasetId) -> Result<i64> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT spent FROM sandbox_budgets WHERE agreement_id = $1 AND dataset_id = $2",
        )
        .bind(agreement.to_string())
        .bind(dataset.to_string())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map_or(0, |(s,)| s))
    }

    /// The SQL of the newest `limit` queries answered under an agreement over version
    /// `version` of an entry, newest first.
    pub async fn sandbox_answered(
        &self,
        agreement: AgreementId,
        dataset: DatasetId,
        version: i64,
        limit: i64,
    ) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT sql FROM sandbox_queries WHERE agreement_id = $1 AND dataset_id = $2 \
             AND version = $3 AND outcome = 'answered' ORDER BY at DESC, id DESC LIMIT $4",
        )
        .bind(agreement.to_string())
        .bind(dataset.to_string())
        .bind(version)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// The newest `limit` queries asked under an agreement, newest first.
    pub async fn sandbox_queries(
        &self,
        agreement: AgreementId,
        limit: i64,
    ) -> Result<Vec<SandboxQueryRecord>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sandbox_queries WHERE agreement_id = $1 \
             ORDER BY at DESC, id DESC LIMIT $2"
        )))
        .bind(agreement.to_string())
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
