//! `/api/v1/jobs`: the background job queue, for the operator and the system administrator.

use axum::Json;
use axum::extract::{Path, State};
use domain::jobs::JobState;
use serde::Deserialize;
use serde_json::{Value, json};
use store::jobs::JobRecord;

use crate::ctx::{Ctx, Params};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn job_json(j: &JobRecord) -> Value {
    json!({
        "id": j.id,
        "kind": j.kind,
        "state": j.state,
        "attempts": j.attempts,
        "max_attempts": j.max_attempts,
        "run_at": j.run_at.to_rfc3339(),
        "progress": { "phase": j.phase, "done": j.done, "total": j.total },
        "last_error": j.last_error,
        "cancel_requested": j.cancel_requested,
        "created_at": j.created_at.to_rfc3339(),
        "updated_at": j.updated_at.to_rfc3339(),
    })
}

#[derive(Deserialize)]
pub struct JobQuery {
    state: Option<String>,
    limit: Option<i64>,
    after: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Params(q): Params<JobQuery>,
) -> AppResult<Json<Value>> {
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
    Ok(Json(json!({
        "queue": { "depth": stats.depth, "oldest_age_seconds": stats.oldest_age_secs },
        "jobs": jobs.items.iter().map(job_json).collect::<Vec<_>>(),
        "next": crate::paging::next(&jobs.next),
    })))
}

pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> AppResult<Json<Value>> {
    Ok(Json(job_json(&state.store.job(&id).await?)))
}

/// Cancels a job: at once when it waits, at its next heartbeat when it runs.
pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let job = state.store.job(&id).await?;
    app::jobs::cancel(&state.app, &ctx.caller, job.id).await?;
    Ok(Json(job_json(&state.store.job(&id).await?)))
}
