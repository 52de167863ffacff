//! Reading a CSV file against an entry's data items: every row, every cell, with what is wrong
//! said at its row and column. The report keeps a bounded number of examples per kind and
//! column, and counts them all.

use std::collections::BTreeMap;
use std::io::Read;

use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::FieldType;

use crate::cells::conforms;
use crate::columns::{HeaderProblem, match_columns};

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
        }
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
    /// Each data item found in the file, in the declaration's order.
    pub columns: Vec<ColumnReport>,
    /// Examples of what is wrong, in the order found.
    pub findings: Vec<Finding>,
    /// How many of each kind of finding (by code) in each column ("" for the whole file).
    pub counts: BTreeMap<(&'static str, String), u64>,
}

impl Report {
    fn add(&mut self, finding: Finding, max_examples: usize) {
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

fn cut(s: &str) -> String {
    s.chars().take(MAX_VALUE_CHARS).collect()
}

/// Reads the CSV text `input` (already UTF-8: see [`crate::decoded`]) against `items`.
pub fn read_csv(
    input: impl Read,
    items: &[DataItem],
    options: &ReadOptions,
) -> Result<Report, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    let mut report = Report::default();
    let max = options.max_examples;
    let io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => ReadError::Io(e),
        other => ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{other:?}"),
        )),
    };
    if !reader.read_record(&mut record).map_err(io)? {
        return Err(ReadError::Empty);
    }
    let headers: Vec<&str> = record.iter().collect();
    let (columns, problems) = match_columns(&headers, items);
    let width = headers.len();
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
    // The columns that hold an item, with the item's type, in the file's order.
    let read: Vec<(usize, usize, FieldType)> = columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.item.map(|p| (i, p, items[p].field_type)))
        .collect();
    let mut per_item: Vec<ColumnReport> = items
        .iter()
        .map(|d| ColumnReport {
            item: d.name.clone(),
            header: String::new(),
            nulls: 0,
            wrong_type: 0,
        })
        .collect();
    for &(i, p, _) in &read {
        per_item[p].header = columns[i].header.clone();
    }

    while reader.read_record(&mut record).map_err(io)? {
        report.rows += 1;
        let line = record.position().map_or(report.rows + 1, |p| p.line());
        if record.len() != width {
            report.add(
                Finding {
                    kind: FindingKind::RaggedRow {
                        expected: width,
                        found: record.len(),
                    },
                    line: Some(line),
                    column: None,
                    value: None,
                },
                max,
            );
        }
        for &(i, p, t) in &read {
            let cell = record.get(i).unwrap_or("").trim();
            let header = &columns[i].header;
            if cell.contains('\0') {
                report.add(
                    Finding {
                        kind: FindingKind::NulByte,
                        line: Some(line),
                        column: Some(cut(header)),
                        value: None,
                    },
                    max,
                );
                continue;
            }
            if cell.is_empty() {
                per_item[p].nulls += 1;
            } else if !conforms(t, cell) {
                per_item[p].wrong_type += 1;
                report.add(
                    Finding {
                        kind: FindingKind::WrongType(t),
                        line: Some(line),
                        column: Some(cut(header)),
                        value: Some(cut(cell)),
                    },
                    max,
                );
            }
        }
    }
    if report.rows == 0 {
        report.add(
            Finding {
                kind: FindingKind::HeaderOnly,
                line: None,
                column: None,
                value: None,
            },
            max,
        );
    }
    report.columns = per_item
        .into_iter()
        .filter(|c| !c.header.is_empty())
        .collect();
    Ok(report)
}
