//! The sandbox of an agreement (A21.2, A25.6): `/api/v1/agreements/{id}/sandbox` and its page
//! `/agreements/{id}/sandbox`. Both call `app::sandbox`; the page shows each entry with its
//! data items and what its privacy budget has left, the query form, the answer with the
//! groups suppressed marked, and the queries asked so far with what came of each.

use app::sandbox::{Answered, QueryInput, SandboxEntry, SandboxFailure, SandboxView};
use askama::Template;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::usage::UsageKind;
use schemars::JsonSchema;
use serde::Serialize;
use store::agreements::AgreementRecord;

use crate::ctx::{ApiJson, Ctx, FormPost};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::page::{PageCtx, html};
use crate::routes::sql::{ColumnDoc, type_name};
use crate::state::AppState;

/// A data item of a sandbox entry.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ItemDoc {
    pub name: String,
    pub label: String,
}

/// An entry granted in the sandbox.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EntryDoc {
    pub dataset: String,
    /// The entry's name: the table a query reads, in double quotes.
    pub name: String,
    /// The data items granted.
    pub items: Vec<ItemDoc>,
    pub calls_per_day: u64,
    pub period_start: String,
    pub period_end: String,
    /// The differential-privacy budget ε; none for exact aggregates.
    pub privacy_budget: Option<f64>,
    pub budget_spent: f64,
    pub budget_left: Option<f64>,
}

/// A query asked in the sandbox.
#[derive(Debug, Serialize, JsonSchema)]
pub struct QueryDoc {
    pub id: String,
    pub at: String,
    pub dataset: Option<String>,
    pub sql: String,
    /// `answered`, `refused` or `failed`.
    pub outcome: String,
    pub code: Option<String>,
    pub groups: i64,
    pub suppressed_groups: i64,
    pub epsilon: f64,
    /// What it returned: its columns, rows and the groups suppressed.
    pub answer: Option<serde_json::Value>,
}

/// A sandbox: its entries, the threshold and the newest queries.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SandboxDoc {
    pub agreement: String,
    /// The fewest records a group answered holds.
    pub threshold: u64,
    pub entries: Vec<EntryDoc>,
    pub queries: Vec<QueryDoc>,
}

/// The noise an answer carries.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NoiseDoc {
    pub epsilon: f64,
    /// The Laplace scale of each output that carries noise.
    pub scales: Vec<ScaleDoc>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScaleDoc {
    pub column: String,
    pub scale: f64,
}

/// A sandbox's answer: aggregates of the groups of at least `threshold` records.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SandboxResult {
    pub query: String,
    pub dataset: String,
    pub version: i64,
    pub columns: Vec<ColumnDoc>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: usize,
    /// Groups left out: fewer records than the threshold, or suppressed with such groups so
    /// that a total does not give them away.
    pub suppressed_groups: usize,
    pub threshold: u64,
    pub noise: Option<NoiseDoc>,
    pub privacy_budget: Option<f64>,
    pub budget_left: Option<f64>,
}

fn epsilon(thousandths: i64) -> f64 {
    thousandths as f64 / 1000.0
}

fn entry_doc(e: &SandboxEntry) -> EntryDoc {
    EntryDoc {
        dataset: e.dataset.id.to_string(),
        name: e.dataset.meta.name.clone(),
        items: e
            .dataset
            .meta
            .data_items
            .iter()
            .filter(|i| e.grant.items.contains(&i.name))
            .map(|i| ItemDoc {
                name: i.name.clone(),
                label: i.label.clone(),
            })
            .collect(),
        calls_per_day: e.grant.calls_per_day,
        period_start: e.grant.period_start.to_string(),
        period_end: e.grant.period_end.to_string(),
        privacy_budget: e.grant.privacy_budget.map(|b| b.epsilon()),
        budget_spent: epsilon(e.spent),
        budget_left: e.left().map(epsilon),
    }
}

fn sandbox_doc(v: &SandboxView) -> SandboxDoc {
    SandboxDoc {
        agreement: v.held.record.id.to_string(),
        threshold: v.threshold,
        entries: v.entries.iter().map(entry_doc).collect(),
        queries: v
            .queries
            .iter()
            .map(|q| QueryDoc {
                id: q.id.clone(),
                at: domain::clock::Timestamp(q.at).to_cst().to_rfc3339(),
                dataset: q.dataset_id.clone(),
                sql: q.sql.clone(),
                outcome: q.outcome.clone(),
                code: q.code.clone(),
                groups: q.group_count,
                suppressed_groups: q.suppressed,
                epsilon: epsilon(q.epsilon),
                answer: q
                    .answer
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok()),
            })
            .collect(),
    }
}

fn result_doc(a: &Answered) -> SandboxResult {
    SandboxResult {
        query: a.query_id.clone(),
        dataset: a.dataset.id.to_string(),
        version: a.version,
        columns: a
            .answer
            .columns
            .iter()
            .map(|(name, t)| ColumnDoc {
                name: name.clone(),
                column_type: type_name(t).to_owned(),
            })
            .collect(),
        row_count: a.answer.rows.len(),
        rows: a.answer.rows.clone(),
        suppressed_groups: a.answer.suppressed_groups,
        threshold: a.threshold,
        noise: a.answer.noise.as_ref().map(|n| NoiseDoc {
            epsilon: n.epsilon,
            scales: n
                .scales
                .iter()
                .map(|(column, scale)| ScaleDoc {
                    column: column.clone(),
                    scale: *scale,
                })
                .collect(),
        }),
        privacy_budget: a.entry.grant.privacy_budget.map(|b| b.epsilon()),
        budget_left: a.entry.left().map(epsilon),
    }
}

/// A refused or stopped sandbox query as an error naming why.
fn failure(e: SandboxFailure) -> AppError {
    match e {
        SandboxFailure::App(e) => AppError(e),
        SandboxFailure::Query(e) => {
            let mut err = AppError::new(ErrorCode::InvalidQuery);
            err.0.fields.push(app::sandbox::query_field_error(&e));
            err
        }
    }
}

/// Counts an answered query as a read of its entry, by the groups it answered.
fn meter(ctx: &Ctx, a: &Answered) {
    ctx.meter.note(UsageKind::Records, a.dataset.id.to_string());
    ctx.meter.rows(a.answer.rows.len() as u64);
}

/// `GET /api/v1/agreements/{agreement}/sandbox`.
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
) -> AppResult<Json<SandboxDoc>> {
    let v = app::sandbox::view(&state.app, &ctx.caller, a.id).await?;
    Ok(Json(sandbox_doc(&v)))
}

/// `POST /api/v1/agreements/{agreement}/sandbox`.
pub async fn post(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    ApiJson(input): ApiJson<QueryInput>,
) -> AppResult<Json<SandboxResult>> {
    let answered = app::sandbox::query(&state.app, &ctx.caller, a.id, &input)
        .await
        .map_err(failure)?;
    meter(&ctx, &answered);
    Ok(Json(result_doc(&answered)))
}

#[derive(Template)]
#[template(path = "access/sandbox.html")]
struct SandboxPage<'a> {
    page: PageCtx<'a>,
    doc: SandboxDoc,
    /// Whether the caller may ask queries here (the applicant, while the agreement is active).
    asks: bool,
    sql: String,
    epsilon: String,
    noisy: bool,
    answer: Option<SandboxResult>,
    errors: Vec<String>,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    a: &AgreementRecord,
    status: StatusCode,
    input: Option<QueryInput>,
    outcome: Option<Result<Answered, String>>,
) -> AppResult<Response> {
    let v = app::sandbox::view(&state.app, &ctx.caller, a.id).await?;
    let mut doc = sandbox_doc(&v);
    // The page shows times as people read them, to the second.
    for (q, record) in doc.queries.iter_mut().zip(&v.queries) {
        q.at = crate::page::when(domain::clock::Timestamp(record.at));
    }
    let page = PageCtx::new(state, ctx, &format!("/agreements/{}/sandbox", a.id));
    let asks = a.state == domain::access::AgreementState::Active
        && ctx
            .authorize(
                domain::policy::Action::QuerySandbox,
                domain::policy::Resource::Agreement(a.facts()),
            )
            .is_ok()
        && !doc.entries.is_empty();
    let noisy = doc.entries.iter().any(|e| e.privacy_budget.is_some());
    let sql = match (&input, doc.entries.first()) {
        (Some(i), _) => i.sql.clone(),
        (None, Some(e)) => format!("SELECT count(*) FROM \"{}\"", e.name.replace('"', "\"\"")),
        (None, None) => String::new(),
    };
    let epsilon = input
        .and_then(|i| i.epsilon)
        .map(|e| e.to_string())
        .unwrap_or_default();
    let (answer, errors) = match outcome {
        Some(Ok(a)) => (Some(result_doc(&a)), Vec::new()),
        Some(Err(message)) => (None, vec![message]),
        None => (None, Vec::new()),
    };
    html(
        status,
        SandboxPage {
            page,
            doc,
            asks,
            sql,
            epsilon,
            noisy,
            answer,
            errors,
        },
    )
}

/// `GET /agreements/{agreement}/sandbox`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
) -> AppResult<Response> {
    render(&state, &ctx, &a, StatusCode::OK, None, None).await
}

/// `POST /agreements/{agreement}/sandbox`: the query typed, answered on the page.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    let typed = v.get("epsilon").trim();
    let epsilon = if typed.is_empty() {
        None
    } else {
        match typed.parse::<f64>() {
            Ok(e) => Some(e),
            // Not a number: the bound's message, which says what is expected.
            Err(_) => Some(f64::NAN),
        }
    };
    let input = QueryInput {
        sql: v.get("sql").to_owned(),
        epsilon,
    };
    let outcome = app::sandbox::query(&state.app, &ctx.caller, a.id, &input).await;
    let page = PageCtx::new(&state, &ctx, "");
    let code = match &outcome {
        Ok(_) => None,
        Err(SandboxFailure::Query(_)) => Some(ErrorCode::InvalidQuery),
        Err(SandboxFailure::App(e)) => Some(e.code),
    };
    let (status, outcome) = match outcome {
        Ok(answered) => {
            meter(&ctx, &answered);
            (StatusCode::OK, Ok(answered))
        }
        Err(SandboxFailure::Query(e)) => {
            // The catalogue's message, with what exactly it refers to; a message the
            // catalogue lacks (the SQL engine's own) as the engine gives it.
            let key = format!("field.{}", e.code());
            let detail = match &e {
                data::sandbox::SandboxError::Refused(r) => r.detail().map(str::to_owned),
                data::sandbox::SandboxError::Sql(s) => Some(s.to_string()),
            };
            let message = match (page.t(&key), detail) {
                (m, Some(d)) if m == key => d,
                (m, Some(d)) => format!("{m}（{d}）"),
                (m, None) => m,
            };
            (StatusCode::UNPROCESSABLE_ENTITY, Err(message))
        }
        Err(SandboxFailure::App(e)) => {
            let status = StatusCode::from_u16(e.code.http_status())
                .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            if status.is_server_error() {
                return Err(AppError(e));
            }
            let message = match e.fields.first() {
                Some(f) => page.field_message(f),
                None => page.error(&e),
            };
            (status, Err(message))
        }
    };
    let mut response = render(&state, &ctx, &a, status, Some(input), Some(outcome)).await?;
    // The refusal's stable code, as every error answer carries it.
    if let Some(code) = code
        && let Ok(value) = axum::http::HeaderValue::from_str(code.as_str())
    {
        response
            .headers_mut()
            .insert(crate::render::ERROR_CODE_HEADER, value);
    }
    Ok(response)
}
