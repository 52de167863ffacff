//! Open-list change tickets (A11): submitting, reviewing and applying changes to the open list.
//! Every step is one transaction with its history event and its audit record.

use domain::ids::TicketId;
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::diff::{Change, meta_changes};
use domain::openlist::ticket::{
    Reasons, ReturnReason, TicketKind, TicketState, classify_change, needs_document,
};
use domain::openlist::vocab::{DatasetStatus, OpenType};
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::attachments::{self, NewAttachment, Owner};
use store::datasets::{self, DatasetRecord};
use store::orgs::OrgRecord;
use store::tickets::{self, TicketRecord};

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::openlist::{check_for_publish, check_for_save};

/// A file to attach: an upload the caller made (`POST /api/v1/uploads`), by its id. Its
/// name, kind and size are the upload's.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    pub upload: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketInput {
    pub kind: TicketKind,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub proposed: Option<DatasetMeta>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResubmitInput {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub proposed: Option<DatasetMeta>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub text: String,
}

/// The most files one request may attach.
const MAX_ATTACHMENTS: usize = 20;

/// Checks the attachments asked for, before anything is written: each names an upload, none
/// twice, and not too many.
pub(crate) fn check_attachments(input: &[AttachmentInput]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.len() > MAX_ATTACHMENTS {
        errors.push(FieldError::new("attachments", "too_many"));
    }
    for (i, a) in input.iter().enumerate() {
        let field = format!("attachments[{i}].upload");
        if a.upload.trim().is_empty() {
            errors.push(FieldError::new(field, "required"));
        } else if a.upload.len() > 64 {
            errors.push(FieldError::new(field, "not_found"));
        } else if input[..i].iter().any(|b| b.upload == a.upload) {
            errors.push(FieldError::new(field, "duplicate"));
        }
    }
    errors
}

/// In the transaction that attaches them: takes the caller's uploads named by `input` (each
/// is consumed). An upload that is not the caller's, used already or expired is `not_found`,
/// and the transaction, dropped, changes nothing.
pub(crate) async fn take_uploads(
    tx: &mut store::WriteTx,
    caller: &Caller,
    input: &[AttachmentInput],
    now: domain::clock::Timestamp,
) -> Result<Vec<NewAttachment>> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let owner = caller.user()?.id;
    let not_before = crate::uploads::attachable_after(now);
    let mut files = Vec::with_capacity(input.len());
    let mut errors = Vec::new();
    for (i, a) in input.iter().enumerate() {
        match store::uploads::take(tx, a.upload.trim(), owner, not_before).await? {
            Some(u) => files.push(NewAttachment {
                name: u.name,
                media_type: u.media_type,
                size: u.size,
                sha256: u.sha256,
            }),
            None => errors.push(FieldError::new(
                format!("attachments[{i}].upload"),
                "not_found",
            )),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(Error::invalid(errors))
    }
}

/// What a proposal is checked for, before it is submitted and again before it is applied.
async fn check_proposal(
    app: &App,
    org: &OrgRecord,
    d: &DatasetRecord,
    kind: TicketKind,
    proposed: Option<&DatasetMeta>,
    reason: &str,
    attachments: usize,
) -> Result<TicketKind> {
    if d.status.accepts(kind).is_err() {
        return Err(ErrorCode::WrongStatus.into());
    }
    let mut errors = Vec::new();
    if reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "required"));
    }
    errors.extend(FieldError::text(
        "reason",
        reason.trim(),
        domain::bounded::TEXT,
    ));
    let kind = match (kind, proposed) {
        (TicketKind::Remove, _) => TicketKind::Remove,
        (_, None) => {
            errors.push(FieldError::new("proposed", "required"));
            kind
        }
        (kind, Some(meta)) => {
            if let Err(e) = check_for_save(app, org, meta, Some(&d.id.to_string())).await {
                errors.extend(e.fields);
            }
            errors.extend(
                check_for_publish(app, d, meta)
                    .await?
                    .into_iter()
                    .map(FieldError::from),
            );
            if kind != TicketKind::Add && meta == &d.meta {
                errors.push(FieldError::new("proposed", "no_change"));
            }
            classify_change(kind, d.meta.open_type, meta.open_type)
        }
    };
    let to = proposed.map(|m| m.open_type).unwrap_or(d.meta.open_type);
    if kind != TicketKind::Add && needs_document(kind, d.meta.open_type, to) && attachments == 0 {
        errors.push(FieldError::new("attachments", "document_required"));
    }
    // Conditional data is scanned but not stopped for personal information; opened to anyone,
    // its published version would serve what no rule dealt with (A14.1).
    if to == OpenType::Unconditional
        && d.meta.open_type != OpenType::Unconditional
        && holds_unhandled_personal_information(app, d).await?
    {
        errors.push(FieldError::new(
            "proposed.open_type",
            "personal_information_in_data",
        ));
    }
    errors.dedup();
    if errors.is_empty() {
        Ok(kind)
    } else {
        Err(Error::invalid(errors))
    }
}

/// Whether the published data of `d` holds personal information its scan found and no rule
/// or exception dealt with.
async fn holds_unhandled_personal_information(app: &App, d: &DatasetRecord) -> Result<bool> {
    let Some(v) = app.store.current_data_version(d.id).await? else {
        return Ok(false);
    };
    let report: Option<data::ingest::QualityReport> = v
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    Ok(report.is_some_and(|r| r.personal.unhandled > 0))
}

pub async fn submit(
    app: &App,
    caller: &Caller,
    d: &DatasetRecord,
    org: &OrgRecord,
    input: TicketInput,
) -> Result<TicketRecord> {
    caller.authorize(Action::EditOpenList, Resource::Dataset(d.facts()))?;
    if app.store.open_ticket(d.id).await?.is_some() {
        return Err(ErrorCode::TicketOpen.into());
    }
    let errors = check_attachments(&input.attachments);
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let proposed = match input.kind {
        TicketKind::Remove => None,
        TicketKind::Add => Some(input.proposed.unwrap_or_else(|| d.meta.clone())),
        _ => input.proposed,
    };
    let kind = check_proposal(
        app,
        org,
        d,
        input.kind,
        proposed.as_ref(),
        &input.reason,
        input.attachments.len(),
    )
    .await?;
    let now = app.clock.now();
    let actor = caller.user()?.id.to_string();
    let ticket = TicketRecord {
        id: TicketId::new(),
        dataset_id: d.id,
        org_id: org.id,
        kind,
        state: TicketState::Submitted,
        proposed,
        base_version: d.published_version,
        reason: input.reason.trim().to_owned(),
        created_by: actor.clone(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.store.begin_write().await?;
    let attachments = take_uploads(&mut tx, caller, &input.attachments, now).await?;
    tickets::insert(&mut tx, &ticket).await?;
    tickets::add_event(
        &mut tx,
        ticket.id,
        now,
        &actor,
        "submitted",
        &[],
        &ticket.reason,
    )
    .await?;
    for a in &attachments {
        attachments::add(&mut tx, Owner::Ticket(ticket.id), a, now).await?;
    }
    let mut ev = caller.event(now, "ticket.submit", "ticket", ticket.id.to_string());
    ev.after =
        Some(serde_json::json!({ "dataset": d.id, "kind": kind, "proposed": ticket.proposed }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(ticket)
}

fn transition_error(_: domain::openlist::ticket::TransitionError) -> Error {
    Error::new(ErrorCode::InvalidTransition)
}

/// Accepts a ticket: the change takes effect on the open list at once, as a new version.
pub async fn accept(
    app: &App,
    caller: &Caller,
    t: TicketRecord,
    text: &str,
) -> Result<TicketRecord> {
    caller.authorize(Action::ReviewTickets, Resource::Ticket(t.facts()))?;
    let next = t.state.accept().map_err(transition_error)?;
    let d = app.store.dataset(&t.dataset_id.to_string()).await?;
    let org = app.store.org(&d.org_id.to_string()).await?;
    if d.published_version != t.base_version {
        return Err(ErrorCode::StaleTicket.into());
    }
    // The open list may have changed since submission: the proposal must still pass.
    check_proposal(
        app,
        &org,
        &d,
        t.kind,
        t.proposed.as_ref(),
        &t.reason,
        usize::MAX,
    )
    .await?;
    let now = app.clock.now();
    let (guide_version, _) = app.store.current_guide().await?;
    let version = d.published_version.unwrap_or(0) + 1;
    let before = serde_json::to_value(&d.meta).unwrap_or_default();
    let applied = match (&t.kind, &t.proposed) {
        (TicketKind::Remove, _) | (_, None) => DatasetRecord {
            status: d
                .status
                .after_accepted(TicketKind::Remove, d.meta.update_frequency)
                .map_err(|_| Error::new(ErrorCode::WrongStatus))?,
            published_version: Some(version),
            updated_at: now,
            ..d.clone()
        },
        (_, Some(meta)) => DatasetRecord {
            status: d
                .status
                .after_accepted(t.kind, meta.update_frequency)
                .map_err(|_| Error::new(ErrorCode::WrongStatus))?,
            meta: meta.clone(),
            guide_version,
            published_version: Some(version),
            updated_at: now,
            ..d.clone()
        },
    };
    let actor = caller.user()?.id.to_string();
    let accepted = TicketRecord {
        state: next,
        updated_at: now,
        ..t
    };
    let mut tx = app.store.begin_write().await?;
    tickets::update(&mut tx, &accepted, TicketState::Submitted)
        .await
        .map_err(conflict_as_transition)?;
    tickets::add_event(&mut tx, accepted.id, now, &actor, "accepted", &[], text).await?;
    datasets::update(&mut tx, &applied).await?;
    datasets::record_version(&mut tx, &applied, Some(&accepted.id.to_string()), now).await?;
    let mut ev = caller.event(now, "ticket.accept", "dataset", applied.id.to_string());
    ev.before = Some(before);
    ev.after = Some(
        serde_json::json!({ "ticket": accepted.id, "version": version, "status": applied.status, "metadata": applied.meta }),
    );
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(accepted)
}

fn conflict_as_transition(e: store::StoreError) -> Error {
    match e {
        store::StoreError::Conflict("ticket_state") => Error::new(ErrorCode::InvalidTransition),
        other => other.into(),
    }
}

/// Returns a ticket with one or more of the reasons of A11.3 and a text, all at once.
pub async fn give_back(
    app: &App,
    caller: &Caller,
    t: TicketRecord,
    input: ReturnInput,
) -> Result<TicketRecord> {
    caller.authorize(Action::ReviewTickets, Resource::Ticket(t.facts()))?;
    let mut errors = Vec::new();
    let mut reasons = Vec::new();
    for (i, r) in input.reasons.iter().enumerate() {
        match r.parse::<ReturnReason>() {
            Ok(r) => reasons.push(r),
            Err(_) => errors.push(FieldError {
                field: format!("reasons[{i}]"),
                code: "invalid_reason",
                detail: Some(r.clone()),
            }),
        }
    }
    let reasons = Reasons::new(reasons);
    if reasons.is_none() && errors.is_empty() {
        errors.push(FieldError::new("reasons", "required"));
    }
    if input.text.trim().is_empty() {
        errors.push(FieldError::new("text", "required"));
    }
    errors.extend(FieldError::text(
        "text",
        input.text.trim(),
        domain::bounded::TEXT,
    ));
    let Some(reasons) = reasons.filter(|_| errors.is_empty()) else {
        return Err(Error::invalid(errors));
    };
    let next = t.state.give_back(&reasons).map_err(transition_error)?;
    let now = app.clock.now();
    let actor = caller.user()?.id.to_string();
    let returned = TicketRecord {
        state: next,
        updated_at: now,
        ..t
    };
    let mut tx = app.store.begin_write().await?;
    tickets::update(&mut tx, &returned, TicketState::Submitted)
        .await
        .map_err(conflict_as_transition)?;
    tickets::add_event(
        &mut tx,
        returned.id,
        now,
        &actor,
        "returned",
        reasons.as_slice(),
        input.text.trim(),
    )
    .await?;
    let mut ev = caller.event(now, "ticket.return", "ticket", returned.id.to_string());
    ev.after = Some(serde_json::json!({ "reasons": reasons, "text": input.text.trim() }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(returned)
}

/// The provider revises a returned ticket and submits it again.
pub async fn resubmit(
    app: &App,
    caller: &Caller,
    t: TicketRecord,
    input: ResubmitInput,
) -> Result<TicketRecord> {
    caller.authorize(Action::EditOpenList, Resource::Ticket(t.facts()))?;
    let next = t.state.resubmit().map_err(transition_error)?;
    let d = app.store.dataset(&t.dataset_id.to_string()).await?;
    let org = app.store.org(&d.org_id.to_string()).await?;
    let errors = check_attachments(&input.attachments);
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let existing = app.store.attachments(Owner::Ticket(t.id)).await?.len();
    let reason = input
        .reason
        .map(|r| r.trim().to_owned())
        .unwrap_or_else(|| t.reason.clone());
    let proposed = input.proposed.or_else(|| t.proposed.clone());
    let requested = if t.kind == TicketKind::Retype {
        TicketKind::Modify
    } else {
        t.kind
    };
    let proposed = if t.kind == TicketKind::Remove {
        None
    } else {
        proposed
    };
    let kind = check_proposal(
        app,
        &org,
        &d,
        requested,
        proposed.as_ref(),
        &reason,
        existing + input.attachments.len(),
    )
    .await?;
    let now = app.clock.now();
    let actor = caller.user()?.id.to_string();
    let revised = TicketRecord {
        kind,
        state: next,
        proposed,
        base_version: d.published_version,
        reason: reason.clone(),
        updated_at: now,
        ..t
    };
    let mut tx = app.store.begin_write().await?;
    let new_attachments = take_uploads(&mut tx, caller, &input.attachments, now).await?;
    tickets::update(&mut tx, &revised, TicketState::Returned)
        .await
        .map_err(conflict_as_transition)?;
    tickets::add_event(
        &mut tx,
        revised.id,
        now,
        &actor,
        "resubmitted",
        &[],
        &reason,
    )
    .await?;
    for a in &new_attachments {
        attachments::add(&mut tx, Owner::Ticket(revised.id), a, now).await?;
    }
    let mut ev = caller.event(now, "ticket.resubmit", "ticket", revised.id.to_string());
    ev.after = Some(serde_json::json!({ "kind": kind, "proposed": revised.proposed }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(revised)
}

pub async fn cancel(app: &App, caller: &Caller, t: TicketRecord) -> Result<TicketRecord> {
    caller.authorize(Action::EditOpenList, Resource::Ticket(t.facts()))?;
    let from = t.state;
    let next = t.state.cancel().map_err(transition_error)?;
    let now = app.clock.now();
    let actor = caller.user()?.id.to_string();
    let cancelled = TicketRecord {
        state: next,
        updated_at: now,
        ..t
    };
    let mut tx = app.store.begin_write().await?;
    tickets::update(&mut tx, &cancelled, from)
        .await
        .map_err(conflict_as_transition)?;
    tickets::add_event(&mut tx, cancelled.id, now, &actor, "cancelled", &[], "").await?;
    tx.audit(caller.event(now, "ticket.cancel", "ticket", cancelled.id.to_string()))
        .await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// What a ticket changes, field by field, against the published version it was made from (none
/// for a new entry): versions never change, so the change reads the same before and after the
/// ticket is accepted, as it was reviewed.
pub async fn changes(app: &App, t: &TicketRecord) -> Result<Vec<Change>> {
    let base = match (t.kind, t.base_version) {
        (TicketKind::Add, _) | (_, None) => None,
        (_, Some(v)) => app
            .store
            .dataset_versions(&t.dataset_id.to_string())
            .await?
            .into_iter()
            .find(|r| r.version == v),
    };
    Ok(match &t.proposed {
        Some(p) => meta_changes(base.as_ref().map(|b| &b.meta), p),
        None => vec![Change {
            path: "status".into(),
            before: Some(serde_json::json!(
                base.map_or(DatasetStatus::Published, |b| b.status)
            )),
            after: Some(serde_json::json!(DatasetStatus::Withdrawn)),
        }],
    })
}
