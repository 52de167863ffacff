//! `/api/v1/auth/*` and `/api/v1/me*`: the JSON face of accounts and tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use store::tokens::TokenRecord;
use store::users::UserRecord;

use crate::ctx::{ApiJson, Ctx, SESSION_COOKIE};
use crate::error::AppResult;
use crate::state::AppState;
use app::accounts::{self, NewToken, Registration};

pub fn user_json(u: &UserRecord) -> serde_json::Value {
    json!({
        "id": u.id, "email": u.email, "display_name": u.display_name, "kind": u.kind,
        "legal_name": u.legal_name, "uscc": u.uscc, "created_at": u.created_at.to_rfc3339(),
    })
}

pub fn token_json(t: &TokenRecord) -> serde_json::Value {
    json!({
        "id": t.id, "name": t.name, "prefix": t.prefix,
        "created_at": t.created_at.to_rfc3339(),
        "expires_at": t.expires_at.map(|x| x.to_rfc3339()),
        "revoked_at": t.revoked_at.map(|x| x.to_rfc3339()),
    })
}

pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<Registration>,
) -> AppResult<Response> {
    let user = accounts::register(&state.app, &ctx.caller, input).await?;
    Ok((StatusCode::CREATED, Json(user_json(&user))).into_response())
}

#[derive(Deserialize)]
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
    let body = json!({ "user": user_json(&signed_in.user), "csrf_token": signed_in.csrf_token });
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    accounts::logout(&state.app, &ctx.caller).await?;
    let clear = ctx.cookie(SESSION_COOKIE, "", Some(0));
    Ok(([(header::SET_COOKIE, clear)], StatusCode::NO_CONTENT).into_response())
}

pub async fn me(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<serde_json::Value>> {
    let actor = ctx.user()?;
    let user = state.store.user(actor.id).await?;
    let mut body = user_json(&user);
    body["platform_roles"] = json!(actor.platform_roles);
    body["memberships"] = json!(actor.memberships);
    Ok(Json(body))
}

pub async fn list_tokens(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<serde_json::Value>> {
    let tokens = state.store.tokens_of(ctx.user()?.id).await?;
    Ok(Json(
        json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() }),
    ))
}

pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<NewToken>,
) -> AppResult<Response> {
    let created = accounts::create_token(&state.app, &ctx.caller, input).await?;
    let mut body = token_json(&created.record);
    // The only time the secret leaves the server.
    body["token"] = json!(created.secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    accounts::revoke_token(&state.app, &ctx.caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
