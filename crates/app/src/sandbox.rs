//! Sandbox delivery (A21.2, A25.6): an agreement may grant an entry in the sandbox instead of
//! its rows. Its applicant asks SQL of the data on the platform and receives aggregates only
//! (`data::sandbox`): groups below the configured threshold suppressed, queries that return
//! records or single people out refused, and — when the grant carries a privacy budget —
//! every answer drawn with noise, each query spending part of the budget. Each query counts
//! against the calls a day granted, and each is logged with what it returned (or why it was
//! refused) and audited, in one transaction with the budget it spent.

use std::sync::Arc;

use data::sandbox::{Mode, Rules, SandboxAnswer, SandboxError};
use domain::access::{AgreementState, Delivery};
use domain::ids::AgreementId;
use domain::policy::{Action, Resource};
use serde_json::json;
use store::datasets::DatasetRecord;
use store::sandbox::SandboxQueryRecord;

use crate::access::Grant;
use crate::held::Held;
use crate::open_data::SqlFailure;
use crate::{App, Caller, Error, ErrorCode, FieldError, Result};

/// The most groups one answer has.
pub const MAX_GROUPS: usize = 1_000;
/// Queries shown in a sandbox's history.
pub const HISTORY: i64 = 20;
/// The budget one query may spend, at least and at most.
pub const EPSILON_RANGE: std::ops::RangeInclusive<f64> = 0.01..=1.0;

/// A query asked in a sandbox.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryInput {
    /// One SELECT of aggregates over one entry the agreement grants in the sandbox, named by
    /// its id or by its name in double quotes.
    pub sql: String,
    /// For a grant with a privacy budget: what this query spends (0.01 to 1); the platform's
    /// default when left out.
    #[serde(default)]
    pub epsilon: Option<f64>,
}

/// One entry of a sandbox, with its budget.
#[derive(Debug, Clone)]
pub struct SandboxEntry {
    pub dataset: DatasetRecord,
    pub grant: Grant,
    /// Thousandths of epsilon spent.
    pub spent: i64,
}

impl SandboxEntry {
    /// Thousandths of epsilon left, when the grant has a budget.
    pub fn left(&self) -> Option<i64> {
        self.grant
            .privacy_budget
            .map(|b| (i64::from(b.thousandths()) - self.spent).max(0))
    }
}

/// What a sandbox's page shows.
#[derive(Debug, Clone)]
pub struct SandboxView {
    pub held: Arc<Held>,
    pub threshold: u64,
    pub entries: Vec<SandboxEntry>,
    pub queries: Vec<SandboxQueryRecord>,
}

/// A query answered.
#[derive(Debug, Clone)]
pub struct Answered {
    pub query_id: String,
    pub dataset: DatasetRecord,
    pub version: i64,
    pub answer: SandboxAnswer,
    pub threshold: u64,
    /// The entry after the query, with what its budget has left.
    pub entry: SandboxEntry,
}

/// Why a sandbox query was not answered.
#[derive(Debug)]
pub enum SandboxFailure {
    App(Error),
    Query(SandboxError),
}

impl From<Error> for SandboxFailure {
    fn from(e: Error) -> Self {
        SandboxFailure::App(e)
    }
}

impl From<store::StoreError> for SandboxFailure {
    fn from(e: store::StoreError) -> Self {
        SandboxFailure::App(e.into())
    }
}

impl From<SandboxError> for SandboxFailure {
    fn from(e: SandboxError) -> Self {
        SandboxFailure::Query(e)
    }
}

impl From<SqlFailure> for SandboxFailure {
    fn from(e: SqlFailure) -> Self {
        match e {
            SqlFailure::App(e) => SandboxFailure::App(e),
            SqlFailure::Sql(e) => SandboxFailure::Query(e.into()),
        }
    }
}

impl SandboxFailure {
    fn code(&self) -> &'static str {
        match self {
            SandboxFailure::App(e) => e.code.as_str(),
            SandboxFailure::Query(e) => e.code(),
        }
    }
}

/// Agreement `id`, if `caller` may do `action` in its sandbox: a credential only its own.
async fn held(app: &App, caller: &Caller, id: AgreementId, action: Action) -> Result<Arc<Held>> {
    let held = app
        .agreements
        .get(app, id, app.clock.now())
        .await
        .map_err(|e| match e.code {
            ErrorCode::NotFound => Error::new(ErrorCode::NotFound),
            _ => e,
        })?;
    caller.authorize(action, Resource::Agreement(held.record.facts()))?;
    let other_credential = caller
        .user()?
        .scope
        .and_then(|s| s.agreement)
        .is_some_and(|a| a != id);
    if other_credential {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok(held)
}

/// The entries `held` grants in the sandbox, each with what its budget has spent.
async fn entries(app: &App, held: &Held) -> Result<Vec<SandboxEntry>> {
    let mut out = Vec::new();
    for g in held
        .grants
        .iter()
        .filter(|g| g.delivery == Delivery::Sandbox)
    {
        let dataset = app.store.dataset(&g.dataset.to_string()).await?;
        let spent = app.store.sandbox_spent(held.record.id, g.dataset).await?;
        out.push(SandboxEntry {
            dataset,
            grant: g.clone(),
            spent,
        });
    }
    Ok(out)
}

/// The sandbox of agreement `id`: its entries, budgets and the newest queries; for its two
/// sides, the operator and the regulator.
pub async fn view(app: &App, caller: &Caller, id: AgreementId) -> Result<SandboxView> {
    let held = held(app, caller, id, Action::ViewAgreement).await?;
    let entries = entries(app, &held).await?;
    let queries = app.store.sandbox_queries(id, HISTORY).await?;
    Ok(SandboxView {
        held,
        threshold: app.config.data.privacy.sandbox_threshold,
        entries,
        queries,
    })
}

/// The entry of `entries` that `name` (an id, a CKAN resource id or an exact name) is.
fn entry_named<'a>(entries: &'a [SandboxEntry], name: &str) -> Option<&'a SandboxEntry> {
    let id = name.strip_suffix("-csv").unwrap_or(name);
    entries
        .iter()
        .find(|e| e.dataset.id.to_string() == id || e.dataset.meta.name == name)
}

/// Asks `input` in the sandbox of agreement `id`.
pub async fn query(
    app: &App,
    caller: &Caller,
    id: AgreementId,
    input: &QueryInput,
) -> std::result::Result<Answered, SandboxFailure> {
    let held = held(app, caller, id, Action::QuerySandbox).await?;
    if held.record.state != AgreementState::Active {
        return Err(Error::new(ErrorCode::AgreementNotActive).into());
    }
    let entries = entries(app, &held).await?;
    if entries.is_empty() {
        return Err(Error::new(ErrorCode::NotGranted).into());
    }
    if let Some(e) = input.epsilon
        && !EPSILON_RANGE.contains(&e)
    {
        return Err(Error::field("epsilon", "out_of_range").into());
    }
    let resolved = match data::sql::tables_of(&input.sql) {
        Err(e) => Err(SandboxError::from(e)),
        Ok(tables) => match tables.as_slice() {
            [] => Err(data::sandbox::Refusal::NoEntry.into()),
            [name] => entry_named(&entries, name)
                .cloned()
                .map(|e| (e, name.clone()))
                .ok_or_else(|| data::sql::SqlError::UnknownTable(name.clone()).into()),
            _ => Err(data::sandbox::Refusal::Join.into()),
        },
    };
    match resolved {
        Ok((entry, name)) => {
            let outcome = ask(app, &held, &entry, name, input).await;
            record(app, caller, &held, Some(&entry), input, outcome).await
        }
        Err(e) => {
            // A query naming no granted entry is logged too; it counts against the most calls
            // a day any of the agreement's sandboxes grants, so the log stays bounded.
            let now = app.clock.now();
            let most = entries
                .iter()
                .map(|e| e.grant.calls_per_day)
                .max()
                .unwrap_or(0);
            let key = format!("sandbox-unresolved:{id}:{}", now.to_cst().date_naive());
            let calls = app.counters.add(&app.store, &key, 1, now, 86_400).await?;
            if calls as u64 > most {
                return Err(Error::new(ErrorCode::QuotaExceeded).into());
            }
            record(app, caller, &held, None, input, Err(e.into())).await
        }
    }
}

/// The answer to `input` over `entry` (which the query names `name`), after the call is
/// counted and the budget is checked.
async fn ask(
    app: &App,
    held: &Held,
    entry: &SandboxEntry,
    name: String,
    input: &QueryInput,
) -> std::result::Result<(i64, SandboxAnswer, i64), SandboxFailure> {
    let settings = app.config.data.privacy;
    if !entry.dataset.facts().serves_granted_data() {
        return Err(SandboxFailure::Query(
            data::sql::SqlError::UnknownTable(entry.dataset.meta.name.clone()).into(),
        ));
    }
    let now = app.clock.now();
    crate::delivery::count_call(app, held.record.id, &entry.grant, now).await?;
    let (mode, spend) = match entry.grant.privacy_budget {
        Some(_) => {
            let epsilon = input.epsilon.unwrap_or(settings.sandbox_epsilon);
            let spend = (epsilon * 1000.0).round() as i64;
            if entry.left().unwrap_or(0) < spend {
                return Err(Error::new(ErrorCode::PrivacyBudgetSpent).into());
            }
            (
                Mode::Noisy {
                    epsilon: spend as f64 / 1000.0,
                },
                spend,
            )
        }
        None if input.epsilon.is_some() => {
            return Err(Error::field("epsilon", "no_privacy_budget").into());
        }
        None => (Mode::Exact, 0),
    };
    let v = crate::open_data::lookup(app, &entry.dataset, None).await?;
    let admission = crate::delivery::Admission {
        agreement: held.record.id,
        items: entry.grant.items.clone(),
        rows: entry.grant.rows.clone(),
        calls_today: 0,
    };
    let source = crate::open_data::granted_view(app, &v, &admission, name, &input.sql).await?;
    let limits = data::sql::Limits {
        rows: MAX_GROUPS,
        ..app.config.data.sql
    };
    let rules = Rules {
        threshold: settings.sandbox_threshold,
        limits,
    };
    // Exact answers are compared with the earlier answers over the same version; noisy ones
    // are bounded by the budget instead.
    let history = match mode {
        Mode::Exact => {
            app.store
                .sandbox_answered(
                    held.record.id,
                    entry.dataset.id,
                    v.number.unwrap_or_default(),
                    HISTORY,
                )
                .await?
        }
        Mode::Noisy { .. } => Vec::new(),
    };
    let answer = data::sandbox::run_after(&input.sql, &source, rules, mode, &history)
        .await
        .map_err(SandboxFailure::Query)?;
    Ok((v.number.unwrap_or_default(), answer, spend))
}

/// The answer as it is logged and returned: its columns and rows.
pub fn answer_json(a: &SandboxAnswer) -> serde_json::Value {
    json!({
        "columns": a.columns.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "rows": a.rows,
        "suppressed_groups": a.suppressed_groups,
    })
}

/// Logs and audits the query and what came of it, spending the budget of an answer in the
/// same transaction: an answer whose budget another query spent first is not returned.
async fn record(
    app: &App,
    caller: &Caller,
    held: &Held,
    entry: Option<&SandboxEntry>,
    input: &QueryInput,
    outcome: std::result::Result<(i64, SandboxAnswer, i64), SandboxFailure>,
) -> std::result::Result<Answered, SandboxFailure> {
    let now = app.clock.now();
    let user = caller.user()?.id.to_string();
    let id = uuid::Uuid::now_v7().to_string();
    let mut log = SandboxQueryRecord {
        id: id.clone(),
        agreement_id: held.record.id.to_string(),
        dataset_id: entry.map(|e| e.dataset.id.to_string()),
        version: None,
        user_id: user,
        sql: input.sql.chars().take(data::sql::MAX_SQL_CHARS).collect(),
        outcome: "answered".into(),
        code: None,
        group_count: 0,
        suppressed: 0,
        epsilon: 0,
        answer: None,
        at: now.0,
    };
    let mut tx = app.store.begin_write().await?;
    let result = match (outcome, entry) {
        (Ok((version, answer, spend)), Some(entry)) => {
            let spent = match entry.grant.privacy_budget {
                Some(b) => {
                    store::sandbox::spend(
                        &mut tx,
                        held.record.id,
                        entry.dataset.id,
                        spend,
                        i64::from(b.thousandths()),
                    )
                    .await?
                }
                None => true,
            };
            if spent {
                log.version = Some(version);
                log.group_count = answer.rows.len() as i64;
                log.suppressed = answer.suppressed_groups as i64;
                log.epsilon = spend;
                log.answer = Some(answer_json(&answer).to_string());
                Ok((version, answer, spend))
            } else {
                Err(SandboxFailure::App(Error::new(
                    ErrorCode::PrivacyBudgetSpent,
                )))
            }
        }
        (Ok(_), None) => Err(SandboxFailure::App(Error::new(ErrorCode::NotGranted))),
        (Err(e), _) => Err(e),
    };
    if let Err(e) = &result {
        log.outcome = match e {
            // What the query asked was refused; it ran, and stopped or broke.
            SandboxFailure::Query(SandboxError::Sql(
                data::sql::SqlError::TimeLimit(_)
                | data::sql::SqlError::MemoryLimit(_)
                | data::sql::SqlError::Failed(_),
            )) => "failed",
            SandboxFailure::Query(_) => "refused",
            SandboxFailure::App(e) if e.code.http_status() < 500 => "refused",
            _ => "failed",
        }
        .into();
        log.code = Some(e.code().to_owned());
    }
    store::sandbox::log(&mut tx, &log).await?;
    let mut ev = caller.event(
        now,
        "sandbox.query",
        "agreement",
        held.record.id.to_string(),
    );
    ev.after = Some(json!({
        "query": log.id, "dataset": log.dataset_id, "version": log.version,
        "outcome": log.outcome, "code": log.code, "groups": log.group_count,
        "suppressed": log.suppressed, "epsilon": log.epsilon as f64 / 1000.0,
    }));
    tx.audit(ev).await?;
    tx.commit().await?;
    let (version, answer, _) = result?;
    let entry = entry.ok_or(Error::new(ErrorCode::NotGranted))?;
    Ok(Answered {
        query_id: id,
        dataset: entry.dataset.clone(),
        version,
        answer,
        threshold: app.config.data.privacy.sandbox_threshold,
        entry: SandboxEntry {
            spent: app
                .store
                .sandbox_spent(held.record.id, entry.dataset.id)
                .await?,
            ..entry.clone()
        },
    })
}

/// Why a field of a sandbox query is wrong, for the error's fields.
pub fn query_field_error(e: &SandboxError) -> FieldError {
    FieldError {
        field: "sql".into(),
        code: e.code(),
        detail: Some(e.to_string()),
    }
}
