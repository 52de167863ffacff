//! Annual review cycles (see `domain::openlist::review_cycle`): a row per organization and year
//! once the year's review is submitted, and the entries it covered.

use domain::clock::Timestamp;
use domain::ids::OrgId;
use domain::openlist::review_cycle::CycleState;

use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CycleRecord {
    pub id: String,
    pub org_id: OrgId,
    pub year: i32,
    pub state: CycleState,
    pub submitted_at: Option<Timestamp>,
    pub submitted_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub note: String,
}

type Row = (
    String,
    String,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
);

const COLUMNS: &str =
    "id, org_id, year, state, submitted_at, submitted_by, decided_at, decided_by, note";

fn record(r: Row) -> Result<CycleRecord> {
    Ok(CycleRecord {
        id: r.0,
        org_id: parse(&r.1, "review_cycles.org_id")?,
        year: r.2 as i32,
        state: parse(&r.3, "review_cycles.state")?,
        submitted_at: r.4.map(Timestamp),
        submitted_by: r.5,
        decided_at: r.6.map(Timestamp),
        decided_by: r.7,
        note: r.8,
    })
}

/// The organization's cycle of `year`, read in the transaction that changes it.
pub async fn get_for_update(
    tx: &mut WriteTx,
    org: OrgId,
    year: i32,
) -> Result<Option<CycleRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM review_cycles WHERE org_id = $1 AND year = $2");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org.to_string())
        .bind(i64::from(year))
        .fetch_optional(tx.conn())
        .await?;
    row.map(record).transpose()
}

/// Writes the cycle as `c` if it is still in state `from` (or, with `from` = `None`, if there
/// is no row yet); otherwise someone moved it meanwhile: `Conflict("cycle_state")`.
pub async fn save(tx: &mut WriteTx, c: &CycleRecord, from: Option<CycleState>) -> Result<()> {
    let done =
        match from {
            None => sqlx::query(
                "INSERT INTO review_cycles (id, org_id, year, state, submitted_at, submitted_by, \
                 decided_at, decided_by, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&c.id)
            .bind(c.org_id.to_string())
            .bind(i64::from(c.year))
            .bind(c.state.as_str())
            .bind(c.submitted_at.map(|t| t.0))
            .bind(&c.submitted_by)
            .bind(c.decided_at.map(|t| t.0))
            .bind(&c.decided_by)
            .bind(&c.note)
            .execute(tx.conn())
            .await,
            Some(from) => {
                sqlx::query(
                    "UPDATE review_cycles SET state = $1, submitted_at = $2, submitted_by = $3, \
                 decided_at = $4, decided_by = $5, note = $6 WHERE id = $7 AND state = $8",
                )
                .bind(c.state.as_str())
                .bind(c.submitted_at.map(|t| t.0))
                .bind(&c.submitted_by)
                .bind(c.decided_at.map(|t| t.0))
                .bind(&c.decided_by)
                .bind(&c.note)
                .bind(&c.id)
                .bind(from.as_str())
                .execute(tx.conn())
                .await
            }
        };
    match done {
        Ok(r) if r.rows_affected() == 1 => Ok(()),
        Ok(_) => Err(StoreError::Conflict("cycle_state")),
        // Two submissions of a year that had no row: the second finds the first's.
        Err(e) => Err(StoreError::conflict_on(e, "cycle_state")),
    }
}

/// Records the entries a submitted cycle covered (replacing an earlier submission's).
pub async fn set_entries(
    tx: &mut WriteTx,
    cycle_id: &str,
    entries: &[(String, Timestamp)],
) -> Result<()> {
    sqlx::query("DELETE FROM review_cycle_entries WHERE cycle_id = $1")
        .bind(cycle_id)
        .execute(tx.conn())
        .await?;
    for (dataset, at) in entries {
        sqlx::query(
            "INSERT INTO review_cycle_entries (cycle_id, dataset_id, reviewed_at) VALUES ($1, $2, $3)",
        )
        .bind(cycle_id)
        .bind(dataset)
        .bind(at.0)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

impl Store {
    /// The organization's cycle of `year`, if it was ever submitted.
    pub async fn review_cycle(&self, org: OrgId, year: i32) -> Result<Option<CycleRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM review_cycles WHERE org_id = $1 AND year = $2");
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(org.to_string())
            .bind(i64::from(year))
            .fetch_optional(self.pool())
            .await?;
        row.map(record).transpose()
    }

    /// Every stored cycle of `year`, by organization.
    pub async fn review_cycles_of_year(&self, year: i32) -> Result<Vec<CycleRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM review_cycles WHERE year = $1 ORDER BY org_id");
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(year))
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(record).collect()
    }

    /// How many entries a stored cycle covered.
    pub async fn review_cycle_entry_count(&self, cycle_id: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM review_cycle_entries WHERE cycle_id = $1")
                .bind(cycle_id)
                .fetch_one(self.pool())
                .await?,
        )
    }
}
