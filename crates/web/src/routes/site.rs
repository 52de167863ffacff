//! The pages every portal carries and every page's footer links to: about the platform, the
//! data use agreement, privacy, contact, accessibility (each the operator's article for it, or
//! the platform's default text), and the API documentation for people.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::articles::SitePage;
use search::SearchQuery;

use crate::articles::render_markdown;
use crate::ctx::Ctx;
use crate::error::{AppResult, ErrorCode};
use crate::page::{PageCtx, html, when};
use crate::routes::api_search::run;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "site_page.html")]
struct SitePageView<'a> {
    page: PageCtx<'a>,
    title: String,
    body_html: String,
    /// When the operator's text was last changed; none for the platform's default text.
    updated: Option<String>,
    /// The operator's own text (an article), which those who write articles may edit.
    edit_href: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let which: SitePage = code.parse().map_err(|_| ErrorCode::NotFound)?;
    let article = state.store.site_page(which).await?;
    let pctx = PageCtx::new(&state, &ctx, &format!("/pages/{code}"));
    let may_edit = ctx
        .authorize(
            domain::policy::Action::PublishArticles,
            domain::policy::Resource::Platform,
        )
        .is_ok();
    let view = match article {
        Some(a) => SitePageView {
            title: a.title,
            body_html: render_markdown(&a.body),
            updated: Some(when(a.updated_at)),
            edit_href: may_edit.then(|| format!("/console/articles/{}/edit", a.id)),
            page: pctx,
        },
        None => {
            let body = default_text(&pctx, which);
            SitePageView {
                title: pctx.t(&format!("site_page.{code}.title")),
                body_html: render_markdown(&body),
                updated: None,
                edit_href: may_edit.then(|| "/console/articles/new".to_owned()),
                page: pctx,
            }
        }
    };
    html(StatusCode::OK, view)
}

/// The platform's own text for `which`, with the deployment's settings filled in.
fn default_text(page: &PageCtx, which: SitePage) -> String {
    let site = page.site;
    let unset = || page.t("site_page.unset");
    page.tfs(
        &format!("site_page.{}.body", which.as_str()),
        &[
            ("site_name", page.t("site.name")),
            ("sponsor", site.sponsor.clone().unwrap_or_else(unset)),
            ("organizer", site.organizer.clone().unwrap_or_else(unset)),
            ("contact", site.contact.clone().unwrap_or_else(unset)),
        ],
    )
}

#[derive(Template)]
#[template(path = "developers.html")]
struct DevelopersView<'a> {
    page: PageCtx<'a>,
    /// Where this deployment answers, for examples that work when pasted.
    base: String,
    /// A dataset that is public here, for the examples; a placeholder when none is.
    example_id: String,
}

/// `/developers`: how to call the API, for people (the OpenAPI document is for programs).
pub async fn developers(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let first = run(
        &state,
        SearchQuery {
            limit: 1,
            ..Default::default()
        },
    )?;
    let view = DevelopersView {
        base: state.config.public_url.trim_end_matches('/').to_owned(),
        example_id: first
            .hits
            .first()
            .map(|h| h.id.clone())
            .unwrap_or_else(|| "DATASET_ID".to_owned()),
        page: PageCtx::new(&state, &ctx, "/developers"),
    };
    html(StatusCode::OK, view)
}
