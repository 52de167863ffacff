//! The provider's public data catalogue (A9.5) and the timeliness of its data (A9.4).

use askama::Template;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;

use crate::ctx::{Ctx, FormPost, Params};
use crate::error::AppResult;
use crate::labels::Labels;
use crate::page::PageCtx;
use crate::page::html;
use crate::state::AppState;

use super::message;

pub struct CatalogueRow {
    id: String,
    code: String,
    name: String,
    description: String,
    source_system: String,
    /// How many open-list entries use the item; none means unopened data.
    entries: i64,
}

#[derive(Template)]
#[template(path = "console/catalogue.html")]
struct CataloguePage<'a> {
    page: PageCtx<'a>,
    org: String,
    slug: String,
    can_edit: bool,
    items: Vec<CatalogueRow>,
    csv: String,
    /// (added, updated) after an import.
    imported: Option<(String, String)>,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub struct Imported {
    #[serde(default)]
    added: Option<String>,
    #[serde(default)]
    updated: Option<String>,
}

async fn catalogue_page(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    status: StatusCode,
    csv: String,
    imported: Option<(String, String)>,
    errors: Vec<String>,
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let usage = state.store.catalogue_usage(org.id).await?;
    let items = state
        .store
        .catalogue(org.id)
        .await?
        .into_iter()
        .map(|c| CatalogueRow {
            entries: usage.get(&c.id).copied().unwrap_or(0),
            id: c.id.to_string(),
            code: c.code,
            name: c.name,
            description: c.description,
            source_system: c.source_system,
        })
        .collect();
    let view = CataloguePage {
        org: labels.org(&org.slug),
        slug: org.slug.clone(),
        can_edit: ctx
            .authorize(Action::EditOpenList, Resource::Organization(org.id))
            .is_ok(),
        items,
        csv,
        imported,
        errors,
        page: PageCtx::new(state, ctx, &format!("/console/orgs/{}/catalogue", org.slug)),
    };
    html(status, view)
}

/// The organization's public data catalogue (A9.5), and a form to import items as CSV.
pub async fn catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<Imported>,
) -> AppResult<Response> {
    let imported = q.added.zip(q.updated);
    catalogue_page(
        &state,
        &ctx,
        &org,
        StatusCode::OK,
        String::new(),
        imported,
        Vec::new(),
    )
    .await
}

/// Imports pasted (or, with JavaScript, chosen) CSV: all rows or none, every bad row named.
pub async fn import_catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let csv = form.values.get("csv").to_owned();
    let result = match app::catalogue::parse_csv(&csv) {
        Ok(rows) => app::catalogue::import(&state.app, &ctx.caller, &org, rows).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((added, updated)) => Ok(Redirect::to(&format!(
            "/console/orgs/{}/catalogue?added={added}&updated={updated}",
            org.slug
        ))
        .into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let messages = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, message(&state, ctx.lang, e)))
                .collect();
            catalogue_page(
                &state,
                &ctx,
                &org,
                StatusCode::UNPROCESSABLE_ENTITY,
                csv,
                None,
                messages,
            )
            .await
        }
    }
}

/// Records that a published entry's data was updated (A9.4), from the dashboard's timeliness
/// list.
pub async fn record_data_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    _form: FormPost,
) -> AppResult<Response> {
    app::catalogue::record_data_update(&state.app, &ctx.caller, &d).await?;
    Ok(Redirect::to(&format!("/console/orgs/{}#timeliness", org.slug)).into_response())
}
