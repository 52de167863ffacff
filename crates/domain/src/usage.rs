//! Metering: how entries are read. High-volume and not a change of state, so not in the audit
//! chain: each use is tallied in memory (calls, rows, bytes) under what it was about — the
//! minute, the entry and its version, who, how, which fields, and the answer's status —
//! written in batches off the request path, one row per minute and key, and rolled up into
//! daily counts per entry.

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

/// One use of an entry, as the request that made it saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub kind: UsageKind,
    pub dataset_id: String,
    /// The data version read, when the use read data.
    pub version: Option<i64>,
    /// The data items asked for; empty when every item was (or none applies).
    pub fields: FieldList,
    /// Records answered.
    pub rows: u64,
    /// Bytes of the answer's body that were sent.
    pub bytes: u64,
    /// The HTTP status of the answer.
    pub status: u16,
}

impl Use {
    /// A use of `kind` of an entry, before anything else is known about it.
    pub fn of(kind: UsageKind, dataset_id: String) -> Self {
        Self {
            kind,
            dataset_id,
            version: None,
            fields: FieldList::default(),
            rows: 0,
            bytes: 0,
            status: 200,
        }
    }

    /// Whether the use was answered (a refused or failed call is logged but is not a read).
    pub fn succeeded(&self) -> bool {
        self.status < 400
    }
}

/// The data items a use asked for, sorted and without repeats so that the same choice is the
/// same key however it was spelled; bounded, since a caller chooses it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldList(String);

impl FieldList {
    /// The longest list kept; a longer one is cut at a name and ends with `…`.
    pub const MAX_CHARS: usize = 1000;

    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<&str> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        let mut out = String::new();
        for name in names {
            let extra = name.chars().count() + usize::from(!out.is_empty());
            if out.chars().count() + extra > Self::MAX_CHARS - 1 {
                out.push('…');
                break;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(name);
        }
        Self(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What one row of the log is about: a minute, a kind of use, an entry and version, who (an
/// account, or nobody signed in), how they came, the fields asked for and the status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageKey {
    /// Milliseconds since the epoch at the start of the minute.
    pub minute: i64,
    pub kind: UsageKind,
    pub dataset_id: String,
    pub version: Option<i64>,
    pub actor_id: Option<String>,
    /// `anonymous`, `session`, `token`, …
    pub via: &'static str,
    pub fields: FieldList,
    pub status: u16,
    /// The data use agreement the call was made under, with its credential (A29.1).
    pub agreement_id: Option<String>,
}

impl UsageKey {
    /// The key of `u`, made at `at` by `actor_id` coming `via`; with what it added to its tally.
    pub fn of(at: Timestamp, u: Use, actor_id: Option<String>, via: &'static str) -> (Self, Tally) {
        let tally = Tally {
            calls: 1,
            rows: i64::try_from(u.rows).unwrap_or(i64::MAX),
            bytes: i64::try_from(u.bytes).unwrap_or(i64::MAX),
        };
        let key = Self {
            minute: at.0.div_euclid(60_000) * 60_000,
            kind: u.kind,
            dataset_id: u.dataset_id,
            version: u.version,
            actor_id,
            via,
            fields: u.fields,
            status: u.status,
            agreement_id: None,
        };
        (key, tally)
    }
}

/// The uses of one key: how many, and the records and bytes they answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub calls: i64,
    pub rows: i64,
    pub bytes: i64,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.calls = self.calls.saturating_add(other.calls);
        self.rows = self.rows.saturating_add(other.rows);
        self.bytes = self.bytes.saturating_add(other.bytes);
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
        let (k, tally) = UsageKey::of(
            Timestamp(1_796_229_059_999),
            Use::of(UsageKind::PageView, "d".into()),
            None,
            "anonymous",
        );
        assert_eq!(k.minute, 1_796_229_000_000);
        assert_eq!(tally.calls, 1);
    }

    #[test]
    fn a_field_choice_is_one_key_however_spelled() {
        assert_eq!(FieldList::new(["b", "a", "b"]).as_str(), "a,b");
        assert_eq!(FieldList::new(["a", "b"]), FieldList::new(["b", "a"]));
        assert_eq!(FieldList::new([]).as_str(), "");
    }

    #[test]
    fn a_long_field_choice_is_cut_at_a_name() {
        let names: Vec<String> = (0..500).map(|i| format!("列{i:04}")).collect();
        let list = FieldList::new(names.iter().map(String::as_str));
        let kept = list.as_str();
        assert!(
            kept.chars().count() <= FieldList::MAX_CHARS,
            "{}",
            kept.len()
        );
        assert!(kept.ends_with(",…") || kept.ends_with('…'));
        // Every name kept is whole.
        for name in kept.trim_end_matches('…').trim_end_matches(',').split(',') {
            assert!(names.iter().any(|n| n == name), "{name}");
        }
    }
}
