//! De-identification while ingesting (A10.3, A12.1): each data item with a rule has its value
//! rewritten before it is built into the open version's column, so the original never reaches
//! the Parquet file, the profile or the preview. Rules after GB/T 37964-2019: suppression,
//! masking, keyed pseudonyms, generalisation of dates, numbers, points and addresses, top and
//! bottom coding, rounding and bounded random noise.

use chrono::Datelike;
use domain::openlist::dataset::DataItem;
use domain::privacy::{AddressLevel, DateUnit, DeidRule, PrivacyPlan};
use hmac::{Hmac, Mac};
use rand::{Rng, SeedableRng};
use sha2::Sha256;

use crate::table::Value;

/// Metres in a degree of latitude.
const METRES_PER_DEGREE: f64 = 111_320.0;

/// What a rule makes of one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Rewritten {
    /// No rule: the value as it is.
    Same,
    /// Nothing is opened.
    Null,
    /// The opened value, written as text of the open item's type.
    Text(String),
}

/// The rules of an ingestion, one per data item.
pub struct Deid {
    rules: Vec<Option<DeidRule>>,
    key: Hmac<Sha256>,
    /// One generator per item, so the items can be rewritten side by side.
    noise: Vec<rand::rngs::StdRng>,
}

/// One data item's rule, with what it needs to rewrite that item's values on its own.
pub struct DeidLane<'d> {
    rule: Option<&'d DeidRule>,
    key: &'d Hmac<Sha256>,
    noise: &'d mut rand::rngs::StdRng,
}

impl Deid {
    /// The rules of `plan` for `items`, pseudonyms keyed by `secret`.
    pub fn new(items: &[DataItem], plan: &PrivacyPlan, secret: &[u8]) -> Self {
        Deid {
            rules: items
                .iter()
                .map(|d| {
                    plan.rules
                        .get(&d.name)
                        .filter(|r| r.output_type(d.field_type).is_some())
                        .cloned()
                })
                .collect(),
            key: Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length"),
            noise: items
                .iter()
                .map(|_| rand::rngs::StdRng::from_os_rng())
                .collect(),
        }
    }

    /// The opened form of item `p`'s value `value`, read from `cell`.
    pub fn rewrite(&mut self, p: usize, cell: &str, value: &Value<'_>) -> Rewritten {
        let (Some(rule), Some(noise)) = (self.rules.get(p), self.noise.get_mut(p)) else {
            return Rewritten::Same;
        };
        DeidLane {
            rule: rule.as_ref(),
            key: &self.key,
            noise,
        }
        .rewrite(cell, value)
    }

    /// Each item's rule on its own, in the items' order.
    pub fn lanes(&mut self) -> Vec<DeidLane<'_>> {
        let key = &self.key;
        self.rules
            .iter()
            .zip(self.noise.iter_mut())
            .map(|(rule, noise)| DeidLane {
                rule: rule.as_ref(),
                key,
                noise,
            })
            .collect()
    }
}

impl DeidLane<'_> {
    /// The opened form of the value `value`, read from `cell`.
    pub fn rewrite(&mut self, cell: &str, value: &Value<'_>) -> Rewritten {
        let Some(rule) = self.rule else {
            return Rewritten::Same;
        };
        let text = |s: String| Rewritten::Text(s);
        match rule {
            DeidRule::Suppress => Rewritten::Null,
            DeidRule::Mask {
                keep_start,
                keep_end,
            } => text(mask(cell, *keep_start as usize, *keep_end as usize)),
            DeidRule::Pseudonym => {
                let mut mac = self.key.clone();
                mac.update(cell.as_bytes());
                let digest = mac.finalize().into_bytes();
                text(hex::encode(&digest[..16]))
            }
            DeidRule::DateTo { unit } => {
                let date = match value {
                    Value::Date(d) => *d,
                    Value::DateTime(t) => t.date(),
                    _ => return Rewritten::Null,
                };
                text(match unit {
                    DateUnit::Month => format!("{:04}-{:02}", date.year(), date.month()),
                    DateUnit::Year => format!("{:04}", date.year()),
                })
            }
            DeidRule::Band { width } => match value.number() {
                Some(v) => {
                    let w = f64::from(*width);
                    let low = (v.floor() / w).floor() * w;
                    text(format!("{}-{}", low as i64, (low + w) as i64 - 1))
                }
                None => Rewritten::Null,
            },
            DeidRule::Grid { metres } => {
                let cell_deg = f64::from(*metres) / METRES_PER_DEGREE;
                let snap = |x: f64| ((x / cell_deg).floor() + 0.5) * cell_deg;
                match value {
                    Value::Point(_, x, y) => {
                        text(format!("POINT({:.6} {:.6})", snap(*x), snap(*y)))
                    }
                    Value::Decimal(x) => text(format!("{:.6}", snap(*x))),
                    _ => Rewritten::Null,
                }
            }
            DeidRule::AddressTo { level } => match generalise_address(cell, *level) {
                Some(a) => text(a),
                None => Rewritten::Null,
            },
            DeidRule::Clamp { bottom, top } => number(value, |mut v| {
                if let Some(b) = bottom {
                    v = v.max(*b);
                }
                if let Some(t) = top {
                    v = v.min(*t);
                }
                v
            }),
            DeidRule::Round { step } => number(value, |v| (v / step).round() * step),
            DeidRule::Noise { amplitude } => {
                let shift = self.noise.random_range(-*amplitude..=*amplitude);
                number(value, |v| v + shift)
            }
        }
    }
}

/// One value of the preview: as read, and as it would be opened (`None`: nothing opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previewed {
    pub original: String,
    pub opened: Option<String>,
}

/// The first rows of a file as `plan` would open them: per data item (in the declaration's
/// order), each row's value as read and as rewritten. An item the file lacks shows empty.
pub fn preview(
    header: &[&str],
    rows: &[csv::StringRecord],
    items: &[DataItem],
    plan: &PrivacyPlan,
    secret: &[u8],
) -> Vec<Vec<Previewed>> {
    let (columns, _) = crate::columns::match_columns(header, items);
    let mut at = vec![None; items.len()];
    for (i, c) in columns.iter().enumerate() {
        if let Some(p) = c.item {
            at[p] = Some(i);
        }
    }
    let mut deid = Deid::new(items, plan, secret);
    rows.iter()
        .map(|record| {
            items
                .iter()
                .enumerate()
                .map(|(p, item)| {
                    let cell = at[p].and_then(|c| record.get(c)).unwrap_or("").trim();
                    let opened = match crate::table::parse(item.field_type, cell, None) {
                        _ if cell.is_empty() => Some(String::new()),
                        // A value the quality gate refuses is shown as read.
                        None => Some(cell.to_owned()),
                        Some(v) => match deid.rewrite(p, cell, &v) {
                            Rewritten::Same => Some(cell.to_owned()),
                            Rewritten::Null => None,
                            Rewritten::Text(t) => Some(t),
                        },
                    };
                    Previewed {
                        original: cell.to_owned(),
                        opened,
                    }
                })
                .collect()
        })
        .collect()
}

/// A number rewritten by `f`, kept an integer when it was one.
fn number(value: &Value<'_>, f: impl Fn(f64) -> f64) -> Rewritten {
    match value {
        Value::Integer(i) => {
            let v = f(*i as f64).round();
            if v.is_finite() && v.abs() < 9.0e18 {
                Rewritten::Text((v as i64).to_string())
            } else {
                Rewritten::Null
            }
        }
        Value::Decimal(x) => {
            let v = f(*x);
            if v.is_finite() {
                // Rounding errors of the step (0.1 × 3) are not the data's.
                Rewritten::Text(format!("{}", (v * 1e9).round() / 1e9))
            } else {
                Rewritten::Null
            }
        }
        _ => Rewritten::Null,
    }
}

/// Keeps `start` characters at the front and `end` at the back, the others `*`. A value no
/// longer than what would be kept is hidden whole, so no original survives a mask.
pub fn mask(cell: &str, start: usize, end: usize) -> String {
    let n = cell.chars().count();
    if start + end >= n {
        return "*".repeat(n.max(1));
    }
    cell.chars()
        .enumerate()
        .map(|(i, c)| if i < start || i >= n - end { c } else { '*' })
        .collect()
}

/// Marks after which an address has named its road.
const ROAD_ENDS: &[&str] = &["大道", "路", "街", "巷", "胡同", "公路"];
/// Marks after which it has named its district or county.
const DISTRICT_ENDS: &[&str] = &["新区", "区", "县"];

/// `address` kept to its street (the road's name, no number) or to its district; `None` when
/// the address names neither.
pub fn generalise_address(address: &str, level: AddressLevel) -> Option<String> {
    let cut_after = |marks: &[&str]| {
        marks
            .iter()
            .filter_map(|m| address.find(m).map(|i| i + m.len()))
            .min()
    };
    let district = cut_after(DISTRICT_ENDS);
    let end = match level {
        AddressLevel::Street => {
            // The road comes after the district, when there is one.
            let from = district.unwrap_or(0);
            ROAD_ENDS
                .iter()
                .filter_map(|m| address[from..].find(m).map(|i| from + i + m.len()))
                .min()
                .or(district)
        }
        AddressLevel::District => district,
    }?;
    Some(address[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::openlist::vocab::FieldType;
    use proptest::prelude::*;

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

    fn one(rule: DeidRule, t: FieldType, cell: &str) -> Rewritten {
        let mut plan = PrivacyPlan::default();
        plan.rules.insert("x".into(), rule);
        let mut d = Deid::new(&[item("x", t)], &plan, b"secret");
        let v = crate::table::parse(t, cell, None).expect("a value of the type");
        d.rewrite(0, cell, &v)
    }

    fn text(s: &str) -> Rewritten {
        Rewritten::Text(s.to_owned())
    }

    #[test]
    fn each_rule_rewrites_as_the_guide_describes() {
        use FieldType::*;
        let mask = DeidRule::Mask {
            keep_start: 6,
            keep_end: 4,
        };
        assert_eq!(
            one(mask, Code, "11010519491231002X"),
            text("110105********002X")
        );
        assert_eq!(one(DeidRule::Suppress, Text, "张伟"), Rewritten::Null);
        let month = DeidRule::DateTo {
            unit: DateUnit::Month,
        };
        assert_eq!(one(month, Date, "1987-03-15"), text("1987-03"));
        assert_eq!(
            one(DeidRule::Band { width: 10 }, Integer, "37"),
            text("30-39")
        );
        assert_eq!(
            one(
                DeidRule::Grid { metres: 1000 },
                Geometry,
                "POINT(121.4737 31.2304)"
            ),
            text("POINT(121.474129 31.229788)")
        );
        let clamp = DeidRule::Clamp {
            bottom: Some(18.0),
            top: Some(80.0),
        };
        assert_eq!(one(clamp.clone(), Integer, "95"), text("80"));
        assert_eq!(one(clamp, Integer, "12"), text("18"));
        assert_eq!(
            one(DeidRule::Round { step: 100.0 }, Decimal, "1234.5"),
            text("1200")
        );
        let street = DeidRule::AddressTo {
            level: AddressLevel::Street,
        };
        assert_eq!(
            one(street, Text, "上海市徐汇区漕溪北路398号"),
            text("上海市徐汇区漕溪北路")
        );
        let district = DeidRule::AddressTo {
            level: AddressLevel::District,
        };
        assert_eq!(
            one(district, Text, "上海市浦东新区世纪大道100号"),
            text("上海市浦东新区")
        );
    }

    #[test]
    fn pseudonyms_are_stable_under_one_secret_and_differ_under_another() {
        let mut plan = PrivacyPlan::default();
        plan.rules.insert("x".into(), DeidRule::Pseudonym);
        let items = [item("x", FieldType::Code)];
        let v = Value::Text("13812345678");
        let a = Deid::new(&items, &plan, b"one").rewrite(0, "13812345678", &v);
        let b = Deid::new(&items, &plan, b"one").rewrite(0, "13812345678", &v);
        let c = Deid::new(&items, &plan, b"two").rewrite(0, "13812345678", &v);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let Rewritten::Text(p) = a else {
            panic!("a pseudonym")
        };
        assert_eq!(p.len(), 32);
        assert!(!p.contains("13812345678"));
    }

    #[test]
    fn noise_stays_within_its_amplitude() {
        for _ in 0..200 {
            let Rewritten::Text(v) = one(
                DeidRule::Noise { amplitude: 5.0 },
                FieldType::Integer,
                "100",
            ) else {
                panic!("a number")
            };
            let v: i64 = v.parse().unwrap();
            assert!((95..=105).contains(&v), "{v}");
        }
    }

    proptest! {
        /// No original value survives a mask, a pseudonym or suppression.
        #[test]
        fn masked_pseudonymised_or_suppressed_values_never_hold_the_original(
            values in proptest::collection::vec("[0-9A-Za-z\u{4e00}-\u{4e20}]{1,24}", 1..40),
            keep_start in 0u8..8,
            keep_end in 0u8..8,
        ) {
            let rules = [
                DeidRule::Suppress,
                DeidRule::Pseudonym,
                DeidRule::Mask { keep_start, keep_end },
            ];
            for rule in rules {
                let mut plan = PrivacyPlan::default();
                plan.rules.insert("x".into(), rule.clone());
                let mut d = Deid::new(&[item("x", FieldType::Text)], &plan, b"k");
                let out: Vec<Rewritten> = values
                    .iter()
                    .map(|v| d.rewrite(0, v, &Value::Text(v)))
                    .collect();
                for (v, o) in values.iter().zip(&out) {
                    match o {
                        Rewritten::Null => {}
                        Rewritten::Text(t) => {
                            // A longer original is never inside an output, nor equal to it.
                            prop_assert_ne!(t, v);
                            let kept = usize::from(keep_start) + usize::from(keep_end);
                            if v.chars().count() > kept && !matches!(rule, DeidRule::Pseudonym) {
                                prop_assert!(!t.contains(v.as_str()));
                            }
                        }
                        Rewritten::Same => prop_assert!(false, "a rule was not applied"),
                    }
                }
                if matches!(rule, DeidRule::Pseudonym) {
                    for o in &out {
                        let Rewritten::Text(t) = o else { continue };
                        prop_assert!(!values.iter().any(|v| t.contains(v.as_str()) && v.chars().count() > 8));
                    }
                }
            }
        }
    }
}
