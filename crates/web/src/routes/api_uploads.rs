//! `POST /api/v1/uploads`: a file's bytes as the request body, streamed into the file store
//! (never whole in memory, never base64). The answer names the upload, which a ticket or an
//! article then attaches by its id.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::uploads::UploadRecord;

use crate::contract::Rfc3339;
use crate::ctx::{Ctx, Params};
use crate::error::AppResult;
use crate::state::AppState;

/// Like every query string, unknown parameters are ignored (decision 0005).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UploadQuery {
    /// The file's name, as it will be shown and downloaded.
    name: String,
}

/// A file uploaded and not yet attached: attach it within a day by its `id`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UploadView {
    pub id: String,
    pub name: String,
    /// Found in the file's content, never taken from the request.
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Rfc3339,
    /// When it is deleted if nothing attached it.
    pub expires_at: Rfc3339,
}

impl UploadView {
    fn of(u: &UploadRecord) -> Self {
        UploadView {
            id: u.id.clone(),
            name: u.name.clone(),
            media_type: u.media_type.clone(),
            size: u.size,
            sha256: u.sha256.clone(),
            created_at: u.created_at.into(),
            expires_at: u
                .created_at
                .plus_seconds(app::uploads::UPLOAD_TTL_SECS)
                .into(),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<UploadQuery>,
    body: Body,
) -> AppResult<Response> {
    let u = app::uploads::upload(&state.app, &ctx.caller, &q.name, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(UploadView::of(&u))).into_response())
}
