//! Reading providers' files as they come: encodings, headers, types, and bad bytes.

use std::io::Read;

use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::FieldType;
use kaifang_data::{
    DetectedBy, EncodingError, FindingKind, ReadOptions, Report, decoded, read_csv,
};
use proptest::prelude::*;

fn item(name: &str, label: &str, field_type: FieldType) -> DataItem {
    DataItem {
        name: name.into(),
        label: label.into(),
        field_type,
        unit: String::new(),
        description: String::new(),
        catalogue_item: None,
        rules: Default::default(),
    }
}

fn items() -> Vec<DataItem> {
    vec![
        item("name", "企业名称", FieldType::Text),
        item("district_code", "行政区划代码", FieldType::Code),
        item("capital", "注册资本", FieldType::Decimal),
        item("licensed_on", "发证日期", FieldType::Date),
    ]
}

/// Decodes `bytes` (as declared, if given) and reads them against `items()`.
fn read(
    bytes: &[u8],
    declared: Option<&str>,
) -> Result<(DetectedBy, &'static str, Report), String> {
    let (detected, reader) = decoded(bytes, declared)
        .unwrap()
        .map_err(|e| e.to_string())?;
    let report = read_csv(reader, &items(), &ReadOptions::default()).map_err(|e| e.to_string())?;
    Ok((detected.by, detected.name(), report))
}

const TABLE: &str = "企业名称,行政区划代码,注册资本,发证日期\n\
    上海示范数据科技有限公司,310101,100.5,2024-03-01\n\
    浦东新区测试餐饮店,310115,20,2023/12/31\n\
    黄浦区某某便利店,310101,,20240102\n";

#[test]
fn utf8_with_or_without_a_bom_reads_alike_and_codes_keep_their_zeros() {
    let plain = read(TABLE.as_bytes(), None).unwrap();
    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend_from_slice(TABLE.as_bytes());
    let bom = read(&with_bom, None).unwrap();
    assert_eq!((plain.0, plain.1), (DetectedBy::ValidUtf8, "UTF-8"));
    assert_eq!((bom.0, bom.1), (DetectedBy::Bom, "UTF-8"));
    for (_, _, r) in [&plain, &bom] {
        assert!(r.is_clean(), "{:?}", r.findings);
        assert_eq!(r.rows, 3);
        assert_eq!(r.columns.len(), 4);
        let capital = r.columns.iter().find(|c| c.item == "capital").unwrap();
        assert_eq!(capital.nulls, 1);
    }
    // A code with a leading zero is a code, not a number that loses its zero.
    let zeros = "行政区划代码,企业名称,注册资本,发证日期\n020000,甲,1,2024-01-01\n";
    assert!(read(zeros.as_bytes(), None).unwrap().2.is_clean());
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[test]
fn gbk_is_told_from_its_bytes_or_declared_and_utf16_from_its_bom() {
    let sniffed = read(&gbk(TABLE), None).unwrap();
    assert_eq!((sniffed.0, sniffed.1), (DetectedBy::Sniffed, "gb18030"));
    assert!(sniffed.2.is_clean() && sniffed.2.rows == 3);
    let declared = read(&gbk(TABLE), Some("GBK")).unwrap();
    assert_eq!((declared.0, declared.1), (DetectedBy::Declared, "GBK"));
    assert_eq!(declared.2.rows, 3);

    let mut utf16 = vec![0xFF, 0xFE];
    for unit in TABLE.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let r = read(&utf16, None).unwrap();
    assert_eq!((r.0, r.1), (DetectedBy::Bom, "UTF-16LE"));
    assert!(r.2.is_clean() && r.2.rows == 3);
}

#[test]
fn an_encoding_that_cannot_be_told_is_never_guessed_as_a_single_byte_one() {
    // Latin-1 text: a sniffer would call it windows-1252; the provider is asked instead.
    let latin = b"name,capital\ncaf\xe9 na\xefve,1\n";
    assert_eq!(
        read(latin, None).unwrap_err(),
        EncodingError::Undetermined.to_string()
    );
    assert!(read(latin, Some("latin1")).unwrap_err().contains("latin1"));
    assert!(read(latin, Some("no-such-encoding")).is_err());
}

#[test]
fn a_wrongly_declared_encoding_is_an_error_at_its_byte_never_replacement_characters() {
    let mut bytes = TABLE.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe\xfd,310101,1,2024-01-01\n");
    let at = TABLE.len();
    // Declared UTF-8, the bad bytes are said with their offset.
    let err = read(&bytes, Some("utf-8")).unwrap_err();
    assert!(err.contains(&format!("byte {at}")), "{err}");
    // GBK bytes read as UTF-8: refused, not turned into �.
    let bytes = gbk(TABLE);
    let (_, mut reader) = decoded(&bytes[..], Some("utf-8")).unwrap().unwrap();
    let mut text = String::new();
    assert!(reader.read_to_string(&mut text).is_err());
}

#[test]
fn header_problems_are_each_said_at_the_header_line() {
    let long = "长".repeat(200);
    let csv = format!("企业名称,,name,{long},备注,发证日期\n甲,x,乙,y,z,2024-01-01\n");
    let (_, _, r) = read(csv.as_bytes(), None).unwrap();
    let kinds: Vec<(&str, Option<&str>)> = r
        .findings
        .iter()
        .map(|f| (f.kind.code(), f.column.as_deref()))
        .collect();
    assert!(kinds.contains(&("blank_header", Some("#2"))), "{kinds:?}");
    assert!(
        kinds.contains(&("duplicate_header", Some("name"))),
        "{kinds:?}"
    );
    assert!(kinds.contains(&("long_header", Some("#4"))), "{kinds:?}");
    assert!(
        kinds.contains(&("unknown_column", Some("备注"))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("missing_item", Some("district_code"))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("missing_item", Some("capital"))),
        "{kinds:?}"
    );
    assert!(r.findings.iter().all(|f| f.line == Some(1)));
    assert_eq!(r.rows, 1);
}

#[test]
fn a_mixed_value_deep_in_the_file_is_found_at_its_line() {
    let mut csv = String::from("name,district_code,capital,licensed_on\n");
    for i in 0..50_000 {
        let capital = if i == 41_234 {
            "约100万".to_owned()
        } else {
            i.to_string()
        };
        csv.push_str(&format!("企业{i},310101,{capital},2024-01-01\n"));
    }
    let (_, _, r) = read(csv.as_bytes(), None).unwrap();
    assert_eq!(r.rows, 50_000);
    assert_eq!(r.count("wrong_type"), 1);
    let f = &r.findings[0];
    assert_eq!(f.kind, FindingKind::WrongType(FieldType::Decimal));
    // Line 1 is the header: data row 41,234 (counting from 0) is line 41,236.
    assert_eq!(f.line, Some(41_236));
    assert_eq!(f.column.as_deref(), Some("capital"));
    assert_eq!(f.value.as_deref(), Some("约100万"));
}

#[test]
fn nul_bytes_ragged_rows_and_a_header_alone_are_findings_not_crashes() {
    let csv = "name,district_code,capital,licensed_on\n甲\0乙,310101,1,2024-01-01\n丙,310101\n";
    let (_, _, r) = read(csv.as_bytes(), None).unwrap();
    assert_eq!(r.count("nul_byte"), 1);
    assert_eq!(r.count("ragged_row"), 1);
    let ragged = r
        .findings
        .iter()
        .find(|f| f.kind.code() == "ragged_row")
        .unwrap();
    assert_eq!(ragged.line, Some(3));

    let (_, _, only) = read(b"name,district_code,capital,licensed_on\n", None).unwrap();
    assert_eq!((only.rows, only.count("header_only")), (0, 1));
    assert!(read(b"", None).unwrap_err().contains("empty"));
}

#[test]
fn examples_are_bounded_while_every_finding_is_counted() {
    let mut csv = String::from("name,district_code,capital,licensed_on\n");
    // Rows differ by name: a repeated row would be a finding of its own.
    for i in 0..10_000 {
        csv.push_str(&format!("甲{i},310101,many,2024-02-30\n"));
    }
    let (_, _, r) = read(csv.as_bytes(), None).unwrap();
    assert_eq!(r.count("wrong_type"), 20_000);
    assert_eq!(r.findings.len(), 2 * ReadOptions::default().max_examples);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever text a text column holds, written as CSV, it reads back as that many rows
    /// with nothing wrong (each row numbered first, since a repeated row is a finding).
    #[test]
    fn any_text_in_a_text_column_reads_back(cells in proptest::collection::vec("[^\u{0}]{0,40}", 1..50)) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["name"]).unwrap();
        for (i, c) in cells.iter().enumerate() {
            w.write_record([format!("{i}{c}")]).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let only_name = vec![item("name", "名称", FieldType::Text)];
        let (_, reader) = decoded(&bytes[..], Some("utf-8")).unwrap().unwrap();
        let r = read_csv(reader, &only_name, &ReadOptions::default()).unwrap();
        prop_assert_eq!(r.rows, cells.len() as u64);
        prop_assert!(r.is_clean(), "{:?}", r.findings);
    }

    /// Any bytes at all: an answer, never a panic.
    #[test]
    fn any_bytes_get_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        for declared in [None, Some("utf-8"), Some("gb18030"), Some("utf-16le")] {
            if let Ok(Ok((_, reader))) = decoded(&bytes[..], declared) {
                let _ = read_csv(reader, &items(), &ReadOptions::default());
            }
        }
    }
}
