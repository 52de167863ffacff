//! Timeliness (A9.4): whether an entry's data is updated as often as its declared update
//! frequency promises. Irregular and static data promise no rhythm.

use super::vocab::UpdateFrequency;
use crate::clock::Timestamp;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeliness {
    /// Irregular or static data: no update is ever due.
    NoRhythm,
    /// The next update is due by `due`.
    OnTime { due: Timestamp },
    /// The update due at `due` has not come; `days` days late (at least one).
    Overdue { due: Timestamp, days: i64 },
}

/// How data last updated at `last_update`, promised at `frequency`, stands at `now`.
pub fn assess(frequency: UpdateFrequency, last_update: Timestamp, now: Timestamp) -> Timeliness {
    let Some(gap_days) = frequency.max_gap_days() else {
        return Timeliness::NoRhythm;
    };
    let due = Timestamp(last_update.0 + gap_days * DAY_MS);
    if now.0 <= due.0 {
        Timeliness::OnTime { due }
    } else {
        Timeliness::Overdue {
            due,
            days: (now.0 - due.0 + DAY_MS - 1) / DAY_MS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_monthly_entry_is_due_31_days_after_its_last_update() {
        let last = Timestamp(1_700_000_000_000);
        let day = |n: i64| Timestamp(last.0 + n * DAY_MS);
        assert_eq!(
            assess(UpdateFrequency::Monthly, last, day(31)),
            Timeliness::OnTime { due: day(31) }
        );
        assert_eq!(
            assess(UpdateFrequency::Monthly, last, Timestamp(day(31).0 + 1)),
            Timeliness::Overdue {
                due: day(31),
                days: 1
            }
        );
        assert_eq!(
            assess(UpdateFrequency::Monthly, last, day(40)),
            Timeliness::Overdue {
                due: day(31),
                days: 9
            }
        );
        for no_rhythm in [UpdateFrequency::Irregular, UpdateFrequency::Static] {
            assert_eq!(assess(no_rhythm, last, day(4000)), Timeliness::NoRhythm);
        }
    }

    proptest! {
        #[test]
        fn overdue_exactly_when_the_promised_gap_has_passed(
            f in proptest::sample::select(UpdateFrequency::ALL),
            last in 0i64..4_000_000_000_000,
            later in 0i64..2_000_000_000_000,
        ) {
            let now = Timestamp(last + later);
            match (assess(f, Timestamp(last), now), f.max_gap_days()) {
                (Timeliness::NoRhythm, None) => {}
                (Timeliness::OnTime { due }, Some(gap)) => {
                    prop_assert!(later <= gap * DAY_MS);
                    prop_assert_eq!(due.0, last + gap * DAY_MS);
                }
                (Timeliness::Overdue { due, days }, Some(gap)) => {
                    prop_assert!(later > gap * DAY_MS);
                    prop_assert!(days >= 1 && (days - 1) * DAY_MS < now.0 - due.0);
                    prop_assert!(now.0 - due.0 <= days * DAY_MS);
                }
                (other, gap) => prop_assert!(false, "{other:?} with gap {gap:?}"),
            }
        }
    }
}
