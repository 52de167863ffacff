//! Applying for conditional data (A18) and the completeness review (A19.1): an applicant saves
//! a draft, uploads each entry's required materials and the security pledge, and submits; the
//! operator accepts — the application becomes one work order per providing organization, each
//! due in 10 working days on the statutory calendar (A19.2) — or returns it with every reason
//! at once, and the applicant fixes and resubmits. Each round is kept. Every step asks the one
//! policy who the caller is to the application, and the state machine whether that party may
//! take the step from where it stands.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use domain::access::{ApplicationState, Party, Reasons, StepError, WorkOrderState};
use domain::application::{ApplicationForm, EntryTerms, Problem, Request, SECURITY_PLEDGE};
use domain::calendar::{Calendar, REVIEW_WORKING_DAYS};
use domain::clock::Timestamp;
use domain::ids::{ApplicationId, DatasetId, OrgId, WorkOrderId};
use domain::notice::{Notice, NoticeKind};
use domain::openlist::vocab::{ConditionKind, OpenType};
use domain::policy::{Action, Resource};
use serde_json::json;
use store::access::{
    self as records, ApplicationRecord, MaterialRecord, RoundRecord, WorkOrderRecord,
};

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::notify::{self, Outbox};

/// Applications one account may hold in draft at once.
pub const MAX_DRAFTS: i64 = 20;
/// Materials one application may carry.
pub const MAX_MATERIALS: i64 = 60;

fn problems(list: Vec<Problem>) -> Error {
    Error::invalid(
        list.into_iter()
            .map(|p| FieldError {
                field: p.field,
                code: p.code,
                detail: p.detail,
            })
            .collect(),
    )
}

pub(crate) fn step_error(e: StepError) -> Error {
    match e {
        StepError::NotYours { .. } => ErrorCode::Forbidden.into(),
        _ => ErrorCode::InvalidTransition.into(),
    }
}

fn changed(e: store::StoreError) -> Error {
    match e {
        store::StoreError::Conflict("application_changed" | "round_closed") => {
            ErrorCode::InvalidTransition.into()
        }
        other => other.into(),
    }
}

/// Today in China Standard Time, the day deadlines and periods are counted from.
pub(crate) fn today(now: Timestamp) -> NaiveDate {
    now.to_cst().date_naive()
}

/// What the check needs of each entry a form names; unknown ids are left out.
async fn terms(app: &App, form: &ApplicationForm) -> Result<BTreeMap<DatasetId, EntryTerms>> {
    let mut out = BTreeMap::new();
    for e in &form.entries {
        let d = match app.store.dataset(&e.dataset.to_string()).await {
            Ok(d) => d,
            Err(store::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let facts = d.facts();
        out.insert(
            d.id,
            EntryTerms {
                conditional: facts.is_public() && d.meta.open_type == OpenType::Conditional,
                items: d.meta.data_items.iter().map(|i| i.name.clone()).collect(),
                scenarios: d
                    .meta
                    .conditions
                    .iter()
                    .filter(|c| c.kind == ConditionKind::Scenario)
                    .map(|c| c.text.trim().to_owned())
                    .collect(),
                materials: d.meta.materials.iter().map(|m| m.name.clone()).collect(),
                org: d.org_id,
            },
        );
    }
    Ok(out)
}

/// A draft's form: bounded, and naming only conditional entries on the open list (checked
/// now, so a draft never points at what cannot be applied for).
async fn check_draft(app: &App, form: &ApplicationForm) -> Result<()> {
    let mut found = form.shape_problems();
    let known = terms(app, form).await?;
    for (i, e) in form.entries.iter().enumerate() {
        if !known.get(&e.dataset).is_some_and(|t| t.conditional) {
            found.push(Problem {
                field: format!("entries[{i}].dataset"),
                code: "not_conditional",
                detail: None,
            });
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(problems(found))
    }
}

/// Starts an application as a draft. The applicant is the caller's account; nothing on the
/// form can name anyone else.
pub async fn create(
    app: &App,
    caller: &Caller,
    form: ApplicationForm,
) -> Result<ApplicationRecord> {
    caller.authorize(Action::Apply, Resource::OwnAccount)?;
    let user = caller.user()?.id;
    check_draft(app, &form).await?;
    let now = app.clock.now();
    let a = ApplicationRecord {
        id: ApplicationId::new(),
        applicant_id: user,
        state: ApplicationState::Draft,
        form,
        round: 0,
        created_at: now,
        updated_at: now,
        row_version: 0,
    };
    let mut tx = app.store.begin_write().await?;
    if records::count_in_state(&mut tx, user, ApplicationState::Draft).await? >= MAX_DRAFTS {
        return Err(Error::field("application", "too_many_drafts"));
    }
    records::insert_application(&mut tx, &a).await?;
    let mut ev = caller.event(now, "application.create", "application", a.id.to_string());
    ev.after = Some(json!({ "form": a.form }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(a)
}

fn editable(a: &ApplicationRecord) -> Result<()> {
    if a.state.is_editable() {
        Ok(())
    } else {
        Err(ErrorCode::InvalidTransition.into())
    }
}

/// Saves a new form over a draft (or a returned application). `row_version` is the version
/// the applicant edited: a save over someone else's newer one is refused.
pub async fn update(
    app: &App,
    caller: &Caller,
    a: ApplicationRecord,
    form: ApplicationForm,
    row_version: Option<i64>,
) -> Result<ApplicationRecord> {
    caller.authorize(Action::EditApplication, Resource::Application(a.facts()))?;
    editable(&a)?;
    if row_version.is_some_and(|v| v != a.row_version) {
        return Err(ErrorCode::EditConflict.into());
    }
    check_draft(app, &form).await?;
    let now = app.clock.now();
    let before = json!({ "form": a.form });
    let next = ApplicationRecord {
        form,
        updated_at: now,
        ..a
    };
    let mut tx = app.store.begin_write().await?;
    let saved = records::update_application(&mut tx, &next, next.state)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict("application_changed") => ErrorCode::EditConflict.into(),
            other => Error::from(other),
        })?;
    let mut ev = caller.event(
        now,
        "application.update",
        "application",
        saved.id.to_string(),
    );
    ev.before = Some(before);
    ev.after = Some(json!({ "form": saved.form }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Attaches the caller's upload `upload` as `material` — one the list of `dataset` (an entry of
/// the form) requires, or the security pledge when `dataset` is `None`.
pub async fn attach(
    app: &App,
    caller: &Caller,
    a: &ApplicationRecord,
    dataset: Option<DatasetId>,
    material: &str,
    upload: &str,
) -> Result<MaterialRecord> {
    caller.authorize(Action::EditApplication, Resource::Application(a.facts()))?;
    editable(a)?;
    let material = material.trim();
    let listed = match dataset {
        None => material == SECURITY_PLEDGE,
        Some(d) => {
            if !a.form.entries.iter().any(|e| e.dataset == d) {
                return Err(Error::field("dataset", "not_in_application"));
            }
            terms(app, &a.form)
                .await?
                .get(&d)
                .is_some_and(|t| t.materials.iter().any(|m| m == material))
        }
    };
    if !listed {
        return Err(Error::field("material", "not_required"));
    }
    let now = app.clock.now();
    let owner = caller.user()?.id;
    let mut tx = app.store.begin_write().await?;
    if records::count_materials(&mut tx, a.id).await? >= MAX_MATERIALS {
        return Err(Error::field("material", "too_many"));
    }
    let u = store::uploads::take(
        &mut tx,
        upload.trim(),
        owner,
        crate::uploads::attachable_after(now),
    )
    .await?
    .ok_or_else(|| Error::field("upload", "not_found"))?;
    let m = MaterialRecord {
        id: uuid::Uuid::now_v7().to_string(),
        dataset_id: dataset,
        material: material.to_owned(),
        name: u.name,
        media_type: u.media_type,
        size: u.size,
        sha256: u.sha256,
        created_at: now,
    };
    records::add_material(&mut tx, a.id, &m).await?;
    let mut ev = caller.event(now, "application.attach", "application", a.id.to_string());
    ev.after = Some(json!({ "material": m }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(m)
}

/// Removes a material from a draft (or a returned application).
pub async fn detach(app: &App, caller: &Caller, a: &ApplicationRecord, id: &str) -> Result<()> {
    caller.authorize(Action::EditApplication, Resource::Application(a.facts()))?;
    editable(a)?;
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    records::remove_material(&mut tx, a.id, id).await?;
    let mut ev = caller.event(now, "application.detach", "application", a.id.to_string());
    ev.before = Some(json!({ "material": id }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

async fn request_of(
    app: &App,
    a: &ApplicationRecord,
) -> Result<(
    Request,
    Vec<MaterialRecord>,
    BTreeMap<DatasetId, EntryTerms>,
)> {
    let materials = app.store.materials(a.id).await?;
    let have: BTreeSet<(Option<DatasetId>, String)> = materials
        .iter()
        .map(|m| (m.dataset_id, m.material.clone()))
        .collect();
    let terms = terms(app, &a.form).await?;
    let request = a
        .form
        .complete(today(app.clock.now()), &terms, &have)
        .map_err(problems)?;
    Ok((request, materials, terms))
}

/// Submits a draft, or resubmits a returned application: complete, or every problem at once.
/// A new round of the completeness review opens with the form and materials frozen.
pub async fn submit(app: &App, caller: &Caller, a: ApplicationRecord) -> Result<ApplicationRecord> {
    caller.authorize(Action::EditApplication, Resource::Application(a.facts()))?;
    let from = a.state;
    let next = match from {
        ApplicationState::Returned => from.resubmit(Party::Applicant),
        _ => from.submit(Party::Applicant),
    }
    .map_err(step_error)?;
    let (request, materials, _) = request_of(app, &a).await?;
    let now = app.clock.now();
    let submitted = ApplicationRecord {
        state: next,
        round: a.round + 1,
        updated_at: now,
        ..a
    };
    let mut tx = app.store.begin_write().await?;
    let saved = records::update_application(&mut tx, &submitted, from)
        .await
        .map_err(changed)?;
    records::open_round(
        &mut tx,
        saved.id,
        &RoundRecord {
            round: saved.round,
            submitted_at: now,
            form: saved.form.clone(),
            materials: materials.clone(),
            outcome: None,
            reasons: Vec::new(),
            decided_by: None,
            decided_at: None,
        },
    )
    .await?;
    let action = if from == ApplicationState::Returned {
        "application.resubmit"
    } else {
        "application.submit"
    };
    let mut ev = caller.event(now, action, "application", saved.id.to_string());
    ev.after = Some(json!({ "round": saved.round, "request": request, "materials": materials }));
    tx.audit(ev).await?;
    let link = format!("/applications/{}", saved.id);
    let entries =
        notify::entry_names(app, request.entries.iter().map(|e| e.dataset).collect()).await;
    let mut outbox = Outbox::default();
    outbox.to(
        [saved.applicant_id],
        &Notice::new(NoticeKind::ApplicationSubmitted, &link)
            .with("entries", &entries)
            .with("round", saved.round.to_string())
            .with("materials", materials.len().to_string()),
    );
    let checkers = notify::operators(app).await?;
    outbox.to(
        checkers.into_iter().filter(|u| *u != saved.applicant_id),
        &Notice::new(NoticeKind::ApplicationToCheck, &link)
            .with("applicant", notify::person(app, saved.applicant_id).await?)
            .with("entries", &entries),
    );
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(saved)
}

/// The applicant withdraws an application not yet accepted.
pub async fn withdraw(
    app: &App,
    caller: &Caller,
    a: ApplicationRecord,
) -> Result<ApplicationRecord> {
    caller.authorize(Action::EditApplication, Resource::Application(a.facts()))?;
    let from = a.state;
    let next = from.withdraw(Party::Applicant).map_err(step_error)?;
    let now = app.clock.now();
    let by = caller.user()?.id.to_string();
    let withdrawn = ApplicationRecord {
        state: next,
        updated_at: now,
        ..a
    };
    let mut tx = app.store.begin_write().await?;
    let saved = records::update_application(&mut tx, &withdrawn, from)
        .await
        .map_err(changed)?;
    if from == ApplicationState::Submitted {
        records::close_round(&mut tx, saved.id, saved.round, "withdrawn", &[], &by, now)
            .await
            .map_err(changed)?;
    }
    tx.audit(caller.event(
        now,
        "application.withdraw",
        "application",
        saved.id.to_string(),
    ))
    .await?;
    tx.commit().await?;
    Ok(saved)
}

/// The completeness review returns the application with every reason at once (A19.1).
pub async fn give_back(
    app: &App,
    caller: &Caller,
    a: ApplicationRecord,
    reasons: Vec<String>,
) -> Result<ApplicationRecord> {
    caller.authorize(Action::CheckCompleteness, Resource::Application(a.facts()))?;
    let mut errors: Vec<FieldError> = reasons
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            FieldError::text(&format!("reasons[{i}]"), r.trim(), domain::bounded::TEXT)
        })
        .collect();
    if reasons.len() > domain::bounded::MAX_LIST {
        errors.push(FieldError {
            field: "reasons".into(),
            code: "too_many",
            detail: Some(domain::bounded::MAX_LIST.to_string()),
        });
    }
    let reasons = Reasons::new(reasons);
    if reasons.is_none() {
        errors.push(FieldError::new("reasons", "required"));
    }
    let Some(reasons) = reasons.filter(|_| errors.is_empty()) else {
        return Err(Error::invalid(errors));
    };
    let from = a.state;
    let next = from
        .refuse_incomplete(Party::Operator, &reasons)
        .map_err(step_error)?;
    let now = app.clock.now();
    let by = caller.user()?.id.to_string();
    let returned = ApplicationRecord {
        state: next,
        updated_at: now,
        ..a
    };
    let mut tx = app.store.begin_write().await?;
    let saved = records::update_application(&mut tx, &returned, from)
        .await
        .map_err(changed)?;
    records::close_round(
        &mut tx,
        saved.id,
        saved.round,
        "returned",
        reasons.as_slice(),
        &by,
        now,
    )
    .await
    .map_err(changed)?;
    let mut ev = caller.event(
        now,
        "application.return",
        "application",
        saved.id.to_string(),
    );
    ev.after = Some(json!({ "round": saved.round, "reasons": reasons }));
    tx.audit(ev).await?;
    let mut outbox = Outbox::default();
    outbox.to(
        [saved.applicant_id],
        &Notice::new(
            NoticeKind::ApplicationReturned,
            format!("/applications/{}", saved.id),
        )
        .with("reasons", reasons.as_slice().join("；")),
    );
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(saved)
}

/// The deadline of a work order made on `day`: the end of the 10th working day after it.
pub fn deadline(calendar: &Calendar, day: NaiveDate) -> domain::calendar::Deadline {
    calendar.add_working_days(day, REVIEW_WORKING_DAYS)
}

/// The completeness review accepts the application (A19.1): it becomes one work order per
/// providing organization, each with what was asked of that provider's entries and its
/// deadline. The request is checked again, since entries may have changed since submission.
pub async fn accept(
    app: &App,
    caller: &Caller,
    a: ApplicationRecord,
) -> Result<(ApplicationRecord, Vec<WorkOrderRecord>)> {
    caller.authorize(Action::CheckCompleteness, Resource::Application(a.facts()))?;
    let from = a.state;
    let next = from
        .accept_for_review(Party::Operator)
        .map_err(step_error)?;
    let (request, _, terms) = request_of(app, &a).await?;
    let (calendar, _) = crate::calendar::calendar(app).await?;
    let now = app.clock.now();
    let due = deadline(&calendar, today(now));
    let by = caller.user()?.id.to_string();
    let mut per_org: BTreeMap<OrgId, Vec<_>> = BTreeMap::new();
    for e in &request.entries {
        if let Some(t) = terms.get(&e.dataset) {
            per_org.entry(t.org).or_default().push(e.clone());
        }
    }
    let orders: Vec<WorkOrderRecord> = per_org
        .into_iter()
        .map(|(org, entries)| WorkOrderRecord {
            id: WorkOrderId::new(),
            application_id: a.id,
            org_id: org,
            applicant_id: a.applicant_id,
            state: WorkOrderState::InReview,
            requested: Request {
                entries,
                ..request.clone()
            },
            created_at: now,
            due_on: due.due,
            due_provisional: due.provisional,
            decision: None,
            decided_by: None,
            decided_at: None,
            updated_at: now,
        })
        .collect();
    let accepted = ApplicationRecord {
        state: next,
        updated_at: now,
        ..a
    };
    let mut tx = app.store.begin_write().await?;
    let saved = records::update_application(&mut tx, &accepted, from)
        .await
        .map_err(changed)?;
    records::close_round(&mut tx, saved.id, saved.round, "accepted", &[], &by, now)
        .await
        .map_err(changed)?;
    for w in &orders {
        records::insert_work_order(&mut tx, w).await?;
        let mut ev = caller.event(now, "work_order.create", "work_order", w.id.to_string());
        ev.after = Some(json!({
            "application": w.application_id, "organization": w.org_id,
            "requested": w.requested, "due_on": w.due_on, "due_provisional": w.due_provisional,
        }));
        tx.audit(ev).await?;
    }
    let mut ev = caller.event(
        now,
        "application.accept",
        "application",
        saved.id.to_string(),
    );
    ev.after = Some(json!({
        "round": saved.round,
        "work_orders": orders.iter().map(|w| w.id).collect::<Vec<_>>(),
    }));
    tx.audit(ev).await?;
    let mut outbox = Outbox::default();
    outbox.to(
        [saved.applicant_id],
        &Notice::new(
            NoticeKind::ApplicationAccepted,
            format!("/applications/{}", saved.id),
        )
        .with("due", due.due.to_string()),
    );
    let applicant = notify::person(app, saved.applicant_id).await?;
    for w in &orders {
        let entries =
            notify::entry_names(app, w.requested.entries.iter().map(|e| e.dataset).collect()).await;
        outbox.to(
            notify::deciders(app, w.org_id).await?,
            &Notice::new(
                NoticeKind::WorkOrderAssigned,
                format!("/console/work-orders/{}", w.id),
            )
            .with("applicant", &applicant)
            .with("entries", entries)
            .with("due", w.due_on.to_string()),
        );
    }
    if due.provisional {
        // Loud but never blocking (A19.2): the operator loads the year, and the deadlines
        // are counted again.
        outbox.to(
            notify::operators(app).await?,
            &Notice::new(NoticeKind::DeadlineProvisional, "/console/calendar")
                .with("due", due.due.to_string())
                .with("year", due.due.format("%Y").to_string()),
        );
    }
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok((saved, orders))
}

/// Counts again, inside `tx`, the deadlines of open work orders that were counted on weekends
/// alone, on `calendar` (which now knows more years); audits each one that moves or becomes
/// final and tells its provider. Returns how many were counted again, and the notices to mail
/// once `tx` commits.
pub async fn recount_provisional(
    app: &App,
    tx: &mut store::WriteTx,
    caller: &Caller,
    calendar: &Calendar,
    now: Timestamp,
) -> Result<(usize, Outbox)> {
    let open = records::provisional_work_orders(tx).await?;
    let mut counted = 0;
    let mut outbox = Outbox::default();
    for w in open {
        let due = deadline(calendar, today(w.created_at));
        if due.due == w.due_on && due.provisional == w.due_provisional {
            continue;
        }
        records::set_due(tx, w.id, due.due, due.provisional).await?;
        let mut ev = caller.event(
            now,
            "work_order.recount_deadline",
            "work_order",
            w.id.to_string(),
        );
        ev.before = Some(json!({ "due_on": w.due_on, "due_provisional": w.due_provisional }));
        ev.after = Some(json!({ "due_on": due.due, "due_provisional": due.provisional }));
        tx.audit(ev).await?;
        outbox.to(
            notify::deciders(app, w.org_id).await?,
            &Notice::new(
                NoticeKind::DeadlineRecounted,
                format!("/console/work-orders/{}", w.id),
            )
            .with("due", due.due.to_string()),
        );
        counted += 1;
    }
    outbox.write(tx, now).await?;
    Ok((counted, outbox))
}

/// Working days before its deadline a work order's deciders are reminded.
pub const REMIND_WORKING_DAYS: i64 = 2;
/// The most reminders one run sends.
const REMIND_BATCH: i64 = 1_000;

/// Reminds each open work order's deciders, once, when at most [`REMIND_WORKING_DAYS`]
/// working days are left (or it is already late); run by housekeeping. Audited as the
/// platform's act. Returns how many work orders were reminded.
pub async fn remind(app: &App) -> Result<usize> {
    let now = app.clock.now();
    let today = today(now);
    let (calendar, _) = crate::calendar::calendar(app).await?;
    // Any order due within the next calendar fortnight may be near in working days.
    let horizon = records::day_number(today) + 14;
    let mut tx = app.store.begin_write().await?;
    let due = records::unreminded_due(&mut tx, horizon, REMIND_BATCH).await?;
    let mut outbox = Outbox::default();
    let mut reminded = 0;
    for w in due {
        let left = calendar.working_days_left(today, w.due_on);
        if left > REMIND_WORKING_DAYS {
            continue;
        }
        records::set_reminded(&mut tx, w.id, now).await?;
        let mut ev = store::AuditEvent::system(
            now,
            "system",
            "work_order.remind",
            "work_order",
            w.id.to_string(),
        );
        ev.after = Some(json!({ "due_on": w.due_on, "working_days_left": left }));
        tx.audit(ev).await?;
        outbox.to(
            notify::deciders(app, w.org_id).await?,
            &Notice::new(
                NoticeKind::DeadlineNear,
                format!("/console/work-orders/{}", w.id),
            )
            .with("due", w.due_on.to_string())
            .with("left", left.max(0).to_string()),
        );
        reminded += 1;
    }
    if reminded == 0 {
        return Ok(0);
    }
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(reminded)
}

/// What a provider grants of one entry of a work order; anything left out is as applied for.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub dataset: DatasetId,
    #[serde(default)]
    pub items: Option<BTreeSet<String>>,
    #[serde(default)]
    pub period_start: Option<NaiveDate>,
    #[serde(default)]
    pub period_end: Option<NaiveDate>,
    #[serde(default)]
    pub calls_per_day: Option<u64>,
    /// Conditions every row delivered meets (A21.1): all rows when left out.
    #[serde(default)]
    pub rows: Vec<domain::access::RowFilter>,
    /// `rows` (the default) or `sandbox`: aggregates only, computed on the platform (A21.2).
    #[serde(default)]
    pub delivery: Option<domain::access::Delivery>,
    /// For a sandbox: a differential-privacy budget ε that its queries spend, each answer
    /// drawn with noise; exact aggregates when left out.
    #[serde(default)]
    pub privacy_budget: Option<f64>,
}

/// A provider's decision on a work order (A19.2, A19.3).
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `approve` or `refuse`.
    pub outcome: String,
    #[serde(default)]
    pub criteria: domain::access::Criteria,
    /// For an approval: narrower grants per entry; entries left out get what was applied for.
    #[serde(default)]
    pub grants: Vec<GrantInput>,
    /// For a refusal: every reason, at once.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// A grant as decided and kept with the work order.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Grant {
    pub dataset: DatasetId,
    pub items: BTreeSet<String>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub calls_per_day: u64,
    /// Conditions every row delivered meets; none for every row.
    #[serde(default)]
    pub rows: Vec<domain::access::RowFilter>,
    /// Rows through the API, or aggregates in the sandbox.
    #[serde(default)]
    pub delivery: domain::access::Delivery,
    /// A sandbox's differential-privacy budget; none for exact aggregates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_budget: Option<domain::access::Budget>,
}

/// A decision as kept with the work order and published to the applicant (A19.3).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Decision {
    /// `approved` or `refused`.
    pub outcome: String,
    pub criteria: domain::access::Criteria,
    pub grants: Vec<Grant>,
    pub reasons: Vec<String>,
}

impl Decision {
    /// The decision kept with `w`, once it is decided.
    pub fn of(w: &WorkOrderRecord) -> Option<Decision> {
        w.decision
            .as_ref()
            .and_then(|d| serde_json::from_value(d.clone()).ok())
    }
}

fn grant_error(i: usize, e: domain::access::GrantError) -> FieldError {
    use domain::access::GrantError::*;
    let field = match e {
        ItemNotApplied(_) | NoItems => "items",
        PeriodWider | PeriodBackwards => "period_end",
        QuotaHigher => "calls_per_day",
    };
    FieldError {
        field: format!("grants[{i}].{field}"),
        code: e.code(),
        detail: match e {
            ItemNotApplied(item) => Some(item),
            _ => None,
        },
    }
}

/// What is wrong with grant `i`'s row filters, given the data items of its entry.
fn row_filter_errors(i: usize, g: &GrantInput, items: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if g.rows.len() > domain::access::MAX_ROW_FILTERS {
        errors.push(FieldError::new(format!("grants[{i}].rows"), "too_many"));
        return errors;
    }
    for (j, f) in g.rows.iter().enumerate() {
        if let Some(code) = f.problem() {
            errors.push(FieldError::new(
                format!("grants[{i}].rows[{j}].values"),
                code,
            ));
        }
        if !items.contains(&f.field) {
            let mut e = FieldError::new(format!("grants[{i}].rows[{j}].field"), "unknown_field");
            e.detail = Some(f.field.chars().take(100).collect());
            errors.push(e);
        }
    }
    errors
}

/// The grants of an approval: each entry of the order gets what was applied for unless the
/// input narrows it; a grant may never widen it, nor name an entry outside the order. A row
/// filter names one of the entry's data items (`items_of`), granted or not.
fn grants(
    request: &Request,
    input: &[GrantInput],
    items_of: &std::collections::HashMap<DatasetId, Vec<String>>,
) -> Result<Vec<Grant>> {
    let mut errors = Vec::new();
    for (i, g) in input.iter().enumerate() {
        let items = items_of.get(&g.dataset).map(Vec::as_slice).unwrap_or(&[]);
        errors.extend(row_filter_errors(i, g, items));
        if !request.entries.iter().any(|e| e.dataset == g.dataset) {
            errors.push(FieldError::new(
                format!("grants[{i}].dataset"),
                "not_in_work_order",
            ));
        }
        if input[..i].iter().any(|h| h.dataset == g.dataset) {
            errors.push(FieldError::new(format!("grants[{i}].dataset"), "duplicate"));
        }
        if let Some(b) = g.privacy_budget {
            let field = format!("grants[{i}].privacy_budget");
            if domain::access::Budget::new(b).is_none() {
                errors.push(FieldError::new(field, "out_of_range"));
            } else if g.delivery != Some(domain::access::Delivery::Sandbox) {
                errors.push(FieldError::new(field, "sandbox_only"));
            }
        }
    }
    let mut out = Vec::new();
    for e in &request.entries {
        let Some(asked) = request.scope_of(e.dataset) else {
            continue;
        };
        let given = input.iter().position(|g| g.dataset == e.dataset);
        let wanted = match given.map(|i| (i, &input[i])) {
            None => asked.clone(),
            Some((_, g)) => domain::access::Scope {
                items: g.items.clone().unwrap_or_else(|| asked.items.clone()),
                period: (
                    g.period_start.unwrap_or(asked.period.0),
                    g.period_end.unwrap_or(asked.period.1),
                ),
                calls_per_day: g.calls_per_day.unwrap_or(asked.calls_per_day),
            },
        };
        match asked.narrowed_to(wanted) {
            Ok(s) => out.push(Grant {
                dataset: e.dataset,
                items: s.items,
                period_start: s.period.0,
                period_end: s.period.1,
                calls_per_day: s.calls_per_day,
                rows: given.map(|i| input[i].rows.clone()).unwrap_or_default(),
                delivery: given.and_then(|i| input[i].delivery).unwrap_or_default(),
                privacy_budget: given
                    .and_then(|i| input[i].privacy_budget)
                    .and_then(domain::access::Budget::new),
            }),
            Err(err) => errors.push(grant_error(given.unwrap_or(0), err)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::invalid(errors))
    }
}

/// The grants `input` gives of `request`, or every problem with them: the data items of the
/// entries that row filters name are read first.
pub(crate) async fn granted(
    app: &App,
    request: &Request,
    input: &[GrantInput],
) -> Result<Result<Vec<Grant>>> {
    let mut items_of = std::collections::HashMap::new();
    for g in input.iter().filter(|g| !g.rows.is_empty()) {
        if let Ok(d) = app.store.dataset(&g.dataset.to_string()).await {
            let names = d.meta.data_items.iter().map(|i| i.name.clone()).collect();
            items_of.insert(g.dataset, names);
        }
    }
    Ok(grants(request, input, &items_of))
}

/// The provider decides a work order (A19.2): approves — possibly narrowing items, period or
/// calls — or refuses with every reason at once; the criteria are recorded either way, and the
/// decision is published to the applicant with the application (A19.3).
pub async fn decide(
    app: &App,
    caller: &Caller,
    w: WorkOrderRecord,
    input: DecisionInput,
) -> Result<WorkOrderRecord> {
    caller.authorize(Action::DecideWorkOrder, Resource::WorkOrder(w.facts()))?;
    let mut errors: Vec<FieldError> = input
        .criteria
        .missing()
        .into_iter()
        .map(|f| FieldError::new(format!("criteria.{f}"), "required"))
        .collect();
    for (field, text) in [
        ("criteria.fairness", &input.criteria.fairness),
        ("criteria.scenario_value", &input.criteria.scenario_value),
        (
            "criteria.combination_risk",
            &input.criteria.combination_risk,
        ),
    ] {
        errors.extend(FieldError::text(field, text.trim(), domain::bounded::TEXT));
    }
    let from = w.state;
    let (next, decision) = match input.outcome.as_str() {
        "approve" => {
            let granted = granted(app, &w.requested, &input.grants).await?;
            let next = from.approve(Party::Provider).map_err(step_error)?;
            let granted = match granted {
                Ok(g) if errors.is_empty() => g,
                Ok(_) => return Err(Error::invalid(errors)),
                Err(e) => {
                    errors.extend(e.fields);
                    return Err(Error::invalid(errors));
                }
            };
            (
                next,
                Decision {
                    outcome: "approved".into(),
                    criteria: input.criteria.clone(),
                    grants: granted,
                    reasons: Vec::new(),
                },
            )
        }
        "refuse" => {
            errors.extend(input.reasons.iter().enumerate().filter_map(|(i, r)| {
                FieldError::text(&format!("reasons[{i}]"), r.trim(), domain::bounded::TEXT)
            }));
            if input.reasons.len() > domain::bounded::MAX_LIST {
                errors.push(FieldError::new("reasons", "too_many"));
            }
            let Some(reasons) = Reasons::new(input.reasons.clone()) else {
                errors.push(FieldError::new("reasons", "required"));
                return Err(Error::invalid(errors));
            };
            if !errors.is_empty() {
                return Err(Error::invalid(errors));
            }
            let next = from.refuse(Party::Provider, &reasons).map_err(step_error)?;
            (
                next,
                Decision {
                    outcome: "refused".into(),
                    criteria: input.criteria.clone(),
                    grants: Vec::new(),
                    reasons: reasons.as_slice().to_vec(),
                },
            )
        }
        _ => return Err(Error::field("outcome", "invalid_outcome")),
    };
    let trimmed = Decision {
        criteria: domain::access::Criteria {
            fairness: decision.criteria.fairness.trim().to_owned(),
            scenario_value: decision.criteria.scenario_value.trim().to_owned(),
            combination_risk: decision.criteria.combination_risk.trim().to_owned(),
        },
        ..decision
    };
    let now = app.clock.now();
    let by = caller.user()?.id.to_string();
    let decided = WorkOrderRecord {
        state: next,
        decision: Some(serde_json::to_value(&trimmed).expect("a decision serializes")),
        decided_by: Some(by),
        decided_at: Some(now),
        updated_at: now,
        ..w
    };
    let agreement = if next == WorkOrderState::Approved {
        Some(crate::agreements::generate(app, &decided, &trimmed, 1, now).await?)
    } else {
        None
    };
    let mut tx = app.store.begin_write().await?;
    records::decide_work_order(&mut tx, &decided, from)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict("work_order_changed") => {
                Error::new(ErrorCode::InvalidTransition)
            }
            other => other.into(),
        })?;
    let action = if next == WorkOrderState::Approved {
        "work_order.approve"
    } else {
        "work_order.refuse"
    };
    let mut ev = caller.event(now, action, "work_order", decided.id.to_string());
    ev.after = decided.decision.clone();
    tx.audit(ev).await?;
    let org = app.store.org(&decided.org_id.to_string()).await?;
    let mut outbox = Outbox::default();
    outbox.to(
        [decided.applicant_id],
        &Notice::new(
            if next == WorkOrderState::Approved {
                NoticeKind::WorkOrderApproved
            } else {
                NoticeKind::WorkOrderRefused
            },
            format!("/applications/{}", decided.application_id),
        )
        .with("provider", &org.name_zh)
        .with("reasons", trimmed.reasons.join("；")),
    );
    if let Some(a) = &agreement {
        store::agreements::insert(&mut tx, a).await?;
        let mut ev = caller.event(now, "agreement.create", "agreement", a.id.to_string());
        ev.after = Some(json!({
            "work_order": a.work_order_id, "version": a.version, "sha256": a.sha256,
            "grants": a.grants,
        }));
        tx.audit(ev).await?;
        let mut sides = notify::deciders(app, a.org_id).await?;
        sides.push(a.applicant_id);
        outbox.to(
            sides,
            &Notice::new(NoticeKind::AgreementToSign, format!("/agreements/{}", a.id))
                .with("provider", &org.name_zh),
        );
    }
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(decided)
}
