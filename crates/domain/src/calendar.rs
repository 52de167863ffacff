//! Working days on the Chinese statutory calendar (A19.2): weekends off, the State Council's
//! holidays off, and its make-up workdays (调休) on. The State Council publishes a year's
//! arrangement each autumn, so a calendar knows some years and not others; a deadline that runs
//! into a year it does not know is counted on weekends alone and marked provisional, to be
//! counted again once the year is loaded — loud, but never blocking the work.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};

/// The working days a provider has to decide on a work order (A19.2).
pub const REVIEW_WORKING_DAYS: u32 = 10;

/// The furthest a year may be from today to be loaded or counted into (a typo such as 20226
/// is refused rather than stored).
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// One year's arrangement: the days off that would otherwise be worked (holidays on weekdays,
/// and weekend days named as holidays change nothing) and the weekend days worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearArrangement {
    year: i32,
    /// Holidays (any day of the week; weekend ones are off anyway).
    off: BTreeSet<NaiveDate>,
    /// Make-up workdays (weekend days worked).
    work: BTreeSet<NaiveDate>,
}

/// Why a year's arrangement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArrangementError {
    #[error("year {0} is outside the years a calendar may hold")]
    YearOutOfRange(i32),
    #[error("{0} is not in year {1}")]
    OtherYear(NaiveDate, i32),
    #[error("{0} is named both a holiday and a make-up workday")]
    Both(NaiveDate),
    #[error("{0} is a weekday: only a Saturday or Sunday can be a make-up workday")]
    WorkdayOnWeekday(NaiveDate),
    #[error("a year without any holiday is not an arrangement")]
    NoHolidays,
}

impl ArrangementError {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::YearOutOfRange(_) => "calendar_year_out_of_range",
            Self::OtherYear(..) => "calendar_other_year",
            Self::Both(_) => "calendar_day_twice",
            Self::WorkdayOnWeekday(_) => "calendar_workday_on_weekday",
            Self::NoHolidays => "calendar_no_holidays",
        }
    }
}

impl YearArrangement {
    /// Checks an arrangement: every day in `year`, none both off and worked, make-up workdays
    /// only on weekends, at least one holiday.
    pub fn new(
        year: i32,
        off: impl IntoIterator<Item = NaiveDate>,
        work: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, ArrangementError> {
        if !YEARS.contains(&year) {
            return Err(ArrangementError::YearOutOfRange(year));
        }
        let off: BTreeSet<NaiveDate> = off.into_iter().collect();
        let work: BTreeSet<NaiveDate> = work.into_iter().collect();
        for d in off.iter().chain(&work) {
            if d.year() != year {
                return Err(ArrangementError::OtherYear(*d, year));
            }
        }
        if let Some(d) = off.intersection(&work).next() {
            return Err(ArrangementError::Both(*d));
        }
        if let Some(d) = work.iter().find(|d| !is_weekend(**d)) {
            return Err(ArrangementError::WorkdayOnWeekday(*d));
        }
        if off.is_empty() {
            return Err(ArrangementError::NoHolidays);
        }
        Ok(Self { year, off, work })
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.off.iter().copied()
    }

    pub fn make_up_workdays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.work.iter().copied()
    }

    fn is_workday(&self, d: NaiveDate) -> bool {
        if self.work.contains(&d) {
            return true;
        }
        !is_weekend(d) && !self.off.contains(&d)
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The years whose arrangement is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i32, YearArrangement>,
}

/// A deadline counted on a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// The last working day: the deadline is its end (24:00 China Standard Time).
    pub due: NaiveDate,
    /// Some day counted lies in a year the calendar does not know: counted on weekends alone.
    pub provisional: bool,
    /// The years counted into that the calendar does not know.
    pub unknown_years: Vec<i32>,
}

impl Calendar {
    /// Adds (or replaces) a year's arrangement.
    pub fn load(&mut self, year: YearArrangement) {
        self.years.insert(year.year, year);
    }

    pub fn knows(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The years known, oldest first.
    pub fn years(&self) -> impl Iterator<Item = &YearArrangement> {
        self.years.values()
    }

    /// Whether `d` is worked, and whether the calendar knows its year (if not: weekends alone).
    pub fn is_workday(&self, d: NaiveDate) -> (bool, bool) {
        match self.years.get(&d.year()) {
            Some(y) => (y.is_workday(d), true),
            None => (!is_weekend(d), false),
        }
    }

    /// The `n`th working day after `start` (the day of the start itself is not counted, as a
    /// period set in days is counted in Chinese administrative practice). `n` of 0 is `start`.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Deadline {
        let mut day = start;
        let mut counted = 0;
        let mut unknown = BTreeSet::new();
        while counted < n {
            let Some(next) = day.succ_opt() else {
                break;
            };
            day = next;
            let (worked, known) = self.is_workday(day);
            if !known {
                unknown.insert(day.year());
            }
            if worked {
                counted += 1;
            }
        }
        Deadline {
            due: day,
            provisional: !unknown.is_empty(),
            unknown_years: unknown.into_iter().collect(),
        }
    }

    /// The working days from the day after `from` through `to` (0 when `to` is not later).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| self.is_workday(*d).0)
            .count() as i64
    }

    /// A countdown to the end of `due` seen on `today`: the working days left after today (0 on
    /// the last day), or, once overdue, minus the working days since.
    pub fn working_days_left(&self, today: NaiveDate, due: NaiveDate) -> i64 {
        if today <= due {
            self.working_days_between(today, due)
        } else {
            -self.working_days_between(due, today)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// The State Council's arrangement for 2026 as its notice states it (元旦 1/1–1/3 with 1/4
    /// worked; 春节 2/15–2/23 with 2/14 and 2/28 worked; 清明 4/4–4/6; 劳动节 5/1–5/5 with
    /// 5/9 worked; 端午 6/19–6/21; 中秋 9/25–9/27; 国庆 10/1–10/7 with 9/20 and 10/10 worked),
    /// typed here from the notice, not from the code's own table.
    fn notice_2026() -> YearArrangement {
        let span = |a: NaiveDate, b: NaiveDate| a.iter_days().take_while(move |x| *x <= b);
        let off = span(d(2026, 1, 1), d(2026, 1, 3))
            .chain(span(d(2026, 2, 15), d(2026, 2, 23)))
            .chain(span(d(2026, 4, 4), d(2026, 4, 6)))
            .chain(span(d(2026, 5, 1), d(2026, 5, 5)))
            .chain(span(d(2026, 6, 19), d(2026, 6, 21)))
            .chain(span(d(2026, 9, 25), d(2026, 9, 27)))
            .chain(span(d(2026, 10, 1), d(2026, 10, 7)));
        let work = [
            d(2026, 1, 4),
            d(2026, 2, 14),
            d(2026, 2, 28),
            d(2026, 5, 9),
            d(2026, 9, 20),
            d(2026, 10, 10),
        ];
        YearArrangement::new(2026, off, work).unwrap()
    }

    fn calendar() -> Calendar {
        let mut c = Calendar::default();
        c.load(notice_2026());
        c
    }

    #[test]
    fn across_the_spring_festival_the_holiday_is_skipped_and_the_make_up_days_count() {
        // A work order of Wednesday 11 February 2026. Working days: 2/12 Thu (1), 2/13 Fri (2),
        // 2/14 Sat worked (3), 2/15–2/23 off, 2/24 Tue (4), 2/25 (5), 2/26 (6), 2/27 (7),
        // 2/28 Sat worked (8), 3/2 Mon (9), 3/3 Tue (10).
        let due = calendar().add_working_days(d(2026, 2, 11), 10);
        assert_eq!(due.due, d(2026, 3, 3));
        assert!(!due.provisional);
    }

    #[test]
    fn across_national_day_the_week_off_is_skipped_and_the_saturdays_worked_count() {
        // A work order of Friday 18 September 2026. 9/20 Sun worked (1), 9/21–9/24 (2–5),
        // 9/25–9/27 off, 9/28 Mon (6), 9/29 (7), 9/30 (8), 10/1–10/7 off, 10/8 Thu (9),
        // 10/9 Fri (10).
        let due = calendar().add_working_days(d(2026, 9, 18), 10);
        assert_eq!(due.due, d(2026, 10, 9));
        // From Sunday 9/20 (itself worked, but the first day is not counted): 9/21–9/24
        // (1–4), 9/28–9/30 (5–7), 10/8 (8), 10/9 (9), and Saturday 10/10, worked (10).
        assert_eq!(
            calendar().add_working_days(d(2026, 9, 20), 10).due,
            d(2026, 10, 10)
        );
        // From Monday 9/21 the tenth is Monday 10/12.
        assert_eq!(
            calendar().add_working_days(d(2026, 9, 21), 10).due,
            d(2026, 10, 12)
        );
    }

    #[test]
    fn into_a_year_without_a_calendar_the_count_is_on_weekends_alone_and_provisional() {
        // Monday 21 December 2026: 12/22–12/25 (1–4), 12/28–12/31 (5–8), then 2027, unknown:
        // 1/1 Fri (9), 1/4 Mon (10) — New Year's Day counted as worked until 2027 is loaded.
        let c = calendar();
        let due = c.add_working_days(d(2026, 12, 21), 10);
        assert_eq!(due.due, d(2027, 1, 4));
        assert!(due.provisional);
        assert_eq!(due.unknown_years, [2027]);
        // Once 2027 is loaded (here a made-up arrangement: 1/1 off), the count moves.
        let mut c = c;
        c.load(YearArrangement::new(2027, [d(2027, 1, 1)], []).unwrap());
        let due = c.add_working_days(d(2026, 12, 21), 10);
        assert_eq!(due.due, d(2027, 1, 5));
        assert!(!due.provisional);
    }

    #[test]
    fn a_count_ending_before_the_unknown_year_is_not_provisional() {
        let due = calendar().add_working_days(d(2026, 12, 1), 10);
        assert_eq!(due.due, d(2026, 12, 15));
        assert!(!due.provisional);
    }

    #[test]
    fn working_days_between_agree_with_the_count() {
        let c = calendar();
        for start in d(2026, 1, 1).iter_days().take(365) {
            let due = c.add_working_days(start, REVIEW_WORKING_DAYS).due;
            assert_eq!(c.working_days_between(start, due), 10, "{start}");
            assert!(c.is_workday(due).0, "{start}: the due day is worked");
        }
    }

    #[test]
    fn the_countdown_runs_to_zero_on_the_last_day_and_below_once_overdue() {
        let c = calendar();
        // Due Friday 2026-10-16 (from the notice: 10/10 worked, 10/1–10/7 off).
        let due = d(2026, 10, 16);
        assert_eq!(c.working_days_left(d(2026, 9, 30), due), 8);
        assert_eq!(c.working_days_left(d(2026, 10, 3), due), 8);
        assert_eq!(c.working_days_left(due, due), 0);
        // Saturday and Sunday after it are not working days; Monday is the first overdue.
        assert_eq!(c.working_days_left(d(2026, 10, 18), due), 0);
        assert_eq!(c.working_days_left(d(2026, 10, 19), due), -1);
    }

    #[test]
    fn a_wrong_arrangement_is_refused() {
        assert_eq!(
            YearArrangement::new(2026, [d(2026, 1, 1)], [d(2026, 1, 5)]),
            Err(ArrangementError::WorkdayOnWeekday(d(2026, 1, 5)))
        );
        assert_eq!(
            YearArrangement::new(2026, [d(2026, 1, 4)], [d(2026, 1, 4)]),
            Err(ArrangementError::Both(d(2026, 1, 4)))
        );
        assert_eq!(
            YearArrangement::new(2026, [d(2027, 1, 1)], []),
            Err(ArrangementError::OtherYear(d(2027, 1, 1), 2026))
        );
        assert_eq!(
            YearArrangement::new(2026, [], []),
            Err(ArrangementError::NoHolidays)
        );
        assert!(YearArrangement::new(20226, [], []).is_err());
    }
}
