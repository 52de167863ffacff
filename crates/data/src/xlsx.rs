//! A version written as an Excel workbook, for people who open data in a spreadsheet: the
//! field names in the first row, numbers as numbers, text as text (never run as a formula),
//! dates and times as written in CSV. Written row by row with the writer's constant-memory
//! mode, so a large version does not sit in memory.

use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use rust_xlsxwriter::{Format, Workbook};

/// The rows a worksheet holds, the header included.
pub const MAX_ROWS: u64 = 1_048_576;

#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    #[error("{0} rows do not fit in a worksheet (at most 1,048,575): download CSV instead")]
    TooManyRows(u64),
    #[error("cannot write the workbook: {0}")]
    Write(String),
}

fn write_err(e: impl std::fmt::Display) -> XlsxError {
    XlsxError::Write(e.to_string())
}

/// Writes the Parquet file at `parquet` as a workbook at `out`.
pub fn write_xlsx(parquet: &Path, out: &Path) -> Result<(), XlsxError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(parquet).map_err(write_err)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(write_err)?;
    let rows = builder.metadata().file_metadata().num_rows() as u64;
    if rows + 1 > MAX_ROWS {
        return Err(XlsxError::TooManyRows(rows));
    }
    let schema = builder.schema().clone();
    let reader = builder.with_batch_size(8192).build().map_err(write_err)?;
    let mut book = Workbook::new();
    let sheet = book
        .add_worksheet_with_constant_memory()
        .map_err(write_err)?;
    let bold = Format::new().set_bold();
    for (c, f) in schema.fields().iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, f.name(), &bold)
            .map_err(write_err)?;
    }
    let mut row: u32 = 1;
    for batch in reader {
        let batch = batch.map_err(write_err)?;
        for r in 0..batch.num_rows() {
            for (c, col) in batch.columns().iter().enumerate() {
                if col.is_null(r) {
                    continue;
                }
                let c = c as u16;
                match col.data_type() {
                    DataType::Int64 => {
                        sheet.write_number(row, c, col.as_primitive::<Int64Type>().value(r) as f64)
                    }
                    DataType::Float64 => {
                        sheet.write_number(row, c, col.as_primitive::<Float64Type>().value(r))
                    }
                    DataType::Boolean => sheet.write_boolean(row, c, col.as_boolean().value(r)),
                    _ => sheet.write_string(row, c, crate::records::text(col.as_ref(), r)),
                }
                .map_err(write_err)?;
            }
            row += 1;
        }
    }
    book.save(out).map_err(write_err)
}
