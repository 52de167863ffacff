//! The entry form of the provider console: an open-list entry's metadata to and from the fields
//! of an HTML form that works without JavaScript.
//!
//! Field names are the paths the checks report problems at (`name`, `data_items[2].description`,
//! `grading.security_level`), so each problem lands next to its field. Repeating parts (data
//! items, conditions, materials, relations) are numbered rows; rows left empty are ignored, and
//! the form always offers a few empty rows to add more.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;
use domain::openlist::dataset::{
    Contact, DataItem, DatasetMeta, OpenCondition, Relation, RequiredMaterial, SpatialRange,
    TimeRange,
};
use domain::openlist::rules::ItemRules;

use crate::error::FieldError;

/// What the visitor sent, in order, as given: a form that fails keeps every value.
#[derive(Debug, Clone, Default)]
pub struct FormValues(Vec<(String, String)>);

/// The parts of the form that repeat, with the fields of one row.
pub const ITEM_FIELDS: &[&str] = &[
    "name",
    "label",
    "field_type",
    "unit",
    "description",
    "catalogue_item",
    "rules.required",
    "rules.key",
    "rules.allowed",
    "rules.min",
    "rules.max",
    "rules.pattern",
    "rules.format",
    "rules.check",
];

/// Splits an enumeration written one value per line (so a value may hold any comma).
fn split_values(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}
pub const CONDITION_FIELDS: &[&str] = &["kind", "text"];
pub const MATERIAL_FIELDS: &[&str] = &["name", "description"];
pub const RELATION_FIELDS: &[&str] = &["kind", "dataset", "note"];

/// Splits a keyword list typed with Chinese or Latin commas, semicolons or spaces.
fn split_list(text: &str) -> Vec<String> {
    text.split([',', '，', ';', '；', '、', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl FormValues {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has(&self, key: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == key && v == value)
    }

    /// Sets `key` unless the form has it already.
    pub fn set_default(&mut self, key: &str, value: impl Into<String>) {
        if self.get(key).is_empty() {
            self.push(key, value);
        }
    }

    fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.0.push((key.into(), value));
        }
    }

    /// How many rows of `part` the visitor filled in or was shown (the highest number + 1).
    pub fn rows(&self, part: &str) -> usize {
        let prefix = format!("{part}[");
        self.0
            .iter()
            .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split(']').next()?.parse().ok())
            .map(|i: usize| i + 1)
            .max()
            .unwrap_or(0)
    }

    fn row_is_empty(&self, part: &str, i: usize, fields: &[&str], ignore: &[&str]) -> bool {
        fields
            .iter()
            .filter(|f| !ignore.contains(f))
            .all(|f| self.get(&format!("{part}[{i}].{f}")).trim().is_empty())
    }

    /// The form of an existing entry.
    pub fn from_meta(m: &DatasetMeta) -> Self {
        let mut f = Self::default();
        f.push("name", &m.name);
        f.push("summary", &m.summary);
        f.push("name_en", &m.name_en);
        f.push("summary_en", &m.summary_en);
        f.push("domain", &m.domain);
        f.push("keywords", m.keywords.join("，"));
        for format in &m.formats {
            f.push("formats", format);
        }
        f.push("open_type", m.open_type.as_str());
        for (dimension, level) in &m.grading {
            f.push(format!("grading.{dimension}"), level);
        }
        f.push("update_frequency", m.update_frequency.as_str());
        if let Some(d) = m.time_range.start {
            f.push("time_range.start", d.to_string());
        }
        if let Some(d) = m.time_range.end {
            f.push("time_range.end", d.to_string());
        }
        for a in &m.spatial.areas {
            f.push("spatial.areas", a);
        }
        f.push("spatial.note", &m.spatial.note);
        f.push("contact.name", &m.contact.name);
        f.push("contact.phone", &m.contact.phone);
        f.push("contact.email", &m.contact.email);
        f.push("license", &m.license);
        f.push("source", m.source.as_str());
        f.push("source_note", &m.source_note);
        for (i, item) in m.data_items.iter().enumerate() {
            let key = |field: &str| format!("data_items[{i}].{field}");
            f.push(key("name"), &item.name);
            f.push(key("label"), &item.label);
            f.push(key("field_type"), item.field_type.as_str());
            f.push(key("unit"), &item.unit);
            f.push(key("description"), &item.description);
            f.push(
                key("catalogue_item"),
                item.catalogue_item.clone().unwrap_or_default(),
            );
            let r = &item.rules;
            let yes = |b: bool| if b { "yes" } else { "" };
            f.push(key("rules.required"), yes(r.required));
            f.push(key("rules.key"), yes(r.key));
            f.push(key("rules.allowed"), r.allowed.join("\n"));
            f.push(
                key("rules.min"),
                r.min.map(|v| v.to_string()).unwrap_or_default(),
            );
            f.push(
                key("rules.max"),
                r.max.map(|v| v.to_string()).unwrap_or_default(),
            );
            f.push(key("rules.pattern"), r.pattern.clone().unwrap_or_default());
            f.push(key("rules.format"), r.format.clone().unwrap_or_default());
            f.push(
                key("rules.check"),
                r.check.map(|c| c.as_str()).unwrap_or_default(),
            );
        }
        for (i, c) in m.conditions.iter().enumerate() {
            f.push(format!("conditions[{i}].kind"), c.kind.as_str());
            f.push(format!("conditions[{i}].text"), &c.text);
        }
        for (i, x) in m.materials.iter().enumerate() {
            f.push(format!("materials[{i}].name"), &x.name);
            f.push(format!("materials[{i}].description"), &x.description);
        }
        for (i, r) in m.relations.iter().enumerate() {
            f.push(format!("relations[{i}].kind"), r.kind.as_str());
            f.push(format!("relations[{i}].dataset"), &r.dataset);
            f.push(format!("relations[{i}].note"), &r.note);
        }
        f
    }

    /// The entry the form describes, or every field that cannot be read.
    pub fn to_meta(&self) -> Result<DatasetMeta, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = |key: &str| self.get(key).trim().to_owned();
        let choice = |key: &str, errors: &mut Vec<FieldError>| -> Option<String> {
            let value = text(key);
            if value.is_empty() {
                errors.push(FieldError::new(key, "required"));
                None
            } else {
                Some(value)
            }
        };
        fn parsed<T: FromStr>(
            key: &str,
            value: Option<String>,
            errors: &mut Vec<FieldError>,
        ) -> Option<T> {
            let value = value?;
            match value.parse() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.push(FieldError {
                        field: key.to_owned(),
                        code: "invalid_choice",
                        detail: Some(value),
                    });
                    None
                }
            }
        }
        let date = |key: &str, errors: &mut Vec<FieldError>| -> Option<NaiveDate> {
            let value = text(key);
            if value.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(&value, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new(key, "invalid_date"));
                    None
                }
            }
        };

        let open_type = choice("open_type", &mut errors);
        let open_type = parsed("open_type", open_type, &mut errors);
        let frequency = choice("update_frequency", &mut errors);
        let update_frequency = parsed("update_frequency", frequency, &mut errors);
        let source = match text("source") {
            s if s.is_empty() => Some(Default::default()),
            s => parsed("source", Some(s), &mut errors),
        };
        let start = date("time_range.start", &mut errors);
        let end = date("time_range.end", &mut errors);

        let mut data_items = Vec::new();
        for i in 0..self.rows("data_items") {
            if self.row_is_empty("data_items", i, ITEM_FIELDS, &["field_type"]) {
                continue;
            }
            let key = |field: &str| format!("data_items[{i}].{field}");
            let field_type = choice(&key("field_type"), &mut errors);
            let field_type = parsed(&key("field_type"), field_type, &mut errors);
            let catalogue_item = Some(text(&key("catalogue_item"))).filter(|c| !c.is_empty());
            let number = |field: &str, errors: &mut Vec<FieldError>| -> Option<f64> {
                let value = text(&key(field));
                if value.is_empty() {
                    return None;
                }
                match value.parse::<f64>() {
                    Ok(v) if v.is_finite() => Some(v),
                    _ => {
                        errors.push(FieldError::new(key(field), "invalid_number"));
                        None
                    }
                }
            };
            let optional = |field: &str| Some(text(&key(field))).filter(|v| !v.is_empty());
            let check = match text(&key("rules.check")) {
                c if c.is_empty() => None,
                c => parsed(&key("rules.check"), Some(c), &mut errors),
            };
            let rules = ItemRules {
                required: text(&key("rules.required")) == "yes",
                key: text(&key("rules.key")) == "yes",
                allowed: split_values(&text(&key("rules.allowed"))),
                min: number("rules.min", &mut errors),
                max: number("rules.max", &mut errors),
                pattern: optional("rules.pattern"),
                format: optional("rules.format"),
                check,
            };
            if let Some(field_type) = field_type {
                data_items.push(DataItem {
                    name: text(&key("name")),
                    label: text(&key("label")),
                    field_type,
                    unit: text(&key("unit")),
                    description: text(&key("description")),
                    catalogue_item,
                    rules,
                });
            }
        }
        let mut conditions = Vec::new();
        for i in 0..self.rows("conditions") {
            if self.row_is_empty("conditions", i, CONDITION_FIELDS, &["kind"]) {
                continue;
            }
            let key = format!("conditions[{i}].kind");
            let kind = choice(&key, &mut errors);
            if let Some(kind) = parsed(&key, kind, &mut errors) {
                conditions.push(OpenCondition {
                    kind,
                    text: text(&format!("conditions[{i}].text")),
                });
            }
        }
        let mut materials = Vec::new();
        for i in 0..self.rows("materials") {
            if self.row_is_empty("materials", i, MATERIAL_FIELDS, &[]) {
                continue;
            }
            materials.push(RequiredMaterial {
                name: text(&format!("materials[{i}].name")),
                description: text(&format!("materials[{i}].description")),
            });
        }
        let mut relations = Vec::new();
        for i in 0..self.rows("relations") {
            if self.row_is_empty("relations", i, RELATION_FIELDS, &["kind"]) {
                continue;
            }
            let key = format!("relations[{i}].kind");
            let kind = choice(&key, &mut errors);
            if let Some(kind) = parsed(&key, kind, &mut errors) {
                relations.push(Relation {
                    kind,
                    dataset: text(&format!("relations[{i}].dataset")),
                    note: text(&format!("relations[{i}].note")),
                });
            }
        }
        let grading: BTreeMap<String, String> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                Some((k.strip_prefix("grading.")?.to_owned(), v.trim().to_owned()))
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();

        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(open_type), Some(update_frequency), Some(source)) =
            (open_type, update_frequency, source)
        else {
            return Err(errors);
        };
        Ok(DatasetMeta {
            name: text("name"),
            summary: text("summary"),
            name_en: text("name_en"),
            summary_en: text("summary_en"),
            domain: text("domain"),
            keywords: split_list(self.get("keywords")),
            data_items,
            formats: self.all("formats").into_iter().map(str::to_owned).collect(),
            open_type,
            grading,
            conditions,
            materials,
            update_frequency,
            time_range: TimeRange { start, end },
            spatial: SpatialRange {
                areas: self
                    .all("spatial.areas")
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                note: text("spatial.note"),
            },
            relations,
            contact: Contact {
                name: text("contact.name"),
                phone: text("contact.phone"),
                email: text("contact.email"),
            },
            license: text("license"),
            source,
            source_note: text("source_note"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> DatasetMeta {
        serde_json::from_value(serde_json::json!({
            "name": "上海市公交线路站点",
            "summary": "公交线路与站点。",
            "domain": "transport",
            "keywords": ["公交", "站点"],
            "data_items": [
                { "name": "line", "label": "线路", "field_type": "text", "description": "线路名称。",
                  "catalogue_item": "c1",
                  "rules": { "required": true, "key": true, "allowed": ["1路", "2路, 夜班"],
                             "pattern": "[0-9]+路.*" } },
                { "name": "stops", "label": "站数", "field_type": "integer", "unit": "个",
                  "rules": { "min": 0, "max": 120.5 } },
            ],
            "formats": ["csv", "json"],
            "open_type": "conditional",
            "grading": { "security_level": "general", "access_pattern": "continuous" },
            "conditions": [{ "kind": "scenario", "text": "出行服务。" }],
            "materials": [{ "name": "场景说明" }],
            "update_frequency": "monthly",
            "time_range": { "start": "2020-01-01" },
            "spatial": { "areas": ["pudong", "xuhui"], "note": "含郊区线路" },
            "relations": [{ "kind": "same_subject", "dataset": "d1" }],
            "contact": { "name": "数据处", "phone": "021-1" },
            "license": "协议",
            "source": "deidentified",
            "source_note": "去除身份信息后汇总。",
        }))
        .unwrap()
    }

    #[test]
    fn an_entry_survives_the_form_both_ways() {
        let m = meta();
        assert_eq!(FormValues::from_meta(&m).to_meta().unwrap(), m);
    }

    #[test]
    fn empty_rows_are_ignored_and_keywords_split_on_any_comma() {
        let body = "name=x&open_type=unconditional&update_frequency=daily&keywords=公交，站点, 线路\
                    &data_items[0].field_type=text&data_items[0].name=&data_items[3].name=a\
                    &data_items[3].field_type=date&conditions[1].kind=scenario";
        let m = FormValues::parse(body.as_bytes()).to_meta().unwrap();
        assert_eq!(m.keywords, ["公交", "站点", "线路"]);
        assert_eq!(m.data_items.len(), 1);
        assert_eq!(m.data_items[0].name, "a");
        assert!(m.conditions.is_empty());
    }

    #[test]
    fn every_unreadable_field_is_reported_at_once() {
        let body = "open_type=sometimes&time_range.start=2020-13-01\
                    &data_items[0].name=a&data_items[0].field_type=colour";
        let errors = FormValues::parse(body.as_bytes()).to_meta().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "open_type",
                "update_frequency",
                "time_range.start",
                "data_items[0].field_type"
            ]
        );
    }
}
