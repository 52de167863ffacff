//! The entry's data items as an Arrow schema, and the columns a version's rows are built into.
//! Types come from the declaration: codes stay text with their leading zeros, decimals are
//! 64-bit floats, dates are days and times milliseconds (local time, as written), points are
//! kept as WKT text.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime};
use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::FieldType;

use crate::cells;

/// The Arrow type a data item's values are stored as.
pub fn arrow_type(t: FieldType) -> DataType {
    match t {
        FieldType::Text | FieldType::Code | FieldType::Geometry => DataType::Utf8,
        FieldType::Integer => DataType::Int64,
        FieldType::Decimal => DataType::Float64,
        FieldType::Boolean => DataType::Boolean,
        FieldType::Date => DataType::Date32,
        FieldType::DateTime => DataType::Timestamp(TimeUnit::Millisecond, None),
    }
}

/// The schema of a version: one nullable column per data item, named by its field name.
pub fn schema(items: &[DataItem]) -> SchemaRef {
    Arc::new(Schema::new(
        items
            .iter()
            .map(|d| Field::new(&d.name, arrow_type(d.field_type), true))
            .collect::<Vec<_>>(),
    ))
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a real date");

pub fn days(d: NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

pub fn millis(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_millis()
}

/// A typed value parsed from a cell that conforms to its type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Text(&'a str),
    Integer(i64),
    Decimal(f64),
    Boolean(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Point(&'a str, f64, f64),
}

impl Value<'_> {
    /// The value as a number, for ranges and histograms.
    pub fn number(&self) -> Option<f64> {
        match *self {
            Value::Integer(i) => Some(i as f64),
            Value::Decimal(f) => Some(f),
            Value::Date(d) => Some(days(d) as f64),
            Value::DateTime(t) => Some(millis(t) as f64),
            _ => None,
        }
    }
}

/// Parses a trimmed, non-empty cell as type `t`; `None` when it is not a value of that type.
/// With `format`, dates and times are read in that one way only.
pub fn parse<'a>(t: FieldType, cell: &'a str, format: Option<&str>) -> Option<Value<'a>> {
    Some(match t {
        FieldType::Text | FieldType::Code => Value::Text(cell),
        FieldType::Integer => Value::Integer(cell.parse().ok()?),
        FieldType::Decimal => {
            if !cells::conforms(FieldType::Decimal, cell) {
                return None;
            }
            Value::Decimal(cell.parse().ok()?)
        }
        FieldType::Boolean => Value::Boolean(cells::boolean(cell)?),
        FieldType::Date => Value::Date(match format {
            Some(f) => NaiveDate::parse_from_str(cell, f).ok()?,
            None => cells::date(cell)?,
        }),
        FieldType::DateTime => Value::DateTime(match format {
            Some(f) => NaiveDateTime::parse_from_str(cell, f).ok()?,
            None => cells::datetime(cell)?,
        }),
        FieldType::Geometry => {
            let (x, y) = cells::point(cell)?;
            Value::Point(cell, x, y)
        }
    })
}

/// One column being built.
pub enum ColumnBuilder {
    Text(StringBuilder),
    Integer(Int64Builder),
    Decimal(Float64Builder),
    Boolean(BooleanBuilder),
    Date(Date32Builder),
    DateTime(TimestampMillisecondBuilder),
}

impl ColumnBuilder {
    pub fn new(t: FieldType, capacity: usize) -> Self {
        match t {
            FieldType::Text | FieldType::Code | FieldType::Geometry => {
                ColumnBuilder::Text(StringBuilder::with_capacity(capacity, capacity * 16))
            }
            FieldType::Integer => ColumnBuilder::Integer(Int64Builder::with_capacity(capacity)),
            FieldType::Decimal => ColumnBuilder::Decimal(Float64Builder::with_capacity(capacity)),
            FieldType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            FieldType::Date => ColumnBuilder::Date(Date32Builder::with_capacity(capacity)),
            FieldType::DateTime => {
                ColumnBuilder::DateTime(TimestampMillisecondBuilder::with_capacity(capacity))
            }
        }
    }

    /// Appends `value`, or a null. A value of another type than the column's is a null: the
    /// caller parsed it with this column's type.
    pub fn push(&mut self, value: Option<Value<'_>>) {
        match (self, value) {
            (ColumnBuilder::Text(b), Some(Value::Text(s) | Value::Point(s, _, _))) => {
                b.append_value(s)
            }
            (ColumnBuilder::Integer(b), Some(Value::Integer(i))) => b.append_value(i),
            (ColumnBuilder::Decimal(b), Some(Value::Decimal(f))) => b.append_value(f),
            (ColumnBuilder::Boolean(b), Some(Value::Boolean(v))) => b.append_value(v),
            (ColumnBuilder::Date(b), Some(Value::Date(d))) => b.append_value(days(d)),
            (ColumnBuilder::DateTime(b), Some(Value::DateTime(t))) => b.append_value(millis(t)),
            (ColumnBuilder::Text(b), _) => b.append_null(),
            (ColumnBuilder::Integer(b), _) => b.append_null(),
            (ColumnBuilder::Decimal(b), _) => b.append_null(),
            (ColumnBuilder::Boolean(b), _) => b.append_null(),
            (ColumnBuilder::Date(b), _) => b.append_null(),
            (ColumnBuilder::DateTime(b), _) => b.append_null(),
        }
    }

    /// The column built so far; the builder starts again empty.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Integer(b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::DateTime(b) => Arc::new(b.finish()),
        }
    }
}
