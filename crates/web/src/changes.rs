//! How a change of an entry's metadata reads on a page: the field by its label, the values by
//! their labels in the page's language (每月 → 每周, not `monthly → weekly`), a new data item
//! as a sentence rather than JSON.

use domain::openlist::classification::Guide;
use domain::openlist::diff::Change;
use serde_json::Value;

use crate::i18n::Lang;
use crate::labels::Labels;
use crate::page::PageCtx;

/// One row of a ticket's table of changes.
pub struct ChangeRow {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// Reads changes for people: labels from the page's catalogue, the vocabularies and the guide.
pub struct ChangeReader<'a> {
    pub page: &'a PageCtx<'a>,
    pub labels: &'a Labels<'a>,
    pub guide: &'a Guide,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `data_items[line].label` → ("data_items", Some("line"), Some("label")).
fn split(path: &str) -> (&str, Option<&str>, Option<&str>) {
    match path.split_once('[') {
        Some((top, rest)) => {
            let (key, field) = rest.split_once(']').unwrap_or((rest, ""));
            (top, Some(key), field.strip_prefix('.'))
        }
        None => match path.split_once('.') {
            Some((top, field)) => (top, None, Some(field)),
            None => (path, None, None),
        },
    }
}

impl ChangeReader<'_> {
    pub fn row(&self, c: &Change) -> ChangeRow {
        let shown = |v: &Option<Value>| match v {
            None => "—".to_owned(),
            Some(v) => self.value(&c.path, v),
        };
        ChangeRow {
            field: self.field(&c.path),
            before: shown(&c.before),
            after: shown(&c.after),
        }
    }

    fn t(&self, key: &str) -> String {
        self.page.t(key).to_string()
    }

    fn separator(&self) -> String {
        self.t("list.separator")
    }

    fn dimension(&self, code: &str) -> Option<&domain::openlist::classification::Dimension> {
        self.guide.dimensions.iter().find(|d| d.code == code)
    }

    fn in_lang<'s>(&self, zh: &'s str, en: &'s str) -> &'s str {
        match self.labels.lang() {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The field a change is to, as the entry's form names it.
    pub fn field(&self, path: &str) -> String {
        let part = |key: &str| {
            format!(
                "{} · {}",
                self.t(&format!("meta.{}", split(path).0)),
                self.t(key)
            )
        };
        match split(path) {
            ("data_items", Some(name), field) => {
                let item = self.page.tf("console.item_named", "name", name);
                match field {
                    None => item,
                    Some(f) => format!("{item} · {}", self.item_field(f)),
                }
            }
            ("materials", Some(name), field) => {
                let material = self.page.tf("console.material_named", "name", name);
                match field {
                    Some("description") => {
                        format!("{material} · {}", self.t("console.material_description"))
                    }
                    _ => material,
                }
            }
            ("grading", None, Some(dim)) => {
                let name = self
                    .dimension(dim)
                    .map(|d| self.in_lang(&d.name_zh, &d.name_en).to_owned())
                    .unwrap_or_else(|| dim.to_owned());
                format!("{} · {name}", self.t("meta.grading"))
            }
            ("time_range", None, Some("start")) => part("console.time_start"),
            ("time_range", None, Some("end")) => part("console.time_end"),
            ("spatial", None, Some("note")) => self.t("console.spatial_note"),
            ("contact", None, Some(f)) => self.t(&format!("console.contact_{f}")),
            (top, _, _) => {
                let key = format!("meta.{top}");
                let label = self.t(&key);
                if label == key { path.to_owned() } else { label }
            }
        }
    }

    fn item_field(&self, field: &str) -> String {
        match field {
            "name" => self.t("dataset.item_name"),
            "label" => self.t("dataset.item_label"),
            "field_type" => self.t("dataset.item_type"),
            "unit" => self.t("dataset.item_unit"),
            "description" => self.t("dataset.item_description"),
            "catalogue_item" => self.t("console.catalogue_item"),
            other => other.to_owned(),
        }
    }

    fn list(&self, v: &Value, each: impl Fn(&Value) -> String) -> String {
        match v {
            Value::Array(items) => items
                .iter()
                .map(each)
                .collect::<Vec<_>>()
                .join(&self.separator()),
            other => each(other),
        }
    }

    /// A value as people read it.
    fn value(&self, path: &str, v: &Value) -> String {
        let l = self.labels;
        match split(path) {
            ("open_type", ..) => l.named("open_type", &text(v)),
            ("update_frequency", ..) => l.named("frequency", &text(v)),
            ("source", None, None) => l.named("source", &text(v)),
            ("status", ..) => l.named("status", &text(v)),
            ("domain", ..) => l.domain(&text(v)),
            ("formats", ..) => self.list(v, |f| l.format(&text(f))),
            ("spatial", None, Some("areas")) => self.list(v, |a| l.area(&text(a))),
            ("conditions", ..) => self.list(v, |c| {
                format!(
                    "{}：{}",
                    l.named("condition", &text(&c["kind"])),
                    text(&c["text"])
                )
            }),
            ("relations", ..) => self.list(v, |r| {
                let note = text(&r["note"]);
                let mut s = format!(
                    "{} {}",
                    l.named("relation", &text(&r["kind"])),
                    text(&r["dataset"])
                );
                if !note.is_empty() {
                    s.push_str(&format!("（{note}）"));
                }
                s
            }),
            ("data_items", Some(_), None) => {
                let mut s = format!(
                    "{}（{}，{}）",
                    text(&v["label"]),
                    text(&v["name"]),
                    l.named("field_type", &text(&v["field_type"]))
                );
                for part in ["unit", "description"] {
                    let t = text(&v[part]);
                    if !t.is_empty() {
                        s.push_str(&format!("{}{t}", self.separator()));
                    }
                }
                s
            }
            ("data_items", Some(_), Some("field_type")) => l.named("field_type", &text(v)),
            ("materials", Some(_), None) => {
                let description = text(&v["description"]);
                match description.is_empty() {
                    true => text(&v["name"]),
                    false => format!("{}：{description}", text(&v["name"])),
                }
            }
            ("grading", None, Some(dim)) => {
                let code = text(v);
                self.dimension(dim)
                    .and_then(|d| d.levels.iter().find(|x| x.code == code))
                    .map(|x| self.in_lang(&x.name_zh, &x.name_en).to_owned())
                    .unwrap_or(code)
            }
            _ => self.list(v, text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn paths_split_into_field_key_and_part() {
        assert_eq!(split("name"), ("name", None, None));
        assert_eq!(
            split("time_range.start"),
            ("time_range", None, Some("start"))
        );
        assert_eq!(
            split("data_items[line]"),
            ("data_items", Some("line"), None)
        );
        assert_eq!(
            split("data_items[line].label"),
            ("data_items", Some("line"), Some("label"))
        );
        assert_eq!(
            split("grading.security_level"),
            ("grading", None, Some("security_level"))
        );
    }
}
