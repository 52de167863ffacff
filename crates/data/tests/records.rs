//! Records queries against an answer worked out row by row in plain Rust: equality and `in`
//! filters (answered through a column's index), a range filter beside them, words, sorting and
//! every page followed by its cursor.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use kaifang_data::query::parse;
use kaifang_data::records::{Table, is_light, push_json_str, run, text, write_json};
use proptest::prelude::*;

const DISTRICTS: [&str; 4] = ["浦东新区", "黄浦区", "徐汇区", "静安区"];

#[derive(Debug, Clone)]
struct Row {
    district: Option<&'static str>,
    n: Option<i64>,
    name: String,
}

fn table(rows: &[Row]) -> Table {
    let schema = Arc::new(Schema::new(vec![
        Field::new("district", DataType::Utf8, true),
        Field::new("n", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.district).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.n).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter()
                .map(|r| Some(r.name.as_str()))
                .collect::<Vec<_>>(),
        )),
    ];
    Table::new(RecordBatch::try_new(schema, columns).unwrap(), "v1")
}

fn row() -> impl Strategy<Value = Row> {
    (
        prop::option::weighted(0.9, prop::sample::select(DISTRICTS.to_vec())),
        prop::option::weighted(0.9, -3i64..4),
        prop::sample::select(vec!["东方明珠", "外滩", "人民广场", "陆家嘴"]),
    )
        .prop_map(|(district, n, name)| Row {
            district,
            n,
            name: name.to_owned(),
        })
}

/// Every page of the query, followed by cursor: the places given and the total reported.
fn walk(t: &Table, pairs: &[(String, String)]) -> (Vec<u64>, u64) {
    let mut places = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total = None;
    for _ in 0..1000 {
        let mut p = pairs.to_vec();
        if let Some(c) = &cursor {
            p.push(("cursor".into(), c.clone()));
        }
        let q = parse(&p, &t.schema()).expect("a valid query");
        let page = run(t, &q).expect("runs");
        assert_eq!(page.ids.len(), page.rows.num_rows());
        total.get_or_insert(page.total);
        places.extend(page.ids);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return (places, total.unwrap_or(0)),
        }
    }
    panic!("the cursor never ended");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn filtered_sorted_pages_give_exactly_the_rows_a_plain_scan_finds(
        rows in prop::collection::vec(row(), 0..120),
        districts in prop::collection::vec(prop::sample::select(DISTRICTS.to_vec()), 1..3),
        n_above in prop::option::of(-3i64..4),
        word in prop::option::of(prop::sample::select(vec!["外滩", "明珠", "广"])),
        sort in prop::option::of(prop::bool::ANY),
        limit in 1usize..9,
    ) {
        let t = table(&rows);
        let mut pairs = vec![("limit".to_owned(), limit.to_string())];
        if districts.len() == 1 {
            pairs.push(("district".into(), districts[0].to_owned()));
        } else {
            pairs.push(("district__in".into(), districts.join(",")));
        }
        if let Some(k) = n_above {
            pairs.push(("n__gt".into(), k.to_string()));
        }
        if let Some(w) = word {
            pairs.push(("q".into(), w.to_owned()));
        }
        if let Some(desc) = sort {
            pairs.push(("sort".into(), if desc { "-n" } else { "n" }.into()));
        }

        let mut expected: Vec<(usize, &Row)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.district.is_some_and(|d| districts.contains(&d)))
            .filter(|(_, r)| n_above.is_none_or(|k| r.n.is_some_and(|n| n > k)))
            .filter(|(_, r)| word.is_none_or(|w| r.name.contains(w) || r.district.is_some_and(|d| d.contains(w))))
            .collect();
        if let Some(desc) = sort {
            // Nulls last either way; ties in file order.
            expected.sort_by(|(i, a), (j, b)| {
                let by_value = match (a.n, b.n) {
                    (Some(x), Some(y)) if desc => y.cmp(&x),
                    (Some(x), Some(y)) => x.cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                };
                by_value.then(i.cmp(j))
            });
        }
        let expected: Vec<u64> = expected.iter().map(|(i, _)| *i as u64).collect();

        let (given, total) = walk(&t, &pairs);
        prop_assert_eq!(total, expected.len() as u64);
        prop_assert_eq!(given, expected);
    }
}

#[test]
fn an_equality_filter_on_a_number_or_a_missing_value_finds_its_rows() {
    let rows: Vec<Row> = (0..50)
        .map(|i| Row {
            district: Some(DISTRICTS[i % 4]),
            n: if i % 7 == 0 {
                None
            } else {
                Some((i % 5) as i64)
            },
            name: format!("店{i}"),
        })
        .collect();
    let t = table(&rows);
    let (given, total) = walk(
        &t,
        &[("n".into(), "3".into()), ("limit".into(), "4".into())],
    );
    // i % 5 == 3 and i % 7 != 0: 3, 8, 13, 18, 23, 33, 38, 43, 48 (28 is a multiple of 7).
    assert_eq!(given, vec![3, 8, 13, 18, 23, 33, 38, 43, 48]);
    assert_eq!(total, 9);
    let (given, _) = walk(&t, &[("district".into(), "不存在区".into())]);
    assert!(given.is_empty());
}

/// The query `pairs` parse to over `t`.
fn query(t: &Table, pairs: &[(&str, &str)]) -> kaifang_data::query::Query {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    parse(&pairs, &t.schema()).expect("a valid query")
}

#[test]
fn only_a_page_read_straight_off_the_file_or_a_built_index_is_light() {
    let rows: Vec<Row> = (0..20)
        .map(|i| Row {
            district: Some(DISTRICTS[i % 4]),
            n: Some(i as i64),
            name: format!("店{i}"),
        })
        .collect();
    let t = table(&rows);
    let pudong = ("district", "浦东新区");
    assert!(is_light(&t, &query(&t, &[])));
    assert!(is_light(&t, &query(&t, &[("limit", "1000")])));
    // The index is built by the first query that needs it, which is not light.
    assert!(!is_light(&t, &query(&t, &[pudong])));
    let first = run(&t, &query(&t, &[pudong])).unwrap();
    assert_eq!(first.ids, [0, 4, 8, 12, 16]);
    assert!(is_light(&t, &query(&t, &[pudong])));
    assert!(is_light(&t, &query(&t, &[pudong, ("limit", "2")])));
    for heavy in [
        &[("limit", "1001")][..],
        &[("sort", "n")],
        &[pudong, ("sort", "-n")],
        &[("q", "店1")],
        &[pudong, ("q", "店1")],
        &[pudong, ("n__gt", "3")],
        &[("district__in", "浦东新区,黄浦区")],
        &[("district__ne", "浦东新区")],
        &[("name__contains", "1")],
    ] {
        assert!(!is_light(&t, &query(&t, heavy)), "{heavy:?}");
    }
}

proptest! {
    #[test]
    fn text_is_written_as_json_as_serde_json_writes_it(s in any::<String>()) {
        let mut out = String::new();
        push_json_str(&s, &mut out);
        prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
    }

    #[test]
    fn dates_are_written_as_chrono_formats_them(days in -800_000i32..3_000_000) {
        let array = arrow::array::Date32Array::from(vec![days]);
        let expected = chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        prop_assert_eq!(text(&array, 0), expected.clone());
        let mut json = String::new();
        write_json(&array, 0, &mut json);
        prop_assert_eq!(json, format!("\"{expected}\""));
    }
}
