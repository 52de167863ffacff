//! Quality over time, per provider (A16.4): every upload of data ends published, refused by the
//! quality gate, or failed; the operator's monthly evaluation counts them per provider and
//! month (in China Standard Time) with the scores the gate gave.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate, TimeZone};
use serde::Serialize;

use crate::clock::{Timestamp, china_standard_time};
use crate::ids::OrgId;

/// How an upload ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadEnd {
    Published,
    Refused,
    /// Failed or cancelled: never judged.
    Failed,
    Pending,
}

/// One upload of an entry's data.
#[derive(Debug, Clone)]
pub struct Upload {
    pub org: OrgId,
    pub at: Timestamp,
    pub end: UploadEnd,
    /// The gate's score in tenths of a percent (0–1000), when it judged the file.
    pub score_tenths: Option<i64>,
}

/// A provider's uploads in one month.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MonthQuality {
    /// The month, `YYYY-MM`.
    pub month: String,
    pub uploads: u64,
    pub published: u64,
    pub refused: u64,
    pub failed: u64,
    /// The mean of the scores the gate gave (in percent, one decimal), none without any.
    pub mean_score: Option<f64>,
    /// The lowest score the gate gave.
    pub lowest_score: Option<f64>,
}

/// A provider's months, oldest first, each of the span asked for present.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ProviderQuality {
    pub org: OrgId,
    pub months: Vec<MonthQuality>,
    /// Over the whole span.
    pub total: MonthQuality,
}

/// The first instant of the month `months_back` months before the one holding `now` (CST).
pub fn span_start(now: Timestamp, months_back: u32) -> Timestamp {
    let today = now.to_cst().date_naive();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
        .and_then(|d| d.checked_sub_months(Months::new(months_back)))
        .unwrap_or(today);
    let start = china_standard_time()
        .from_local_datetime(&first.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(now.0);
    Timestamp(start)
}

fn month_of(t: Timestamp) -> String {
    t.to_cst().format("%Y-%m").to_string()
}

#[derive(Default)]
struct Sums {
    q: MonthQuality,
    scores: u64,
    score_sum: i64,
    lowest: Option<i64>,
}

impl Sums {
    fn add(&mut self, u: &Upload) {
        self.q.uploads += 1;
        match u.end {
            UploadEnd::Published => self.q.published += 1,
            UploadEnd::Refused => self.q.refused += 1,
            UploadEnd::Failed => self.q.failed += 1,
            UploadEnd::Pending => {}
        }
        if let Some(s) = u.score_tenths {
            self.scores += 1;
            self.score_sum += s;
            self.lowest = Some(self.lowest.map_or(s, |l| l.min(s)));
        }
    }

    fn finish(mut self, month: String) -> MonthQuality {
        self.q.month = month;
        if self.scores > 0 {
            let mean_tenths = self.score_sum as f64 / self.scores as f64;
            self.q.mean_score = Some((mean_tenths).round() / 10.0);
        }
        self.q.lowest_score = self.lowest.map(|l| l as f64 / 10.0);
        self.q
    }
}

/// The uploads from `months_back` months before `now`'s month to now, per provider and month;
/// providers without uploads in the span are left out.
pub fn monthly(uploads: &[Upload], now: Timestamp, months_back: u32) -> Vec<ProviderQuality> {
    let start = span_start(now, months_back);
    let labels: Vec<String> = (0..=months_back)
        .rev()
        .map(|back| month_of(span_start(now, back)))
        .collect();
    let mut by_org: BTreeMap<OrgId, (BTreeMap<String, Sums>, Sums)> = BTreeMap::new();
    for u in uploads.iter().filter(|u| u.at >= start && u.at <= now) {
        let (months, total) = by_org.entry(u.org).or_default();
        months.entry(month_of(u.at)).or_default().add(u);
        total.add(u);
    }
    by_org
        .into_iter()
        .map(|(org, (mut months, total))| ProviderQuality {
            org,
            months: labels
                .iter()
                .map(|l| months.remove(l).unwrap_or_default().finish(l.clone()))
                .collect(),
            total: total.finish(String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-04 12:00 in Shanghai.
    const NOW: Timestamp = Timestamp(1_796_356_800_000);

    fn at(y: i32, m: u32, d: u32, h: u32) -> Timestamp {
        Timestamp(
            china_standard_time()
                .with_ymd_and_hms(y, m, d, h, 0, 0)
                .unwrap()
                .timestamp_millis(),
        )
    }

    #[test]
    fn the_clock_constant_is_noon_in_shanghai() {
        assert_eq!(NOW, at(2026, 12, 4, 12));
    }

    #[test]
    fn uploads_are_counted_per_provider_and_month_in_shanghai_time() {
        let a = OrgId::new();
        let b = OrgId::new();
        let up = |org, at, end, score| Upload {
            org,
            at,
            end,
            score_tenths: score,
        };
        let uploads = vec![
            up(a, at(2026, 12, 1, 0), UploadEnd::Published, Some(1000)),
            up(a, at(2026, 12, 3, 9), UploadEnd::Refused, Some(905)),
            // 1 December 07:00 in Shanghai is still 30 November in UTC: December's.
            up(a, at(2026, 12, 1, 7), UploadEnd::Failed, None),
            up(a, at(2026, 11, 30, 23), UploadEnd::Published, Some(995)),
            // Before the span: left out.
            up(a, at(2026, 9, 30, 23), UploadEnd::Refused, Some(100)),
            up(b, at(2026, 10, 15, 12), UploadEnd::Pending, None),
        ];
        let q = monthly(&uploads, NOW, 2);
        assert_eq!(q.len(), 2);
        let qa = q.iter().find(|p| p.org == a).unwrap();
        let months: Vec<&str> = qa.months.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(months, ["2026-10", "2026-11", "2026-12"]);
        assert_eq!(qa.months[0].uploads, 0);
        assert_eq!(qa.months[0].mean_score, None);
        assert_eq!(qa.months[1].published, 1);
        assert_eq!(qa.months[1].mean_score, Some(99.5));
        let dec = &qa.months[2];
        assert_eq!(
            (dec.uploads, dec.published, dec.refused, dec.failed),
            (3, 1, 1, 1)
        );
        // (100.0 + 90.5) / 2 = 95.25, shown to one decimal.
        assert_eq!(dec.mean_score, Some(95.3));
        assert_eq!(dec.lowest_score, Some(90.5));
        assert_eq!(qa.total.uploads, 4);
        assert_eq!(qa.total.lowest_score, Some(90.5));
        let qb = q.iter().find(|p| p.org == b).unwrap();
        assert_eq!(qb.months[0].uploads, 1);
        assert_eq!(qb.total.mean_score, None);
    }
}
