//! `/api/v1` for open-list change tickets (A11).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::openlist::ticket::TicketState;
use serde::Deserialize;
use serde_json::{Value, json};
use store::attachments::Owner;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;
use store::paging::Paged;
use store::tickets::TicketRecord;

use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use app::tickets::{self, ResubmitInput, ReturnInput, TicketInput};

async fn ticket_json(state: &AppState, t: &TicketRecord) -> AppResult<Value> {
    let d = state.store.dataset(&t.dataset_id.to_string()).await?;
    Ok(json!({
        "id": t.id,
        "dataset": { "id": d.id, "name": d.meta.name, "status": d.status, "version": d.published_version },
        "organization": t.org_id,
        "kind": t.kind,
        "state": t.state,
        "reason": t.reason,
        "proposed": t.proposed,
        "base_version": t.base_version,
        "changes": tickets::changes(t, &d),
        "history": state.store.ticket_events(t.id).await?.iter().map(|e| json!({
            "seq": e.seq, "at": e.at.to_rfc3339(), "actor": e.actor_id, "event": e.event,
            "reasons": e.reasons, "text": e.text,
        })).collect::<Vec<_>>(),
        "attachments": state.store.attachments(Owner::Ticket(t.id)).await?.iter().map(|a| json!({
            "id": a.id, "name": a.name, "media_type": a.media_type, "size": a.size, "sha256": a.sha256,
            "url": format!("/api/v1/tickets/{}/attachments/{}", t.id, a.id),
        })).collect::<Vec<_>>(),
        "created_by": t.created_by,
        "created_at": t.created_at.to_rfc3339(),
        "updated_at": t.updated_at.to_rfc3339(),
    }))
}

async fn list_json(state: &AppState, list: Paged<TicketRecord>) -> AppResult<Json<Value>> {
    let mut out = Vec::with_capacity(list.items.len());
    for t in &list.items {
        out.push(ticket_json(state, t).await?);
    }
    Ok(Json(
        json!({ "tickets": out, "next": crate::paging::next(&list.next) }),
    ))
}

#[derive(Deserialize)]
pub struct StateFilter {
    state: Option<String>,
    limit: Option<i64>,
    after: Option<String>,
}

impl StateFilter {
    fn page(&self) -> AppResult<store::paging::Page> {
        crate::paging::requested(self.limit, self.after.as_deref())
    }
}

fn state_filter(q: &StateFilter) -> AppResult<Option<TicketState>> {
    q.state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<TicketState>()
                .map_err(|_| AppError::field("state", "invalid_status"))
        })
        .transpose()
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    ApiJson(input): ApiJson<TicketInput>,
) -> AppResult<Response> {
    let t = tickets::submit(&state.app, &ctx.caller, &d, &org, input).await?;
    Ok((StatusCode::CREATED, Json(ticket_json(&state, &t).await?)).into_response())
}

pub async fn of_dataset(
    State(state): State<AppState>,
    Extension(d): Extension<DatasetRecord>,
    Params(q): Params<StateFilter>,
) -> AppResult<Json<Value>> {
    let list = state
        .store
        .tickets(None, Some(d.id), state_filter(&q)?, &q.page()?)
        .await?;
    list_json(&state, list).await
}

pub async fn of_org(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<StateFilter>,
) -> AppResult<Json<Value>> {
    let list = state
        .store
        .tickets(Some(org.id), None, state_filter(&q)?, &q.page()?)
        .await?;
    list_json(&state, list).await
}

/// The operator's queue: every ticket, by default those waiting for a decision.
pub async fn queue(
    State(state): State<AppState>,
    Params(q): Params<StateFilter>,
) -> AppResult<Json<Value>> {
    let filter = match q.state.as_deref() {
        None => Some(TicketState::Submitted),
        Some("all") => None,
        Some(_) => state_filter(&q)?,
    };
    let list = state.store.tickets(None, None, filter, &q.page()?).await?;
    list_json(&state, list).await
}

pub async fn show(
    State(state): State<AppState>,
    Extension(t): Extension<TicketRecord>,
) -> AppResult<Json<Value>> {
    Ok(Json(ticket_json(&state, &t).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    #[serde(default)]
    text: String,
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    ApiJson(input): ApiJson<AcceptInput>,
) -> AppResult<Json<Value>> {
    let t = tickets::accept(&state.app, &ctx.caller, t, input.text.trim()).await?;
    crate::indexer::refresh(&state).await;
    Ok(Json(ticket_json(&state, &t).await?))
}

pub async fn give_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    ApiJson(input): ApiJson<ReturnInput>,
) -> AppResult<Json<Value>> {
    let t = tickets::give_back(&state.app, &ctx.caller, t, input).await?;
    Ok(Json(ticket_json(&state, &t).await?))
}

pub async fn resubmit(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    ApiJson(input): ApiJson<ResubmitInput>,
) -> AppResult<Json<Value>> {
    let t = tickets::resubmit(&state.app, &ctx.caller, t, input).await?;
    Ok(Json(ticket_json(&state, &t).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
) -> AppResult<Json<Value>> {
    let t = tickets::cancel(&state.app, &ctx.caller, t).await?;
    Ok(Json(ticket_json(&state, &t).await?))
}

pub async fn attachment(
    State(state): State<AppState>,
    Extension(t): Extension<TicketRecord>,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let info = state.store.attachment(Owner::Ticket(t.id), &id).await?;
    let content = state
        .app
        .blobs
        .get(&info.sha256)
        .await
        .map_err(store::StoreError::from)?;
    crate::render::download(info, content)
}
