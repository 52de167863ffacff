//! Organizations, their members, and platform roles of accounts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::ids::{OrgId, UserId};
use domain::roles::{OrgKind, OrgRole, PlatformRole};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::orgs::{MemberRecord, OrgRecord};

use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::routes::api_auth::UserView;
use crate::state::AppState;
use app::accounts;
use app::orgs::NewOrg;

/// An organization: a provider, or the operator's own.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrgView {
    pub id: OrgId,
    pub slug: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: OrgKind,
    /// Its 统一社会信用代码, where it has one.
    pub uscc: Option<String>,
    pub created_at: Rfc3339,
}

impl OrgView {
    fn of(o: &OrgRecord) -> Self {
        OrgView {
            id: o.id,
            slug: o.slug.clone(),
            name_zh: o.name_zh.clone(),
            name_en: o.name_en.clone(),
            kind: o.kind,
            uscc: o.uscc.clone(),
            created_at: o.created_at.into(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrgList {
    pub organizations: Vec<OrgView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberList {
    /// The organization's slug.
    pub organization: String,
    pub members: Vec<MemberRecord>,
}

/// A member's role, as just set.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberSet {
    /// The organization's slug.
    pub organization: String,
    pub user: UserId,
    pub role: OrgRole,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(State(state): State<AppState>) -> AppResult<Json<OrgList>> {
    let orgs = state.store.list_orgs().await?;
    Ok(Json(OrgList {
        organizations: orgs.iter().map(OrgView::of).collect(),
    }))
}

pub async fn show(Extension(org): Extension<OrgRecord>) -> Json<OrgView> {
    Json(OrgView::of(&org))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<NewOrg>,
) -> AppResult<Response> {
    let org = app::orgs::create(&state.app, &ctx.caller, input).await?;
    Ok((StatusCode::CREATED, Json(OrgView::of(&org))).into_response())
}

pub async fn members(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Json<MemberList>> {
    let members = state.store.members(org.id).await?;
    Ok(Json(MemberList {
        organization: org.slug,
        members,
    }))
}

#[derive(Deserialize, JsonSchema)]
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
) -> AppResult<Json<MemberSet>> {
    let (user, role) =
        accounts::set_member(&state.app, &ctx.caller, &org, &input.email, &input.role).await?;
    Ok(Json(MemberSet {
        organization: org.slug,
        user,
        role,
    }))
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

#[derive(Deserialize, JsonSchema)]
pub struct Paging {
    /// Accounts per page, 1 to 1000 (more is clamped); 100 when not given.
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

pub async fn list_users(
    State(state): State<AppState>,
    Params(p): Params<Paging>,
) -> AppResult<Json<UserList>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let offset = p.offset.unwrap_or(0).max(0);
    let list = state.store.list_users(limit, offset).await?;
    Ok(Json(UserList {
        users: list.iter().map(UserView::of).collect(),
        limit,
        offset,
    }))
}

#[derive(Deserialize, JsonSchema)]
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
