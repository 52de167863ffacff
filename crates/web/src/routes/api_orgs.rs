//! Organizations, their members, and platform roles of accounts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::ids::UserId;
use domain::roles::PlatformRole;
use serde::Deserialize;
use serde_json::json;
use store::orgs::OrgRecord;

use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::routes::api_auth::user_json;
use crate::state::AppState;
use app::accounts;
use app::orgs::NewOrg;

fn org_json(o: &OrgRecord) -> serde_json::Value {
    json!({
        "id": o.id, "slug": o.slug, "name_zh": o.name_zh, "name_en": o.name_en,
        "kind": o.kind, "uscc": o.uscc, "created_at": o.created_at.to_rfc3339(),
    })
}

pub async fn list(State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    let orgs = state.store.list_orgs().await?;
    Ok(Json(
        json!({ "organizations": orgs.iter().map(org_json).collect::<Vec<_>>() }),
    ))
}

pub async fn show(Extension(org): Extension<OrgRecord>) -> Json<serde_json::Value> {
    Json(org_json(&org))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<NewOrg>,
) -> AppResult<Response> {
    let org = app::orgs::create(&state.app, &ctx.caller, input).await?;
    Ok((StatusCode::CREATED, Json(org_json(&org))).into_response())
}

pub async fn members(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Json<serde_json::Value>> {
    let members = state.store.members(org.id).await?;
    Ok(Json(
        json!({ "organization": org.slug, "members": members }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetMember {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn set_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    ApiJson(input): ApiJson<SetMember>,
) -> AppResult<Json<serde_json::Value>> {
    let (user, role) =
        accounts::set_member(&state.app, &ctx.caller, &org, &input.email, &input.role).await?;
    Ok(Json(
        json!({ "organization": org.slug, "user": user, "role": role }),
    ))
}

pub async fn remove_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path((_, user)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let user: UserId = user.parse().map_err(|_| ErrorCode::NotFound)?;
    accounts::remove_member(&state.app, &ctx.caller, &org, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct Paging {
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

pub async fn list_users(
    State(state): State<AppState>,
    Params(p): Params<Paging>,
) -> AppResult<Json<serde_json::Value>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let offset = p.offset.unwrap_or(0).max(0);
    let list = state.store.list_users(limit, offset).await?;
    Ok(Json(
        json!({ "users": list.iter().map(user_json).collect::<Vec<_>>(), "limit": limit, "offset": offset }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRole {
    #[serde(default)]
    role: String,
}

pub async fn grant_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(user): Path<String>,
    ApiJson(input): ApiJson<GrantRole>,
) -> AppResult<StatusCode> {
    let role = input
        .role
        .parse::<PlatformRole>()
        .map_err(|_| AppError::field("role", "invalid_role"))?;
    let user: UserId = user.parse().map_err(|_| ErrorCode::NotFound)?;
    state.store.user(user).await?;
    app::accounts::grant_platform_role(&state.app, &ctx.caller, user, role).await?;
    Ok(StatusCode::NO_CONTENT)
}
