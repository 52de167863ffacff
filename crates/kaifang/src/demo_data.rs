//! Data for the demo's entries: every open or conditional entry gets a file made from its data
//! items — the same every time for the same entry (a generator seeded by the entry's name) —
//! uploaded through the same use case and ingestion job as a provider's file. Values follow the
//! items' types and what their names say: coordinates inside Shanghai, district names, bus
//! lines, hourly times, monthly dates, addresses.

use app::data_versions::DataUpload;
use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::{DatasetStatus, FieldType, OpenType};
use store::data_versions::Mode;

/// Rows of each entry's file.
const ROWS: usize = 480;
/// The demo's operator, who defines the conditional entries' samples.
const DEMO_OPERATOR: &str = "operator@demo.kaifang.example";

const DISTRICTS: &[&str] = &[
    "黄浦区",
    "徐汇区",
    "长宁区",
    "静安区",
    "普陀区",
    "虹口区",
    "杨浦区",
    "闵行区",
    "宝山区",
    "嘉定区",
    "浦东新区",
    "金山区",
    "松江区",
    "青浦区",
    "奉贤区",
    "崇明区",
];
const ROADS: &[&str] = &[
    "南京东路",
    "淮海中路",
    "世纪大道",
    "漕溪北路",
    "延安西路",
    "四平路",
    "共和新路",
    "沪闵路",
    "长阳路",
    "曹安公路",
    "浦东南路",
    "龙华中路",
];
const GRADES: &[&str] = &["一级", "二级", "三级"];
const STATES: &[&str] = &["正常", "暂停", "整改中"];
const KINDS: &[&str] = &["甲类", "乙类", "丙类"];

/// SplitMix64: small, fast, and the same sequence for the same seed on every machine.
struct Rng(u64);

impl Rng {
    fn seeded(text: &str) -> Self {
        // FNV-1a of the text: a seed that does not change with the entry's id.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

fn has(item: &DataItem, words: &[&str]) -> bool {
    words
        .iter()
        .any(|w| item.name.contains(w) || item.label.contains(w))
}

/// The value of `item` in row `i`.
fn value(item: &DataItem, i: usize, rng: &mut Rng) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("a real date");
    match item.field_type {
        FieldType::Decimal if has(item, &["lng", "lon", "经度"]) => {
            format!("{:.6}", 121.10 + rng.unit() * 0.75)
        }
        FieldType::Decimal if has(item, &["lat", "纬度"]) => {
            format!("{:.6}", 30.90 + rng.unit() * 0.55)
        }
        FieldType::Geometry => format!(
            "POINT ({:.6} {:.6})",
            121.10 + rng.unit() * 0.75,
            30.90 + rng.unit() * 0.55
        ),
        FieldType::Decimal if has(item, &["fare", "price", "票价"]) => {
            format!("{:.1}", 1.0 + (rng.next() % 8) as f64)
        }
        FieldType::Decimal if has(item, &["rate", "率"]) => {
            format!("{:.1}", 60.0 + rng.unit() * 40.0)
        }
        FieldType::Decimal => format!("{:.2}", rng.unit() * 1000.0),
        FieldType::Integer if has(item, &["year", "年"]) => (2020 + i % 6).to_string(),
        FieldType::Integer => (rng.next() % 1000).to_string(),
        FieldType::Boolean => (if rng.next().is_multiple_of(2) {
            "是"
        } else {
            "否"
        })
        .to_owned(),
        FieldType::Date if has(item, &["month", "月"]) => base
            .checked_add_months(chrono::Months::new((i % 24) as u32))
            .unwrap_or(base)
            .format("%Y-%m-%d")
            .to_string(),
        FieldType::Date => (base + chrono::Duration::days((i % 700) as i64))
            .format("%Y-%m-%d")
            .to_string(),
        FieldType::DateTime => (base.and_hms_opt(0, 0, 0).expect("midnight")
            + chrono::Duration::hours(i as i64))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string(),
        FieldType::Code => {
            let prefix: String = item
                .name
                .chars()
                .next()
                .map(|c| c.to_ascii_uppercase().to_string())
                .unwrap_or_else(|| "C".into());
            format!("{prefix}{:06}", i + 1)
        }
        FieldType::Text if has(item, &["district", "所属区", "区县"]) => {
            DISTRICTS[i % DISTRICTS.len()].to_owned()
        }
        // Few enough lines that grouping by one (a sandbox, a chart) gives groups of twenty.
        FieldType::Text if has(item, &["line", "线路"]) => format!("{}路", i % 24 + 1),
        FieldType::Text if has(item, &["address", "地址"]) => format!(
            "{}{}{}号",
            rng.pick(DISTRICTS),
            rng.pick(ROADS),
            rng.next() % 999 + 1
        ),
        FieldType::Text if has(item, &["stop", "station", "站"]) => {
            format!("{}{}站", rng.pick(ROADS), i % 50 + 1)
        }
        FieldType::Text if has(item, &["hours", "时间"]) => "08:00-17:30".to_owned(),
        FieldType::Text if has(item, &["level", "grade", "等级"]) => rng.pick(GRADES).to_owned(),
        FieldType::Text if has(item, &["status", "状态"]) => rng.pick(STATES).to_owned(),
        FieldType::Text if has(item, &["kind", "category", "类别", "类型"]) => {
            rng.pick(KINDS).to_owned()
        }
        FieldType::Text => format!("{}{}", item.label, i + 1),
    }
}

/// The CSV text of an entry's demo file.
pub fn csv_for(name: &str, items: &[DataItem]) -> Vec<u8> {
    let mut rng = Rng::seeded(name);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    let _ = w.write_record(&header);
    for i in 0..ROWS {
        let row: Vec<String> = items.iter().map(|it| value(it, i, &mut rng)).collect();
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}

/// Uploads a file for every open or conditional entry that has data items and no data yet;
/// the running server's job runner reads them. Returns how many were uploaded.
pub async fn seed(app: &app::App) -> anyhow::Result<usize> {
    let mut uploaded = 0;
    for id in app.store.public_dataset_ids(100_000, 0).await? {
        {
            let d = app.store.dataset(&id).await?;
            let listed = matches!(d.status, DatasetStatus::Published | DatasetStatus::Static);
            let opens = matches!(
                d.meta.open_type,
                OpenType::Unconditional | OpenType::Conditional
            );
            if !listed || !opens || d.meta.data_items.is_empty() || d.data.is_some() {
                continue;
            }
            if !app.store.data_versions_of(d.id, 1).await?.is_empty() {
                continue;
            }
            // Conditional data gets the sample anyone may download (A22.1), drawn once its
            // data is published.
            if d.meta.open_type == OpenType::Conditional
                && let Ok(operator) = app.store.user_by_email(DEMO_OPERATOR).await
            {
                let spec = app::samples::SampleSpec {
                    size: data::privacy::sample::SampleSize::Percent(10.0),
                    strata: Vec::new(),
                    seed: Some(2026),
                };
                app::samples::keep_definition(app, &d, &spec, &operator.id.to_string())
                    .await
                    .map_err(|e| anyhow::anyhow!("demo sample: {}", e.code.as_str()))?;
            }
            let bytes = csv_for(&d.meta.name, &d.meta.data_items);
            let caller = app::Caller::platform_for(d.org_id);
            let upload = DataUpload {
                name: format!("{}.csv", d.meta.name),
                mode: Mode::Replace,
                encoding: Some("UTF-8".into()),
            };
            let once = futures_util::stream::once(async move {
                Ok::<_, std::convert::Infallible>(bytes::Bytes::from(bytes))
            });
            app::data_versions::upload(app, &caller, &d, &upload, once)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("demo data for {}: {}", d.meta.name, e.code.as_str())
                })?;
            uploaded += 1;
        }
    }
    Ok(uploaded)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_same_entry_gets_the_same_file_and_coordinates_lie_in_shanghai() {
        let items = vec![
            item("stop_name", "站点名称", FieldType::Text),
            item("lng", "经度", FieldType::Decimal),
            item("lat", "纬度", FieldType::Decimal),
        ];
        let a = csv_for("公交站点位置", &items);
        assert_eq!(a, csv_for("公交站点位置", &items));
        assert_ne!(a, csv_for("另一个条目", &items));
        let text = String::from_utf8(a).unwrap();
        assert_eq!(text.lines().count(), ROWS + 1);
        for line in text.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            let (lng, lat): (f64, f64) = (cells[1].parse().unwrap(), cells[2].parse().unwrap());
            // The box of Shanghai the quality gate checks coordinates against.
            assert!((120.85..=122.20).contains(&lng) && (30.67..=31.88).contains(&lat));
        }
    }
}
