//! `/api/v1` for the open list: vocabularies, the classification guide, providers' catalogues
//! and open-list entries.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::ids::CatalogueItemId;
use domain::openlist::classification::{Grading, Guide};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::vocab::{
    ConditionKind, DatasetStatus, FieldType, RelationKind, SHANGHAI_AREAS, UpdateFrequency,
};
use serde::Deserialize;
use serde_json::{Value, json};
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;

use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::openlist::{can_see, dataset_json};
use crate::state::AppState;
use app::catalogue as catalogue_service;
use app::catalogue::ImportRow;
use app::openlist::{check_for_publish, create_draft, update_draft};
use app::vocab::{self, DomainInput, ExceptionInput, FormatInput, GlossaryInput};

pub async fn vocabularies(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let areas: Vec<Value> = SHANGHAI_AREAS
        .iter()
        .map(|(code, zh, en)| json!({ "code": code, "name_zh": zh, "name_en": en }))
        .collect();
    Ok(Json(json!({
        "domains": state.store.domains().await?,
        "formats": state.store.formats().await?,
        "glossary": state.store.glossary().await?,
        "areas": areas,
        "update_frequencies": UpdateFrequency::ALL,
        "relation_kinds": RelationKind::ALL,
        "condition_kinds": ConditionKind::ALL,
        "field_types": FieldType::ALL,
    })))
}

fn guide_json(v: &store::guides::GuideVersion) -> AppResult<Value> {
    let guide = Guide::from_toml(&v.body).map_err(|_| ErrorCode::Internal)?;
    Ok(json!({
        "version": v.version,
        "created_at": v.created_at.to_rfc3339(),
        "guide": guide,
        "toml": v.body,
    }))
}

pub async fn guide(State(state): State<AppState>) -> AppResult<Json<Value>> {
    Ok(Json(guide_json(&state.store.guide_version(None).await?)?))
}

pub async fn guide_versions(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let versions: Vec<Value> = state
        .store
        .guide_versions()
        .await?
        .iter()
        .map(|v| json!({ "version": v.version, "created_at": v.created_at.to_rfc3339(), "created_by": v.created_by }))
        .collect();
    Ok(Json(json!({ "versions": versions })))
}

pub async fn guide_at(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> AppResult<Json<Value>> {
    let version: i64 = version.parse().map_err(|_| ErrorCode::NotFound)?;
    Ok(Json(guide_json(
        &state.store.guide_version(Some(version)).await?,
    )?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGuide {
    toml: String,
    /// The version the edit was made from: if another version was saved since, 409.
    #[serde(default)]
    base_version: Option<i64>,
}

/// Saves a new version of the guide. It must parse, and its own examples must agree with it.
pub async fn put_guide(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<NewGuide>,
) -> AppResult<Response> {
    let version =
        vocab::save_guide(&state.app, &ctx.caller, &input.toml, input.base_version).await?;
    let saved = state.store.guide_version(Some(version)).await?;
    Ok((StatusCode::CREATED, Json(guide_json(&saved)?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluate {
    grading: Grading,
}

/// What a grading permits under the guide in force, and the conditions its levels suggest.
pub async fn evaluate(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Evaluate>,
) -> AppResult<Json<Value>> {
    let (version, guide) = state.store.current_guide().await?;
    let errors = guide.check_grading(&input.grading);
    if !errors.is_empty() {
        return Err(AppError::invalid(
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: "grading".into(),
                    code: "invalid_grading",
                    detail: Some(e.to_string()),
                })
                .collect(),
        ));
    }
    let open_type = guide
        .permitted_open_type(&input.grading)
        .map_err(|_| ErrorCode::Internal)?;
    Ok(Json(json!({
        "guide_version": version,
        "open_type": open_type,
        "suggested_conditions": guide.suggested_conditions(&input.grading),
    })))
}

pub async fn catalogue_list(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Json<Value>> {
    Ok(Json(
        json!({ "organization": org.slug, "items": state.store.catalogue(org.id).await? }),
    ))
}

/// Reads an import body: JSON (`[...]` or `{"items": [...]}`) or CSV with a header row.
fn parse_import(headers: &HeaderMap, body: &[u8]) -> AppResult<Vec<ImportRow>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Body {
            List(Vec<ImportRow>),
            Wrapped { items: Vec<ImportRow> },
        }
        return match serde_json::from_slice::<Body>(body) {
            Ok(Body::List(rows)) | Ok(Body::Wrapped { items: rows }) => Ok(rows),
            Err(_) => Err(ErrorCode::MalformedJson.into()),
        };
    }
    if content_type.starts_with("text/csv") {
        let text = std::str::from_utf8(body).map_err(|_| AppError::field("body", "not_utf8"))?;
        return Ok(catalogue_service::parse_csv(text)?);
    }
    Err(ErrorCode::UnsupportedMediaType.into())
}

pub async fn catalogue_import(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let rows = parse_import(&headers, &body)?;
    let (added, updated) = catalogue_service::import(&state.app, &ctx.caller, &org, rows).await?;
    Ok(Json(json!({ "added": added, "updated": updated })))
}

pub async fn catalogue_delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Path((_, item)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let id: CatalogueItemId = item.parse().map_err(|_| ErrorCode::NotFound)?;
    catalogue_service::delete_item(&state.app, &ctx.caller, &org, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct StatusFilter {
    status: Option<String>,
    limit: Option<i64>,
    after: Option<String>,
}

pub async fn org_datasets(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<StatusFilter>,
) -> AppResult<Json<Value>> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<DatasetStatus>()
                .map_err(|_| AppError::field("status", "invalid_status"))?,
        ),
    };
    let page = crate::paging::requested(q.limit, q.after.as_deref())?;
    let list = state.store.datasets_of(org.id, status, &page).await?;
    Ok(Json(json!({
        "organization": org.slug,
        "datasets": list.items.iter().map(|d| dataset_json(&state, d, &org)).collect::<Vec<_>>(),
        "next": crate::paging::next(&list.next),
    })))
}

pub async fn create_dataset(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    ApiJson(meta): ApiJson<DatasetMeta>,
) -> AppResult<Response> {
    let d = create_draft(&state.app, &ctx.caller, &org, meta).await?;
    Ok((StatusCode::CREATED, Json(dataset_json(&state, &d, &org))).into_response())
}

pub async fn show_dataset(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    if !can_see(&ctx, &d) {
        return Err(ErrorCode::NotFound.into());
    }
    crate::openlist::count_read(&state, &ctx, &d, domain::usage::UsageKind::ApiRead);
    Ok(with_etag(
        &d,
        Json(crate::openlist::dataset_json_for(&ctx, &state, &d, &org)),
    ))
}

/// Edits a draft. A published entry changes only through a ticket (A11.1). With
/// `If-Match: "<row_version>"` (the `ETag` of `GET`), an edit made from an older version is
/// refused with 409 instead of overwriting what someone else saved meanwhile.
pub async fn update_dataset(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    headers: axum::http::HeaderMap,
    ApiJson(meta): ApiJson<DatasetMeta>,
) -> AppResult<Response> {
    let expected = match headers.get(axum::http::header::IF_MATCH) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().trim_matches('"').parse::<i64>().ok())
                .ok_or_else(|| AppError::field("if-match", "invalid_version"))?,
        ),
    };
    let updated = update_draft(&state.app, &ctx.caller, d, &org, meta, expected).await?;
    Ok(with_etag(
        &updated,
        Json(dataset_json(&state, &updated, &org)),
    ))
}

/// The entry's row version as an `ETag`, for `If-Match` on the next edit.
fn with_etag(d: &DatasetRecord, body: impl IntoResponse) -> Response {
    let mut res = body.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("\"{}\"", d.row_version)) {
        res.headers_mut().insert(axum::http::header::ETAG, v);
    }
    res
}

/// Every reason the entry cannot be published yet, each with a code, the field and a message.
pub async fn check_dataset(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
) -> AppResult<Json<Value>> {
    let problems = check_for_publish(&state.app, &d, &d.meta).await?;
    let m = &state.messages;
    let list: Vec<Value> = problems
        .iter()
        .map(|p| {
            json!({
                "code": p.code, "field": p.field, "detail": p.detail,
                "message": m.field(ctx.lang, p.code, p.detail.as_deref()),
            })
        })
        .collect();
    Ok(Json(
        json!({ "publishable": list.is_empty(), "problems": list }),
    ))
}

pub async fn dataset_versions(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
) -> AppResult<Json<Value>> {
    if !can_see(&ctx, &d) {
        return Err(ErrorCode::NotFound.into());
    }
    let versions = state.store.dataset_versions(&d.id.to_string()).await?;
    let internals = crate::openlist::sees_internals(&ctx, &d);
    let list: Vec<Value> = versions
        .iter()
        .map(|v| {
            let metadata = match internals {
                true => serde_json::to_value(&v.meta).unwrap_or_default(),
                false => v.meta.public_json(),
            };
            json!({
                "version": v.version, "status": v.status, "published_at": v.published_at.to_rfc3339(),
                "ticket": v.ticket_id, "metadata": metadata,
            })
        })
        .collect();
    Ok(Json(json!({ "dataset": d.id, "versions": list })))
}

/// The annual review (A10.1): what of the organization's open list has been neither confirmed
/// nor changed this year (the same entries its review cycle still has to cover).
pub async fn reviews_due(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Json<Value>> {
    let year = domain::openlist::review_cycle::year_of(state.clock.now());
    let cycle = app::review_cycles::cycle(&state.app, &ctx.caller, &org, year).await?;
    let pending: std::collections::HashSet<&str> = cycle
        .entries
        .iter()
        .filter(|e| !e.reviewed)
        .map(|e| e.id.as_str())
        .collect();
    let due: Vec<Value> = state
        .store
        .review_scope(org.id)
        .await?
        .iter()
        .filter(|d| pending.contains(d.id.to_string().as_str()))
        .map(|d| dataset_json(&state, d, &org))
        .collect();
    Ok(Json(
        json!({ "organization": org.slug, "year": year, "due": due }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    #[serde(default)]
    note: String,
}

/// Records that the provider reviewed an entry and keeps it as it is; changes go through tickets.
pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> AppResult<StatusCode> {
    catalogue_service::mark_reviewed(&state.app, &ctx.caller, &d, &input.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records that a published entry's data was updated now (A9.4).
pub async fn record_data_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
) -> AppResult<StatusCode> {
    catalogue_service::record_data_update(&state.app, &ctx.caller, &d).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds or changes a format of the managed list (A9.3).
pub async fn put_format(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<FormatInput>,
) -> AppResult<StatusCode> {
    vocab::save_format(&state.app, &ctx.caller, code, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Explains an abbreviation once for the whole platform (A9.1 (二)).
pub async fn put_glossary(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(term): Path<String>,
    ApiJson(input): ApiJson<GlossaryInput>,
) -> AppResult<StatusCode> {
    vocab::save_glossary(&state.app, &ctx.caller, term, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds or renames a domain of the managed list, in one of the three groups of A6.
pub async fn put_domain(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<DomainInput>,
) -> AppResult<StatusCode> {
    vocab::save_domain(&state.app, &ctx.caller, code, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The operator allows a proprietary format for one entry, with a reason (A9.3).
pub async fn grant_format_exception(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    ApiJson(input): ApiJson<ExceptionInput>,
) -> AppResult<StatusCode> {
    vocab::grant_format_exception(&state.app, &ctx.caller, &d, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
