//! Reading a CSV file against an entry's data items: every row, every cell, with what is wrong
//! said at its row and column. The report keeps a bounded number of examples per kind and
//! column, and counts them all.

use std::collections::BTreeMap;
use std::io::Read;

use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::FieldType;

use crate::gate::Broken;
use crate::ingest::{IngestError, IngestOptions, Sinks, ingest_csv};

/// What can be wrong, as a provider reads it in the quality report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    BlankHeader,
    LongHeader,
    DuplicateHeader,
    /// A column no data item names; it is not read.
    UnknownColumn,
    /// A declared data item no column holds.
    MissingItem,
    /// A value not of the item's declared type.
    WrongType(FieldType),
    /// A row with more or fewer cells than the header.
    RaggedRow {
        expected: usize,
        found: usize,
    },
    /// A NUL byte in a cell: binary data, or a file of another kind.
    NulByte,
    /// A header line and no rows.
    HeaderOnly,
    /// A value that breaks one of its item's rules.
    Broken(Broken),
    /// A row that repeats an earlier one: its key items (`key`) or all its values.
    Duplicate {
        first: u64,
        key: bool,
    },
    /// Personal information in a column that no de-identification rule or exception deals
    /// with.
    Personal(domain::privacy::PiKind),
}

impl FindingKind {
    /// A stable code, for the API and the message catalogues.
    pub fn code(&self) -> &'static str {
        match self {
            FindingKind::BlankHeader => "blank_header",
            FindingKind::LongHeader => "long_header",
            FindingKind::DuplicateHeader => "duplicate_header",
            FindingKind::UnknownColumn => "unknown_column",
            FindingKind::MissingItem => "missing_item",
            FindingKind::WrongType(_) => "wrong_type",
            FindingKind::RaggedRow { .. } => "ragged_row",
            FindingKind::NulByte => "nul_byte",
            FindingKind::HeaderOnly => "header_only",
            FindingKind::Broken(b) => b.code(),
            FindingKind::Duplicate { key: true, .. } => "duplicate_key",
            FindingKind::Duplicate { key: false, .. } => "duplicate_row",
            FindingKind::Personal(_) => crate::ingest::PERSONAL_INFORMATION,
        }
    }

    /// Whether a finding with `code` refuses the whole file: its shape is wrong, so no row
    /// of it can be trusted to mean what the data items say.
    pub fn blocks(code: &str) -> bool {
        matches!(
            code,
            "blank_header"
                | "long_header"
                | "duplicate_header"
                | "unknown_column"
                | "missing_item"
                | "header_only"
        )
    }
}

/// One thing wrong, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    /// The line of the file, counting the header as line 1; none for the file as a whole.
    pub line: Option<u64>,
    /// The column's header (or, for a missing item, the item's name).
    pub column: Option<String>,
    /// The value, cut to [`MAX_VALUE_CHARS`].
    pub value: Option<String>,
}

/// Values quoted in findings are cut to this length.
pub const MAX_VALUE_CHARS: usize = 64;

#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub delimiter: u8,
    /// Examples kept per kind of finding and column; all are counted.
    pub max_examples: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            max_examples: 20,
        }
    }
}

/// A data item's column, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnReport {
    pub item: String,
    pub header: String,
    pub nulls: u64,
    pub wrong_type: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Rows with at least one finding.
    pub bad_rows: u64,
    /// Each data item found in the file, in the declaration's order.
    pub columns: Vec<ColumnReport>,
    /// Examples of what is wrong, in the order found.
    pub findings: Vec<Finding>,
    /// How many of each kind of finding (by code) in each column ("" for the whole file).
    pub counts: BTreeMap<(&'static str, String), u64>,
}

impl Report {
    pub(crate) fn add(&mut self, finding: Finding, max_examples: usize) {
        let key = (
            finding.kind.code(),
            finding.column.clone().unwrap_or_default(),
        );
        let n = self.counts.entry(key).or_insert(0);
        *n += 1;
        if *n <= max_examples as u64 {
            self.findings.push(finding);
        }
    }

    /// Whether anything was found wrong.
    pub fn is_clean(&self) -> bool {
        self.counts.is_empty()
    }

    /// How many findings of the kind with `code` there are, in all columns.
    pub fn count(&self, code: &str) -> u64 {
        self.counts
            .iter()
            .filter(|((c, _), _)| *c == code)
            .map(|(_, n)| n)
            .sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the file is empty")]
    Empty,
    /// The bytes could not be read: a broken upload, or text that is not in its encoding.
    #[error("the file cannot be read: {0}")]
    Io(#[from] std::io::Error),
}

/// A CSV reader's error as a read error.
pub(crate) fn csv_error(e: csv::Error) -> ReadError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => ReadError::Io(e),
        other => ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{other:?}"),
        )),
    }
}

/// Reads the CSV text `input` (already UTF-8: see [`crate::decoded`]) against `items`, for
/// the report alone.
pub fn read_csv(
    input: impl Read + Send,
    items: &[DataItem],
    options: &ReadOptions,
) -> Result<Report, ReadError> {
    let options = IngestOptions {
        read: options.clone(),
        ..Default::default()
    };
    match ingest_csv(input, items, options, Sinks::none(), Default::default()) {
        Ok((_, report)) => Ok(report),
        Err(IngestError::Read(e)) => Err(e),
        // Nothing is written and nobody cancels.
        Err(other) => Err(ReadError::Io(std::io::Error::other(other.to_string()))),
    }
}
