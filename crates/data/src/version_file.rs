//! The Parquet file of a version being written. It is opened at its first batch of rows, which
//! decides how each column is encoded: a column whose values mostly differ from each other
//! (names, identifiers, amounts, coordinates) is written plain, since building a dictionary of
//! values that do not repeat costs time and makes the file larger; a column of few values
//! (districts, kinds, dates) keeps its dictionary.

use std::collections::HashSet;
use std::io::Write;

use arrow::array::{Array, AsArray};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

/// Rows per Parquet row group: small enough for filters to skip groups by their statistics.
pub const ROW_GROUP_ROWS: usize = 131_072;

/// Values of a column in the first batch below which its encoding is left to the default.
const JUDGED_FROM: usize = 1_024;

type Sink<'a> = Box<dyn Write + Send + 'a>;

pub struct VersionFile<'a> {
    schema: SchemaRef,
    /// Where the file goes, until its first batch opens it.
    out: Option<Sink<'a>>,
    writer: Option<Box<ArrowWriter<Sink<'a>>>>,
}

impl<'a> VersionFile<'a> {
    pub fn new(out: Sink<'a>, schema: SchemaRef) -> Self {
        Self {
            schema,
            out: Some(out),
            writer: None,
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ParquetError> {
        self.open(Some(batch))?.write(batch)
    }

    /// Ends the file (a file of no rows is still a Parquet file, of the schema).
    pub fn close(mut self) -> Result<(), ParquetError> {
        self.open(None)?;
        match self.writer {
            Some(writer) => writer.close().map(|_| ()),
            None => Ok(()),
        }
    }

    fn open(
        &mut self,
        first: Option<&RecordBatch>,
    ) -> Result<&mut ArrowWriter<Sink<'a>>, ParquetError> {
        if let Some(out) = self.out.take() {
            let mut props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
            for (p, field) in self.schema.fields().iter().enumerate() {
                if first.is_some_and(|b| mostly_distinct(b.column(p).as_ref())) {
                    let column = ColumnPath::from(field.name().as_str());
                    props = props.set_column_dictionary_enabled(column, false);
                }
            }
            let writer = ArrowWriter::try_new(out, self.schema.clone(), Some(props.build()))?;
            self.writer = Some(Box::new(writer));
        }
        self.writer
            .as_deref_mut()
            .ok_or_else(|| ParquetError::General("the file is closed".into()))
    }
}

/// Whether more than half of a column's values (of the first [`JUDGED_FROM`] or more) are
/// different from each other. Text is compared as text, other values by their bytes.
fn mostly_distinct(column: &dyn Array) -> bool {
    let values = column.len() - column.null_count();
    if values < JUDGED_FROM {
        return false;
    }
    let half = values / 2;
    let present = (0..column.len()).filter(|&i| column.is_valid(i));
    if let Some(text) = column.as_string_opt::<i32>() {
        let mut seen = HashSet::with_capacity(half + 1);
        return present.map(|i| text.value(i)).any(|v| {
            seen.insert(v);
            seen.len() > half
        });
    }
    let data = column.to_data();
    let Some(width) = data.data_type().primitive_width() else {
        return false;
    };
    let bytes = &data.buffers()[0].as_slice()[data.offset() * width..];
    let mut seen = HashSet::with_capacity(half + 1);
    present
        .map(|i| &bytes[i * width..(i + 1) * width])
        .any(|v| {
            seen.insert(v);
            seen.len() > half
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    #[test]
    fn columns_of_mostly_different_values_are_written_without_a_dictionary() {
        let n = 4_000;
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "name",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("上海企业{i}")),
                )),
            ),
            (
                "district",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| ["黄浦区", "徐汇区", "长宁区"][i % 3]),
                )),
            ),
            (
                "capital",
                Arc::new(Float64Array::from_iter_values(
                    (0..n).map(|i| i as f64 / 7.0),
                )),
            ),
            (
                "year",
                Arc::new(Int64Array::from_iter_values(
                    (0..n).map(|i| 1995 + i as i64 % 30),
                )),
            ),
            (
                "open",
                Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 2 == 0)))),
            ),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, c)| Field::new(*name, c.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch =
            RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect())
                .unwrap();
        let mut out = Vec::new();
        let mut file = VersionFile::new(Box::new(&mut out), schema);
        file.write(&batch).unwrap();
        file.write(&batch).unwrap();
        file.close().unwrap();

        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out)).unwrap();
        let metadata = reader.metadata().clone();
        let group = metadata.row_group(0);
        let dictionary: Vec<(String, bool)> = group
            .columns()
            .iter()
            .map(|c| {
                (
                    c.column_path().string(),
                    c.dictionary_page_offset().is_some(),
                )
            })
            .collect();
        let expected = [
            ("name", false),
            ("district", true),
            ("capital", false),
            ("year", true),
            ("open", false),
        ];
        let expected: Vec<(String, bool)> = expected
            .iter()
            .map(|(n, d)| ((*n).to_owned(), *d))
            .collect();
        assert_eq!(dictionary, expected);
        let rows: usize = reader.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 2 * n);
        assert_eq!(group.num_rows(), 2 * n as i64);
    }

    #[test]
    fn a_file_of_no_rows_is_a_parquet_file_of_the_schema() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true)]));
        let mut out = Vec::new();
        VersionFile::new(Box::new(&mut out), schema.clone())
            .close()
            .unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out)).unwrap();
        assert_eq!(reader.schema().fields().len(), 1);
        assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
    }
}
