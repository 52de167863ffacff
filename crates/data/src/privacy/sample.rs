//! Sample data (A22.1): a stratified random sample of a version, reproducible from its seed,
//! and a fidelity report comparing it with the whole per column — the share of nulls, the
//! range, the share of distinct values, the total variation distance of categories and the
//! Kolmogorov–Smirnov statistic of numbers — against thresholds. The version it is drawn from
//! already had the entry's de-identification rules applied and passed the quality gate, so the
//! sample inherits both.
//!
//! Two passes over the Parquet file: the first counts the rows of each stratum, the second
//! selects in each stratum exactly its share by sequential sampling (Knuth's algorithm S), so
//! memory holds the strata's counts and the profiles, never the rows.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// How large a sample is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleSize {
    Rows(u64),
    /// A share of the rows, 0–100.
    Percent(f64),
}

/// The most rows a sample may have.
pub const MAX_SAMPLE_ROWS: u64 = 1_000_000;
/// The most strata a sample may be drawn over.
pub const MAX_STRATA: usize = 100_000;
/// Categories counted per column; past them a column is compared by its other measures.
pub const MAX_CATEGORIES: usize = 10_000;
/// The two-sample Kolmogorov–Smirnov coefficient c(α) for α = 0.001.
const KS_C_001: f64 = 1.949;
/// Points of the empirical distributions at which the Kolmogorov–Smirnov statistic is read.
pub const KS_POINTS: usize = 1_024;

/// What a sample may differ from the whole by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fidelity {
    /// The share of nulls, in points of share (0–1).
    pub max_null_gap: f64,
    /// The share of distinct values among a column's values, in points of share.
    pub max_distinct_gap: f64,
    /// Total variation distance of categories (0–1).
    pub max_tvd: f64,
    /// The Kolmogorov–Smirnov statistic of numbers (0–1).
    pub max_ks: f64,
    /// The share of the whole's range of numbers the sample's range covers, at least.
    pub min_range_cover: f64,
}

impl Default for Fidelity {
    fn default() -> Self {
        Fidelity {
            max_null_gap: 0.05,
            max_distinct_gap: 0.5,
            max_tvd: 0.1,
            max_ks: 0.1,
            min_range_cover: 0.8,
        }
    }
}

/// One column compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnFidelity {
    pub column: String,
    pub null_share_full: f64,
    pub null_share_sample: f64,
    /// Unknown past 200,000 distinct values.
    pub distinct_share_full: Option<f64>,
    pub distinct_share_sample: Option<f64>,
    /// For numbers, dates and times: the ranges, as numbers.
    pub range_full: Option<(f64, f64)>,
    pub range_sample: Option<(f64, f64)>,
    pub range_cover: Option<f64>,
    pub ks: Option<f64>,
    /// For columns of at most [`MAX_CATEGORIES`] values that are not nearly all distinct.
    pub tvd: Option<f64>,
    /// What the distribution measure (KS or TVD) may reach: the threshold, or the sampling
    /// error of the sample's size when that is larger.
    #[serde(default)]
    pub allowed: Option<f64>,
    /// The measures past their threshold, by name.
    pub failed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FidelityReport {
    pub rows_full: u64,
    pub rows_sample: u64,
    pub seed: u64,
    pub strata: Vec<String>,
    pub thresholds: Fidelity,
    pub columns: Vec<ColumnFidelity>,
    /// Whether every column is within every threshold.
    pub faithful: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("no such column: {0}")]
    UnknownColumn(String),
    #[error("more than {MAX_STRATA} strata")]
    TooManyStrata,
    #[error("cannot read or write the data: {0}")]
    Io(String),
}

fn io(e: impl std::fmt::Display) -> SampleError {
    SampleError::Io(e.to_string())
}

fn batches(
    file: &Path,
) -> Result<impl Iterator<Item = Result<RecordBatch, SampleError>>, SampleError> {
    let f = std::fs::File::open(file).map_err(io)?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(io)?
        .with_batch_size(crate::ingest::BATCH_ROWS)
        .build()
        .map_err(io)?;
    Ok(reader.map(|b| b.map_err(io)))
}

fn schema_of(file: &Path) -> Result<SchemaRef, SampleError> {
    let f = std::fs::File::open(file).map_err(io)?;
    Ok(ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(io)?
        .schema()
        .clone())
}

/// The stratum of row `r`: a hash of its values in the strata columns.
fn stratum(columns: &[ArrayRef], r: usize) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    for c in columns {
        c.is_null(r).hash(&mut h);
        match c.data_type() {
            DataType::Utf8 => c.as_string::<i32>().value(r).hash(&mut h),
            _ => crate::records::text(c.as_ref(), r).hash(&mut h),
        }
    }
    h.finish()
}

/// Draws the sample of `file` into `out` and compares it with the whole.
pub fn build(
    file: &Path,
    size: SampleSize,
    strata: &[String],
    seed: u64,
    thresholds: Fidelity,
    out: impl std::io::Write + Send,
) -> Result<FidelityReport, SampleError> {
    let schema = schema_of(file)?;
    let strata_idx: Vec<usize> = strata
        .iter()
        .map(|s| {
            schema
                .index_of(s)
                .map_err(|_| SampleError::UnknownColumn(s.clone()))
        })
        .collect::<Result<_, _>>()?;

    // Pass 1: the rows of each stratum.
    let mut counts: HashMap<u64, u64> = HashMap::new();
    let mut total = 0u64;
    for batch in batches(file)? {
        let batch = batch?;
        let cols: Vec<ArrayRef> = strata_idx
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        for r in 0..batch.num_rows() {
            *counts.entry(stratum(&cols, r)).or_default() += 1;
            if counts.len() > MAX_STRATA {
                return Err(SampleError::TooManyStrata);
            }
        }
        total += batch.num_rows() as u64;
    }
    let wanted = match size {
        SampleSize::Rows(n) => n.min(total),
        SampleSize::Percent(p) => ((total as f64) * p.clamp(0.0, 100.0) / 100.0).round() as u64,
    }
    .min(MAX_SAMPLE_ROWS);
    let quotas = allocate(&counts, total, wanted);

    // Pass 2: select, write, and profile the whole and the sample alike.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut left: HashMap<u64, (u64, u64)> = counts
        .iter()
        .map(|(s, n)| (*s, (quotas.get(s).copied().unwrap_or(0), *n)))
        .collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).map_err(io)?))
        .build();
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(io)?;
    let mut full: Vec<Profile> = schema
        .fields()
        .iter()
        .map(|f| Profile::new(f.data_type()))
        .collect();
    let mut sample = full.clone();
    let mut taken = 0u64;
    for batch in batches(file)? {
        let batch = batch?;
        let cols: Vec<ArrayRef> = strata_idx
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        let keep: BooleanArray = (0..batch.num_rows())
            .map(|r| {
                let (need, rest) = left.get_mut(&stratum(&cols, r)).expect("counted");
                let pick = *need > 0 && rng.random_range(0..*rest) < *need;
                if pick {
                    *need -= 1;
                }
                *rest -= 1;
                Some(pick)
            })
            .collect();
        for (c, p) in batch.columns().iter().zip(full.iter_mut()) {
            p.add(c);
        }
        let chosen = arrow::compute::filter_record_batch(&batch, &keep).map_err(io)?;
        for (c, p) in chosen.columns().iter().zip(sample.iter_mut()) {
            p.add(c);
        }
        taken += chosen.num_rows() as u64;
        if chosen.num_rows() > 0 {
            writer.write(&chosen).map_err(io)?;
        }
    }
    writer.close().map_err(io)?;

    let columns: Vec<ColumnFidelity> = schema
        .fields()
        .iter()
        .zip(full.iter().zip(&sample))
        .map(|(f, (a, b))| compare(f.name(), a, b, &thresholds))
        .collect();
    let faithful = taken > 0 && columns.iter().all(|c| c.failed.is_empty());
    Ok(FidelityReport {
        rows_full: total,
        rows_sample: taken,
        seed,
        strata: strata.to_vec(),
        thresholds,
        columns,
        faithful,
    })
}

/// Each stratum's share of `wanted` rows, proportional to its size (largest remainders get
/// the rows rounding leaves over), ties broken by the stratum's hash so the same data and
/// seed always give the same sample.
fn allocate(counts: &HashMap<u64, u64>, total: u64, wanted: u64) -> HashMap<u64, u64> {
    if total == 0 {
        return HashMap::new();
    }
    let mut shares: Vec<(u64, u64, f64)> = counts
        .iter()
        .map(|(s, n)| {
            let exact = wanted as f64 * *n as f64 / total as f64;
            (*s, exact.floor() as u64, exact - exact.floor())
        })
        .collect();
    let given: u64 = shares.iter().map(|s| s.1).sum();
    shares.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    let mut extra = wanted.saturating_sub(given);
    for s in &mut shares {
        if extra == 0 {
            break;
        }
        if s.1 < counts[&s.0] {
            s.1 += 1;
            extra -= 1;
        }
    }
    shares.into_iter().map(|(s, n, _)| (s, n)).collect()
}

/// What is measured of a column.
#[derive(Debug, Clone)]
struct Profile {
    numeric: bool,
    values: u64,
    nulls: u64,
    categories: HashMap<String, u64>,
    /// More values than [`MAX_CATEGORIES`]: `categories` stopped growing.
    overflow: bool,
    distinct: std::collections::HashSet<u64>,
    /// More distinct values than [`DISTINCT_CAP`]: the share is not known exactly.
    distinct_overflow: bool,
    /// A uniform reservoir of the numbers, for their distribution.
    numbers: Vec<f64>,
    range: Option<(f64, f64)>,
    rng: rand::rngs::StdRng,
}

/// Distinct values counted exactly up to this many.
const DISTINCT_CAP: usize = 200_000;
/// Numbers kept per column for the distribution.
const NUMBERS_KEPT: usize = 200_000;

fn hash_of(x: impl Hash) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    x.hash(&mut h);
    h.finish()
}

impl Profile {
    fn new(t: &DataType) -> Self {
        Profile {
            numeric: matches!(
                t,
                DataType::Int64 | DataType::Float64 | DataType::Date32 | DataType::Timestamp(_, _)
            ),
            values: 0,
            nulls: 0,
            categories: HashMap::new(),
            overflow: false,
            distinct: Default::default(),
            distinct_overflow: false,
            numbers: Vec::new(),
            range: None,
            rng: rand::rngs::StdRng::seed_from_u64(0x5eed),
        }
    }

    fn distinct(&mut self, h: u64) {
        if !self.distinct_overflow {
            self.distinct.insert(h);
            self.distinct_overflow = self.distinct.len() >= DISTINCT_CAP;
        }
    }

    fn category(&mut self, text: &str) {
        if self.overflow {
            return;
        }
        match self.categories.get_mut(text) {
            Some(n) => *n += 1,
            None => {
                self.categories.insert(text.to_owned(), 1);
                if self.categories.len() > MAX_CATEGORIES {
                    self.overflow = true;
                    self.categories.clear();
                }
            }
        }
    }

    fn number(&mut self, x: f64) {
        self.values += 1;
        self.distinct(x.to_bits());
        self.range = Some(match self.range {
            Some((lo, hi)) => (lo.min(x), hi.max(x)),
            None => (x, x),
        });
        if self.numbers.len() < NUMBERS_KEPT {
            self.numbers.push(x);
        } else {
            let at = self.rng.random_range(0..self.values);
            if (at as usize) < NUMBERS_KEPT {
                self.numbers[at as usize] = x;
            }
        }
    }

    fn add(&mut self, c: &ArrayRef) {
        self.nulls += c.null_count() as u64;
        let numbers = |a: ArrayRef| -> Vec<Option<f64>> {
            match a.data_type() {
                DataType::Int64 => a
                    .as_primitive::<arrow::datatypes::Int64Type>()
                    .iter()
                    .map(|v| v.map(|x| x as f64))
                    .collect(),
                DataType::Float64 => a
                    .as_primitive::<arrow::datatypes::Float64Type>()
                    .iter()
                    .collect(),
                DataType::Date32 => a
                    .as_primitive::<arrow::datatypes::Date32Type>()
                    .iter()
                    .map(|v| v.map(f64::from))
                    .collect(),
                _ => arrow::compute::cast(&a, &DataType::Int64)
                    .map(|a| {
                        a.as_primitive::<arrow::datatypes::Int64Type>()
                            .iter()
                            .map(|v| v.map(|x| x as f64))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        };
        match c.data_type() {
            _ if self.numeric => {
                for x in numbers(c.clone()).into_iter().flatten() {
                    self.number(x);
                }
            }
            DataType::Utf8 => {
                for v in c.as_string::<i32>().iter().flatten() {
                    self.values += 1;
                    self.distinct(hash_of(v));
                    self.category(v);
                }
            }
            _ => {
                for r in (0..c.len()).filter(|r| !c.is_null(*r)) {
                    let text = crate::records::text(c.as_ref(), r);
                    self.values += 1;
                    self.distinct(hash_of(&text));
                    self.category(&text);
                }
            }
        }
    }

    fn null_share(&self) -> f64 {
        let n = self.values + self.nulls;
        if n == 0 {
            0.0
        } else {
            self.nulls as f64 / n as f64
        }
    }

    /// Distinct values among the values; unknown past [`DISTINCT_CAP`].
    fn distinct_share(&self) -> Option<f64> {
        (self.values > 0 && !self.distinct_overflow)
            .then(|| self.distinct.len() as f64 / self.values as f64)
    }
}

/// The Kolmogorov–Smirnov statistic of two sets of numbers, read at [`KS_POINTS`] quantiles of
/// their pooled range.
fn ks(a: &mut [f64], b: &mut [f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let cdf = |v: &[f64], x: f64| v.partition_point(|y| *y <= x) as f64 / v.len() as f64;
    // Every value of the smaller set is a point where the distance may peak; so are points
    // spread over the larger one.
    let mut points: Vec<f64> = b.to_vec();
    let step = (a.len() / KS_POINTS).max(1);
    points.extend(a.iter().step_by(step));
    Some(
        points
            .iter()
            .map(|&x| (cdf(a, x) - cdf(b, x)).abs())
            .fold(0.0, f64::max),
    )
}

fn compare(name: &str, full: &Profile, sample: &Profile, t: &Fidelity) -> ColumnFidelity {
    let mut failed = Vec::new();
    let null_full = full.null_share();
    let null_sample = sample.null_share();
    if (null_full - null_sample).abs() > t.max_null_gap {
        failed.push("null_share".to_owned());
    }
    let distinct_full = full.distinct_share();
    let distinct_sample = sample.distinct_share();
    if let (Some(a), Some(b)) = (distinct_full, distinct_sample)
        && (a - b).abs() > t.max_distinct_gap
    {
        failed.push("distinct_share".to_owned());
    }
    let (mut range_cover, mut ks_stat, mut tvd, mut allowed) = (None, None, None, None);
    if full.numeric {
        if let (Some((lo, hi)), Some((slo, shi))) = (full.range, sample.range) {
            let cover = if hi > lo {
                (shi - slo) / (hi - lo)
            } else {
                1.0
            };
            range_cover = Some(cover);
            if cover < t.min_range_cover {
                failed.push("range".to_owned());
            }
        }
        ks_stat = ks(&mut full.numbers.clone(), &mut sample.numbers.clone());
        // A random sample of n rows differs from the whole by sampling error alone: a
        // statistic within what chance gives one time in a thousand is not held against it.
        let (n, m) = (sample.values as f64, full.values as f64);
        let chance = KS_C_001 * ((n + m) / (n * m)).sqrt();
        if ks_stat.is_some() {
            allowed = Some(t.max_ks.max(chance));
        }
        if ks_stat.is_some_and(|k| k > t.max_ks && k > chance) {
            failed.push("ks".to_owned());
        }
    } else if !full.overflow
        && full.values > 0
        && sample.values > 0
        && full.categories.len() < full.values as usize / 2
    {
        let mut d = 0.0;
        for (v, n) in &full.categories {
            let p = *n as f64 / full.values as f64;
            let q = sample.categories.get(v).copied().unwrap_or(0) as f64 / sample.values as f64;
            d += (p - q).abs();
        }
        for (v, n) in &sample.categories {
            if !full.categories.contains_key(v) {
                d += *n as f64 / sample.values as f64;
            }
        }
        let v = d / 2.0;
        tvd = Some(v);
        // Sampling error: the distance a random sample of n rows over k categories is
        // expected to keep, about sqrt(k / n) / 2, taken three times over.
        let k = full.categories.len() as f64;
        let chance = 1.5 * (k / sample.values as f64).sqrt();
        allowed = Some(t.max_tvd.max(chance));
        if v > t.max_tvd && v > chance {
            failed.push("tvd".to_owned());
        }
    }
    ColumnFidelity {
        column: name.to_owned(),
        null_share_full: null_full,
        null_share_sample: null_sample,
        distinct_share_full: distinct_full,
        distinct_share_sample: distinct_sample,
        range_full: full.range,
        range_sample: sample.range,
        range_cover,
        ks: ks_stat,
        tvd,
        allowed,
        failed,
    }
}
