//! Per-column statistics computed while a version is ingested (A16.2): values and nulls, the
//! number of distinct values (exact up to a bound, then "at least"), the smallest and largest,
//! the most frequent values (for columns of few distinct values) and, for numbers and dates, a
//! histogram. Memory per column is bounded whatever the file's size.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};

use crate::table::Value;

/// Distinct values counted exactly up to this many.
pub const DISTINCT_CAP: usize = 100_000;
/// Columns with more distinct values than this get no list of frequent values.
pub const TOP_CAP: usize = 1_000;
/// Frequent values kept in a profile.
pub const TOP_KEPT: usize = 10;
/// Bins of a histogram.
pub const BINS: usize = 20;
/// Values longer than this (in bytes) are not categories: they are not counted among the
/// frequent values, and a smallest or largest value is cut to it.
pub const MAX_VALUE_BYTES: usize = 200;
/// Values sampled per column for its histogram.
const SAMPLE: usize = 16_384;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    pub values: u64,
    pub nulls: u64,
    pub distinct: u64,
    /// `distinct` is a lower bound: there were more than [`DISTINCT_CAP`].
    pub distinct_at_least: bool,
    /// The smallest and largest value, as text (numbers, dates, times; text by code point).
    pub min: Option<String>,
    pub max: Option<String>,
    /// The most frequent values and their counts, most frequent first; empty for columns of
    /// many distinct values.
    pub top: Vec<(String, u64)>,
    pub histogram: Option<Histogram>,
}

/// Counts of values in equal bins from `low` to `high`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub low: f64,
    pub high: f64,
    pub counts: Vec<u64>,
    /// The counts are scaled from a uniform sample of the values, not exact.
    pub sampled: bool,
}

/// The profile of one column being built.
pub struct ColumnStats {
    name: String,
    values: u64,
    nulls: u64,
    distinct: HashSet<u64, Fast>,
    distinct_full: bool,
    min: Option<(f64, String)>,
    max: Option<(f64, String)>,
    text_min: Option<String>,
    text_max: Option<String>,
    top: Option<HashMap<String, u64, Fast>>,
    sample: Vec<f64>,
    /// A deterministic generator for the reservoir sample (a version profiles the same way
    /// every time it is ingested).
    rng: u64,
    hasher: Fast,
}

/// The profile's hashing: fast, and fixed, so a version is profiled the same way every time.
type Fast = foldhash::fast::FixedState;

impl ColumnStats {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            values: 0,
            nulls: 0,
            distinct: HashSet::default(),
            distinct_full: false,
            min: None,
            max: None,
            text_min: None,
            text_max: None,
            top: Some(HashMap::default()),
            sample: Vec::new(),
            rng: 0x9E37_79B9_7F4A_7C15,
            hasher: Fast::default(),
        }
    }

    pub fn null(&mut self) {
        self.nulls += 1;
    }

    /// Counts the value written as `cell`.
    pub fn add(&mut self, cell: &str, value: &Value<'_>) {
        self.values += 1;
        // While the column has few values, each is counted among the frequent ones, whose keys
        // are then also its distinct values and hold its smallest and largest: those are worked
        // out from the keys once, not compared for every row.
        let counted = match &mut self.top {
            Some(top) if cell.len() <= MAX_VALUE_BYTES => {
                if let Some(n) = top.get_mut(cell) {
                    *n += 1;
                    true
                } else if top.len() < TOP_CAP {
                    top.insert(cell.to_owned(), 1);
                    true
                } else {
                    self.fold_top();
                    self.top = None;
                    false
                }
            }
            _ => false,
        };
        if !counted {
            self.distinct_one(cell);
        }
        match value.number() {
            Some(n) => {
                if self.min.as_ref().is_none_or(|(m, _)| n < *m) {
                    self.min = Some((n, cell.to_owned()));
                }
                if self.max.as_ref().is_none_or(|(m, _)| n > *m) {
                    self.max = Some((n, cell.to_owned()));
                }
                self.sample_number(n);
            }
            None if !counted => self.text_bounds(cell),
            None => {}
        }
    }

    fn distinct_one(&mut self, cell: &str) {
        if !self.distinct_full {
            self.distinct.insert(self.hasher.hash_one(cell));
            if self.distinct.len() > DISTINCT_CAP {
                self.distinct_full = true;
            }
        }
    }

    fn text_bounds(&mut self, cell: &str) {
        if self.text_min.as_deref().is_none_or(|m| cell < m) {
            self.text_min = Some(cut(cell));
        }
        if self.text_max.as_deref().is_none_or(|m| cell > m) {
            self.text_max = Some(cut(cell));
        }
    }

    /// Counts the frequent values' keys among the distinct values and the smallest and largest.
    fn fold_top(&mut self) {
        let Some(top) = self.top.take() else { return };
        for value in top.keys() {
            self.distinct_one(value);
            self.text_bounds(value);
        }
        self.top = Some(top);
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: enough for choosing which values a sample keeps.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Reservoir sampling: every value so far has the same chance to be in the sample.
    fn sample_number(&mut self, n: f64) {
        let seen = self.values;
        if self.sample.len() < SAMPLE {
            self.sample.push(n);
        } else {
            // A place below `seen`, by the high half of a product rather than a division.
            let j = ((u128::from(self.next_random()) * u128::from(seen)) >> 64) as u64;
            if (j as usize) < SAMPLE {
                self.sample[j as usize] = n;
            }
        }
    }

    pub fn finish(mut self) -> ColumnProfile {
        self.fold_top();
        let mut top: Vec<(String, u64)> = self
            .top
            .map(|t| t.into_iter().collect())
            .unwrap_or_default();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(TOP_KEPT);
        let numeric = self.min.is_some();
        let histogram = match (&self.min, &self.max) {
            (Some((lo, _)), Some((hi, _))) => Some(histogram(*lo, *hi, &self.sample, self.values)),
            _ => None,
        };
        ColumnProfile {
            name: self.name,
            values: self.values,
            nulls: self.nulls,
            distinct: self.distinct.len() as u64,
            distinct_at_least: self.distinct_full,
            min: if numeric {
                self.min.map(|m| m.1)
            } else {
                self.text_min
            },
            max: if numeric {
                self.max.map(|m| m.1)
            } else {
                self.text_max
            },
            top,
            histogram,
        }
    }
}

/// `s` cut to at most [`MAX_VALUE_BYTES`], at a character's boundary.
fn cut(s: &str) -> String {
    let mut end = s.len().min(MAX_VALUE_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// Bins `sample` (of `total` values, between `low` and `high`) into [`BINS`] bins, scaled to
/// the total when the sample holds fewer than all values.
fn histogram(low: f64, high: f64, sample: &[f64], total: u64) -> Histogram {
    let bins = if high > low { BINS } else { 1 };
    let mut counts = vec![0u64; bins];
    let width = (high - low) / bins as f64;
    for &v in sample {
        let i = if width > 0.0 {
            (((v - low) / width) as usize).min(bins - 1)
        } else {
            0
        };
        counts[i] += 1;
    }
    let sampled = (sample.len() as u64) < total;
    if sampled && !sample.is_empty() {
        let scale = total as f64 / sample.len() as f64;
        for c in &mut counts {
            *c = (*c as f64 * scale).round() as u64;
        }
    }
    Histogram {
        low,
        high,
        counts,
        sampled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_column_is_counted_exactly() {
        let mut s = ColumnStats::new("n");
        for v in [3_i64, 1, 2, 3, 3] {
            let text = v.to_string();
            s.add(&text, &Value::Integer(v));
        }
        s.null();
        let p = s.finish();
        assert_eq!((p.values, p.nulls, p.distinct), (5, 1, 3));
        assert_eq!((p.min.as_deref(), p.max.as_deref()), (Some("1"), Some("3")));
        assert_eq!(p.top[0], ("3".to_owned(), 3));
        let h = p.histogram.unwrap();
        assert!(!h.sampled);
        assert_eq!(h.counts.iter().sum::<u64>(), 5);
        assert_eq!((h.counts[0], h.counts[BINS - 1]), (1, 3));
    }

    #[test]
    fn long_values_are_neither_categories_nor_kept_whole() {
        let mut s = ColumnStats::new("note");
        let long = "长".repeat(1000);
        s.add(&long, &Value::Text(&long));
        s.add("短", &Value::Text("短"));
        let p = s.finish();
        assert_eq!(p.top, [("短".to_owned(), 1)]);
        // 长 (U+957F) sorts after 短 (U+77ED); it is 3 bytes, so 66 of them fit in 200.
        assert_eq!(p.max.as_deref(), Some("长".repeat(66).as_str()));
    }

    #[test]
    fn a_column_of_many_values_stays_bounded() {
        let mut s = ColumnStats::new("id");
        for i in 0..(DISTINCT_CAP as i64 + 10) {
            let text = format!("id{i}");
            s.add(&text, &Value::Text(&text));
        }
        let p = s.finish();
        assert!(p.distinct_at_least);
        assert!(p.top.is_empty());
        assert_eq!(p.min.as_deref(), Some("id0"));
    }

    #[test]
    fn a_column_that_outgrows_its_frequent_values_counts_every_value_once() {
        let mut s = ColumnStats::new("code");
        let long = format!("z{}", "长".repeat(100));
        let mut all = std::collections::BTreeSet::new();
        for i in 0..3 * TOP_CAP {
            // The first values repeat; later ones are new, past the frequent values' bound.
            let text = format!("v{}", if i < TOP_CAP { i % 500 } else { i });
            s.add(&text, &Value::Text(&text));
            all.insert(text);
            if i % 700 == 0 {
                s.add(&long, &Value::Text(&long));
                all.insert(long.clone());
            }
        }
        let p = s.finish();
        assert_eq!(p.distinct, all.len() as u64);
        assert!(p.top.is_empty());
        assert_eq!(p.min.as_deref(), all.first().map(String::as_str));
        // The largest is the long value, cut to 200 bytes: z and 66 characters of 3 bytes.
        assert_eq!(all.last(), Some(&long));
        assert_eq!(p.max, Some(format!("z{}", "长".repeat(66))));
    }
}
