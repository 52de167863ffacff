//! The privacy guard's vocabulary (A10.3, A12.1, A14.1): the kinds of personal information the
//! scanner looks for, and the de-identification rules a provider sets per data item, after
//! GB/T 37964-2019 (个人信息去标识化指南) — suppression, masking, keyed pseudonyms,
//! generalisation, top and bottom coding, rounding and bounded noise. The rules are applied
//! while a file is ingested, so the open version never holds the original values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::names::string_enum;
use crate::openlist::dataset::DataItem;
use crate::openlist::vocab::FieldType;

string_enum!(
    /// A kind of personal information the scanner recognises.
    PiKind {
        /// 居民身份证号码 with a valid check character and birth date.
        ResidentId => "resident_id",
        /// A mainland mobile number.
        Mobile => "mobile",
        /// A landline number, personal where the rows are about people.
        Landline => "landline",
        Email => "email",
        /// A bank card number (Luhn check, a card scheme's prefix).
        BankCard => "bank_card",
        /// A passport number.
        Passport => "passport",
        /// A Hong Kong, Macao or Taiwan travel permit number.
        TravelPermit => "travel_permit",
        /// A vehicle licence plate.
        LicencePlate => "licence_plate",
        /// A Chinese personal name.
        PersonName => "person_name",
        /// A street address down to the house number, where it is someone's home.
        Address => "address",
        /// Precise coordinates, where they are someone's home.
        HomeLocation => "home_location",
    }
);

string_enum!(
    /// What a date is generalised to.
    DateUnit {
        Month => "month",
        Year => "year",
    }
);

string_enum!(
    /// What an address is generalised to.
    AddressLevel {
        /// The road or street, without the number.
        Street => "street",
        /// The district (or county).
        District => "district",
    }
);

/// How one data item's values are de-identified before they are opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeidRule {
    /// No value is opened: the column is empty in the open data.
    Suppress,
    /// Keeps the first `keep_start` and last `keep_end` characters, the others become `*`.
    Mask { keep_start: u8, keep_end: u8 },
    /// A keyed pseudonym (HMAC-SHA-256 under a secret of the entry kept out of the open data):
    /// the same value gets the same pseudonym in every version, and it cannot be reversed.
    Pseudonym,
    /// Dates (or times) kept to their month or year.
    DateTo { unit: DateUnit },
    /// Numbers (ages) put into bands of `width`, written `30-39`.
    Band { width: u32 },
    /// Points (or longitudes and latitudes) moved to the centre of a grid cell of `metres`.
    Grid { metres: u32 },
    /// Addresses kept to their street or district.
    AddressTo { level: AddressLevel },
    /// Top and bottom coding: numbers below `bottom` become `bottom`, above `top` become `top`.
    Clamp {
        #[serde(default)]
        bottom: Option<f64>,
        #[serde(default)]
        top: Option<f64>,
    },
    /// Numbers rounded to a multiple of `step`.
    Round { step: f64 },
    /// Numbers moved by a random amount of at most `amplitude` either way.
    Noise { amplitude: f64 },
}

/// Characters a mask may keep at either end.
pub const MAX_MASK_KEEP: u8 = 32;
/// The largest grid cell, in metres.
pub const MAX_GRID_METRES: u32 = 100_000;

impl DeidRule {
    pub fn code(&self) -> &'static str {
        match self {
            DeidRule::Suppress => "suppress",
            DeidRule::Mask { .. } => "mask",
            DeidRule::Pseudonym => "pseudonym",
            DeidRule::DateTo { .. } => "date_to",
            DeidRule::Band { .. } => "band",
            DeidRule::Grid { .. } => "grid",
            DeidRule::AddressTo { .. } => "address_to",
            DeidRule::Clamp { .. } => "clamp",
            DeidRule::Round { .. } => "round",
            DeidRule::Noise { .. } => "noise",
        }
    }

    /// The type of the values this rule writes for an item of type `t`, or `None` when the
    /// rule does not apply to such values.
    pub fn output_type(&self, t: FieldType) -> Option<FieldType> {
        use FieldType::*;
        let number = matches!(t, Integer | Decimal);
        let text = matches!(t, Text | Code);
        match self {
            DeidRule::Suppress => Some(t),
            DeidRule::Mask { .. } if text => Some(t),
            DeidRule::Mask { .. } if number => Some(Code),
            DeidRule::Pseudonym => Some(Code),
            DeidRule::DateTo { .. } if matches!(t, Date | DateTime) => Some(Code),
            DeidRule::Band { .. } if number => Some(Code),
            DeidRule::Grid { .. } if matches!(t, Geometry | Decimal) => Some(t),
            DeidRule::AddressTo { .. } if text => Some(t),
            DeidRule::Clamp { .. } | DeidRule::Round { .. } | DeidRule::Noise { .. } if number => {
                Some(t)
            }
            _ => None,
        }
    }

    /// What is wrong with the rule's own settings, as a stable code.
    pub fn problem(&self) -> Option<&'static str> {
        let finite = |x: f64| x.is_finite();
        match *self {
            DeidRule::Mask {
                keep_start,
                keep_end,
            } if keep_start > MAX_MASK_KEEP || keep_end > MAX_MASK_KEEP => Some("mask_too_wide"),
            DeidRule::Band { width } if width == 0 || width > 1_000_000 => Some("out_of_range"),
            DeidRule::Grid { metres } if metres == 0 || metres > MAX_GRID_METRES => {
                Some("out_of_range")
            }
            DeidRule::Clamp { bottom, top } => match (bottom, top) {
                (None, None) => Some("required"),
                (Some(b), _) if !finite(b) => Some("out_of_range"),
                (_, Some(t)) if !finite(t) => Some("out_of_range"),
                (Some(b), Some(t)) if b > t => Some("out_of_range"),
                _ => None,
            },
            DeidRule::Round { step } if !(finite(step) && step > 0.0) => Some("out_of_range"),
            DeidRule::Noise { amplitude } if !(finite(amplitude) && amplitude > 0.0) => {
                Some("out_of_range")
            }
            _ => None,
        }
    }

    /// Whether an original value can survive the rule unchanged: the generalising and
    /// perturbing rules may leave some values as they were; suppression, masks and pseudonyms
    /// never do.
    pub fn removes_every_original(&self) -> bool {
        matches!(
            self,
            DeidRule::Suppress | DeidRule::Mask { .. } | DeidRule::Pseudonym
        )
    }
}

/// The most data items a privacy plan may name.
pub const MAX_PLAN_ITEMS: usize = 500;

/// An entry's privacy plan: the rule for each data item that has one, the items that together
/// may single a person out (quasi-identifiers), and the sensitive item whose values the groups
/// they form should vary in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacyPlan {
    /// Rules by data item (field name).
    #[serde(default)]
    pub rules: BTreeMap<String, DeidRule>,
    /// Items that together may identify someone (age, district, sex, …).
    #[serde(default)]
    pub quasi_identifiers: Vec<String>,
    /// An item whose values are sensitive (a diagnosis, an income…), for l-diversity.
    #[serde(default)]
    pub sensitive: Option<String>,
}

/// What is wrong with a plan, against the entry's data items: (field, code).
pub fn plan_problems(plan: &PrivacyPlan, items: &[DataItem]) -> Vec<(String, &'static str)> {
    let mut problems = Vec::new();
    let item = |name: &str| items.iter().find(|d| d.name == name);
    if plan.rules.len() > MAX_PLAN_ITEMS || plan.quasi_identifiers.len() > MAX_PLAN_ITEMS {
        problems.push(("rules".to_owned(), "too_many"));
        return problems;
    }
    for (name, rule) in &plan.rules {
        let field = format!("rules.{}", name.chars().take(64).collect::<String>());
        match item(name) {
            None => problems.push((field, "unknown_item")),
            Some(d) => {
                if let Some(code) = rule.problem() {
                    problems.push((field, code));
                } else if rule.output_type(d.field_type).is_none() {
                    problems.push((field, "rule_does_not_fit_type"));
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for name in &plan.quasi_identifiers {
        let field = format!(
            "quasi_identifiers.{}",
            name.chars().take(64).collect::<String>()
        );
        if item(name).is_none() {
            problems.push((field, "unknown_item"));
        } else if !seen.insert(name) {
            problems.push((field, "duplicate"));
        }
    }
    if let Some(s) = &plan.sensitive {
        if item(s).is_none() {
            problems.push(("sensitive".to_owned(), "unknown_item"));
        } else if plan.quasi_identifiers.contains(s) {
            problems.push(("sensitive".to_owned(), "also_quasi_identifier"));
        }
    }
    problems
}

/// The data items of the open version: each item with a rule takes the type its rule writes.
pub fn open_items(items: &[DataItem], plan: &PrivacyPlan) -> Vec<DataItem> {
    items
        .iter()
        .map(|d| {
            let mut open = d.clone();
            if let Some(t) = plan
                .rules
                .get(&d.name)
                .and_then(|r| r.output_type(d.field_type))
            {
                if t != d.field_type {
                    // The item's checks were for the original values.
                    open.rules = Default::default();
                }
                open.field_type = t;
            }
            open
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn rules_fit_only_the_types_they_can_rewrite() {
        assert_eq!(
            DeidRule::DateTo {
                unit: DateUnit::Month
            }
            .output_type(FieldType::Date),
            Some(FieldType::Code)
        );
        assert_eq!(
            DeidRule::Round { step: 10.0 }.output_type(FieldType::Text),
            None
        );
        assert_eq!(
            DeidRule::Grid { metres: 500 }.output_type(FieldType::Geometry),
            Some(FieldType::Geometry)
        );
        assert_eq!(
            DeidRule::Pseudonym.output_type(FieldType::Integer),
            Some(FieldType::Code)
        );
    }

    #[test]
    fn a_plan_names_only_items_of_the_entry_with_rules_that_fit() {
        let items = vec![
            item("id_number", FieldType::Code),
            item("born", FieldType::Date),
            item("age", FieldType::Integer),
        ];
        let mut plan = PrivacyPlan::default();
        plan.rules.insert("id_number".into(), DeidRule::Pseudonym);
        plan.rules
            .insert("born".into(), DeidRule::Round { step: 1.0 });
        plan.rules.insert("nope".into(), DeidRule::Suppress);
        plan.rules.insert(
            "age".into(),
            DeidRule::Noise {
                amplitude: f64::NAN,
            },
        );
        plan.quasi_identifiers = vec!["age".into(), "age".into(), "ghost".into()];
        plan.sensitive = Some("age".into());
        let mut found: Vec<(String, &str)> = plan_problems(&plan, &items);
        found.sort();
        assert_eq!(
            found,
            vec![
                ("quasi_identifiers.age".to_owned(), "duplicate"),
                ("quasi_identifiers.ghost".to_owned(), "unknown_item"),
                ("rules.age".to_owned(), "out_of_range"),
                ("rules.born".to_owned(), "rule_does_not_fit_type"),
                ("rules.nope".to_owned(), "unknown_item"),
                ("sensitive".to_owned(), "also_quasi_identifier"),
            ]
        );
    }

    #[test]
    fn the_open_items_take_the_type_their_rule_writes() {
        let items = vec![item("born", FieldType::Date), item("name", FieldType::Text)];
        let mut plan = PrivacyPlan::default();
        plan.rules.insert(
            "born".into(),
            DeidRule::DateTo {
                unit: DateUnit::Year,
            },
        );
        let open = open_items(&items, &plan);
        assert_eq!(open[0].field_type, FieldType::Code);
        assert_eq!(open[1].field_type, FieldType::Text);
    }

    #[test]
    fn rules_travel_as_tagged_json() {
        let rule: DeidRule =
            serde_json::from_str(r#"{"rule":"mask","keep_start":6,"keep_end":4}"#).unwrap();
        assert_eq!(
            rule,
            DeidRule::Mask {
                keep_start: 6,
                keep_end: 4
            }
        );
        assert!(serde_json::from_str::<DeidRule>(r#"{"rule":"mask"}"#).is_err());
        assert!(serde_json::from_str::<DeidRule>(r#"{"rule":"explode"}"#).is_err());
    }
}
