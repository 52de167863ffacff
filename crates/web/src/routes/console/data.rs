//! The provider's data page for an entry (A16.1, A25.1): upload a file (its encoding detected
//! or named, replacing the data or adding rows), follow its reading on a progress bar, read the
//! quality report — what is wrong, where, how often — download the failing rows, and see every
//! upload and version. The pages call the same use cases as `/api/v1`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Extension, FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use data::ingest::QualityReport;
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::data_versions::{DataVersion, Mode, VersionState};
use store::datasets::DatasetRecord;
use store::jobs::JobRecord;
use store::orgs::OrgRecord;

use crate::ctx::{Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::page::{PageCtx, html};
use crate::state::AppState;

/// Versions listed on the page.
const LISTED: i64 = 50;

#[derive(Debug, Deserialize)]
pub struct DataQuery {
    /// The upload whose report is shown; the newest by default.
    version: Option<String>,
}

struct UploadRow {
    id: String,
    name: String,
    state: String,
    state_code: &'static str,
    number: String,
    rows: String,
    score: String,
    created: String,
    selected: bool,
}

struct CountRow {
    column: String,
    problem: String,
    count: u64,
}

struct FindingRow {
    line: String,
    column: String,
    problem: String,
    value: String,
}

/// The report of one upload, as the provider reads it.
struct ReportView {
    name: String,
    state_code: &'static str,
    verdict: String,
    encoding: String,
    /// Why the file could not be read at all.
    error: Option<String>,
    rows: u64,
    bad_rows: u64,
    score: String,
    min_score: String,
    counts: Vec<CountRow>,
    findings: Vec<FindingRow>,
    failures_href: Option<String>,
    /// While it is read: how far (0–100), and the phase.
    progress: Option<(i64, String)>,
    cancel_href: Option<String>,
}

#[derive(Template)]
#[template(path = "console/data.html")]
struct DataPage<'a> {
    page: PageCtx<'a>,
    dataset_id: String,
    name: String,
    org_name: String,
    org_href: String,
    can_upload: bool,
    uploads: Vec<UploadRow>,
    report: Option<ReportView>,
    /// Refresh the page while a file is read.
    refresh: bool,
    public_href: String,
}

fn when(t: domain::clock::Timestamp) -> String {
    t.to_cst().format("%Y-%m-%d %H:%M").to_string()
}

fn state_code(s: VersionState) -> &'static str {
    s.as_str()
}

/// `GET /console/datasets/{dataset}/data`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<DataQuery>,
) -> AppResult<Response> {
    let pctx = PageCtx::new(&state, &ctx, &format!("/console/datasets/{}/data", d.id));
    let versions = state.store.data_versions_of(d.id, LISTED).await?;
    let selected = match &q.version {
        Some(id) => versions.iter().find(|v| &v.id == id),
        None => versions.first(),
    };
    let can_upload = ctx
        .authorize(Action::PublishData, Resource::Dataset(d.facts()))
        .is_ok();
    let report = match selected {
        Some(v) => Some(report_view(&state, &pctx, &d, v, can_upload).await),
        None => None,
    };
    let uploads = versions
        .iter()
        .map(|v| UploadRow {
            id: v.id.clone(),
            name: v.source_name.clone(),
            state: pctx.t(&format!("data_state.{}", v.state.as_str())),
            state_code: state_code(v.state),
            number: v.number.map(|n| n.to_string()).unwrap_or_default(),
            rows: v.rows.map(|n| n.to_string()).unwrap_or_default(),
            score: v
                .score
                .map(|s| format!("{:.1}", s as f64 / 10.0))
                .unwrap_or_default(),
            created: when(v.created_at),
            selected: selected.is_some_and(|s| s.id == v.id),
        })
        .collect();
    let refresh = report.as_ref().is_some_and(|r| r.progress.is_some());
    let view = DataPage {
        dataset_id: d.id.to_string(),
        name: d.meta.name.clone(),
        org_name: org.name_zh.clone(),
        org_href: format!("/console/orgs/{}", org.slug),
        can_upload,
        uploads,
        report,
        refresh,
        public_href: format!("/datasets/{}#data", d.id),
        page: pctx,
    };
    html(StatusCode::OK, view)
}

async fn report_view(
    state: &AppState,
    pctx: &PageCtx<'_>,
    d: &DatasetRecord,
    v: &DataVersion,
    can_upload: bool,
) -> ReportView {
    let report: Option<QualityReport> = v
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    let problem = |code: &str| pctx.t(&format!("finding.{code}"));
    let progress = match (v.state, &v.job_id) {
        (VersionState::Ingesting, Some(job)) => {
            let j = state.store.job(job).await.ok();
            let percent = j.as_ref().and_then(JobRecord::percent).unwrap_or(0);
            let phase = j
                .map(|j| j.phase)
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "queued".into());
            Some((percent, pctx.t(&format!("data_phase.{phase}"))))
        }
        _ => None,
    };
    let error = v.error.as_deref().map(|e| {
        let (code, detail) = e.split_once(':').unwrap_or((e, ""));
        let text = pctx.t(&format!("data_error.{code}"));
        if detail.is_empty() {
            text
        } else {
            format!("{text} ({detail})")
        }
    });
    ReportView {
        name: v.source_name.clone(),
        state_code: state_code(v.state),
        verdict: pctx.t(&format!("data_state.{}", v.state.as_str())),
        // As the encoding choice names them (GB18030, UTF-8), not as stored.
        encoding: v.encoding.as_deref().unwrap_or_default().to_uppercase(),
        error,
        rows: report.as_ref().map_or(0, |r| r.rows),
        bad_rows: report.as_ref().map_or(0, |r| r.bad_rows),
        score: report
            .as_ref()
            .map(|r| format!("{:.1}", r.score))
            .unwrap_or_default(),
        min_score: report
            .as_ref()
            .map(|r| format!("{:.1}", r.thresholds.min_score))
            .unwrap_or_else(|| format!("{:.1}", state.config.data.quality.min_score)),
        counts: report
            .as_ref()
            .map(|r| {
                r.counts
                    .iter()
                    .map(|c| CountRow {
                        column: c.column.clone(),
                        problem: problem(&c.code),
                        count: c.count,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        findings: report
            .as_ref()
            .map(|r| {
                r.findings
                    .iter()
                    .map(|f| FindingRow {
                        line: f.line.map(|l| l.to_string()).unwrap_or_default(),
                        column: f.column.clone().unwrap_or_default(),
                        problem: match &f.detail {
                            Some(detail) => format!("{} ({detail})", problem(&f.code)),
                            None => problem(&f.code),
                        },
                        value: f.value.clone().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        failures_href: v.failures_sha256.as_ref().map(|_| {
            format!(
                "/api/v1/datasets/{}/data/versions/{}/failures.csv",
                d.id, v.id
            )
        }),
        cancel_href: (can_upload && progress.is_some())
            .then(|| format!("/console/datasets/{}/data/{}/cancel", d.id, v.id)),
        progress,
    }
}

/// `POST /console/datasets/{dataset}/data`: a multipart form whose `_csrf`, `mode` and
/// `encoding` come before its `file`, which is streamed into the file store as it arrives.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    req: Request,
) -> AppResult<Response> {
    let mut form = Multipart::from_request(req, &state)
        .await
        .map_err(|_| AppError::new(ErrorCode::MalformedRequest))?;
    let upload = async |fields: HashMap<String, String>,
                        name: String,
                        file: axum::extract::multipart::Field<'_>| {
        let mode = match fields.get("mode") {
            Some(m) => m
                .parse()
                .map_err(|_| AppError::field("mode", "invalid_value"))?,
            None => Mode::Replace,
        };
        let encoding = fields.get("encoding").filter(|e| !e.trim().is_empty());
        let input = app::data_versions::DataUpload {
            name,
            mode,
            encoding: encoding.cloned(),
        };
        Ok(app::data_versions::upload(&state.app, &ctx.caller, &d, &input, file).await?)
    };
    let v = crate::ctx::with_file_after_token(&ctx, &mut form, upload).await?;
    Ok(Redirect::to(&format!("/console/datasets/{}/data?version={}", d.id, v.id)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    #[serde(rename = "_csrf")]
    csrf: String,
}

impl crate::ctx::CsrfField for CancelForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /console/datasets/{dataset}/data/{version}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Path((_, version)): Path<(String, String)>,
    crate::ctx::CsrfForm(_): crate::ctx::CsrfForm<CancelForm>,
) -> AppResult<Response> {
    let v = state
        .store
        .data_version(&version)
        .await
        .map_err(|_| AppError::new(ErrorCode::NotFound))?;
    app::data_versions::cancel(&state.app, &ctx.caller, &d, &v).await?;
    Ok(Redirect::to(&format!("/console/datasets/{}/data?version={}", d.id, v.id)).into_response())
}
