//! An entry's data over HTTP: providers upload files (`POST /api/v1/datasets/{id}/data`) and
//! follow their ingestion and quality report; anyone reads the data of unconditional entries —
//! the history of versions, the records API and downloads of whole versions or of any records
//! query, streamed.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use data::query::Format;
use data::records::{Table, csv_cell, push_json_str, write_json};
use domain::policy::{Action, Resource};
use domain::usage::UsageKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::data_versions::{DataVersion, Mode, VersionState};
use store::datasets::DatasetRecord;

use crate::contract::Rfc3339;
use crate::ctx::{Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::state::AppState;

/// Like every query string, unknown parameters are ignored (decision 0005).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UploadQuery {
    /// The file's name; its extension says its format (`.csv`, `.tsv`).
    pub name: String,
    /// `replace` (the default) or `append` (the rows are added to the current version's).
    pub mode: Option<String>,
    /// The file's text encoding (UTF-8, GBK, GB18030, UTF-16); detected when left out.
    pub encoding: Option<String>,
}

/// Like every query string, unknown parameters are ignored (decision 0005).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WaitQuery {
    /// Seconds (0 to 60) to wait, while the upload is still being read, for the reading to end
    /// before answering; the answer comes as soon as it ends. A client learns the result of
    /// its upload without asking again and again.
    #[schemars(range(max = 60))]
    pub wait: Option<u32>,
}

/// The longest a caller may wait on an upload in one request.
const MAX_WAIT_SECS: u32 = 60;

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProgressView {
    pub phase: String,
    pub done: i64,
    pub total: Option<i64>,
    /// 0–100, when the total is known.
    pub percent: Option<i64>,
}

/// A version of an entry's data, or an upload that did not become one.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionView {
    pub id: String,
    /// 1, 2, 3… for published versions.
    pub number: Option<i64>,
    /// ingesting, published, refused, failed, cancelled
    pub state: String,
    pub mode: String,
    pub source_name: String,
    pub source_size: i64,
    pub source_format: String,
    pub declared_encoding: Option<String>,
    /// The encoding the file was read in.
    pub encoding: Option<String>,
    pub rows: Option<i64>,
    /// 0–100: the share of rows without a problem.
    pub score: Option<f64>,
    /// Why the file could not be read, as a code (and where, after a colon).
    pub error: Option<String>,
    pub created_at: Rfc3339,
    pub finished_at: Option<Rfc3339>,
    /// How far the ingestion has come, while it runs.
    pub progress: Option<ProgressView>,
    /// The quality report (for the provider, the operator and the regulator).
    pub report: Option<serde_json::Value>,
    /// Statistics per column.
    pub profile: Option<serde_json::Value>,
    /// Where the list of failing rows downloads (for the provider).
    pub failures_url: Option<String>,
    /// Where the version downloads, when its data is open.
    pub download_url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionList {
    pub versions: Vec<VersionView>,
}

/// Whether the caller sees the entry's internal work: uploads that were not published, quality
/// reports, failing rows.
fn sees_internal(ctx: &Ctx, d: &DatasetRecord) -> bool {
    ctx.authorize(Action::ViewOrgInternal, Resource::Dataset(d.facts()))
        .is_ok()
}

/// Whether the entry's data is open to the caller as open data (profiles, downloads): never
/// conditional data, which a credential reads only through the records API, held to its grant.
fn open(ctx: &Ctx, d: &DatasetRecord) -> bool {
    d.facts().serves_open_data()
        && ctx
            .authorize(Action::ReadOpenData, Resource::Dataset(d.facts()))
            .is_ok()
}

async fn view(state: &AppState, ctx: &Ctx, d: &DatasetRecord, v: &DataVersion) -> VersionView {
    let internal = sees_internal(ctx, d);
    let base = format!("/api/v1/datasets/{}/data/versions/{}", d.id, v.id);
    let progress = match (&v.state, &v.job_id) {
        (VersionState::Ingesting, Some(job)) => state.store.job(job).await.ok().map(|j| {
            let percent = j.percent();
            ProgressView {
                phase: j.phase,
                done: j.done,
                total: j.total,
                percent,
            }
        }),
        _ => None,
    };
    let json = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str(s).ok());
    let published = v.state == VersionState::Published;
    VersionView {
        id: v.id.clone(),
        number: v.number,
        state: v.state.as_str().to_owned(),
        mode: v.mode.as_str().to_owned(),
        source_name: v.source_name.clone(),
        source_size: v.source_size,
        source_format: v.source_format.clone(),
        declared_encoding: v.declared_encoding.clone(),
        encoding: v.encoding.clone(),
        rows: v.rows,
        score: v.score.map(|s| s as f64 / 10.0),
        error: v.error.clone(),
        created_at: v.created_at.into(),
        finished_at: v.finished_at.map(Into::into),
        progress,
        report: if internal { json(&v.report) } else { None },
        profile: if internal || (published && open(ctx, d)) {
            json(&v.profile)
        } else {
            None
        },
        failures_url: (internal && v.failures_sha256.is_some())
            .then(|| format!("{base}/failures.csv")),
        download_url: match v.number {
            Some(n) if published && open(ctx, d) => Some(format!(
                "/datasets/{}/download?format=csv&version={n}",
                d.id
            )),
            _ => None,
        },
    }
}

/// `POST /api/v1/datasets/{dataset}/data`: the file is the body.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Params(q): Params<UploadQuery>,
    body: Body,
) -> AppResult<Response> {
    let mode = match q.mode.as_deref() {
        None | Some("") => Mode::Replace,
        Some(m) => m
            .parse()
            .map_err(|_| AppError::field("mode", "invalid_value"))?,
    };
    let input = app::data_versions::DataUpload {
        name: q.name,
        mode,
        encoding: q.encoding.filter(|e| !e.trim().is_empty()),
    };
    let v =
        app::data_versions::upload(&state.app, &ctx.caller, &d, &input, body.into_data_stream())
            .await?;
    Ok((StatusCode::ACCEPTED, Json(view(&state, &ctx, &d, &v).await)).into_response())
}

/// `GET /api/v1/datasets/{dataset}/data/versions`.
pub async fn versions(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
) -> AppResult<Json<VersionList>> {
    let internal = sees_internal(&ctx, &d);
    let mut out = Vec::new();
    for v in state
        .store
        .data_versions_of(d.id, app::data_versions::HISTORY)
        .await?
    {
        if internal || v.state == VersionState::Published {
            out.push(view(&state, &ctx, &d, &v).await);
        }
    }
    Ok(Json(VersionList { versions: out }))
}

/// A version named in the path by its id or its number, if the caller may see it.
async fn named(
    state: &AppState,
    ctx: &Ctx,
    d: &DatasetRecord,
    name: &str,
) -> AppResult<DataVersion> {
    let v = match name.parse::<i64>() {
        Ok(n) => state.store.data_version_numbered(d.id, n).await,
        Err(_) => state.store.data_version(name).await,
    }
    .map_err(|_| AppError::new(ErrorCode::NotFound))?;
    if v.dataset_id != d.id || (v.state != VersionState::Published && !sees_internal(ctx, d)) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(v)
}

/// `GET /api/v1/datasets/{dataset}/data/versions/{version}`.
pub async fn version(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Path((_, name)): Path<(String, String)>,
    Params(q): Params<WaitQuery>,
) -> AppResult<Json<VersionView>> {
    let wait = q.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECS {
        let mut err = AppError::new(ErrorCode::MalformedRequest);
        err.fields.push(FieldError::new("wait", "invalid_value"));
        return Err(err);
    }
    let mut v = named(&state, &ctx, &d, &name).await?;
    if v.state == VersionState::Ingesting && wait > 0 {
        v = app::data_versions::ended(&state.app, &v.id, Duration::from_secs(wait.into())).await?;
    }
    Ok(Json(view(&state, &ctx, &d, &v).await))
}

/// `POST /api/v1/datasets/{dataset}/data/versions/{version}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Path((_, name)): Path<(String, String)>,
) -> AppResult<Json<VersionView>> {
    let v = named(&state, &ctx, &d, &name).await?;
    app::data_versions::cancel(&state.app, &ctx.caller, &d, &v).await?;
    let v = state.store.data_version(&v.id).await?;
    Ok(Json(view(&state, &ctx, &d, &v).await))
}

/// `GET /api/v1/datasets/{dataset}/data/versions/{version}/failures.csv`: the rows that
/// failed the quality gate, as read, with their line and problems.
pub async fn failures(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Path((_, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let v = named(&state, &ctx, &d, &name).await?;
    let sha = v.failures_sha256.as_deref().ok_or(ErrorCode::NotFound)?;
    let stream = app::data_versions::raw_stream(&state.app, sha).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"failures.csv\""),
    );
    Ok((headers, Body::from_stream(stream)).into_response())
}

/// The query string's pairs, in order.
fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn query_error(e: data::query::QueryError) -> AppError {
    let mut err = AppError::new(ErrorCode::InvalidQuery);
    err.0.fields.push(app::FieldError {
        field: e.param,
        code: e.code,
        detail: e.detail,
    });
    err
}

/// Takes `version` out of the pairs: the version a read names (the current one when none).
fn take_version(pairs: &mut Vec<(String, String)>) -> AppResult<Option<i64>> {
    let Some(at) = pairs.iter().position(|(k, _)| k == "version") else {
        return Ok(None);
    };
    let (_, v) = pairs.remove(at);
    v.parse::<i64>()
        .map(Some)
        .map_err(|_| AppError::field("version", "invalid_value"))
}

/// Holds a records query on conditional data to what the credential's agreement grants: every
/// field it returns, filters or sorts on must be granted (403 naming the first that is not);
/// without `fields`, it returns the granted ones; words are searched only where every text
/// column is granted.
fn hold_to_grant(
    admission: &app::delivery::Admission,
    table: &Table,
    q: &mut data::query::Query,
) -> AppResult<()> {
    let schema = table.schema();
    let name = |i: usize| schema.field(i).name().as_str();
    let mut used: Vec<&str> = q.fields.iter().map(|&i| name(i)).collect();
    used.extend(q.filters.iter().map(|f| name(f.column)));
    used.extend(q.sort.iter().map(|s| name(s.column)));
    if !q.words.is_empty() {
        used.extend(
            schema
                .fields()
                .iter()
                .filter(|f| f.data_type() == &data::arrow::datatypes::DataType::Utf8)
                .map(|f| f.name().as_str()),
        );
    }
    admission.check(used)?;
    if q.fields.is_empty() {
        q.fields = (0..schema.fields().len())
            .filter(|&i| admission.items.contains(name(i)))
            .collect();
    }
    Ok(())
}

/// The records API's parameters, for the API's description. Any other parameter is a filter:
/// `field=value`, or `field__op=value` with op one of eq, ne, gt, gte, lt, lte, in (values
/// separated by commas), contains, startswith, isnull (true or false).
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
pub struct RecordsParamsDoc {
    /// Words that must each appear in some text column.
    q: Option<String>,
    /// The fields to return, separated by commas.
    fields: Option<String>,
    /// A field to order by; `-field` for descending.
    sort: Option<String>,
    #[schemars(range(min = 1, max = 32000))]
    limit: Option<u32>,
    /// Rows to skip (up to 10,000; beyond, follow `next`).
    #[schemars(range(min = 0, max = 10000))]
    offset: Option<u32>,
    /// Continues after the page that gave it (`next_cursor`).
    cursor: Option<String>,
    /// json (the default), csv or ndjson.
    format: Option<String>,
    /// exact or estimate.
    total: Option<String>,
    /// A version's number; the current version when left out.
    version: Option<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FieldDoc {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: String,
}

/// A page of records.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecordsDoc {
    pub dataset: String,
    /// The version's number.
    pub version: i64,
    pub fields: Vec<FieldDoc>,
    /// Every record that matches.
    pub total: u64,
    pub total_estimated: bool,
    pub next_cursor: Option<String>,
    /// The next page's address.
    pub next: Option<String>,
    pub records: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// `GET /api/v1/datasets/{dataset}/records`.
pub async fn records(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(entry): Extension<Arc<app::held::Entry>>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let d = &entry.dataset;
    crate::openlist::count_read(&ctx, d, UsageKind::Records);
    let mut pairs = pairs(raw.as_deref());
    let version = take_version(&mut pairs)?;
    let (v, admission) = if d.facts().serves_granted_data() {
        let (v, admission) =
            app::delivery::granted_version(&state.app, &ctx.caller, d, version).await?;
        (Cow::Owned(v), Some(admission))
    } else {
        let v = app::open_data::held_version(&state.app, &ctx.caller, &entry, version).await?;
        (v, None)
    };
    let table = app::open_data::table(&state.app, &v).await?;
    ctx.meter.version(v.number);
    let mut q = data::query::parse(&pairs, &table.schema()).map_err(query_error)?;
    if let Some(a) = &admission {
        hold_to_grant(a, &table, &mut q)?;
    }
    ctx.meter.query(&table, &q);
    if let Some(a) = &admission {
        // After metering: the provider's conditions are not items the caller used.
        q.filters.extend(a.row_filters(&table.schema())?);
    }
    let page = if data::records::is_light(&table, &q) {
        data::records::run(&table, &q)
    } else {
        tokio::task::spawn_blocking({
            let (table, q) = (table.clone(), q.clone());
            move || data::records::run(&table, &q)
        })
        .await
        .map_err(|_| AppError::new(ErrorCode::Internal))?
    }
    .map_err(query_error)?;
    ctx.meter.rows(page.rows.num_rows() as u64);
    if let Some(a) = &admission {
        // Paging through every row the grant reaches is what scraping looks like; a query
        // with conditions of its own reaches less, so it is measured against the table.
        let own_conditions = q.filters.len() > a.rows.len() || !q.words.is_empty();
        let whole = if own_conditions {
            table.rows() as u64
        } else {
            page.total
        };
        app::delivery::delivered(&state.app, a, d.id, page.rows.num_rows() as u64, whole).await;
    }
    let next = page.next_cursor.as_ref().map(|c| {
        let mut kept: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "cursor" && k != "offset")
            .cloned()
            .collect();
        if let Some(n) = version {
            kept.push(("version".into(), n.to_string()));
        }
        kept.push(("cursor".into(), c.clone()));
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish();
        format!("/api/v1/datasets/{}/records?{qs}", d.id)
    });
    Ok(match q.format {
        Format::Json => {
            let body = records_json(d, &v, &page, next.as_deref());
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Format::Ndjson => {
            let mut out = String::new();
            for row in 0..page.rows.num_rows() {
                record_json(&page.rows, row, &mut out);
                out.push('\n');
            }
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            );
            if let Some(n) = &next {
                link_next(&mut headers, n);
            }
            (headers, out).into_response()
        }
        Format::Csv => {
            let mut out = Vec::from("\u{feff}".as_bytes());
            write_csv(&page.rows, true, &mut out);
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Some(n) = &next {
                link_next(&mut headers, n);
            }
            (headers, out).into_response()
        }
    })
}

fn link_next(headers: &mut HeaderMap, next: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
        headers.insert(header::LINK, v);
    }
}

/// Row `row` of `batch` as a JSON object.
fn record_json(batch: &data::arrow::array::RecordBatch, row: usize, out: &mut String) {
    out.push('{');
    for (i, field) in batch.schema().fields().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(field.name(), out);
        out.push(':');
        write_json(batch.column(i), row, out);
    }
    out.push('}');
}

fn records_json(
    d: &DatasetRecord,
    v: &DataVersion,
    page: &data::records::Page,
    next: Option<&str>,
) -> String {
    let labels: std::collections::HashMap<&str, (&str, &str)> = d
        .meta
        .data_items
        .iter()
        .map(|i| (i.name.as_str(), (i.label.as_str(), i.field_type.as_str())))
        .collect();
    let fields: Vec<serde_json::Value> = page
        .rows
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let (label, t) = labels.get(f.name().as_str()).copied().unwrap_or(("", ""));
            serde_json::json!({ "name": f.name(), "label": label, "type": t })
        })
        .collect();
    let mut out = String::with_capacity(256 + page.rows.num_rows() * 128);
    out.push_str(&format!(
        "{{\"dataset\":{},\"version\":{},\"fields\":{},\"total\":{},\"total_estimated\":false,\"next_cursor\":{},\"next\":{},\"records\":[",
        serde_json::to_string(&d.id.to_string()).unwrap_or_default(),
        v.number.unwrap_or(0),
        serde_json::Value::Array(fields),
        page.total,
        serde_json::to_string(&page.next_cursor).unwrap_or_default(),
        serde_json::to_string(&next).unwrap_or_default(),
    ));
    for row in 0..page.rows.num_rows() {
        if row > 0 {
            out.push(',');
        }
        record_json(&page.rows, row, &mut out);
    }
    out.push_str("]}");
    out
}

/// Writes `batch` as CSV rows (with its header first when `header`).
fn write_csv(batch: &data::arrow::array::RecordBatch, header: bool, out: &mut Vec<u8>) {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    if header {
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let _ = w.write_record(&names);
    }
    let mut cells: Vec<String> = Vec::with_capacity(batch.num_columns());
    for row in 0..batch.num_rows() {
        cells.clear();
        cells.extend(batch.columns().iter().map(|c| csv_cell(c.as_ref(), row)));
        let _ = w.write_record(&cells);
    }
    let _ = w.flush();
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DownloadQuery {
    /// csv (UTF-8 with a BOM, for Excel), xlsx, json, ndjson, parquet, or geojson (for data
    /// with coordinates).
    pub format: Option<String>,
    /// The version's number; the current version when left out.
    pub version: Option<i64>,
}

/// How a version is written out row by row.
pub(crate) enum Shape {
    Csv,
    Json,
    Ndjson,
    GeoJson(crate::map::Coordinates),
}

/// `GET /datasets/{dataset}/download`: a whole version as a file, streamed. The stored files
/// (Parquet, and the Excel workbook once made) also answer range requests.
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(entry): Extension<Arc<app::held::Entry>>,
    Params(q): Params<DownloadQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let d = &entry.dataset;
    crate::openlist::count_read(&ctx, d, UsageKind::Download);
    if d.facts().serves_granted_data() {
        return granted_download(&state, &ctx, d, &q).await;
    }
    let v = app::open_data::held_version(&state.app, &ctx.caller, &entry, q.version).await?;
    ctx.meter.version(v.number);
    let format = q.format.as_deref().unwrap_or("csv");
    let sha = v.parquet_sha256.clone().ok_or(ErrorCode::NotFound)?;
    let etag = format!("\"{sha}-{format}\"");
    let last_modified = v
        .finished_at
        .and_then(|t| chrono::DateTime::from_timestamp_millis(t.0))
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default();
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|t| t.trim() == etag))
    {
        // The caller's copy is current: nothing was downloaded.
        ctx.meter.forget();
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let (content_type, ext) = match format {
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "json" => ("application/json", "json"),
        "ndjson" => ("application/x-ndjson", "ndjson"),
        "geojson" => ("application/geo+json", "geojson"),
        "parquet" => ("application/vnd.apache.parquet", "parquet"),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => return Err(AppError::field("format", "invalid_value")),
    };
    let mut response = match format {
        "xlsx" => {
            let path = app::open_data::xlsx_file(&state.app, &v)
                .await?
                .ok_or_else(|| AppError::field("format", "too_many_rows"))?;
            ranged(path, &headers, &etag).await
        }
        "parquet" => {
            let path = app::open_data::parquet_file(&state.app, &v).await?;
            ranged(path, &headers, &etag).await
        }
        _ => {
            let parquet = app::open_data::parquet_file(&state.app, &v).await?;
            let shape = match format {
                "csv" => Shape::Csv,
                "json" => Shape::Json,
                "ndjson" => Shape::Ndjson,
                _ => {
                    let schema = app::open_data::parquet_schema(parquet.clone()).await?;
                    let at = crate::map::coordinates(&d.meta.data_items, &schema)
                        .ok_or_else(|| AppError::field("format", "no_coordinates"))?;
                    Shape::GeoJson(at)
                }
            };
            Body::from_stream(export(parquet, shape)).into_response()
        }
    };
    // A download counts once: a client resuming or fetching in parts asks for later ranges.
    let later_part = response.status() == StatusCode::PARTIAL_CONTENT
        && !response
            .headers()
            .get(header::CONTENT_RANGE)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|r| r.starts_with("bytes 0-"));
    if later_part {
        ctx.meter.forget();
    } else {
        ctx.meter.rows(v.rows.unwrap_or(0).max(0) as u64);
    }
    let filename = format!("{}-v{}.{ext}", d.id, v.number.unwrap_or(0));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        out.insert(header::LAST_MODIFIED, v);
    }
    Ok(response)
}

/// A download of conditional data under an agreement: the granted columns of the rows the
/// grant's filters keep, written out as CSV, JSON or NDJSON — never the stored files, which
/// hold every column and row.
async fn granted_download(
    state: &AppState,
    ctx: &Ctx,
    d: &DatasetRecord,
    q: &DownloadQuery,
) -> AppResult<Response> {
    let format = q.format.as_deref().unwrap_or("csv");
    let content_type = match format {
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "ndjson" => "application/x-ndjson",
        "xlsx" | "parquet" | "geojson" => {
            return Err(AppError::field("format", "not_under_agreement"));
        }
        _ => return Err(AppError::field("format", "invalid_value")),
    };
    let (v, admission) =
        app::delivery::granted_version(&state.app, &ctx.caller, d, q.version).await?;
    ctx.meter.version(v.number);
    let table = app::open_data::table(&state.app, &v).await?;
    let mut query = data::query::parse(&[], &table.schema()).map_err(query_error)?;
    hold_to_grant(&admission, &table, &mut query)?;
    ctx.meter.query(&table, &query);
    query
        .filters
        .extend(admission.row_filters(&table.schema())?);
    query.limit = table.rows().max(1);
    let page = tokio::task::spawn_blocking(move || data::records::run(&table, &query))
        .await
        .map_err(|_| AppError::new(ErrorCode::Internal))?
        .map_err(query_error)?;
    ctx.meter.rows(page.rows.num_rows() as u64);
    let mut out = Vec::new();
    match format {
        "csv" => {
            out.extend_from_slice("\u{feff}".as_bytes());
            write_csv(&page.rows, true, &mut out);
        }
        "json" => {
            let mut text = String::from("[");
            for row in 0..page.rows.num_rows() {
                if row > 0 {
                    text.push(',');
                }
                record_json(&page.rows, row, &mut text);
            }
            text.push(']');
            out = text.into_bytes();
        }
        _ => {
            let mut text = String::new();
            for row in 0..page.rows.num_rows() {
                record_json(&page.rows, row, &mut text);
                text.push('\n');
            }
            out = text.into_bytes();
        }
    }
    let mut response = out.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let filename = format!("{}-v{}.{format}", d.id, v.number.unwrap_or(0));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// A stored file, whole or — for a `Range` request whose `If-Range` (if any) names this
/// version's `etag` — the bytes asked for (206), or 416 for a range past its end.
pub(crate) async fn ranged(path: std::path::PathBuf, headers: &HeaderMap, etag: &str) -> Response {
    use tower::ServiceExt;
    let current = headers
        .get(header::IF_RANGE)
        .is_none_or(|h| h.to_str().is_ok_and(|t| t.trim() == etag));
    let mut request = axum::http::Request::new(Body::empty());
    if current
        && let Some(range) = headers.get(header::RANGE)
        && range.to_str().is_ok_and(one_byte_range)
    {
        request.headers_mut().insert(header::RANGE, range.clone());
    }
    match tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
    {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// Whether `value` asks for one range of bytes, well formed (`bytes=a-b`, `bytes=a-`,
/// `bytes=-n`). Anything else — another unit, several ranges, a range that ends before it
/// starts — is ignored and the whole file sent, as RFC 9110 lets a server do, rather than
/// refused: a careless client still gets its file.
fn one_byte_range(value: &str) -> bool {
    let Some((first, last)) = value
        .trim()
        .strip_prefix("bytes=")
        .and_then(|spec| spec.trim().split_once('-'))
    else {
        return false;
    };
    let number = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (first.is_empty(), last.is_empty()) {
        (false, true) => number(first),
        (true, false) => number(last),
        (false, false) => {
            number(first)
                && number(last)
                && match (first.parse::<u64>(), last.parse::<u64>()) {
                    (Ok(a), Ok(b)) => a <= b,
                    // Past any file's size either way: ServeFile answers 416.
                    _ => true,
                }
        }
        (true, true) => false,
    }
}

/// Appends row `row` of `batch` as a GeoJSON feature: a point where the row has one, its
/// values as properties.
fn feature_json(
    batch: &data::arrow::array::RecordBatch,
    at: &crate::map::Coordinates,
    row: usize,
    out: &mut String,
) {
    out.push_str("{\"type\":\"Feature\",\"geometry\":");
    match crate::map::point(batch, at, row) {
        Some((x, y)) if x.is_finite() && y.is_finite() => {
            out.push_str(&format!("{{\"type\":\"Point\",\"coordinates\":[{x},{y}]}}"));
        }
        _ => out.push_str("null"),
    }
    out.push_str(",\"properties\":");
    record_json(batch, row, out);
    out.push('}');
}

/// The Parquet file at `path` written out in `shape`, batch by batch, through a short channel:
/// however long the version, a few batches are in memory at a time.
pub(crate) fn export(
    path: std::path::PathBuf,
    shape: Shape,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        use data::arrow::array::RecordBatchReader;
        use data::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let send = |r: Result<Bytes, std::io::Error>| tx.blocking_send(r).is_ok();
        let reader = std::fs::File::open(&path)
            .map_err(std::io::Error::other)
            .and_then(|f| {
                ParquetRecordBatchReaderBuilder::try_new(f)
                    .and_then(|b| b.with_batch_size(8192).build())
                    .map_err(std::io::Error::other)
            });
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                send(Err(e));
                return;
            }
        };
        // A BOM so that Excel reads the CSV as UTF-8, and the header even when there are no
        // rows; JSON arrays opened.
        let opening: Vec<u8> = match &shape {
            Shape::Csv => {
                let mut out = "\u{feff}".as_bytes().to_vec();
                let empty = data::arrow::array::RecordBatch::new_empty(reader.schema());
                write_csv(&empty, true, &mut out);
                out
            }
            Shape::Json => b"[".to_vec(),
            Shape::GeoJson(_) => b"{\"type\":\"FeatureCollection\",\"features\":[".to_vec(),
            Shape::Ndjson => Vec::new(),
        };
        if !opening.is_empty() && !send(Ok(Bytes::from(opening))) {
            return;
        }
        let mut written = 0u64;
        for batch in reader {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    send(Err(std::io::Error::other(e)));
                    return;
                }
            };
            let chunk = match &shape {
                Shape::Csv => {
                    let mut out = Vec::with_capacity(batch.num_rows() * 96);
                    write_csv(&batch, false, &mut out);
                    out
                }
                shape => {
                    let mut out = String::with_capacity(batch.num_rows() * 128);
                    for row in 0..batch.num_rows() {
                        if !matches!(shape, Shape::Ndjson) && written > 0 {
                            out.push(',');
                        }
                        match shape {
                            Shape::GeoJson(at) => feature_json(&batch, at, row, &mut out),
                            _ => record_json(&batch, row, &mut out),
                        }
                        if matches!(shape, Shape::Ndjson) {
                            out.push('\n');
                        }
                        written += 1;
                    }
                    out.into_bytes()
                }
            };
            if !send(Ok(Bytes::from(chunk))) {
                return;
            }
        }
        let closing: &'static [u8] = match shape {
            Shape::Json => b"]",
            Shape::GeoJson(_) => b"]}",
            Shape::Csv | Shape::Ndjson => b"",
        };
        if !closing.is_empty() {
            send(Ok(Bytes::from_static(closing)));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) })
}
