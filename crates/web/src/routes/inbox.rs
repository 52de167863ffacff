//! Each person's inbox of notices (conditional opening): the page, which marks them read, and
//! the API.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use schemars::JsonSchema;
use serde::Serialize;

use crate::contract::Rfc3339;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::page::{PageCtx, html};
use crate::state::AppState;

/// How many notices the inbox shows.
const SHOWN: i64 = 200;

/// A notice, worded in the caller's language.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationView {
    pub id: String,
    pub kind: domain::notice::NoticeKind,
    pub subject: String,
    pub text: String,
    /// Where to look.
    pub link: String,
    pub created_at: Rfc3339,
    pub read: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationList {
    pub unread: i64,
    pub notifications: Vec<NotificationView>,
}

async fn list(state: &AppState, ctx: &Ctx) -> AppResult<NotificationList> {
    let user = ctx.caller.user()?.id;
    let unread = state.store.unread_notifications(user).await?;
    let notifications = state
        .store
        .notifications(user, SHOWN)
        .await?
        .into_iter()
        .map(|n| {
            let (subject, text) = crate::notices::text(&state.messages, ctx.lang, &n.notice);
            NotificationView {
                id: n.id,
                kind: n.notice.kind,
                subject,
                text,
                link: n.notice.link,
                created_at: n.created_at.into(),
                read: n.read_at.is_some(),
            }
        })
        .collect();
    Ok(NotificationList {
        unread,
        notifications,
    })
}

/// `GET /api/v1/me/notifications`: the latest notices, newest first.
pub async fn api(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<NotificationList>> {
    Ok(Json(list(&state, &ctx).await?))
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage<'a> {
    page: PageCtx<'a>,
    list: NotificationList,
}

/// `GET /inbox`: the notices; opening it marks them read.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let list = list(&state, &ctx).await?;
    if list.unread > 0 {
        state
            .store
            .mark_notifications_read(ctx.caller.user()?.id, state.app.clock.now())
            .await?;
    }
    let page = PageCtx::new(&state, &ctx, "/inbox");
    html(StatusCode::OK, InboxPage { page, list })
}
