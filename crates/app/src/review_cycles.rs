//! The annual review of a provider's open list (A10.1) as a yearly cycle: the provider
//! confirms or changes every entry during the year, submits the year's review, and the
//! operator (who is not a member of the provider) accepts it or gives it back. See
//! `domain::openlist::review_cycle`.

use chrono::NaiveDate;
use domain::clock::Timestamp;
use domain::openlist::review_cycle::{self, CycleState};
use domain::policy::{Action, Resource};
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;
use store::review_cycles::{self, CycleRecord};

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};

/// An entry the review covers, and whether it was reviewed in the cycle's year.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScopeEntry {
    pub id: String,
    pub name: String,
    pub status: String,
    pub open_type: String,
    /// When it was last confirmed or changed.
    pub last_reviewed_or_changed: Timestamp,
    pub reviewed: bool,
}

/// A year's review of one provider as it stands.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CycleView {
    pub year: i32,
    pub state: CycleState,
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub record: Option<CycleRecord>,
    pub entries: Vec<ScopeEntry>,
    pub reviewed: usize,
}

fn entry(year: i32, d: &DatasetRecord) -> ScopeEntry {
    let last = match d.last_reviewed_at {
        Some(r) if r > d.updated_at => r,
        _ => d.updated_at,
    };
    ScopeEntry {
        id: d.id.to_string(),
        name: d.meta.name.clone(),
        status: d.status.as_str().to_owned(),
        open_type: d.meta.open_type.as_str().to_owned(),
        last_reviewed_or_changed: last,
        reviewed: review_cycle::reviewed_in(year, d.last_reviewed_at, d.updated_at),
    }
}

/// The first year `org` has a review of: the year it joined the platform.
pub fn first_year(org: &OrgRecord) -> i32 {
    review_cycle::year_of(org.created_at)
}

/// The years a review may be asked about: last year (submitted late) and this one, and none
/// before the organization joined the platform.
fn check_year(app: &App, org: &OrgRecord, year: i32) -> Result<i32> {
    let this_year = review_cycle::year_of(app.clock.now());
    if (this_year - 1..=this_year).contains(&year) && year >= first_year(org) {
        Ok(year)
    } else {
        Err(Error::invalid(vec![FieldError::new(
            "year",
            "out_of_range",
        )]))
    }
}

/// `org`'s review of `year`: its state, due day, and every entry it covers.
pub async fn cycle(app: &App, caller: &Caller, org: &OrgRecord, year: i32) -> Result<CycleView> {
    caller.authorize(Action::ViewOrgInternal, Resource::Organization(org.id))?;
    let year = check_year(app, org, year)?;
    let record = app.store.review_cycle(org.id, year).await?;
    let state = record.as_ref().map_or(CycleState::Open, |r| r.state);
    let entries: Vec<ScopeEntry> = app
        .store
        .review_scope(org.id)
        .await?
        .iter()
        .map(|d| entry(year, d))
        .collect();
    let today = app.clock.now().to_cst().date_naive();
    Ok(CycleView {
        year,
        state,
        due_on: review_cycle::due_on(year),
        overdue: review_cycle::overdue(state, year, today),
        reviewed: entries.iter().filter(|e| e.reviewed).count(),
        record,
        entries,
    })
}

fn transition_error(_: review_cycle::TransitionError) -> Error {
    Error::new(ErrorCode::InvalidTransition)
}

fn conflict_as_transition(e: store::StoreError) -> Error {
    match e {
        store::StoreError::Conflict("cycle_state") => Error::new(ErrorCode::InvalidTransition),
        other => other.into(),
    }
}

/// The provider submits its review of `year`: every entry on its list must have been
/// confirmed or changed that year; those that were not are named and nothing changes.
pub async fn submit(
    app: &App,
    caller: &Caller,
    org: &OrgRecord,
    year: i32,
    note: &str,
) -> Result<CycleRecord> {
    caller.authorize(Action::EditOpenList, Resource::Organization(org.id))?;
    let year = check_year(app, org, year)?;
    let note = note.trim();
    if let Some(e) = FieldError::text("note", note, domain::bounded::TEXT) {
        return Err(Error::invalid(vec![e]));
    }
    let now = app.clock.now();
    let actor = caller.user()?.id.to_string();
    let mut tx = app.store.begin_write().await?;
    let before = review_cycles::get_for_update(&mut tx, org.id, year).await?;
    let from = before.as_ref().map(|c| c.state);
    let state = from
        .unwrap_or(CycleState::Open)
        .submit()
        .map_err(transition_error)?;
    // Read in the transaction: an entry confirmed or changed meanwhile counts.
    let scope = store::datasets::review_scope(&mut tx, org.id).await?;
    let pending: Vec<FieldError> = scope
        .iter()
        .filter(|d| !review_cycle::reviewed_in(year, d.last_reviewed_at, d.updated_at))
        .map(|d| {
            let mut e = FieldError::new("entries", "not_reviewed");
            e.detail = Some(format!("{} {}", d.id, d.meta.name));
            e
        })
        .collect();
    if !pending.is_empty() {
        return Err(Error::invalid(pending));
    }
    let c = CycleRecord {
        id: before
            .as_ref()
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), |c| c.id.clone()),
        org_id: org.id,
        year,
        state,
        submitted_at: Some(now),
        submitted_by: Some(actor),
        decided_at: None,
        decided_by: None,
        note: note.to_owned(),
    };
    review_cycles::save(&mut tx, &c, from)
        .await
        .map_err(conflict_as_transition)?;
    let covered: Vec<(String, Timestamp)> = scope
        .iter()
        .map(|d| (d.id.to_string(), entry(year, d).last_reviewed_or_changed))
        .collect();
    review_cycles::set_entries(&mut tx, &c.id, &covered).await?;
    let mut ev = caller.event(
        now,
        "review_cycle.submit",
        "organization",
        org.id.to_string(),
    );
    ev.after = Some(serde_json::json!({ "year": year, "entries": covered.len(), "note": c.note }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(c)
}

/// What the operator decides on a submitted review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    /// Back to the provider, with the reason.
    GiveBack,
}

/// The operator accepts a submitted review, or gives it back with a reason.
pub async fn decide(
    app: &App,
    caller: &Caller,
    org: &OrgRecord,
    year: i32,
    decision: Decision,
    note: &str,
) -> Result<CycleRecord> {
    caller.authorize(Action::ReviewTickets, Resource::Organization(org.id))?;
    let year = check_year(app, org, year)?;
    let note = note.trim();
    let mut errors: Vec<FieldError> = FieldError::text("note", note, domain::bounded::TEXT)
        .into_iter()
        .collect();
    if decision == Decision::GiveBack && note.is_empty() {
        errors.push(FieldError::new("note", "required"));
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    let before = review_cycles::get_for_update(&mut tx, org.id, year)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::InvalidTransition))?;
    let state = match decision {
        Decision::Accept => before.state.accept(),
        Decision::GiveBack => before.state.give_back(),
    }
    .map_err(transition_error)?;
    let c = CycleRecord {
        state,
        decided_at: Some(now),
        decided_by: Some(caller.user()?.id.to_string()),
        note: note.to_owned(),
        ..before.clone()
    };
    review_cycles::save(&mut tx, &c, Some(before.state))
        .await
        .map_err(conflict_as_transition)?;
    let action = match decision {
        Decision::Accept => "review_cycle.accept",
        Decision::GiveBack => "review_cycle.give_back",
    };
    let mut ev = caller.event(now, action, "organization", org.id.to_string());
    ev.before = Some(serde_json::json!({ "year": year, "state": before.state }));
    ev.after = Some(serde_json::json!({ "year": year, "state": c.state, "note": c.note }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(c)
}

/// A step of a year's review, as the API and the console's forms ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Submit,
    Decide(Decision),
}

/// Takes `step` on `org`'s review of `year`: [`submit`] or [`decide`].
pub async fn take_step(
    app: &App,
    caller: &Caller,
    org: &OrgRecord,
    year: i32,
    step: Step,
    note: &str,
) -> Result<CycleRecord> {
    match step {
        Step::Submit => submit(app, caller, org, year, note).await,
        Step::Decide(decision) => decide(app, caller, org, year, decision, note).await,
    }
}
