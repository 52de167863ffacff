//! `/api/v1/jobs`: the background job queue, for the operator and the system administrator.

use axum::Json;
use axum::extract::{Path, State};
use domain::ids::JobId;
use domain::jobs::JobState;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::jobs::JobRecord;

use crate::contract::Rfc3339;
use crate::ctx::{Ctx, Params};
use crate::error::{AppError, AppResult};
use crate::paging::Next;
use crate::state::AppState;

/// A background job and how far it has come.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobView {
    pub id: JobId,
    pub kind: String,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Rfc3339,
    pub progress: Progress,
    pub last_error: Option<String>,
    pub cancel_requested: bool,
    pub created_at: Rfc3339,
    pub updated_at: Rfc3339,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Progress {
    pub phase: String,
    pub done: i64,
    /// Unknown until the job has counted its work.
    pub total: Option<i64>,
}

impl JobView {
    fn of(j: &JobRecord) -> Self {
        JobView {
            id: j.id,
            kind: j.kind.clone(),
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at.into(),
            progress: Progress {
                phase: j.phase.clone(),
                done: j.done,
                total: j.total,
            },
            last_error: j.last_error.clone(),
            cancel_requested: j.cancel_requested,
            created_at: j.created_at.into(),
            updated_at: j.updated_at.into(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct JobList {
    pub queue: QueueStats,
    pub jobs: Vec<JobView>,
    pub next: Next,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct QueueStats {
    /// Jobs waiting to run.
    pub depth: i64,
    /// How long the oldest waiting job has waited.
    pub oldest_age_seconds: i64,
}

#[derive(Deserialize, JsonSchema)]
pub struct JobQuery {
    #[schemars(with = "Option<JobState>")]
    state: Option<String>,
    /// Jobs per page, 1 to 1000 (more is clamped); 100 when not given.
    limit: Option<i64>,
    /// The `next` cursor of the page before.
    after: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Params(q): Params<JobQuery>,
) -> AppResult<Json<JobList>> {
    let filter = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<JobState>()
                .map_err(|_| AppError::field("state", "invalid_status"))?,
        ),
    };
    let page = crate::paging::requested(q.limit, q.after.as_deref())?;
    let jobs = state.store.jobs(filter, &page).await?;
    let stats = state.store.job_queue_stats(state.clock.now()).await?;
    Ok(Json(JobList {
        queue: QueueStats {
            depth: stats.depth,
            oldest_age_seconds: stats.oldest_age_secs,
        },
        jobs: jobs.items.iter().map(JobView::of).collect(),
        next: Next::of(&jobs.next),
    }))
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<JobView>> {
    Ok(Json(JobView::of(&state.store.job(&id).await?)))
}

/// Cancels a job: at once when it waits, at its next heartbeat when it runs.
pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<JobView>> {
    let job = state.store.job(&id).await?;
    app::jobs::cancel(&state.app, &ctx.caller, job.id).await?;
    Ok(Json(JobView::of(&state.store.job(&id).await?)))
}
