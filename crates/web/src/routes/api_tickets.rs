//! `/api/v1` for open-list change tickets (A11).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::ids::{DatasetId, OrgId, TicketId};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::diff::Change;
use domain::openlist::ticket::{ReturnReason, TicketKind, TicketState};
use domain::openlist::vocab::DatasetStatus;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::attachments::Owner;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;
use store::paging::Paged;
use store::tickets::{TicketFilter, TicketRecord};

use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult, FieldError};
use crate::paging::Next;
use crate::state::AppState;
use app::tickets::{self, ResubmitInput, ReturnInput, TicketInput};

/// An open-list change ticket (A11) with its diff, history and attachments.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketView {
    pub id: TicketId,
    pub dataset: TicketDataset,
    pub organization: OrgId,
    pub kind: TicketKind,
    pub state: TicketState,
    /// Why the provider asks for the change.
    pub reason: String,
    /// The metadata proposed; none for a withdrawal.
    pub proposed: Option<DatasetMeta>,
    /// The published version the proposal was made from.
    pub base_version: Option<i64>,
    pub changes: Vec<Change>,
    pub history: Vec<TicketStep>,
    pub attachments: Vec<AttachmentView>,
    pub created_by: String,
    pub created_at: Rfc3339,
    pub updated_at: Rfc3339,
}

/// The entry a ticket is about, as it stands.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketDataset {
    pub id: DatasetId,
    pub name: String,
    pub status: DatasetStatus,
    pub version: Option<i64>,
}

/// One step of a ticket's history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketStep {
    pub seq: i64,
    pub at: Rfc3339,
    pub actor: String,
    pub event: String,
    pub reasons: Vec<ReturnReason>,
    pub text: String,
}

/// A file attached to a ticket.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AttachmentView {
    pub id: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    /// Where to download it.
    pub url: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketList {
    pub tickets: Vec<TicketView>,
    pub next: Next,
}

async fn ticket_json(state: &AppState, t: &TicketRecord) -> AppResult<TicketView> {
    let d = state.store.dataset(&t.dataset_id.to_string()).await?;
    let history = state.store.ticket_events(t.id).await?;
    let attachments = state.store.attachments(Owner::Ticket(t.id)).await?;
    Ok(TicketView {
        id: t.id,
        dataset: TicketDataset {
            id: d.id,
            name: d.meta.name.clone(),
            status: d.status,
            version: d.published_version,
        },
        organization: t.org_id,
        kind: t.kind,
        state: t.state,
        reason: t.reason.clone(),
        proposed: t.proposed.clone(),
        base_version: t.base_version,
        changes: tickets::changes(&state.app, t).await?,
        history: history
            .into_iter()
            .map(|e| TicketStep {
                seq: e.seq,
                at: e.at.into(),
                actor: e.actor_id,
                event: e.event,
                reasons: e.reasons,
                text: e.text,
            })
            .collect(),
        attachments: attachments
            .into_iter()
            .map(|a| AttachmentView {
                url: format!("/api/v1/tickets/{}/attachments/{}", t.id, a.id),
                id: a.id,
                name: a.name,
                media_type: a.media_type,
                size: a.size,
                sha256: a.sha256,
            })
            .collect(),
        created_by: t.created_by.clone(),
        created_at: t.created_at.into(),
        updated_at: t.updated_at.into(),
    })
}

async fn list_json(state: &AppState, list: Paged<TicketRecord>) -> AppResult<Json<TicketList>> {
    let mut tickets = Vec::with_capacity(list.items.len());
    for t in &list.items {
        tickets.push(ticket_json(state, t).await?);
    }
    Ok(Json(TicketList {
        tickets,
        next: Next::of(&list.next),
    }))
}

#[derive(Deserialize, JsonSchema)]
pub struct StateFilter {
    /// Only tickets in this state. The operator's queue shows `submitted` ones unless told
    /// otherwise, and every ticket with `all`.
    state: Option<String>,
    /// Only tickets of this kind.
    #[schemars(with = "Option<TicketKind>")]
    kind: Option<String>,
    /// The operator's queue only: one provider's tickets (its slug).
    provider: Option<String>,
    /// Tickets per page, 1 to 1000 (more is clamped); 100 when not given.
    limit: Option<i64>,
    /// The `next` cursor of the page before.
    after: Option<String>,
}

impl StateFilter {
    fn page(&self) -> AppResult<store::paging::Page> {
        crate::paging::requested(self.limit, self.after.as_deref())
    }

    /// The state and kind asked for; every wrong one named at once.
    fn filter(&self) -> AppResult<TicketFilter> {
        let state = match self
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "all")
        {
            None => Ok(None),
            Some(s) => s.parse::<TicketState>().map(Some).map_err(|_| "state"),
        };
        let kind = match self.kind.as_deref().filter(|k| !k.is_empty()) {
            None => Ok(None),
            Some(k) => k.parse::<TicketKind>().map(Some).map_err(|_| "kind"),
        };
        match (state, kind) {
            (Ok(state), Ok(kind)) => Ok(TicketFilter {
                state,
                kind,
                ..Default::default()
            }),
            (state, kind) => Err(AppError::invalid(
                [state.err(), kind.err()]
                    .into_iter()
                    .flatten()
                    .map(|field| FieldError::new(field, "invalid_status"))
                    .collect(),
            )),
        }
    }
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
) -> AppResult<Json<TicketList>> {
    let list = state
        .store
        .tickets(
            &TicketFilter {
                dataset: Some(d.id),
                ..q.filter()?
            },
            &q.page()?,
        )
        .await?;
    list_json(&state, list).await
}

pub async fn of_org(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<StateFilter>,
) -> AppResult<Json<TicketList>> {
    let list = state
        .store
        .tickets(
            &TicketFilter {
                org: Some(org.id),
                ..q.filter()?
            },
            &q.page()?,
        )
        .await?;
    list_json(&state, list).await
}

/// The operator's queue: every ticket, by default those waiting for a decision, oldest first;
/// `provider` narrows it to one organization.
pub async fn queue(
    State(state): State<AppState>,
    Params(q): Params<StateFilter>,
) -> AppResult<Json<TicketList>> {
    let mut filter = q.filter()?;
    match q.state.as_deref() {
        None => filter.state = Some(TicketState::Submitted),
        Some("all") => filter.state = None,
        Some(_) => {}
    }
    if let Some(slug) = q.provider.as_deref().filter(|p| !p.is_empty()) {
        filter.org = Some(match state.store.org(slug).await {
            Ok(org) => org.id,
            Err(store::StoreError::NotFound) => {
                return Err(AppError::field("provider", "unknown_provider"));
            }
            Err(e) => return Err(e.into()),
        });
    }
    let list = state.store.tickets(&filter, &q.page()?).await?;
    list_json(&state, list).await
}

pub async fn show(
    State(state): State<AppState>,
    Extension(t): Extension<TicketRecord>,
) -> AppResult<Json<TicketView>> {
    Ok(Json(ticket_json(&state, &t).await?))
}

#[derive(Deserialize, Default, JsonSchema)]
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
) -> AppResult<Json<TicketView>> {
    let t = tickets::accept(&state.app, &ctx.caller, t, input.text.trim()).await?;
    crate::indexer::refresh(&state).await;
    Ok(Json(ticket_json(&state, &t).await?))
}

pub async fn give_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    ApiJson(input): ApiJson<ReturnInput>,
) -> AppResult<Json<TicketView>> {
    let t = tickets::give_back(&state.app, &ctx.caller, t, input).await?;
    Ok(Json(ticket_json(&state, &t).await?))
}

pub async fn resubmit(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    ApiJson(input): ApiJson<ResubmitInput>,
) -> AppResult<Json<TicketView>> {
    let t = tickets::resubmit(&state.app, &ctx.caller, t, input).await?;
    Ok(Json(ticket_json(&state, &t).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
) -> AppResult<Json<TicketView>> {
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
