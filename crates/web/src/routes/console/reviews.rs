//! The annual review (A10.1) in the console: a provider's review of a year — every entry on
//! its list, those still to confirm or change, and the year's submission — and the operator's
//! decision on it.

use std::collections::HashMap;

use app::review_cycles::{Decision, Step};
use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::openlist::review_cycle::{CycleState, year_of};
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;

use crate::ctx::{Ctx, FormPost, Params};
use crate::error::{AppResult, ErrorCode, FieldError};
use crate::labels::Labels;
use crate::page::PageCtx;
use crate::page::html;
use crate::state::AppState;

use super::{date, message};

pub struct PendingRow {
    id: String,
    name: String,
    status: String,
    last: String,
}

#[derive(Template)]
#[template(path = "console/reviews.html")]
struct ReviewsPage<'a> {
    page: PageCtx<'a>,
    org: String,
    slug: String,
    year: i32,
    other_year: Option<i32>,
    state: String,
    state_code: String,
    due_on: String,
    overdue: bool,
    reviewed: usize,
    total: usize,
    /// The operator's words when the review was given back or accepted.
    note: String,
    submitted_at: String,
    decided_at: String,
    pending: Vec<PendingRow>,
    can_edit: bool,
    can_submit: bool,
    can_decide: bool,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    #[serde(default)]
    year: Option<i32>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    year: Option<i32>,
    status: StatusCode,
    errors: &[FieldError],
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let this_year = year_of(state.clock.now());
    let year = year.unwrap_or(this_year);
    let v = app::review_cycles::cycle(&state.app, &ctx.caller, org, year).await?;
    let pctx = PageCtx::new(state, ctx, &format!("/console/orgs/{}/reviews", org.slug));
    let can_edit = ctx
        .authorize(Action::EditOpenList, Resource::Organization(org.id))
        .is_ok();
    let record = v.record.as_ref();
    let view = ReviewsPage {
        org: labels.org(&org.slug),
        slug: org.slug.clone(),
        year: v.year,
        // The other year there is a review of, if any.
        other_year: if v.year < this_year {
            Some(this_year)
        } else {
            Some(this_year - 1).filter(|y| *y >= app::review_cycles::first_year(org))
        },
        state: pctx.t(&format!("cycle.state_{}", v.state.as_str())),
        state_code: v.state.as_str().to_owned(),
        due_on: v.due_on.to_string(),
        overdue: v.overdue,
        reviewed: v.reviewed,
        total: v.entries.len(),
        note: record
            .filter(|r| r.decided_at.is_some())
            .map(|r| r.note.clone())
            .unwrap_or_default(),
        submitted_at: record
            .and_then(|r| r.submitted_at)
            .map(date)
            .unwrap_or_default(),
        decided_at: record
            .and_then(|r| r.decided_at)
            .map(date)
            .unwrap_or_default(),
        pending: v
            .entries
            .iter()
            .filter(|e| !e.reviewed)
            .map(|e| PendingRow {
                id: e.id.clone(),
                name: e.name.clone(),
                status: labels.named("status", &e.status),
                last: date(e.last_reviewed_or_changed),
            })
            .collect(),
        can_edit,
        can_submit: can_edit && v.state == CycleState::Open,
        can_decide: v.state == CycleState::Submitted
            && ctx
                .authorize(Action::ReviewTickets, Resource::Organization(org.id))
                .is_ok(),
        errors: errors.iter().map(|e| message(state, ctx.lang, e)).collect(),
        page: pctx,
    };
    html(status, view)
}

/// A provider's annual review of a year (this year unless `year` says otherwise).
pub async fn reviews(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<YearQuery>,
) -> AppResult<Response> {
    page(&state, &ctx, &org, q.year, StatusCode::OK, &[]).await
}

/// Confirms an entry unchanged for this year's review.
pub async fn review_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let note = form.values.get("note").to_owned();
    app::catalogue::mark_reviewed(&state.app, &ctx.caller, &d, &note).await?;
    Ok(Redirect::to(&format!("/console/orgs/{}/reviews", org.slug)).into_response())
}

pub async fn submit_cycle(
    state: State<AppState>,
    ctx: Ctx,
    org: Extension<OrgRecord>,
    params: Path<HashMap<String, String>>,
    form: FormPost,
) -> AppResult<Response> {
    cycle_step(state, ctx, org, params, form, Step::Submit).await
}

pub async fn accept_cycle(
    state: State<AppState>,
    ctx: Ctx,
    org: Extension<OrgRecord>,
    params: Path<HashMap<String, String>>,
    form: FormPost,
) -> AppResult<Response> {
    cycle_step(
        state,
        ctx,
        org,
        params,
        form,
        Step::Decide(Decision::Accept),
    )
    .await
}

pub async fn return_cycle(
    state: State<AppState>,
    ctx: Ctx,
    org: Extension<OrgRecord>,
    params: Path<HashMap<String, String>>,
    form: FormPost,
) -> AppResult<Response> {
    cycle_step(
        state,
        ctx,
        org,
        params,
        form,
        Step::Decide(Decision::GiveBack),
    )
    .await
}

async fn cycle_step(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path(params): Path<HashMap<String, String>>,
    form: FormPost,
    step: Step,
) -> AppResult<Response> {
    let year = crate::routes::api_reviews::year(&params)?;
    let note = form.values.get("note").to_owned();
    match app::review_cycles::take_step(&state.app, &ctx.caller, &org, year, step, &note).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/console/orgs/{}/reviews?year={year}", org.slug))
                .into_response(),
        ),
        Err(e) if e.code == ErrorCode::ValidationFailed => {
            page(
                &state,
                &ctx,
                &org,
                Some(year),
                StatusCode::UNPROCESSABLE_ENTITY,
                &e.fields,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct DeskRow {
    org: String,
    slug: String,
    state: String,
    state_code: String,
    progress: String,
    last_year: String,
    last_year_overdue: bool,
}

#[derive(Template)]
#[template(path = "console/review_cycles.html")]
struct DeskPage<'a> {
    page: PageCtx<'a>,
    year: i32,
    rows: Vec<DeskRow>,
}

/// The operator's view of every provider's annual review: this year's state and progress,
/// and whether last year's is still outstanding. Submitted reviews come first.
pub async fn desk(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let labels = Labels::load(&state, ctx.lang).await?;
    let pctx = PageCtx::new(&state, &ctx, "/console/review-cycles");
    let year = year_of(state.clock.now());
    let mut rows = Vec::new();
    for org in state.store.list_orgs().await? {
        if org.kind == domain::roles::OrgKind::Operator {
            continue;
        }
        let now = app::review_cycles::cycle(&state.app, &ctx.caller, &org, year).await?;
        // An organization that joined this year has no review of last year.
        let last = if app::review_cycles::first_year(&org) < year {
            Some(app::review_cycles::cycle(&state.app, &ctx.caller, &org, year - 1).await?)
        } else {
            None
        };
        rows.push(DeskRow {
            org: labels.org(&org.slug),
            slug: org.slug.clone(),
            state: pctx.t(&format!("cycle.state_{}", now.state.as_str())),
            state_code: now.state.as_str().to_owned(),
            progress: format!("{} / {}", now.reviewed, now.entries.len()),
            last_year: last.as_ref().map_or_else(
                || pctx.t("cycle.not_applicable"),
                |l| pctx.t(&format!("cycle.state_{}", l.state.as_str())),
            ),
            last_year_overdue: last.is_some_and(|l| l.overdue),
        });
    }
    rows.sort_by_key(|r| {
        (
            r.state_code != "submitted",
            !r.last_year_overdue,
            r.slug.clone(),
        )
    });
    html(
        StatusCode::OK,
        DeskPage {
            page: pctx,
            year,
            rows,
        },
    )
}
