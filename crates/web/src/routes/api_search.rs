//! `GET /api/v1/datasets`: search the open list (A25.3).
//!
//! Parameters: `q` (any text), filters `domain`, `provider`, `open_type`, `format`,
//! `update_frequency`, `area`, `tag` (each may repeat: values of one filter are alternatives),
//! `sort` (`relevance`, `newest`, `most_used`), `page` (from 1), `per_page` (1 to 100),
//! `facets` (comma-separated filter names; default all).

use axum::extract::{RawQuery, State};
use schemars::JsonSchema;
use search::{FacetField, SearchQuery, Sort};
use serde::Serialize;

use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::state::AppState;

pub fn facet_name(f: FacetField) -> &'static str {
    match f {
        FacetField::Domain => "domain",
        FacetField::Provider => "provider",
        FacetField::OpenType => "open_type",
        FacetField::Format => "format",
        FacetField::UpdateFrequency => "update_frequency",
        FacetField::Area => "area",
        FacetField::Tag => "tag",
        FacetField::Licence => "licence",
    }
}

pub fn facet_by_name(name: &str) -> Option<FacetField> {
    FacetField::ALL
        .iter()
        .copied()
        .find(|f| facet_name(*f) == name)
}

/// Runs a search on the calling thread. An uncached search takes well under a millisecond of
/// CPU, less than handing it to another thread and waking this one costs: measured, running
/// searches on a blocking pool gave a fifth less throughput.
pub fn run(state: &AppState, q: SearchQuery) -> AppResult<std::sync::Arc<search::SearchResults>> {
    state.search.search(&q).map_err(|e| {
        tracing::error!(error = %e, "search failed");
        AppError::new(ErrorCode::Internal)
    })
}

/// A placeholder string put into an answer where a list of stored JSON documents goes.
/// Unguessable per answer, so no stored text can pose as it.
pub struct Slot(String);

impl Default for Slot {
    fn default() -> Self {
        Slot(format!("\u{0}{}\u{0}", app::secrets::random_secret()))
    }
}

impl Slot {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serializes `answer`, in which this slot stands, with the slot replaced by a JSON array
    /// of `items`: stored JSON documents written by the indexer, passed through without being
    /// parsed again.
    pub fn fill<'a>(
        &self,
        answer: &impl Serialize,
        items: impl Iterator<Item = &'a str>,
    ) -> String {
        let outline = serde_json::to_string(answer).unwrap_or_default();
        let placeholder = serde_json::to_string(&self.0).unwrap_or_default();
        let Some(at) = outline.find(&placeholder) else {
            return outline;
        };
        let items: Vec<&str> = items.collect();
        let mut body =
            String::with_capacity(outline.len() + items.iter().map(|i| i.len() + 1).sum::<usize>());
        body.push_str(&outline[..at]);
        body.push('[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(item);
        }
        body.push(']');
        body.push_str(&outline[at + placeholder.len()..]);
        body
    }
}

impl Serialize for Slot {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A JSON response from an already serialized body.
pub fn json_body(body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// A search as asked in a URL's query string, and the page of hits wanted.
pub struct SearchParams {
    pub query: SearchQuery,
    pub page: usize,
}

/// Reads the search parameters of a query string, starting from `defaults`. Every wrong
/// parameter is reported at once.
pub fn parse_params(raw: &str, defaults: SearchQuery) -> Result<SearchParams, AppError> {
    let mut q = defaults;
    let (mut page, mut errors) = (1usize, Vec::new());
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "q" => q.text = value,
            "sort" => match value.as_str() {
                "relevance" | "" => q.sort = Sort::Relevance,
                "newest" => q.sort = Sort::Newest,
                "most_used" => q.sort = Sort::MostUsed,
                _ => errors.push(FieldError {
                    field: "sort".into(),
                    code: "invalid_sort",
                    detail: Some(value),
                }),
            },
            "page" => match value.parse::<usize>() {
                Ok(p) if (1..=10_000).contains(&p) => page = p,
                _ => errors.push(FieldError::new("page", "invalid_page")),
            },
            "per_page" => match value.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => q.limit = n,
                _ => errors.push(FieldError::new("per_page", "invalid_page")),
            },
            "facets" => {
                q.facet_fields.clear();
                for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match facet_by_name(name) {
                        Some(f) => q.facet_fields.push(f),
                        None => errors.push(FieldError {
                            field: "facets".into(),
                            code: "unknown_facet",
                            detail: Some(name.into()),
                        }),
                    }
                }
            }
            // Parameters the API does not know are ignored, here as on every route
            // (docs/decisions/0005-api-parameters.md).
            other => {
                if let Some(f) = facet_by_name(other).filter(|_| !value.is_empty()) {
                    q.filters.push((f, value));
                }
            }
        }
    }
    // Each filter value is a clause of the query: bounded like any list a request carries.
    if q.filters.len() > domain::bounded::MAX_LIST {
        errors.push(FieldError {
            field: "filters".into(),
            code: "too_many",
            detail: Some(domain::bounded::MAX_LIST.to_string()),
        });
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    q.offset = (page - 1) * q.limit;
    Ok(SearchParams { query: q, page })
}

pub async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<axum::response::Response> {
    let defaults = SearchQuery {
        limit: 20,
        facet_limit: 50,
        facet_fields: FacetField::ALL.to_vec(),
        ..Default::default()
    };
    let SearchParams { query: q, page } = parse_params(raw.as_deref().unwrap_or(""), defaults)?;
    let per_page = q.limit;
    let results = run(&state, q)?;
    let slot = Slot::new();
    let answer = Listing {
        count: results.total,
        page,
        per_page,
        results: &slot,
        facets: Facets(&results.facets),
    };
    Ok(json_body(slot.fill(
        &answer,
        results.hits.iter().map(|h| h.payload.as_str()),
    )))
}

/// The answer of `GET /api/v1/datasets`, serialized as it is (no tree of JSON values is built:
/// a search answer is the hottest thing the server writes).
#[derive(Serialize, JsonSchema)]
pub struct Listing<'a> {
    /// Entries that match, on every page.
    count: usize,
    page: usize,
    per_page: usize,
    #[schemars(with = "Vec<crate::openlist::DatasetView>")]
    results: &'a Slot,
    /// For each facet asked for, its values and how many matching entries have each.
    #[schemars(with = "std::collections::BTreeMap<String, Vec<FacetCount<'static>>>")]
    facets: Facets<'a>,
}

/// The query parameters of `GET /api/v1/datasets`. Each filter may repeat: values of one
/// filter are alternatives, filters together must all hold.
#[derive(JsonSchema)]
pub struct SearchParamsDoc {
    /// Words to look for, in names, summaries, keywords and data items.
    pub q: Option<String>,
    pub sort: Option<SortName>,
    #[schemars(range(min = 1, max = 10_000))]
    pub page: Option<u16>,
    #[schemars(range(min = 1, max = 100))]
    pub per_page: Option<u8>,
    /// Facets to count, comma-separated: domain, provider, open_type, format,
    /// update_frequency, area, tag, licence. All when not given.
    pub facets: Option<String>,
    /// A domain's code.
    pub domain: Option<Vec<String>>,
    /// A provider's slug.
    pub provider: Option<Vec<String>>,
    pub open_type: Option<Vec<domain::openlist::vocab::OpenType>>,
    /// A format's code.
    pub format: Option<Vec<String>>,
    pub update_frequency: Option<Vec<domain::openlist::vocab::UpdateFrequency>>,
    /// A district's code.
    pub area: Option<Vec<String>>,
    /// A keyword.
    pub tag: Option<Vec<String>>,
    pub licence: Option<Vec<String>>,
}

/// How results are ordered.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortName {
    Relevance,
    Newest,
    MostUsed,
}

/// Facet name → `[{value, count}]`, most frequent first.
struct Facets<'a>(&'a [(FacetField, Vec<(String, u64)>)]);

#[derive(Serialize, JsonSchema)]
pub struct FacetCount<'a> {
    value: &'a str,
    count: u64,
}

impl Serialize for Facets<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(field, values)| {
            let counts: Vec<FacetCount> = values
                .iter()
                .map(|(value, count)| FacetCount {
                    value,
                    count: *count,
                })
                .collect();
            (facet_name(*field), counts)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_slot_takes_stored_documents_as_they_are_and_nothing_else() {
        let slot = Slot::new();
        // Text that looks like a placeholder elsewhere in the answer is left alone.
        let answer = json!({ "facets": ["\u{0}results\u{0}"], "results": slot });
        let body = slot.fill(&answer, [r#"{"id":"a"}"#, r#"{"id":"b"}"#].into_iter());
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["results"], json!([{ "id": "a" }, { "id": "b" }]));
        assert_eq!(parsed["facets"][0], "\u{0}results\u{0}");
        let empty: Value = serde_json::from_str(&slot.fill(&answer, std::iter::empty())).unwrap();
        assert_eq!(empty["results"], json!([]));
    }
}
