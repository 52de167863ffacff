//! Running a records query over a version held in memory: filters as Arrow kernels over whole
//! columns, words searched in every text column, a stable order (the row's place in the file,
//! or one column with the row's place breaking ties) and pages that continue from a cursor.
//! Versions are immutable, so a cursor names the version, the query and the last row given:
//! the next page starts right after it whatever happened meanwhile, and a cursor from another
//! version or query is refused.

use std::sync::{Arc, OnceLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch,
    Scalar as ArrowScalar, StringArray, TimestampMillisecondArray, UInt32Array, UInt64Array,
};
use arrow::compute::kernels::{boolean, cmp, comparison};
use arrow::compute::{SortColumn, SortOptions};
use arrow::datatypes::{
    DataType, Date32Type, Float64Type, Int64Type, SchemaRef, TimestampMillisecondType,
};
use sha2::{Digest, Sha256};

use crate::index::ColumnIndex;
use crate::query::{Filter, Op, Query, QueryError, Scalar};

/// A version's rows, in memory.
pub struct Table {
    pub batch: RecordBatch,
    /// Distinguishes the version in cursors.
    pub version: String,
    /// Per column, its equality index once a filter has asked for one (none for a column that
    /// cannot be sorted).
    indexes: Vec<OnceLock<Option<ColumnIndex>>>,
}

impl Table {
    pub fn new(batch: RecordBatch, version: &str) -> Table {
        let indexes = (0..batch.num_columns()).map(|_| OnceLock::new()).collect();
        Table {
            batch,
            version: version.to_owned(),
            indexes,
        }
    }

    /// Reads the Parquet file at `path` whole.
    pub fn load(path: &std::path::Path, version: &str) -> Result<Table, String> {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| e.to_string())?
            .with_batch_size(1 << 16);
        let schema = builder.schema().clone();
        let batches = builder
            .build()
            .map_err(|e| e.to_string())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let batch = arrow::compute::concat_batches(&schema, &batches).map_err(|e| e.to_string())?;
        Ok(Table::new(batch, version))
    }

    pub fn schema(&self) -> SchemaRef {
        self.batch.schema()
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Bytes the rows take in memory, with an index on every column (for the cache's bound:
    /// the indexes are built later, on demand).
    pub fn memory(&self) -> usize {
        self.batch.get_array_memory_size()
            + ColumnIndex::memory(self.rows()) * self.batch.num_columns()
    }

    fn index(&self, column: usize) -> Option<&ColumnIndex> {
        self.indexes[column]
            .get_or_init(|| ColumnIndex::build(self.batch.column(column)).ok().flatten())
            .as_ref()
    }

    /// Whether `column`'s index is built already (an index is built at its first use).
    fn has_index(&self, column: usize) -> bool {
        self.indexes[column].get().is_some_and(Option::is_some)
    }
}

/// One page of a query's answer.
pub struct Page {
    /// The rows, with the query's columns.
    pub rows: RecordBatch,
    /// Each row's place in the version (from 0).
    pub ids: Vec<u64>,
    /// Every row that matches, counted.
    pub total: u64,
    /// Continues after this page; none on the last.
    pub next_cursor: Option<String>,
}

fn datum(value: &Scalar) -> ArrowScalar<ArrayRef> {
    ArrowScalar::new(one(value))
}

/// `value` as an array of one element.
fn one(value: &Scalar) -> ArrayRef {
    match value {
        Scalar::Text(s) => Arc::new(StringArray::from(vec![s.as_str()])),
        Scalar::Integer(i) => Arc::new(Int64Array::from(vec![*i])),
        Scalar::Decimal(f) => Arc::new(Float64Array::from(vec![*f])),
        Scalar::Boolean(b) => Arc::new(BooleanArray::from(vec![*b])),
        Scalar::Date(d) => Arc::new(Date32Array::from(vec![*d])),
        Scalar::DateTime(t) => Arc::new(TimestampMillisecondArray::from(vec![*t])),
    }
}

/// A `like` pattern matching `word` anywhere, its wildcards taken literally.
fn anywhere(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn kernel_error(e: arrow::error::ArrowError) -> QueryError {
    QueryError {
        code: "query_failed",
        param: String::new(),
        detail: Some(e.to_string()),
    }
}

/// The rows of `batch` that `filters` and `words` keep; none when there is nothing to check.
fn matching(
    batch: &RecordBatch,
    filters: &[Filter],
    words: &[String],
) -> Result<Option<BooleanArray>, QueryError> {
    let mut mask: Option<BooleanArray> = None;
    let mut and = |m: BooleanArray| -> Result<(), QueryError> {
        mask = Some(match mask.take() {
            None => m,
            Some(prev) => boolean::and(&prev, &m).map_err(kernel_error)?,
        });
        Ok(())
    };
    for f in filters {
        let col = batch.column(f.column);
        let m = match f.op {
            Op::IsNull => {
                let want_null = matches!(f.values.first(), Some(Scalar::Boolean(true)));
                if want_null {
                    arrow::compute::is_null(col).map_err(kernel_error)?
                } else {
                    arrow::compute::is_not_null(col).map_err(kernel_error)?
                }
            }
            Op::In => {
                let mut any: Option<BooleanArray> = None;
                for v in &f.values {
                    let m = cmp::eq(col, &datum(v)).map_err(kernel_error)?;
                    any = Some(match any {
                        None => m,
                        Some(prev) => boolean::or(&prev, &m).map_err(kernel_error)?,
                    });
                }
                any.unwrap_or_else(|| BooleanArray::from(vec![false; col.len()]))
            }
            op => {
                let v = datum(&f.values[0]);
                match op {
                    Op::Eq => cmp::eq(col, &v),
                    Op::Ne => cmp::neq(col, &v),
                    Op::Gt => cmp::gt(col, &v),
                    Op::Gte => cmp::gt_eq(col, &v),
                    Op::Lt => cmp::lt(col, &v),
                    Op::Lte => cmp::lt_eq(col, &v),
                    Op::Contains => comparison::contains(col, &v),
                    Op::StartsWith => comparison::starts_with(col, &v),
                    Op::In | Op::IsNull => unreachable!("handled above"),
                }
                .map_err(kernel_error)?
            }
        };
        and(m)?;
    }
    let text: Vec<usize> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.data_type() == &DataType::Utf8)
        .map(|(i, _)| i)
        .collect();
    for word in words {
        let pattern = ArrowScalar::new(StringArray::from(vec![anywhere(word)]));
        let mut any: Option<BooleanArray> = None;
        for &c in &text {
            let m = comparison::ilike(batch.column(c), &pattern).map_err(kernel_error)?;
            any = Some(match any {
                None => m,
                Some(prev) => boolean::or_kleene(&prev, &m).map_err(kernel_error)?,
            });
        }
        and(any.unwrap_or_else(|| BooleanArray::from(vec![false; batch.num_rows()])))?;
    }
    Ok(mask)
}

/// The places of the rows `mask` keeps, ascending.
fn kept(mask: &BooleanArray) -> impl Iterator<Item = usize> + '_ {
    (0..mask.len()).filter(|&i| mask.is_valid(i) && mask.value(i))
}

/// The rows a query keeps, ascending in file order.
enum Selection<'t> {
    /// Every row.
    All,
    /// One run of a column's equality index, as it is.
    Run(&'t [u32]),
    Places(Vec<u64>),
}

/// The rows `q`'s filters and words keep. An equality (or `in`) filter narrows through its
/// column's index first, and the other conditions are checked on those rows only.
fn selected<'t>(table: &'t Table, q: &Query) -> Result<Selection<'t>, QueryError> {
    let narrowing = q
        .filters
        .iter()
        .position(|f| matches!(f.op, Op::Eq | Op::In));
    let Some((i, index)) =
        narrowing.and_then(|i| table.index(q.filters[i].column).map(|index| (i, index)))
    else {
        let mask = matching(&table.batch, &q.filters, &q.words)?;
        return Ok(mask.map_or(Selection::All, |m| {
            Selection::Places(kept(&m).map(|p| p as u64).collect())
        }));
    };
    let f = &q.filters[i];
    let column = table.batch.column(f.column).as_ref();
    if let [value] = f.values.as_slice()
        && q.filters.len() == 1
        && q.words.is_empty()
    {
        let run = index
            .equal(column, one(value).as_ref())
            .map_err(kernel_error)?;
        return Ok(Selection::Run(run));
    }
    let mut hits: Vec<u32> = Vec::new();
    for v in &f.values {
        hits.extend_from_slice(index.equal(column, one(v).as_ref()).map_err(kernel_error)?);
    }
    if f.values.len() > 1 {
        hits.sort_unstable();
        hits.dedup();
    }
    let rest: Vec<Filter> = q
        .filters
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(_, f)| f.clone())
        .collect();
    if rest.is_empty() && q.words.is_empty() {
        return Ok(Selection::Places(hits.into_iter().map(u64::from).collect()));
    }
    let places = UInt32Array::from(hits);
    let rows = arrow::compute::take_record_batch(&table.batch, &places).map_err(kernel_error)?;
    let Some(mask) = matching(&rows, &rest, &q.words)? else {
        return Ok(Selection::Places(
            places.values().iter().map(|&p| u64::from(p)).collect(),
        ));
    };
    Ok(Selection::Places(
        kept(&mask).map(|k| u64::from(places.value(k))).collect(),
    ))
}

/// What a cursor's check covers: the version, and the query without its paging.
fn signature(table: &Table, q: &Query) -> String {
    let mut unpaged = q.clone();
    unpaged.cursor = None;
    unpaged.limit = 0;
    unpaged.offset = 0;
    unpaged.exact_total = false;
    unpaged.format = crate::query::Format::Json;
    let text = serde_json::to_string(&unpaged).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(table.version.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    hex(&h.finalize()[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn cursor_for(table: &Table, q: &Query, row: u64) -> String {
    let sig = signature(table, q);
    let mut h = Sha256::new();
    h.update(sig.as_bytes());
    h.update(row.to_le_bytes());
    format!("{row}.{}", hex(&h.finalize()[..6]))
}

/// The row a cursor continues after, if the cursor is one this query gave.
fn cursor_row(table: &Table, q: &Query, cursor: &str) -> Result<u64, QueryError> {
    let invalid = || QueryError {
        code: "invalid_cursor",
        param: "cursor".into(),
        detail: None,
    };
    let (row, _) = cursor.split_once('.').ok_or_else(invalid)?;
    let row: u64 = row.parse().map_err(|_| invalid())?;
    if cursor_for(table, q, row) != cursor {
        return Err(invalid());
    }
    Ok(row)
}

/// `rows` (places, ascending) in `q`'s order.
fn ordered(table: &Table, q: &Query, order: Vec<u64>) -> Result<Vec<u64>, QueryError> {
    let Some(sort) = &q.sort else {
        return Ok(order);
    };
    let ids = UInt64Array::from(order.clone());
    let values =
        arrow::compute::take(table.batch.column(sort.column), &ids, None).map_err(kernel_error)?;
    let options = SortOptions {
        descending: sort.descending,
        nulls_first: false,
    };
    let indices = arrow::compute::lexsort_to_indices(
        &[
            SortColumn {
                values,
                options: Some(options),
            },
            SortColumn {
                values: Arc::new(ids) as ArrayRef,
                options: Some(SortOptions::default()),
            },
        ],
        None,
    )
    .map_err(kernel_error)?;
    Ok(indices
        .values()
        .iter()
        .map(|&i| order[i as usize])
        .collect())
}

/// Pages of at most this many rows may be light (see [`is_light`]).
const LIGHT_ROWS: usize = 1_000;

/// Whether `q` is answered without looking at more rows than its page: the rows in the file's
/// order, or one value's rows through its column's index (once built), unsorted and without
/// words, a page of up to a thousand rows. Such a query costs less than handing it to another
/// thread.
pub fn is_light(table: &Table, q: &Query) -> bool {
    q.sort.is_none()
        && q.words.is_empty()
        && q.limit <= LIGHT_ROWS
        && match q.filters.as_slice() {
            [] => true,
            [f] => f.op == Op::Eq && f.values.len() == 1 && table.has_index(f.column),
            _ => false,
        }
}

/// Runs `q` over `table`.
pub fn run(table: &Table, q: &Query) -> Result<Page, QueryError> {
    let selection = selected(table, q)?;
    let n = table.rows();
    let after = q
        .cursor
        .as_deref()
        .map(|c| cursor_row(table, q, c))
        .transpose()?;
    // (the page's rows, every match counted, whether more follow)
    let (page, total, more) = match (selection, &q.sort) {
        (Selection::All, None) => {
            // Every row in the file's order: the page is a range, nothing to collect or sort.
            let start = match after {
                Some(r) => (r as usize).saturating_add(1).min(n),
                None => q.offset.min(n),
            };
            let end = (start + q.limit).min(n);
            (
                (start as u64..end as u64).collect::<Vec<_>>(),
                n as u64,
                end < n,
            )
        }
        (Selection::Run(run), None) => {
            // One value's rows, ascending: the page is a slice of the index's run.
            let start = match after {
                Some(r) => run.partition_point(|&p| u64::from(p) <= r),
                None => q.offset.min(run.len()),
            };
            let end = (start + q.limit).min(run.len());
            (
                run[start..end].iter().map(|&p| u64::from(p)).collect(),
                run.len() as u64,
                end < run.len(),
            )
        }
        (selection, _) => {
            let rows = match selection {
                Selection::All => (0..n as u64).collect(),
                Selection::Run(run) => run.iter().map(|&p| u64::from(p)).collect(),
                Selection::Places(places) => places,
            };
            let order = ordered(table, q, rows)?;
            let start = match after {
                // Unsorted, the places ascend: the next page starts after the last one given.
                Some(r) if q.sort.is_none() => order.partition_point(|&p| p <= r),
                Some(r) => order
                    .iter()
                    .position(|&p| p == r)
                    .map_or(order.len(), |p| p + 1),
                None => q.offset.min(order.len()),
            };
            let end = (start + q.limit).min(order.len());
            (
                order[start..end].to_vec(),
                order.len() as u64,
                end < order.len(),
            )
        }
    };
    let next_cursor = page
        .last()
        .filter(|_| more)
        .map(|&last| cursor_for(table, q, last));
    let ids = UInt64Array::from(page.clone());
    let columns: Vec<usize> = if q.fields.is_empty() {
        (0..table.batch.num_columns()).collect()
    } else {
        q.fields.clone()
    };
    let projected = table.batch.project(&columns).map_err(kernel_error)?;
    let rows = arrow::compute::take_record_batch(&projected, &ids).map_err(kernel_error)?;
    Ok(Page {
        rows,
        ids: page,
        total,
        next_cursor,
    })
}

/// Appends cell `row` of `array` to `out` as JSON.
pub fn write_json(array: &dyn Array, row: usize, out: &mut String) {
    use std::fmt::Write;
    if array.is_null(row) {
        out.push_str("null");
        return;
    }
    match array.data_type() {
        DataType::Utf8 => push_json_str(array.as_string::<i32>().value(row), out),
        DataType::Int64 => {
            let _ = write!(out, "{}", array.as_primitive::<Int64Type>().value(row));
        }
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>().value(row);
            out.push_str(&serde_json::to_string(&v).unwrap_or_else(|_| "null".into()));
        }
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::Date32 => match array.as_primitive::<Date32Type>().value_as_date(row) {
            Some(d) => {
                out.push('"');
                push_date(d, out);
                out.push('"');
            }
            None => out.push_str("\"\""),
        },
        _ => {
            out.push('"');
            out.push_str(&text(array, row));
            out.push('"');
        }
    }
}

/// Appends `s` as a JSON string. Most text needs no escaping and is copied as it is.
pub fn push_json_str(s: &str, out: &mut String) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// Appends `d` as `YYYY-MM-DD` (chrono's `%Y-%m-%d`, without its format parser, for the
/// years of four digits).
fn push_date(d: chrono::NaiveDate, out: &mut String) {
    use chrono::Datelike;
    use std::fmt::Write;
    if (0..=9999).contains(&d.year()) {
        let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
    } else {
        let _ = write!(out, "{}", d.format("%Y-%m-%d"));
    }
}

/// Cell `row` of `array` as text, as written in files: dates as `YYYY-MM-DD`, times as
/// `YYYY-MM-DDTHH:MM:SS`; empty for null.
pub fn text(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return String::new();
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .value_as_date(row)
            .map(|d| {
                let mut out = String::with_capacity(10);
                push_date(d, &mut out);
                out
            })
            .unwrap_or_default(),
        DataType::Timestamp(_, _) => array
            .as_primitive::<TimestampMillisecondType>()
            .value_as_datetime(row)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Cell `row` as a CSV cell for spreadsheets: text that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`.
pub fn csv_cell(array: &dyn Array, row: usize) -> String {
    let t = text(array, row);
    if array.data_type() == &DataType::Utf8 && t.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{t}")
    } else {
        t
    }
}
