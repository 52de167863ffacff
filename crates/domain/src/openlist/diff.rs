//! The difference between two versions of an entry's metadata, field by field, as a ticket
//! shows it to the operator.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::dataset::DatasetMeta;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Change {
    /// The field: `name`, `time_range.start`, `grading.security_level`, a data item or material
    /// by its name (`data_items[line]`) or one of its parts (`data_items[line].description`).
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What a ticket changes in an entry's metadata, field by field, as people mean it: lists that
/// are sets (keywords, formats, areas, conditions, relations) are compared as sets, so a
/// reordering is no change; data items and materials are matched by name, so a new item in the
/// middle is one addition, not a change of every item after it; emptiness is one value
/// (an empty text and a missing one are the same). `before` is `None` for a new entry: every
/// field it fills in is then a change from nothing.
pub fn meta_changes(before: Option<&DatasetMeta>, after: &DatasetMeta) -> Vec<Change> {
    let mut d = MetaDiff::default();
    let b = before;
    d.scalar("name", b.map(|m| &m.name), &after.name);
    d.scalar("summary", b.map(|m| &m.summary), &after.summary);
    d.scalar("name_en", b.map(|m| &m.name_en), &after.name_en);
    d.scalar("summary_en", b.map(|m| &m.summary_en), &after.summary_en);
    d.scalar("domain", b.map(|m| &m.domain), &after.domain);
    d.set("keywords", b.map(|m| &m.keywords[..]), &after.keywords);
    d.keyed(
        "data_items",
        b.map(|m| &m.data_items[..]),
        &after.data_items,
        |i| i.name.clone(),
    );
    d.set("formats", b.map(|m| &m.formats[..]), &after.formats);
    d.scalar("open_type", b.map(|m| &m.open_type), &after.open_type);
    let no_grading = Default::default();
    let (ga, gb) = (b.map(|m| &m.grading).unwrap_or(&no_grading), &after.grading);
    let dimensions: BTreeSet<&String> = ga.keys().chain(gb.keys()).collect();
    for dim in dimensions {
        d.optional(&format!("grading.{dim}"), ga.get(dim), gb.get(dim));
    }
    d.set(
        "conditions",
        b.map(|m| &m.conditions[..]),
        &after.conditions,
    );
    d.keyed(
        "materials",
        b.map(|m| &m.materials[..]),
        &after.materials,
        |x| x.name.clone(),
    );
    d.scalar(
        "update_frequency",
        b.map(|m| &m.update_frequency),
        &after.update_frequency,
    );
    d.optional(
        "time_range.start",
        b.and_then(|m| m.time_range.start.as_ref()),
        after.time_range.start.as_ref(),
    );
    d.optional(
        "time_range.end",
        b.and_then(|m| m.time_range.end.as_ref()),
        after.time_range.end.as_ref(),
    );
    d.set(
        "spatial.areas",
        b.map(|m| &m.spatial.areas[..]),
        &after.spatial.areas,
    );
    d.scalar(
        "spatial.note",
        b.map(|m| &m.spatial.note),
        &after.spatial.note,
    );
    d.set("relations", b.map(|m| &m.relations[..]), &after.relations);
    d.scalar(
        "contact.name",
        b.map(|m| &m.contact.name),
        &after.contact.name,
    );
    d.scalar(
        "contact.phone",
        b.map(|m| &m.contact.phone),
        &after.contact.phone,
    );
    d.scalar(
        "contact.email",
        b.map(|m| &m.contact.email),
        &after.contact.email,
    );
    d.scalar("license", b.map(|m| &m.license), &after.license);
    d.scalar("source", b.map(|m| &m.source), &after.source);
    d.scalar("source_note", b.map(|m| &m.source_note), &after.source_note);
    d.out
}

#[derive(Default)]
struct MetaDiff {
    out: Vec<Change>,
}

/// A value as a change shows it; nothing for an empty one.
fn shown<T: Serialize + ?Sized>(v: &T) -> Option<Value> {
    match serde_json::to_value(v).unwrap_or(Value::Null) {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Object(o) if o.is_empty() => None,
        v => Some(v),
    }
}

impl MetaDiff {
    fn push(&mut self, path: String, before: Option<Value>, after: Option<Value>) {
        if before != after {
            self.out.push(Change {
                path,
                before,
                after,
            });
        }
    }

    fn scalar<T: Serialize>(&mut self, path: &str, before: Option<&T>, after: &T) {
        self.push(path.to_owned(), before.and_then(shown), shown(after));
    }

    fn optional<T: Serialize>(&mut self, path: &str, before: Option<&T>, after: Option<&T>) {
        self.push(
            path.to_owned(),
            before.and_then(shown),
            after.and_then(shown),
        );
    }

    /// A list whose order means nothing: compared, and shown, as a sorted set.
    fn set<T: Serialize>(&mut self, path: &str, before: Option<&[T]>, after: &[T]) {
        let sorted = |items: &[T]| {
            let mut values: Vec<Value> = items.iter().filter_map(shown).collect();
            values.sort_by_cached_key(|v| v.to_string());
            values.dedup();
            shown(&values)
        };
        self.push(path.to_owned(), before.and_then(sorted), sorted(after));
    }

    /// A list of things with a name: each added, removed or changed thing by its name.
    fn keyed<T: Serialize>(
        &mut self,
        path: &str,
        before: Option<&[T]>,
        after: &[T],
        key: impl Fn(&T) -> String,
    ) {
        let by_key = |items: &[T]| -> BTreeMap<String, Value> {
            items
                .iter()
                .map(|i| (key(i), serde_json::to_value(i).unwrap_or(Value::Null)))
                .collect()
        };
        let (a, b) = (by_key(before.unwrap_or_default()), by_key(after));
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        // In the order the entry lists them now, removed ones last.
        let mut ordered: Vec<&String> = after
            .iter()
            .map(&key)
            .filter_map(|k| keys.get(&k).copied())
            .collect();
        ordered.dedup();
        ordered.extend(keys.iter().filter(|k| !b.contains_key(k.as_str())));
        for k in ordered {
            let here = format!("{path}[{k}]");
            match (a.get(k), b.get(k)) {
                (Some(Value::Object(x)), Some(Value::Object(y))) => {
                    let fields: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                    for f in fields {
                        self.push(
                            format!("{here}.{f}"),
                            x.get(f).and_then(shown),
                            y.get(f).and_then(shown),
                        );
                    }
                }
                (x, y) => self.push(here, x.cloned(), y.cloned()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: serde_json::Value) -> DatasetMeta {
        let mut base = json!({
            "name": "上海市公交线路信息", "domain": "transport", "open_type": "unconditional",
            "update_frequency": "monthly", "formats": ["csv", "json", "api"],
            "keywords": ["公交", "线路"],
            "data_items": [
                { "name": "line", "label": "线路", "field_type": "text", "description": "线路名称" },
                { "name": "stop", "label": "站点", "field_type": "text", "description": "站点名称" },
            ],
        });
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    fn paths(changes: &[Change]) -> Vec<&str> {
        changes.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn reordered_sets_are_no_change_and_only_real_changes_are_reported() {
        let before = meta(json!({}));
        let after = meta(json!({
            "formats": ["api", "csv", "json"], "keywords": ["线路", "公交"],
            "update_frequency": "weekly", "time_range": { "start": "2020-01-01" },
        }));
        let changes = meta_changes(Some(&before), &after);
        assert_eq!(paths(&changes), ["update_frequency", "time_range.start"]);
        assert_eq!(changes[0].before, Some(json!("monthly")));
        assert_eq!(changes[0].after, Some(json!("weekly")));
        assert_eq!(changes[1].before, None);
        assert_eq!(changes[1].after, Some(json!("2020-01-01")));
        // A set that really changes shows both sets, sorted.
        let fewer = meta(json!({ "formats": ["json", "csv"] }));
        let changes = meta_changes(Some(&before), &fewer);
        assert_eq!(paths(&changes), ["formats"]);
        assert_eq!(changes[0].before, Some(json!(["api", "csv", "json"])));
        assert_eq!(changes[0].after, Some(json!(["csv", "json"])));
    }

    #[test]
    fn data_items_are_matched_by_name() {
        let before = meta(json!({}));
        let after = meta(json!({ "data_items": [
            { "name": "stop", "label": "站点", "field_type": "text", "description": "站点的名称" },
            { "name": "district", "label": "所在区", "field_type": "text", "description": "行政区" },
            { "name": "line", "label": "线路", "field_type": "text", "description": "线路名称" },
        ] }));
        let changes = meta_changes(Some(&before), &after);
        assert_eq!(
            paths(&changes),
            ["data_items[stop].description", "data_items[district]"]
        );
        assert_eq!(changes[0].before, Some(json!("站点名称")));
        assert_eq!(changes[1].before, None);
        assert_eq!(changes[1].after.as_ref().unwrap()["label"], "所在区");
        // Removing one is one change, whatever its place.
        let removed = meta(json!({ "data_items": [
            { "name": "stop", "label": "站点", "field_type": "text", "description": "站点名称" },
        ] }));
        let changes = meta_changes(Some(&before), &removed);
        assert_eq!(paths(&changes), ["data_items[line]"]);
        assert_eq!(changes[0].after, None);
    }

    #[test]
    fn a_new_entry_lists_what_it_fills_in_and_nothing_empty() {
        let new = meta(json!({}));
        let changes = meta_changes(None, &new);
        assert_eq!(
            paths(&changes),
            [
                "name",
                "domain",
                "keywords",
                "data_items[line]",
                "data_items[stop]",
                "formats",
                "open_type",
                "update_frequency",
                "source",
            ]
        );
        assert!(
            changes
                .iter()
                .all(|c| c.before.is_none() && c.after.is_some())
        );
        assert!(meta_changes(Some(&new), &new).is_empty());
    }
}
