//! The working-day calendar review deadlines are counted on (A19.2), from three sources, the
//! later winning for a year: the `holiday-cn` crate (maintained from the State Council's
//! notices; a `cargo update` brings new years), the notices the platform ships for years that
//! crate does not yet carry, and the years the operator loads as notices come out.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use domain::calendar::{ArrangementError, Calendar, YearArrangement};
use domain::policy::{Action, Resource};
use serde_json::json;

use crate::{App, Caller, Error, FieldError, Result};

/// A year's arrangement as a notice gives it: (year, holidays as inclusive (first, last)
/// ranges, make-up workdays), ISO dates.
type Notice = (
    i32,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

/// Arrangements the platform ships for years `holiday-cn` does not carry: (year, holidays as
/// inclusive ranges, make-up workdays). 2026: 国务院办公厅关于2026年部分节假日安排的通知 —
/// 元旦 1/1–1/3 (1/4 worked), 春节 2/15–2/23 (2/14, 2/28 worked), 清明 4/4–4/6, 劳动节
/// 5/1–5/5 (5/9 worked), 端午 6/19–6/21, 中秋 9/25–9/27, 国庆 10/1–10/7 (9/20, 10/10 worked).
const SHIPPED: &[Notice] = &[(
    2026,
    &[
        ("2026-01-01", "2026-01-03"),
        ("2026-02-15", "2026-02-23"),
        ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"),
        ("2026-06-19", "2026-06-21"),
        ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ],
    &[
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ],
)];

/// Where a year of the calendar came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The `holiday-cn` crate.
    Maintained,
    /// Shipped with the platform.
    Shipped,
    /// Loaded by the operator.
    Operator,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The year `holiday-cn` carries, if it carries any day of it. A year's notice may name days
/// of the year before (2023's New Year holiday began on 2022-12-31); the crate gives those to
/// that year too, so each year keeps its own days.
fn maintained(year: i32) -> Option<YearArrangement> {
    let days = holiday_cn::get_year_data(year)?;
    let (mut off, mut work) = (BTreeSet::new(), BTreeSet::new());
    for (day, (_, is_off)) in days {
        let Some(d) = date(&day).filter(|d| d.year() == year) else {
            continue;
        };
        if is_off {
            off.insert(d);
        } else if matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
            work.insert(d);
        }
        // A weekday named a workday (2020-02-03, the day work resumed after the extended
        // Spring Festival) is one anyway.
    }
    if off.is_empty() {
        return None;
    }
    YearArrangement::new(year, off, work)
        .inspect_err(|e| tracing::warn!(year, error = %e, "holiday data of a year left out"))
        .ok()
}

fn shipped() -> impl Iterator<Item = YearArrangement> {
    SHIPPED.iter().filter_map(|(year, spans, work)| {
        let off = spans.iter().flat_map(|(a, b)| {
            let (a, b) = (date(a), date(b));
            a.into_iter()
                .flat_map(|a| a.iter_days())
                .take_while(move |d| b.is_some_and(|b| *d <= b))
        });
        YearArrangement::new(*year, off, work.iter().filter_map(|d| date(d))).ok()
    })
}

/// A calendar with where each of its years came from.
pub type BuiltIn = (Calendar, Vec<(i32, Source)>);

/// The calendar without the operator's years, with where each year came from.
pub fn built_in() -> BuiltIn {
    let mut calendar = Calendar::default();
    let mut sources = Vec::new();
    for year in domain::calendar::YEARS {
        if let Some(y) = maintained(year) {
            calendar.load(y);
            sources.push((year, Source::Maintained));
        }
    }
    for y in shipped() {
        if !calendar.knows(y.year()) {
            sources.push((y.year(), Source::Shipped));
            calendar.load(y);
        }
    }
    sources.sort();
    (calendar, sources)
}

/// Parses a stored or entered list of ISO dates — commas, spaces or new lines between them, and
/// `FIRST~LAST` for the days of a holiday — bounded to a year's days.
pub fn dates(field: &'static str, text: &str) -> Result<Vec<NaiveDate>> {
    let wrong = |code: &'static str, s: &str| {
        Error::invalid(vec![FieldError {
            field: field.into(),
            code,
            detail: Some(s.chars().take(40).collect()),
        }])
    };
    let mut out = Vec::new();
    for token in text
        .split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let (first, last) = match token.split_once(['~', '～']) {
            Some((a, b)) => (a, b),
            None => (token, token),
        };
        let (Some(first), Some(last)) = (date(first), date(last)) else {
            return Err(wrong("invalid_date", token));
        };
        if last < first {
            return Err(wrong("invalid_range", token));
        }
        for d in first.iter_days().take_while(|d| *d <= last) {
            if out.len() >= MAX_DAYS {
                return Err(wrong("too_many", &MAX_DAYS.to_string()));
            }
            out.push(d);
        }
    }
    Ok(out)
}

/// The whole calendar: built in, then the operator's years over it. Returns where each year
/// came from too.
pub async fn calendar(app: &App) -> Result<BuiltIn> {
    // The holiday data does not change while the platform runs: read once per app.
    let (mut calendar, mut sources) = app.built_in_calendar.get_or_init(built_in).clone();
    for row in app.store.calendar_years().await? {
        let off = dates("holidays", &row.holidays)?;
        let work = dates("workdays", &row.workdays)?;
        if let Ok(y) = YearArrangement::new(row.year, off, work) {
            calendar.load(y);
            sources.retain(|(year, _)| *year != row.year);
            sources.push((row.year, Source::Operator));
        }
    }
    sources.sort();
    Ok((calendar, sources))
}

/// The most days a year's lists may name (a year has 366).
const MAX_DAYS: usize = 366;

fn arrangement_error(e: ArrangementError) -> Error {
    let (field, detail) = match &e {
        ArrangementError::YearOutOfRange(y) => ("year", y.to_string()),
        ArrangementError::WorkdayOnWeekday(d) => ("workdays", d.to_string()),
        ArrangementError::OtherYear(d, _) | ArrangementError::Both(d) => {
            ("holidays", d.to_string())
        }
        ArrangementError::NoHolidays => ("holidays", String::new()),
    };
    Error::invalid(vec![FieldError {
        field: field.into(),
        code: e.code(),
        detail: Some(detail),
    }])
}

/// Loads (or corrects) a year's holidays and make-up workdays from the State Council's notice,
/// as the operator enters them (see [`dates`]). Audited.
pub async fn load_year(
    app: &App,
    caller: &Caller,
    year: i32,
    holidays: &str,
    workdays: &str,
) -> Result<YearArrangement> {
    caller.authorize(Action::ManageCalendar, Resource::Platform)?;
    let off = dates("holidays", holidays)?;
    let work = dates("workdays", workdays)?;
    let arrangement = YearArrangement::new(year, off, work).map_err(arrangement_error)?;
    let join = |days: &mut dyn Iterator<Item = NaiveDate>| {
        days.map(|d| d.format("%Y-%m-%d").to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let now = app.clock.now();
    let by = caller.user()?.id.to_string();
    let row = store::calendar::CalendarYearRow {
        year,
        holidays: join(&mut arrangement.holidays()),
        workdays: join(&mut arrangement.make_up_workdays()),
        loaded_by: by,
        loaded_at: now.0,
    };
    // The calendar as it will be, to count again the deadlines that ran into this year.
    let (mut after, _) = calendar(app).await?;
    after.load(arrangement.clone());
    let mut tx = app.store.begin_write().await?;
    let before = store::calendar::save_year(&mut tx, &row).await?;
    let (_, outbox) = crate::access::recount_provisional(app, &mut tx, caller, &after, now).await?;
    let mut ev = caller.event(now, "calendar.load_year", "calendar_year", year.to_string());
    ev.before = before.map(|b| json!({ "holidays": b.holidays, "workdays": b.workdays }));
    ev.after = Some(json!({ "holidays": row.holidays, "workdays": row.workdays }));
    tx.audit(ev).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(arrangement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_year_of_the_maintained_data_is_known_with_its_days_across_new_year() {
        let (calendar, sources) = built_in();
        // holiday-cn carries 2007–2025 (its 2026 is empty); 2007, 2008, 2012, 2019 and 2023
        // each name days of the year before.
        for year in 2007..=2025 {
            assert!(calendar.knows(year), "{year}");
        }
        assert!(sources.contains(&(2026, Source::Shipped)));
        assert!(sources.contains(&(2023, Source::Maintained)));
        // 2023's New Year holiday: Saturday 2022-12-31 to Monday 2023-01-02 (from the State
        // Council's notice for 2023).
        assert!(!calendar.is_workday(d(2023, 1, 2)).0);
        assert!(calendar.is_workday(d(2023, 1, 3)).0);
        // 2019's: Sunday 2018-12-30 to Tuesday 2019-01-01, with Saturday 2018-12-29 worked.
        assert!(calendar.is_workday(d(2018, 12, 29)).0);
        assert!(!calendar.is_workday(d(2018, 12, 31)).0);
        assert!(!calendar.is_workday(d(2019, 1, 1)).0);
    }
}
