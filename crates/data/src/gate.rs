//! The quality gate's rules on a data item's values (A16.1), compiled once per upload, and the
//! verdict on a whole file: a score from the share of rows without a problem, refused below the
//! configured score or when the file's shape is wrong (what a provider must fix before any row
//! can be trusted).

use domain::openlist::dataset::DataItem;
use domain::openlist::rules::{ValueCheck, compile_pattern};
use serde::{Deserialize, Serialize};

use crate::rules::{self, Area};
use crate::table::Value;

/// A rule a value broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Broken {
    Required,
    NotAllowed,
    BelowMin,
    AboveMax,
    Pattern,
    Check(ValueCheck),
}

impl Broken {
    pub fn code(self) -> &'static str {
        match self {
            Broken::Required => "required",
            Broken::NotAllowed => "not_allowed",
            Broken::BelowMin => "below_min",
            Broken::AboveMax => "above_max",
            Broken::Pattern => "pattern",
            Broken::Check(c) => match c {
                ValueCheck::ResidentId => "check_resident_id",
                ValueCheck::CreditCode => "check_credit_code",
                ValueCheck::Mobile => "check_mobile",
                ValueCheck::Landline => "check_landline",
                ValueCheck::Phone => "check_phone",
                ValueCheck::Postcode => "check_postcode",
                ValueCheck::InArea => "check_in_area",
                ValueCheck::Longitude => "check_longitude",
                ValueCheck::Latitude => "check_latitude",
            },
        }
    }
}

/// One item's rules, ready to test values.
pub struct ItemGate {
    pub required: bool,
    pub key: bool,
    allowed: Vec<String>,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<regex::Regex>,
    pub format: Option<String>,
    check: Option<ValueCheck>,
}

impl ItemGate {
    /// The item's rules. Rules were checked when the entry was saved; a pattern that no longer
    /// compiles (a stored entry from before a bound) tests nothing rather than everything.
    pub fn new(item: &DataItem) -> Self {
        let r = &item.rules;
        Self {
            required: r.required,
            key: r.key,
            allowed: r.allowed.iter().map(|v| v.trim().to_owned()).collect(),
            min: r.min,
            max: r.max,
            pattern: r.pattern.as_deref().and_then(|p| compile_pattern(p).ok()),
            format: r.format.clone(),
            check: r.check,
        }
    }

    /// The first rule `cell` (trimmed, non-empty, of the item's type as `value`) breaks.
    pub fn test(&self, cell: &str, value: &Value<'_>, area: &Area) -> Option<Broken> {
        if !self.allowed.is_empty() && !self.allowed.iter().any(|a| a == cell) {
            return Some(Broken::NotAllowed);
        }
        if let Some(n) = value.number() {
            if self.min.is_some_and(|m| n < m) {
                return Some(Broken::BelowMin);
            }
            if self.max.is_some_and(|m| n > m) {
                return Some(Broken::AboveMax);
            }
        }
        if let Some(p) = &self.pattern
            && !p.is_match(cell)
        {
            return Some(Broken::Pattern);
        }
        let check = self.check?;
        let ok = match (check, value) {
            (ValueCheck::ResidentId, _) => rules::resident_id(cell),
            (ValueCheck::CreditCode, _) => rules::uscc(cell),
            (ValueCheck::Mobile, _) => rules::mobile(cell),
            (ValueCheck::Landline, _) => rules::landline(cell),
            (ValueCheck::Phone, _) => rules::mobile(cell) || rules::landline(cell),
            (ValueCheck::Postcode, _) => rules::postcode(cell),
            (ValueCheck::InArea, Value::Point(_, x, y)) => area.contains(*x, *y),
            (ValueCheck::Longitude, Value::Decimal(x)) => (area.west..=area.east).contains(x),
            (ValueCheck::Latitude, Value::Decimal(y)) => (area.south..=area.north).contains(y),
            // A check that does not fit the type was refused when the entry was saved.
            _ => true,
        };
        (!ok).then_some(Broken::Check(check))
    }
}

/// Where the gate sets its bar (`[quality]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// The lowest score (0–100: the share of rows without a problem) that is published.
    pub min_score: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { min_score: 99.0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Refused,
}

/// The score of `rows` rows of which `bad` had a problem: 0–100, one decimal, never rounded up
/// to 100 while a row is bad.
pub fn score(rows: u64, bad: u64) -> f64 {
    if rows == 0 {
        return 0.0;
    }
    let s = ((rows - bad.min(rows)) as f64 * 1000.0 / rows as f64).floor() / 10.0;
    if bad > 0 { s.min(99.9) } else { s }
}
