//! The annual review of an open list (A10.1) as a yearly cycle per provider: each year a
//! provider reviews every entry of its list (published, static, suspended and non-open ones
//! alike), submits the year's review, and the operator accepts it or gives it back.
//!
//! An entry counts as reviewed in a year when its provider confirmed it that year, or when it
//! changed that year (a change goes through a ticket the operator reviewed).

use chrono::{Datelike, NaiveDate};

use crate::clock::Timestamp;
use crate::names::string_enum;

string_enum!(
    CycleState {
        /// The year's review is under way (also every year nobody has submitted yet).
        Open => "open",
        /// The provider submitted it; the operator decides.
        Submitted => "submitted",
        /// The operator accepted it.
        Accepted => "accepted",
    }
);

/// A step the cycle's state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a review cycle that is {from} cannot be {attempted}")]
pub struct TransitionError {
    pub from: CycleState,
    pub attempted: &'static str,
}

impl CycleState {
    pub fn submit(self) -> Result<CycleState, TransitionError> {
        match self {
            CycleState::Open => Ok(CycleState::Submitted),
            from => Err(TransitionError {
                from,
                attempted: "submitted",
            }),
        }
    }

    pub fn accept(self) -> Result<CycleState, TransitionError> {
        match self {
            CycleState::Submitted => Ok(CycleState::Accepted),
            from => Err(TransitionError {
                from,
                attempted: "accepted",
            }),
        }
    }

    /// The operator gives a submitted review back to its provider, to review again.
    pub fn give_back(self) -> Result<CycleState, TransitionError> {
        match self {
            CycleState::Submitted => Ok(CycleState::Open),
            from => Err(TransitionError {
                from,
                attempted: "given back",
            }),
        }
    }
}

/// The day a year's review is due: the last day of the year.
pub fn due_on(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default()
}

/// The calendar year (China Standard Time) a moment falls in.
pub fn year_of(at: Timestamp) -> i32 {
    at.to_cst().year()
}

/// Whether an entry was reviewed in `year`: confirmed by its provider, or changed, that year.
pub fn reviewed_in(year: i32, last_reviewed: Option<Timestamp>, last_changed: Timestamp) -> bool {
    last_reviewed.is_some_and(|t| year_of(t) == year) || year_of(last_changed) == year
}

/// Whether a cycle in `state` is overdue on `today`: past its due day and not yet submitted.
pub fn overdue(state: CycleState, year: i32, today: NaiveDate) -> bool {
    state == CycleState::Open && today > due_on(year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_goes_open_submitted_accepted_and_back_only_from_submitted() {
        use CycleState::*;
        assert_eq!(Open.submit(), Ok(Submitted));
        assert_eq!(Submitted.accept(), Ok(Accepted));
        assert_eq!(Submitted.give_back(), Ok(Open));
        for (state, step) in [
            (Submitted, CycleState::submit as fn(CycleState) -> _),
            (Accepted, CycleState::submit),
            (Open, CycleState::accept),
            (Accepted, CycleState::accept),
            (Open, CycleState::give_back),
            (Accepted, CycleState::give_back),
        ] {
            assert!(step(state).is_err(), "{state:?}");
        }
    }

    #[test]
    fn an_entry_changed_or_confirmed_this_year_is_reviewed() {
        // 2026-12-02 12:00 and 2025-12-31 23:30 in Shanghai.
        let this_year = Timestamp(1_796_184_000_000);
        let last_year = Timestamp(1_767_195_000_000);
        assert!(reviewed_in(2026, None, this_year), "changed today");
        assert!(
            reviewed_in(2026, Some(this_year), last_year),
            "confirmed today"
        );
        assert!(!reviewed_in(2026, Some(last_year), last_year));
        assert!(reviewed_in(2025, None, last_year));
        assert_eq!(year_of(last_year), 2025);
    }

    #[test]
    fn a_review_is_overdue_after_the_last_day_of_its_year_until_submitted() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(!overdue(CycleState::Open, 2026, d(2026, 12, 31)));
        assert!(overdue(CycleState::Open, 2026, d(2027, 1, 1)));
        assert!(!overdue(CycleState::Submitted, 2026, d(2027, 1, 1)));
    }
}
