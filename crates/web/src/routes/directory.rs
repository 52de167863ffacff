//! `/orgs` and `/domains`: every data provider and every domain, grouped as people know them
//! (市级部门, 区, 公共服务企业; the three groups of domains of A6), each with how many entries
//! it has published.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::roles::OrgKind;
use search::{FacetField, SearchQuery};

use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::labels::Labels;
use crate::page::{PageCtx, html};
use crate::routes::api_search::run;
use crate::state::AppState;

/// An entry of the directory.
pub struct Entry {
    label: String,
    href: String,
    count: u64,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage<'a> {
    page: PageCtx<'a>,
    title: String,
    lead: String,
    /// (heading, entries) in the order people expect.
    groups: Vec<(String, Vec<Entry>)>,
}

/// How many public entries each value of `field` has.
fn counts(state: &AppState, field: FacetField) -> AppResult<HashMap<String, u64>> {
    let q = SearchQuery {
        limit: 0,
        facet_fields: vec![field],
        facet_limit: 10_000,
        ..Default::default()
    };
    let results = run(state, q)?;
    Ok(results
        .facets
        .iter()
        .flat_map(|(_, values)| values.iter().cloned())
        .collect())
}

/// Entries with most published first, then by name.
fn sorted(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    entries
}

pub async fn providers(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let counts = counts(&state, FacetField::Provider)?;
    let labels = Labels::load(&state, ctx.lang).await?;
    let orgs = state.store.list_orgs().await?;
    let page = PageCtx::new(&state, &ctx, "/orgs");
    let groups = [OrgKind::Bureau, OrgKind::District, OrgKind::Utility]
        .into_iter()
        .map(|kind| {
            let entries = orgs
                .iter()
                .filter(|o| o.kind == kind)
                .map(|o| Entry {
                    label: labels.org(&o.slug),
                    href: format!("/orgs/{}", o.slug),
                    count: counts.get(&o.slug).copied().unwrap_or(0),
                })
                .collect();
            (
                page.t(&format!("org.kind.{}", kind.as_str())),
                sorted(entries),
            )
        })
        .filter(|(_, entries)| !entries.is_empty())
        .collect();
    let view = DirectoryPage {
        title: page.t("directory.orgs"),
        lead: page.t("directory.orgs_lead"),
        groups,
        page,
    };
    html(StatusCode::OK, view)
}

pub async fn domains(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let counts = counts(&state, FacetField::Domain)?;
    let labels = Labels::load(&state, ctx.lang).await?;
    let domains = state.store.domains().await?;
    let page = PageCtx::new(&state, &ctx, "/domains");
    let mut group_codes: Vec<&str> = Vec::new();
    for d in &domains {
        if !group_codes.contains(&d.domain_group.as_str()) {
            group_codes.push(&d.domain_group);
        }
    }
    let groups = group_codes
        .into_iter()
        .map(|group| {
            let entries = domains
                .iter()
                .filter(|d| d.domain_group == group)
                .map(|d| Entry {
                    label: labels.domain(&d.code),
                    href: format!("/domains/{}", d.code),
                    count: counts.get(&d.code).copied().unwrap_or(0),
                })
                .collect();
            (page.t(&format!("domain_group.{group}")), sorted(entries))
        })
        .collect();
    let view = DirectoryPage {
        title: page.t("directory.domains"),
        lead: page.t("directory.domains_lead"),
        groups,
        page,
    };
    html(StatusCode::OK, view)
}
