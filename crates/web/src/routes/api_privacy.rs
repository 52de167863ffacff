//! `/api/v1/datasets/{dataset}/privacy`: an entry's de-identification plan, the scan of its
//! newest upload, and the operator's exceptions (A10.3, A12.1, A14.1).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use domain::privacy::{DeidRule, PrivacyPlan};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::datasets::DatasetRecord;
use store::privacy::ExceptionRecord;

use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx};
use crate::error::AppResult;
use crate::state::AppState;

/// A plan as sent: the rule of each data item that has one, the quasi-identifiers, the
/// sensitive item, and the version of the plan it was made from (0 for a first plan).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    #[serde(default)]
    pub rules: BTreeMap<String, DeidRule>,
    #[serde(default)]
    pub quasi_identifiers: Vec<String>,
    #[serde(default)]
    pub sensitive: Option<String>,
    pub row_version: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ExceptionView {
    pub id: String,
    pub item: String,
    pub kind: String,
    pub reason: String,
    pub granted_at: Rfc3339,
}

impl From<ExceptionRecord> for ExceptionView {
    fn from(e: ExceptionRecord) -> Self {
        ExceptionView {
            id: e.id,
            item: e.item,
            kind: e.kind,
            reason: e.reason,
            granted_at: domain::clock::Timestamp(e.granted_at).into(),
        }
    }
}

/// A kind of personal information found in a column of the newest upload that was read.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FindingDoc {
    pub item: String,
    pub header: String,
    pub kind: String,
    pub values: u64,
    pub count: u64,
    /// 0–1.
    pub share: f64,
    /// Lines of the file with the value masked.
    pub examples: Vec<ExampleDoc>,
    /// `rule` (with the rule's code), `exception`, or absent while nothing deals with it.
    pub handled_by: Option<String>,
    pub rule: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ExampleDoc {
    pub line: u64,
    pub value: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanDoc {
    /// The upload scanned.
    pub version: String,
    pub findings: Vec<FindingDoc>,
    /// Findings nothing deals with.
    pub unhandled: u64,
    /// Whether they stop the entry's data from being published (unconditional data).
    pub blocks: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PrivacyDoc {
    pub rules: BTreeMap<String, DeidRule>,
    pub quasi_identifiers: Vec<String>,
    pub sensitive: Option<String>,
    /// Name it when sending a change.
    pub row_version: i64,
    pub exceptions: Vec<ExceptionView>,
    pub scan: Option<ScanDoc>,
}

fn doc(v: app::privacy::PrivacyView) -> PrivacyDoc {
    use data::privacy::Handling;
    PrivacyDoc {
        rules: v.plan.rules,
        quasi_identifiers: v.plan.quasi_identifiers,
        sensitive: v.plan.sensitive,
        row_version: v.row_version,
        exceptions: v.exceptions.into_iter().map(Into::into).collect(),
        scan: v.scan.map(|(version, report)| ScanDoc {
            version,
            unhandled: report.unhandled,
            blocks: report.blocks,
            findings: report
                .findings
                .into_iter()
                .map(|f| {
                    let (handled_by, rule) = match f.handled {
                        Some(Handling::Rule { rule }) => (Some("rule".to_owned()), Some(rule)),
                        Some(Handling::Exception) => (Some("exception".to_owned()), None),
                        None => (None, None),
                    };
                    FindingDoc {
                        item: f.item,
                        header: f.header,
                        kind: f.kind.as_str().to_owned(),
                        values: f.values,
                        count: f.count,
                        share: f.share,
                        examples: f
                            .examples
                            .into_iter()
                            .map(|e| ExampleDoc {
                                line: e.line,
                                value: e.value,
                            })
                            .collect(),
                        handled_by,
                        rule,
                    }
                })
                .collect(),
        }),
    }
}

/// `GET /api/v1/datasets/{dataset}/privacy`.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
) -> AppResult<Json<PrivacyDoc>> {
    Ok(Json(doc(
        app::privacy::view(&state.app, &ctx.caller, &d).await?
    )))
}

/// `PUT /api/v1/datasets/{dataset}/privacy`.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    ApiJson(input): ApiJson<PlanInput>,
) -> AppResult<Json<PrivacyDoc>> {
    let plan = PrivacyPlan {
        rules: input.rules,
        quasi_identifiers: input.quasi_identifiers,
        sensitive: input.sensitive,
    };
    app::privacy::save(&state.app, &ctx.caller, &d, &plan, input.row_version).await?;
    Ok(Json(doc(
        app::privacy::view(&state.app, &ctx.caller, &d).await?
    )))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionInput {
    /// The data item (field name).
    pub item: String,
    /// The kind of personal information allowed in it.
    pub kind: String,
    /// Why it may be opened (a law that makes it public, the person's consent…).
    pub reason: String,
}

/// `POST /api/v1/datasets/{dataset}/privacy/exceptions`.
pub async fn grant(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    ApiJson(input): ApiJson<ExceptionInput>,
) -> AppResult<(StatusCode, Json<ExceptionView>)> {
    let record = app::privacy::grant_exception(
        &state.app,
        &ctx.caller,
        &d,
        &input.item,
        input.kind.parse().ok(),
        &input.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// `DELETE /api/v1/datasets/{dataset}/privacy/exceptions/{id}`.
pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    app::privacy::withdraw_exception(&state.app, &ctx.caller, &d, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
