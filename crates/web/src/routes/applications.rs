//! The pages of conditional opening for every party: the applicant's form from the dataset
//! page's "申请使用" and "我的申请" with the timeline of each application; the operator's
//! completeness queue; the provider's work-order inbox by deadline and the decision form; the
//! agreement as a printable page with its signature form.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use domain::access::{AgreementState, ApplicationState};
use domain::application::{ApplicationForm, EntryRequest, SECURITY_PLEDGE};
use domain::ids::DatasetId;
use domain::openlist::vocab::{ConditionKind, OpenType};
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::access::{ApplicationFilter, ApplicationRecord, WorkOrderFilter, WorkOrderRecord};
use store::agreements::AgreementRecord;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;

use crate::ctx::{Ctx, FormPost, Params};
use crate::dataset_form::FormValues;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::page::{PageCtx, html};
use crate::state::AppState;

/// One entry of the form as the page shows it: its data items to tick and its scenarios.
struct EntryPart {
    id: String,
    name: String,
    /// (name, label, ticked)
    items: Vec<(String, String, bool)>,
    /// The scenarios it allows; empty: the applicant describes one.
    scenarios: Vec<String>,
    scenario: String,
    /// Its required materials: (name, description).
    materials: Vec<(String, String)>,
}

/// A material as listed on the page.
struct MaterialRow {
    entry: String,
    material: String,
    name: String,
    size: String,
    url: String,
}

/// A work order as the application page shows it.
struct OrderRow {
    /// The work order's page, for those who may open it.
    href: Option<String>,
    provider: String,
    state: String,
    due: String,
    provisional: bool,
    decision: Option<String>,
    reasons: Vec<String>,
    grants: Vec<String>,
    agreements: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "access/application.html")]
struct ApplicationPage<'a> {
    page: PageCtx<'a>,
    id: String,
    state: String,
    state_code: String,
    editable: bool,
    mine: bool,
    reviews: bool,
    applicant: String,
    entries: Vec<EntryPart>,
    purpose: String,
    period_start: String,
    period_end: String,
    calls_per_day: String,
    security_measures: String,
    materials: Vec<MaterialRow>,
    /// (value, label) of the materials one may still upload.
    wanted: Vec<(String, String)>,
    /// (round, submitted at, outcome, reasons)
    rounds: Vec<(i64, String, String, Vec<String>)>,
    orders: Vec<OrderRow>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
}

fn date_text(t: domain::clock::Timestamp) -> String {
    t.to_cst().format("%Y-%m-%d %H:%M").to_string()
}

fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1048576.0)
    } else {
        format!("{:.0} KB", (bytes as f64 / 1024.0).ceil())
    }
}

async fn entry_part(
    state: &AppState,
    e: &EntryRequest,
) -> AppResult<Option<(EntryPart, DatasetRecord)>> {
    let d = match state.store.dataset(&e.dataset.to_string()).await {
        Ok(d) => d,
        Err(store::StoreError::NotFound) => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let part = EntryPart {
        id: d.id.to_string(),
        name: d.meta.name.clone(),
        items: d
            .meta
            .data_items
            .iter()
            .map(|i| (i.name.clone(), i.label.clone(), e.items.contains(&i.name)))
            .collect(),
        scenarios: d
            .meta
            .conditions
            .iter()
            .filter(|c| c.kind == ConditionKind::Scenario)
            .map(|c| c.text.trim().to_owned())
            .collect(),
        scenario: e.scenario.clone(),
        materials: d
            .meta
            .materials
            .iter()
            .map(|m| (m.name.clone(), m.description.clone()))
            .collect(),
    };
    Ok(Some((part, d)))
}

/// The agreements of work order `order`, as links named by version and state.
async fn agreement_links(
    state: &AppState,
    page: &PageCtx<'_>,
    order: domain::ids::WorkOrderId,
) -> AppResult<Vec<(String, String)>> {
    Ok(state
        .store
        .agreements_of(order)
        .await?
        .into_iter()
        .map(|ag| {
            let label = page.tfs(
                "agreement.link",
                &[
                    ("version", ag.version.to_string()),
                    (
                        "state",
                        page.t(&format!("agreement.state.{}", ag.state.as_str())),
                    ),
                ],
            );
            (format!("/agreements/{}", ag.id), label)
        })
        .collect())
}

fn state_label(page: &PageCtx, s: ApplicationState) -> String {
    page.t(&format!("application.state.{}", s.as_str()))
}

async fn render_application(
    state: &AppState,
    ctx: &Ctx,
    a: &ApplicationRecord,
    form: Option<&ApplicationForm>,
    status: StatusCode,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> AppResult<Response> {
    let page = PageCtx::new(state, ctx, &format!("/applications/{}", a.id));
    let form = form.unwrap_or(&a.form);
    let mine = ctx.caller.user().is_ok_and(|u| u.id == a.applicant_id);
    let reviews = ctx
        .authorize(Action::CheckCompleteness, Resource::Application(a.facts()))
        .is_ok()
        && a.state == ApplicationState::Submitted;
    let mut entries = Vec::new();
    let mut names = BTreeMap::new();
    for e in &form.entries {
        if let Some((part, d)) = entry_part(state, e).await? {
            names.insert(d.id, d.meta.name.clone());
            entries.push(part);
        }
    }
    let stored = state.store.materials(a.id).await?;
    let pledge = page.t("application.pledge");
    let label_of = |d: Option<DatasetId>| match d {
        None => pledge.clone(),
        Some(d) => names.get(&d).cloned().unwrap_or_default(),
    };
    let materials: Vec<MaterialRow> = stored
        .iter()
        .map(|m| MaterialRow {
            entry: label_of(m.dataset_id),
            material: if m.material == SECURITY_PLEDGE {
                pledge.clone()
            } else {
                m.material.clone()
            },
            name: m.name.clone(),
            size: size_text(m.size),
            url: format!("/api/v1/applications/{}/materials/{}", a.id, m.id),
        })
        .collect();
    let have: BTreeSet<(Option<DatasetId>, String)> = stored
        .iter()
        .map(|m| (m.dataset_id, m.material.clone()))
        .collect();
    let mut wanted = Vec::new();
    if !have.contains(&(None, SECURITY_PLEDGE.to_owned())) {
        wanted.push((format!("|{SECURITY_PLEDGE}"), pledge.clone()));
    }
    for e in &entries {
        for (m, _) in &e.materials {
            let d: Option<DatasetId> = e.id.parse().ok();
            if !have.contains(&(d, m.clone())) {
                wanted.push((format!("{}|{m}", e.id), format!("{}：{m}", e.name)));
            }
        }
    }
    let rounds = state
        .store
        .rounds(a.id)
        .await?
        .into_iter()
        .map(|r| {
            let outcome = match r.outcome.as_deref() {
                None => page.t("application.round.pending"),
                Some(o) => page.t(&format!("application.round.{o}")),
            };
            (r.round, date_text(r.submitted_at), outcome, r.reasons)
        })
        .collect();
    let mut orders = Vec::new();
    for w in state.store.work_orders_of(a.id).await? {
        let org = state.store.org(&w.org_id.to_string()).await?;
        let decision = app::access::Decision::of(&w);
        let agreements = agreement_links(state, &page, w.id).await?;
        let href = ctx
            .authorize(Action::ViewWorkOrder, Resource::WorkOrder(w.facts()))
            .is_ok()
            .then(|| format!("/console/work-orders/{}", w.id));
        orders.push(OrderRow {
            href,
            provider: org.name_zh,
            state: page.t(&format!("work_order.state.{}", w.state.as_str())),
            due: w.due_on.to_string(),
            provisional: w.due_provisional,
            decision: decision
                .as_ref()
                .map(|d| page.t(&format!("work_order.decision.{}", d.outcome))),
            reasons: decision
                .as_ref()
                .map(|d| d.reasons.clone())
                .unwrap_or_default(),
            grants: decision
                .map(|d| {
                    d.grants
                        .iter()
                        .map(|g| {
                            page.tfs(
                                "work_order.grant",
                                &[
                                    ("entry", names.get(&g.dataset).cloned().unwrap_or_default()),
                                    (
                                        "items",
                                        g.items.iter().cloned().collect::<Vec<_>>().join("、"),
                                    ),
                                    ("calls", g.calls_per_day.to_string()),
                                    ("start", g.period_start.to_string()),
                                    ("end", g.period_end.to_string()),
                                ],
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            agreements,
        });
    }
    let applicant = state.store.user(a.applicant_id).await?;
    html(
        status,
        ApplicationPage {
            id: a.id.to_string(),
            state: state_label(&page, a.state),
            state_code: a.state.as_str().to_owned(),
            editable: mine && a.state.is_editable(),
            mine,
            reviews,
            applicant: applicant.legal_name.unwrap_or(applicant.display_name),
            entries,
            purpose: form.purpose.clone(),
            period_start: form.period_start.map(|d| d.to_string()).unwrap_or_default(),
            period_end: form.period_end.map(|d| d.to_string()).unwrap_or_default(),
            calls_per_day: form
                .calls_per_day
                .map(|n| n.to_string())
                .unwrap_or_default(),
            security_measures: form.security_measures.clone(),
            materials,
            wanted,
            rounds,
            orders,
            errors,
            notice,
            page,
        },
    )
}

/// The application page again, refused with `errors` (422), showing `form` as typed when given.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    a: &ApplicationRecord,
    form: Option<&ApplicationForm>,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    render_application(
        state,
        ctx,
        a,
        form,
        StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        None,
    )
    .await
}

/// Reads the form the page posts: for each entry its ticked items and its scenario.
fn form_of(v: &FormValues) -> Result<ApplicationForm, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    for id in v.all("entry") {
        let Ok(dataset) = id.parse::<DatasetId>() else {
            continue;
        };
        entries.push(EntryRequest {
            dataset,
            items: v
                .all(&format!("items.{id}"))
                .into_iter()
                .map(str::to_owned)
                .collect(),
            scenario: v.get(&format!("scenario.{id}")).trim().to_owned(),
        });
    }
    let mut date = |field: &str| -> Option<NaiveDate> {
        let t = v.get(field).trim();
        if t.is_empty() {
            return None;
        }
        let d = NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
        if d.is_none() {
            errors.push((field.to_owned(), "invalid_date".to_owned()));
        }
        d
    };
    let period_start = date("period_start");
    let period_end = date("period_end");
    let calls = v.get("calls_per_day").trim();
    let calls_per_day = if calls.is_empty() {
        None
    } else {
        match calls.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(("calls_per_day".to_owned(), "invalid_value".to_owned()));
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ApplicationForm {
        entries,
        purpose: v.get("purpose").to_owned(),
        period_start,
        period_end,
        calls_per_day,
        security_measures: v.get("security_measures").to_owned(),
    })
}

/// Field errors of `e` with messages, or `e` itself when it is not about fields.
pub(super) fn messages(page: &PageCtx, e: AppError) -> AppResult<Vec<(String, String)>> {
    Ok(e.into_field_errors()?
        .iter()
        .map(|f| (f.field.clone(), page.field_message(f)))
        .collect())
}

fn coded(page: &PageCtx, codes: Vec<(String, String)>) -> Vec<(String, String)> {
    codes
        .into_iter()
        .map(|(field, code)| {
            let message = page.t(&format!("field.{code}"));
            (field, message)
        })
        .collect()
}

#[derive(Deserialize)]
pub struct NewQuery {
    dataset: Option<String>,
}

/// `GET /applications/new?dataset=…`: the form, for a conditional entry of the open list.
pub async fn new_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<NewQuery>,
) -> AppResult<Response> {
    // Without a conditional entry named, the form has none yet: the page says where to find
    // one.
    let d = match q.dataset.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => state.store.dataset(id).await.ok(),
        _ => None,
    }
    .filter(applies);
    let form = ApplicationForm {
        entries: d
            .iter()
            .map(|d| EntryRequest {
                dataset: d.id,
                // Nothing ticked: the applicant picks the least they need.
                items: BTreeSet::new(),
                scenario: String::new(),
            })
            .collect(),
        ..Default::default()
    };
    let draft = ApplicationRecord {
        id: domain::ids::ApplicationId::new(),
        applicant_id: ctx.caller.user()?.id,
        state: ApplicationState::Draft,
        form: form.clone(),
        round: 0,
        created_at: state.app.clock.now(),
        updated_at: state.app.clock.now(),
        row_version: 0,
    };
    render_new(&state, &ctx, &draft, StatusCode::OK, Vec::new()).await
}

#[derive(Template)]
#[template(path = "access/new.html")]
struct NewPage<'a> {
    page: PageCtx<'a>,
    entries: Vec<EntryPart>,
    purpose: String,
    period_start: String,
    period_end: String,
    calls_per_day: String,
    security_measures: String,
    errors: Vec<(String, String)>,
}

async fn render_new(
    state: &AppState,
    ctx: &Ctx,
    draft: &ApplicationRecord,
    status: StatusCode,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let page = PageCtx::new(state, ctx, "/applications/new");
    let mut entries = Vec::new();
    for e in &draft.form.entries {
        if let Some((part, _)) = entry_part(state, e).await? {
            entries.push(part);
        }
    }
    let f = &draft.form;
    html(
        status,
        NewPage {
            page,
            entries,
            purpose: f.purpose.clone(),
            period_start: f.period_start.map(|d| d.to_string()).unwrap_or_default(),
            period_end: f.period_end.map(|d| d.to_string()).unwrap_or_default(),
            calls_per_day: f.calls_per_day.map(|n| n.to_string()).unwrap_or_default(),
            security_measures: f.security_measures.clone(),
            errors,
        },
    )
}

/// `POST /applications`: saves the form as a draft and goes on to its page.
pub async fn create_form(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormPost,
) -> AppResult<Response> {
    let page = PageCtx::new(&state, &ctx, "/applications/new");
    let parsed = form_of(&form.values);
    let draft_of = |f: ApplicationForm| ApplicationRecord {
        id: domain::ids::ApplicationId::new(),
        applicant_id: ctx.caller.user().map(|u| u.id).unwrap_or_default(),
        state: ApplicationState::Draft,
        form: f,
        round: 0,
        created_at: state.app.clock.now(),
        updated_at: state.app.clock.now(),
        row_version: 0,
    };
    let f = match parsed {
        Ok(f) => f,
        Err(codes) => {
            let errors = coded(&page, codes);
            return render_new(
                &state,
                &ctx,
                &draft_of(ApplicationForm::default()),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await;
        }
    };
    match app::access::create(&state.app, &ctx.caller, f.clone()).await {
        Ok(a) => Ok(Redirect::to(&format!("/applications/{}?saved=1", a.id)).into_response()),
        Err(e) => {
            let errors = messages(&page, AppError(e))?;
            render_new(
                &state,
                &ctx,
                &draft_of(f),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    saved: Option<String>,
}

/// `GET /applications/{application}`.
pub async fn show_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    Params(q): Params<ShowQuery>,
) -> AppResult<Response> {
    let page = PageCtx::new(&state, &ctx, "/applications");
    let notice = q.saved.map(|s| match s.as_str() {
        "submitted" => page.t("application.notice.submitted"),
        "accepted" => page.t("application.notice.accepted"),
        "returned" => page.t("application.notice.returned"),
        "withdrawn" => page.t("application.notice.withdrawn"),
        _ => page.t("application.notice.saved"),
    });
    render_application(&state, &ctx, &a, None, StatusCode::OK, Vec::new(), notice).await
}

async fn after(
    state: &AppState,
    ctx: &Ctx,
    a: &ApplicationRecord,
    result: app::Result<ApplicationRecord>,
    saved: &str,
) -> AppResult<Response> {
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/applications/{}?saved={saved}", a.id)).into_response()),
        Err(e) => {
            let page = PageCtx::new(state, ctx, "/applications");
            let errors = messages(&page, AppError(e))?;
            refused(state, ctx, a, None, errors).await
        }
    }
}

/// `POST /applications/{application}`: saves the form.
pub async fn save_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let page = PageCtx::new(&state, &ctx, "/applications");
    match form_of(&form.values) {
        Ok(f) => {
            let result =
                app::access::update(&state.app, &ctx.caller, a.clone(), f.clone(), None).await;
            match result {
                Ok(a) => {
                    Ok(Redirect::to(&format!("/applications/{}?saved=1", a.id)).into_response())
                }
                Err(e) => {
                    let errors = messages(&page, AppError(e))?;
                    refused(&state, &ctx, &a, Some(&f), errors).await
                }
            }
        }
        Err(codes) => {
            let errors = coded(&page, codes);
            refused(&state, &ctx, &a, None, errors).await
        }
    }
}

/// `POST /applications/{application}/materials`: a file for a required material.
pub async fn attach_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let page = PageCtx::new(&state, &ctx, "/applications");
    // A closed application takes no material, whatever the form carries.
    if !a.state.is_editable() {
        return Err(ErrorCode::InvalidTransition.into());
    }
    let which = form.values.get("material");
    let (dataset, material) = which.split_once('|').unwrap_or(("", which));
    let dataset = match dataset {
        "" => None,
        id => Some(
            id.parse::<DatasetId>()
                .map_err(|_| AppError::field("material", "not_required"))?,
        ),
    };
    let upload = match form.files.iter().find(|f| f.field == "file") {
        Some(f) => f.upload.clone(),
        None => Err(app::Error::field("file", "required")),
    };
    let result = match upload {
        Ok(u) => app::access::attach(&state.app, &ctx.caller, &a, dataset, material, &u.id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/applications/{}?saved=1#materials", a.id)).into_response())
        }
        Err(e) => {
            let errors = match e.code {
                ErrorCode::ValidationFailed => messages(&page, AppError(e))?,
                code => vec![("file".to_owned(), page.t(&code.message_key()))],
            };
            refused(&state, &ctx, &a, None, errors).await
        }
    }
}

/// `POST /applications/{application}/submit`.
pub async fn submit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    _form: FormPost,
) -> AppResult<Response> {
    let result = app::access::submit(&state.app, &ctx.caller, a.clone()).await;
    after(&state, &ctx, &a, result, "submitted").await
}

/// `POST /applications/{application}/withdraw`.
pub async fn withdraw_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    _form: FormPost,
) -> AppResult<Response> {
    let result = app::access::withdraw(&state.app, &ctx.caller, a.clone()).await;
    after(&state, &ctx, &a, result, "withdrawn").await
}

/// `POST /applications/{application}/accept`: the completeness review accepts it.
pub async fn accept_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    _form: FormPost,
) -> AppResult<Response> {
    let result = app::access::accept(&state.app, &ctx.caller, a.clone())
        .await
        .map(|(a, _)| a);
    after(&state, &ctx, &a, result, "accepted").await
}

/// `POST /applications/{application}/return`: every reason, one a line.
pub async fn return_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let reasons = form
        .values
        .get("reasons")
        .lines()
        .map(str::to_owned)
        .collect();
    let result = app::access::give_back(&state.app, &ctx.caller, a.clone(), reasons).await;
    after(&state, &ctx, &a, result, "returned").await
}

/// A row of a list of applications.
struct ListRow {
    href: String,
    entries: String,
    state: String,
    state_code: String,
    updated: String,
    applicant: String,
}

#[derive(Template)]
#[template(path = "access/list.html")]
struct ListPage<'a> {
    page: PageCtx<'a>,
    title: String,
    intro: String,
    rows: Vec<ListRow>,
    queue: bool,
}

async fn list_rows(
    state: &AppState,
    page: &PageCtx<'_>,
    list: Vec<ApplicationRecord>,
) -> AppResult<Vec<ListRow>> {
    let mut rows = Vec::with_capacity(list.len());
    for a in list {
        let mut names = Vec::new();
        for e in &a.form.entries {
            if let Ok(d) = state.store.dataset(&e.dataset.to_string()).await {
                names.push(d.meta.name);
            }
        }
        let user = state.store.user(a.applicant_id).await?;
        rows.push(ListRow {
            href: format!("/applications/{}", a.id),
            entries: if names.is_empty() {
                page.t("application.no_entries")
            } else {
                names.join("、")
            },
            state: state_label(page, a.state),
            state_code: a.state.as_str().to_owned(),
            updated: date_text(a.updated_at),
            applicant: user.legal_name.unwrap_or(user.display_name),
        });
    }
    Ok(rows)
}

/// `GET /applications`: 我的申请.
pub async fn mine_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let page = PageCtx::new(&state, &ctx, "/applications");
    let list = state
        .store
        .applications(
            &ApplicationFilter {
                applicant: Some(ctx.caller.user()?.id),
                state: None,
            },
            &store::paging::Page::first(200),
        )
        .await?;
    let rows = list_rows(&state, &page, list.items).await?;
    html(
        StatusCode::OK,
        ListPage {
            title: page.t("application.mine"),
            intro: page.t("application.mine_intro"),
            rows,
            queue: false,
            page,
        },
    )
}

/// `GET /console/applications`: the completeness queue, the longest waiting first.
pub async fn queue_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let page = PageCtx::new(&state, &ctx, "/console/applications");
    let list = state
        .store
        .applications(
            &ApplicationFilter {
                applicant: None,
                state: Some(ApplicationState::Submitted),
            },
            &store::paging::Page::first(200),
        )
        .await?;
    let rows = list_rows(&state, &page, list.items).await?;
    html(
        StatusCode::OK,
        ListPage {
            title: page.t("application.queue"),
            intro: page.t("application.queue_intro"),
            rows,
            queue: true,
            page,
        },
    )
}

/// A work order in the provider's inbox.
struct InboxRow {
    href: String,
    applicant: String,
    entries: String,
    state: String,
    due: String,
    left: i64,
    provisional: bool,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "access/inbox.html")]
struct InboxPage<'a> {
    page: PageCtx<'a>,
    org: String,
    rows: Vec<InboxRow>,
}

/// `GET /console/orgs/{org}/work-orders`: open work orders, the nearest deadline first, with
/// the working days left.
pub async fn inbox_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    let page = PageCtx::new(
        &state,
        &ctx,
        &format!("/console/orgs/{}/work-orders", org.slug),
    );
    let list = state
        .store
        .work_orders(
            &WorkOrderFilter {
                org: Some(org.id),
                open: true,
                ..Default::default()
            },
            &store::paging::Page::first(500),
        )
        .await?;
    let (calendar, _) = app::calendar::calendar(&state.app).await?;
    let today = state.app.clock.now().to_cst().date_naive();
    // One lookup per applicant and per entry, however many orders they have.
    let mut people: BTreeMap<domain::ids::UserId, String> = BTreeMap::new();
    let mut entries: BTreeMap<DatasetId, String> = BTreeMap::new();
    let mut rows = Vec::with_capacity(list.items.len());
    for w in &list.items {
        if let std::collections::btree_map::Entry::Vacant(slot) = people.entry(w.applicant_id) {
            let u = state.store.user(w.applicant_id).await?;
            slot.insert(u.legal_name.unwrap_or(u.display_name));
        }
        let mut names = Vec::new();
        for e in &w.requested.entries {
            if let std::collections::btree_map::Entry::Vacant(slot) = entries.entry(e.dataset) {
                let name = state
                    .store
                    .dataset(&e.dataset.to_string())
                    .await
                    .map(|d| d.meta.name)
                    .unwrap_or_default();
                slot.insert(name);
            }
            names.push(entries[&e.dataset].clone());
        }
        rows.push(InboxRow {
            href: format!("/console/work-orders/{}", w.id),
            applicant: people[&w.applicant_id].clone(),
            entries: names.join("、"),
            state: page.t(&format!("work_order.state.{}", w.state.as_str())),
            due: w.due_on.to_string(),
            left: calendar.working_days_left(today, w.due_on),
            provisional: w.due_provisional,
            overdue: today > w.due_on,
        });
    }
    html(
        StatusCode::OK,
        InboxPage {
            org: org.name_zh.clone(),
            rows,
            page,
        },
    )
}

#[derive(Template)]
#[template(path = "access/work_order.html")]
struct OrderPage<'a> {
    page: PageCtx<'a>,
    id: String,
    org_slug: String,
    applicant: String,
    applicant_identity: String,
    state: String,
    open: bool,
    decides: bool,
    entries: Vec<EntryPart>,
    purpose: String,
    period: String,
    calls_per_day: u64,
    security_measures: String,
    materials: Vec<MaterialRow>,
    due: String,
    left: i64,
    provisional: bool,
    decision: Option<app::access::Decision>,
    agreements: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    /// Per entry id, every data item (name, label), to limit the rows delivered by.
    row_fields: BTreeMap<String, Vec<(String, String)>>,
    experts: super::experts::ExpertPart,
}

async fn render_order(
    state: &AppState,
    ctx: &Ctx,
    w: &WorkOrderRecord,
    status: StatusCode,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let page = PageCtx::new(state, ctx, &format!("/console/work-orders/{}", w.id));
    let org = state.store.org(&w.org_id.to_string()).await?;
    let user = state.store.user(w.applicant_id).await?;
    let mut entries = Vec::new();
    let mut row_fields = BTreeMap::new();
    let mut names = BTreeMap::new();
    for e in &w.requested.entries {
        if let Some((mut part, d)) = entry_part(state, e).await? {
            // Rows may be limited by any data item; only what was applied for is offered to
            // grant.
            row_fields.insert(
                part.id.clone(),
                part.items
                    .iter()
                    .map(|(name, label, _)| (name.clone(), label.clone()))
                    .collect(),
            );
            part.items.retain(|(_, _, ticked)| *ticked);
            names.insert(d.id, d.meta.name.clone());
            entries.push(part);
        }
    }
    let materials = state
        .store
        .materials(w.application_id)
        .await?
        .into_iter()
        .filter(|m| m.dataset_id.is_none_or(|d| names.contains_key(&d)))
        .map(|m| MaterialRow {
            entry: m
                .dataset_id
                .and_then(|d| names.get(&d).cloned())
                .unwrap_or_else(|| page.t("application.pledge")),
            material: if m.material == SECURITY_PLEDGE {
                page.t("application.pledge")
            } else {
                m.material.clone()
            },
            name: m.name.clone(),
            size: size_text(m.size),
            url: format!("/api/v1/work-orders/{}/materials/{}", w.id, m.id),
        })
        .collect();
    let (calendar, _) = app::calendar::calendar(&state.app).await?;
    let today = state.app.clock.now().to_cst().date_naive();
    let agreements = agreement_links(state, &page, w.id).await?;
    let decides = ctx
        .authorize(Action::DecideWorkOrder, Resource::WorkOrder(w.facts()))
        .is_ok();
    html(
        status,
        OrderPage {
            id: w.id.to_string(),
            org_slug: org.slug,
            applicant: user.legal_name.clone().unwrap_or(user.display_name.clone()),
            applicant_identity: match (&user.legal_name, &user.uscc) {
                (Some(_), Some(code)) => page.tf("work_order.uscc", "code", code),
                _ => page.t("work_order.natural_person"),
            },
            state: page.t(&format!("work_order.state.{}", w.state.as_str())),
            open: w.state.is_open(),
            decides: decides && w.state.is_open(),
            entries,
            row_fields,
            experts: super::experts::expert_part(state, ctx, w).await?,
            purpose: w.requested.purpose.clone(),
            period: format!("{} — {}", w.requested.period.0, w.requested.period.1),
            calls_per_day: w.requested.calls_per_day,
            security_measures: w.requested.security_measures.clone(),
            materials,
            due: w.due_on.to_string(),
            left: calendar.working_days_left(today, w.due_on),
            provisional: w.due_provisional,
            decision: app::access::Decision::of(w),
            agreements,
            errors,
            page,
        },
    )
}

/// `GET /console/work-orders/{order}`.
pub async fn order_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(w): Extension<WorkOrderRecord>,
) -> AppResult<Response> {
    render_order(&state, &ctx, &w, StatusCode::OK, Vec::new()).await
}

/// The row filter the decision form gives for entry `id`, if any: a data item, a comparison,
/// and a value — several for "one of", separated by commas or 、.
fn row_filter(v: &crate::dataset_form::FormValues, id: &str) -> Option<domain::access::RowFilter> {
    use domain::access::RowOp;
    let field = v.get(&format!("rows_field.{id}")).trim();
    if field.is_empty() {
        return None;
    }
    let op = match v.get(&format!("rows_op.{id}")) {
        "in" => RowOp::In,
        "gte" => RowOp::Gte,
        "lte" => RowOp::Lte,
        _ => RowOp::Eq,
    };
    let text = v.get(&format!("rows_values.{id}"));
    let values = match op {
        RowOp::In => text
            .split([',', '，', '、'])
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => vec![text.trim().to_owned()],
    };
    Some(domain::access::RowFilter {
        field: field.to_owned(),
        op,
        values,
    })
}

/// The work order's page again with the problems of a refused form next to it; any other
/// refusal as it is.
pub(super) async fn order_refusal(
    state: &AppState,
    ctx: &Ctx,
    w: &WorkOrderRecord,
    e: AppError,
) -> AppResult<Response> {
    let page = PageCtx::new(state, ctx, "/console");
    let errors = messages(&page, e)?;
    render_order(state, ctx, w, StatusCode::UNPROCESSABLE_ENTITY, errors).await
}

/// `POST /console/work-orders/{order}/decision`.
pub async fn decide_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(w): Extension<WorkOrderRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    let grants = w
        .requested
        .entries
        .iter()
        .map(|e| {
            let id = e.dataset.to_string();
            let calls = v.get(&format!("calls.{id}")).trim().parse().ok();
            app::access::GrantInput {
                dataset: e.dataset,
                items: Some(
                    v.all(&format!("items.{id}"))
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                ),
                calls_per_day: calls,
                rows: row_filter(v, &id).into_iter().collect(),
                delivery: match v.get(&format!("delivery.{id}")) {
                    "sandbox" => Some(domain::access::Delivery::Sandbox),
                    _ => None,
                },
                // Not a number: out of range, which the message explains.
                privacy_budget: match v.get(&format!("budget.{id}")).trim() {
                    "" => None,
                    b => Some(b.parse().unwrap_or(f64::NAN)),
                },
                ..Default::default()
            }
        })
        .collect();
    let input = app::access::DecisionInput {
        outcome: v.get("outcome").to_owned(),
        criteria: domain::access::Criteria {
            fairness: v.get("fairness").to_owned(),
            scenario_value: v.get("scenario_value").to_owned(),
            combination_risk: v.get("combination_risk").to_owned(),
        },
        grants,
        reasons: v.get("reasons").lines().map(str::to_owned).collect(),
    };
    match app::access::decide(&state.app, &ctx.caller, w.clone(), input).await {
        Ok(w) => Ok(Redirect::to(&format!("/console/work-orders/{}", w.id)).into_response()),
        Err(e) => order_refusal(&state, &ctx, &w, AppError(e)).await,
    }
}

#[derive(Template)]
#[template(path = "access/agreement.html")]
struct AgreementPage<'a> {
    page: PageCtx<'a>,
    id: String,
    version: i64,
    state: String,
    text_html: String,
    sha256: String,
    applicant_signed: Option<String>,
    provider_signed: Option<String>,
    can_sign: bool,
    /// Calls per day under it (A29.1), newest first.
    usage: Vec<app::agreements::DayUse>,
    /// A credential's secret, shown this once after the signature that issued it.
    credential: Option<(String, String)>,
    errors: Vec<(String, String)>,
    /// Deliveries filed as made outside the platform (A21.1), the latest first.
    offline: Vec<store::agreements::OfflineRecord>,
    /// Whether the caller may file one now.
    files_offline: bool,
    /// For a provider who may change it: per granted entry (id, name, calls a day, period
    /// end).
    revisable: Vec<(String, String, u64, String)>,
    /// Whether it grants an entry in the sandbox (A21.2).
    sandbox: bool,
}

async fn render_agreement(
    state: &AppState,
    ctx: &Ctx,
    a: &AgreementRecord,
    status: StatusCode,
    credential: Option<(String, String)>,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let page = PageCtx::new(state, ctx, &format!("/agreements/{}", a.id));
    let me = ctx.caller.user().ok().map(|u| u.id);
    let signed_already = match me {
        Some(id) if id == a.applicant_id => a.applicant_signed_at.is_some(),
        _ => a.provider_signed_at.is_some(),
    };
    let can_sign = a.state == AgreementState::AwaitingSignatures
        && !signed_already
        && ctx
            .authorize(Action::SignAgreement, Resource::Agreement(a.facts()))
            .is_ok();
    html(
        status,
        AgreementPage {
            id: a.id.to_string(),
            version: a.version,
            state: page.t(&format!("agreement.state.{}", a.state.as_str())),
            text_html: crate::articles::render_markdown(&a.text),
            sha256: a.sha256.clone(),
            applicant_signed: a.applicant_signed_at.map(date_text),
            provider_signed: a.provider_signed_at.map(date_text),
            can_sign,
            usage: app::agreements::usage(&state.app, a).await?,
            credential,
            errors,
            offline: state.store.offline_deliveries_of(a.id).await?,
            files_offline: a.state == AgreementState::Active
                && ctx
                    .authorize(Action::ManageDelivery, Resource::Agreement(a.facts()))
                    .is_ok(),
            revisable: revisable(state, ctx, a).await,
            sandbox: app::agreements::grants_of(a)
                .iter()
                .any(|g| g.delivery == domain::access::Delivery::Sandbox),
            page,
        },
    )
}

/// `GET /agreements/{agreement}`: the agreement as a printable page, with the signature form
/// for a side that has yet to sign.
pub async fn agreement_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
) -> AppResult<Response> {
    render_agreement(&state, &ctx, &a, StatusCode::OK, None, Vec::new()).await
}

/// `GET /agreements/{agreement}/pdf`: the agreement's text as a PDF, with its state, its
/// signatures and the SHA-256 each side signed.
pub async fn agreement_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
) -> AppResult<Response> {
    let page = PageCtx::new(&state, &ctx, &format!("/agreements/{}", a.id));
    let signed = |t: Option<domain::clock::Timestamp>| {
        t.map(date_text)
            .unwrap_or_else(|| page.t("agreement.not_signed"))
    };
    let text = format!(
        "{}\n\n# {}\n\n{}：{}\n{}：{}\n{}：{}\nSHA-256：{}\n",
        a.text,
        page.t("agreement.signatures"),
        page.t("agreement.state"),
        page.t(&format!("agreement.state.{}", a.state.as_str())),
        page.t("agreement.applicant_signed"),
        signed(a.applicant_signed_at),
        page.t("agreement.provider_signed"),
        signed(a.provider_signed_at),
        a.sha256,
    );
    let title = format!("{} v{}", page.t("agreement.title"), a.version);
    let body = crate::pdf::document(&title, &text);
    let disposition = format!(
        "attachment; filename=\"agreement-{}-v{}.pdf\"",
        a.id, a.version
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// `POST /agreements/{agreement}/sign`: the password typed again; the page shows the
/// credential once when this signature issued it.
pub async fn sign_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    let result = app::agreements::sign(
        &state.app,
        &ctx.caller,
        a.clone(),
        v.get("password").to_owned(),
        v.get("sha256"),
    )
    .await;
    match result {
        Ok((signed, credential)) => {
            let shown = credential.map(|c| {
                (
                    c.secret,
                    c.record.expires_at.map(date_text).unwrap_or_default(),
                )
            });
            render_agreement(&state, &ctx, &signed, StatusCode::OK, shown, Vec::new()).await
        }
        Err(e) => {
            let page = PageCtx::new(&state, &ctx, "/agreements");
            let errors = match e.code {
                ErrorCode::ValidationFailed => messages(&page, AppError(e))?,
                code if code.http_status() == 409 => {
                    let message = page.t(&code.message_key());
                    return render_agreement(
                        &state,
                        &ctx,
                        &a,
                        StatusCode::CONFLICT,
                        None,
                        vec![("sha256".to_owned(), message)],
                    )
                    .await;
                }
                _ => return Err(AppError(e)),
            };
            render_agreement(
                &state,
                &ctx,
                &a,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                errors,
            )
            .await
        }
    }
}

/// The grants a provider may change on the page, when they may.
async fn revisable(
    state: &AppState,
    ctx: &Ctx,
    a: &AgreementRecord,
) -> Vec<(String, String, u64, String)> {
    let may = matches!(a.state, AgreementState::Active | AgreementState::Suspended)
        && ctx
            .authorize(Action::ReviseAgreement, Resource::Agreement(a.facts()))
            .is_ok();
    if !may {
        return Vec::new();
    }
    let mut out = Vec::new();
    for g in app::agreements::grants_of(a) {
        let name = state
            .store
            .dataset(&g.dataset.to_string())
            .await
            .map(|d| d.meta.name)
            .unwrap_or_default();
        out.push((
            g.dataset.to_string(),
            name,
            g.calls_per_day,
            g.period_end.to_string(),
        ));
    }
    out
}

/// The agreement's page again with the problems of a refused form next to it; any other
/// refusal as it is.
async fn agreement_refusal(
    state: &AppState,
    ctx: &Ctx,
    a: &AgreementRecord,
    e: app::Error,
) -> AppResult<Response> {
    if e.code != ErrorCode::ValidationFailed {
        return Err(AppError(e));
    }
    let page = PageCtx::new(state, ctx, "/agreements");
    let errors = messages(&page, AppError(e))?;
    render_agreement(
        state,
        ctx,
        a,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        errors,
    )
    .await
}

/// `POST /agreements/{agreement}/revise`: calls a day and the period's end per entry, and why;
/// the items and rows granted stay as they are.
pub async fn revise_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    let grants = app::agreements::grants_of(&a)
        .into_iter()
        .map(|g| {
            let id = g.dataset.to_string();
            app::access::GrantInput {
                dataset: g.dataset,
                items: Some(g.items),
                period_start: Some(g.period_start),
                period_end: NaiveDate::parse_from_str(
                    v.get(&format!("period_end.{id}")).trim(),
                    "%Y-%m-%d",
                )
                .ok()
                .or(Some(g.period_end)),
                calls_per_day: v
                    .get(&format!("calls.{id}"))
                    .trim()
                    .parse()
                    .ok()
                    .or(Some(g.calls_per_day)),
                rows: g.rows,
                delivery: Some(g.delivery),
                privacy_budget: g.privacy_budget.map(domain::access::Budget::epsilon),
            }
        })
        .collect();
    let input = app::agreements::RevisionInput {
        grants,
        reason: v.get("reason").to_owned(),
    };
    match app::agreements::revise(&state.app, &ctx.caller, &a, input).await {
        Ok(new) => Ok(Redirect::to(&format!("/agreements/{}", new.id)).into_response()),
        Err(e) => agreement_refusal(&state, &ctx, &a, e).await,
    }
}

/// `POST /agreements/{agreement}/offline-deliveries`: the file handed over gives its digest,
/// name and size; without a file, the digest typed in.
pub async fn offline_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    let file = form.files.into_iter().find(|f| f.field == "file");
    let upload = match file.map(|f| f.upload) {
        Some(Ok(u)) => Some(u),
        Some(Err(e)) => return Err(AppError(e)),
        None => None,
    };
    let input = app::agreements::OfflineInput {
        reason: v.get("reason").to_owned(),
        recipient: v.get("recipient").to_owned(),
        sha256: upload
            .as_ref()
            .map(|u| u.sha256.clone())
            .unwrap_or_else(|| v.get("sha256").to_owned()),
        file_name: upload.as_ref().map(|u| u.name.clone()),
        size: upload.as_ref().map(|u| u.size),
    };
    match app::agreements::file_offline(&state.app, &ctx.caller, &a, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/agreements/{}#offline", a.id)).into_response()),
        Err(e) => agreement_refusal(&state, &ctx, &a, e).await,
    }
}

/// Whether `d` is applied for from its page: conditional and on the open list.
pub fn applies(d: &DatasetRecord) -> bool {
    d.facts().is_public() && d.meta.open_type == OpenType::Conditional
}
