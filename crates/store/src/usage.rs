//! The usage log and its daily roll-up (see `domain::usage`). Metering is not a change of
//! state: it is written without an audit record, in batches, and what is derived from it
//! (daily counts, an entry's recent reads) can always be computed again from the log.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::clock::Timestamp;
use domain::usage::{Tally, UsageKey, day_bounds};
use sqlx::{Any, Transaction};

use crate::{Backend, Result, Store};

/// Rows one INSERT carries.
const ROWS_PER_INSERT: usize = 60;
/// Parameters of one row.
const COLUMNS: usize = 12;
/// Days of reads that make an entry "most used".
pub const RECENT_DAYS: i64 = 30;

impl Store {
    /// A transaction for metering: the write lock taken up front as for every write, but no
    /// audit record asked for.
    async fn begin_metering(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer().begin().await?,
        })
    }

    /// Appends tallied uses, one row per key.
    pub async fn append_usage(&self, tallies: &BTreeMap<UsageKey, Tally>) -> Result<()> {
        if tallies.is_empty() {
            return Ok(());
        }
        let rows: Vec<(&UsageKey, &Tally)> = tallies.iter().collect();
        let mut tx = self.begin_metering().await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let params: Vec<String> = (1..=COLUMNS)
                        .map(|c| format!("${}", i * COLUMNS + c))
                        .collect();
                    format!("({})", params.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO usage_events (minute, kind, dataset_id, version_number, actor_id, via, \
                 field_list, status_code, count, row_count, byte_count, agreement_id) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (key, tally) in chunk {
                q = q
                    .bind(key.minute)
                    .bind(key.kind.as_str())
                    .bind(&key.dataset_id)
                    .bind(key.version)
                    .bind(key.actor_id.clone())
                    .bind(key.via)
                    .bind(key.fields.as_str())
                    .bind(i32::from(key.status))
                    .bind(tally.calls)
                    .bind(tally.rows)
                    .bind(tally.bytes)
                    .bind(key.agreement_id.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Computes the daily counts of `day` again from the log (so a run is idempotent, and a
    /// day still going is brought up to date). Refused and failed calls are not reads.
    pub async fn roll_up_usage_day(&self, day: NaiveDate) -> Result<()> {
        let (start, end) = day_bounds(day);
        let label = day.format("%Y-%m-%d").to_string();
        let mut tx = self.begin_metering().await?;
        sqlx::query("DELETE FROM usage_daily WHERE day = $1")
            .bind(&label)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO usage_daily (day, dataset_id, kind, count) \
             SELECT CAST($1 AS TEXT), dataset_id, kind, CAST(SUM(count) AS BIGINT) FROM usage_events \
             WHERE minute >= $2 AND minute < $3 AND status_code < 400 GROUP BY dataset_id, kind",
        )
        .bind(&label)
        .bind(start.0)
        .bind(end.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The first day the log holds a count for, if any.
    pub async fn first_usage_minute(&self) -> Result<Option<Timestamp>> {
        let first: Option<i64> = sqlx::query_scalar("SELECT MIN(minute) FROM usage_events")
            .fetch_one(self.pool())
            .await?;
        Ok(first.map(Timestamp))
    }

    /// The last day rolled up, if any.
    pub async fn last_rolled_up_day(&self) -> Result<Option<NaiveDate>> {
        let last: Option<String> = sqlx::query_scalar("SELECT MAX(day) FROM usage_daily")
            .fetch_one(self.pool())
            .await?;
        Ok(last.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()))
    }

    /// Sets each entry's reads of the `RECENT_DAYS` days up to `today` from the daily counts,
    /// and gives the entries whose number changed a new change number, so that search ranks
    /// them anew. Returns how many changed.
    pub async fn refresh_recent_usage(&self, today: NaiveDate) -> Result<usize> {
        let since = (today - chrono::Duration::days(RECENT_DAYS - 1))
            .format("%Y-%m-%d")
            .to_string();
        let mut tx = self.begin_metering().await?;
        let changed: Vec<(String, i64)> = sqlx::query_as(
            "SELECT d.id, COALESCE(u.total, 0) FROM datasets d LEFT JOIN \
             (SELECT dataset_id, CAST(SUM(count) AS BIGINT) AS total FROM usage_daily WHERE day >= $1 \
              GROUP BY dataset_id) u ON u.dataset_id = d.id \
             WHERE d.usage_recent <> COALESCE(u.total, 0)",
        )
        .bind(&since)
        .fetch_all(&mut *tx)
        .await?;
        for (id, total) in &changed {
            let (seq,): (i64,) = sqlx::query_as(
                "UPDATE counters SET value = value + 1 WHERE name = 'dataset_change' RETURNING value",
            )
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE datasets SET usage_recent = $1, change_seq = $2 WHERE id = $3")
                .bind(total)
                .bind(seq)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(changed.len())
    }

    /// Removes the log's rows older than `before` (their days stay in the daily counts).
    pub async fn purge_usage_before(&self, before: Timestamp) -> Result<u64> {
        let mut tx = self.begin_metering().await?;
        let n = sqlx::query("DELETE FROM usage_events WHERE minute < $1")
            .bind(before.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Daily counts of one entry from `since` on, oldest first: (day, kind, count).
    pub async fn usage_of(
        &self,
        dataset_id: &str,
        since: NaiveDate,
    ) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT day, kind, count FROM usage_daily WHERE dataset_id = $1 AND day >= $2 \
             ORDER BY day, kind",
        )
        .bind(dataset_id)
        .bind(since.format("%Y-%m-%d").to_string())
        .fetch_all(self.pool())
        .await?)
    }
}

/// One row of an agreement's use: a minute's calls of one kind of answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementUse {
    pub minute: Timestamp,
    pub dataset_id: String,
    pub fields: String,
    pub status: i64,
    pub calls: i64,
    pub rows: i64,
}

impl Store {
    /// The calls made under `agreement` since `since`, oldest first, at most `limit` rows.
    pub async fn agreement_usage(
        &self,
        agreement: &str,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<AgreementUse>> {
        let rows: Vec<(i64, String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT minute, dataset_id, field_list, CAST(status_code AS BIGINT), count, row_count \
             FROM usage_events WHERE agreement_id = $1 AND minute >= $2 ORDER BY minute LIMIT $3",
        )
        .bind(agreement)
        .bind(since.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(minute, dataset_id, fields, status, calls, rows)| AgreementUse {
                    minute: Timestamp(minute),
                    dataset_id,
                    fields,
                    status,
                    calls,
                    rows,
                },
            )
            .collect())
    }
}
