//! The formats a provider's file may come in besides CSV, each turned into the same rows of
//! text cells the ingestion reads (so every format meets the same declaration, quality gate and
//! findings at their row): spreadsheets (XLSX, XLS), JSON (an array of objects, or one object a
//! line), GeoJSON (a feature collection: the properties, and the geometry as WKT) and Parquet.
//! A spreadsheet is a zip archive whose parts are checked before it is opened, so a zip bomb
//! named `.xlsx` is refused by its declared sizes rather than unpacked.

use std::collections::HashMap;
use std::io::{BufRead, Read, Seek};
use std::path::Path;

use csv::StringRecord;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::read::ReadError;

/// What the archive of a spreadsheet may unpack to.
pub const MAX_UNPACKED_BYTES: u64 = 1 << 30;
/// How much larger than its packed size any part of an archive may be: ordinary XML
/// compresses about tenfold, a bomb thousands of times.
pub const MAX_RATIO: u64 = 200;

fn invalid(what: impl std::fmt::Display) -> ReadError {
    ReadError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        what.to_string(),
    ))
}

/// A source's header and its rows, each with the line (or row, or record number) it is at.
pub struct Rows {
    pub header: Vec<String>,
    pub rows: Box<dyn Iterator<Item = Result<(u64, StringRecord), ReadError>> + Send>,
}

/// Refuses an archive whose parts would unpack to more than [`MAX_UNPACKED_BYTES`] or by more
/// than [`MAX_RATIO`] times, reading only its directory.
pub fn check_archive(file: impl Read + Seek) -> Result<(), ReadError> {
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| invalid(format!("not a spreadsheet: {e}")))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip
            .by_index_raw(i)
            .map_err(|e| invalid(format!("a broken spreadsheet: {e}")))?;
        let (size, packed) = (part.size(), part.compressed_size().max(1));
        total = total.saturating_add(size);
        if size > 1 << 20 && size / packed > MAX_RATIO {
            return Err(invalid(
                "the spreadsheet unpacks to far more than its size (a zip bomb)",
            ));
        }
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(invalid("the spreadsheet unpacks to more than 1 GB"));
    }
    Ok(())
}

fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // A whole number stored as a float (as spreadsheets store every number) reads as one.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(t) => match t.as_datetime() {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.format("%Y-%m-%d").to_string(),
            Some(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => t.as_f64().to_string(),
        },
    }
}

/// The first sheet of the spreadsheet at `path` (XLSX, or the older XLS): its first row is
/// the header.
pub fn spreadsheet(path: &Path) -> Result<Rows, ReadError> {
    use calamine::Reader;
    let mut head = [0u8; 4];
    std::fs::File::open(path)?
        .read_exact(&mut head)
        .map_err(|_| ReadError::Empty)?;
    if head == *b"PK\x03\x04" {
        check_archive(std::fs::File::open(path)?)?;
    }
    let mut book = calamine::open_workbook_auto(path)
        .map_err(|e| invalid(format!("not a spreadsheet: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(ReadError::Empty)?
        .map_err(|e| invalid(format!("a broken spreadsheet: {e}")))?;
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or(ReadError::Empty)?
        .iter()
        .map(cell_text)
        .collect();
    let body: Vec<(u64, StringRecord)> = rows
        .enumerate()
        .map(|(i, r)| {
            // Trailing empty cells are the sheet's width, not the row's.
            let mut cells: Vec<String> = r.iter().map(cell_text).collect();
            while cells.len() > header.len() && cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            (i as u64 + 2, StringRecord::from(cells))
        })
        .filter(|(_, r)| r.iter().any(|c| !c.is_empty()))
        .collect();
    Ok(Rows {
        header,
        rows: Box::new(body.into_iter().map(Ok)),
    })
}

/// A JSON value as a cell: text as it is, numbers and booleans as written, nested values as
/// JSON.
fn json_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Turns objects into records in the order of the first one's keys; keys it lacked come after,
/// and make the row longer than the header (a finding at that row).
struct Objects {
    header: Vec<String>,
    index: HashMap<String, usize>,
}

impl Objects {
    fn new(first: &Map<String, Value>) -> Self {
        let header: Vec<String> = first.keys().cloned().collect();
        let index = header
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        Self { header, index }
    }

    fn record(&self, o: &Map<String, Value>) -> StringRecord {
        let mut cells = vec![String::new(); self.header.len()];
        let mut extra = Vec::new();
        for (k, v) in o {
            match self.index.get(k) {
                Some(&i) => cells[i] = json_text(v),
                None => extra.push(json_text(v)),
            }
        }
        cells.extend(extra);
        StringRecord::from(cells)
    }
}

/// One object a line (NDJSON), read as it streams.
pub fn ndjson(input: impl BufRead + Send + 'static) -> Result<Rows, ReadError> {
    let mut lines = input
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()));
    let parse =
        |n: usize, line: std::io::Result<String>| -> Result<Map<String, Value>, ReadError> {
            let line = line?;
            match serde_json::from_str::<Value>(&line) {
                Ok(Value::Object(o)) => Ok(o),
                Ok(_) => Err(invalid(format!("line {}: not a JSON object", n + 1))),
                Err(e) => Err(invalid(format!("line {}: {e}", n + 1))),
            }
        };
    let (n, first) = lines.next().ok_or(ReadError::Empty)?;
    let first = parse(n, first)?;
    let objects = Objects::new(&first);
    let header = objects.header.clone();
    let first_record = objects.record(&first);
    let rest = lines.map(move |(n, l)| parse(n, l).map(|o| (n as u64 + 1, objects.record(&o))));
    Ok(Rows {
        header,
        rows: Box::new(std::iter::once(Ok((n as u64 + 1, first_record))).chain(rest)),
    })
}

/// Hands each element of a JSON array of objects to `each` as it is read.
struct Elements<'f, F>(&'f mut F);

impl<'de, F> Visitor<'de> for Elements<'_, F>
where
    F: FnMut(Map<String, Value>) -> Result<(), String>,
{
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(o) = seq.next_element::<Map<String, Value>>()? {
            (self.0)(o).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

impl<'de, F> DeserializeSeed<'de> for Elements<'_, F>
where
    F: FnMut(Map<String, Value>) -> Result<(), String>,
{
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// A GeoJSON feature collection's `features`, each handed on as it is read; other members
/// are skipped.
struct Features<'f, F>(&'f mut F);

impl<'de, F> Visitor<'de> for Features<'_, F>
where
    F: FnMut(Map<String, Value>) -> Result<(), String>,
{
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a GeoJSON feature collection")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "features" {
                map.next_value_seed(Elements(&mut *self.0))?;
                found = true;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        if found {
            Ok(())
        } else {
            Err(serde::de::Error::custom("no features"))
        }
    }
}

/// A feature's properties with its geometry as WKT under `column` (points as
/// `POINT (x y)`; other shapes as their GeoJSON text).
fn feature_row(mut f: Map<String, Value>, column: &str) -> Map<String, Value> {
    let mut row = match f.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let wkt = match f.remove("geometry") {
        Some(Value::Object(g)) if g.get("type") == Some(&Value::from("Point")) => {
            match g.get("coordinates").and_then(Value::as_array) {
                Some(c) if c.len() >= 2 => Value::String(format!("POINT ({} {})", c[0], c[1])),
                _ => Value::Null,
            }
        }
        Some(Value::Null) | None => Value::Null,
        Some(other) => Value::String(other.to_string()),
    };
    row.insert(column.to_owned(), wkt);
    row
}

/// Reads a JSON array of objects, or a GeoJSON feature collection (its geometry put under
/// the column `geometry` names), through `each`, without holding the document in memory.
fn json_document(
    input: impl Read,
    geometry: Option<&str>,
    mut each: impl FnMut(Map<String, Value>) -> Result<(), String>,
) -> Result<(), ReadError> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let read = match geometry {
        Some(column) => {
            let mut rows = |f: Map<String, Value>| each(feature_row(f, column));
            de.deserialize_map(Features(&mut rows))
        }
        None => de.deserialize_seq(Elements(&mut each)),
    };
    read.map_err(invalid)?;
    de.end()
        .map_err(|e| invalid(format!("after the data: {e}")))
}

/// A JSON array of objects (or, with `geometry`, a GeoJSON feature collection whose geometry
/// becomes that column) as rows, read on a thread of its own and handed over a short channel:
/// a document of any size streams.
pub fn json(
    input: impl Read + Send + 'static,
    geometry: Option<String>,
) -> Result<Rows, ReadError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Map<String, Value>, ReadError>>(1024);
    std::thread::spawn(move || {
        let sent = tx.clone();
        let result = json_document(input, geometry.as_deref(), |o| {
            sent.send(Ok(o)).map_err(|_| "stopped".to_owned())
        });
        if let Err(e) = result {
            let _ = tx.send(Err(e));
        }
    });
    let first = match rx.recv() {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(ReadError::Empty),
    };
    let objects = Objects::new(&first);
    let header = objects.header.clone();
    let first_record = objects.record(&first);
    let rest = rx
        .into_iter()
        .enumerate()
        .map(move |(i, o)| o.map(|o| (i as u64 + 2, objects.record(&o))));
    Ok(Rows {
        header,
        rows: Box::new(std::iter::once(Ok((1, first_record))).chain(rest)),
    })
}

/// A Parquet file's rows, its columns' names as the header, batch by batch.
pub fn parquet(path: &Path) -> Result<Rows, ReadError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| invalid(format!("not a Parquet file: {e}")))?
        .with_batch_size(8192);
    let header: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let reader = builder
        .build()
        .map_err(|e| invalid(format!("a broken Parquet file: {e}")))?;
    let mut line = 0u64;
    let rows = reader.flat_map(
        move |batch| -> Vec<Result<(u64, StringRecord), ReadError>> {
            match batch {
                Err(e) => vec![Err(invalid(e))],
                Ok(b) => {
                    // Every Arrow type written as text the way Arrow writes it.
                    let text: Result<Vec<_>, _> = b
                        .columns()
                        .iter()
                        .map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8))
                        .collect();
                    let text = match text {
                        Ok(t) => t,
                        Err(e) => return vec![Err(invalid(e))],
                    };
                    (0..b.num_rows())
                        .map(|r| {
                            line += 1;
                            let cells: Vec<String> = text
                                .iter()
                                .map(|c| {
                                    use arrow::array::{Array, AsArray};
                                    if c.is_null(r) {
                                        String::new()
                                    } else {
                                        c.as_string::<i32>().value(r).to_owned()
                                    }
                                })
                                .collect();
                            Ok((line, StringRecord::from(cells)))
                        })
                        .collect()
                }
            }
        },
    );
    Ok(Rows {
        header,
        rows: Box::new(rows),
    })
}
