//! Sample data drawn from a version (A22.1): its size and strata, reproducible from its seed,
//! and a fidelity report that tells a faithful sample from one that is not. Expected counts are
//! worked out here from the generated rows.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::AsArray;
use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::FieldType;
use kaifang_data::ingest::{IngestOptions, Sinks, ingest_csv};
use kaifang_data::privacy::sample::{Fidelity, SampleSize, build};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn item(name: &str, t: FieldType) -> DataItem {
    DataItem {
        name: name.into(),
        label: name.into(),
        field_type: t,
        unit: String::new(),
        description: String::new(),
        catalogue_item: None,
        rules: Default::default(),
    }
}

const DISTRICTS: [(&str, u32); 5] = [
    ("浦东新区", 40),
    ("闵行区", 25),
    ("徐汇区", 20),
    ("黄浦区", 10),
    ("崇明区", 5),
];

/// 20,000 rows: a skewed district, an age, an income missing one time in ten.
fn version(dir: &std::path::Path) -> (std::path::PathBuf, HashMap<String, u64>) {
    let mut rng = StdRng::seed_from_u64(99);
    let mut text = String::from("id,district,age,income\n");
    let mut per: HashMap<String, u64> = HashMap::new();
    for i in 0..20_000 {
        let mut pick = rng.random_range(0..100);
        let district = DISTRICTS
            .iter()
            .find(|(_, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .unwrap()
            .0;
        *per.entry(district.to_owned()).or_default() += 1;
        let age = 18 + rng.random_range(0..30) + rng.random_range(0..30);
        let income = if rng.random_range(0..10) == 0 {
            String::new()
        } else {
            format!("{:.2}", 3000.0 + rng.random_range(0.0..20000.0))
        };
        text.push_str(&format!("{i},{district},{age},{income}\n"));
    }
    let items = vec![
        item("id", FieldType::Integer),
        item("district", FieldType::Text),
        item("age", FieldType::Integer),
        item("income", FieldType::Decimal),
    ];
    let path = dir.join("full.parquet");
    ingest_csv(
        text.as_bytes(),
        &items,
        IngestOptions::default(),
        Sinks {
            parquet: Some(Box::new(std::fs::File::create(&path).unwrap())),
            failures: None,
        },
        Arc::default(),
    )
    .unwrap();
    (path, per)
}

fn read(path: &std::path::Path) -> Vec<(i64, String)> {
    let f = std::fs::File::open(path).unwrap();
    let mut rows = Vec::new();
    for b in ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
    {
        let b = b.unwrap();
        let ids = b.column(0).as_primitive::<arrow::datatypes::Int64Type>();
        let d = b.column(1).as_string::<i32>();
        for r in 0..b.num_rows() {
            rows.push((ids.value(r), d.value(r).to_owned()));
        }
    }
    rows
}

#[test]
fn a_stratified_sample_keeps_each_strata_share_and_is_faithful() {
    let dir = tempfile::tempdir().unwrap();
    let (full, per) = version(dir.path());
    let out = dir.path().join("sample.parquet");
    let report = build(
        &full,
        SampleSize::Percent(5.0),
        &["district".to_owned()],
        42,
        Fidelity::default(),
        std::fs::File::create(&out).unwrap(),
    )
    .unwrap();
    assert_eq!(report.rows_full, 20_000);
    assert_eq!(report.rows_sample, 1_000);
    assert!(report.faithful, "{report:#?}");
    let rows = read(&out);
    assert_eq!(rows.len(), 1_000);
    let mut got: HashMap<String, u64> = HashMap::new();
    for (_, d) in &rows {
        *got.entry(d.clone()).or_default() += 1;
    }
    for (d, n) in &per {
        let exact = *n as f64 * 0.05;
        let drawn = got.get(d).copied().unwrap_or(0) as f64;
        assert!((drawn - exact).abs() <= 1.0, "{d}: {drawn} for {exact}");
    }
    // Every row drawn is a row of the whole, once.
    let mut ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1_000);

    // The seed reproduces the sample; another seed draws another.
    let again = dir.path().join("again.parquet");
    build(
        &full,
        SampleSize::Percent(5.0),
        &["district".to_owned()],
        42,
        Fidelity::default(),
        std::fs::File::create(&again).unwrap(),
    )
    .unwrap();
    assert_eq!(read(&again), rows);
    let other = dir.path().join("other.parquet");
    build(
        &full,
        SampleSize::Percent(5.0),
        &["district".to_owned()],
        7,
        Fidelity::default(),
        std::fs::File::create(&other).unwrap(),
    )
    .unwrap();
    assert_ne!(read(&other), rows);
}

#[test]
fn a_sample_too_small_to_reflect_the_data_is_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (full, _) = version(dir.path());
    let report = build(
        &full,
        SampleSize::Rows(4),
        &[],
        1,
        Fidelity::default(),
        std::io::sink(),
    )
    .unwrap();
    assert_eq!(report.rows_sample, 4);
    assert!(!report.faithful);
    let age = report.columns.iter().find(|c| c.column == "age").unwrap();
    assert!(
        age.failed.iter().any(|f| f == "range" || f == "ks"),
        "{age:?}"
    );
    let district = report
        .columns
        .iter()
        .find(|c| c.column == "district")
        .unwrap();
    assert!(district.tvd.unwrap() > 0.1, "{district:?}");
    // A stratum column that does not exist is named.
    let err = build(
        &full,
        SampleSize::Rows(10),
        &["nope".to_owned()],
        1,
        Fidelity::default(),
        std::io::sink(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("nope"));
}
