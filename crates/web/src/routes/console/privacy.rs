//! The privacy page of an entry in the console (A10.3, A12.1, A14.1, A22.1): what the scan
//! found in the newest upload, next to each data item; the provider's rule per item with a
//! preview of the first rows as they would be opened; the quasi-identifiers and the
//! re-identification risk; the operator's exceptions; and, for conditional data, the sample.
//! The page calls the same use cases as `/api/v1`.

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use data::privacy::Handling;
use data::privacy::risk::RiskReport;
use data::privacy::sample::SampleSize;
use domain::openlist::vocab::OpenType;
use domain::policy::{Action, Resource};
use domain::privacy::{AddressLevel, DateUnit, DeidRule, PiKind, PrivacyPlan};
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;

use crate::ctx::{Ctx, FormPost};
use crate::dataset_form::FormValues;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::page::{PageCtx, html};
use crate::state::AppState;

/// The rules a provider picks from, as the form names them.
const CHOICES: &[&str] = &[
    "suppress",
    "mask",
    "pseudonym",
    "date_to_month",
    "date_to_year",
    "band",
    "grid",
    "address_to_street",
    "address_to_district",
    "clamp",
    "round",
    "noise",
];

/// The form's name of `rule`, and its two settings as typed.
fn choice_of(rule: &DeidRule) -> (&'static str, String, String) {
    let n = |x: f64| format!("{x}");
    match rule {
        DeidRule::Suppress => ("suppress", String::new(), String::new()),
        DeidRule::Mask {
            keep_start,
            keep_end,
        } => ("mask", keep_start.to_string(), keep_end.to_string()),
        DeidRule::Pseudonym => ("pseudonym", String::new(), String::new()),
        DeidRule::DateTo {
            unit: DateUnit::Month,
        } => ("date_to_month", String::new(), String::new()),
        DeidRule::DateTo {
            unit: DateUnit::Year,
        } => ("date_to_year", String::new(), String::new()),
        DeidRule::Band { width } => ("band", width.to_string(), String::new()),
        DeidRule::Grid { metres } => ("grid", metres.to_string(), String::new()),
        DeidRule::AddressTo {
            level: AddressLevel::Street,
        } => ("address_to_street", String::new(), String::new()),
        DeidRule::AddressTo {
            level: AddressLevel::District,
        } => ("address_to_district", String::new(), String::new()),
        DeidRule::Clamp { bottom, top } => (
            "clamp",
            bottom.map(n).unwrap_or_default(),
            top.map(n).unwrap_or_default(),
        ),
        DeidRule::Round { step } => ("round", n(*step), String::new()),
        DeidRule::Noise { amplitude } => ("noise", n(*amplitude), String::new()),
    }
}

/// The rule the form's choice and settings make; `Err` names the setting that is not a number.
fn rule_of(choice: &str, a: &str, b: &str) -> Result<Option<DeidRule>, &'static str> {
    let num = |s: &str| s.trim().parse::<f64>().map_err(|_| "not_a_number");
    let int = |s: &str| s.trim().parse::<u32>().map_err(|_| "not_a_number");
    let opt = |s: &str| {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            num(s).map(Some)
        }
    };
    Ok(Some(match choice {
        "" => return Ok(None),
        "suppress" => DeidRule::Suppress,
        "mask" => DeidRule::Mask {
            keep_start: int(a)?.min(255) as u8,
            keep_end: int(b)?.min(255) as u8,
        },
        "pseudonym" => DeidRule::Pseudonym,
        "date_to_month" => DeidRule::DateTo {
            unit: DateUnit::Month,
        },
        "date_to_year" => DeidRule::DateTo {
            unit: DateUnit::Year,
        },
        "band" => DeidRule::Band { width: int(a)? },
        "grid" => DeidRule::Grid { metres: int(a)? },
        "address_to_street" => DeidRule::AddressTo {
            level: AddressLevel::Street,
        },
        "address_to_district" => DeidRule::AddressTo {
            level: AddressLevel::District,
        },
        "clamp" => DeidRule::Clamp {
            bottom: opt(a)?,
            top: opt(b)?,
        },
        "round" => DeidRule::Round { step: num(a)? },
        "noise" => DeidRule::Noise { amplitude: num(a)? },
        _ => return Err("invalid_choice"),
    }))
}

/// The plan the form describes, or the fields that are not right.
fn plan_of(
    d: &DatasetRecord,
    v: &FormValues,
) -> Result<(PrivacyPlan, i64), Vec<(String, &'static str)>> {
    let mut plan = PrivacyPlan::default();
    let mut errors = Vec::new();
    for item in &d.meta.data_items {
        let n = &item.name;
        match rule_of(
            v.get(&format!("rule.{n}")),
            v.get(&format!("a.{n}")),
            v.get(&format!("b.{n}")),
        ) {
            Ok(Some(rule)) => {
                plan.rules.insert(n.clone(), rule);
            }
            Ok(None) => {}
            Err(code) => errors.push((format!("rules.{n}"), code)),
        }
        if v.has("qi", n) {
            plan.quasi_identifiers.push(n.clone());
        }
    }
    let sensitive = v.get("sensitive").trim();
    if !sensitive.is_empty() {
        plan.sensitive = Some(sensitive.to_owned());
    }
    let base = v.get("row_version").parse().unwrap_or(0);
    if errors.is_empty() {
        Ok((plan, base))
    } else {
        Err(errors)
    }
}

struct FindingRow {
    kind: String,
    share: String,
    examples: String,
    handled: String,
    unhandled: bool,
}

struct ItemRow {
    name: String,
    label: String,
    field_type: String,
    findings: Vec<FindingRow>,
    choices: Vec<(&'static str, String, bool)>,
    a: String,
    b: String,
    quasi: bool,
    sensitive: bool,
    error: Option<String>,
}

struct ExceptionRow {
    id: String,
    item: String,
    kind: String,
    reason: String,
    granted: String,
}

struct RiskView {
    k: u64,
    l: String,
    threshold: u64,
    groups: u64,
    rows_below: u64,
    passes: bool,
    smallest: Vec<(String, u64, String)>,
    suggestions: Vec<(String, String, u64)>,
}

struct PreviewView {
    source: String,
    headers: Vec<String>,
    rows: Vec<Vec<(String, String)>>,
}

struct SampleView {
    state: String,
    rows: String,
    failed: String,
}

#[derive(Template)]
#[template(path = "console/privacy.html")]
struct PrivacyPage<'a> {
    page: PageCtx<'a>,
    dataset_id: String,
    name: String,
    org_name: String,
    org_href: String,
    can_edit: bool,
    can_grant: bool,
    can_sample: bool,
    row_version: i64,
    scanned: Option<String>,
    unhandled: u64,
    blocks: bool,
    items: Vec<ItemRow>,
    exceptions: Vec<ExceptionRow>,
    kinds: Vec<(&'static str, String)>,
    risk: Option<RiskView>,
    preview: Option<PreviewView>,
    sample: Option<SampleView>,
    errors: Vec<String>,
}

fn risk_view(pctx: &PageCtx<'_>, d: &DatasetRecord, r: &RiskReport) -> RiskView {
    let label = |n: &str| {
        d.meta
            .data_items
            .iter()
            .find(|i| i.name == n)
            .map_or_else(|| n.to_owned(), |i| i.label.clone())
    };
    RiskView {
        k: r.k,
        l: r.l.map(|l| l.to_string()).unwrap_or_default(),
        threshold: r.threshold,
        groups: r.groups,
        rows_below: r.rows_below,
        passes: r.passes(),
        smallest: r
            .smallest
            .iter()
            .map(|g| {
                let values = g
                    .values
                    .iter()
                    .map(|v| v.clone().unwrap_or_else(|| "∅".into()))
                    .collect::<Vec<_>>()
                    .join(" · ");
                let l = g
                    .distinct_sensitive
                    .map(|l| l.to_string())
                    .unwrap_or_default();
                (values, g.size, l)
            })
            .collect(),
        suggestions: r
            .suggestions
            .iter()
            .map(|s| {
                (
                    label(&s.item),
                    pctx.t(&format!("deid_rule.{}", s.rule.code())),
                    s.k,
                )
            })
            .collect(),
    }
}

/// What the page shows besides the entry's own state: the plan as typed in the form (with
/// the version it was made from), a preview, and what is wrong with the form.
struct Shown<'p> {
    form: Option<(&'p PrivacyPlan, i64)>,
    preview: Option<app::privacy::Preview>,
    errors: Vec<(String, &'static str)>,
    status: StatusCode,
}

impl Shown<'_> {
    fn page() -> Self {
        Shown {
            form: None,
            preview: None,
            errors: Vec::new(),
            status: StatusCode::OK,
        }
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    d: &DatasetRecord,
    org: &OrgRecord,
    shown: Shown<'_>,
) -> AppResult<Response> {
    let Shown {
        form,
        preview,
        errors,
        status,
    } = shown;
    let pctx = PageCtx::new(state, ctx, &format!("/console/datasets/{}/privacy", d.id));
    let view = app::privacy::view(&state.app, &ctx.caller, d).await?;
    let (plan, row_version) = match form {
        Some((p, v)) => (p.clone(), v),
        None => (view.plan.clone(), view.row_version),
    };
    let may = |a| ctx.authorize(a, Resource::Dataset(d.facts())).is_ok();
    let scan = view.scan.as_ref().map(|(_, r)| r);
    let items = d
        .meta
        .data_items
        .iter()
        .map(|item| {
            let findings = scan
                .map(|r| {
                    r.findings
                        .iter()
                        .filter(|f| f.item == item.name)
                        .map(|f| FindingRow {
                            kind: pctx.t(&format!("pi_kind.{}", f.kind.as_str())),
                            share: format!("{:.1}%", f.share * 100.0),
                            examples: f
                                .examples
                                .iter()
                                .map(|e| format!("{}: {}", e.line, e.value))
                                .collect::<Vec<_>>()
                                .join("；"),
                            handled: match &f.handled {
                                Some(Handling::Rule { rule }) => {
                                    pctx.t(&format!("deid_rule.{rule}"))
                                }
                                Some(Handling::Exception) => pctx.t("privacy.by_exception"),
                                None => pctx.t("privacy.unhandled"),
                            },
                            unhandled: f.handled.is_none(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let (current, a, b) = plan
                .rules
                .get(&item.name)
                .map(choice_of)
                .map_or(("", String::new(), String::new()), |(c, a, b)| (c, a, b));
            let choices = CHOICES
                .iter()
                .filter(|c| {
                    rule_of(c, "1", "1")
                        .ok()
                        .flatten()
                        .is_some_and(|r| r.output_type(item.field_type).is_some())
                })
                .map(|c| (*c, pctx.t(&format!("privacy.choice.{c}")), *c == current))
                .collect();
            ItemRow {
                name: item.name.clone(),
                label: item.label.clone(),
                field_type: pctx.t(&format!("field_type.{}", item.field_type.as_str())),
                findings,
                choices,
                a,
                b,
                quasi: plan.quasi_identifiers.contains(&item.name),
                sensitive: plan.sensitive.as_deref() == Some(item.name.as_str()),
                error: errors
                    .iter()
                    .find(|(f, _)| *f == format!("rules.{}", item.name))
                    .map(|(_, code)| pctx.t(&format!("field.{code}"))),
            }
        })
        .collect();
    let risk = view.risk.as_ref().map(|r| risk_view(&pctx, d, r));
    let label = |n: &str| {
        d.meta
            .data_items
            .iter()
            .find(|i| i.name == n)
            .map_or_else(|| n.to_owned(), |i| i.label.clone())
    };
    let sample = if d.meta.open_type == OpenType::Conditional {
        app::samples::newest(&state.app, &ctx.caller, d)
            .await?
            .map(|s| SampleView {
                state: pctx.t(&format!("sample_state.{}", s.state)),
                rows: s.rows.map(|r| r.to_string()).unwrap_or_default(),
                failed: app::samples::report_of(&s)
                    .map(|r| {
                        r.columns
                            .iter()
                            .filter(|c| !c.failed.is_empty())
                            .map(|c| format!("{} ({})", label(&c.column), c.failed.join(", ")))
                            .collect::<Vec<_>>()
                            .join("；")
                    })
                    .unwrap_or_default(),
            })
    } else {
        None
    };
    let page = PrivacyPage {
        dataset_id: d.id.to_string(),
        name: d.meta.name.clone(),
        org_name: org.name_zh.clone(),
        org_href: format!("/console/orgs/{}", org.slug),
        can_edit: may(Action::PublishData),
        can_grant: may(Action::GrantPrivacyException),
        can_sample: may(Action::BuildSample) && d.meta.open_type == OpenType::Conditional,
        row_version,
        scanned: view
            .scan
            .as_ref()
            .map(|_| view.scanned_file.clone().unwrap_or_default()),
        unhandled: scan.map_or(0, |r| r.unhandled),
        blocks: scan.is_some_and(|r| r.blocks),
        items,
        exceptions: view
            .exceptions
            .iter()
            .map(|e| ExceptionRow {
                id: e.id.clone(),
                item: label(&e.item),
                kind: pctx.t(&format!("pi_kind.{}", e.kind)),
                reason: e.reason.clone(),
                granted: domain::clock::Timestamp(e.granted_at)
                    .to_cst()
                    .format("%Y-%m-%d")
                    .to_string(),
            })
            .collect(),
        kinds: PiKind::ALL
            .iter()
            .map(|k| (k.as_str(), pctx.t(&format!("pi_kind.{}", k.as_str()))))
            .collect(),
        risk,
        preview: preview.map(|p| PreviewView {
            source: p.source_name,
            headers: d.meta.data_items.iter().map(|i| i.label.clone()).collect(),
            rows: p
                .rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|v| (v.original, v.opened.unwrap_or_else(|| "—".into())))
                        .collect()
                })
                .collect(),
        }),
        sample,
        errors: errors
            .iter()
            .filter(|(f, _)| !f.starts_with("rules."))
            .map(|(f, code)| format!("{f}: {}", pctx.t(&format!("field.{code}"))))
            .collect(),
        page: pctx,
    };
    html(status, page)
}

/// `GET /console/datasets/{dataset}/privacy`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    render(&state, &ctx, &d, &org, Shown::page()).await
}

fn back(d: &DatasetRecord) -> Response {
    Redirect::to(&format!("/console/datasets/{}/privacy", d.id)).into_response()
}

/// `POST /console/datasets/{dataset}/privacy`: saves the plan, or with `preview` shows the
/// first rows of the newest upload as the plan in the form would open them.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    let (plan, base) = match plan_of(&d, v) {
        Ok(p) => p,
        Err(errors) => {
            let base = v.get("row_version").parse().unwrap_or(0);
            let fallback = PrivacyPlan::default();
            let shown = Shown {
                form: Some((&fallback, base)),
                errors,
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..Shown::page()
            };
            return render(&state, &ctx, &d, &org, shown).await;
        }
    };
    if v.get("action") == "preview" {
        let preview = app::privacy::preview(&state.app, &ctx.caller, &d, &plan).await?;
        let shown = Shown {
            form: Some((&plan, base)),
            preview,
            ..Shown::page()
        };
        return render(&state, &ctx, &d, &org, shown).await;
    }
    match app::privacy::save(&state.app, &ctx.caller, &d, &plan, base).await {
        Ok(_) => Ok(back(&d)),
        Err(e) if e.code == ErrorCode::ValidationFailed => {
            let errors = e.fields.iter().map(|f| (f.field.clone(), f.code)).collect();
            let shown = Shown {
                form: Some((&plan, base)),
                errors,
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..Shown::page()
            };
            render(&state, &ctx, &d, &org, shown).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/datasets/{dataset}/privacy/exceptions`.
pub async fn grant(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    app::privacy::grant_exception(
        &state.app,
        &ctx.caller,
        &d,
        v.get("item"),
        v.get("kind").parse().ok(),
        v.get("reason"),
    )
    .await?;
    Ok(back(&d))
}

/// `POST /console/datasets/{dataset}/privacy/exceptions/{id}/withdraw`.
pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Path((_, id)): Path<(String, String)>,
    _form: FormPost,
) -> AppResult<Response> {
    app::privacy::withdraw_exception(&state.app, &ctx.caller, &d, &id).await?;
    Ok(back(&d))
}

/// `POST /console/datasets/{dataset}/sample`: the operator's sample builder.
pub async fn sample(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    let amount: f64 = v
        .get("amount")
        .trim()
        .parse()
        .map_err(|_| AppError::field("amount", "not_a_number"))?;
    let size = match v.get("unit") {
        "rows" => SampleSize::Rows(amount.max(0.0) as u64),
        _ => SampleSize::Percent(amount),
    };
    let seed = match v.get("seed").trim() {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| AppError::field("seed", "not_a_number"))?,
        ),
    };
    let spec = app::samples::SampleSpec {
        size,
        strata: v.all("strata").into_iter().map(str::to_owned).collect(),
        seed,
    };
    app::samples::define(&state.app, &ctx.caller, &d, spec).await?;
    Ok(back(&d))
}
