//! The annual review as a yearly cycle (A10.1) through the API: a provider's review of a year
//! with every entry it covers, its submission, and the operator's decision.

use std::collections::HashMap;

use app::review_cycles::{Decision, Step};
use axum::Json;
use axum::extract::{Extension, Path, State};
use chrono::NaiveDate;
use domain::openlist::review_cycle::CycleState;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::orgs::OrgRecord;

use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx};
use crate::error::{AppResult, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CycleNote {
    #[serde(default)]
    note: String,
}

/// The year in a path: a number, or no such review.
pub fn year(params: &HashMap<String, String>) -> AppResult<i32> {
    params
        .get("year")
        .and_then(|y| y.parse().ok())
        .ok_or_else(|| ErrorCode::NotFound.into())
}

/// A provider's annual review of one year (A10.1).
#[derive(Debug, Serialize, JsonSchema)]
pub struct CycleDoc {
    /// The provider's slug.
    pub organization: String,
    pub year: i32,
    pub state: CycleState,
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub entries_reviewed: usize,
    pub entries_total: usize,
    pub submitted_at: Option<Rfc3339>,
    pub decided_at: Option<Rfc3339>,
    /// The provider's note, or the operator's reason for giving it back.
    pub note: String,
    pub entries: Vec<CycleEntry>,
}

/// An entry the review covers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CycleEntry {
    pub id: String,
    pub name: String,
    pub status: String,
    pub open_type: String,
    /// Confirmed or changed in the review's year.
    pub reviewed: bool,
    pub last_reviewed_or_changed: Rfc3339,
}

pub fn cycle_json(org: &OrgRecord, v: &app::review_cycles::CycleView) -> CycleDoc {
    let record = v.record.as_ref();
    CycleDoc {
        organization: org.slug.clone(),
        year: v.year,
        state: v.state,
        due_on: v.due_on,
        overdue: v.overdue,
        entries_reviewed: v.reviewed,
        entries_total: v.entries.len(),
        submitted_at: Rfc3339::of(record.and_then(|r| r.submitted_at)),
        decided_at: Rfc3339::of(record.and_then(|r| r.decided_at)),
        note: record.map(|r| r.note.clone()).unwrap_or_default(),
        entries: v
            .entries
            .iter()
            .map(|e| CycleEntry {
                id: e.id.clone(),
                name: e.name.clone(),
                status: e.status.clone(),
                open_type: e.open_type.clone(),
                reviewed: e.reviewed,
                last_reviewed_or_changed: e.last_reviewed_or_changed.into(),
            })
            .collect(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path(params): Path<HashMap<String, String>>,
) -> AppResult<Json<CycleDoc>> {
    let v = app::review_cycles::cycle(&state.app, &ctx.caller, &org, year(&params)?).await?;
    Ok(Json(cycle_json(&org, &v)))
}

async fn answer(state: &AppState, ctx: &Ctx, org: &OrgRecord, y: i32) -> AppResult<Json<CycleDoc>> {
    let v = app::review_cycles::cycle(&state.app, &ctx.caller, org, y).await?;
    Ok(Json(cycle_json(org, &v)))
}

async fn step(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    params: &HashMap<String, String>,
    note: &str,
    step: Step,
) -> AppResult<Json<CycleDoc>> {
    let y = year(params)?;
    app::review_cycles::take_step(&state.app, &ctx.caller, org, y, step, note).await?;
    answer(state, ctx, org, y).await
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path(params): Path<HashMap<String, String>>,
    ApiJson(input): ApiJson<CycleNote>,
) -> AppResult<Json<CycleDoc>> {
    step(&state, &ctx, &org, &params, &input.note, Step::Submit).await
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path(params): Path<HashMap<String, String>>,
    ApiJson(input): ApiJson<CycleNote>,
) -> AppResult<Json<CycleDoc>> {
    let accept = Step::Decide(Decision::Accept);
    step(&state, &ctx, &org, &params, &input.note, accept).await
}

pub async fn give_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path(params): Path<HashMap<String, String>>,
    ApiJson(input): ApiJson<CycleNote>,
) -> AppResult<Json<CycleDoc>> {
    let give_back = Step::Decide(Decision::GiveBack);
    step(&state, &ctx, &org, &params, &input.note, give_back).await
}
