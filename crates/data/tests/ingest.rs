//! Ingesting a file: typed Parquet columns written as read, the quality gate's rules, duplicate
//! rows and keys, the list of failing rows and the profile. Expected values are written out
//! by hand from the input text.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
use domain::openlist::dataset::DataItem;
use domain::openlist::rules::{ItemRules, ValueCheck};
use domain::openlist::vocab::FieldType;
use kaifang_data::gate::Verdict;
use kaifang_data::ingest::{IngestOptions, Outcome, Sinks, ingest_csv};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn item(name: &str, label: &str, field_type: FieldType, rules: ItemRules) -> DataItem {
    DataItem {
        name: name.into(),
        label: label.into(),
        field_type,
        unit: String::new(),
        description: String::new(),
        catalogue_item: None,
        rules,
    }
}

fn items() -> Vec<DataItem> {
    vec![
        item(
            "uscc",
            "统一社会信用代码",
            FieldType::Code,
            ItemRules {
                required: true,
                key: true,
                check: Some(ValueCheck::CreditCode),
                ..Default::default()
            },
        ),
        item("name", "企业名称", FieldType::Text, ItemRules::default()),
        item(
            "district",
            "所属区",
            FieldType::Text,
            ItemRules {
                allowed: vec!["黄浦区".into(), "浦东新区".into()],
                ..Default::default()
            },
        ),
        item(
            "capital",
            "注册资本",
            FieldType::Decimal,
            ItemRules {
                min: Some(0.0),
                ..Default::default()
            },
        ),
        item("staff", "员工数", FieldType::Integer, ItemRules::default()),
        item(
            "licensed_on",
            "发证日期",
            FieldType::Date,
            ItemRules::default(),
        ),
        item(
            "postcode",
            "邮政编码",
            FieldType::Code,
            ItemRules {
                check: Some(ValueCheck::Postcode),
                ..Default::default()
            },
        ),
    ]
}

struct Ingested {
    outcome: Outcome,
    parquet: Vec<u8>,
    failures: String,
}

fn ingest(text: &str, items: &[DataItem]) -> Ingested {
    let mut parquet = Vec::new();
    let mut failures = Vec::new();
    let (outcome, _) = ingest_csv(
        text.as_bytes(),
        items,
        IngestOptions::default(),
        Sinks {
            parquet: Some(Box::new(&mut parquet)),
            failures: Some(Box::new(&mut failures)),
        },
        Arc::default(),
    )
    .unwrap();
    Ingested {
        outcome,
        parquet,
        failures: String::from_utf8(failures).unwrap(),
    }
}

const GOOD: &str = "统一社会信用代码,企业名称,所属区,注册资本,员工数,发证日期,邮政编码\n\
    91350100M000100Y43,上海示范数据科技有限公司,黄浦区,100.5,12,2024-03-01,200001\n\
    91310000MA1FL0XY4N,浦东新区测试餐饮店,浦东新区,,3,2023/12/31,020000\n";

#[test]
fn a_clean_file_becomes_typed_columns_and_passes() {
    let got = ingest(GOOD, &items());
    let r = &got.outcome.report;
    assert_eq!(r.verdict, Verdict::Passed, "{:?}", r.findings);
    assert_eq!((r.rows, r.bad_rows, r.score), (2, 0, 100.0));
    let mut reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(got.parquet))
        .unwrap()
        .build()
        .unwrap();
    let batch = reader.next().unwrap().unwrap();
    assert_eq!(batch.num_rows(), 2);
    let schema = batch.schema();
    assert_eq!(schema.field(0).name(), "uscc");
    assert_eq!(schema.field(3).data_type(), &DataType::Float64);
    // Codes keep their leading zeros.
    assert_eq!(batch.column(6).as_string::<i32>().value(1), "020000");
    let capital = batch.column(3).as_primitive::<Float64Type>();
    assert_eq!(capital.value(0), 100.5);
    assert!(capital.is_null(1));
    assert_eq!(batch.column(4).as_primitive::<Int64Type>().value(1), 3);
    // 2023-12-31 is day 19722 after 1970-01-01.
    assert_eq!(batch.column(5).as_primitive::<Date32Type>().value(1), 19722);
    assert!(
        got.failures.lines().count() == 1,
        "only the header: {}",
        got.failures
    );
}

#[test]
fn each_rule_is_found_at_its_row_and_the_failing_rows_are_listed() {
    let text = "统一社会信用代码,企业名称,所属区,注册资本,员工数,发证日期,邮政编码\n\
        91350100M000100Y43,甲,黄浦区,1,1,2024-03-01,200001\n\
        91350100M000100Y44,乙,黄浦区,1,1,2024-03-01,200001\n\
        ,丙,黄浦区,1,1,2024-03-01,200001\n\
        91310000MA1FL0XY4N,丁,徐汇区,1,1,2024-03-01,200001\n\
        91310000MA1FL0XY4N,戊,黄浦区,-5,1,2024-03-01,2000\n\
        91310000MA1FL0XY4N,己,黄浦区,1,一,2024-03-01,200001\n";
    let got = ingest(text, &items());
    let r = &got.outcome.report;
    assert_eq!(r.verdict, Verdict::Refused);
    assert_eq!((r.rows, r.bad_rows), (6, 5));
    let at = |code: &str| {
        r.findings
            .iter()
            .filter(|f| f.code == code)
            .map(|f| f.line.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(at("check_credit_code"), [3]);
    assert_eq!(at("required"), [4]);
    assert_eq!(at("not_allowed"), [5]);
    assert_eq!(at("below_min"), [6]);
    assert_eq!(at("check_postcode"), [6]);
    assert_eq!(at("wrong_type"), [7]);
    // Lines 6 and 7 repeat line 5's key.
    assert_eq!(at("duplicate_key"), [6, 7]);
    let dup = r
        .findings
        .iter()
        .find(|f| f.code == "duplicate_key")
        .unwrap();
    assert_eq!(dup.detail.as_deref(), Some("5"));
    let listed: Vec<&str> = got
        .failures
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(listed, ["3", "4", "5", "6", "7"]);
    assert!(got.failures.contains("丁"), "rows are listed as read");
    // 1 of 6 rows clean.
    assert_eq!(r.score, 16.6);
}

#[test]
fn without_a_key_whole_rows_may_not_repeat() {
    let items = vec![
        item("a", "甲", FieldType::Text, ItemRules::default()),
        item("b", "乙", FieldType::Integer, ItemRules::default()),
    ];
    let got = ingest("a,b\nx,1\nx,2\nx,1\n", &items);
    let r = &got.outcome.report;
    let dups: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == "duplicate_row")
        .map(|f| (f.line, f.detail.clone()))
        .collect();
    assert_eq!(dups, [(Some(4), Some("2".to_owned()))]);
}

#[test]
fn a_wrong_shape_refuses_the_file_whatever_the_score() {
    // An unknown column: every row is fine, but the file does not match the declaration.
    let text = "统一社会信用代码,企业名称,所属区,注册资本,员工数,发证日期,邮政编码,备注\n\
        91350100M000100Y43,甲,黄浦区,1,1,2024-03-01,200001,x\n";
    let got = ingest(text, &items());
    let r = &got.outcome.report;
    assert_eq!((r.bad_rows, r.blocking), (0, 1));
    assert_eq!(r.verdict, Verdict::Refused);
}

#[test]
fn the_profile_counts_values_nulls_and_frequent_values() {
    let got = ingest(GOOD, &items());
    let p = &got.outcome.profile;
    let capital = p.iter().find(|c| c.name == "capital").unwrap();
    assert_eq!((capital.values, capital.nulls), (1, 1));
    assert_eq!(capital.min.as_deref(), Some("100.5"));
    let district = p.iter().find(|c| c.name == "district").unwrap();
    assert_eq!(district.distinct, 2);
    assert_eq!(district.top.len(), 2);
    let dates = p.iter().find(|c| c.name == "licensed_on").unwrap();
    assert_eq!(
        (dates.min.as_deref(), dates.max.as_deref()),
        (Some("2023/12/31"), Some("2024-03-01"))
    );
}

#[test]
fn a_declared_date_format_is_the_only_one_read() {
    let items = vec![item(
        "d",
        "日期",
        FieldType::Date,
        ItemRules {
            format: Some("%Y年%m月%d日".into()),
            ..Default::default()
        },
    )];
    let got = ingest("d\n2024年3月1日\n2024-03-01\n", &items);
    let wrong: Vec<_> = got
        .outcome
        .report
        .findings
        .iter()
        .filter(|f| f.code == "wrong_type")
        .map(|f| f.line)
        .collect();
    assert_eq!(wrong, [Some(3)]);
}

mod sources {
    use super::*;
    use kaifang_data::ingest::ingest_rows;
    use kaifang_data::sources;

    fn items() -> Vec<DataItem> {
        vec![
            item("name", "名称", FieldType::Text, ItemRules::default()),
            item("beds", "床位数", FieldType::Integer, ItemRules::default()),
            item(
                "location",
                "位置",
                FieldType::Geometry,
                ItemRules::default(),
            ),
        ]
    }

    fn report_of(rows: sources::Rows) -> Outcome {
        ingest_rows(
            rows,
            &items(),
            IngestOptions::default(),
            Sinks::none(),
            Arc::default(),
        )
        .unwrap()
        .0
    }

    #[test]
    fn a_json_array_ndjson_and_geojson_read_alike() {
        let array = r#"[{"name":"瑞金医院","beds":2000,"location":"POINT (121.47 31.21)"},
                        {"name":"社区卫生服务中心","beds":"x","location":null}]"#;
        let r = report_of(sources::json(array.as_bytes(), None).unwrap());
        assert_eq!((r.report.rows, r.report.bad_rows), (2, 1));
        let f = &r.report.findings[0];
        assert_eq!(
            (f.code.as_str(), f.line, f.value.as_deref()),
            ("wrong_type", Some(2), Some("x"))
        );

        let nd = "{\"name\":\"甲\",\"beds\":1,\"location\":\"POINT (121.4 31.2)\"}\n\n{\"beds\":2,\"name\":\"乙\",\"location\":\"POINT (121.5 31.1)\"}\n";
        let r = report_of(sources::ndjson(std::io::Cursor::new(nd.as_bytes().to_vec())).unwrap());
        assert_eq!(
            (r.report.rows, r.report.bad_rows),
            (2, 0),
            "{:?}",
            r.report.findings
        );

        let geo = r#"{"type":"FeatureCollection","name":"hospitals","features":[
            {"type":"Feature","properties":{"name":"华山医院","beds":1300},
             "geometry":{"type":"Point","coordinates":[121.44,31.21]}}]}"#;
        let r = report_of(sources::json(geo.as_bytes(), Some("location".into())).unwrap());
        assert_eq!(
            (r.report.rows, r.report.bad_rows),
            (1, 0),
            "{:?}",
            r.report.findings
        );
        let location = r.profile.iter().find(|c| c.name == "location").unwrap();
        assert_eq!(location.min.as_deref(), Some("POINT (121.44 31.21)"));
    }

    #[test]
    fn json_that_is_not_an_array_of_objects_is_an_error_not_a_crash() {
        for bad in [
            "{\"a\":1}",
            "[1,2]",
            "[{\"name\":\"x\"}",
            "",
            "[{\"name\":\"x\"}] trailing",
        ] {
            let got = sources::json(bad.as_bytes(), None).and_then(|rows| {
                ingest_rows(
                    rows,
                    &items(),
                    IngestOptions::default(),
                    Sinks::none(),
                    Arc::default(),
                )
                .map_err(|e| kaifang_data::ReadError::Io(std::io::Error::other(e.to_string())))
            });
            assert!(got.is_err(), "{bad}");
        }
    }

    #[test]
    fn a_zip_bomb_is_refused_from_its_directory() {
        use std::io::Write;
        let mut bytes = Vec::new();
        {
            let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..64 {
                z.write_all(&zeros).unwrap();
            }
            z.finish().unwrap();
        }
        assert!(
            bytes.len() < 1 << 20,
            "64 MB packed into {} bytes",
            bytes.len()
        );
        let err = sources::check_archive(std::io::Cursor::new(bytes)).unwrap_err();
        assert!(err.to_string().contains("zip bomb"), "{err}");
    }

    #[test]
    fn a_version_round_trips_through_a_workbook() {
        // A version written as XLSX reads back as the same rows.
        let text = "name,beds,location\n瑞金医院,2000,POINT (121.47 31.21)\n华山医院,,POINT (121.44 31.21)\n";
        let dir = tempfile::tempdir().unwrap();
        let parquet = dir.path().join("v.parquet");
        let file = std::fs::File::create(&parquet).unwrap();
        ingest_csv(
            text.as_bytes(),
            &items(),
            IngestOptions::default(),
            Sinks {
                parquet: Some(Box::new(file)),
                failures: None,
            },
            Arc::default(),
        )
        .unwrap();
        let xlsx = dir.path().join("v.xlsx");
        kaifang_data::xlsx::write_xlsx(&parquet, &xlsx).unwrap();
        let rows = sources::spreadsheet(&xlsx).unwrap();
        assert_eq!(rows.header, ["name", "beds", "location"]);
        let read: Vec<Vec<String>> = rows
            .rows
            .map(|r| r.unwrap().1.iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(
            read,
            [
                vec!["瑞金医院", "2000", "POINT (121.47 31.21)"],
                vec!["华山医院", "", "POINT (121.44 31.21)"],
            ]
        );
        // And through Parquet as a source.
        let rows = sources::parquet(&parquet).unwrap();
        assert_eq!(rows.rows.count(), 2);
    }
}

mod sql {
    use super::*;
    use kaifang_data::sql::{Limits, Source, SqlError, run};

    fn parquet_of(text: &str, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("t.parquet");
        let file = std::fs::File::create(&path).unwrap();
        ingest_csv(
            text.as_bytes(),
            &[
                item("district", "区", FieldType::Text, ItemRules::default()),
                item("n", "数", FieldType::Integer, ItemRules::default()),
            ],
            IngestOptions::default(),
            Sinks {
                parquet: Some(Box::new(file)),
                failures: None,
            },
            Arc::default(),
        )
        .unwrap();
        path
    }

    #[tokio::test]
    async fn a_view_shows_only_its_columns_and_the_rows_its_filters_keep() {
        let dir = tempfile::tempdir().unwrap();
        let path = parquet_of("district,n\n黄浦区,1\n黄浦区,2\n徐汇区,5\n", dir.path());
        let schema = kaifang_data::arrow::datatypes::Schema::new(vec![
            kaifang_data::arrow::datatypes::Field::new(
                "district",
                kaifang_data::arrow::datatypes::DataType::Utf8,
                true,
            ),
            kaifang_data::arrow::datatypes::Field::new(
                "n",
                kaifang_data::arrow::datatypes::DataType::Int64,
                true,
            ),
        ]);
        let only = |field: &str, op, values: &[&str]| {
            kaifang_data::query::condition(&schema, field, op, values, field).unwrap()
        };
        let view = |filters| {
            vec![Source {
                name: "t".into(),
                path: path.clone(),
                view: Some(kaifang_data::sql::View {
                    columns: vec!["n".into()],
                    filters,
                }),
            }]
        };
        use kaifang_data::query::Op;
        let tables = view(vec![only("district", Op::Eq, &["黄浦区"])]);
        let a = run(
            "SELECT sum(n) AS s, count(*) AS c FROM t",
            &tables,
            Limits::default(),
        )
        .await
        .unwrap();
        let b = &a.batches[0];
        assert_eq!(kaifang_data::records::text(b.column(0).as_ref(), 0), "3");
        assert_eq!(kaifang_data::records::text(b.column(1).as_ref(), 0), "2");
        // The column outside the view is not there to read, by any name.
        for sql in ["SELECT district FROM t", "SELECT t.district FROM t"] {
            assert!(matches!(
                run(sql, &tables, Limits::default()).await.unwrap_err(),
                SqlError::Plan(_)
            ));
        }
        let tables = view(vec![only("n", Op::Gte, &["2"]), only("n", Op::Lte, &["5"])]);
        let a = run("SELECT n FROM t ORDER BY n", &tables, Limits::default())
            .await
            .unwrap();
        assert_eq!(a.rows, 2);
        let tables = view(vec![only("district", Op::In, &["徐汇区", "静安区"])]);
        let a = run("SELECT n FROM t", &tables, Limits::default())
            .await
            .unwrap();
        assert_eq!(
            kaifang_data::records::text(a.batches[0].column(0).as_ref(), 0),
            "5"
        );
        assert_eq!(a.rows, 1);
    }

    #[tokio::test]
    async fn a_select_runs_and_each_limit_is_named_when_passed() {
        let dir = tempfile::tempdir().unwrap();
        let path = parquet_of("district,n\n黄浦区,1\n黄浦区,2\n徐汇区,5\n", dir.path());
        let tables = vec![Source::file("t", path)];
        let a = run(
            "SELECT district, sum(n) AS s FROM t GROUP BY district ORDER BY s",
            &tables,
            Limits::default(),
        )
        .await
        .unwrap();
        assert_eq!(a.rows, 2);
        let b = &a.batches[0];
        assert_eq!(
            kaifang_data::records::text(b.column(0).as_ref(), 0),
            "黄浦区"
        );
        assert_eq!(kaifang_data::records::text(b.column(1).as_ref(), 1), "5");

        let few = Limits {
            rows: 2,
            ..Limits::default()
        };
        assert_eq!(
            run("SELECT * FROM t", &tables, few).await.unwrap_err(),
            SqlError::RowLimit(2)
        );
        // No time at all: whether it is stopped while it counts or finishes first, a query
        // that takes any time is past the limit.
        let none = Limits {
            time: std::time::Duration::ZERO,
            ..Limits::default()
        };
        let joined = (0..12)
            .map(|i| format!("t t{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        assert_eq!(
            run(&format!("SELECT count(*) FROM {joined}"), &tables, none)
                .await
                .unwrap_err(),
            SqlError::TimeLimit(0)
        );
        // Sorting every row of a cross join in a pool of one kilobyte.
        let tiny = Limits {
            memory_bytes: 1024,
            ..Limits::default()
        };
        let err = run(
            "SELECT a.district, b.district FROM t a, t b, t c ORDER BY a.district, b.n, c.n",
            &tables,
            tiny,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "sql_memory_limit", "{err}");
    }
}

#[test]
fn a_file_of_one_endless_line_is_refused_not_held() {
    use std::io::Read;
    let endless = "uscc,name\n91350100M000100Y43,"
        .as_bytes()
        .chain(std::io::repeat(b'x').take(kaifang_data::ingest::MAX_LINE_BYTES + 10));
    let err = ingest_csv(
        endless,
        &items(),
        IngestOptions::default(),
        Sinks::none(),
        Arc::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("longer than 16 MB"), "{err}");
}

/// Ingests `text` with the duplicate check spilling after `in_memory` keys, writing the
/// Parquet file to disk (the rows of late repeats are read back from it).
fn ingest_spilling(text: &str, items: &[DataItem], in_memory: usize) -> Ingested {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.parquet");
    let mut failures = Vec::new();
    let options = IngestOptions {
        spill: Some(kaifang_data::ingest::Spill {
            scratch: dir.path().join("scratch"),
            parquet: path.clone(),
            in_memory,
        }),
        ..Default::default()
    };
    let (outcome, _) = ingest_csv(
        text.as_bytes(),
        items,
        options,
        Sinks {
            parquet: Some(Box::new(std::fs::File::create(&path).unwrap())),
            failures: Some(Box::new(&mut failures)),
        },
        Arc::default(),
    )
    .unwrap();
    // The spilled keys are gone once read.
    let left = std::fs::read_dir(dir.path().join("scratch")).map_or(0, |d| d.count());
    assert_eq!(left, 0, "the spill is removed");
    Ingested {
        outcome,
        parquet: std::fs::read(&path).unwrap(),
        failures: String::from_utf8(failures).unwrap(),
    }
}

#[test]
fn repeats_found_after_the_check_spills_are_reported_and_listed_like_the_others() {
    let key = ItemRules {
        key: true,
        ..Default::default()
    };
    let items = vec![
        item("code", "编码", FieldType::Code, key),
        item("n", "数量", FieldType::Integer, ItemRules::default()),
    ];
    // Lines 2–9; the code of line 2 comes back at line 7, line 4's at line 9; line 9 also has
    // a number that is not one.
    let text = "编码,数量\nA01,1\nA02,2\nA03,3\nA04,4\nA05,5\nA01,6\nA07,7\nA03,x\n";
    for in_memory in [1, 2, 3, 5, 1_000] {
        let got = ingest_spilling(text, &items, in_memory);
        let r = &got.outcome.report;
        let mut dups: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.code == "duplicate_key")
            .map(|f| (f.line, f.detail.clone()))
            .collect();
        dups.sort();
        assert_eq!(
            dups,
            [
                (Some(7), Some("2".to_owned())),
                (Some(9), Some("4".to_owned()))
            ],
            "in memory: {in_memory}"
        );
        // Two bad rows: line 9 is counted once though it is wrong twice.
        assert_eq!((r.rows, r.bad_rows), (8, 2), "in memory: {in_memory}");
        assert_eq!(r.verdict, Verdict::Refused);
        // Both rows listed, with their values; line 9 also with its wrong number.
        let lines: Vec<&str> = got.failures.lines().skip(1).collect();
        assert!(
            lines.contains(&"7,duplicate_key,A01,6"),
            "{:?}",
            got.failures
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("9,") && l.contains("A03")),
            "{:?}",
            got.failures
        );
        assert!(!got.parquet.is_empty());
    }
}

/// An integer key item, `id` (编号).
fn numbered_key(required: bool) -> DataItem {
    item(
        "id",
        "编号",
        FieldType::Integer,
        ItemRules {
            required,
            key: true,
            ..Default::default()
        },
    )
}

/// A file longer than a chunk of rows: problems and repeats either side of the chunks' edges
/// are found at their lines and listed in the file's order, whatever the number of threads
/// reading the items side by side. Lines are the row's number plus one (the header).
#[test]
fn a_file_of_many_chunks_is_read_as_one_pass_over_its_rows_would() {
    use std::fmt::Write as _;
    let items = vec![
        numbered_key(true),
        item("name", "名称", FieldType::Text, ItemRules::default()),
        item("on", "日期", FieldType::Date, ItemRules::default()),
    ];
    let mut text = String::from("编号,名称,日期\n");
    for row in 1..=150_000u32 {
        let id = match row {
            65_537 => 5,       // repeats row 5, at line 6, across the first chunk's edge
            131_073 => 65_536, // repeats row 65,536, at line 65,537
            _ => row,
        };
        let on = if row == 65_536 {
            "2024-02-30"
        } else {
            "2024-03-01"
        };
        let extra = if row == 100_000 { ",多余" } else { "" };
        writeln!(text, "{id},名称{row},{on}{extra}").unwrap();
    }
    let run = |threads: usize| {
        let mut failures = Vec::new();
        let (outcome, _) = ingest_csv(
            text.as_bytes(),
            &items,
            IngestOptions {
                threads,
                ..Default::default()
            },
            Sinks {
                parquet: None,
                failures: Some(Box::new(&mut failures)),
            },
            Arc::default(),
        )
        .unwrap();
        (outcome, String::from_utf8(failures).unwrap())
    };
    let (one, listed_one) = run(1);
    let r = &one.report;
    assert_eq!((r.rows, r.bad_rows), (150_000, 4));
    let found: Vec<(&str, Option<u64>, Option<&str>)> = r
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.line, f.detail.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("wrong_type", Some(65_537), Some("date")),
            ("duplicate_key", Some(65_538), Some("6")),
            ("ragged_row", Some(100_001), Some("3/4")),
            ("duplicate_key", Some(131_074), Some("65537")),
        ]
    );
    let lines: Vec<&str> = listed_one
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(lines, ["65537", "65538", "100001", "131074"]);
    assert_eq!(one.profile[0].values, 150_000);
    assert_eq!(one.profile[2].nulls, 1, "the impossible date");
    for threads in [2, 4] {
        let (many, listed) = run(threads);
        assert_eq!(many.report, one.report, "{threads} threads");
        assert_eq!(many.profile, one.profile, "{threads} threads");
        assert_eq!(listed, listed_one, "{threads} threads");
    }
}

/// Rows so wide that a chunk of them would pass the bound on bytes are read in shorter chunks:
/// every row is still read, and found at its line, on either side of a chunk's edge.
#[test]
fn wide_rows_are_read_in_chunks_bounded_by_their_bytes() {
    use std::fmt::Write as _;
    let items = vec![
        numbered_key(false),
        item("note", "说明", FieldType::Text, ItemRules::default()),
    ];
    let wide = "x".repeat(40_000);
    let rows = kaifang_data::ingest::BATCH_BYTES / wide.len() + 200;
    let mut text = String::from("编号,说明\n");
    for row in 1..=rows {
        let id = match row {
            r if r == rows - 100 => "九百".to_owned(),
            r if r == rows - 50 => "10".to_owned(), // repeats row 10, at line 11
            r => r.to_string(),
        };
        writeln!(text, "{id},{wide}").unwrap();
    }
    let mut parquet = Vec::new();
    let (outcome, _) = ingest_csv(
        text.as_bytes(),
        &items,
        IngestOptions::default(),
        Sinks {
            parquet: Some(Box::new(&mut parquet)),
            failures: None,
        },
        Arc::default(),
    )
    .unwrap();
    let r = &outcome.report;
    assert_eq!(r.rows, rows as u64);
    let found: Vec<(&str, Option<u64>)> = r
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.line))
        .collect();
    let line = |row: usize| Some(row as u64 + 1);
    assert_eq!(
        found,
        [
            ("wrong_type", line(rows - 100)),
            ("duplicate_key", line(rows - 50)),
        ]
    );
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(parquet))
        .unwrap()
        .build()
        .unwrap();
    let written: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(written, rows);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Rows of three items over a few short values, the same values often standing under
    /// different items: a row is a repeat exactly when a plain scan of the rows before it finds
    /// the same cells in the same places.
    #[test]
    fn a_row_repeats_exactly_when_an_earlier_one_has_the_same_cells_in_the_same_places(
        rows in proptest::collection::vec(proptest::collection::vec(0usize..3, 3), 1..80),
    ) {
        let values = ["甲", "乙", ""];
        let items = vec![
            item("a", "甲", FieldType::Text, ItemRules::default()),
            item("b", "乙", FieldType::Text, ItemRules::default()),
            item("c", "丙", FieldType::Text, ItemRules::default()),
        ];
        let mut text = "a,b,c\n".to_owned();
        let mut first_seen = std::collections::HashMap::new();
        let mut expected = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let line = i as u64 + 2;
            let cells: Vec<&str> = row.iter().map(|&v| values[v]).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
            match first_seen.get(&cells) {
                Some(first) => expected.push((Some(line), Some(format!("{first}")))),
                None => {
                    first_seen.insert(cells, line);
                }
            }
        }
        let got = ingest(&text, &items);
        let found: Vec<_> = got
            .outcome
            .report
            .findings
            .iter()
            .filter(|f| f.code == "duplicate_row")
            .map(|f| (f.line, f.detail.clone()))
            .collect();
        // The report shows the first 20 of a kind; the list of failing rows has them all.
        proptest::prop_assert_eq!(&found[..], &expected[..expected.len().min(20)]);
        let listed: Vec<Option<u64>> = got
            .failures
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().and_then(|n| n.parse().ok()))
            .collect();
        let lines: Vec<Option<u64>> = expected.iter().map(|e| e.0).collect();
        proptest::prop_assert_eq!(listed, lines);
    }
}
