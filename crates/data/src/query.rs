//! The records API's query language, parsed from the query string into typed filters before
//! anything runs: `field=value` or `field__op=value` (Datasette's style), with `q` for words
//! anywhere, `fields` to choose columns, `sort` (`-field` for descending), `limit`, `cursor`,
//! `offset`, `format` and `total`. Every filter names a data item and carries a value of its
//! type, so a filter on an unknown field or with a value of the wrong type is refused with its
//! reason, never run.

use arrow::datatypes::{DataType, Schema};
use serde::Serialize;

use crate::table::{days, millis};

/// Rows one page may hold.
pub const MAX_LIMIT: usize = 32_000;
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `offset`: beyond it, page with the cursor.
pub const MAX_OFFSET: usize = 10_000;
/// Filters one query may carry.
pub const MAX_FILTERS: usize = 32;
/// Values an `in` filter may list.
pub const MAX_IN: usize = 100;
/// Words `q` may hold, all its occurrences together.
pub const MAX_WORDS: usize = 10;
/// Characters of a filter value or of `q`.
pub const MAX_VALUE_CHARS: usize = 200;

/// The comparisons a filter may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Contains,
    StartsWith,
    IsNull,
}

impl Op {
    pub const ALL: &'static [(Op, &'static str)] = &[
        (Op::Eq, "eq"),
        (Op::Ne, "ne"),
        (Op::Gt, "gt"),
        (Op::Gte, "gte"),
        (Op::Lt, "lt"),
        (Op::Lte, "lte"),
        (Op::In, "in"),
        (Op::Contains, "contains"),
        (Op::StartsWith, "startswith"),
        (Op::IsNull, "isnull"),
    ];

    fn parse(s: &str) -> Option<Op> {
        Op::ALL.iter().find(|(_, n)| *n == s).map(|(o, _)| *o)
    }
}

/// A filter value, of its column's type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Integer(i64),
    Decimal(f64),
    Boolean(bool),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds since 1970-01-01 00:00.
    DateTime(i64),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filter {
    pub column: usize,
    pub field: String,
    pub op: Op,
    /// One value; several for `in`; for `isnull`, whether nulls are wanted (as a boolean).
    pub values: Vec<Scalar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Csv,
    Ndjson,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sort {
    pub column: usize,
    pub descending: bool,
}

/// A whole records query, parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// Words that must each appear in some text column of the row.
    pub words: Vec<String>,
    /// The columns to return, in order; all when empty.
    pub fields: Vec<usize>,
    pub sort: Option<Sort>,
    pub limit: usize,
    pub offset: usize,
    pub cursor: Option<String>,
    pub format: Format,
    /// Count every match (`total=exact`) rather than stop at the page (`total=estimate`, the
    /// default for pages after the first).
    pub exact_total: bool,
}

/// Why a query was refused: a stable code, the parameter, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryError {
    pub code: &'static str,
    pub param: String,
    pub detail: Option<String>,
}

impl QueryError {
    fn new(code: &'static str, param: &str, detail: Option<String>) -> Self {
        QueryError {
            code,
            param: param.chars().take(MAX_VALUE_CHARS).collect(),
            detail: detail.map(|d| d.chars().take(MAX_VALUE_CHARS).collect()),
        }
    }
}

fn column(schema: &Schema, name: &str, param: &str) -> Result<usize, QueryError> {
    schema
        .index_of(name)
        .map_err(|_| QueryError::new("unknown_field", param, Some(name.to_owned())))
}

/// Parses `value` as a value of `t`.
pub fn scalar(t: &DataType, value: &str) -> Option<Scalar> {
    let v = value.trim();
    Some(match t {
        DataType::Int64 => Scalar::Integer(v.parse().ok()?),
        DataType::Float64 => {
            let f: f64 = v.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            Scalar::Decimal(f)
        }
        DataType::Boolean => Scalar::Boolean(crate::cells::boolean(v)?),
        DataType::Date32 => Scalar::Date(days(crate::cells::date(v)?)),
        DataType::Timestamp(_, _) => match crate::cells::datetime(v) {
            Some(t) => Scalar::DateTime(millis(t)),
            // A date alone is its midnight, so `time__gte=2024-03-01` reads as people mean it.
            None => Scalar::DateTime(millis(crate::cells::date(v)?.and_hms_opt(0, 0, 0)?)),
        },
        _ => Scalar::Text(value.to_owned()),
    })
}

/// One filter on `name` of `schema`, its `values` read as the column's type; `key` names the
/// parameter in errors.
pub fn condition(
    schema: &Schema,
    name: &str,
    op: Op,
    values: &[&str],
    key: &str,
) -> Result<Filter, QueryError> {
    let c = column(schema, name, key)?;
    let t = schema.field(c).data_type();
    let text = matches!(t, DataType::Utf8);
    let invalid = |v: &str| QueryError::new("invalid_value", key, Some(v.to_owned()));
    let values = match op {
        Op::IsNull => {
            let [v] = values else {
                return Err(QueryError::new("invalid_value", key, None));
            };
            vec![Scalar::Boolean(
                crate::cells::boolean(v).ok_or_else(|| invalid(v))?,
            )]
        }
        Op::In => {
            if values.len() > MAX_IN {
                return Err(QueryError::new("too_many_values", key, None));
            }
            values
                .iter()
                .map(|p| scalar(t, p).ok_or_else(|| invalid(p)))
                .collect::<Result<_, _>>()?
        }
        Op::Contains | Op::StartsWith if !text => {
            return Err(QueryError::new("operator_needs_text", key, None));
        }
        _ => {
            let [v] = values else {
                return Err(QueryError::new("invalid_value", key, None));
            };
            vec![scalar(t, v).ok_or_else(|| invalid(v))?]
        }
    };
    Ok(Filter {
        column: c,
        field: name.to_owned(),
        op,
        values,
    })
}

/// Parses a records query from the query string's pairs against the version's `schema`.
pub fn parse(pairs: &[(String, String)], schema: &Schema) -> Result<Query, QueryError> {
    let mut q = Query {
        filters: Vec::new(),
        words: Vec::new(),
        fields: Vec::new(),
        sort: None,
        limit: DEFAULT_LIMIT,
        offset: 0,
        cursor: None,
        format: Format::Json,
        exact_total: false,
    };
    let mut total = None;
    for (key, value) in pairs {
        if value.chars().count() > MAX_VALUE_CHARS * (MAX_IN / 10).max(1) {
            return Err(QueryError::new("too_long", key, None));
        }
        match key.as_str() {
            "q" => {
                if value.chars().count() > MAX_VALUE_CHARS {
                    return Err(QueryError::new("too_long", key, None));
                }
                q.words
                    .extend(value.split_whitespace().map(str::to_lowercase));
                if q.words.len() > MAX_WORDS {
                    return Err(QueryError::new(
                        "too_many_words",
                        key,
                        Some(MAX_WORDS.to_string()),
                    ));
                }
            }
            "fields" => {
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let c = column(schema, name, key)?;
                    if !q.fields.contains(&c) {
                        q.fields.push(c);
                    }
                }
            }
            "sort" => {
                let (name, descending) = match value.strip_prefix('-') {
                    Some(n) => (n, true),
                    None => (value.as_str(), false),
                };
                q.sort = Some(Sort {
                    column: column(schema, name.trim(), key)?,
                    descending,
                });
            }
            "limit" => {
                q.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        QueryError::new("invalid_limit", key, Some(format!("1-{MAX_LIMIT}")))
                    })?;
            }
            "offset" => {
                q.offset = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MAX_OFFSET)
                    .ok_or_else(|| {
                        QueryError::new("invalid_offset", key, Some(format!("0-{MAX_OFFSET}")))
                    })?;
            }
            "cursor" => q.cursor = Some(value.clone()),
            "format" => {
                q.format = match value.as_str() {
                    "json" => Format::Json,
                    "csv" => Format::Csv,
                    "ndjson" => Format::Ndjson,
                    _ => return Err(QueryError::new("invalid_format", key, Some(value.clone()))),
                }
            }
            "total" => {
                total = Some(match value.as_str() {
                    "exact" => true,
                    "estimate" => false,
                    _ => return Err(QueryError::new("invalid_total", key, Some(value.clone()))),
                })
            }
            _ => {
                let (name, op) = match key.rsplit_once("__") {
                    Some((name, op)) => (
                        name,
                        Op::parse(op).ok_or_else(|| {
                            QueryError::new("unknown_operator", key, Some(op.to_owned()))
                        })?,
                    ),
                    None => (key.as_str(), Op::Eq),
                };
                if q.filters.len() == MAX_FILTERS {
                    return Err(QueryError::new("too_many_filters", key, None));
                }
                let parts: Vec<&str> = match op {
                    Op::In => value.split(',').collect(),
                    _ => vec![value.as_str()],
                };
                q.filters.push(condition(schema, name, op, &parts, key)?);
            }
        }
    }
    if q.cursor.is_some() && q.offset > 0 {
        return Err(QueryError::new("cursor_and_offset", "offset", None));
    }
    q.exact_total = total.unwrap_or(q.cursor.is_none());
    Ok(q)
}
