//! Which column of a file holds which data item: by the item's field name (any case) or its
//! Chinese label. What cannot be matched is said, column by column.

use domain::openlist::dataset::DataItem;

/// Header names longer than this are refused as names (they are usually a stray line of text).
pub const MAX_HEADER_CHARS: usize = 128;

/// A column of the file and the data item it holds, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// As written in the file, trimmed.
    pub header: String,
    /// The index of the data item in the declaration.
    pub item: Option<usize>,
}

/// A problem with the header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    Blank {
        column: usize,
    },
    TooLong {
        column: usize,
    },
    Duplicate {
        column: usize,
        header: String,
    },
    /// No data item has this name or label; the column is not read.
    Unknown {
        column: usize,
        header: String,
    },
    /// A declared data item no column holds.
    Missing {
        item: String,
    },
}

/// Matches `headers` to `items`.
pub fn match_columns(headers: &[&str], items: &[DataItem]) -> (Vec<Column>, Vec<HeaderProblem>) {
    let mut problems = Vec::new();
    let mut taken = vec![false; items.len()];
    let mut columns = Vec::with_capacity(headers.len());
    let mut seen: Vec<String> = Vec::new();
    for (i, raw) in headers.iter().enumerate() {
        // A BOM left by an editor is not part of the first name.
        let header = raw.trim_start_matches('\u{feff}').trim().to_owned();
        let mut item = None;
        if header.is_empty() {
            problems.push(HeaderProblem::Blank { column: i });
        } else if header.chars().count() > MAX_HEADER_CHARS {
            problems.push(HeaderProblem::TooLong { column: i });
        } else if seen.iter().any(|s| s.eq_ignore_ascii_case(&header)) {
            problems.push(HeaderProblem::Duplicate {
                column: i,
                header: header.clone(),
            });
        } else {
            let named = items
                .iter()
                .position(|d| d.name.eq_ignore_ascii_case(&header) || d.label == header);
            match named {
                // The same item by its name in one column and its label in another.
                Some(p) if taken[p] => problems.push(HeaderProblem::Duplicate {
                    column: i,
                    header: header.clone(),
                }),
                Some(p) => {
                    taken[p] = true;
                    item = Some(p);
                }
                None => problems.push(HeaderProblem::Unknown {
                    column: i,
                    header: header.clone(),
                }),
            }
        }
        seen.push(header.clone());
        columns.push(Column { header, item });
    }
    for (p, d) in items.iter().enumerate() {
        if !taken[p] {
            problems.push(HeaderProblem::Missing {
                item: d.name.clone(),
            });
        }
    }
    (columns, problems)
}
