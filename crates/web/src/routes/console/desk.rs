//! The ticket desk: the operator's queue, a ticket with its diff and history, accepting,
//! returning with the A11.3 reasons, and the provider's resubmission.

use askama::Template;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::openlist::ticket::{ReturnReason, TicketKind, TicketState};
use domain::openlist::vocab::DatasetStatus;
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::tickets::{TicketFilter, TicketRecord};

use crate::changes::{ChangeReader, ChangeRow};
use crate::ctx::{Ctx, FormPost, Params};
use crate::error::{AppResult, FieldError};
use crate::labels::Labels;
use crate::page::{Choice, PageCtx, html};
use crate::state::AppState;
use app::tickets::{self, ResubmitInput, ReturnInput};

use super::{TicketRow, message, ticket_rows};

/// Tickets listed per page of the queue.
const QUEUE_PER_PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage<'a> {
    page: PageCtx<'a>,
    /// Tickets the filters let through, in all; this page shows the oldest after the cursor.
    total: i64,
    tickets: Vec<TicketRow>,
    next_page: Option<String>,
    providers: Vec<Choice>,
    kinds: Vec<Choice>,
    states: Vec<Choice>,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    /// `submitted` when not given; empty for every state.
    #[serde(default)]
    state: Option<String>,
}

/// The operator's queue: tickets waiting for a decision, oldest first, a page at a time;
/// narrowed by provider, kind and state.
pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<QueueQuery>,
) -> AppResult<Response> {
    let labels = Labels::load(&state, ctx.lang).await?;
    let orgs = state.store.list_orgs().await?;
    let chosen = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let (provider, kind) = (chosen(&q.provider), chosen(&q.kind));
    let ticket_state = q.state.clone().unwrap_or_else(|| "submitted".into());
    let filter = TicketFilter {
        org: provider
            .as_ref()
            .and_then(|slug| orgs.iter().find(|o| &o.slug == slug))
            .map(|o| o.id),
        kind: kind.as_deref().and_then(|k| k.parse().ok()),
        state: ticket_state.parse().ok(),
        ..Default::default()
    };
    let page = crate::paging::requested(Some(QUEUE_PER_PAGE), q.after.as_deref())?;
    // A provider that does not exist (an old link) has no tickets.
    let unknown_provider = provider.is_some() && filter.org.is_none();
    let (list, total) = match unknown_provider {
        true => (
            store::paging::Paged {
                items: Vec::new(),
                next: None,
            },
            0,
        ),
        false => (
            state.store.tickets(&filter, &page).await?,
            state.store.count_matching_tickets(&filter).await?,
        ),
    };
    let query = |after: &str| {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("provider", &provider), ("kind", &kind)] {
            if let Some(v) = v {
                pairs.append_pair(k, v);
            }
        }
        pairs.append_pair("state", &ticket_state);
        pairs.append_pair("after", after);
        format!("/console/tickets?{}", pairs.finish())
    };
    let choice = |value: &str, label: String, current: Option<&str>| Choice {
        selected: current == Some(value),
        value: value.to_owned(),
        label,
    };
    let pctx = PageCtx::new(&state, &ctx, "/console/tickets");
    let mut providers = vec![choice(
        "",
        pctx.t("console.all_providers"),
        provider.as_deref().or(Some("")),
    )];
    providers.extend(
        orgs.iter()
            .filter(|o| o.kind != domain::roles::OrgKind::Operator)
            .map(|o| choice(&o.slug, labels.org(&o.slug), provider.as_deref())),
    );
    let mut kinds = vec![choice(
        "",
        pctx.t("console.all_kinds"),
        kind.as_deref().or(Some("")),
    )];
    kinds.extend(TicketKind::ALL.iter().map(|k| {
        choice(
            k.as_str(),
            labels.named("ticket_kind", k.as_str()),
            kind.as_deref(),
        )
    }));
    let mut states = vec![choice(
        "",
        pctx.t("console.all_states"),
        Some(ticket_state.as_str()),
    )];
    states.extend(TicketState::ALL.iter().map(|s| {
        choice(
            s.as_str(),
            labels.named("ticket_state", s.as_str()),
            Some(ticket_state.as_str()),
        )
    }));
    let view = QueuePage {
        total,
        next_page: list.next.as_ref().map(|c| query(&c.to_string())),
        tickets: ticket_rows(&state, &labels, list.items).await?,
        providers,
        kinds,
        states,
        page: pctx,
    };
    html(StatusCode::OK, view)
}

pub struct EventRow {
    at: String,
    event: String,
    reasons: Vec<String>,
    text: String,
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage<'a> {
    page: PageCtx<'a>,
    id: String,
    dataset: String,
    dataset_href: String,
    org: String,
    kind: String,
    state: String,
    state_code: String,
    reason: String,
    changes: Vec<ChangeRow>,
    /// A new entry: its fields read as a summary (field: value), not as changes from nothing.
    proposal: bool,
    events: Vec<EventRow>,
    can_review: bool,
    can_resubmit: bool,
    reasons: Vec<(String, String, bool)>,
    errors: Vec<String>,
    return_text: String,
}

async fn ticket_page(
    state: &AppState,
    ctx: &Ctx,
    t: &TicketRecord,
    status: StatusCode,
    errors: &[FieldError],
    chosen: &[String],
    return_text: &str,
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let d = state.store.dataset(&t.dataset_id.to_string()).await?;
    let org = state.store.org(&t.org_id.to_string()).await?;
    let pctx = PageCtx::new(state, ctx, &format!("/console/tickets/{}", t.id));
    let (_, guide) = state.store.current_guide().await?;
    let reader = ChangeReader {
        page: &pctx,
        labels: &labels,
        guide: &guide,
    };
    let changes = tickets::changes(&state.app, t)
        .await?
        .iter()
        .map(|c| reader.row(c))
        .collect();
    let events = state
        .store
        .ticket_events(t.id)
        .await?
        .into_iter()
        .map(|e| EventRow {
            at: e.at.to_cst().format("%Y-%m-%d %H:%M").to_string(),
            event: labels.named("ticket_event", &e.event),
            reasons: e
                .reasons
                .iter()
                .map(|r| labels.named("return_reason", r.as_str()))
                .collect(),
            text: e.text,
        })
        .collect();
    let on_ticket = Resource::Ticket(t.facts());
    let view = TicketPage {
        id: t.id.to_string(),
        dataset: t
            .proposed
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| d.meta.name.clone()),
        dataset_href: format!("/console/datasets/{}/edit", d.id),
        org: labels.org(&org.slug),
        kind: labels.named("ticket_kind", t.kind.as_str()),
        state: labels.named("ticket_state", t.state.as_str()),
        state_code: t.state.as_str().to_owned(),
        reason: t.reason.clone(),
        changes,
        proposal: t.kind == TicketKind::Add,
        events,
        can_review: t.state == TicketState::Submitted
            && ctx.authorize(Action::ReviewTickets, on_ticket).is_ok(),
        can_resubmit: t.state == TicketState::Returned
            && ctx.authorize(Action::EditOpenList, on_ticket).is_ok(),
        reasons: ReturnReason::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str().to_owned(),
                    labels.named("return_reason", r.as_str()),
                    chosen.iter().any(|c| c == r.as_str()),
                )
            })
            .collect(),
        errors: errors.iter().map(|e| message(state, ctx.lang, e)).collect(),
        return_text: return_text.to_owned(),
        page: pctx,
    };
    html(status, view)
}

pub async fn show_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
) -> AppResult<Response> {
    ticket_page(&state, &ctx, &t, StatusCode::OK, &[], &[], "").await
}

pub async fn accept_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let t = tickets::accept(&state.app, &ctx.caller, t, values.get("text")).await?;
    crate::indexer::refresh(&state).await;
    Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response())
}

/// Returns a ticket with the reasons of A11.3 ticked; without one, the page says so and keeps
/// what was typed.
pub async fn return_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let reasons: Vec<String> = values
        .all("reasons")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let text = values.get("text").to_owned();
    let input = ReturnInput {
        reasons: reasons.clone(),
        text: text.clone(),
    };
    match tickets::give_back(&state.app, &ctx.caller, t.clone(), input).await {
        Ok(t) => Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            ticket_page(
                &state,
                &ctx,
                &t,
                StatusCode::UNPROCESSABLE_ENTITY,
                &errors,
                &reasons,
                &text,
            )
            .await
        }
    }
}

/// Sends a returned ticket again. For a new entry the proposal is the draft as it is now, with
/// the provider's corrections.
pub async fn resubmit_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let d = state.store.dataset(&t.dataset_id.to_string()).await?;
    let proposed =
        (t.kind == TicketKind::Add && d.status == DatasetStatus::Draft).then(|| d.meta.clone());
    let reason = Some(values.get("reason").trim().to_owned()).filter(|r| !r.is_empty());
    let input = ResubmitInput {
        reason,
        proposed,
        attachments: Vec::new(),
    };
    match tickets::resubmit(&state.app, &ctx.caller, t.clone(), input).await {
        Ok(t) => Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            ticket_page(
                &state,
                &ctx,
                &t,
                StatusCode::UNPROCESSABLE_ENTITY,
                &errors,
                &[],
                "",
            )
            .await
        }
    }
}
