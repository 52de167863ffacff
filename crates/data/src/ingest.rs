//! Ingestion: a provider's rows, from whatever format they came in, read once against the
//! entry's data items. Each row is checked (type, the item's rules, duplicate keys or rows),
//! profiled, and built into typed Arrow columns written as Parquet batch by batch, so a file of
//! any length takes the same memory (the duplicate check spills its hashes to the scratch disk
//! past a bound: see [`crate::uniqueness`]). Rows with a problem are also written, as read,
//! with their line and what is wrong, to a list the provider downloads (a repeat found only at
//! the end is listed after the others, its values read back from the Parquet file). The
//! outcome is the quality report and the profile; the caller publishes the Parquet file only
//! when the report's verdict is [`Verdict::Passed`].

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::FieldType;
use serde::{Deserialize, Serialize};

use crate::chunk::Chunk;
use crate::columns::{HeaderProblem, match_columns};
use crate::gate::{Broken, ItemGate, Thresholds, Verdict, score};
use crate::privacy::deid::DeidLane;
use crate::privacy::scan::ScanLane;
use crate::privacy::{Deid, PiReport, PrivacyOptions, Rewritten, Scanner};
use crate::profile::{ColumnProfile, ColumnStats};
use crate::read::{
    ColumnReport, Finding, FindingKind, MAX_VALUE_CHARS, ReadError, ReadOptions, Report,
};
use crate::rules::{Area, SHANGHAI};
use crate::table::{ColumnBuilder, parse, schema};
use crate::uniqueness::{DEFAULT_IN_MEMORY, LateDuplicate, Uniqueness};
use crate::version_file::VersionFile;

/// The code of unhandled personal information in a column, among the quality findings.
pub const PERSONAL_INFORMATION: &str = "personal_information";

/// The code of a release whose smallest group of quasi-identifiers is below the bar.
pub const K_ANONYMITY: &str = "k_anonymity";

/// Rows per Arrow batch (and the unit progress is reported in).
pub const BATCH_ROWS: usize = 65_536;
/// The cells' bytes past which a batch (and the chunk being read) ends before [`BATCH_ROWS`]: a
/// file of wide rows is read in shorter chunks, so the rows held stay bounded whatever their
/// width.
pub const BATCH_BYTES: usize = 32 << 20;
pub use crate::version_file::ROW_GROUP_ROWS;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub read: ReadOptions,
    pub area: Area,
    pub thresholds: Thresholds,
    /// The Parquet file of the version these rows are added to (a time series): its rows come
    /// first in the new version, and the new rows may not repeat their keys.
    pub append_to: Option<std::path::PathBuf>,
    /// Where the duplicate check may spill; without it every key is kept in memory.
    pub spill: Option<Spill>,
    /// The de-identification rules to apply and what the scan for personal information
    /// decides.
    pub privacy: PrivacyOptions,
    /// Threads that read the data items' cells side by side (the rows themselves are read,
    /// and their findings reported, in the file's order whatever the number).
    pub threads: usize,
}

/// What the duplicate check needs to work in bounded memory.
#[derive(Debug, Clone)]
pub struct Spill {
    /// A directory of this machine for the spilled keys.
    pub scratch: std::path::PathBuf,
    /// The Parquet file the ingestion writes (its sink), from which the rows of repeats found
    /// only at the end are read back for the list of failing rows.
    pub parquet: std::path::PathBuf,
    /// Keys kept in memory before spilling.
    pub in_memory: usize,
}

impl Spill {
    pub fn new(scratch: std::path::PathBuf, parquet: std::path::PathBuf) -> Self {
        Self {
            scratch,
            parquet,
            in_memory: DEFAULT_IN_MEMORY,
        }
    }
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            read: ReadOptions::default(),
            area: SHANGHAI,
            thresholds: Thresholds::default(),
            append_to: None,
            spill: None,
            privacy: PrivacyOptions::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Shared with whoever watches an ingestion: rows read so far, and a request to stop.
#[derive(Debug, Default)]
pub struct Progress {
    pub rows: AtomicU64,
    pub cancel: AtomicBool,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Read(#[from] crate::read::ReadError),
    #[error("cannot write the data: {0}")]
    Write(String),
    #[error("cancelled")]
    Cancelled,
    /// Rows are added only to a version of the same data items.
    #[error("the data items changed since the version the rows are added to")]
    SchemaChanged,
}

impl From<parquet::errors::ParquetError> for IngestError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        IngestError::Write(e.to_string())
    }
}

impl From<arrow::error::ArrowError> for IngestError {
    fn from(e: arrow::error::ArrowError) -> Self {
        IngestError::Write(e.to_string())
    }
}

/// The quality report as kept with the version and shown to the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    pub rows: u64,
    /// Rows with at least one problem.
    pub bad_rows: u64,
    /// 0–100: the share of rows without a problem.
    pub score: f64,
    pub verdict: Verdict,
    pub thresholds: Thresholds,
    /// Problems with the file's shape (its header, or no rows): each refuses the file.
    pub blocking: u64,
    pub columns: Vec<ColumnQuality>,
    /// Every kind of problem in every column, counted.
    pub counts: Vec<Count>,
    /// Examples, a bounded number per kind and column, in the order found.
    pub findings: Vec<FindingView>,
    /// The scan for personal information (absent from reports made before it existed).
    #[serde(default)]
    pub personal: PiReport,
    /// The re-identification risk, when the entry marks quasi-identifiers (assessed over the
    /// written file, after the rows are read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<crate::privacy::risk::RiskReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnQuality {
    pub item: String,
    pub header: String,
    pub nulls: u64,
    pub wrong_type: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub code: String,
    /// The column's header, or empty for the file as a whole.
    pub column: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingView {
    pub code: String,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    /// What the rule expected: a type, the cells a row should have, the line a duplicate
    /// repeats.
    pub detail: Option<String>,
}

impl From<&Finding> for FindingView {
    fn from(f: &Finding) -> Self {
        let detail = match &f.kind {
            FindingKind::WrongType(t) => Some(t.as_str().to_owned()),
            FindingKind::RaggedRow { expected, found } => Some(format!("{expected}/{found}")),
            FindingKind::Duplicate { first: 0, .. } => Some("previous_version".to_owned()),
            FindingKind::Duplicate { first, .. } => Some(first.to_string()),
            FindingKind::Personal(kind) => Some(kind.as_str().to_owned()),
            _ => None,
        };
        FindingView {
            code: f.kind.code().to_owned(),
            line: f.line,
            column: f.column.clone(),
            value: f.value.clone(),
            detail,
        }
    }
}

/// What an ingestion found and measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: QualityReport,
    pub profile: Vec<ColumnProfile>,
    /// Rows carried over from the version appended to (the report covers the new rows).
    pub carried: u64,
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_VALUE_CHARS).collect()
}

/// Where the Parquet file and the list of failing rows go.
pub struct Sinks<'a> {
    pub parquet: Option<Box<dyn Write + Send + 'a>>,
    pub failures: Option<Box<dyn Write + Send + 'a>>,
}

impl Sinks<'_> {
    pub fn none() -> Self {
        Self {
            parquet: None,
            failures: None,
        }
    }
}

/// An ingestion under way: fed a header, then rows.
pub struct Ingest<'a> {
    items: Vec<DataItem>,
    /// The types of the open version's columns: an item's own, or what its de-identification
    /// rule writes.
    open_types: Vec<domain::openlist::vocab::FieldType>,
    scanner: Scanner,
    deid: Deid,
    gates: Vec<ItemGate>,
    /// For each data item, the file's column that holds it.
    item_column: Vec<Option<usize>>,
    headers: Vec<String>,
    width: usize,
    builders: Vec<ColumnBuilder>,
    stats: Vec<ColumnStats>,
    schema: SchemaRef,
    parquet: Parquet<'a>,
    failures: Option<csv::Writer<Box<dyn Write + Send + 'a>>>,
    pending: usize,
    /// The bytes of the cells of the pending rows.
    pending_bytes: usize,
    report: Report,
    per_item: Vec<ColumnReport>,
    /// The duplicate check: hashes of each row's key (or whole row) and the line first seen.
    unique: Uniqueness,
    /// Which of the new rows (by their place among them) were found bad as they were read.
    bad: Vec<u64>,
    keyed: bool,
    /// Per data item, whether it is part of a row's key: a key item, or any item when none is.
    hashed: Vec<bool>,
    options: IngestOptions,
    progress: Arc<Progress>,
    /// The problems of the row being read, for the list of failing rows.
    row_problems: Vec<String>,
    carried: u64,
}

impl<'a> Ingest<'a> {
    /// Starts reading a file whose header line is `header` against `items`.
    pub fn start(
        header: &[&str],
        items: &[DataItem],
        options: IngestOptions,
        sinks: Sinks<'a>,
        progress: Arc<Progress>,
    ) -> Result<Self, IngestError> {
        let (columns, problems) = match_columns(header, items);
        let mut report = Report::default();
        let max = options.read.max_examples;
        for p in problems {
            let (kind, column) = match p {
                HeaderProblem::Blank { column } => {
                    (FindingKind::BlankHeader, format!("#{}", column + 1))
                }
                HeaderProblem::TooLong { column } => {
                    (FindingKind::LongHeader, format!("#{}", column + 1))
                }
                HeaderProblem::Duplicate { header, .. } => (FindingKind::DuplicateHeader, header),
                HeaderProblem::Unknown { header, .. } => (FindingKind::UnknownColumn, header),
                HeaderProblem::Missing { item } => (FindingKind::MissingItem, item),
            };
            report.add(
                Finding {
                    kind,
                    line: Some(1),
                    column: Some(cut(&column)),
                    value: None,
                },
                max,
            );
        }
        let mut item_column = vec![None; items.len()];
        for (i, c) in columns.iter().enumerate() {
            if let Some(p) = c.item {
                item_column[p] = Some(i);
            }
        }
        let per_item = items
            .iter()
            .enumerate()
            .map(|(p, d)| ColumnReport {
                item: d.name.clone(),
                header: item_column[p]
                    .map(|i| columns[i].header.clone())
                    .unwrap_or_default(),
                nulls: 0,
                wrong_type: 0,
            })
            .collect();
        let open_items = domain::privacy::open_items(items, &options.privacy.plan);
        let schema = schema(&open_items);
        let parquet = match sinks.parquet {
            Some(out) => Parquet::Here(VersionFile::new(out, schema.clone())),
            None => Parquet::Nowhere,
        };
        let failures = match sinks.failures {
            Some(out) => {
                // A ragged row is listed as it was read, its cells however many.
                let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
                let mut head = vec!["line".to_owned(), "problems".to_owned()];
                head.extend(columns.iter().map(|c| c.header.clone()));
                w.write_record(&head)
                    .map_err(|e| IngestError::Write(e.to_string()))?;
                Some(w)
            }
            None => None,
        };
        let keyed = items.iter().any(|d| d.rules.key);
        Ok(Self {
            gates: items.iter().map(ItemGate::new).collect(),
            keyed,
            hashed: items.iter().map(|d| !keyed || d.rules.key).collect(),
            builders: open_items
                .iter()
                .map(|d| ColumnBuilder::new(d.field_type, BATCH_ROWS))
                .collect(),
            open_types: open_items.iter().map(|d| d.field_type).collect(),
            scanner: Scanner::new(items),
            deid: Deid::new(items, &options.privacy.plan, &options.privacy.secret),
            stats: items.iter().map(|d| ColumnStats::new(&d.name)).collect(),
            items: items.to_vec(),
            item_column,
            headers: columns.into_iter().map(|c| c.header).collect(),
            width: header.len(),
            schema,
            parquet,
            failures,
            pending: 0,
            pending_bytes: 0,
            report,
            per_item,
            unique: match &options.spill {
                Some(spill) => Uniqueness::new(spill.in_memory, Some(spill.scratch.clone())),
                None => Uniqueness::new(usize::MAX, None),
            },
            bad: Vec::new(),
            options,
            progress,
            row_problems: Vec::new(),
            carried: 0,
        })
        .and_then(Ingest::carry_over)
    }

    /// The file's header of each data item; empty for an item the file lacks.
    fn item_headers(&self) -> Vec<String> {
        self.item_column
            .iter()
            .map(|c| c.map(|i| self.headers[i].clone()).unwrap_or_default())
            .collect()
    }

    /// Writes the rows of the version appended to, first, and remembers their keys.
    fn carry_over(mut self) -> Result<Self, IngestError> {
        let Some(path) = self.options.append_to.clone() else {
            return Ok(self);
        };
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let file = std::fs::File::open(&path).map_err(|e| IngestError::Write(e.to_string()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
            .with_batch_size(BATCH_ROWS)
            .build()?;
        let same = |a: &arrow::datatypes::Schema, b: &arrow::datatypes::Schema| {
            a.fields().len() == b.fields().len()
                && a.fields()
                    .iter()
                    .zip(b.fields())
                    .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
        };
        for batch in reader {
            let batch = batch?;
            if !same(&batch.schema(), &self.schema) {
                return Err(IngestError::SchemaChanged);
            }
            let cells: Vec<Vec<String>> = (0..batch.num_rows())
                .map(|r| {
                    batch
                        .columns()
                        .iter()
                        .map(|c| crate::records::text(c.as_ref(), r))
                        .collect()
                })
                .collect();
            for (r, row) in cells.iter().enumerate() {
                // The new version's profile covers every row, the carried ones too.
                for (p, cell) in row.iter().enumerate() {
                    match crate::table::parse(self.open_types[p], cell, None) {
                        Some(v) if !cell.is_empty() => self.stats[p].add(cell, &v),
                        _ => self.stats[p].null(),
                    }
                }
                let key = (0..row.len())
                    .filter(|&p| self.hashed[p])
                    .fold(0, |key: u128, p| key.wrapping_add(key_part(p, &row[p])));
                // Line 0: a row of the earlier version (which had no repeats).
                let place = self.carried + r as u64;
                self.unique
                    .see(key, 0, place)
                    .map_err(|e| IngestError::Write(e.to_string()))?;
            }
            self.carried += batch.num_rows() as u64;
            if let Parquet::Here(file) = &mut self.parquet {
                file.write(&batch)?;
            }
        }
        Ok(self)
    }

    fn finding(
        &mut self,
        kind: FindingKind,
        line: u64,
        column: Option<usize>,
        value: Option<&str>,
    ) {
        let column = column.map(|i| cut(&self.headers[i]));
        if self.failures.is_some() {
            let what = match &column {
                Some(c) => format!("{}:{c}", kind.code()),
                None => kind.code().to_owned(),
            };
            self.row_problems.push(what);
        }
        self.report.add(
            Finding {
                kind,
                line: Some(line),
                column,
                value: value.map(cut),
            },
            self.options.read.max_examples,
        );
    }

    /// Reads a chunk of data rows. Each data item's cells are read in a lane of their own, the
    /// lanes side by side; then, row by row in the file's order, what the lanes found is
    /// reported as one pass over the rows would, the row checked for a repeat and, when anything
    /// is wrong, listed.
    fn chunk(&mut self, chunk: &Chunk) -> Result<(), IngestError> {
        let (outs, keys) = self.run_lanes(chunk);
        let mut found: Vec<_> = outs.iter().map(|o| o.iter().peekable()).collect();
        for (r, &key) in keys.iter().enumerate() {
            let line = chunk.line(r);
            self.report.rows += 1;
            self.row_problems.clear();
            let mut bad = false;
            if chunk.width(r) != self.width {
                let kind = FindingKind::RaggedRow {
                    expected: self.width,
                    found: chunk.width(r),
                };
                self.finding(kind, line, None, None);
                bad = true;
            }
            for (p, cells) in found.iter_mut().enumerate() {
                while let Some(f) = cells.next_if(|f| f.row == r) {
                    self.finding(
                        f.kind.clone(),
                        line,
                        self.item_column[p],
                        f.value.as_deref(),
                    );
                    bad = true;
                }
            }
            let place = self.carried + self.report.rows - 1;
            let repeats = self
                .unique
                .see(key, line, place)
                .map_err(|e| IngestError::Write(e.to_string()))?;
            if let Some(first) = repeats {
                let kind = FindingKind::Duplicate {
                    first,
                    key: self.keyed,
                };
                self.finding(kind, line, None, None);
                bad = true;
            }
            if bad {
                self.report.bad_rows += 1;
                let place = (self.report.rows - 1) as usize;
                if self.bad.len() <= place / 64 {
                    self.bad.resize(place / 64 + 1, 0);
                }
                self.bad[place / 64] |= 1 << (place % 64);
                if let Some(w) = &mut self.failures {
                    let mut out = Vec::with_capacity(chunk.width(r) + 2);
                    out.push(line.to_string());
                    out.push(self.row_problems.join("; "));
                    out.extend(chunk.cells(r).map(str::to_owned));
                    w.write_record(&out)
                        .map_err(|e| IngestError::Write(e.to_string()))?;
                }
            }
        }
        self.pending += chunk.len();
        self.pending_bytes += chunk.bytes();
        if self.pending >= BATCH_ROWS || self.pending_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Each data item's lane over the chunk, side by side on up to the options' threads: what
    /// each lane found, and each row's key.
    fn run_lanes(&mut self, chunk: &Chunk) -> (Vec<Vec<CellFinding>>, Vec<u128>) {
        let area = self.options.area;
        let lanes: Vec<Lane<'_>> = self
            .builders
            .iter_mut()
            .zip(self.stats.iter_mut())
            .zip(self.per_item.iter_mut())
            .zip(self.scanner.lanes())
            .zip(self.deid.lanes())
            .enumerate()
            .map(|(p, ((((builder, stats), counts), scan), deid))| Lane {
                place: p,
                column: self.item_column[p],
                field_type: self.items[p].field_type,
                open_type: self.open_types[p],
                gate: &self.gates[p],
                area,
                builder,
                stats,
                counts,
                scan,
                deid,
                hashed: self.hashed[p],
            })
            .collect();
        // Each thread adds up the key parts of the lanes it runs; a row's key is the sum of the
        // threads' sums, whichever thread ran which lane.
        let (found, sums) = side_by_side(
            lanes,
            self.options.threads,
            || vec![0u128; chunk.len()],
            |keys, lane| lane.run(chunk, keys),
        );
        let mut sums = sums.into_iter();
        let mut keys = sums.next().unwrap_or_else(|| vec![0; chunk.len()]);
        for other in sums {
            for (key, part) in keys.iter_mut().zip(other) {
                *key = key.wrapping_add(part);
            }
        }
        (found, keys)
    }

    /// Whether the new row at `place` (among the new rows) was found bad as it was read.
    fn was_bad(&self, place: u64) -> bool {
        let place = place as usize;
        self.bad
            .get(place / 64)
            .is_some_and(|w| w & (1 << (place % 64)) != 0)
    }

    /// Reports the repeats found only at the end, and lists their rows, read back from the
    /// Parquet file just closed, after the other failing rows.
    fn late_duplicates(&mut self, late: &[LateDuplicate]) -> Result<(), IngestError> {
        let late: Vec<&LateDuplicate> = late.iter().filter(|d| d.line > 0).collect();
        if late.is_empty() {
            return Ok(());
        }
        let key = self.keyed;
        for d in &late {
            let kind = FindingKind::Duplicate {
                first: d.first,
                key,
            };
            self.report.add(
                Finding {
                    kind,
                    line: Some(d.line),
                    column: None,
                    value: None,
                },
                self.options.read.max_examples,
            );
            if !self.was_bad(d.row - self.carried) {
                self.report.bad_rows += 1;
            }
        }
        let (Some(w), Some(spill)) = (&mut self.failures, &self.options.spill) else {
            return Ok(());
        };
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let file =
            std::fs::File::open(&spill.parquet).map_err(|e| IngestError::Write(e.to_string()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
            .with_batch_size(BATCH_ROWS)
            .build()?;
        let mut by_row: Vec<&LateDuplicate> = late.clone();
        by_row.sort_by_key(|d| d.row);
        let mut next = by_row.iter().peekable();
        let mut start = 0u64;
        let code = FindingKind::Duplicate { first: 0, key }.code();
        for batch in reader {
            let batch = batch?;
            let end = start + batch.num_rows() as u64;
            while let Some(d) = next.next_if(|d| d.row < end) {
                let r = (d.row - start) as usize;
                let mut out = vec![d.line.to_string(), code.to_owned()];
                // The file's columns in its order; a column that matched no item was not kept.
                for c in 0..self.headers.len() {
                    let cell = self
                        .item_column
                        .iter()
                        .position(|ic| *ic == Some(c))
                        .map(|p| crate::records::text(batch.column(p).as_ref(), r))
                        .unwrap_or_default();
                    out.push(cell);
                }
                w.write_record(&out)
                    .map_err(|e| IngestError::Write(e.to_string()))?;
            }
            start = end;
            if next.peek().is_none() {
                break;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), IngestError> {
        self.progress
            .rows
            .store(self.report.rows, Ordering::Relaxed);
        if self.progress.cancel.load(Ordering::Relaxed) {
            return Err(IngestError::Cancelled);
        }
        let columns = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        if self.pending > 0 {
            match &mut self.parquet {
                Parquet::Nowhere => {}
                Parquet::Here(file) => {
                    file.write(&RecordBatch::try_new(self.schema.clone(), columns)?)?
                }
                // A closed channel: the writer stopped on an error, which it returns.
                Parquet::Aside(to) => to
                    .send(RecordBatch::try_new(self.schema.clone(), columns)?)
                    .map_err(|_| IngestError::Write("the Parquet writer stopped".into()))?,
            }
        }
        self.pending = 0;
        self.pending_bytes = 0;
        Ok(())
    }

    /// Ends the file: the last rows written, the Parquet file closed, the verdict given.
    pub fn finish(mut self) -> Result<(Outcome, Report), IngestError> {
        self.flush()?;
        if let Parquet::Here(file) = std::mem::replace(&mut self.parquet, Parquet::Nowhere) {
            file.close()?;
        }
        let unique = std::mem::replace(&mut self.unique, Uniqueness::new(0, None));
        let late = unique
            .finish()
            .map_err(|e| IngestError::Write(e.to_string()))?;
        self.late_duplicates(&late)?;
        if let Some(mut w) = self.failures.take() {
            w.flush().map_err(|e| IngestError::Write(e.to_string()))?;
        }
        if self.report.rows == 0 {
            self.report.add(
                Finding {
                    kind: FindingKind::HeaderOnly,
                    line: None,
                    column: None,
                    value: None,
                },
                self.options.read.max_examples,
            );
        }
        let scanner = std::mem::replace(&mut self.scanner, Scanner::new(&[]));
        let personal = scanner.finish(&self.items, &self.item_headers(), &self.options.privacy);
        // Columns whose personal information nothing deals with: their values are kept out of
        // the report and the profile, which the provider's staff and the platform's read.
        let unhandled = personal.findings.iter().filter(|f| f.handled.is_none());
        let withheld_items: std::collections::HashSet<String> =
            unhandled.clone().map(|f| f.item.clone()).collect();
        let withheld_headers: std::collections::HashSet<String> =
            unhandled.map(|f| cut(&f.header)).collect();
        let mut report = self.report;
        for f in personal.findings.iter().filter(|f| f.handled.is_none()) {
            let column = cut(&f.header);
            *report
                .counts
                .entry((PERSONAL_INFORMATION, column.clone()))
                .or_insert(0) += f.count;
            report.findings.push(Finding {
                kind: FindingKind::Personal(f.kind),
                line: f.examples.first().map(|e| e.line),
                column: Some(column),
                value: None,
            });
        }
        report.columns = self
            .per_item
            .into_iter()
            .filter(|c| !c.header.is_empty())
            .collect();
        let blocking: u64 = report
            .counts
            .iter()
            .filter(|((code, _), _)| FindingKind::blocks(code))
            .map(|(_, n)| n)
            .sum();
        let thresholds = self.options.thresholds;
        let score = score(report.rows, report.bad_rows);
        let verdict = if blocking == 0 && score >= thresholds.min_score && !personal.refuses() {
            Verdict::Passed
        } else {
            Verdict::Refused
        };
        let quality = QualityReport {
            rows: report.rows,
            bad_rows: report.bad_rows,
            score,
            verdict,
            thresholds,
            blocking,
            columns: report
                .columns
                .iter()
                .map(|c| ColumnQuality {
                    item: c.item.clone(),
                    header: c.header.clone(),
                    nulls: c.nulls,
                    wrong_type: c.wrong_type,
                })
                .collect(),
            counts: report
                .counts
                .iter()
                .map(|((code, column), n)| Count {
                    code: (*code).to_owned(),
                    column: column.clone(),
                    count: *n,
                })
                .collect(),
            findings: report
                .findings
                .iter()
                .map(|f| {
                    let mut view = FindingView::from(f);
                    // Values of a column with personal information nothing deals with are
                    // shown masked, like the scan's examples.
                    if f.column
                        .as_ref()
                        .is_some_and(|c| withheld_headers.contains(c))
                    {
                        view.value = view.value.as_deref().map(crate::privacy::scan::masked);
                    }
                    view
                })
                .collect(),
            personal,
            risk: None,
        };
        let mut profile: Vec<ColumnProfile> =
            self.stats.into_iter().map(ColumnStats::finish).collect();
        for p in profile
            .iter_mut()
            .filter(|p| withheld_items.contains(&p.name))
        {
            p.min = None;
            p.max = None;
            p.top.clear();
        }
        Ok((
            Outcome {
                report: quality,
                profile,
                carried: self.carried,
            },
            report,
        ))
    }
}

/// Where an ingestion's rows go as Parquet.
enum Parquet<'a> {
    /// Nowhere: the rows are only checked.
    Nowhere,
    /// Into the version's file, written here.
    Here(VersionFile<'a>),
    /// Batch by batch to the thread writing the file ([`writing_aside`]).
    Aside(std::sync::mpsc::SyncSender<RecordBatch>),
}

/// The part of a row's key for the duplicate check that the cell of the item at `place` adds:
/// the cell's hash, seeded with the place, so the same text under two items adds differently.
/// A row's key is the sum of its key items' parts (all its items' when the entry declares no
/// key): a sum does not depend on the order its parts are added in, so each lane adds its
/// part on whichever thread it runs, while the cell is at hand.
fn key_part(place: usize, cell: &str) -> u128 {
    twox_hash::XxHash3_128::oneshot_with_seed(place as u64, cell.as_bytes())
}

/// A problem a lane found in its item's cell.
struct CellFinding {
    /// The row's place in the chunk.
    row: usize,
    kind: FindingKind,
    value: Option<String>,
}

/// One data item's work on a chunk of rows: all that a cell needs and no other cell does —
/// its type, the item's rules, the scan for personal information, de-identification, the
/// profile and the column being built.
struct Lane<'w> {
    /// The item's place among the entry's data items.
    place: usize,
    /// The file's column that holds the item, if any.
    column: Option<usize>,
    field_type: FieldType,
    open_type: FieldType,
    gate: &'w ItemGate,
    area: Area,
    builder: &'w mut ColumnBuilder,
    stats: &'w mut ColumnStats,
    counts: &'w mut ColumnReport,
    scan: ScanLane<'w>,
    deid: DeidLane<'w>,
    hashed: bool,
}

impl Lane<'_> {
    /// Reads the item's cell of each row of `chunk`, adding its part to the row's key in
    /// `keys` when the item is part of the key. Returns the problems found, in row order.
    fn run(mut self, chunk: &Chunk, keys: &mut [u128]) -> Vec<CellFinding> {
        let mut out = Vec::new();
        for (r, key) in keys.iter_mut().enumerate().take(chunk.len()) {
            let Some(column) = self.column else {
                self.builder.push(None);
                if self.hashed {
                    *key = key.wrapping_add(key_part(self.place, ""));
                }
                continue;
            };
            let cell = crate::cells::trimmed(chunk.cell(r, column).unwrap_or(""));
            if self.hashed {
                *key = key.wrapping_add(key_part(self.place, cell));
            }
            if let Some((kind, value)) = self.cell(chunk.line(r), cell) {
                out.push(CellFinding {
                    row: r,
                    kind,
                    value: value.map(cut),
                });
            }
        }
        out
    }

    /// Reads one cell, found at `line`: its problem, if it has one, and the value to show.
    fn cell<'c>(&mut self, line: u64, cell: &'c str) -> Option<(FindingKind, Option<&'c str>)> {
        if !cell.is_empty() {
            self.scan.cell(line, cell);
        }
        if cell.contains('\0') {
            self.builder.push(None);
            self.stats.null();
            return Some((FindingKind::NulByte, None));
        }
        if cell.is_empty() {
            self.counts.nulls += 1;
            self.stats.null();
            self.builder.push(None);
            return self
                .gate
                .required
                .then_some((FindingKind::Broken(Broken::Required), None));
        }
        let Some(value) = parse(self.field_type, cell, self.gate.format.as_deref()) else {
            self.counts.wrong_type += 1;
            self.builder.push(None);
            self.stats.null();
            return Some((FindingKind::WrongType(self.field_type), Some(cell)));
        };
        let broken = self.gate.test(cell, &value, &self.area);
        match self.deid.rewrite(cell, &value) {
            Rewritten::Same => {
                self.stats.add(cell, &value);
                self.builder.push(Some(value));
            }
            Rewritten::Null => {
                self.stats.null();
                self.builder.push(None);
            }
            Rewritten::Text(open) => match parse(self.open_type, &open, None) {
                Some(v) => {
                    self.stats.add(&open, &v);
                    self.builder.push(Some(v));
                }
                None => {
                    self.stats.null();
                    self.builder.push(None);
                }
            },
        }
        broken.map(|b| (FindingKind::Broken(b), Some(cell)))
    }
}

/// Runs `work` on each of `tasks` over up to `threads` threads, each taking the next task when
/// done with one and keeping a state of its own (made by `start`) across the tasks it runs: the
/// results in the tasks' order, and the threads' states.
fn side_by_side<T: Send, R: Send, S: Send>(
    tasks: Vec<T>,
    threads: usize,
    start: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, T) -> R + Sync,
) -> (Vec<R>, Vec<S>) {
    let n = tasks.len();
    let threads = threads.min(n);
    if threads <= 1 {
        let mut state = start();
        let results = tasks.into_iter().map(|t| work(&mut state, t)).collect();
        return (results, vec![state]);
    }
    let queue = std::sync::Mutex::new(tasks.into_iter().enumerate());
    let results = std::sync::Mutex::new((0..n).map(|_| None).collect::<Vec<Option<R>>>());
    let worker = || {
        let mut state = start();
        loop {
            let next = queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .next();
            let Some((i, task)) = next else { break };
            let done = work(&mut state, task);
            results
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(done);
        }
        state
    };
    let states = std::thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(worker)).collect();
        let mut states = vec![worker()];
        for other in others {
            match other.join() {
                Ok(state) => states.push(state),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        states
    });
    let results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect();
    (results, states)
}

/// The longest line a text file may have (a quoted cell may span lines; a line is what lies
/// between two line feeds): a file of one endless line is refused instead of held in memory.
pub const MAX_LINE_BYTES: u64 = 16 << 20;

/// Fails a read once more than [`MAX_LINE_BYTES`] have come without a line feed.
pub(crate) struct LineBound<R> {
    inner: R,
    since_newline: u64,
    offset: u64,
}

impl<R> LineBound<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineBound {
            inner,
            since_newline: 0,
            offset: 0,
        }
    }
}

impl<R: std::io::Read> std::io::Read for LineBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut start = 0;
        // Each run of bytes up to a line feed (or the end of what was read).
        for end in memchr::memchr_iter(b'\n', &buf[..n]).chain(std::iter::once(n)) {
            let run = (end - start) as u64;
            if self.since_newline + run > MAX_LINE_BYTES {
                let at = self.offset + start as u64 + (MAX_LINE_BYTES - self.since_newline) + 1;
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a line longer than 16 MB, at byte {at}"),
                ));
            }
            self.since_newline = if end < n { 0 } else { self.since_newline + run };
            start = end + 1;
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Runs `read` over `ingest` with its Parquet file written on a thread of its own: each batch is
/// encoded and compressed while the next rows are checked. The rows still pending at the end of
/// `read` are written too; the writer is back in `ingest` after, for [`Ingest::finish`] to close.
fn writing_aside<'a>(
    ingest: &mut Ingest<'a>,
    read: impl FnOnce(&mut Ingest<'a>) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let Parquet::Here(mut file) = std::mem::replace(&mut ingest.parquet, Parquet::Nowhere) else {
        return read(ingest);
    };
    std::thread::scope(|s| {
        // One batch waits while another is written: memory stays bounded.
        let (to, batches) = std::sync::mpsc::sync_channel::<RecordBatch>(1);
        let writing = s.spawn(move || {
            for batch in batches {
                file.write(&batch)?;
            }
            Ok::<_, IngestError>(file)
        });
        ingest.parquet = Parquet::Aside(to);
        let read = read(ingest).and_then(|()| ingest.flush());
        // Closing the channel ends the writer's loop.
        ingest.parquet = Parquet::Nowhere;
        match writing.join() {
            Ok(Ok(file)) => {
                ingest.parquet = Parquet::Here(file);
                read
            }
            // The writer's own error is why the rows stopped going to it.
            Ok(Err(e)) => Err(e),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Reads the CSV text `input` (already UTF-8: see [`crate::decoded`]) through an ingestion.
/// The text is parsed on a thread of its own, a chunk ahead of the ingestion.
pub fn ingest_csv(
    input: impl std::io::Read + Send,
    items: &[DataItem],
    options: IngestOptions,
    sinks: Sinks<'_>,
    progress: Arc<Progress>,
) -> Result<(Outcome, Report), IngestError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.read.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(LineBound::new(input));
    let mut record = csv::StringRecord::new();
    if !reader
        .read_record(&mut record)
        .map_err(crate::read::csv_error)?
    {
        return Err(crate::read::ReadError::Empty.into());
    }
    let header: Vec<String> = record.iter().map(str::to_owned).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut ingest = Ingest::start(&header, items, options, sinks, progress)?;
    writing_aside(&mut ingest, |ingest| read_chunks(reader, ingest))?;
    ingest.finish()
}

/// Feeds the rows of `reader` to `ingest`, parsed on a thread of their own a chunk ahead.
fn read_chunks<R: std::io::Read + Send>(
    mut reader: csv::Reader<R>,
    ingest: &mut Ingest<'_>,
) -> Result<(), IngestError> {
    std::thread::scope(|s| {
        // One chunk waits while another is ingested and a third is read: memory stays bounded.
        let (full, parsed) = std::sync::mpsc::sync_channel::<Result<Chunk, ReadError>>(1);
        let (recycle, spare) = std::sync::mpsc::channel::<Chunk>();
        s.spawn(move || {
            let mut rows = 0u64;
            let mut record = csv::ByteRecord::new();
            loop {
                let mut chunk = spare.try_recv().unwrap_or_default();
                chunk.clear();
                while !chunk.full() {
                    let read = match reader.read_byte_record(&mut record) {
                        Ok(true) => {
                            rows += 1;
                            let line = record.position().map_or(rows + 1, |p| p.line());
                            chunk.push_record(line, &record).map_err(ReadError::Io)
                        }
                        Ok(false) => break,
                        Err(e) => Err(crate::read::csv_error(e)),
                    };
                    if let Err(e) = read {
                        let _ = full.send(Err(e));
                        return;
                    }
                }
                let last = !chunk.full();
                // A closed channel: the ingestion stopped (an error, or cancelled).
                if full.send(Ok(chunk)).is_err() || last {
                    return;
                }
            }
        });
        for chunk in parsed {
            let chunk = chunk?;
            ingest.chunk(&chunk)?;
            let _ = recycle.send(chunk);
        }
        Ok(())
    })
}

/// Reads rows from any source (see [`crate::sources`]) through an ingestion.
pub fn ingest_rows(
    source: crate::sources::Rows,
    items: &[DataItem],
    options: IngestOptions,
    sinks: Sinks<'_>,
    progress: Arc<Progress>,
) -> Result<(Outcome, Report), IngestError> {
    let header: Vec<&str> = source.header.iter().map(String::as_str).collect();
    let mut ingest = Ingest::start(&header, items, options, sinks, progress)?;
    writing_aside(&mut ingest, |ingest| {
        let mut chunk = Chunk::default();
        for row in source.rows {
            let (line, record) = row?;
            chunk.push(line, &record);
            if chunk.full() {
                ingest.chunk(&chunk)?;
                chunk.clear();
            }
        }
        ingest.chunk(&chunk)
    })?;
    ingest.finish()
}

/// The rows a Parquet file says it holds, read from its footer.
pub fn parquet_rows(path: &std::path::Path) -> Result<i64, String> {
    use parquet::file::reader::FileReader;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(file)
        .map_err(|e| e.to_string())?;
    Ok(reader.metadata().file_metadata().num_rows())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::{LineBound, MAX_LINE_BYTES};

    /// Reads all of `input` through the bound in reads of `size` bytes.
    fn through(input: Vec<u8>, size: usize) -> std::io::Result<usize> {
        let mut bound = LineBound::new(input.as_slice());
        let (mut buf, mut total) = (vec![0u8; size], 0);
        loop {
            match bound.read(&mut buf)? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    #[test]
    fn a_line_of_the_longest_length_passes_and_one_byte_more_is_refused_at_that_byte() {
        let max = MAX_LINE_BYTES as usize;
        for size in [4_093, 65_536] {
            // Two lines of the longest length, each ended by a line feed.
            let mut ok = vec![b'a'; max];
            ok.push(b'\n');
            ok.extend(std::iter::repeat_n(b'b', max));
            ok.push(b'\n');
            assert_eq!(
                through(ok.clone(), size).unwrap(),
                2 * max + 2,
                "reads of {size}"
            );
            // Then a third one byte too long: refused at its byte max + 1.
            let mut long = ok;
            long.extend(std::iter::repeat_n(b'c', max + 1));
            let at = 2 * (max + 1) + max + 1;
            let err = through(long, size).unwrap_err().to_string();
            assert!(
                err.ends_with(&format!("at byte {at}")),
                "reads of {size}: {err}"
            );
        }
    }
}
