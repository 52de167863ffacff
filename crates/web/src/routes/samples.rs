//! Sample data (A22.1) over HTTP: the operator defines a conditional entry's sample; anyone
//! reads its fidelity report and downloads it without applying.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use data::privacy::sample::SampleSize;
use domain::usage::UsageKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::datasets::DatasetRecord;
use store::samples::SampleRecord;

use super::data::{DownloadQuery, Shape, export, ranged};
use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

/// A sample's definition: its size — `rows` or `percent`, one of them — the items to stratify
/// on, and optionally a seed to draw the same sample again.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleInput {
    pub rows: Option<u64>,
    pub percent: Option<f64>,
    #[serde(default)]
    pub strata: Vec<String>,
    pub seed: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SampleView {
    pub id: String,
    /// building, published, refused (not faithful to the data) or failed.
    pub state: String,
    /// The version it was drawn from.
    pub version: String,
    pub rows: Option<i64>,
    /// Draws the same sample again from the same version.
    pub seed: i64,
    pub strata: Vec<String>,
    pub created_at: Rfc3339,
    pub finished_at: Option<Rfc3339>,
    /// The fidelity report: each column of the sample against the whole.
    pub fidelity: Option<serde_json::Value>,
    /// Where it downloads, once published.
    pub download_url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SampleDoc {
    /// The sample anyone downloads.
    pub current: Option<SampleView>,
    /// The newest draw in any state (for the provider and the platform's staff).
    pub newest: Option<SampleView>,
}

pub fn view(d: &DatasetRecord, s: &SampleRecord) -> SampleView {
    let spec: Option<app::samples::SampleSpec> = serde_json::from_str(&s.spec).ok();
    SampleView {
        id: s.id.clone(),
        state: s.state.clone(),
        version: s.version_id.clone(),
        rows: s.rows,
        seed: s.seed,
        strata: spec.map(|s| s.strata).unwrap_or_default(),
        created_at: domain::clock::Timestamp(s.created_at).into(),
        finished_at: s.finished_at.map(|t| domain::clock::Timestamp(t).into()),
        fidelity: s
            .report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        download_url: (s.state == "published")
            .then(|| format!("/datasets/{}/sample?format=csv", d.id)),
    }
}

/// `POST /api/v1/datasets/{dataset}/sample`.
pub async fn define(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    ApiJson(input): ApiJson<SampleInput>,
) -> AppResult<(StatusCode, Json<SampleView>)> {
    let size = match (input.rows, input.percent) {
        (Some(n), None) => SampleSize::Rows(n),
        (None, Some(p)) => SampleSize::Percent(p),
        _ => return Err(AppError::field("size", "rows_or_percent")),
    };
    let spec = app::samples::SampleSpec {
        size,
        strata: input.strata,
        seed: input.seed,
    };
    let s = app::samples::define(&state.app, &ctx.caller, &d, spec).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&d, &s))))
}

/// `GET /api/v1/datasets/{dataset}/sample`.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
) -> AppResult<Json<SampleDoc>> {
    let current = app::samples::current(&state.app, &d).await?;
    let newest = app::samples::newest(&state.app, &ctx.caller, &d)
        .await
        .ok()
        .flatten();
    Ok(Json(SampleDoc {
        current: current.as_ref().map(|s| view(&d, s)),
        newest: newest.as_ref().map(|s| view(&d, s)),
    }))
}

/// `GET /datasets/{dataset}/sample`: the current sample as CSV (the default), JSON, NDJSON or
/// Parquet, for anyone, without applying.
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Params(q): Params<DownloadQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    // A download of the entry (A25.5), of the version the sample was drawn from.
    crate::openlist::count_read(&ctx, &d, UsageKind::Download);
    let s = app::samples::current(&state.app, &d)
        .await?
        .ok_or(ErrorCode::NoData)?;
    if let Ok(v) = state.store.data_version(&s.version_id).await {
        ctx.meter.version(v.number);
    }
    ctx.meter.rows(s.rows.unwrap_or(0).max(0) as u64);
    let sha = s.parquet_sha256.clone().ok_or(ErrorCode::NotFound)?;
    let path = app::open_data::cached_parquet(&state.app, &sha).await?;
    let format = q.format.as_deref().unwrap_or("csv");
    let etag = format!("\"{sha}-{format}\"");
    let (content_type, mut response) = match format {
        "csv" => (
            "text/csv; charset=utf-8",
            Body::from_stream(export(path, Shape::Csv)).into_response(),
        ),
        "json" => (
            "application/json",
            Body::from_stream(export(path, Shape::Json)).into_response(),
        ),
        "ndjson" => (
            "application/x-ndjson",
            Body::from_stream(export(path, Shape::Ndjson)).into_response(),
        ),
        "parquet" => (
            "application/vnd.apache.parquet",
            ranged(path, &headers, &etag).await,
        ),
        _ => return Err(AppError::field("format", "invalid_value")),
    };
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let filename = format!("{}-sample.{format}", d.id);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    Ok(response)
}
