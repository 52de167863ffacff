//! The operator's pages (A25.2): the managed formats and glossary, and the accounts and
//! organizations of the platform with the platform roles the system administrator gives there.
//! They call the same services as `/api/v1`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ids::UserId;
use domain::policy::{Action, Resource};
use domain::roles::PlatformRole;
use serde::Deserialize;

use crate::ctx::{Ctx, FormPost, Params};
use crate::dataset_form::FormValues;
use crate::error::{AppResult, FieldError};
use crate::labels::Labels;
use crate::page::{PageCtx, html, when};
use crate::state::AppState;
use app::accounts;
use app::vocab::{self, FormatInput, GlossaryInput};

fn messages(state: &AppState, ctx: &Ctx, errors: &[FieldError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (e.field.clone(), super::console::message(state, ctx.lang, e)))
        .collect()
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
