//! A provider's members and their roles.

use askama::Template;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::policy::{Action, Resource};
use store::orgs::OrgRecord;

use crate::ctx::{Ctx, FormPost};
use crate::error::{AppResult, FieldError};
use crate::labels::Labels;
use crate::page::PageCtx;
use crate::page::html;
use crate::state::AppState;

use super::message;
use crate::error::ErrorCode;

#[derive(Template)]
#[template(path = "console/members.html")]
struct MembersPage<'a> {
    page: PageCtx<'a>,
    org: String,
    slug: String,
    can_manage: bool,
    /// (email, name, role label)
    members: Vec<(String, String, String)>,
    roles: Vec<(&'static str, String, bool)>,
    email: String,
    errors: Vec<(String, String)>,
}

impl MembersPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        crate::page::message_at(&self.errors, field)
    }
}

async fn members_page(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    status: StatusCode,
    form: (&str, &str),
    errors: &[FieldError],
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let pctx = PageCtx::new(state, ctx, &format!("/console/orgs/{}/members", org.slug));
    let members = state
        .store
        .members(org.id)
        .await?
        .into_iter()
        .map(|m| (m.email, m.display_name, pctx.t(&format!("role.{}", m.role))))
        .collect();
    let roles = domain::roles::OrgRole::ALL
        .iter()
        .map(|r| {
            (
                r.as_str(),
                pctx.t(&format!("role.{r}")),
                form.1 == r.as_str(),
            )
        })
        .collect();
    let view = MembersPage {
        org: labels.org(&org.slug),
        slug: org.slug.clone(),
        can_manage: ctx
            .authorize(Action::ManageMembers, Resource::Organization(org.id))
            .is_ok(),
        members,
        roles,
        email: form.0.to_owned(),
        errors: errors
            .iter()
            .map(|e| (e.field.clone(), message(state, ctx.lang, e)))
            .collect(),
        page: pctx,
    };
    html(status, view)
}

/// The organization's members and their roles; its administrators add people by email.
pub async fn members(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    members_page(&state, &ctx, &org, StatusCode::OK, ("", "editor"), &[]).await
}

pub async fn set_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let (email, role) = (form.values.get("email"), form.values.get("role"));
    match app::accounts::set_member(&state.app, &ctx.caller, &org, email, role).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/orgs/{}/members", org.slug)).into_response()),
        Err(e) => {
            // Leaving the organization without an administrator is said at the role, with
            // the form kept, like any other problem of the form.
            let (status, errors) = if e.code == ErrorCode::LastAdmin {
                let last = FieldError::new("role", "last_admin");
                (StatusCode::CONFLICT, vec![last])
            } else {
                (StatusCode::UNPROCESSABLE_ENTITY, e.into_field_errors()?)
            };
            members_page(&state, &ctx, &org, status, (email, role), &errors).await
        }
    }
}
