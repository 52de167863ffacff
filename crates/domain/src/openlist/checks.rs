//! What an entry must satisfy. Saving a draft needs only sound references (known domain,
//! formats, areas, related datasets); publishing needs everything A9 asks, and every problem is
//! reported at once, each with a stable code and the field it concerns.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::classification::Guide;
use super::dataset::DatasetMeta;
use super::text::{Segmenter, unexplained_abbreviations};
use super::vocab::{EntrySource, OpenType, area};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// Stable code, e.g. `unknown_domain`, `item_missing_description`.
    pub code: &'static str,
    /// Where: `name`, `data_items[2].label`, `formats[0]`...
    pub field: String,
    /// What exactly: the abbreviation, the similar entry, the permitted open type...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn problem(code: &'static str, field: impl Into<String>, detail: Option<String>) -> Problem {
    Problem {
        code,
        field: field.into(),
        detail,
    }
}

/// How a format may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatRule {
    /// Needs proprietary software to open (A9.3): refused unless an exception is granted.
    pub proprietary: bool,
}

/// The managed vocabularies an entry's codes must come from.
#[derive(Debug, Default)]
pub struct Vocabularies {
    pub domains: BTreeSet<String>,
    pub formats: BTreeMap<String, FormatRule>,
    /// Abbreviations explained once for the whole platform (A9.1 (二)).
    pub glossary: BTreeSet<String>,
}

/// Problems that make an entry unfit to be stored at all.
pub fn reference_problems(
    meta: &DatasetMeta,
    vocab: &Vocabularies,
    known_datasets: &dyn Fn(&str) -> bool,
) -> Vec<Problem> {
    let mut out = bounds_problems(meta);
    if !vocab.domains.contains(&meta.domain) {
        out.push(problem(
            "unknown_domain",
            "domain",
            Some(meta.domain.clone()),
        ));
    }
    for (i, f) in meta.formats.iter().enumerate() {
        if !vocab.formats.contains_key(f) {
            out.push(problem(
                "unknown_format",
                format!("formats[{i}]"),
                Some(f.clone()),
            ));
        }
    }
    for (i, a) in meta.spatial.areas.iter().enumerate() {
        if area(a).is_none() {
            out.push(problem(
                "unknown_area",
                format!("spatial.areas[{i}]"),
                Some(a.clone()),
            ));
        }
    }
    let mut names = BTreeSet::new();
    for (i, item) in meta.data_items.iter().enumerate() {
        if !valid_field_name(&item.name) {
            out.push(problem(
                "invalid_field_name",
                format!("data_items[{i}].name"),
                Some(item.name.clone()),
            ));
        } else if !names.insert(item.name.as_str()) {
            out.push(problem(
                "duplicate_field_name",
                format!("data_items[{i}].name"),
                Some(item.name.clone()),
            ));
        }
        for (code, part) in super::rules::problems(&item.rules, item.field_type) {
            out.push(problem(code, format!("data_items[{i}].rules.{part}"), None));
        }
    }
    for (i, r) in meta.relations.iter().enumerate() {
        if !known_datasets(&r.dataset) {
            out.push(problem(
                "unknown_dataset",
                format!("relations[{i}].dataset"),
                Some(r.dataset.clone()),
            ));
        }
    }
    if let (Some(start), Some(end)) = (meta.time_range.start, meta.time_range.end)
        && start > end
    {
        out.push(problem("time_range_reversed", "time_range", None));
    }
    out
}

/// Every text within its bound and every list within its size, before anything is looked up:
/// what a request may make the platform store is bounded.
fn bounds_problems(meta: &DatasetMeta) -> Vec<Problem> {
    use crate::bounded::{CODE, LABEL, MAX_DATA_ITEMS, MAX_LIST, NAME, TEXT, TextChecks};
    let mut c = TextChecks::default();
    c.text(|| "name".into(), &meta.name, NAME);
    c.text(|| "summary".into(), &meta.summary, TEXT);
    c.text(|| "name_en".into(), &meta.name_en, NAME);
    c.text(|| "summary_en".into(), &meta.summary_en, TEXT);
    c.text(|| "domain".into(), &meta.domain, CODE);
    c.count("keywords", meta.keywords.len(), MAX_LIST);
    for (i, k) in meta.keywords.iter().enumerate() {
        c.text(|| format!("keywords[{i}]"), k, LABEL);
    }
    c.count("data_items", meta.data_items.len(), MAX_DATA_ITEMS);
    for (i, item) in meta.data_items.iter().enumerate() {
        c.text(|| format!("data_items[{i}].label"), &item.label, LABEL);
        c.text(|| format!("data_items[{i}].unit"), &item.unit, LABEL);
        c.text(
            || format!("data_items[{i}].description"),
            &item.description,
            TEXT,
        );
        if let Some(code) = &item.catalogue_item {
            c.text(|| format!("data_items[{i}].catalogue_item"), code, CODE);
        }
    }
    c.count("formats", meta.formats.len(), MAX_LIST);
    for (i, f) in meta.formats.iter().enumerate() {
        c.text(|| format!("formats[{i}]"), f, CODE);
    }
    c.count("grading", meta.grading.len(), MAX_LIST);
    for (d, l) in &meta.grading {
        c.text(|| "grading".into(), d, CODE);
        c.text(|| format!("grading.{d}"), l, CODE);
    }
    c.count("conditions", meta.conditions.len(), MAX_LIST);
    for (i, cond) in meta.conditions.iter().enumerate() {
        c.text(|| format!("conditions[{i}].text"), &cond.text, TEXT);
    }
    c.count("materials", meta.materials.len(), MAX_LIST);
    for (i, m) in meta.materials.iter().enumerate() {
        c.text(|| format!("materials[{i}].name"), &m.name, NAME);
        c.text(
            || format!("materials[{i}].description"),
            &m.description,
            TEXT,
        );
    }
    c.date("time_range.start", meta.time_range.start);
    c.date("time_range.end", meta.time_range.end);
    c.count("spatial.areas", meta.spatial.areas.len(), MAX_LIST);
    for (i, a) in meta.spatial.areas.iter().enumerate() {
        c.text(|| format!("spatial.areas[{i}]"), a, CODE);
    }
    c.text(|| "spatial.note".into(), &meta.spatial.note, NAME);
    c.count("relations", meta.relations.len(), MAX_LIST);
    for (i, r) in meta.relations.iter().enumerate() {
        c.text(|| format!("relations[{i}].dataset"), &r.dataset, CODE);
        c.text(|| format!("relations[{i}].note"), &r.note, TEXT);
    }
    c.text(|| "contact.name".into(), &meta.contact.name, LABEL);
    c.text(|| "contact.phone".into(), &meta.contact.phone, LABEL);
    c.text(|| "contact.email".into(), &meta.contact.email, LABEL);
    c.text(|| "license".into(), &meta.license, NAME);
    c.text(|| "source_note".into(), &meta.source_note, TEXT);
    let mut out: Vec<Problem> = c
        .problems
        .into_iter()
        .map(|(field, code, detail)| problem(code, field, detail))
        .collect();
    let phone = meta.contact.phone.trim();
    if !phone.is_empty() && !crate::bounded::valid_phone(phone) {
        out.push(problem("invalid_phone", "contact.phone", None));
    }
    let email = meta.contact.email.trim();
    if !email.is_empty() && email.parse::<crate::account::Email>().is_err() {
        out.push(problem("invalid_email", "contact.email", None));
    }
    out
}

/// A field's machine name: a letter, then letters, digits and underscores, at most 64.
fn valid_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What publishing checks against besides the entry itself.
pub struct PublishContext<'a> {
    pub vocab: &'a Vocabularies,
    pub guide: &'a Guide,
    pub segmenter: &'a Segmenter,
    /// Other entries of the open list (id, name), for the similarity check.
    pub others: &'a [(String, String)],
    pub similarity_threshold: f64,
    pub known_datasets: &'a dyn Fn(&str) -> bool,
    /// Catalogue items that exist, for the linkage check (A9.5).
    pub catalogue_items: &'a dyn Fn(&str) -> bool,
    /// Proprietary formats the operator has allowed for this entry.
    pub format_exceptions: &'a BTreeSet<String>,
}

/// Every reason the entry cannot be published yet. Empty means it may be.
pub fn publish_problems(meta: &DatasetMeta, cx: &PublishContext<'_>) -> Vec<Problem> {
    let mut out = reference_problems(meta, cx.vocab, cx.known_datasets);

    // The name (A9.1 (一), A9.2).
    if meta.name.trim().is_empty() {
        out.push(problem("required", "name", None));
    } else {
        let el = cx
            .segmenter
            .name_elements(&meta.name, &meta.declared_places());
        if !el.subject {
            out.push(problem("name_missing_subject", "name", None));
        }
        if !el.place {
            out.push(problem("name_missing_place", "name", None));
        }
        // A closed time range is part of what the data is: the name says which period.
        if meta.time_range.end.is_some() && !el.time {
            out.push(problem("name_missing_time", "name", None));
        }
        if let Some((score, id, name)) =
            cx.segmenter
                .similar_name(&meta.name, cx.others, cx.similarity_threshold)
        {
            out.push(problem(
                "name_too_similar",
                "name",
                Some(format!("{id} {name} ({score:.2})")),
            ));
        }
    }
    if meta.summary.trim().is_empty() {
        out.push(problem("required", "summary", None));
    }
    if meta.contact.name.trim().is_empty()
        || (meta.contact.phone.trim().is_empty() && meta.contact.email.trim().is_empty())
    {
        out.push(problem("required", "contact", None));
    }

    // Fields (A9.1 (二), A9.5).
    if meta.data_items.is_empty() {
        out.push(problem("required", "data_items", None));
    }
    for (i, item) in meta.data_items.iter().enumerate() {
        if item.label.trim().is_empty() {
            out.push(problem("required", format!("data_items[{i}].label"), None));
        }
        if item.description.trim().is_empty() {
            out.push(problem(
                "item_missing_description",
                format!("data_items[{i}].description"),
                None,
            ));
        }
        for (part, text) in [("label", &item.label), ("description", &item.description)] {
            for abbr in unexplained_abbreviations(text) {
                if !cx.vocab.glossary.contains(&abbr) {
                    out.push(problem(
                        "unexplained_abbreviation",
                        format!("data_items[{i}].{part}"),
                        Some(abbr),
                    ));
                }
            }
        }
        match &item.catalogue_item {
            None => out.push(problem(
                "item_unlinked",
                format!("data_items[{i}].catalogue_item"),
                None,
            )),
            Some(c) if !(cx.catalogue_items)(c) => out.push(problem(
                "unknown_catalogue_item",
                format!("data_items[{i}].catalogue_item"),
                Some(c.clone()),
            )),
            Some(_) => {}
        }
    }

    // Formats (A9.3).
    if meta.formats.is_empty() {
        out.push(problem("required", "formats", None));
    }
    for (i, f) in meta.formats.iter().enumerate() {
        if let Some(rule) = cx.vocab.formats.get(f)
            && rule.proprietary
            && !cx.format_exceptions.contains(f)
        {
            out.push(problem(
                "proprietary_format",
                format!("formats[{i}]"),
                Some(f.clone()),
            ));
        }
    }

    // Classification (A13.2, A14) and conditions (A15, A18.1).
    let grading_errors = cx.guide.check_grading(&meta.grading);
    for e in &grading_errors {
        out.push(problem("invalid_grading", "grading", Some(e.to_string())));
    }
    if grading_errors.is_empty()
        && let Ok(permitted) = cx.guide.permitted_open_type(&meta.grading)
        && permitted != meta.open_type
    {
        out.push(problem(
            "open_type_not_permitted",
            "open_type",
            Some(permitted.as_str().to_owned()),
        ));
    }
    // Unopened data is opened only after de-identification, described for the reviewer (A12.1).
    if meta.source == EntrySource::Deidentified && meta.source_note.trim().is_empty() {
        out.push(problem("required", "source_note", None));
    }
    if meta.open_type == OpenType::Conditional {
        if meta.conditions.is_empty() {
            out.push(problem("required", "conditions", None));
        }
        if meta.materials.is_empty() {
            out.push(problem("required", "materials", None));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openlist::dataset::*;
    use crate::openlist::vocab::*;

    fn vocab() -> Vocabularies {
        Vocabularies {
            domains: ["transport".to_owned()].into(),
            formats: [
                ("csv".to_owned(), FormatRule { proprietary: false }),
                ("dbf".to_owned(), FormatRule { proprietary: true }),
            ]
            .into(),
            glossary: ["GPS".to_owned()].into(),
        }
    }

    fn good() -> DatasetMeta {
        DatasetMeta {
            name: "上海市公交线路站点".into(),
            summary: "全市公交线路及其站点。".into(),
            name_en: String::new(),
            summary_en: String::new(),
            domain: "transport".into(),
            keywords: vec!["公交".into()],
            data_items: vec![DataItem {
                name: "station_id".into(),
                label: "站点编号".into(),
                field_type: FieldType::Code,
                unit: String::new(),
                description: "站点的唯一编号，GPS 定位点对应的站点。".into(),
                catalogue_item: Some("cat-1".into()),
                rules: Default::default(),
            }],
            formats: vec!["csv".into()],
            open_type: OpenType::Unconditional,
            grading: [
                ("security_level", "general"),
                ("personal_information", "none"),
                ("trade_secret", "none"),
                ("legal_restriction", "none"),
                ("processing_demand", "ordinary"),
                ("access_pattern", "one_off"),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
            conditions: vec![],
            materials: vec![],
            update_frequency: UpdateFrequency::Monthly,
            time_range: TimeRange::default(),
            spatial: SpatialRange {
                areas: vec!["shanghai".into()],
                note: String::new(),
            },
            relations: vec![],
            contact: Contact {
                name: "数据管理处".into(),
                phone: "021-00000000".into(),
                email: String::new(),
            },
            license: "CC BY 4.0".into(),
            source: EntrySource::InformationSystem,
            source_note: String::new(),
        }
    }

    fn check(meta: &DatasetMeta, others: &[(String, String)]) -> Vec<&'static str> {
        let guide = Guide::default_guide();
        let seg = Segmenter::new();
        let v = vocab();
        let cx = PublishContext {
            vocab: &v,
            guide: &guide,
            segmenter: &seg,
            others,
            similarity_threshold: 0.8,
            known_datasets: &|_| false,
            catalogue_items: &|c| c == "cat-1",
            format_exceptions: &BTreeSet::new(),
        };
        publish_problems(meta, &cx).iter().map(|p| p.code).collect()
    }

    #[test]
    fn a_complete_entry_passes() {
        assert_eq!(check(&good(), &[]), Vec::<&str>::new());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut m = good();
        m.name = "公交站点".into();
        m.domain = "weather".into();
        m.formats = vec!["dbf".into(), "docx".into()];
        m.data_items[0].description = String::new();
        m.data_items[0].label = "POI编号".into();
        m.data_items[0].catalogue_item = None;
        m.open_type = OpenType::Conditional;
        let codes = check(&m, &[]);
        for expected in [
            "unknown_domain",
            "unknown_format",
            "name_missing_place",
            "item_missing_description",
            "unexplained_abbreviation",
            "item_unlinked",
            "proprietary_format",
            "open_type_not_permitted",
            "required",
        ] {
            assert!(
                codes.contains(&expected),
                "{expected} missing from {codes:?}"
            );
        }
    }

    #[test]
    fn de_identified_data_must_say_how_it_was_prepared() {
        let mut m = good();
        m.source = EntrySource::Deidentified;
        assert_eq!(check(&m, &[]), ["required"]);
        m.source_note = "去除姓名和证件号，坐标截断到百米，经分级分类复核为一般数据。".into();
        assert_eq!(check(&m, &[]), Vec::<&str>::new());
        m.source = EntrySource::Disclosure;
        m.source_note.clear();
        assert_eq!(check(&m, &[]), Vec::<&str>::new());
    }

    #[test]
    fn near_duplicate_names_are_refused() {
        let others = [("d1".to_owned(), "上海市公交线路站点信息".to_owned())];
        assert!(check(&good(), &others).contains(&"name_too_similar"));
        let others = [("d2".to_owned(), "浦东新区养老机构名录".to_owned())];
        assert!(!check(&good(), &others).contains(&"name_too_similar"));
    }

    #[test]
    fn a_closed_period_must_show_in_the_name() {
        let mut m = good();
        m.time_range.end = chrono::NaiveDate::from_ymd_opt(2023, 12, 31);
        assert!(check(&m, &[]).contains(&"name_missing_time"));
        m.name = "2023年上海市公交线路站点".into();
        assert!(!check(&m, &[]).contains(&"name_missing_time"));
    }
}
