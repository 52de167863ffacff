//! The scan for personal information measured on a labelled synthetic corpus this test
//! generates: values of each kind (with their check characters computed here, after the
//! standards, not by the code under test) and look-alikes that are not personal (credit codes,
//! order numbers, timestamps). Recall per value and precision per column are counted against
//! the labels; de-identified files are read back to show no original survives.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::FieldType;
use domain::privacy::{DeidRule, PiKind, PrivacyPlan};
use kaifang_data::gate::Verdict;
use kaifang_data::ingest::{IngestOptions, Sinks, ingest_csv};
use kaifang_data::privacy::PrivacyOptions;
use kaifang_data::privacy::detect::detect;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// GB 11643-1999: weights 2^(17-i) mod 11, check "10X98765432".
fn id_check(first17: &str) -> char {
    let sum: u32 = first17
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * (1u32 << (17 - i)) % 11)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

fn resident_id(rng: &mut StdRng) -> String {
    let region = format!("{}{}", rng.random_range(11..66), digits(rng, 4));
    let year = rng.random_range(1930..2020);
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let first = format!("{region}{year:04}{month:02}{day:02}{}", digits(rng, 3));
    format!("{first}{}", id_check(&first))
}

fn mobile(rng: &mut StdRng) -> String {
    let n = format!("1{}{}", rng.random_range(3..10), digits(rng, 9));
    match rng.random_range(0..10) {
        0 => format!("+86 {} {} {}", &n[..3], &n[3..7], &n[7..]),
        1 => format!("{}-{}-{}", &n[..3], &n[3..7], &n[7..]),
        _ => n,
    }
}

/// ISO/IEC 7812: the Luhn digit that completes `body`.
fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn bank_card(rng: &mut StdRng) -> String {
    let len = rng.random_range(16..=19);
    let prefix = if rng.random_bool(0.8) { "62" } else { "4" };
    let body = format!("{prefix}{}", digits(rng, len - 1 - prefix.len()));
    format!("{body}{}", luhn_digit(&body))
}

const USCC_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100-2015: weights 3^i mod 31, check (31 - sum mod 31) mod 31.
fn credit_code(rng: &mut StdRng) -> String {
    let kinds = ["91", "92", "93", "11", "12", "51", "52", "53"];
    let mut first = kinds[rng.random_range(0..kinds.len())].to_owned();
    first.push_str(&format!("3101{:02}", rng.random_range(1..21)));
    for _ in 0..9 {
        first.push(USCC_CHARS[rng.random_range(0..USCC_CHARS.len())] as char);
    }
    let mut w = 1u32;
    let mut sum = 0;
    for b in first.bytes() {
        let v = USCC_CHARS.iter().position(|c| *c == b).unwrap() as u32;
        sum += v * w;
        w = w * 3 % 31;
    }
    first.push(USCC_CHARS[((31 - sum % 31) % 31) as usize] as char);
    first
}

const SURNAMES: &[char] = &['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
const GIVEN: &[char] = &[
    '伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳',
];

fn name(rng: &mut StdRng) -> String {
    let mut s = String::from(SURNAMES[rng.random_range(0..SURNAMES.len())]);
    for _ in 0..rng.random_range(1..=2) {
        s.push(GIVEN[rng.random_range(0..GIVEN.len())]);
    }
    s
}

fn item(name: &str, label: &str, t: FieldType) -> DataItem {
    DataItem {
        name: name.into(),
        label: label.into(),
        field_type: t,
        unit: String::new(),
        description: String::new(),
        catalogue_item: None,
        rules: Default::default(),
    }
}

/// A column of the corpus: its values and the kind it is labelled with (none: not personal).
struct Column {
    item: DataItem,
    label: Option<PiKind>,
    values: Vec<String>,
}

fn corpus(rows: usize, neutral_names: bool, seed: u64) -> Vec<Column> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut columns = Vec::new();
    let mut add =
        |name: &str, label: &str, t, kind, make: &mut dyn FnMut(&mut StdRng) -> String| {
            let (n, l) = if neutral_names {
                let k = format!("c{}", columns.len());
                (k.clone(), k)
            } else {
                (name.to_owned(), label.to_owned())
            };
            let values = (0..rows).map(|_| make(&mut rng)).collect();
            columns.push(Column {
                item: item(&n, &l, t),
                label: kind,
                values,
            });
        };
    use FieldType::*;
    add(
        "id_number",
        "身份证号",
        Code,
        Some(PiKind::ResidentId),
        &mut resident_id,
    );
    add("phone", "手机号码", Code, Some(PiKind::Mobile), &mut mobile);
    add(
        "card",
        "银行卡号",
        Code,
        Some(PiKind::BankCard),
        &mut bank_card,
    );
    add(
        "email",
        "电子邮箱",
        Text,
        Some(PiKind::Email),
        &mut |r| format!("user{}@mail{}.com", digits(r, 5), r.random_range(0..9)),
    );
    add("person", "姓名", Text, Some(PiKind::PersonName), &mut name);
    add(
        "plate",
        "车牌号",
        Code,
        Some(PiKind::LicencePlate),
        &mut |r| {
            format!(
                "沪{}{}",
                ['A', 'B', 'C', 'D'][r.random_range(0..4)],
                digits(r, 5)
            )
        },
    );
    add(
        "passport",
        "护照号",
        Code,
        Some(PiKind::Passport),
        &mut |r| format!("E{}", digits(r, 8)),
    );
    add("uscc", "统一社会信用代码", Code, None, &mut credit_code);
    add("order_no", "订单号", Code, None, &mut |r| {
        format!(
            "2024{:02}{:02}{}",
            r.random_range(1..13),
            r.random_range(1..29),
            digits(r, 10)
        )
    });
    add("order_ref", "订单编号", Code, None, &mut |r| {
        format!("DD{}", digits(r, 14))
    });
    add("serial", "流水号", Code, None, &mut |r| digits(r, 16));
    add("created", "创建时间", Code, None, &mut |r| {
        format!(
            "2024{:02}{:02}{:02}{:02}{:02}",
            r.random_range(1..13),
            r.random_range(1..29),
            r.random_range(0..24),
            r.random_range(0..60),
            r.random_range(0..60)
        )
    });
    add("ts", "时间戳", Code, None, &mut |r| {
        format!("17{}", digits(r, 11))
    });
    add("amount", "金额", Decimal, None, &mut |r| {
        format!("{}.{}", r.random_range(1..9_999_999), digits(r, 2))
    });
    add("district", "所属区", Text, None, &mut |r| {
        ["黄浦区", "徐汇区", "长宁区", "杨浦区", "闵行区", "浦东新区"][r.random_range(0..6)]
            .to_owned()
    });
    add("company", "企业名称", Text, None, &mut |r| {
        format!(
            "上海{}科技有限公司",
            ["明远", "华信", "金桥", "张江"][r.random_range(0..4)]
        )
    });
    columns
}

fn csv_of(columns: &[Column]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns.iter().map(|c| c.item.name.as_str()))
        .unwrap();
    for r in 0..columns[0].values.len() {
        w.write_record(columns.iter().map(|c| c.values[r].as_str()))
            .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn scan(columns: &[Column], options: IngestOptions) -> kaifang_data::ingest::Outcome {
    let items: Vec<DataItem> = columns.iter().map(|c| c.item.clone()).collect();
    let text = csv_of(columns);
    let (outcome, _) = ingest_csv(
        text.as_bytes(),
        &items,
        options,
        Sinks::none(),
        Arc::default(),
    )
    .unwrap();
    outcome
}

#[test]
fn identifiers_mobiles_and_cards_are_recalled_value_by_value() {
    let columns = corpus(5_000, false, 7);
    let mut hits = Vec::new();
    for c in &columns {
        let Some(kind @ (PiKind::ResidentId | PiKind::Mobile | PiKind::BankCard)) = c.label else {
            continue;
        };
        let found = c
            .values
            .iter()
            .filter(|v| {
                detect(v, &mut hits);
                hits.iter().any(|h| h.kind == kind)
            })
            .count();
        let recall = found as f64 / c.values.len() as f64;
        assert!(recall >= 0.99, "{kind}: recall {recall}");
    }
}

#[test]
fn columns_are_judged_against_their_labels_named_or_not() {
    for (neutral, seed) in [(false, 11), (true, 11), (false, 12), (true, 13)] {
        let columns = corpus(2_000, neutral, seed);
        let outcome = scan(&columns, IngestOptions::default());
        let found = &outcome.report.personal.findings;
        let mut true_positives = 0;
        for f in found {
            let column = columns.iter().find(|c| c.item.name == f.item).unwrap();
            if column.label == Some(f.kind) {
                true_positives += 1;
            } else {
                panic!(
                    "a false alarm (names {}): {} flagged {} at {:.3}",
                    if neutral { "neutral" } else { "telling" },
                    column.item.label,
                    f.kind,
                    f.share
                );
            }
            assert!(f.examples.iter().all(|e| e.value.contains('*')));
        }
        let precision = true_positives as f64 / found.len().max(1) as f64;
        assert!(precision >= 0.95);
        for c in columns.iter().filter(|c| c.label.is_some()) {
            assert!(
                found
                    .iter()
                    .any(|f| f.item == c.item.name && Some(f.kind) == c.label),
                "missed {} ({})",
                c.item.label,
                neutral
            );
        }
        // Nothing is blocked unless the caller says so.
        assert_eq!(outcome.report.verdict, Verdict::Passed);
    }
}

#[test]
fn a_single_number_among_words_is_found_and_the_column_flagged() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut values: Vec<String> = (0..500).map(|i| format!("第{i}次巡查，情况正常")).collect();
    values[200] = format!(
        "投诉人电话{}，请回访",
        mobile(&mut rng)
            .replace([' ', '-', '+'], "")
            .trim_start_matches("86")
    );
    let columns = vec![Column {
        item: item("note", "备注", FieldType::Text),
        label: Some(PiKind::Mobile),
        values,
    }];
    let outcome = scan(&columns, IngestOptions::default());
    let f = &outcome.report.personal.findings;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].kind, PiKind::Mobile);
    assert_eq!(f[0].examples[0].line, 202);
}

#[test]
fn an_address_or_a_landline_is_personal_only_in_rows_about_people() {
    let mut rng = StdRng::seed_from_u64(5);
    let addresses: Vec<String> = (0..300)
        .map(|i| format!("上海市徐汇区漕溪北路{}号", i + 1))
        .collect();
    let phones: Vec<String> = (0..300)
        .map(|_| format!("021-6{}", digits(&mut rng, 7)))
        .collect();
    let hospitals = vec![
        Column {
            item: item("address", "地址", FieldType::Text),
            label: None,
            values: addresses.clone(),
        },
        Column {
            item: item("phone", "联系电话", FieldType::Code),
            label: None,
            values: phones.clone(),
        },
    ];
    assert!(
        scan(&hospitals, IngestOptions::default())
            .report
            .personal
            .findings
            .is_empty()
    );
    let mut residents = hospitals;
    residents.push(Column {
        item: item("id_number", "身份证号", FieldType::Code),
        label: Some(PiKind::ResidentId),
        values: (0..300).map(|_| resident_id(&mut rng)).collect(),
    });
    let kinds: Vec<PiKind> = scan(&residents, IngestOptions::default())
        .report
        .personal
        .findings
        .iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![PiKind::Address, PiKind::Landline, PiKind::ResidentId]
    );
}

fn read_back(path: &std::path::Path) -> Vec<Vec<String>> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut columns: Vec<Vec<String>> = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        columns.resize(batch.num_columns(), Vec::new());
        for (i, col) in batch.columns().iter().enumerate() {
            let text = col.as_string::<i32>();
            for r in 0..text.len() {
                columns[i].push(if text.is_null(r) {
                    String::new()
                } else {
                    text.value(r).to_owned()
                });
            }
        }
    }
    columns
}

#[test]
fn unconditional_data_with_personal_information_is_refused_until_rules_deal_with_it() {
    let mut rng = StdRng::seed_from_u64(17);
    let columns = vec![
        Column {
            item: item("id_number", "身份证号", FieldType::Code),
            label: Some(PiKind::ResidentId),
            values: (0..400).map(|_| resident_id(&mut rng)).collect(),
        },
        Column {
            item: item("phone", "手机", FieldType::Code),
            label: Some(PiKind::Mobile),
            values: (0..400)
                .map(|_| format!("13{}", digits(&mut rng, 9)))
                .collect(),
        },
        Column {
            item: item("person", "姓名", FieldType::Text),
            label: Some(PiKind::PersonName),
            values: (0..400).map(|_| name(&mut rng)).collect(),
        },
        Column {
            item: item("district", "区", FieldType::Text),
            label: None,
            values: (0..400).map(|_| "徐汇区".to_owned()).collect(),
        },
    ];
    let blocking = PrivacyOptions {
        block: true,
        secret: b"entry secret".to_vec(),
        ..Default::default()
    };
    let refused = scan(
        &columns,
        IngestOptions {
            privacy: blocking.clone(),
            ..Default::default()
        },
    );
    assert_eq!(refused.report.verdict, Verdict::Refused);
    assert_eq!(refused.report.personal.unhandled, 3);
    let codes: Vec<(&str, Option<&str>)> = refused
        .report
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.detail.as_deref()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("personal_information", Some("resident_id")),
            ("personal_information", Some("mobile")),
            ("personal_information", Some("person_name")),
        ]
    );

    let mut plan = PrivacyPlan::default();
    plan.rules.insert(
        "id_number".into(),
        DeidRule::Mask {
            keep_start: 6,
            keep_end: 0,
        },
    );
    plan.rules.insert("phone".into(), DeidRule::Pseudonym);
    let partly = PrivacyOptions {
        plan: plan.clone(),
        ..blocking.clone()
    };
    let still = scan(
        &columns,
        IngestOptions {
            privacy: partly,
            ..Default::default()
        },
    );
    assert_eq!(still.report.verdict, Verdict::Refused);
    assert_eq!(still.report.personal.unhandled, 1);

    plan.rules.insert("person".into(), DeidRule::Suppress);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.parquet");
    let items: Vec<DataItem> = columns.iter().map(|c| c.item.clone()).collect();
    let (outcome, _) = ingest_csv(
        csv_of(&columns).as_bytes(),
        &items,
        IngestOptions {
            privacy: PrivacyOptions { plan, ..blocking },
            ..Default::default()
        },
        Sinks {
            parquet: Some(Box::new(std::fs::File::create(&path).unwrap())),
            failures: None,
        },
        Arc::default(),
    )
    .unwrap();
    assert_eq!(outcome.report.verdict, Verdict::Passed);
    let open = read_back(&path);
    for (c, column) in columns.iter().enumerate().take(3) {
        for (r, original) in column.values.iter().enumerate() {
            assert!(
                !open[c].iter().any(|v| v.contains(original.as_str())),
                "{} row {r}",
                column.item.name
            );
        }
    }
    assert!(open[0][0].ends_with("************"));
    assert_eq!(&open[0][0][..6], &columns[0].values[0][..6]);
    assert!(open[2].iter().all(String::is_empty));
    assert_eq!(open[3][0], "徐汇区");
    // The profile is of the opened values: no original among its frequent values.
    let phone_profile = serde_json::to_string(&outcome.profile[1]).unwrap();
    assert!(
        !columns[1]
            .values
            .iter()
            .any(|v| phone_profile.contains(v.as_str()))
    );
}

#[tokio::test]
async fn k_anonymity_is_the_smallest_group_and_coarsening_is_suggested() {
    use std::collections::{HashMap, HashSet};
    let mut rng = StdRng::seed_from_u64(23);
    let districts = ["黄浦区", "徐汇区", "长宁区"];
    let diagnoses = ["感冒", "高血压", "糖尿病", "骨折"];
    let rows: Vec<(i64, &str, &str)> = (0..600)
        .map(|_| {
            (
                rng.random_range(20..80),
                districts[rng.random_range(0..3)],
                diagnoses[rng.random_range(0..4)],
            )
        })
        .collect();
    let mut text = String::from("age,district,diagnosis\n");
    for (a, d, g) in &rows {
        text.push_str(&format!("{a},{d},{g}\n"));
    }
    let items = vec![
        item("age", "年龄", FieldType::Integer),
        item("district", "所属区", FieldType::Text),
        item("diagnosis", "诊断", FieldType::Text),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.parquet");
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

    // The groups, counted here.
    let mut groups: HashMap<(i64, &str), (u64, HashSet<&str>)> = HashMap::new();
    for (a, d, g) in &rows {
        let e = groups.entry((*a, *d)).or_default();
        e.0 += 1;
        e.1.insert(g);
    }
    let k = groups.values().map(|g| g.0).min().unwrap();
    let l = groups.values().map(|g| g.1.len() as u64).min().unwrap();
    let below: u64 = groups.values().filter(|g| g.0 < 5).map(|g| g.0).sum();
    let mut banded: HashMap<(i64, &str), u64> = HashMap::new();
    for (a, d, _) in &rows {
        *banded.entry((a / 10, *d)).or_default() += 1;
    }
    let banded_k = *banded.values().min().unwrap();

    let quasi = vec!["age".to_owned(), "district".to_owned()];
    let limits = kaifang_data::sql::Limits::default();
    let report = kaifang_data::privacy::risk::assess(&path, &quasi, Some("diagnosis"), 5, limits)
        .await
        .unwrap();
    assert_eq!(report.k, k);
    assert_eq!(report.l, Some(l));
    assert_eq!(report.groups, groups.len() as u64);
    assert_eq!(report.rows_below, below);
    assert!(!report.passes());
    assert_eq!(report.smallest[0].size, k);
    let first = &report.smallest[0].values;
    let age: i64 = first[0].as_deref().unwrap().parse().unwrap();
    assert_eq!(groups[&(age, first[1].as_deref().unwrap())].0, k);
    let band = report
        .suggestions
        .iter()
        .find(|s| s.item == "age")
        .expect("bands of age suggested");
    assert_eq!(band.rule, DeidRule::Band { width: 10 });
    assert_eq!(band.k, banded_k);

    // Without quasi-identifiers there is nothing to assess.
    let none = kaifang_data::privacy::risk::assess(&path, &[], None, 5, limits)
        .await
        .unwrap();
    assert!(none.passes());
}
