//! An application for conditional data (A18.2) as the applicant fills it in: the entries, the
//! data items needed from each (least necessary), the scenario, the period of use, the calls a
//! day, the security measures — and the check that turns a saved form into a complete request
//! once every entry's required materials (A18.1) and the security pledge are uploaded. A draft
//! may be incomplete; only a complete request is submitted.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::Scope;
use crate::bounded::{self, Limit};
use crate::ids::DatasetId;

/// The material every application carries besides each entry's list: the signed security
/// pledge (安全承诺书).
pub const SECURITY_PLEDGE: &str = "security_pledge";
/// The most entries one application may cover.
pub const MAX_ENTRIES: usize = 20;
/// The longest period of use an application may ask for, in days (three years).
pub const MAX_PERIOD_DAYS: i64 = 3 * 366;
/// The most calls a day an application may declare.
pub const MAX_CALLS_PER_DAY: u64 = 10_000_000;
/// A scenario written by the applicant, for an entry that lists none of its own.
const SCENARIO: Limit = bounded::NAME;

/// What an application asks of one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    pub dataset: DatasetId,
    /// The names of the data items needed (column level).
    #[serde(default)]
    pub items: BTreeSet<String>,
    /// One of the scenarios the entry allows; free text when it lists none.
    #[serde(default)]
    pub scenario: String,
}

/// The form as saved: anything may still be missing in a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationForm {
    #[serde(default)]
    pub entries: Vec<EntryRequest>,
    /// What the data will be used for, in the applicant's words.
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub period_start: Option<NaiveDate>,
    #[serde(default)]
    pub period_end: Option<NaiveDate>,
    /// The expected calls a day.
    #[serde(default)]
    pub calls_per_day: Option<u64>,
    /// The security measures the applicant will take.
    #[serde(default)]
    pub security_measures: String,
}

/// What the check knows of an entry named in a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryTerms {
    /// On the public open list as conditional data: only such entries are applied for.
    pub conditional: bool,
    /// Its data items' names.
    pub items: BTreeSet<String>,
    /// The scenarios it allows (its conditions of the scenario kind); empty: any, described.
    pub scenarios: Vec<String>,
    /// The materials its list requires (A18.1).
    pub materials: Vec<String>,
    /// Its provider.
    pub org: crate::ids::OrgId,
}

/// A complete request: every entry known and conditional, its items among the entry's, its
/// scenario allowed, the period and volume set, every material there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub entries: Vec<EntryRequest>,
    pub purpose: String,
    pub period: (NaiveDate, NaiveDate),
    pub calls_per_day: u64,
    pub security_measures: String,
}

impl Request {
    /// What the request asks of `dataset`.
    pub fn scope_of(&self, dataset: DatasetId) -> Option<Scope> {
        self.entries
            .iter()
            .find(|e| e.dataset == dataset)
            .map(|e| Scope {
                items: e.items.clone(),
                period: self.period,
                calls_per_day: self.calls_per_day,
            })
    }
}

/// One thing wrong with a form, at its field (`entries[1].items`), with a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub code: &'static str,
    pub detail: Option<String>,
}

impl Problem {
    fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self {
            field: field.into(),
            code,
            detail: None,
        }
    }

    fn with(field: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            detail: Some(detail.into()),
        }
    }
}

fn text(problems: &mut Vec<Problem>, field: &str, value: &str, limit: Limit) {
    if let Err(e) = bounded::check(value, limit) {
        problems.push(Problem {
            field: field.to_owned(),
            code: e.code(),
            detail: e.detail(),
        });
    }
}

impl ApplicationForm {
    /// The problems a saved draft may not have: text beyond its bounds, too many entries, an
    /// entry twice, a period running backwards. Missing parts are fine until submission.
    pub fn shape_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.entries.len() > MAX_ENTRIES {
            problems.push(Problem::with(
                "entries",
                "too_many",
                MAX_ENTRIES.to_string(),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, e) in self.entries.iter().enumerate() {
            if !seen.insert(e.dataset) {
                problems.push(Problem::new(format!("entries[{i}].dataset"), "duplicate"));
            }
            if e.items.len() > bounded::MAX_DATA_ITEMS {
                problems.push(Problem::with(
                    format!("entries[{i}].items"),
                    "too_many",
                    bounded::MAX_DATA_ITEMS.to_string(),
                ));
            }
            for item in &e.items {
                text(
                    &mut problems,
                    &format!("entries[{i}].items"),
                    item,
                    bounded::CODE,
                );
            }
            text(
                &mut problems,
                &format!("entries[{i}].scenario"),
                &e.scenario,
                bounded::TEXT,
            );
        }
        text(&mut problems, "purpose", &self.purpose, bounded::TEXT);
        text(
            &mut problems,
            "security_measures",
            &self.security_measures,
            bounded::TEXT,
        );
        if let (Some(a), Some(b)) = (self.period_start, self.period_end)
            && b < a
        {
            problems.push(Problem::new("period_end", "before_start"));
        }
        if self.calls_per_day.is_some_and(|n| n > MAX_CALLS_PER_DAY) {
            problems.push(Problem::with(
                "calls_per_day",
                "too_large",
                MAX_CALLS_PER_DAY.to_string(),
            ));
        }
        problems.dedup();
        problems
    }

    /// The complete request this form makes on `today`, given what each entry is (`terms`;
    /// `None`: no such entry) and the materials uploaded (`materials`: per entry, or `None`
    /// for the application's own, the names uploaded). All problems at once, or the request.
    pub fn complete(
        &self,
        today: NaiveDate,
        terms: &BTreeMap<DatasetId, EntryTerms>,
        materials: &BTreeSet<(Option<DatasetId>, String)>,
    ) -> Result<Request, Vec<Problem>> {
        let mut problems = self.shape_problems();
        if self.entries.is_empty() {
            problems.push(Problem::new("entries", "required"));
        }
        for (i, e) in self.entries.iter().enumerate() {
            let at = |part: &str| format!("entries[{i}].{part}");
            let Some(t) = terms.get(&e.dataset).filter(|t| t.conditional) else {
                problems.push(Problem::new(at("dataset"), "not_conditional"));
                continue;
            };
            if e.items.is_empty() {
                problems.push(Problem::new(at("items"), "required"));
            }
            if let Some(unknown) = e.items.iter().find(|i| !t.items.contains(*i)) {
                problems.push(Problem::with(at("items"), "unknown_item", unknown.clone()));
            }
            let scenario = e.scenario.trim();
            if scenario.is_empty() {
                problems.push(Problem::new(at("scenario"), "required"));
            } else if t.scenarios.is_empty() {
                text(&mut problems, &at("scenario"), scenario, SCENARIO);
            } else if !t.scenarios.iter().any(|s| s.trim() == scenario) {
                problems.push(Problem::new(at("scenario"), "scenario_not_allowed"));
            }
            for m in &t.materials {
                if !materials.contains(&(Some(e.dataset), m.clone())) {
                    problems.push(Problem::with(
                        at("materials"),
                        "material_missing",
                        m.clone(),
                    ));
                }
            }
        }
        if !materials.contains(&(None, SECURITY_PLEDGE.to_owned())) {
            problems.push(Problem::new(SECURITY_PLEDGE, "required"));
        }
        if self.purpose.trim().is_empty() {
            problems.push(Problem::new("purpose", "required"));
        }
        if self.security_measures.trim().is_empty() {
            problems.push(Problem::new("security_measures", "required"));
        }
        let period = match (self.period_start, self.period_end) {
            (None, _) => {
                problems.push(Problem::new("period_start", "required"));
                None
            }
            (_, None) => {
                problems.push(Problem::new("period_end", "required"));
                None
            }
            (Some(a), Some(b)) => {
                if a < today {
                    problems.push(Problem::new("period_start", "in_the_past"));
                }
                if (b - a).num_days() > MAX_PERIOD_DAYS {
                    problems.push(Problem::with(
                        "period_end",
                        "period_too_long",
                        MAX_PERIOD_DAYS.to_string(),
                    ));
                }
                Some((a, b))
            }
        };
        let calls = match self.calls_per_day {
            None | Some(0) => {
                problems.push(Problem::new("calls_per_day", "required"));
                None
            }
            Some(n) => Some(n),
        };
        problems.dedup();
        match (period, calls) {
            (Some(period), Some(calls_per_day)) if problems.is_empty() => Ok(Request {
                entries: self
                    .entries
                    .iter()
                    .map(|e| EntryRequest {
                        scenario: e.scenario.trim().to_owned(),
                        ..e.clone()
                    })
                    .collect(),
                purpose: self.purpose.trim().to_owned(),
                period,
                calls_per_day,
                security_measures: self.security_measures.trim().to_owned(),
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrgId;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    struct World {
        entry: DatasetId,
        terms: BTreeMap<DatasetId, EntryTerms>,
        materials: BTreeSet<(Option<DatasetId>, String)>,
    }

    fn world() -> World {
        let entry = DatasetId::new();
        let terms = BTreeMap::from([(
            entry,
            EntryTerms {
                conditional: true,
                items: ["name", "district", "capital"].map(String::from).into(),
                scenarios: vec!["交通规划研究".into(), "学术研究".into()],
                materials: vec!["营业执照".into()],
                org: OrgId::new(),
            },
        )]);
        let materials = BTreeSet::from([
            (Some(entry), "营业执照".to_owned()),
            (None, SECURITY_PLEDGE.to_owned()),
        ]);
        World {
            entry,
            terms,
            materials,
        }
    }

    fn form(entry: DatasetId) -> ApplicationForm {
        ApplicationForm {
            entries: vec![EntryRequest {
                dataset: entry,
                items: ["name", "district"].map(String::from).into(),
                scenario: " 学术研究 ".into(),
            }],
            purpose: "研究各区企业分布".into(),
            period_start: Some(d(2027, 1, 1)),
            period_end: Some(d(2027, 12, 31)),
            calls_per_day: Some(500),
            security_measures: "专人管理，访问留痕".into(),
        }
    }

    fn codes(r: Result<Request, Vec<Problem>>) -> Vec<(String, &'static str)> {
        r.unwrap_err()
            .into_iter()
            .map(|p| (p.field, p.code))
            .collect()
    }

    #[test]
    fn a_complete_form_becomes_a_request_with_its_scope_per_entry() {
        let w = world();
        let r = form(w.entry)
            .complete(d(2026, 12, 5), &w.terms, &w.materials)
            .unwrap();
        assert_eq!(r.entries[0].scenario, "学术研究");
        let scope = r.scope_of(w.entry).unwrap();
        assert_eq!(scope.items.len(), 2);
        assert_eq!(scope.period, (d(2027, 1, 1), d(2027, 12, 31)));
        assert_eq!(scope.calls_per_day, 500);
        assert_eq!(r.scope_of(DatasetId::new()), None);
    }

    #[test]
    fn an_empty_form_names_everything_missing_at_once() {
        let w = world();
        let got =
            codes(ApplicationForm::default().complete(d(2026, 12, 5), &w.terms, &BTreeSet::new()));
        for want in [
            ("entries", "required"),
            ("security_pledge", "required"),
            ("purpose", "required"),
            ("security_measures", "required"),
            ("period_start", "required"),
            ("calls_per_day", "required"),
        ] {
            assert!(
                got.contains(&(want.0.to_owned(), want.1)),
                "{want:?} in {got:?}"
            );
        }
    }

    #[test]
    fn items_scenarios_materials_and_entries_are_checked_against_the_entry() {
        let w = world();
        let mut f = form(w.entry);
        f.entries[0].items.insert("id_number".into());
        f.entries[0].scenario = "商业营销".into();
        let got = codes(f.complete(d(2026, 12, 5), &w.terms, &BTreeSet::new()));
        assert!(got.contains(&("entries[0].items".into(), "unknown_item")));
        assert!(got.contains(&("entries[0].scenario".into(), "scenario_not_allowed")));
        assert!(got.contains(&("entries[0].materials".into(), "material_missing")));
        assert!(got.contains(&("security_pledge".into(), "required")));

        let mut f = form(w.entry);
        f.entries.push(EntryRequest {
            dataset: DatasetId::new(),
            items: ["x".to_owned()].into(),
            scenario: "研究".into(),
        });
        let got = codes(f.complete(d(2026, 12, 5), &w.terms, &w.materials));
        assert_eq!(got, [("entries[1].dataset".to_owned(), "not_conditional")]);

        let mut terms = w.terms.clone();
        terms.get_mut(&w.entry).unwrap().conditional = false;
        let got = codes(form(w.entry).complete(d(2026, 12, 5), &terms, &w.materials));
        assert_eq!(got, [("entries[0].dataset".to_owned(), "not_conditional")]);
    }

    #[test]
    fn the_period_starts_today_or_later_runs_forward_and_is_bounded() {
        let w = world();
        let today = d(2026, 12, 5);
        let mut f = form(w.entry);
        f.period_start = Some(d(2026, 12, 4));
        assert_eq!(
            codes(f.complete(today, &w.terms, &w.materials)),
            [("period_start".to_owned(), "in_the_past")]
        );
        f.period_start = Some(today);
        assert!(f.complete(today, &w.terms, &w.materials).is_ok());
        f.period_end = Some(d(2026, 12, 1));
        assert!(
            codes(f.complete(today, &w.terms, &w.materials))
                .contains(&("period_end".to_owned(), "before_start"))
        );
        f.period_end = Some(d(2030, 12, 5));
        assert_eq!(
            codes(f.complete(today, &w.terms, &w.materials)),
            [("period_end".to_owned(), "period_too_long")]
        );
    }

    #[test]
    fn a_draft_may_be_incomplete_but_not_unbounded() {
        let e = DatasetId::new();
        assert!(ApplicationForm::default().shape_problems().is_empty());
        let mut f = ApplicationForm {
            purpose: "x".repeat(bounded::TEXT.max_chars + 1),
            calls_per_day: Some(MAX_CALLS_PER_DAY + 1),
            ..Default::default()
        };
        f.entries = vec![
            EntryRequest {
                dataset: e,
                items: BTreeSet::new(),
                scenario: String::new(),
            };
            2
        ];
        let got: Vec<_> = f
            .shape_problems()
            .into_iter()
            .map(|p| (p.field, p.code))
            .collect();
        assert!(got.contains(&("entries[1].dataset".into(), "duplicate")));
        assert!(got.contains(&("purpose".into(), "too_long")));
        assert!(got.contains(&("calls_per_day".into(), "too_large")));
        let many = ApplicationForm {
            entries: (0..=MAX_ENTRIES)
                .map(|_| EntryRequest {
                    dataset: DatasetId::new(),
                    items: BTreeSet::new(),
                    scenario: String::new(),
                })
                .collect(),
            ..Default::default()
        };
        assert_eq!(many.shape_problems()[0].code, "too_many");
    }
}
