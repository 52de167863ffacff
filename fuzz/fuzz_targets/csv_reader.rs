//! A provider's file, as arbitrary bytes, through the whole CSV path: the encoding told from
//! the bytes, the header matched to the declared data items, every cell converted to its type
//! and tested against its item's rules, duplicate keys found, typed columns written as Parquet
//! and failing rows listed. Errors are expected; a panic is a bug.

#![no_main]

use std::sync::LazyLock;

use data::ingest::{IngestOptions, Sinks, ingest_csv};
use domain::openlist::dataset::DataItem;
use domain::openlist::rules::{ItemRules, ValueCheck};
use domain::openlist::vocab::FieldType;
use libfuzzer_sys::fuzz_target;

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

/// A small entry's declaration: one item of each kind of value, most with a rule.
static ITEMS: LazyLock<Vec<DataItem>> = LazyLock::new(|| {
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
        item(
            "name",
            "企业名称",
            FieldType::Text,
            ItemRules {
                pattern: Some(r"[^<>]{1,50}".into()),
                ..Default::default()
            },
        ),
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
            "staff",
            "员工数",
            FieldType::Integer,
            ItemRules {
                min: Some(0.0),
                max: Some(100_000.0),
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
        item(
            "licensed_on",
            "发证日期",
            FieldType::Date,
            ItemRules::default(),
        ),
        item(
            "updated_at",
            "更新时间",
            FieldType::DateTime,
            ItemRules {
                format: Some("%Y-%m-%d %H:%M:%S".into()),
                ..Default::default()
            },
        ),
        item("open", "是否营业", FieldType::Boolean, ItemRules::default()),
        item(
            "phone",
            "联系电话",
            FieldType::Text,
            ItemRules {
                check: Some(ValueCheck::Phone),
                ..Default::default()
            },
        ),
        item(
            "location",
            "位置",
            FieldType::Geometry,
            ItemRules {
                check: Some(ValueCheck::InArea),
                ..Default::default()
            },
        ),
    ]
});

fuzz_target!(|bytes: &[u8]| {
    // The encoding is told from the bytes, as for an upload that names none.
    let Ok(Ok((_, text))) = data::decoded(bytes, None) else {
        return;
    };
    let mut parquet = Vec::new();
    let mut failures = Vec::new();
    let _ = ingest_csv(
        text,
        &ITEMS,
        IngestOptions::default(),
        Sinks {
            parquet: Some(Box::new(&mut parquet)),
            failures: Some(Box::new(&mut failures)),
        },
        Default::default(),
    );
    // The report alone (no sinks), as the upload form's check reads a file.
    if let Ok(Ok((_, text))) = data::decoded(bytes, None) {
        let _ = data::read_csv(text, &ITEMS, &data::ReadOptions::default());
    }
});
