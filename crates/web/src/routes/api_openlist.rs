//! `/api/v1` for the open list: vocabularies, the classification guide, providers' catalogues
//! and open-list entries.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::ids::{CatalogueItemId, DatasetId};
use domain::openlist::classification::{Grading, Guide, SuggestedCondition};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::vocab::{
    ConditionKind, DatasetStatus, FieldType, OpenType, RelationKind, SHANGHAI_AREAS,
    UpdateFrequency,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::catalogue::CatalogueItem;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;
use store::vocab::{DomainRow, FormatRow, GlossaryRow};

use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::openlist::{DatasetView, can_see, dataset_json};
use crate::paging::Next;
use crate::state::AppState;
use app::catalogue as catalogue_service;
use app::catalogue::ImportRow;
use app::openlist::{check_for_publish, create_draft, update_draft};
use app::vocab::{self, DomainInput, ExceptionInput, FormatInput, GlossaryInput};

/// The managed vocabularies an entry's metadata draws its codes from.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Vocabularies {
    pub domains: Vec<DomainRow>,
    pub formats: Vec<FormatRow>,
    pub glossary: Vec<GlossaryRow>,
    pub areas: Vec<Area>,
    pub update_frequencies: &'static [UpdateFrequency],
    pub relation_kinds: &'static [RelationKind],
    pub condition_kinds: &'static [ConditionKind],
    pub field_types: &'static [FieldType],
}

/// A district of Shanghai, for an entry's spatial range.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Area {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

pub async fn vocabularies(State(state): State<AppState>) -> AppResult<Json<Vocabularies>> {
    Ok(Json(Vocabularies {
        domains: state.store.domains().await?,
        formats: state.store.formats().await?,
        glossary: state.store.glossary().await?,
        areas: SHANGHAI_AREAS
            .iter()
            .map(|&(code, name_zh, name_en)| Area {
                code,
                name_zh,
                name_en,
            })
            .collect(),
        update_frequencies: UpdateFrequency::ALL,
        relation_kinds: RelationKind::ALL,
        condition_kinds: ConditionKind::ALL,
        field_types: FieldType::ALL,
    }))
}

/// A version of the classification guide (A13.1), parsed and as written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GuideDoc {
    pub version: i64,
    pub created_at: Rfc3339,
    pub guide: Guide,
    /// The guide as its TOML source, for editing.
    pub toml: String,
}

/// A version of the guide, without its text.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GuideVersionRef {
    pub version: i64,
    pub created_at: Rfc3339,
    /// The account that saved it; none for the guide the platform started with.
    pub created_by: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GuideVersions {
    pub versions: Vec<GuideVersionRef>,
}

fn guide_json(v: &store::guides::GuideVersion) -> AppResult<GuideDoc> {
    let guide = Guide::from_toml(&v.body).map_err(|_| ErrorCode::Internal)?;
    Ok(GuideDoc {
        version: v.version,
        created_at: v.created_at.into(),
        guide,
        toml: v.body.clone(),
    })
}

pub async fn guide(State(state): State<AppState>) -> AppResult<Json<GuideDoc>> {
    Ok(Json(guide_json(&state.store.guide_version(None).await?)?))
}

pub async fn guide_versions(State(state): State<AppState>) -> AppResult<Json<GuideVersions>> {
    let versions = state
        .store
        .guide_versions()
        .await?
        .iter()
        .map(|v| GuideVersionRef {
            version: v.version,
            created_at: v.created_at.into(),
            created_by: v.created_by.clone(),
        })
        .collect();
    Ok(Json(GuideVersions { versions }))
}

pub async fn guide_at(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> AppResult<Json<GuideDoc>> {
    let version: i64 = version.parse().map_err(|_| ErrorCode::NotFound)?;
    Ok(Json(guide_json(
        &state.store.guide_version(Some(version)).await?,
    )?))
}

#[derive(Deserialize, JsonSchema)]
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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evaluate {
    /// The level chosen for each dimension of the guide, by the dimension's code.
    grading: Grading,
}

/// What a grading permits under the guide in force.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Evaluation {
    pub guide_version: i64,
    pub open_type: OpenType,
    pub suggested_conditions: Vec<SuggestedCondition>,
}

/// What a grading permits under the guide in force, and the conditions its levels suggest.
pub async fn evaluate(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Evaluate>,
) -> AppResult<Json<Evaluation>> {
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
    Ok(Json(Evaluation {
        guide_version: version,
        open_type,
        suggested_conditions: guide.suggested_conditions(&input.grading),
    }))
}

/// A provider's public data catalogue (A9.5).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Catalogue {
    /// The provider's slug.
    pub organization: String,
    pub items: Vec<CatalogueItem>,
}

/// An import body as JSON: the rows, bare or under `items`. CSV bodies have the same columns.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ImportBody {
    List(Vec<ImportRow>),
    Wrapped { items: Vec<ImportRow> },
}

/// What an import did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Imported {
    pub added: usize,
    pub updated: usize,
}

pub async fn catalogue_list(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Json<Catalogue>> {
    Ok(Json(Catalogue {
        organization: org.slug,
        items: state.store.catalogue(org.id).await?,
    }))
}

/// Reads an import body: JSON (`[...]` or `{"items": [...]}`) or CSV with a header row.
fn parse_import(headers: &HeaderMap, body: &[u8]) -> AppResult<Vec<ImportRow>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        return match serde_json::from_slice::<ImportBody>(body) {
            Ok(ImportBody::List(rows)) | Ok(ImportBody::Wrapped { items: rows }) => Ok(rows),
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
) -> AppResult<Json<Imported>> {
    let rows = parse_import(&headers, &body)?;
    let (added, updated) = catalogue_service::import(&state.app, &ctx.caller, &org, rows).await?;
    Ok(Json(Imported { added, updated }))
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

#[derive(Deserialize, JsonSchema)]
pub struct StatusFilter {
    #[schemars(with = "Option<DatasetStatus>")]
    status: Option<String>,
    /// Entries per page, 1 to 1000 (more is clamped); 100 when not given.
    limit: Option<i64>,
    /// The `next` cursor of the page before.
    after: Option<String>,
}

/// A provider's entries, of every status.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrgDatasets {
    /// The provider's slug.
    pub organization: String,
    pub datasets: Vec<DatasetView>,
    pub next: Next,
}

pub async fn org_datasets(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<StatusFilter>,
) -> AppResult<Json<OrgDatasets>> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<DatasetStatus>()
                .map_err(|_| AppError::field("status", "invalid_status"))?,
        ),
    };
    let page = crate::paging::requested(q.limit, q.after.as_deref())?;
    let list = state.store.datasets_of(org.id, status, &page).await?;
    Ok(Json(OrgDatasets {
        datasets: list
            .items
            .iter()
            .map(|d| dataset_json(&state, d, &org))
            .collect(),
        organization: org.slug,
        next: Next::of(&list.next),
    }))
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
    crate::openlist::count_read(&ctx, &d, domain::usage::UsageKind::ApiRead);
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
) -> AppResult<Json<PublishCheck>> {
    let problems = check_for_publish(&state.app, &d, &d.meta).await?;
    let m = &state.messages;
    let problems: Vec<ProblemView> = problems
        .into_iter()
        .map(|p| ProblemView {
            message: m.field(ctx.lang, p.code, p.detail.as_deref()),
            code: p.code,
            field: p.field,
            detail: p.detail,
        })
        .collect();
    Ok(Json(PublishCheck {
        publishable: problems.is_empty(),
        problems,
    }))
}

/// Whether an entry can be published, and every reason it cannot.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PublishCheck {
    pub publishable: bool,
    pub problems: Vec<ProblemView>,
}

/// One reason an entry cannot be published yet.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProblemView {
    /// A stable code, e.g. `unknown_domain`.
    pub code: &'static str,
    /// Where: `name`, `data_items[2].label`...
    pub field: String,
    pub detail: Option<String>,
    /// The reason in the language asked for.
    pub message: String,
}

/// The published versions of an entry, oldest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionList {
    pub dataset: DatasetId,
    pub versions: Vec<VersionView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionView {
    pub version: i64,
    pub status: DatasetStatus,
    pub published_at: Rfc3339,
    /// The ticket whose acceptance made the version; none for a first publication.
    pub ticket: Option<String>,
    #[schemars(with = "DatasetMeta")]
    pub metadata: Value,
}

/// What of a provider's open list its review of the year has still to cover.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReviewsDue {
    /// The provider's slug.
    pub organization: String,
    pub year: i32,
    pub due: Vec<DatasetView>,
}

pub async fn dataset_versions(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
) -> AppResult<Json<VersionList>> {
    if !can_see(&ctx, &d) {
        return Err(ErrorCode::NotFound.into());
    }
    let versions = state.store.dataset_versions(&d.id.to_string()).await?;
    let internals = crate::openlist::sees_internals(&ctx, &d);
    let versions = versions
        .into_iter()
        .map(|v| VersionView {
            metadata: match internals {
                true => serde_json::to_value(&v.meta).unwrap_or_default(),
                false => v.meta.public_json(),
            },
            version: v.version,
            status: v.status,
            published_at: v.published_at.into(),
            ticket: v.ticket_id,
        })
        .collect();
    Ok(Json(VersionList {
        dataset: d.id,
        versions,
    }))
}

/// The annual review (A10.1): what of the organization's open list has been neither confirmed
/// nor changed this year (the same entries its review cycle still has to cover).
pub async fn reviews_due(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Json<ReviewsDue>> {
    let year = domain::openlist::review_cycle::year_of(state.clock.now());
    let cycle = app::review_cycles::cycle(&state.app, &ctx.caller, &org, year).await?;
    let pending: std::collections::HashSet<&str> = cycle
        .entries
        .iter()
        .filter(|e| !e.reviewed)
        .map(|e| e.id.as_str())
        .collect();
    let due = state
        .store
        .review_scope(org.id)
        .await?
        .iter()
        .filter(|d| pending.contains(d.id.to_string().as_str()))
        .map(|d| dataset_json(&state, d, &org))
        .collect();
    Ok(Json(ReviewsDue {
        organization: org.slug,
        year,
        due,
    }))
}

#[derive(Deserialize, Default, JsonSchema)]
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
