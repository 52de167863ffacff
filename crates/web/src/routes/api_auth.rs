//! `/api/v1/auth/*` and `/api/v1/me*`: the JSON face of accounts and tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::ids::{TokenId, UserId};
use domain::roles::{AccountKind, Membership, PlatformRole};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::tokens::TokenRecord;
use store::users::UserRecord;

use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx, SESSION_COOKIE};
use crate::error::AppResult;
use crate::state::AppState;
use app::accounts::{self, NewToken, Registration};

/// An account as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub kind: AccountKind,
    /// An organization account's registered name.
    pub legal_name: Option<String>,
    /// An organization account's 统一社会信用代码.
    pub uscc: Option<String>,
    pub created_at: Rfc3339,
}

impl UserView {
    pub fn of(u: &UserRecord) -> Self {
        UserView {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            kind: u.kind,
            legal_name: u.legal_name.clone(),
            uscc: u.uscc.clone(),
            created_at: u.created_at.into(),
        }
    }
}

/// A personal API token, never with its secret.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenView {
    pub id: TokenId,
    pub name: String,
    /// The secret's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: Rfc3339,
    pub expires_at: Option<Rfc3339>,
    pub revoked_at: Option<Rfc3339>,
}

impl TokenView {
    fn of(t: &TokenRecord) -> Self {
        TokenView {
            id: t.id,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: t.created_at.into(),
            expires_at: Rfc3339::of(t.expires_at),
            revoked_at: Rfc3339::of(t.revoked_at),
        }
    }
}

/// A new token: the only answer that carries its secret.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NewTokenView {
    #[serde(flatten)]
    pub record: TokenView,
    /// The secret, shown once: send it as `Authorization: Bearer <token>`.
    pub token: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// A session just opened.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SignedIn {
    pub user: UserView,
    /// Send it back as `X-CSRF-Token` with every write made with the session cookie.
    pub csrf_token: String,
}

/// The signed-in account with what it may do.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    pub platform_roles: Vec<PlatformRole>,
    pub memberships: Vec<Membership>,
}

pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<Registration>,
) -> AppResult<Response> {
    let user = accounts::register(&state.app, &ctx.caller, input).await?;
    Ok((StatusCode::CREATED, Json(UserView::of(&user))).into_response())
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<Login>,
) -> AppResult<Response> {
    let signed_in = accounts::login(&state.app, &ctx.caller, &input.email, input.password).await?;
    let cookie = ctx.cookie(
        SESSION_COOKIE,
        &signed_in.session_token,
        Some(state.config.session_ttl_secs),
    );
    let body = SignedIn {
        user: UserView::of(&signed_in.user),
        csrf_token: signed_in.csrf_token,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    accounts::logout(&state.app, &ctx.caller).await?;
    let clear = ctx.cookie(SESSION_COOKIE, "", Some(0));
    Ok(([(header::SET_COOKIE, clear)], StatusCode::NO_CONTENT).into_response())
}

pub async fn me(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<MeView>> {
    let actor = ctx.user()?;
    let user = state.store.user(actor.id).await?;
    Ok(Json(MeView {
        user: UserView::of(&user),
        platform_roles: actor.platform_roles.clone(),
        memberships: actor.memberships.clone(),
    }))
}

pub async fn list_tokens(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<TokenList>> {
    let tokens = state.store.tokens_of(ctx.user()?.id).await?;
    Ok(Json(TokenList {
        tokens: tokens.iter().map(TokenView::of).collect(),
    }))
}

pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<NewToken>,
) -> AppResult<Response> {
    let created = accounts::create_token(&state.app, &ctx.caller, input).await?;
    // The only time the secret leaves the server.
    let body = NewTokenView {
        record: TokenView::of(&created.record),
        token: created.secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The answer to a password change.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PasswordChanged {
    /// The account's other sessions, now ended (this one stays).
    pub other_sessions_ended: u64,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<app::password_changes::PasswordChange>,
) -> AppResult<Json<PasswordChanged>> {
    let ended = app::password_changes::change(&state.app, &ctx.caller, input).await?;
    Ok(Json(PasswordChanged {
        other_sessions_ended: ended,
    }))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    accounts::revoke_token(&state.app, &ctx.caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
