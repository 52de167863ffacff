//! A provider's data use agreement template (A20.1): read by its members, the operator and the
//! regulator; written by its admins and the operator, in the API and on a console page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use domain::policy::{Action, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::orgs::OrgRecord;

use crate::ctx::{ApiJson, Ctx, FormPost, Params};
use crate::error::{AppError, AppResult};
use crate::page::{PageCtx, html};
use crate::state::AppState;

/// The template an organization's agreements are generated from.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateView {
    pub text: String,
    /// The platform's default, the organization having none of its own.
    pub default: bool,
    /// The placeholders a template may use, each written `{{name}}`.
    pub placeholders: Vec<String>,
    /// Those it must use.
    pub required: Vec<String>,
}

async fn view(state: &AppState, org: &OrgRecord) -> AppResult<TemplateView> {
    let (text, default) = app::agreements::template(&state.app, org.id).await?;
    Ok(TemplateView {
        text,
        default,
        placeholders: app::agreements::PLACEHOLDERS
            .iter()
            .map(|p| (*p).to_owned())
            .collect(),
        required: app::agreements::REQUIRED_PLACEHOLDERS
            .iter()
            .map(|p| (*p).to_owned())
            .collect(),
    })
}

/// `GET /api/v1/orgs/{org}/agreement-template`.
pub async fn show(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Json<TemplateView>> {
    Ok(Json(view(&state, &org).await?))
}

/// A template to save.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    text: String,
}

/// `PUT /api/v1/orgs/{org}/agreement-template`.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> AppResult<Json<TemplateView>> {
    app::agreements::save_template(&state.app, &ctx.caller, org.id, &input.text).await?;
    Ok(Json(view(&state, &org).await?))
}

#[derive(Template)]
#[template(path = "console/agreement_template.html")]
struct TemplatePage<'a> {
    page: PageCtx<'a>,
    slug: String,
    org: String,
    view: TemplateView,
    text: String,
    editable: bool,
    saved: bool,
    errors: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    saved: Option<String>,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    status: StatusCode,
    typed: Option<String>,
    saved: bool,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let view = view(state, org).await?;
    let page = PageCtx::new(
        state,
        ctx,
        &format!("/console/orgs/{}/agreement-template", org.slug),
    );
    html(
        status,
        TemplatePage {
            slug: org.slug.clone(),
            org: org.name_zh.clone(),
            text: typed.unwrap_or_else(|| view.text.clone()),
            view,
            editable: ctx
                .authorize(
                    Action::EditAgreementTemplate,
                    Resource::Organization(org.id),
                )
                .is_ok(),
            saved,
            errors,
            page,
        },
    )
}

/// `GET /console/orgs/{org}/agreement-template`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<PageQuery>,
) -> AppResult<Response> {
    render(
        &state,
        &ctx,
        &org,
        StatusCode::OK,
        None,
        q.saved.is_some(),
        Vec::new(),
    )
    .await
}

/// `POST /console/orgs/{org}/agreement-template`.
pub async fn save_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let text = form.values.get("text").to_owned();
    match app::agreements::save_template(&state.app, &ctx.caller, org.id, &text).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/console/orgs/{}/agreement-template?saved=1",
            org.slug
        ))
        .into_response()),
        Err(e) => {
            let page = PageCtx::new(&state, &ctx, "/console");
            let errors = super::applications::messages(&page, AppError(e))?;
            render(
                &state,
                &ctx,
                &org,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(text),
                false,
                errors,
            )
            .await
        }
    }
}
