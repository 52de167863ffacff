//! Expert review (A19.2): for a large or complex request, the provider's reviewer sends the
//! work order to one or more experts — accounts holding the expert role — each to file an
//! opinion by a date before the decision deadline. While opinions are awaited the order is in
//! expert review; the last opinion filed brings it back to the provider, who decides with the
//! opinions before them (and may decide earlier). Each step is audited and each party told.

use chrono::NaiveDate;
use domain::access::{Party, WorkOrderState};
use domain::ids::{AssignmentId, UserId};
use domain::notice::{Notice, NoticeKind};
use domain::policy::{Action, Resource};
use serde_json::json;
use store::access::WorkOrderRecord;
use store::experts::{self as records, AssignmentRecord, Opinion};

use crate::App;
use crate::access::{step_error, today};
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::notify::{self, Outbox};

/// Experts one work order may be sent to at once.
pub const MAX_EXPERTS: usize = 5;

/// What the provider asks of the experts.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// The expert accounts (user ids), one to five.
    pub experts: Vec<UserId>,
    /// The date each opinion is due by: from today to the work order's deadline.
    pub due_on: NaiveDate,
    /// What the experts are to weigh.
    pub question: String,
}

/// An expert's opinion.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionInput {
    /// approve, narrow or refuse.
    pub recommendation: String,
    pub opinion: String,
}

/// The recommendations an expert may give.
pub const RECOMMENDATIONS: &[&str] = &["approve", "narrow", "refuse"];

fn changed(e: store::StoreError) -> Error {
    match e {
        store::StoreError::Conflict("work_order_changed") => ErrorCode::InvalidTransition.into(),
        store::StoreError::Conflict("opinion_filed") => ErrorCode::OpinionFiled.into(),
        other => other.into(),
    }
}

/// The provider sends `w` to experts (A19.2).
pub async fn refer(
    app: &App,
    caller: &Caller,
    w: WorkOrderRecord,
    input: ReferralInput,
) -> Result<(WorkOrderRecord, Vec<AssignmentRecord>)> {
    caller.authorize(Action::DecideWorkOrder, Resource::WorkOrder(w.facts()))?;
    let next = w
        .state
        .send_to_experts(Party::Provider)
        .map_err(step_error)?;
    let now = app.clock.now();
    let mut errors = Vec::new();
    let question = input.question.trim();
    if question.is_empty() {
        errors.push(FieldError::new("question", "required"));
    }
    errors.extend(FieldError::text(
        "question",
        question,
        domain::bounded::TEXT,
    ));
    if input.due_on < today(now) {
        errors.push(FieldError::new("due_on", "date_past"));
    } else if input.due_on > w.due_on {
        let mut e = FieldError::new("due_on", "after_deadline");
        e.detail = Some(w.due_on.to_string());
        errors.push(e);
    }
    if input.experts.is_empty() {
        errors.push(FieldError::new("experts", "required"));
    }
    if input.experts.len() > MAX_EXPERTS {
        let mut e = FieldError::new("experts", "too_many");
        e.detail = Some(MAX_EXPERTS.to_string());
        errors.push(e);
    }
    let experts: Vec<UserId> = app
        .store
        .experts()
        .await?
        .into_iter()
        .map(|e| e.0)
        .collect();
    for (i, id) in input.experts.iter().enumerate().take(MAX_EXPERTS) {
        let field = format!("experts[{i}]");
        if input.experts[..i].contains(id) {
            errors.push(FieldError::new(field, "duplicate"));
        } else if !experts.contains(id) {
            errors.push(FieldError::new(field, "not_an_expert"));
        } else if *id == w.applicant_id {
            errors.push(FieldError::new(field, "is_applicant"));
        }
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let by = caller.user()?.id;
    let assignments: Vec<AssignmentRecord> = input
        .experts
        .iter()
        .map(|&expert_id| AssignmentRecord {
            id: AssignmentId::new(),
            work_order_id: w.id,
            expert_id,
            question: question.to_owned(),
            due_on: input.due_on,
            assigned_by: by,
            assigned_at: now,
            opinion: None,
        })
        .collect();
    let mut tx = app.store.begin_write().await?;
    records::move_order(&mut tx, w.id, w.state, next, now)
        .await
        .map_err(changed)?;
    let mut outbox = Outbox::default();
    for a in &assignments {
        records::insert(&mut tx, a).await?;
        outbox.to(
            [a.expert_id],
            &Notice::new(
                NoticeKind::ExpertAssigned,
                format!("/console/expert/assignments/{}", a.id),
            )
            .with("due", a.due_on.to_string()),
        );
    }
    let mut ev = caller.event(now, "work_order.refer", "work_order", w.id.to_string());
    ev.before = Some(json!({ "state": w.state }));
    ev.after = Some(json!({
        "state": next, "experts": input.experts, "due_on": input.due_on, "question": question,
    }));
    tx.audit(ev).await?;
    outbox.to(
        [w.applicant_id],
        &Notice::new(
            NoticeKind::SentToExperts,
            format!("/applications/{}", w.application_id),
        ),
    );
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    let w = WorkOrderRecord {
        state: next,
        updated_at: now,
        ..w
    };
    Ok((w, assignments))
}

/// The assignment's expert files an opinion; the last one awaited brings the work order back
/// to the provider.
pub async fn give_opinion(
    app: &App,
    caller: &Caller,
    a: AssignmentRecord,
    w: &WorkOrderRecord,
    input: OpinionInput,
) -> Result<AssignmentRecord> {
    caller.authorize(Action::GiveOpinion, Resource::Assignment(a.facts(w)))?;
    if a.opinion.is_some() {
        return Err(ErrorCode::OpinionFiled.into());
    }
    if w.state != WorkOrderState::ExpertReview {
        return Err(ErrorCode::InvalidTransition.into());
    }
    let mut errors = Vec::new();
    if !RECOMMENDATIONS.contains(&input.recommendation.as_str()) {
        errors.push(FieldError::new("recommendation", "invalid_value"));
    }
    let text = input.opinion.trim();
    if text.is_empty() {
        errors.push(FieldError::new("opinion", "required"));
    }
    errors.extend(FieldError::text("opinion", text, domain::bounded::TEXT));
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let now = app.clock.now();
    let opinion = Opinion {
        recommendation: input.recommendation.clone(),
        text: text.to_owned(),
        filed_at: now,
    };
    let mut tx = app.store.begin_write().await?;
    records::file(&mut tx, a.id, &opinion)
        .await
        .map_err(changed)?;
    let mut ev = caller.event(now, "assignment.opinion", "assignment", a.id.to_string());
    ev.after = Some(json!({
        "work_order": w.id, "recommendation": opinion.recommendation, "opinion": opinion.text,
    }));
    tx.audit(ev).await?;
    let mut outbox = Outbox::default();
    let remaining = records::awaited(&mut tx, w.id).await?;
    let back = remaining == 0;
    if back {
        let next = w
            .state
            .back_from_experts(Party::Expert)
            .map_err(step_error)?;
        records::move_order(&mut tx, w.id, w.state, next, now)
            .await
            .map_err(changed)?;
        let mut ev = caller.event(
            now,
            "work_order.back_from_experts",
            "work_order",
            w.id.to_string(),
        );
        ev.before = Some(json!({ "state": w.state }));
        ev.after = Some(json!({ "state": next }));
        tx.audit(ev).await?;
    }
    outbox.to(
        notify::deciders(app, w.org_id).await?,
        &Notice::new(
            NoticeKind::OpinionFiled,
            format!("/console/work-orders/{}", w.id),
        )
        .with("remaining", remaining.to_string()),
    );
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(AssignmentRecord {
        opinion: Some(opinion),
        ..a
    })
}
