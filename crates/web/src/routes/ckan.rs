//! CKAN-compatible read actions under `/api/3/action/` (and `/api/action/`), so that existing
//! CKAN clients and harvesters work: `package_list`, `package_search`, `package_show`,
//! `organization_list`, `organization_show`, `tag_list`, `status_show`.
//!
//! Answers use CKAN's envelope, `{help, success, result}` or `{help, success: false, error:
//! {__type, message}}`, with CKAN's status codes. Parameters come from the query string (GET)
//! or a JSON object (POST), as CKAN accepts both. Only public entries are ever listed.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use search::{FacetField, SearchQuery, Sort};
use serde_json::{Map, Value, json};

use crate::ctx::Ctx;
use crate::openlist::can_see;
use crate::routes::api_search;
use crate::state::AppState;

/// A CKAN error: its `__type`, the message, the status.
struct CkanError {
    kind: &'static str,
    message: Value,
    status: StatusCode,
}

impl CkanError {
    fn validation(field: &str, message: &str) -> Self {
        let mut m = Map::new();
        m.insert(field.to_owned(), json!([message]));
        Self {
            kind: "Validation Error",
            message: Value::Object(m),
            status: StatusCode::CONFLICT,
        }
    }

    fn not_found(what: &str) -> Self {
        Self {
            kind: "Not Found Error",
            message: json!(format!("Not found: {what}")),
            status: StatusCode::NOT_FOUND,
        }
    }

    fn query(message: String) -> Self {
        Self {
            kind: "Search Query Error",
            message: json!(message),
            status: StatusCode::CONFLICT,
        }
    }

    fn internal() -> Self {
        Self {
            kind: "Internal Error",
            message: json!("Internal error"),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<crate::error::AppError> for CkanError {
    fn from(e: crate::error::AppError) -> Self {
        match e.code {
            crate::error::ErrorCode::NotFound => CkanError::not_found("resource"),
            _ => CkanError::internal(),
        }
    }
}

impl From<store::StoreError> for CkanError {
    fn from(e: store::StoreError) -> Self {
        crate::error::AppError::from(e).into()
    }
}

type CkanResult = Result<Value, CkanError>;

/// An action's result: a plain value, or one already serialized (a search answer, with the
/// stored package dicts spliced in as they are: see `api_search::Slot`).
enum Answer {
    Plain(Value),
    Serialized(String),
}

/// Parameters of an action, from the query string or a JSON body.
struct Params(BTreeMap<String, Value>);

impl Params {
    fn parse(method: &Method, raw_query: Option<&str>, body: &[u8]) -> Result<Params, CkanError> {
        let mut map = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(raw_query.unwrap_or("").as_bytes()) {
            map.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        if *method == Method::POST && !body.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(obj)) => map.extend(obj),
                _ => {
                    return Err(CkanError {
                        kind: "Bad Request",
                        message: json!(
                            "Bad request - JSON Error: could not parse the body as a JSON object"
                        ),
                        status: StatusCode::BAD_REQUEST,
                    });
                }
            }
        }
        Ok(Params(map))
    }

    fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    fn int(&self, key: &str, default: i64, min: i64, max: i64) -> Result<i64, CkanError> {
        let Some(v) = self.0.get(key) else {
            return Ok(default);
        };
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) if s.trim().is_empty() => return Ok(default),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            Some(_) => Err(CkanError::validation(
                key,
                &format!("Must be between {min} and {max}"),
            )),
            None => Err(CkanError::validation(key, "Invalid integer")),
        }
    }

    fn bool(&self, key: &str) -> bool {
        match self.0.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => {
                matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
            }
            _ => false,
        }
    }

    /// A list given as a JSON array, or as a string holding one (`'["tags","organization"]'`).
    fn list(&self, key: &str) -> Result<Vec<String>, CkanError> {
        let value = match self.0.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::String(s)) => serde_json::from_str::<Value>(s)
                .map_err(|_| CkanError::validation(key, "Must be a JSON list of strings"))?,
            Some(v) => v.clone(),
        };
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| CkanError::validation(key, "Must be a JSON list of strings"))
                })
                .collect(),
            _ => Err(CkanError::validation(key, "Must be a JSON list of strings")),
        }
    }
}

/// CKAN field names that `fq` and `facet.field` understand, and the index field each is.
fn ckan_field(name: &str) -> Option<FacetField> {
    Some(match name {
        "organization" => FacetField::Provider,
        "tags" => FacetField::Tag,
        "res_format" => FacetField::Format,
        "open_type" => FacetField::OpenType,
        "groups" | "domain" => FacetField::Domain,
        "update_frequency" => FacetField::UpdateFrequency,
        "area" => FacetField::Area,
        _ => return None,
    })
}

fn ckan_name(f: FacetField) -> &'static str {
    match f {
        FacetField::Provider => "organization",
        FacetField::Tag => "tags",
        FacetField::Format => "res_format",
        FacetField::OpenType => "open_type",
        FacetField::Domain => "groups",
        FacetField::UpdateFrequency => "update_frequency",
        FacetField::Area => "area",
    }
}

/// Parses CKAN's `fq`: clauses `field:value` or `field:"quoted value"`, optionally prefixed by
/// `+`, separated by spaces. Unknown fields and other syntax are refused.
fn parse_fq(fq: &str) -> Result<Vec<(FacetField, String)>, CkanError> {
    let mut out = Vec::new();
    let mut rest = fq.trim();
    while !rest.is_empty() {
        let clause = rest.trim_start_matches('+');
        let Some((field, after)) = clause.split_once(':') else {
            return Err(CkanError::query(format!("Invalid fq clause: {clause}")));
        };
        let facet = ckan_field(field.trim())
            .ok_or_else(|| CkanError::query(format!("Unknown fq field: {}", field.trim())))?;
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| CkanError::query("Unterminated quote in fq".to_owned()))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if value.is_empty() {
            return Err(CkanError::query(format!(
                "Empty value for fq field {}",
                field.trim()
            )));
        }
        let value = if facet == FacetField::Format {
            value.to_ascii_lowercase()
        } else {
            value.to_owned()
        };
        out.push((facet, value));
        rest = remaining.trim();
    }
    Ok(out)
}

fn parse_sort(sort: Option<String>) -> Result<Sort, CkanError> {
    let Some(sort) = sort.filter(|s| !s.trim().is_empty()) else {
        return Ok(Sort::Relevance);
    };
    let first = sort
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match first.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["score", "desc"] | ["score"] | ["rank", "desc"] => Ok(Sort::Relevance),
        ["metadata_modified", "desc"] | ["metadata_created", "desc"] => Ok(Sort::Newest),
        ["views_recent", "desc"] | ["views_total", "desc"] | ["num_downloads", "desc"] => {
            Ok(Sort::MostUsed)
        }
        _ => Err(CkanError::validation(
            "sort",
            "Supported: score desc, metadata_modified desc, views_recent desc",
        )),
    }
}

/// CKAN's timestamp shape: local time without offset, microseconds. Shown in China Standard Time.
fn ckan_time(rfc3339: &Value) -> Value {
    match rfc3339
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    {
        Some(t) => json!(t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()),
        None => Value::Null,
    }
}

/// Turns our public JSON of an entry into a CKAN package dict. The rules' metadata (A9) that
/// CKAN has no field for goes into `extras`.
pub(crate) fn package(d: &Value, public_url: &str) -> Value {
    let m = &d["metadata"];
    let id = d["id"].as_str().unwrap_or_default();
    let org = &d["provider"];
    let tags: Vec<Value> = m["keywords"]
        .as_array()
        .map(|k| k.iter().filter_map(Value::as_str).map(|t| json!({ "name": t, "display_name": t, "state": "active", "vocabulary_id": null })).collect())
        .unwrap_or_default();
    let landing = format!("{}/datasets/{id}", public_url.trim_end_matches('/'));
    let resources: Vec<Value> = m["formats"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(Value::as_str)
                .enumerate()
                .map(|(i, f)| {
                    json!({
                        "id": format!("{id}-{f}"), "package_id": id, "position": i,
                        "name": format!("{} ({})", m["name"].as_str().unwrap_or_default(), f.to_ascii_uppercase()),
                        "format": f.to_ascii_uppercase(), "url": landing, "state": "active",
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let extra = |key: &str, value: &Value| {
        let v = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        json!({ "key": key, "value": v })
    };
    let extras = vec![
        extra("open_type", &m["open_type"]),
        extra("domain", &m["domain"]),
        extra("update_frequency", &m["update_frequency"]),
        extra("time_range", &m["time_range"]),
        extra("spatial_range", &m["spatial"]),
        extra("data_items", &m["data_items"]),
        extra("open_conditions", &m["conditions"]),
        extra("required_materials", &m["materials"]),
        extra("relations", &m["relations"]),
        extra("contact", &m["contact"]),
        extra("source", &m["source"]),
        extra("source_note", &m["source_note"]),
        extra("citation", &d["citation"]),
        extra("version", &d["version"]),
        extra("status", &d["status"]),
    ];
    json!({
        "id": id,
        "name": id,
        "title": m["name"],
        "notes": m["summary"],
        "type": "dataset",
        "state": "active",
        "private": false,
        "url": landing,
        "version": d["version"].as_i64().map(|v| v.to_string()),
        "author": org["name_zh"],
        "maintainer": m["contact"]["name"],
        "maintainer_email": m["contact"]["email"],
        "license_id": m["license"],
        "license_title": m["license"],
        "metadata_created": ckan_time(&d["created_at"]),
        "metadata_modified": ckan_time(&d["updated_at"]),
        "owner_org": org["id"],
        "organization": {
            "id": org["id"], "name": org["slug"], "title": org["name_zh"], "type": "organization",
            "state": "active", "is_organization": true, "approval_status": "approved",
        },
        "tags": tags,
        "num_tags": m["keywords"].as_array().map_or(0, Vec::len),
        "resources": resources,
        "num_resources": m["formats"].as_array().map_or(0, Vec::len),
        "groups": [{ "name": m["domain"], "title": m["domain"] }],
        "extras": extras,
    })
}

fn organization(o: &store::orgs::OrgRecord, package_count: Option<u64>) -> Value {
    json!({
        "id": o.id, "name": o.slug, "title": o.name_zh, "display_name": o.name_zh,
        "description": o.name_en, "type": "organization", "state": "active",
        "is_organization": true, "approval_status": "approved",
        "created": ckan_time(&json!(o.created_at.to_rfc3339())),
        "package_count": package_count.unwrap_or(0),
        "image_url": "", "extras": [{ "key": "kind", "value": o.kind.as_str() }],
    })
}

pub async fn action(
    State(state): State<AppState>,
    ctx: Ctx,
    method: Method,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let help = format!(
        "{}/api/3/action/help_show?name={name}",
        state.config.public_url.trim_end_matches('/')
    );
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("application/json"));
    let result = match Params::parse(&method, raw.as_deref(), if json_body { &body } else { &[] }) {
        Ok(params) if name == "package_search" => package_search(&state, &params).await,
        Ok(params) => dispatch(&state, &ctx, &name, &params)
            .await
            .map(Answer::Plain),
        Err(e) => Err(e),
    };
    match result {
        Ok(Answer::Plain(result)) => (
            StatusCode::OK,
            axum::Json(json!({ "help": help, "success": true, "result": result })),
        )
            .into_response(),
        Ok(Answer::Serialized(result)) => api_search::json_body(format!(
            r#"{{"help":{},"success":true,"result":{result}}}"#,
            Value::from(help)
        )),
        Err(e) => {
            let mut error = json!({ "__type": e.kind });
            match e.message {
                Value::Object(fields) => {
                    for (k, v) in fields {
                        error[k] = v;
                    }
                    error["message"] = json!(format!("{}: see the fields", e.kind));
                }
                message => error["message"] = message,
            }
            let mut response = (
                e.status,
                axum::Json(json!({ "help": help, "success": false, "error": error })),
            )
                .into_response();
            response
                .extensions_mut()
                .insert(crate::render::OwnErrorShape);
            response
        }
    }
}

/// The most entries one answer holds (CKAN's `ckan.search.rows_max`); larger asks are clamped.
const MAX_ROWS: i64 = 1000;

async fn dispatch(state: &AppState, ctx: &Ctx, name: &str, p: &Params) -> CkanResult {
    match name {
        "status_show" => Ok(json!({
            "site_title": state.messages.get(crate::i18n::Lang::Zh, "site.name"),
            "site_url": state.config.public_url,
            "site_description": state.messages.get(crate::i18n::Lang::Zh, "home.lead"),
            "ckan_version": "2.10.4",
            "locale_default": "zh_Hans_CN",
            "error_emails_to": null,
            "extensions": ["kaifang"],
        })),
        "package_list" => {
            // Asked for more than a page holds, a client gets a full page, as from CKAN.
            let limit = p.int("limit", MAX_ROWS, 1, i64::MAX)?.min(MAX_ROWS);
            let offset = p.int("offset", 0, 0, i64::MAX)?;
            Ok(json!(state.store.public_dataset_ids(limit, offset).await?))
        }
        "current_package_list_with_resources" => {
            // CKAN pages by `limit` and `page` (from 1); an answer holds at most MAX_ROWS.
            let limit = p.int("limit", MAX_ROWS, 1, i64::MAX)?.min(MAX_ROWS);
            let page = p.int("page", 1, 1, i64::MAX / MAX_ROWS)?;
            let offset = p.int("offset", (page - 1) * limit, 0, i64::MAX)?;
            let list = state.store.public_datasets_recent(limit, offset).await?;
            let orgs: std::collections::HashMap<_, _> = state
                .store
                .list_orgs()
                .await?
                .into_iter()
                .map(|o| (o.id, o))
                .collect();
            let packages: Vec<Value> = list
                .iter()
                .filter_map(|d| {
                    let org = orgs.get(&d.org_id)?;
                    Some(package(
                        &crate::openlist::public_dataset_json(state, d, org),
                        &state.config.public_url,
                    ))
                })
                .collect();
            Ok(Value::Array(packages))
        }
        "package_show" => {
            let id = p
                .str("id")
                .or_else(|| p.str("name"))
                .ok_or_else(|| CkanError::validation("id", "Missing value"))?;
            let d = match state.store.dataset(&id).await {
                Ok(d) if can_see(ctx, &d) => d,
                Ok(_) | Err(store::StoreError::NotFound) => {
                    return Err(CkanError::not_found("Dataset"));
                }
                Err(e) => return Err(e.into()),
            };
            let org = state.store.org(&d.org_id.to_string()).await?;
            Ok(package(
                &crate::openlist::public_dataset_json(state, &d, &org),
                &state.config.public_url,
            ))
        }
        "organization_list" => {
            let orgs = state.store.list_orgs().await?;
            if p.bool("all_fields") {
                let counts = provider_counts(state).await?;
                Ok(json!(
                    orgs.iter()
                        .map(|o| organization(o, counts.get(&o.slug).copied()))
                        .collect::<Vec<_>>()
                ))
            } else {
                Ok(json!(
                    orgs.iter().map(|o| o.slug.clone()).collect::<Vec<_>>()
                ))
            }
        }
        "organization_show" => {
            let id = p
                .str("id")
                .ok_or_else(|| CkanError::validation("id", "Missing value"))?;
            let org = match state.store.org(&id).await {
                Ok(o) => o,
                Err(store::StoreError::NotFound) => {
                    return Err(CkanError::not_found("Organization"));
                }
                Err(e) => return Err(e.into()),
            };
            let counts = provider_counts(state).await?;
            let mut out = organization(&org, counts.get(&org.slug).copied());
            if p.bool("include_datasets") {
                let q = SearchQuery {
                    filters: vec![(FacetField::Provider, org.slug.clone())],
                    sort: Sort::Newest,
                    limit: 1000,
                    ..Default::default()
                };
                let r = api_search::run(state, q)?;
                let packages: Vec<Value> = r
                    .hits
                    .iter()
                    .filter_map(|h| serde_json::from_str::<Value>(&h.payload).ok())
                    .map(|d| package(&d, &state.config.public_url))
                    .collect();
                out["packages"] = json!(packages);
            }
            Ok(out)
        }
        "tag_list" => {
            let q = SearchQuery {
                limit: 0,
                facet_fields: vec![FacetField::Tag],
                facet_limit: 100_000,
                ..Default::default()
            };
            let r = api_search::run(state, q)?;
            let query = p.str("query").unwrap_or_default();
            let tags: Vec<String> = r
                .facets
                .first()
                .map(|(_, values)| {
                    values
                        .iter()
                        .map(|(v, _)| v.clone())
                        .filter(|t| t.contains(&query))
                        .collect()
                })
                .unwrap_or_default();
            Ok(json!(tags))
        }
        other => Err(CkanError {
            kind: "Bad Request",
            message: json!(format!("Bad request - Action name not known: {other}")),
            status: StatusCode::BAD_REQUEST,
        }),
    }
}

async fn provider_counts(state: &AppState) -> Result<BTreeMap<String, u64>, CkanError> {
    let q = SearchQuery {
        limit: 0,
        facet_fields: vec![FacetField::Provider],
        facet_limit: 100_000,
        ..Default::default()
    };
    let r = api_search::run(state, q)?;
    Ok(r.facets
        .iter()
        .flat_map(|(_, v)| v.iter().cloned())
        .collect())
}

async fn package_search(state: &AppState, p: &Params) -> Result<Answer, CkanError> {
    let rows = p.int("rows", 10, 0, i64::MAX)?.min(MAX_ROWS) as usize;
    let start = p.int("start", 0, 0, 1_000_000)? as usize;
    let facet_limit = match p.int("facet.limit", 50, -1, 100_000)? {
        -1 => 100_000,
        n => n as usize,
    };
    let mut facet_fields = Vec::new();
    for name in p.list("facet.field")? {
        let f = ckan_field(&name).ok_or_else(|| {
            CkanError::validation("facet.field", &format!("Unknown facet field: {name}"))
        })?;
        facet_fields.push(f);
    }
    let filters = parse_fq(&p.str("fq").unwrap_or_default())?;
    let text = p.str("q").unwrap_or_default();
    // CKAN's "match everything".
    let text = if text.trim() == "*:*" {
        String::new()
    } else {
        text
    };
    let q = SearchQuery {
        text,
        filters,
        sort: parse_sort(p.str("sort"))?,
        offset: start,
        limit: rows,
        facet_fields,
        facet_limit,
    };
    let r = api_search::run(state, q)?;
    let slot = api_search::Slot::new();
    let sort = p.str("sort");
    let result = SearchResult {
        count: r.total,
        results: &slot,
        search_facets: SearchFacets(&r.facets),
        facets: FlatFacets(&r.facets),
        sort: sort
            .as_deref()
            .unwrap_or("score desc, metadata_modified desc"),
    };
    // The package dicts were built when the entries were indexed; they go out as they are.
    Ok(Answer::Serialized(slot.fill(
        &result,
        r.hits.iter().map(|h| h.ckan_payload.as_str()),
    )))
}

/// `package_search`'s result, serialized as it is (no tree of JSON values is built: a search
/// answer is the hottest thing the server writes).
#[derive(serde::Serialize)]
struct SearchResult<'a> {
    count: usize,
    results: &'a api_search::Slot,
    search_facets: SearchFacets<'a>,
    facets: FlatFacets<'a>,
    sort: &'a str,
}

type FacetLists = [(FacetField, Vec<(String, u64)>)];

/// A facet value as CKAN shows it: formats in capitals.
fn facet_display(field: FacetField, value: &str) -> std::borrow::Cow<'_, str> {
    if field == FacetField::Format {
        value.to_ascii_uppercase().into()
    } else {
        value.into()
    }
}

/// CKAN's `search_facets`: name → `{title, items: [{name, display_name, count}]}`.
struct SearchFacets<'a>(&'a FacetLists);

#[derive(serde::Serialize)]
struct SearchFacet<'a> {
    title: &'static str,
    items: Vec<SearchFacetItem<'a>>,
}

#[derive(serde::Serialize)]
struct SearchFacetItem<'a> {
    name: std::borrow::Cow<'a, str>,
    display_name: std::borrow::Cow<'a, str>,
    count: u64,
}

impl serde::Serialize for SearchFacets<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(field, values)| {
            let items = values
                .iter()
                .map(|(value, count)| SearchFacetItem {
                    name: facet_display(*field, value),
                    display_name: facet_display(*field, value),
                    count: *count,
                })
                .collect();
            let name = ckan_name(*field);
            (name, SearchFacet { title: name, items })
        }))
    }
}

/// CKAN's older `facets`: name → {value: count}, most frequent first.
struct FlatFacets<'a>(&'a FacetLists);

struct ValueCounts<'a>(FacetField, &'a [(String, u64)]);

impl serde::Serialize for FlatFacets<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .map(|(field, values)| (ckan_name(*field), ValueCounts(*field, values))),
        )
    }
}

impl serde::Serialize for ValueCounts<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.1
                .iter()
                .map(|(value, count)| (facet_display(self.0, value), count)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fq_clauses() {
        let f = parse_fq("organization:sh-transport +tags:\"公共 交通\" res_format:CSV")
            .ok()
            .unwrap();
        assert_eq!(
            f,
            [
                (FacetField::Provider, "sh-transport".to_owned()),
                (FacetField::Tag, "公共 交通".to_owned()),
                (FacetField::Format, "csv".to_owned()),
            ]
        );
        assert!(parse_fq("colour:red").is_err());
        assert!(parse_fq("tags:\"open").is_err());
        assert!(parse_fq("just words").is_err());
        assert!(parse_fq("").ok().unwrap().is_empty());
    }
}
