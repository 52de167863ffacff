//! Metering: how often entries are read, as counts. High-volume and not a change of state, so
//! not in the audit chain: events are counted in memory, written in batches off the request
//! path, one row per minute and key, and rolled up into daily counts per entry.

use chrono::{Duration, NaiveDate, TimeZone};

use crate::clock::{Timestamp, china_standard_time};
use crate::names::string_enum;

string_enum!(
    UsageKind {
        /// The entry's page on the portal.
        PageView => "page_view",
        /// The entry read through an API (`/api/v1`, CKAN's `package_show`).
        ApiRead => "api_read",
        /// A file of the entry downloaded (the data plane).
        Download => "download",
        /// The entry's rows queried (the records API, `datastore_search`, SQL).
        Records => "records",
    }
);

/// What one count is about: a minute, a kind of use, an entry, who (an account, or nobody
/// signed in) and how they came.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageKey {
    /// Milliseconds since the epoch at the start of the minute.
    pub minute: i64,
    pub kind: UsageKind,
    pub dataset_id: String,
    pub actor_id: Option<String>,
    /// `anonymous`, `session`, `token`, …
    pub via: &'static str,
}

impl UsageKey {
    pub fn new(
        at: Timestamp,
        kind: UsageKind,
        dataset_id: String,
        actor_id: Option<String>,
        via: &'static str,
    ) -> Self {
        Self {
            minute: at.0.div_euclid(60_000) * 60_000,
            kind,
            dataset_id,
            actor_id,
            via,
        }
    }
}

/// The calendar day (China Standard Time) a moment falls on.
pub fn day_of(at: Timestamp) -> NaiveDate {
    at.to_cst().date_naive()
}

/// The moments `[start, end)` of a calendar day in China Standard Time, in milliseconds.
pub fn day_bounds(day: NaiveDate) -> (Timestamp, Timestamp) {
    let start = china_standard_time()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or_default();
    (
        Timestamp(start),
        Timestamp(start + Duration::days(1).num_milliseconds()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_chinese_calendar_days() {
        // 2026-12-02 16:30 UTC is 2026-12-03 00:30 in Shanghai.
        let at = Timestamp(1_796_229_000_000);
        assert_eq!(day_of(at), NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
        let (start, end) = day_bounds(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
        // Midnight in Shanghai is 16:00 UTC the day before.
        assert_eq!(start, Timestamp(1_796_227_200_000));
        assert_eq!(end.0 - start.0, 86_400_000);
        assert!(start <= at && at < end);
    }

    #[test]
    fn keys_start_at_their_minute() {
        let k = UsageKey::new(
            Timestamp(1_796_229_059_999),
            UsageKind::PageView,
            "d".into(),
            None,
            "anonymous",
        );
        assert_eq!(k.minute, 1_796_229_000_000);
    }
}
