//! The operator's and the regulator's desk over how providers handle applications (A19.2):
//! decisions on time, working days to decide, open and overdue work orders.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::page::{PageCtx, html};
use crate::state::AppState;

/// `GET /api/v1/oversight`.
pub async fn api(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<app::oversight::Summary>> {
    Ok(Json(
        app::oversight::summary(&state.app, &ctx.caller).await?,
    ))
}

#[derive(Template)]
#[template(path = "console/oversight.html")]
struct OversightPage<'a> {
    page: PageCtx<'a>,
    summary: app::oversight::Summary,
}

impl OversightPage<'_> {
    fn rate(&self, f: &app::oversight::ProviderFigures) -> String {
        if f.decided == 0 {
            "—".to_owned()
        } else {
            format!("{:.0}%", f.on_time as f64 * 100.0 / f.decided as f64)
        }
    }

    /// A filing's time as the desk shows it: the date and minute in Shanghai.
    fn when(&self, rfc3339: &str) -> String {
        rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
    }
}

/// `GET /console/oversight`.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let summary = app::oversight::summary(&state.app, &ctx.caller).await?;
    let page = PageCtx::new(&state, &ctx, "/console/oversight");
    html(StatusCode::OK, OversightPage { page, summary })
}
