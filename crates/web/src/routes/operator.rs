//! The operator's and the supervisors' pages (A25.2, A25.5): the audit trail, the classification
//! guide with its versions, the managed formats and glossary, and the accounts and
//! organizations of the platform with the platform roles the system administrator gives there.
//! They call the same services as `/api/v1`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, TimeZone};
use domain::clock::{Timestamp, china_standard_time};
use domain::ids::UserId;
use domain::policy::{Action, Resource};
use domain::roles::PlatformRole;
use serde::Deserialize;
use store::audit::AuditFilter;

use crate::ctx::{Ctx, FormPost, Params};
use crate::dataset_form::FormValues;
use crate::error::{AppResult, ErrorCode, FieldError};
use crate::labels::Labels;
use crate::page::PageCtx;
use crate::page::html;
use crate::state::AppState;
use app::accounts;
use app::vocab::{self, FormatInput, GlossaryInput};

fn when(t: Timestamp) -> String {
    t.to_cst().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn messages(state: &AppState, ctx: &Ctx, errors: &[FieldError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (e.field.clone(), super::console::message(state, ctx.lang, e)))
        .collect()
}

// --- The audit trail -------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target_type: String,
    #[serde(default)]
    target_id: String,
    /// Days in China Standard Time, both included.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: Option<i64>,
}

pub struct AuditRow {
    seq: i64,
    at: String,
    /// The account's name and email, when the actor is an account that still exists.
    actor_name: Option<String>,
    actor: String,
    role: String,
    action: String,
    target: String,
    client: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage<'a> {
    page: PageCtx<'a>,
    q: AuditQuery,
    rows: Vec<AuditRow>,
    older: Option<String>,
    errors: Vec<(String, String)>,
}

const AUDIT_PAGE: i64 = 50;

/// "Name (email)" of each actor id that names an existing account. A page of the trail holds
/// at most `AUDIT_PAGE` records and usually a handful of distinct people, so each is looked up
/// once.
async fn actor_names<'a>(
    state: &AppState,
    ids: impl Iterator<Item = &'a str>,
) -> AppResult<HashMap<String, String>> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(id) {
            continue;
        }
        let Ok(user_id) = id.parse::<UserId>() else {
            continue;
        };
        match state.store.user(user_id).await {
            Ok(user) => {
                names.insert(
                    id.to_owned(),
                    format!("{} ({})", user.display_name, user.email),
                );
            }
            Err(store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(names)
}

/// The first millisecond of `day` (or of the day after, for an end date) in CST.
fn day_start(field: &str, day: &str, next: bool, errors: &mut Vec<FieldError>) -> Option<i64> {
    let day = day.trim();
    if day.is_empty() {
        return None;
    }
    let Ok(date) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
        errors.push(FieldError::new(field, "invalid_date"));
        return None;
    };
    let date = if next { date.succ_opt()? } else { date };
    let start = date.and_hms_opt(0, 0, 0)?;
    china_standard_time()
        .from_local_datetime(&start)
        .single()
        .map(|t| t.timestamp_millis())
}

pub async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<AuditQuery>,
) -> AppResult<Response> {
    let mut errors = Vec::new();
    let from = day_start("from", &q.from, false, &mut errors);
    let to = day_start("to", &q.to, true, &mut errors);
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    // People know each other by email, the trail by account id: either may be asked for.
    let actor_id = match text(&q.actor) {
        Some(email) if email.contains('@') => {
            match accounts::account_by_email(&state.app, &email).await? {
                Some(user) => Some(user.id.to_string()),
                None => {
                    errors.push(FieldError::new("actor", "unknown_user"));
                    None
                }
            }
        }
        other => other,
    };
    let records = if errors.is_empty() {
        let filter = AuditFilter {
            actor_id,
            target_type: text(&q.target_type),
            target_id: text(&q.target_id),
            action: text(&q.action),
            from,
            to,
            before_seq: q.before,
            limit: AUDIT_PAGE,
        };
        state.store.list_audit(&filter).await?
    } else {
        Vec::new()
    };
    let older = (records.len() as i64 == AUDIT_PAGE)
        .then(|| records.last().map(|r| r.seq))
        .flatten()
        .map(|seq| {
            let mut link = form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("actor", &q.actor),
                ("action", &q.action),
                ("target_type", &q.target_type),
                ("target_id", &q.target_id),
                ("from", &q.from),
                ("to", &q.to),
            ] {
                if !v.is_empty() {
                    link.append_pair(k, v);
                }
            }
            link.append_pair("before", &seq.to_string());
            format!("/console/audit?{}", link.finish())
        });
    let names = actor_names(&state, records.iter().filter_map(|r| r.actor_id.as_deref())).await?;
    let rows = records
        .into_iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at: when(Timestamp(r.at)),
            actor_name: r.actor_id.as_ref().and_then(|id| names.get(id).cloned()),
            actor: r.actor_id.unwrap_or_default(),
            role: r.actor_role,
            action: r.action,
            target: format!("{} {}", r.target_type, r.target_id),
            client: r.client_addr.unwrap_or_default(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = AuditPage {
        errors: messages(&state, &ctx, &errors),
        page: PageCtx::new(&state, &ctx, "/console/audit"),
        q,
        rows,
        older,
    };
    html(status, view)
}

// --- The classification guide ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/guide.html")]
struct GuidePage<'a> {
    page: PageCtx<'a>,
    /// The version shown, and whether it is the one in force.
    version: i64,
    current: bool,
    /// The version the edit starts from: saving over a newer one is refused.
    base_version: i64,
    toml: String,
    versions: Vec<(i64, String)>,
    errors: Vec<(String, String)>,
}

async fn guide_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    version: Option<i64>,
    edited: Option<(String, Option<i64>)>,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let shown = state.store.guide_version(version).await?;
    let all = state.store.guide_versions().await?;
    let newest = all.iter().map(|v| v.version).max().unwrap_or(shown.version);
    let view = GuidePage {
        version: shown.version,
        current: shown.version == newest,
        base_version: edited
            .as_ref()
            .and_then(|(_, base)| *base)
            .unwrap_or(shown.version),
        toml: edited.map(|(text, _)| text).unwrap_or(shown.body),
        versions: all
            .iter()
            .rev()
            .map(|v| (v.version, when(v.created_at)))
            .collect(),
        errors,
        page: PageCtx::new(state, ctx, "/console/guide"),
    };
    html(status, view)
}

pub async fn guide(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    guide_page(&state, &ctx, StatusCode::OK, None, None, Vec::new()).await
}

pub async fn guide_version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(version): Path<String>,
) -> AppResult<Response> {
    let version: i64 = version.parse().map_err(|_| ErrorCode::NotFound)?;
    guide_page(
        &state,
        &ctx,
        StatusCode::OK,
        Some(version),
        None,
        Vec::new(),
    )
    .await
}

/// Saves the edited guide as a new version; a guide that does not parse, or whose examples
/// disagree with its rule, comes back with the reason and the text as typed.
pub async fn save_guide(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormPost,
) -> AppResult<Response> {
    let form = form.values;
    let toml = form.get("toml").to_owned();
    let base = form.get("base_version").parse().ok();
    match vocab::save_guide(&state.app, &ctx.caller, &toml, base).await {
        Ok(_) => Ok(Redirect::to("/console/guide").into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let errors = messages(&state, &ctx, &errors);
            guide_page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some((toml, base)),
                errors,
            )
            .await
        }
    }
}

// --- Formats and glossary --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/vocabularies.html")]
struct VocabPage<'a> {
    page: PageCtx<'a>,
    formats: Vec<store::vocab::FormatRow>,
    glossary: Vec<store::vocab::GlossaryRow>,
    /// What was typed into the form that failed, and its problems.
    form: FormValues,
    errors: Vec<(String, String)>,
}

impl VocabPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        crate::page::message_at(&self.errors, field)
    }
}

async fn vocab_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    form: FormValues,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let view = VocabPage {
        formats: state.store.formats().await?,
        glossary: state.store.glossary().await?,
        form,
        errors,
        page: PageCtx::new(state, ctx, "/console/vocabularies"),
    };
    html(status, view)
}

pub async fn vocabularies(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    vocab_page(
        &state,
        &ctx,
        StatusCode::OK,
        FormValues::default(),
        Vec::new(),
    )
    .await
}

pub async fn save_format(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormPost,
) -> AppResult<Response> {
    let form = form.values;
    let input = FormatInput {
        name: form.get("name").to_owned(),
        media_type: form.get("media_type").to_owned(),
        openness: form.get("openness").trim().parse().unwrap_or(-1),
        proprietary: form.has("proprietary", "1"),
    };
    let code = form.get("code").trim().to_owned();
    match vocab::save_format(&state.app, &ctx.caller, code, input).await {
        Ok(()) => Ok(Redirect::to("/console/vocabularies").into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let errors = messages(&state, &ctx, &errors);
            vocab_page(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await
        }
    }
}

pub async fn save_glossary(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormPost,
) -> AppResult<Response> {
    let form = form.values;
    let input = GlossaryInput {
        explanation_zh: form.get("explanation_zh").to_owned(),
        explanation_en: form.get("explanation_en").to_owned(),
    };
    let term = form.get("term").trim().to_owned();
    match vocab::save_glossary(&state.app, &ctx.caller, term, input).await {
        Ok(()) => Ok(Redirect::to("/console/vocabularies").into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let errors = messages(&state, &ctx, &errors);
            vocab_page(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await
        }
    }
}

// --- Accounts and organizations --------------------------------------------------------------

pub struct UserRow {
    email: String,
    name: String,
    kind: String,
    created: String,
    /// The platform roles the account holds, by label.
    roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/people.html")]
struct PeoplePage<'a> {
    page: PageCtx<'a>,
    users: Vec<UserRow>,
    /// (name, kind, console link)
    orgs: Vec<(String, String, String)>,
    /// Whether this person may grant platform roles, and the roles to choose from.
    can_grant: bool,
    roles: Vec<(&'static str, String)>,
    form: FormValues,
    errors: Vec<(String, String)>,
}

impl PeoplePage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        crate::page::message_at(&self.errors, field)
    }
}

async fn people_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    form: FormValues,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let pctx = PageCtx::new(state, ctx, "/console/people");
    let mut granted: HashMap<UserId, Vec<String>> = HashMap::new();
    for (user, role) in state.store.platform_roles().await? {
        granted
            .entry(user)
            .or_default()
            .push(pctx.t(&format!("role.{role}")));
    }
    let users = state
        .store
        .list_users(500, 0)
        .await?
        .into_iter()
        .map(|u| UserRow {
            kind: pctx.t(&format!("kind.{}", u.kind)),
            roles: granted.remove(&u.id).unwrap_or_default(),
            email: u.email,
            name: u.display_name,
            created: when(u.created_at),
        })
        .collect();
    let orgs = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| {
            (
                labels.org(&o.slug),
                labels.named("org.kind", o.kind.as_str()),
                format!("/console/orgs/{}", o.slug),
            )
        })
        .collect();
    let view = PeoplePage {
        users,
        orgs,
        can_grant: ctx
            .authorize(Action::ManagePlatformRoles, Resource::Platform)
            .is_ok(),
        roles: PlatformRole::ALL
            .iter()
            .map(|r| (r.as_str(), pctx.t(&format!("role.{r}"))))
            .collect(),
        form,
        errors,
        page: pctx,
    };
    html(status, view)
}

pub async fn people(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    people_page(
        &state,
        &ctx,
        StatusCode::OK,
        FormValues::default(),
        Vec::new(),
    )
    .await
}

/// Gives the account registered with an email a platform role. An unknown account and an
/// unknown role are reported together, at their fields.
pub async fn grant_role(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormPost,
) -> AppResult<Response> {
    let form = form.values;
    let role = form.get("role").parse::<PlatformRole>();
    let user = accounts::account_by_email(&state.app, form.get("email")).await?;
    match (user, role) {
        (Some(user), Ok(role)) => {
            accounts::grant_platform_role(&state.app, &ctx.caller, user.id, role).await?;
            Ok(Redirect::to("/console/people").into_response())
        }
        (user, role) => {
            let mut errors = Vec::new();
            if user.is_none() {
                errors.push(FieldError::new("email", "unknown_user"));
            }
            if role.is_err() {
                errors.push(FieldError::new("role", "invalid_role"));
            }
            let errors = messages(&state, &ctx, &errors);
            people_page(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await
        }
    }
}

// --- Background jobs -------------------------------------------------------------------------

pub struct JobRow {
    id: String,
    kind: String,
    state: String,
    attempts: String,
    progress: String,
    error: String,
    created: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "console/jobs.html")]
struct JobsPage<'a> {
    page: PageCtx<'a>,
    depth: i64,
    oldest_minutes: i64,
    jobs: Vec<JobRow>,
    next_page: Option<String>,
}

#[derive(Deserialize)]
pub struct JobsQuery {
    #[serde(default)]
    after: Option<String>,
}

/// The job queue as the operator reads it: what waits, what runs and how far, what failed.
pub async fn jobs(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<JobsQuery>,
) -> AppResult<Response> {
    let page = crate::paging::requested(Some(100), q.after.as_deref())?;
    let list = state.store.jobs(None, &page).await?;
    let stats = state.store.job_queue_stats(state.clock.now()).await?;
    let pctx = PageCtx::new(&state, &ctx, "/console/jobs");
    let jobs = list
        .items
        .iter()
        .map(|j| JobRow {
            id: j.id.to_string(),
            kind: j.kind.clone(),
            state: pctx.t(&format!("job_state.{}", j.state)),
            attempts: format!("{}/{}", j.attempts, j.max_attempts),
            progress: match j.total {
                Some(total) => format!("{} {}/{}", j.phase, j.done, total),
                None if j.phase.is_empty() => String::new(),
                None => format!("{} {}", j.phase, j.done),
            },
            error: j.last_error.clone().unwrap_or_default(),
            created: when(j.created_at),
            live: j.state.is_live() && !j.cancel_requested,
        })
        .collect();
    let view = JobsPage {
        depth: stats.depth,
        oldest_minutes: stats.oldest_age_secs / 60,
        jobs,
        next_page: list
            .next
            .as_ref()
            .map(|c| format!("/console/jobs?after={c}")),
        page: pctx,
    };
    html(StatusCode::OK, view)
}

pub async fn cancel_job(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let job = state.store.job(&id).await?;
    app::jobs::cancel(&state.app, &ctx.caller, job.id).await?;
    Ok(Redirect::to("/console/jobs").into_response())
}
