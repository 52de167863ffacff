//! The annual review as a yearly cycle (A10.1) through the API: a provider's review of a year
//! with every entry it covers, its submission, and the operator's decision.

use std::collections::HashMap;

use app::review_cycles::{Decision, Step};
use axum::Json;
use axum::extract::{Extension, Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use store::orgs::OrgRecord;

use crate::ctx::{ApiJson, Ctx};
use crate::error::{AppResult, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
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

pub fn cycle_json(org: &OrgRecord, v: &app::review_cycles::CycleView) -> Value {
    json!({
        "organization": org.slug,
        "year": v.year,
        "state": v.state,
        "due_on": v.due_on.to_string(),
        "overdue": v.overdue,
        "entries_reviewed": v.reviewed,
        "entries_total": v.entries.len(),
        "submitted_at": v.record.as_ref().and_then(|r| r.submitted_at).map(|t| t.to_rfc3339()),
        "decided_at": v.record.as_ref().and_then(|r| r.decided_at).map(|t| t.to_rfc3339()),
        "note": v.record.as_ref().map(|r| r.note.clone()).unwrap_or_default(),
        "entries": v.entries.iter().map(|e| json!({
            "id": e.id, "name": e.name, "status": e.status, "open_type": e.open_type,
            "reviewed": e.reviewed,
            "last_reviewed_or_changed": e.last_reviewed_or_changed.to_rfc3339(),
        })).collect::<Vec<_>>(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path(params): Path<HashMap<String, String>>,
) -> AppResult<Json<Value>> {
    let v = app::review_cycles::cycle(&state.app, &ctx.caller, &org, year(&params)?).await?;
    Ok(Json(cycle_json(&org, &v)))
}

async fn answer(state: &AppState, ctx: &Ctx, org: &OrgRecord, y: i32) -> AppResult<Json<Value>> {
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
) -> AppResult<Json<Value>> {
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
) -> AppResult<Json<Value>> {
    step(&state, &ctx, &org, &params, &input.note, Step::Submit).await
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path(params): Path<HashMap<String, String>>,
    ApiJson(input): ApiJson<CycleNote>,
) -> AppResult<Json<Value>> {
    let accept = Step::Decide(Decision::Accept);
    step(&state, &ctx, &org, &params, &input.note, accept).await
}

pub async fn give_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path(params): Path<HashMap<String, String>>,
    ApiJson(input): ApiJson<CycleNote>,
) -> AppResult<Json<Value>> {
    let give_back = Step::Decide(Decision::GiveBack);
    step(&state, &ctx, &org, &params, &input.note, give_back).await
}
