//! The provider console (A25.1) and the operator's ticket desk (A25.2) as HTML pages: an
//! organization's open list, the entry form with every problem next to its field, tickets with
//! their diff, and accepting or returning them. The pages call the same services as `/api/v1`.
//!
//! This module holds the workspace and an organization's dashboard, and what its parts share;
//! `entries` (the entry form and the tickets it submits), `desk` (tickets), `catalogue` (the
//! catalogue and the annual review) and `members` are the parts.

use askama::Template;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::openlist::ticket::TicketState;
use domain::openlist::timeliness::{self, Timeliness};
use domain::openlist::vocab::DatasetStatus;
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;
use store::tickets::TicketRecord;

use crate::charts;
use crate::ctx::{Ctx, Params};
use crate::error::{AppResult, FieldError};
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::page::PageCtx;
use crate::page::html;
use crate::state::AppState;

mod catalogue;
pub mod data;
mod desk;
mod entries;
mod members;
pub mod privacy;
mod reviews;

pub use catalogue::{catalogue, import_catalogue, record_data_update};
pub use desk::{accept_ticket, queue, resubmit_ticket, return_ticket, show_ticket};
pub use entries::{
    create_entry, edit_entry, from_file, from_file_form, new_entry, publish_entry, remove_entry,
    save_entry,
};
pub use members::{members, set_member};
pub use reviews::{
    accept_cycle, desk as review_desk, return_cycle, review_entry, reviews, submit_cycle,
};

pub(crate) fn field_id(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A problem of a form in the visitor's language, with the value it is about where that helps.
pub(super) fn message(state: &AppState, lang: Lang, e: &FieldError) -> String {
    let text = state.messages.field(lang, e.code, e.detail.as_deref());
    match &e.detail {
        Some(d)
            if e.code.starts_with("unknown_")
                || matches!(e.code, "invalid_grading" | "invalid_guide") =>
        {
            format!("{text} ({d})")
        }
        _ => text.to_owned(),
    }
}

/// The label of the form field a problem is at, for the list at the top of the form.
fn field_label(page: &PageCtx, field: &str) -> String {
    let top = field.split(['.', '[']).next().unwrap_or(field);
    let label = page.t(&format!("meta.{top}"));
    match field
        .strip_prefix("data_items[")
        .and_then(|r| r.split(']').next())
    {
        Some(n) => {
            let row = n.parse::<usize>().map(|i| i + 1).unwrap_or(0);
            page.tf("console.item_n", "n", &row.to_string())
        }
        None if label.starts_with("meta.") => field.to_owned(),
        None => label,
    }
}

pub struct EntryRow {
    id: String,
    name: String,
    status: String,
    status_code: String,
    open_type: String,
    updated: String,
}

pub struct TicketRow {
    id: String,
    dataset: String,
    org: String,
    kind: String,
    state: String,
    state_code: String,
    updated: String,
    /// How long an open ticket has waited since its last step ("3 天"); empty once closed.
    waiting: String,
}

#[derive(Template)]
#[template(path = "console/org.html")]
struct OrgPage<'a> {
    page: PageCtx<'a>,
    org: String,
    slug: String,
    can_edit: bool,
    /// (status code, label, count, selected) for the status filter.
    statuses: Vec<(String, String, i64, bool)>,
    entries: Vec<EntryRow>,
    /// The next page of entries, when there are more.
    next_page: Option<String>,
    tickets: Vec<TicketRow>,
    reviews_due: usize,
    /// The organization's entries by open type and by domain: (label, count), with charts.
    by_open_type: Vec<(String, u64)>,
    by_domain: Vec<(String, u64)>,
    open_type_chart: String,
    domain_chart: String,
    /// Published entries whose data is late for its declared update frequency (A9.4).
    overdue: Vec<OverdueRow>,
}

pub struct OverdueRow {
    id: String,
    name: String,
    frequency: String,
    last_update: String,
    days: String,
}

/// How many of `entries` have each key, most first (ties by label), labelled.
/// Entries listed per page of an organization's dashboard.
const ENTRIES_PER_PAGE: i64 = 100;

/// Sums counts by key, labelled, most first.
fn tally<'e>(
    entries: impl Iterator<Item = (&'e str, i64)>,
    label: impl Fn(&str) -> String,
) -> Vec<(String, u64)> {
    let mut counts: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (key, n) in entries {
        *counts.entry(key).or_default() += n.max(0) as u64;
    }
    let mut rows: Vec<(String, u64)> = counts.into_iter().map(|(k, n)| (label(k), n)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

#[derive(Deserialize)]
pub struct StatusFilter {
    #[serde(default)]
    status: Option<String>,
    /// The page of entries after this cursor.
    #[serde(default)]
    after: Option<String>,
}

fn date(t: domain::clock::Timestamp) -> String {
    t.to_cst().format("%Y-%m-%d").to_string()
}

/// Rows for `list`, tickets of `org` (or of every provider) in `ticket_state` (or any).
async fn ticket_rows(
    state: &AppState,
    labels: &Labels<'_>,
    list: Vec<TicketRecord>,
) -> AppResult<Vec<TicketRow>> {
    let ids: Vec<_> = list.iter().map(|t| t.id).collect();
    let subjects = state.store.ticket_subjects(&ids).await?;
    let now = state.clock.now();
    let mut rows = Vec::with_capacity(list.len());
    for t in list {
        let (name, slug) = subjects.get(&t.id).cloned().unwrap_or_default();
        rows.push(TicketRow {
            id: t.id.to_string(),
            dataset: t.proposed.as_ref().map(|m| m.name.clone()).unwrap_or(name),
            org: labels.org(&slug),
            kind: labels.named("ticket_kind", t.kind.as_str()),
            state: labels.named("ticket_state", t.state.as_str()),
            state_code: t.state.as_str().to_owned(),
            updated: date(t.updated_at),
            waiting: match t.state {
                TicketState::Submitted | TicketState::Returned => {
                    let days = (now.0 - t.updated_at.0).max(0) / 86_400_000;
                    labels.messages().format(
                        labels.lang(),
                        "console.days",
                        &[("n", days.to_string())],
                    )
                }
                _ => String::new(),
            },
        });
    }
    Ok(rows)
}

/// The published entries of `entries` whose data is late for their declared update frequency,
/// latest first. Until an update is recorded, an entry's last change counts as its last update.
async fn overdue_rows(
    state: &AppState,
    labels: &Labels<'_>,
    org: domain::ids::OrgId,
    entries: &[DatasetRecord],
) -> AppResult<Vec<OverdueRow>> {
    let updates = state.store.data_updates(org).await?;
    let now = state.clock.now();
    let mut late: Vec<(i64, OverdueRow)> = entries
        .iter()
        .filter(|d| d.status == DatasetStatus::Published)
        .filter_map(|d| {
            let last = updates.get(&d.id).copied().unwrap_or(d.updated_at);
            match timeliness::assess(d.meta.update_frequency, last, now) {
                Timeliness::Overdue { days, .. } => Some((
                    days,
                    OverdueRow {
                        id: d.id.to_string(),
                        name: d.meta.name.clone(),
                        frequency: labels.named("frequency", d.meta.update_frequency.as_str()),
                        last_update: date(last),
                        days: days.to_string(),
                    },
                )),
                Timeliness::OnTime { .. } | Timeliness::NoRhythm => None,
            }
        })
        .collect();
    late.sort_by_key(|(days, _)| std::cmp::Reverse(*days));
    Ok(late.into_iter().map(|(_, row)| row).collect())
}

/// An organization's dashboard: its open list by status, its tickets, its reviews due.
pub async fn org_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<StatusFilter>,
) -> AppResult<Response> {
    let labels = Labels::load(&state, ctx.lang).await?;
    let counts = state.store.dataset_counts(org.id).await?;
    let wanted: Option<DatasetStatus> = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let statuses = DatasetStatus::ALL
        .iter()
        .map(|s| {
            let n: i64 = counts.iter().filter(|c| c.status == *s).map(|c| c.n).sum();
            (
                s.as_str().to_owned(),
                labels.named("status", s.as_str()),
                n,
                wanted == Some(*s),
            )
        })
        .collect();
    let by_open_type = tally(counts.iter().map(|c| (c.open_type.as_str(), c.n)), |k| {
        labels.named("open_type", k)
    });
    let by_domain = tally(counts.iter().map(|c| (c.domain.as_str(), c.n)), |k| {
        labels.domain(k)
    });
    let published = state.store.published_of(org.id).await?;
    let overdue = overdue_rows(&state, &labels, org.id, &published).await?;
    let page = crate::paging::requested(Some(ENTRIES_PER_PAGE), q.after.as_deref())?;
    let listed = state.store.datasets_of(org.id, wanted, &page).await?;
    let next_page = listed.next.as_ref().map(|c| {
        let status = wanted.map(|s| format!("status={s}&")).unwrap_or_default();
        format!("/console/orgs/{}?{status}after={c}", org.slug)
    });
    let entries = listed
        .items
        .iter()
        .map(|d| EntryRow {
            id: d.id.to_string(),
            name: d.meta.name.clone(),
            status: labels.named("status", d.status.as_str()),
            status_code: d.status.as_str().to_owned(),
            open_type: labels.named("open_type", d.meta.open_type.as_str()),
            updated: date(d.updated_at),
        })
        .collect();
    let list = state.store.recent_tickets(org.id, 50).await?;
    let tickets = ticket_rows(&state, &labels, list).await?;
    // What this year's annual review still has to cover: the same count its page shows.
    let year = domain::openlist::review_cycle::year_of(state.clock.now());
    let cycle = app::review_cycles::cycle(&state.app, &ctx.caller, &org, year).await?;
    let reviews_due = cycle.entries.len() - cycle.reviewed;
    let view = OrgPage {
        org: labels.org(&org.slug),
        slug: org.slug.clone(),
        can_edit: ctx
            .authorize(Action::EditOpenList, Resource::Organization(org.id))
            .is_ok(),
        statuses,
        entries,
        next_page,
        tickets,
        reviews_due,
        open_type_chart: charts::bars(&by_open_type, charts::GREEN),
        domain_chart: charts::bars(&by_domain, charts::BLUE),
        by_open_type,
        by_domain,
        overdue,
        page: PageCtx::new(&state, &ctx, &format!("/console/orgs/{}", org.slug)),
    };
    html(StatusCode::OK, view)
}

#[derive(Template)]
#[template(path = "console/index.html")]
struct ConsoleIndex<'a> {
    page: PageCtx<'a>,
    orgs: Vec<(String, String)>,
    /// The platform's desks this person may use: (link, label).
    desks: Vec<(&'static str, String)>,
    /// Someone who works for no provider and at no desk: a resident, a researcher or a
    /// company, whose workbench is about their own applications, feedback and requests.
    public_user: bool,
    /// The organization a company account speaks for.
    legal_name: Option<String>,
}

/// The platform-wide pages of the workspace, and the action each needs.
const DESKS: &[(&str, Action, &str)] = &[
    ("/console/tickets", Action::ReviewTickets, "console.queue"),
    (
        "/console/applications",
        Action::CheckCompleteness,
        "application.queue",
    ),
    (
        "/console/oversight",
        Action::OverseeApplications,
        "oversight.title",
    ),
    ("/console/expert", Action::ViewAssignment, "expert.title"),
    (
        "/console/review-cycles",
        Action::ReviewTickets,
        "cycle.desk",
    ),
    (
        "/console/articles",
        Action::PublishArticles,
        "console.articles",
    ),
    ("/console/guide", Action::EditGuide, "operator.guide"),
    (
        "/console/vocabularies",
        Action::ManageVocabularies,
        "operator.vocabularies",
    ),
    ("/console/people", Action::ListUsers, "operator.people"),
    ("/console/jobs", Action::ManageJobs, "operator.jobs"),
    ("/console/quality", Action::ViewQuality, "quality.title"),
    (
        "/console/calendar",
        Action::ManageCalendar,
        "calendar.title",
    ),
    ("/console/audit", Action::ViewAudit, "operator.audit"),
];

/// Where a signed-in person's work is: their organizations' consoles and the platform's desks
/// their roles open.
pub async fn index(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let user = ctx.user()?;
    let labels = Labels::load(&state, ctx.lang).await?;
    let mut orgs = Vec::new();
    for m in &user.memberships {
        let org = state.store.org(&m.org.to_string()).await?;
        orgs.push((labels.org(&org.slug), format!("/console/orgs/{}", org.slug)));
    }
    let page = PageCtx::new(&state, &ctx, "/console");
    let desks: Vec<(&str, String)> = DESKS
        .iter()
        .filter(|(_, action, _)| ctx.authorize(*action, Resource::Platform).is_ok())
        .map(|(href, _, label)| (*href, page.t(label)))
        .collect();
    let public_user = orgs.is_empty() && desks.is_empty();
    let legal_name = if public_user {
        state.store.user(user.id).await?.legal_name
    } else {
        None
    };
    let view = ConsoleIndex {
        orgs,
        desks,
        public_user,
        legal_name,
        page,
    };
    html(StatusCode::OK, view)
}
