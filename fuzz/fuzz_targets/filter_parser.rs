//! A records query string, as arbitrary text, parsed against a version's schema and, when it
//! parses, run over a small table in memory: filters, words, sorting, paging by offset and by
//! the cursor each page gives, and the rows written out as the API writes them. A refused
//! query is expected; a panic is a bug.

#![no_main]

use std::sync::{Arc, LazyLock};

use data::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use data::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use data::records::{Table, csv_cell, run, text, write_json};
use libfuzzer_sys::fuzz_target;

/// Six rows of a version with a column of each type the platform stores, nulls included, and
/// values at the edges of what ingestion can write (decimals are finite; dates and times lie
/// between the years 1 and 9999).
static BATCH: LazyLock<RecordBatch> = LazyLock::new(|| {
    let schema = Arc::new(Schema::new(vec![
        Field::new("district", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("staff", DataType::Int64, true),
        Field::new("capital", DataType::Float64, true),
        Field::new("licensed_on", DataType::Date32, true),
        Field::new(
            "updated_at",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("open", DataType::Boolean, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![
            Some("黄浦区"),
            Some("浦东新区"),
            Some("x"),
            None,
            Some("浦东新区"),
            Some("=1+1"),
        ])),
        Arc::new(StringArray::from(vec![
            Some("上海示范数据科技有限公司"),
            Some("浦东新区测试餐饮店"),
            Some("100%_\\"),
            Some(""),
            None,
            Some("Ünïcödé ſ"),
        ])),
        Arc::new(Int64Array::from(vec![
            Some(12),
            Some(3),
            None,
            Some(i64::MIN),
            Some(i64::MAX),
            Some(0),
        ])),
        Arc::new(Float64Array::from(vec![
            Some(100.5),
            None,
            Some(-0.0),
            Some(f64::MAX),
            Some(1e-300),
            Some(20.0),
        ])),
        Arc::new(Date32Array::from(vec![
            Some(19_783),
            Some(19_722),
            None,
            Some(-719_162),
            Some(0),
            Some(2_932_896),
        ])),
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_709_251_200_000),
            None,
            Some(-62_135_596_800_000),
            Some(253_402_300_799_000),
            Some(0),
            Some(-1),
        ])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
            None,
            Some(false),
        ])),
    ];
    RecordBatch::try_new(schema, columns).expect("a valid batch")
});

/// Pages followed through their cursors, at most.
const MAX_PAGES: usize = 4;

fuzz_target!(|bytes: &[u8]| {
    let input = String::from_utf8_lossy(bytes);
    let mut pairs: Vec<(String, String)> = input
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect();
    // A table of its own for each input, so that nothing it builds on demand (its indexes)
    // carries over from one input to the next and every failure replays alone.
    let table = &Table::new(BATCH.clone(), "fuzz");
    let schema = table.schema();
    for _ in 0..MAX_PAGES {
        let Ok(query) = data::query::parse(&pairs, &schema) else {
            return;
        };
        let Ok(page) = run(table, &query) else {
            return;
        };
        let mut out = String::new();
        for r in 0..page.rows.num_rows() {
            for c in page.rows.columns() {
                write_json(c.as_ref(), r, &mut out);
                out.push_str(&text(c.as_ref(), r));
                out.push_str(&csv_cell(c.as_ref(), r));
            }
        }
        // The next page, as a client asks for it: the same query with the cursor given.
        let Some(cursor) = page.next_cursor else {
            return;
        };
        pairs.retain(|(k, _)| k != "cursor" && k != "offset");
        pairs.push(("cursor".into(), cursor));
    }
});
