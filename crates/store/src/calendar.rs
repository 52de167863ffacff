//! Years of the working-day calendar the operator loaded (see `domain::calendar`).

use domain::clock::Timestamp;

use crate::{Result, Store, WriteTx};

/// A year as stored: its holidays and make-up workdays as ISO dates.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CalendarYearRow {
    pub year: i32,
    pub holidays: String,
    pub workdays: String,
    pub loaded_by: String,
    pub loaded_at: i64,
}

impl CalendarYearRow {
    pub fn loaded_at(&self) -> Timestamp {
        Timestamp(self.loaded_at)
    }
}

/// Saves a year (replacing one loaded before). Returns the year as it was before, if any.
pub async fn save_year(tx: &mut WriteTx, row: &CalendarYearRow) -> Result<Option<CalendarYearRow>> {
    let before: Option<CalendarYearRow> = sqlx::query_as(
        "SELECT year, holidays, workdays, loaded_by, loaded_at FROM calendar_years WHERE year = $1",
    )
    .bind(row.year)
    .fetch_optional(tx.conn())
    .await?;
    // One statement, so two operators loading the same year at once both succeed, the later
    // winning, instead of the second failing on the key.
    sqlx::query(
        "INSERT INTO calendar_years (year, holidays, workdays, loaded_by, loaded_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year) DO UPDATE SET \
         holidays = excluded.holidays, workdays = excluded.workdays, \
         loaded_by = excluded.loaded_by, loaded_at = excluded.loaded_at",
    )
    .bind(row.year)
    .bind(&row.holidays)
    .bind(&row.workdays)
    .bind(&row.loaded_by)
    .bind(row.loaded_at)
    .execute(tx.conn())
    .await?;
    Ok(before)
}

impl Store {
    /// Every year the operator loaded, oldest first.
    pub async fn calendar_years(&self) -> Result<Vec<CalendarYearRow>> {
        Ok(sqlx::query_as(
            "SELECT year, holidays, workdays, loaded_by, loaded_at FROM calendar_years ORDER BY year",
        )
        .fetch_all(self.pool())
        .await?)
    }
}
