//! The quality of providers' data over time (A16.4): for the operator's monitoring and periodic
//! evaluation, every provider's uploads per month — how many were published, refused by the
//! quality gate or failed, and the scores the gate gave — as a console page and in the API.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::quality::{MonthQuality, ProviderQuality};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::contract::Rfc3339;
use crate::ctx::{Ctx, Params};
use crate::error::{AppError, AppResult};
use crate::labels::Labels;
use crate::page::{PageCtx, html};
use crate::state::AppState;

/// Months before the current one the evaluation covers, at most.
const MAX_MONTHS_BACK: u32 = 24;
const DEFAULT_MONTHS_BACK: u32 = 5;
/// Uploads read for one evaluation, at most (newest first).
const MAX_UPLOADS: i64 = 200_000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct QualityQuery {
    /// Months before the current one to cover (0–24; 5 by default).
    pub months: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProviderQualityView {
    /// The provider's short name.
    pub org: String,
    pub name: String,
    /// Oldest first; every month of the span, with or without uploads.
    pub months: Vec<MonthQuality>,
    pub total: MonthQuality,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct QualityAnswer {
    /// The first instant the evaluation covers.
    pub since: Rfc3339,
    /// Providers with uploads in the span, the lowest mean score first.
    pub providers: Vec<ProviderQualityView>,
}

async fn evaluate(
    state: &AppState,
    ctx: &Ctx,
    q: &QualityQuery,
) -> AppResult<(Rfc3339, Vec<ProviderQualityView>)> {
    let back = q.months.unwrap_or(DEFAULT_MONTHS_BACK);
    if back > MAX_MONTHS_BACK {
        return Err(AppError::field("months", "invalid_value"));
    }
    let now = state.clock.now();
    let since = domain::quality::span_start(now, back);
    let uploads = state.store.data_uploads_since(since, MAX_UPLOADS).await?;
    let labels = Labels::load(state, ctx.lang).await?;
    let orgs: std::collections::HashMap<_, _> = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id, o.slug))
        .collect();
    let mut providers: Vec<ProviderQualityView> = domain::quality::monthly(&uploads, now, back)
        .into_iter()
        .map(|ProviderQuality { org, months, total }| {
            let slug = orgs.get(&org).cloned().unwrap_or_else(|| org.to_string());
            ProviderQualityView {
                name: labels.org(&slug),
                org: slug,
                months,
                total,
            }
        })
        .collect();
    // Those that most need attention first: the lowest mean score, then the most refusals.
    providers.sort_by(|a, b| {
        let score = |p: &ProviderQualityView| p.total.mean_score.unwrap_or(f64::INFINITY);
        score(a)
            .total_cmp(&score(b))
            .then(b.total.refused.cmp(&a.total.refused))
            .then(a.org.cmp(&b.org))
    });
    Ok((since.into(), providers))
}

/// `GET /api/v1/quality`
pub async fn api(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<QualityQuery>,
) -> AppResult<Json<QualityAnswer>> {
    let (since, providers) = evaluate(&state, &ctx, &q).await?;
    Ok(Json(QualityAnswer { since, providers }))
}

#[derive(Template)]
#[template(path = "console/quality.html")]
struct QualityPage<'a> {
    page: PageCtx<'a>,
    months: Vec<String>,
    providers: Vec<ProviderQualityView>,
    /// The spans offered, in months back, with whether each is the one shown.
    spans: Vec<(u32, bool)>,
}

/// `GET /console/quality`
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<QualityQuery>,
) -> AppResult<Response> {
    let (_, providers) = evaluate(&state, &ctx, &q).await?;
    let back = q.months.unwrap_or(DEFAULT_MONTHS_BACK);
    let months = providers
        .first()
        .map(|p| p.months.iter().map(|m| m.month.clone()).collect())
        .unwrap_or_default();
    let view = QualityPage {
        page: PageCtx::new(&state, &ctx, "/console/quality"),
        months,
        providers,
        spans: [2, 5, 11, 23].iter().map(|&n| (n, n == back)).collect(),
    };
    html(StatusCode::OK, view)
}

impl QualityPage<'_> {
    /// A score as the page shows it: one decimal, or a dash where the gate gave none.
    fn score(&self, s: &Option<f64>) -> String {
        s.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
    }
}
