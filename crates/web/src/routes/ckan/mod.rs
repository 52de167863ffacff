//! CKAN-compatible read actions under `/api/3/action/` (and `/api/action/`), so that existing
//! CKAN clients and harvesters work: the actions of [`ACTIONS`], each with its help.
//!
//! Answers use CKAN's envelope, `{help, success, result}` or `{help, success: false, error:
//! {__type, message}}`, with CKAN's status codes; `help` points at `help_show` for the action.
//! Parameters come from the query string, and from a POST body as a JSON object or a form, as
//! CKAN accepts them. Only public entries are ever listed. The open list's domains are CKAN's
//! groups.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use search::{FacetField, SearchQuery, Sort};
use serde_json::{Map, Value, json};

mod datastore;
mod dicts;
mod query;

pub(crate) use dicts::package;
use dicts::{group, licence, organization};
use query::{ckan_field, ckan_name, parse_fq, parse_sort, split_q};

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

/// Parameters of an action, from the query string and a POST body (a JSON object, or a form).
struct Params(BTreeMap<String, Value>);

impl Params {
    fn parse(
        method: &Method,
        raw_query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, CkanError> {
        let mut map = BTreeMap::new();
        let form = |map: &mut BTreeMap<String, Value>, bytes: &[u8]| {
            for (k, v) in form_urlencoded::parse(bytes) {
                map.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        };
        form(&mut map, raw_query.unwrap_or("").as_bytes());
        if *method != Method::POST || body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params(map));
        }
        if content_type.is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded")) {
            form(&mut map, body);
        } else {
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
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let result = match Params::parse(&method, raw.as_deref(), content_type, &body) {
        Ok(params) if name == "package_search" => package_search(&state, &params).await,
        Ok(params) => dispatch(&state, &ctx, &name, &params)
            .await
            .map(Answer::Plain),
        Err(e) => Err(e),
    };
    match result {
        Ok(Answer::Plain(result)) => (
            StatusCode::OK,
            axum::Json(Envelope {
                help,
                success: true,
                result: Some(result),
                error: None,
            }),
        )
            .into_response(),
        Ok(Answer::Serialized(result)) => api_search::json_body(format!(
            r#"{{"help":{},"success":true,"result":{result}}}"#,
            Value::from(help)
        )),
        Err(e) => {
            let mut error = Map::new();
            error.insert("__type".into(), json!(e.kind));
            match e.message {
                Value::Object(fields) => {
                    error.extend(fields);
                    error.insert(
                        "message".into(),
                        json!(format!("{}: see the fields", e.kind)),
                    );
                }
                message => {
                    error.insert("message".into(), message);
                }
            }
            let body = Envelope {
                help,
                success: false,
                result: None,
                error: Some(error),
            };
            let mut response = (e.status, axum::Json(body)).into_response();
            response
                .extensions_mut()
                .insert(crate::render::OwnErrorShape);
            response
        }
    }
}

/// Every answer of the CKAN API, as the OpenAPI document describes it: `result` when
/// `success`, else `error` with CKAN's `__type` and `message`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Envelope {
    /// Where `help_show` explains the action.
    pub help: String,
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Map<String, Value>>,
}

/// The actions this API answers.
pub fn action_names() -> Vec<&'static str> {
    ACTIONS.iter().map(|(name, _)| *name).collect()
}

/// The most entries one answer holds (CKAN's `ckan.search.rows_max`); larger asks are clamped.
const MAX_ROWS: i64 = 1000;

/// Every action, with the help `help_show` gives for it.
const ACTIONS: &[(&str, &str)] = &[
    (
        "help_show",
        "Return the help text of an action.\n\n:param name: the action's name",
    ),
    ("site_read", "Return true: the site may be read."),
    (
        "datastore_search",
        "Search the records of a resource's data (open, unconditional data only).\n\n:param resource_id: the resource (its entry's id, or the id of its CSV resource)\n:param filters: {field: value}, {field: [values]} or {field: {\"gte\": a, \"lt\": b}}\n:param q: words anywhere, or {field: words}\n:param fields: the fields to return\n:param sort: one field, with asc or desc\n:param limit: up to 32000 (100 by default)\n:param offset: up to 10000\n:param include_total: true by default\n:param records_format: objects, lists, csv or tsv",
    ),
    (
        "datastore_search_sql",
        "Run one read-only SELECT over open data; tables are resources (\"{entry}-csv\") or entries.\n\n:param sql: the query",
    ),
    (
        "datastore_info",
        "Return a resource's fields and row count.\n\n:param id: the resource",
    ),
    (
        "status_show",
        "Return the site's title, address, description and CKAN version.",
    ),
    (
        "package_list",
        "Return the names of the public datasets, in the order they were published.\n\n:param limit: at most this many (up to 1000)\n:param offset: skip this many",
    ),
    (
        "current_package_list_with_resources",
        "Return public datasets with their resources, most recently changed first.\n\n:param limit: at most this many (up to 1000)\n:param offset: skip this many\n:param page: the page of `limit` datasets, from 1",
    ),
    (
        "package_show",
        "Return a public dataset.\n\n:param id: the dataset's id or name",
    ),
    (
        "package_search",
        "Search the public datasets.\n\n:param q: words, and field:value clauses (tags, organization, res_format, groups, name)\n:param fq: filters: field:value clauses joined by AND (or a space), OR, negated by - or NOT, grouped with parentheses\n:param sort: score desc, name asc|desc, title_string asc|desc, metadata_modified asc|desc\n:param rows: at most this many (up to 1000)\n:param start: skip this many\n:param facet.field: a JSON list of fields to count\n:param facet.limit: at most this many values per field (-1: all)",
    ),
    (
        "package_autocomplete",
        "Return datasets whose title matches a few typed words.\n\n:param q: the words\n:param limit: at most this many (default 10)",
    ),
    (
        "resource_show",
        "Return one resource of a public dataset.\n\n:param id: the resource's id",
    ),
    (
        "organization_list",
        "Return the organizations' names, or their dictionaries.\n\n:param all_fields: whole dictionaries\n:param sort: name, title or package_count, asc or desc\n:param limit: at most this many\n:param offset: skip this many",
    ),
    (
        "organization_show",
        "Return an organization.\n\n:param id: its id or name\n:param include_datasets: with its public datasets (up to 1000)",
    ),
    (
        "organization_autocomplete",
        "Return organizations whose name or title contains the typed text.\n\n:param q: the text\n:param limit: at most this many (default 20)",
    ),
    (
        "group_list",
        "Return the groups (the open list's domains): names, or dictionaries.\n\n:param all_fields: whole dictionaries\n:param sort: name, title or package_count, asc or desc\n:param limit: at most this many\n:param offset: skip this many",
    ),
    (
        "group_show",
        "Return a group (a domain).\n\n:param id: its name\n:param include_datasets: with its public datasets (up to 1000)",
    ),
    (
        "tag_list",
        "Return the tags of public datasets.\n\n:param query: only tags containing it",
    ),
    (
        "tag_show",
        "Return a tag of public datasets.\n\n:param id: the tag\n:param include_datasets: with its public datasets (up to 1000)",
    ),
    (
        "license_list",
        "Return the licences public datasets are published under.",
    ),
];

fn required(p: &Params, key: &str) -> Result<String, CkanError> {
    p.str(key)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| CkanError::validation(key, "Missing value"))
}

/// Up to `MAX_ROWS` public entries that `clauses` allow, as package dicts, newest first.
fn packages_where(state: &AppState, clauses: Vec<search::Clause>) -> CkanResult {
    let q = SearchQuery {
        clauses,
        sort: Sort::Newest,
        limit: MAX_ROWS as usize,
        ..Default::default()
    };
    let r = api_search::run(state, q)?;
    let packages: Vec<Value> = r
        .hits
        .iter()
        .filter_map(|h| serde_json::from_str::<Value>(&h.ckan_payload).ok())
        .collect();
    Ok(Value::Array(packages))
}

fn facet_clause(field: FacetField, value: &str) -> search::Clause {
    search::Clause {
        any_of: vec![search::Criterion::Facet(field, value.to_owned())],
        negated: false,
    }
}

/// Counts of public entries per value of `field`.
fn facet_counts(state: &AppState, field: FacetField) -> Result<BTreeMap<String, u64>, CkanError> {
    let q = SearchQuery {
        limit: 0,
        facet_fields: vec![field],
        facet_limit: 100_000,
        ..Default::default()
    };
    let r = api_search::run(state, q)?;
    Ok(r.facets
        .iter()
        .flat_map(|(_, v)| v.iter().cloned())
        .collect())
}

/// Orders and pages the dictionaries of `organization_list` and `group_list` as CKAN does:
/// `sort` on name, title or package_count; `limit` and `offset`; names only unless
/// `all_fields`.
fn list_of(p: &Params, mut dicts: Vec<Value>) -> CkanResult {
    let sort = p.str("sort").unwrap_or_else(|| "title asc".to_owned());
    let mut words = sort.split_whitespace();
    let field = words.next().unwrap_or("title").to_ascii_lowercase();
    let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(CkanError::validation("sort", "Use asc or desc")),
    };
    match field.as_str() {
        "name" | "title" => {
            let key = field.clone();
            dicts.sort_by(|a, b| a[&key].as_str().cmp(&b[&key].as_str()));
        }
        "package_count" => dicts.sort_by_key(|d| d["package_count"].as_u64()),
        _ => {
            return Err(CkanError::validation(
                "sort",
                "Supported: name, title, package_count",
            ));
        }
    }
    if descending {
        dicts.reverse();
    }
    let offset = p.int("offset", 0, 0, i64::MAX)? as usize;
    let limit = p.int("limit", MAX_ROWS, 0, i64::MAX)?.min(MAX_ROWS) as usize;
    let page = dicts.into_iter().skip(offset).take(limit);
    Ok(if p.bool("all_fields") {
        Value::Array(page.collect())
    } else {
        Value::Array(page.map(|d| d["name"].clone()).collect())
    })
}

async fn dispatch(state: &AppState, ctx: &Ctx, name: &str, p: &Params) -> CkanResult {
    match name {
        "help_show" => {
            let name = required(p, "name")?;
            ACTIONS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, help)| json!(help))
                .ok_or_else(|| CkanError::not_found("Action function"))
        }
        "site_read" => Ok(json!(true)),
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
                        &crate::openlist::public_dataset_json(state, d, org).to_json(),
                        &state.config.public_url,
                    ))
                })
                .collect();
            Ok(Value::Array(packages))
        }
        "datastore_search" => datastore::search(state, ctx, p).await,
        "datastore_info" => datastore::info(state, ctx, p).await,
        "datastore_search_sql" => datastore::search_sql(state, ctx, p).await,
        "package_show" => {
            let id = p
                .str("id")
                .or_else(|| p.str("name"))
                .ok_or_else(|| CkanError::validation("id", "Missing value"))?;
            visible_package(state, ctx, &id).await
        }
        "resource_show" => {
            let id = required(p, "id")?;
            // A resource is one format of an entry: `{entry}-{format}`.
            let (dataset, _) = id
                .rsplit_once('-')
                .ok_or_else(|| CkanError::not_found("Resource"))?;
            let package = match visible_package(state, ctx, dataset).await {
                Err(e) if e.status == StatusCode::NOT_FOUND => {
                    return Err(CkanError::not_found("Resource"));
                }
                other => other?,
            };
            package["resources"]
                .as_array()
                .and_then(|rs| rs.iter().find(|r| r["id"] == id.as_str()))
                .cloned()
                .ok_or_else(|| CkanError::not_found("Resource"))
        }
        "package_autocomplete" => {
            let q = p.str("q").unwrap_or_default();
            let limit = p.int("limit", 10, 0, 100)? as usize;
            if q.trim().is_empty() || limit == 0 {
                return Ok(json!([]));
            }
            let r = api_search::run(
                state,
                SearchQuery {
                    text: q,
                    limit,
                    ..Default::default()
                },
            )?;
            Ok(Value::Array(
                r.hits
                    .iter()
                    .filter_map(|h| serde_json::from_str::<Value>(&h.ckan_payload).ok())
                    .map(|d| {
                        json!({ "name": d["name"], "title": d["title"], "match_field": "title", "match_displayed": d["title"] })
                    })
                    .collect(),
            ))
        }
        "organization_list" => {
            let counts = facet_counts(state, FacetField::Provider)?;
            let orgs = state.store.list_orgs().await?;
            list_of(
                p,
                orgs.iter()
                    .map(|o| organization(o, counts.get(&o.slug).copied()))
                    .collect(),
            )
        }
        "organization_show" => {
            let id = required(p, "id")?;
            let org = match state.store.org(&id).await {
                Ok(o) => o,
                Err(store::StoreError::NotFound) => {
                    return Err(CkanError::not_found("Organization"));
                }
                Err(e) => return Err(e.into()),
            };
            let counts = facet_counts(state, FacetField::Provider)?;
            let mut out = organization(&org, counts.get(&org.slug).copied());
            if p.bool("include_datasets") {
                out["packages"] =
                    packages_where(state, vec![facet_clause(FacetField::Provider, &org.slug)])?;
            }
            Ok(out)
        }
        "organization_autocomplete" => {
            let q = p.str("q").unwrap_or_default().to_lowercase();
            let limit = p.int("limit", 20, 0, 100)? as usize;
            if q.trim().is_empty() {
                return Ok(json!([]));
            }
            let orgs = state.store.list_orgs().await?;
            Ok(Value::Array(
                orgs.iter()
                    .filter(|o| {
                        o.slug.to_lowercase().contains(&q)
                            || o.name_zh.to_lowercase().contains(&q)
                            || o.name_en.to_lowercase().contains(&q)
                    })
                    .take(limit)
                    .map(|o| json!({ "id": o.id, "name": o.slug, "title": o.name_zh }))
                    .collect(),
            ))
        }
        "group_list" => {
            let counts = facet_counts(state, FacetField::Domain)?;
            let domains = state.store.domains().await?;
            list_of(
                p,
                domains
                    .iter()
                    .map(|d| group(d, counts.get(&d.code).copied()))
                    .collect(),
            )
        }
        "group_show" => {
            let id = required(p, "id")?;
            let domains = state.store.domains().await?;
            let d = domains
                .iter()
                .find(|d| d.code == id)
                .ok_or_else(|| CkanError::not_found("Group"))?;
            let counts = facet_counts(state, FacetField::Domain)?;
            let mut out = group(d, counts.get(&d.code).copied());
            if p.bool("include_datasets") {
                out["packages"] =
                    packages_where(state, vec![facet_clause(FacetField::Domain, &d.code)])?;
            }
            Ok(out)
        }
        "tag_list" => {
            let counts = facet_counts(state, FacetField::Tag)?;
            let query = p.str("query").unwrap_or_default();
            let tags: Vec<&String> = counts.keys().filter(|t| t.contains(&query)).collect();
            if p.bool("all_fields") {
                Ok(json!(
                    tags.iter()
                        .map(|t| json!({ "id": t, "name": t, "display_name": t, "vocabulary_id": null }))
                        .collect::<Vec<_>>()
                ))
            } else {
                Ok(json!(tags))
            }
        }
        "tag_show" => {
            let id = required(p, "id")?;
            let counts = facet_counts(state, FacetField::Tag)?;
            if !counts.contains_key(&id) {
                return Err(CkanError::not_found("Tag"));
            }
            let mut out =
                json!({ "id": id, "name": id, "display_name": id, "vocabulary_id": null });
            if p.bool("include_datasets") {
                out["packages"] = packages_where(state, vec![facet_clause(FacetField::Tag, &id)])?;
            }
            Ok(out)
        }
        "license_list" => Ok(Value::Array(
            facet_counts(state, FacetField::Licence)?
                .keys()
                .map(|l| licence(l))
                .collect(),
        )),
        other => Err(CkanError {
            kind: "Bad Request",
            message: json!(format!("Bad request - Action name not known: {other}")),
            status: StatusCode::BAD_REQUEST,
        }),
    }
}

/// A public entry as a package dict, or Not Found when there is none the caller may see.
async fn visible_package(state: &AppState, ctx: &Ctx, id: &str) -> CkanResult {
    let d = match state.store.dataset(id).await {
        Ok(d) if can_see(ctx, &d) => d,
        Ok(_) | Err(store::StoreError::NotFound) => {
            return Err(CkanError::not_found("Dataset"));
        }
        Err(e) => return Err(e.into()),
    };
    crate::openlist::count_read(ctx, &d, domain::usage::UsageKind::ApiRead);
    let org = state.store.org(&d.org_id.to_string()).await?;
    let mut package = package(
        &crate::openlist::public_dataset_json(state, &d, &org).to_json(),
        &state.config.public_url,
    );
    // A conditional entry's published sample is a resource anyone downloads (A22.1).
    if let Some(sample) = app::samples::current(&state.app, &d)
        .await
        .map_err(crate::error::AppError)?
        && let Some(resources) = package["resources"].as_array_mut()
    {
        resources.push(dicts::sample_resource(
            &d,
            &sample,
            resources.len(),
            &state.config.public_url,
        ));
        package["num_resources"] = json!(resources.len());
    }
    Ok(package)
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
    let mut clauses = parse_fq(&p.str("fq").unwrap_or_default())?;
    let (text, in_q) = split_q(&p.str("q").unwrap_or_default());
    clauses.extend(in_q);
    let q = SearchQuery {
        text,
        clauses,
        sort: parse_sort(p.str("sort").as_deref())?,
        offset: start,
        limit: rows,
        facet_fields,
        facet_limit,
        ..Default::default()
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
