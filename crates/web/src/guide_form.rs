//! The classification guide as a form over its structure (dimensions, their levels and the
//! open type each permits, the conditions each suggests, the examples), and what an edit
//! changes, for the operator to read before saving.
//!
//! Field names are paths (`dimensions[0].levels[2].open_type`, `examples[1].levels.security_level`);
//! a row left empty is ignored, so a row is removed by emptying it, and the form always offers
//! one empty row of each kind to add another.

use std::collections::BTreeMap;

use domain::openlist::classification::{Dimension, Example, Guide, Level, SuggestedCondition};
use domain::openlist::vocab::{ConditionKind, OpenType};
use serde_json::Value;

use crate::dataset_form::FormValues;
use crate::error::FieldError;

/// Bounds on what a form may ask the server to build.
pub const MAX_DIMENSIONS: usize = 20;
pub const MAX_LEVELS: usize = 12;
pub const MAX_EXAMPLES: usize = 50;

/// How many rows of `part` to read: those sent, up to `max`; more is a problem at `part`.
fn rows(v: &FormValues, part: &str, max: usize, errors: &mut Vec<FieldError>) -> usize {
    let n = v.rows(part);
    if n > max {
        errors.push(FieldError {
            field: part.to_owned(),
            code: "too_many",
            detail: Some(max.to_string()),
        });
    }
    n.min(max)
}

fn text(v: &FormValues, key: &str) -> String {
    v.get(key).trim().to_owned()
}

/// One condition per line, as `类别：文字` (or `kind: text`); the kind is read from its label in
/// either language or its code.
fn conditions(
    typed: &str,
    kinds: &[(ConditionKind, String, String)],
) -> Result<Vec<SuggestedCondition>, ()> {
    typed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (kind, text) = line.split_once(['：', ':']).ok_or(())?;
            let kind = kind.trim();
            let (k, _, _) = kinds
                .iter()
                .find(|(k, zh, en)| {
                    kind == zh || kind.eq_ignore_ascii_case(en) || kind == k.as_str()
                })
                .ok_or(())?;
            let text = text.trim();
            if text.is_empty() {
                return Err(());
            }
            Ok(SuggestedCondition {
                kind: *k,
                text_zh: text.to_owned(),
            })
        })
        .collect()
}

/// The guide the form describes, or every problem with it, each at its field. Whether the
/// guide as a whole holds together (codes unique, examples agreeing with the rule) is checked
/// afterwards, as for a guide typed as text.
pub fn guide_from_form(
    v: &FormValues,
    kinds: &[(ConditionKind, String, String)],
) -> Result<Guide, Vec<FieldError>> {
    let mut errors = Vec::new();
    let required = |key: String, value: &str, errors: &mut Vec<FieldError>| {
        if value.is_empty() {
            errors.push(FieldError::new(key, "required"));
        }
    };
    let title_zh = text(v, "title_zh");
    required("title_zh".into(), &title_zh, &mut errors);
    let mut dimensions = Vec::new();
    for i in 0..rows(v, "dimensions", MAX_DIMENSIONS, &mut errors) {
        let p = format!("dimensions[{i}]");
        let levels_part = format!("{p}.levels");
        let mut levels = Vec::new();
        for j in 0..rows(v, &levels_part, MAX_LEVELS, &mut errors) {
            let q = format!("{levels_part}[{j}]");
            let field = |f: &str| text(v, &format!("{q}.{f}"));
            let (code, name_zh, name_en) = (field("code"), field("name_zh"), field("name_en"));
            let (open_type, measures, typed) = (
                field("open_type"),
                field("measures_zh"),
                field("conditions"),
            );
            if [&code, &name_zh, &name_en, &measures, &typed]
                .iter()
                .all(|s| s.is_empty())
            {
                continue;
            }
            required(format!("{q}.code"), &code, &mut errors);
            required(format!("{q}.name_zh"), &name_zh, &mut errors);
            let open_type = open_type.parse::<OpenType>().map_err(|_| {
                errors.push(FieldError::new(format!("{q}.open_type"), "required"));
            });
            let suggested = conditions(&typed, kinds).map_err(|()| {
                errors.push(FieldError::new(
                    format!("{q}.conditions"),
                    "invalid_condition",
                ));
            });
            if let (Ok(open_type), Ok(conditions)) = (open_type, suggested) {
                levels.push(Level {
                    code,
                    name_zh,
                    name_en,
                    open_type,
                    conditions,
                    measures_zh: measures,
                });
            }
        }
        let field = |f: &str| text(v, &format!("{p}.{f}"));
        let (code, name_zh, name_en, description) = (
            field("code"),
            field("name_zh"),
            field("name_en"),
            field("description_zh"),
        );
        if levels.is_empty()
            && [&code, &name_zh, &name_en, &description]
                .iter()
                .all(|s| s.is_empty())
        {
            continue;
        }
        required(format!("{p}.code"), &code, &mut errors);
        required(format!("{p}.name_zh"), &name_zh, &mut errors);
        if levels.is_empty() {
            errors.push(FieldError::new(levels_part, "required"));
        }
        dimensions.push(Dimension {
            code,
            name_zh,
            name_en,
            description_zh: description,
            levels,
        });
    }
    if dimensions.is_empty() {
        errors.push(FieldError::new("dimensions", "required"));
    }
    let mut examples = Vec::new();
    for k in 0..rows(v, "examples", MAX_EXAMPLES, &mut errors) {
        let p = format!("examples[{k}]");
        let title = text(v, &format!("{p}.title_zh"));
        let explanation = text(v, &format!("{p}.explanation_zh"));
        let levels: BTreeMap<String, String> = dimensions
            .iter()
            .filter_map(|d| {
                let chosen = text(v, &format!("{p}.levels.{}", d.code));
                (!chosen.is_empty()).then(|| (d.code.clone(), chosen))
            })
            .collect();
        if title.is_empty() && explanation.is_empty() && levels.is_empty() {
            continue;
        }
        required(format!("{p}.title_zh"), &title, &mut errors);
        match text(v, &format!("{p}.open_type")).parse::<OpenType>() {
            Ok(open_type) => examples.push(Example {
                title_zh: title,
                levels,
                open_type,
                explanation_zh: explanation,
            }),
            Err(_) => errors.push(FieldError::new(format!("{p}.open_type"), "required")),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Guide {
        title_zh,
        title_en: text(v, "title_en"),
        method_zh: text(v, "method_zh"),
        dimensions,
        examples,
    })
}

/// The form's values for `g`.
pub fn form_of(g: &Guide, kinds: &[(ConditionKind, String, String)]) -> FormValues {
    let mut pairs = vec![
        ("title_zh".to_owned(), g.title_zh.clone()),
        ("title_en".to_owned(), g.title_en.clone()),
        ("method_zh".to_owned(), g.method_zh.clone()),
    ];
    for (i, d) in g.dimensions.iter().enumerate() {
        let p = format!("dimensions[{i}]");
        pairs.push((format!("{p}.code"), d.code.clone()));
        pairs.push((format!("{p}.name_zh"), d.name_zh.clone()));
        pairs.push((format!("{p}.name_en"), d.name_en.clone()));
        pairs.push((format!("{p}.description_zh"), d.description_zh.clone()));
        for (j, l) in d.levels.iter().enumerate() {
            let q = format!("{p}.levels[{j}]");
            let label = |k: ConditionKind| {
                kinds
                    .iter()
                    .find(|(c, _, _)| *c == k)
                    .map(|(_, zh, _)| zh.clone())
                    .unwrap_or_else(|| k.as_str().to_owned())
            };
            let typed: Vec<String> = l
                .conditions
                .iter()
                .map(|c| format!("{}：{}", label(c.kind), c.text_zh))
                .collect();
            pairs.push((format!("{q}.code"), l.code.clone()));
            pairs.push((format!("{q}.name_zh"), l.name_zh.clone()));
            pairs.push((format!("{q}.name_en"), l.name_en.clone()));
            pairs.push((format!("{q}.open_type"), l.open_type.as_str().to_owned()));
            pairs.push((format!("{q}.measures_zh"), l.measures_zh.clone()));
            pairs.push((format!("{q}.conditions"), typed.join("\n")));
        }
    }
    for (k, e) in g.examples.iter().enumerate() {
        let p = format!("examples[{k}]");
        pairs.push((format!("{p}.title_zh"), e.title_zh.clone()));
        pairs.push((format!("{p}.open_type"), e.open_type.as_str().to_owned()));
        pairs.push((format!("{p}.explanation_zh"), e.explanation_zh.clone()));
        for (dim, level) in &e.levels {
            pairs.push((format!("{p}.levels.{dim}"), level.clone()));
        }
    }
    FormValues::from_pairs(pairs)
}

/// One difference between two guides: where, before, after (values as stored; the page
/// gives them labels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideChange {
    /// Readable steps to the field: (kind of thing, its code or title), then the field.
    pub at: Vec<(&'static str, String)>,
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) if k == "text_zh" => s.clone(),
                other => format!("{k}={}", shown(other)),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What `after` changes in `before`: dimensions and levels matched by code, examples by title,
/// so a reordering is no change and a renamed level is one change.
pub fn changes(before: &Guide, after: &Guide) -> Vec<GuideChange> {
    let mut out = Vec::new();
    let fields = ["title_zh", "title_en", "method_zh"];
    compare(&mut out, &[], &fields, Some(before), Some(after));
    keyed(
        &before.dimensions,
        &after.dimensions,
        |d| d.code.clone(),
        |b, a| {
            let at = vec![(
                "dimension",
                a.or(b).map(|d| d.code.clone()).unwrap_or_default(),
            )];
            let (Some(b), Some(a)) = (b, a) else {
                // A dimension added or removed is said once, by its name.
                compare(&mut out, &at, &["name_zh"], b, a);
                return;
            };
            compare(
                &mut out,
                &at,
                &["name_zh", "name_en", "description_zh"],
                Some(b),
                Some(a),
            );
            keyed(
                &b.levels,
                &a.levels,
                |l| l.code.clone(),
                |lb, la| {
                    let mut at = at.clone();
                    at.push((
                        "level",
                        la.or(lb).map(|l| l.code.clone()).unwrap_or_default(),
                    ));
                    let fields = [
                        "name_zh",
                        "name_en",
                        "open_type",
                        "measures_zh",
                        "conditions",
                    ];
                    compare(&mut out, &at, &fields, lb, la);
                },
            );
        },
    );
    keyed(
        &before.examples,
        &after.examples,
        |e| e.title_zh.clone(),
        |b, a| {
            let at = vec![(
                "example",
                a.or(b).map(|e| e.title_zh.clone()).unwrap_or_default(),
            )];
            compare(
                &mut out,
                &at,
                &["open_type", "levels", "explanation_zh"],
                b,
                a,
            );
        },
    );
    out
}

/// Records each field of `names` whose value differs between `before` and `after` (either may
/// be absent: an addition or a removal); an empty value and none are the same.
fn compare<T: serde::Serialize>(
    out: &mut Vec<GuideChange>,
    at: &[(&'static str, String)],
    names: &[&str],
    before: Option<&T>,
    after: Option<&T>,
) {
    let json = |x: Option<&T>| x.and_then(|x| serde_json::to_value(x).ok());
    let (before, after) = (json(before), json(after));
    for name in names {
        let side = |v: &Option<Value>| {
            v.as_ref()
                .and_then(|v| v.get(*name))
                .map(shown)
                .filter(|s| !s.is_empty())
        };
        let (b, a) = (side(&before), side(&after));
        if b != a {
            out.push(GuideChange {
                at: at.to_vec(),
                field: (*name).to_owned(),
                before: b,
                after: a,
            });
        }
    }
}

/// Calls `each` with every pair of items of `before` and `after` that share a key (in `after`'s
/// order, then those only in `before`).
fn keyed<T>(
    before: &[T],
    after: &[T],
    key: impl Fn(&T) -> String,
    mut each: impl FnMut(Option<&T>, Option<&T>),
) {
    for a in after {
        each(before.iter().find(|b| key(b) == key(a)), Some(a));
    }
    for b in before {
        if !after.iter().any(|a| key(a) == key(b)) {
            each(Some(b), None);
        }
    }
}
