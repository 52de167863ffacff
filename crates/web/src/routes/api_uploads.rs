//! `POST /api/v1/uploads`: a file's bytes as the request body, streamed into the file store
//! (never whole in memory, never base64). The answer names the upload, which a ticket or an
//! article then attaches by its id.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use store::uploads::UploadRecord;

use crate::ctx::{Ctx, Params};
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name, as it will be shown and downloaded.
    name: String,
}

pub fn upload_json(u: &UploadRecord) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "media_type": u.media_type,
        "size": u.size,
        "sha256": u.sha256,
        "created_at": u.created_at.to_rfc3339(),
        "expires_at": u.created_at.plus_seconds(app::uploads::UPLOAD_TTL_SECS).to_rfc3339(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<UploadQuery>,
    body: Body,
) -> AppResult<Response> {
    let u = app::uploads::upload(&state.app, &ctx.caller, &q.name, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(upload_json(&u))).into_response())
}
