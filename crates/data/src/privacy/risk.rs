//! Re-identification risk of a version about to be opened (GB/T 37964-2019, the k-anonymity
//! model): the rows are grouped by the items the provider marked as quasi-identifiers — what,
//! together, could single someone out (an age, a district, a date) — and the smallest group is
//! k. With a sensitive item marked, l is the fewest distinct sensitive values in a group
//! (l-diversity). The groups are counted by DataFusion over the version's Parquet file, so
//! memory stays bounded however many there are. Where k is below the bar, each quasi-identifier
//! is tried coarsened (a year for a date, bands of ten for a number, nothing for text) and the
//! k each would give is reported, so the provider sees which generalisation helps.

use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use domain::privacy::{DateUnit, DeidRule};
use serde::{Deserialize, Serialize};

use crate::sql::{Limits, Source, SqlError};

/// The smallest groups listed.
pub const SMALLEST_GROUPS: usize = 10;

/// What the assessment found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskReport {
    pub quasi_identifiers: Vec<String>,
    pub sensitive: Option<String>,
    /// The bar: the smallest group may not be smaller.
    pub threshold: u64,
    /// The size of the smallest group (0 for no rows).
    pub k: u64,
    /// The fewest distinct sensitive values in a group, with a sensitive item marked.
    pub l: Option<u64>,
    pub groups: u64,
    /// Rows in groups smaller than the bar.
    pub rows_below: u64,
    /// The smallest groups: their quasi-identifiers' values, size and diversity.
    pub smallest: Vec<Group>,
    /// Coarsenings that would raise k, best first.
    pub suggestions: Vec<Suggestion>,
}

impl RiskReport {
    pub fn passes(&self) -> bool {
        self.k >= self.threshold || self.groups == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub values: Vec<Option<String>>,
    pub size: u64,
    pub distinct_sensitive: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub item: String,
    /// The rule that coarsens the item this way.
    pub rule: DeidRule,
    /// k with it.
    pub k: u64,
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How to coarsen a column of `t` in SQL, and the rule that does it (text is left out).
fn coarser(column: &str, t: &DataType) -> (String, DeidRule) {
    let c = quoted(column);
    match t {
        DataType::Date32 | DataType::Timestamp(_, _) => (
            format!("date_part('year', {c})"),
            DeidRule::DateTo {
                unit: DateUnit::Year,
            },
        ),
        DataType::Int64 | DataType::Float64 => {
            (format!("floor({c} / 10)"), DeidRule::Band { width: 10 })
        }
        _ => ("NULL".to_owned(), DeidRule::Suppress),
    }
}

/// The groups' statistics for the grouping expressions `keys`.
async fn measure(
    file: &Path,
    keys: &[String],
    sensitive: Option<&str>,
    threshold: u64,
    limits: Limits,
) -> Result<(u64, Option<u64>, u64, u64), SqlError> {
    let diversity = match sensitive {
        Some(s) => format!(", COUNT(DISTINCT {}) AS l", quoted(s)),
        None => String::new(),
    };
    let min_l = if sensitive.is_some() {
        "MIN(l)"
    } else {
        "NULL"
    };
    let sql = format!(
        "SELECT CAST(COALESCE(MIN(n), 0) AS BIGINT), CAST({min_l} AS BIGINT), COUNT(*), \
         CAST(COALESCE(SUM(CASE WHEN n < {threshold} THEN n ELSE 0 END), 0) AS BIGINT) \
         FROM (SELECT COUNT(*) AS n{diversity} FROM t GROUP BY {}) g",
        keys.join(", ")
    );
    let answer = crate::sql::run(&sql, &[Source::file("t", file.to_owned())], limits).await?;
    let batch = answer
        .batches
        .first()
        .ok_or_else(|| SqlError::Failed("no answer".into()))?;
    let int = |i: usize| -> Option<u64> {
        let c = batch.column(i).as_primitive_opt::<Int64Type>()?;
        (!c.is_null(0)).then(|| c.value(0).max(0) as u64)
    };
    Ok((
        int(0).unwrap_or(0),
        int(1),
        int(2).unwrap_or(0),
        int(3).unwrap_or(0),
    ))
}

/// Assesses the version in `file` for `quasi` identifiers and the `sensitive` item.
pub async fn assess(
    file: &Path,
    quasi: &[String],
    sensitive: Option<&str>,
    threshold: u64,
    limits: Limits,
) -> Result<RiskReport, SqlError> {
    let schema = {
        let f = std::fs::File::open(file).map_err(|e| SqlError::Failed(e.to_string()))?;
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| SqlError::Failed(e.to_string()))?
            .schema()
            .clone()
    };
    let present = |name: &str| schema.field_with_name(name).is_ok();
    let quasi: Vec<String> = quasi.iter().filter(|q| present(q)).cloned().collect();
    let sensitive = sensitive.filter(|s| present(s));
    let keys: Vec<String> = quasi.iter().map(|q| quoted(q)).collect();
    let mut report = RiskReport {
        quasi_identifiers: quasi.clone(),
        sensitive: sensitive.map(str::to_owned),
        threshold,
        k: 0,
        l: None,
        groups: 0,
        rows_below: 0,
        smallest: Vec::new(),
        suggestions: Vec::new(),
    };
    if keys.is_empty() {
        return Ok(report);
    }
    let (k, l, groups, rows_below) = measure(file, &keys, sensitive, threshold, limits).await?;
    report.k = k;
    report.l = l;
    report.groups = groups;
    report.rows_below = rows_below;

    // The smallest groups, their values as text.
    let texts: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("CAST({k} AS VARCHAR) AS q{i}"))
        .collect();
    let order: Vec<String> = (0..keys.len()).map(|i| format!("q{i}")).collect();
    let diversity = match sensitive {
        Some(s) => format!(", COUNT(DISTINCT {})", quoted(s)),
        None => String::new(),
    };
    let sql = format!(
        "SELECT {}, COUNT(*) AS n{diversity} FROM t GROUP BY {} ORDER BY n ASC, {} LIMIT {SMALLEST_GROUPS}",
        texts.join(", "),
        keys.join(", "),
        order.join(", "),
    );
    let answer = crate::sql::run(&sql, &[Source::file("t", file.to_owned())], limits).await?;
    for batch in &answer.batches {
        for r in 0..batch.num_rows() {
            let values = (0..keys.len())
                .map(|i| {
                    let c = batch.column(i).as_string::<i32>();
                    (!c.is_null(r)).then(|| c.value(r).to_owned())
                })
                .collect();
            let count = |i: usize| {
                batch
                    .column(i)
                    .as_primitive_opt::<Int64Type>()
                    .map_or(0, |c| c.value(r).max(0) as u64)
            };
            report.smallest.push(Group {
                values,
                size: count(keys.len()),
                distinct_sensitive: sensitive.map(|_| count(keys.len() + 1)),
            });
        }
    }

    if k < threshold {
        for (i, q) in quasi.iter().enumerate() {
            let t = schema
                .field_with_name(q)
                .map(|f| f.data_type().clone())
                .unwrap_or(DataType::Utf8);
            let (expr, rule) = coarser(q, &t);
            let mut tried = keys.clone();
            tried[i] = expr;
            let (k, ..) = measure(file, &tried, None, threshold, limits).await?;
            if k > report.k {
                report.suggestions.push(Suggestion {
                    item: q.clone(),
                    rule,
                    k,
                });
            }
        }
        report.suggestions.sort_by_key(|s| std::cmp::Reverse(s.k));
    }
    Ok(report)
}
