//! Data items suggested for a new entry made from a file: each column's type inferred over
//! every row, not a sample, for the provider to confirm. Only a suggestion: once declared, the
//! data items are the schema and files are read against them.

use std::io::Read;

use domain::bounded::MAX_DATA_ITEMS;
use domain::openlist::vocab::FieldType;

use crate::cells;
use crate::read::ReadError;

/// A data item as suggested from a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggested {
    /// The column's header.
    pub header: String,
    /// A field name: the header when it is one (`district_code`), else `column_N`.
    pub name: String,
    /// The Chinese label: the header when it has Chinese in it.
    pub label: String,
    pub field_type: FieldType,
    /// Rows with a value in this column.
    pub filled: u64,
}

impl Suggested {
    /// The data item as suggested, labelled with its header when that has no Chinese label.
    pub fn into_item(self) -> domain::openlist::dataset::DataItem {
        domain::openlist::dataset::DataItem {
            label: if self.label.is_empty() {
                self.header
            } else {
                self.label
            },
            name: self.name,
            field_type: self.field_type,
            unit: String::new(),
            description: String::new(),
            catalogue_item: None,
            rules: Default::default(),
        }
    }
}

/// Words in a header that make a column of digits a code (行政区划代码, 邮政编码, 电话):
/// numbers that are names, whose leading zeros and digits must be kept as written.
const CODE_WORDS: &[&str] = &[
    "代码", "编码", "编号", "邮编", "电话", "号码", "code", "id", "zip", "postcode", "phone", "tel",
];

#[derive(Default)]
struct Seen {
    filled: u64,
    integer: bool,
    decimal: bool,
    boolean: bool,
    date: bool,
    datetime: bool,
    point: bool,
    /// A value of digits only that starts with 0 (and is not "0").
    leading_zero: bool,
}

impl Seen {
    fn new() -> Self {
        Self {
            integer: true,
            decimal: true,
            boolean: true,
            date: true,
            datetime: true,
            point: true,
            ..Default::default()
        }
    }

    fn see(&mut self, v: &str) {
        self.filled += 1;
        let digits = v.bytes().all(|b| b.is_ascii_digit());
        self.leading_zero |= digits && v.len() > 1 && v.starts_with('0');
        self.integer &= cells::conforms(FieldType::Integer, v);
        self.decimal &= cells::conforms(FieldType::Decimal, v);
        // 1 and 0 alone are numbers more often than yes and no.
        self.boolean &= !digits && cells::boolean(v).is_some();
        self.date &= cells::date(v).is_some();
        self.datetime &= cells::datetime(v).is_some();
        self.point &= cells::point(v).is_some();
    }

    fn field_type(&self, header: &str) -> FieldType {
        let lower = header.to_lowercase();
        let code_word = CODE_WORDS.iter().any(|w| {
            if w.is_ascii() {
                lower
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|part| part == *w)
            } else {
                header.contains(w)
            }
        });
        match self {
            s if s.filled == 0 => FieldType::Text,
            s if s.integer && (s.leading_zero || code_word) => FieldType::Code,
            s if s.date => FieldType::Date,
            s if s.integer => FieldType::Integer,
            s if s.decimal => FieldType::Decimal,
            s if s.boolean => FieldType::Boolean,
            s if s.datetime => FieldType::DateTime,
            s if s.point => FieldType::Geometry,
            s if s.leading_zero => FieldType::Code,
            _ => FieldType::Text,
        }
    }
}

fn name_for(header: &str, column: usize) -> String {
    let ok = !header.is_empty()
        && header.len() <= 64
        && header.starts_with(|c: char| c.is_ascii_alphabetic())
        && header
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        header.to_ascii_lowercase()
    } else {
        format!("column_{}", column + 1)
    }
}

/// Reads the CSV text `input` (already UTF-8) to its end and suggests a data item per column.
/// A line longer than [`crate::ingest::MAX_LINE_BYTES`] is an error, as when ingesting; past
/// [`MAX_DATA_ITEMS`] columns the rows are not read and the headers come back as text, for the
/// caller to refuse.
pub fn infer_items(input: impl Read, delimiter: u8) -> Result<Vec<Suggested>, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(crate::ingest::LineBound::new(input));
    let mut record = csv::StringRecord::new();
    let io = |e: csv::Error| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.to_string(),
        ))
    };
    if !reader.read_record(&mut record).map_err(io)? {
        return Err(ReadError::Empty);
    }
    let headers: Vec<String> = record
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    let mut seen: Vec<Seen> = headers.iter().map(|_| Seen::new()).collect();
    while headers.len() <= MAX_DATA_ITEMS && reader.read_record(&mut record).map_err(io)? {
        for (s, cell) in seen.iter_mut().zip(record.iter()) {
            let v = cell.trim();
            if !v.is_empty() {
                s.see(v);
            }
        }
    }
    Ok(headers
        .iter()
        .zip(&seen)
        .enumerate()
        .map(|(i, (h, s))| Suggested {
            name: name_for(h, i),
            label: if h.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
                h.clone()
            } else {
                String::new()
            },
            field_type: s.field_type(h),
            filled: s.filled,
            header: h.clone(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(csv: &str) -> Vec<(String, FieldType)> {
        infer_items(csv.as_bytes(), b',')
            .unwrap()
            .into_iter()
            .map(|s| (s.name, s.field_type))
            .collect()
    }

    #[test]
    fn an_endless_line_or_too_many_columns_is_not_held() {
        use std::io::Read as _;
        let endless = std::io::repeat(b'a').take(crate::ingest::MAX_LINE_BYTES + 10);
        assert!(infer_items(endless, b',').is_err());
        // 501 columns: the headers come back (for the caller to refuse), the rows unread.
        let header: Vec<String> = (0..=MAX_DATA_ITEMS).map(|i| format!("c{i}")).collect();
        let text = format!("{}\n1,2,3\n", header.join(","));
        let got = infer_items(text.as_bytes(), b',').unwrap();
        assert_eq!(got.len(), MAX_DATA_ITEMS + 1);
        assert!(got.iter().all(|s| s.filled == 0));
    }

    #[test]
    fn codes_keep_their_digits_and_types_come_from_every_row() {
        let mut csv = String::from(
            "邮政编码,district_code,count,share,open,licensed_on,at,location,note,empty\n",
        );
        for i in 0..20_000 {
            csv.push_str(&format!(
                "{:06},310101,{i},0.{i},是,2024-01-01,2024-01-01 08:00,POINT (121.4 31.2),备注{i},\n",
                i % 1000
            ));
        }
        // One value deep in the file makes a whole column text: the whole file is read.
        csv.push_str(
            "200000,310101,unknown,0.5,否,2024-01-02,2024-01-01 09:00,POINT (121.5 31.3),x,\n",
        );
        let got = types(&csv);
        let expected = [
            ("column_1", FieldType::Code),
            ("district_code", FieldType::Code),
            ("count", FieldType::Text),
            ("share", FieldType::Decimal),
            ("open", FieldType::Boolean),
            ("licensed_on", FieldType::Date),
            ("at", FieldType::DateTime),
            ("location", FieldType::Geometry),
            ("note", FieldType::Text),
            ("empty", FieldType::Text),
        ];
        let expected: Vec<(String, FieldType)> = expected
            .iter()
            .map(|(n, t)| ((*n).to_owned(), *t))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn numbers_are_numbers_unless_their_header_says_code() {
        assert_eq!(
            types("年份,人数,电话号码\n2024,12,02161234567\n2025,13,02161234568\n"),
            [
                ("column_1".to_owned(), FieldType::Integer),
                ("column_2".to_owned(), FieldType::Integer),
                ("column_3".to_owned(), FieldType::Code),
            ]
        );
        let labels: Vec<String> = infer_items("名称,name\n甲,乙\n".as_bytes(), b',')
            .unwrap()
            .into_iter()
            .map(|s| s.label)
            .collect();
        assert_eq!(labels, ["名称", ""]);
    }
}
