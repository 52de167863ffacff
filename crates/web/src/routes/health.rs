use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::state::AppState;

/// The metrics in Prometheus' text format (scrape with a system administrator's API token).
pub async fn metrics(
    State(state): State<AppState>,
) -> Result<impl IntoResponse, crate::error::AppError> {
    let text = crate::observe::render(&state).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

/// Liveness: the process answers. Touches nothing else.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers, every migration is applied, and this node's search index
/// has caught up with the database since start.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ready().await {
        Ok(true) if !state.index_ready.load(std::sync::atomic::Ordering::Acquire) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "index_catching_up" })),
        ),
        Ok(true) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "status": "ready" })),
        ),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "migrations_pending" })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "database_unreachable" })),
            )
        }
    }
}
