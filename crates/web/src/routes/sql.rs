//! `/api/v1/sql`: one read-only SELECT over open data, its tables entries named by id or by
//! name (`SELECT district, count(*) FROM "上海市持证企业名录" GROUP BY district`). The gate
//! and the limits are the data plane's (`data::sql`); an answer is JSON or CSV.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use data::arrow::datatypes::DataType;
use data::records::{csv_cell, write_json};
use domain::usage::UsageKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SqlInput {
    /// One SELECT statement; tables are entries, by id or by name in double quotes.
    pub sql: String,
    /// json (the default) or csv.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ColumnDoc {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: String,
}

/// A query's answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SqlAnswer {
    pub columns: Vec<ColumnDoc>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: usize,
    /// The entries read.
    pub tables: Vec<String>,
}

pub(crate) fn type_name(t: &DataType) -> &'static str {
    match t {
        DataType::Int64 => "integer",
        DataType::Float64 => "decimal",
        DataType::Boolean => "boolean",
        DataType::Date32 => "date",
        DataType::Timestamp(_, _) => "datetime",
        _ => "text",
    }
}

/// A refused or stopped query as an error naming what was wrong or which limit was passed.
pub(crate) fn sql_error(e: app::open_data::SqlFailure) -> AppError {
    match e {
        app::open_data::SqlFailure::App(e) => AppError(e),
        app::open_data::SqlFailure::Sql(e) => {
            let mut err = AppError::new(ErrorCode::InvalidQuery);
            err.0.fields.push(app::FieldError {
                field: "sql".into(),
                code: e.code(),
                detail: Some(e.to_string()),
            });
            err
        }
    }
}

async fn answer(state: &AppState, ctx: &Ctx, input: SqlInput) -> AppResult<Response> {
    let csv = match input.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(AppError::field("format", "invalid_value")),
    };
    let (answer, read) = app::open_data::sql(&state.app, &ctx.caller, &input.sql)
        .await
        .map_err(sql_error)?;
    for d in &read {
        crate::openlist::count_read(ctx, d, UsageKind::Records);
    }
    ctx.meter.rows(answer.rows as u64);
    let schema = answer.batches.first().map(|b| b.schema());
    if csv {
        let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
        if let Some(s) = &schema {
            let _ = w.write_record(s.fields().iter().map(|f| f.name().as_str()));
        }
        for b in &answer.batches {
            for r in 0..b.num_rows() {
                let _ = w.write_record(b.columns().iter().map(|c| csv_cell(c.as_ref(), r)));
            }
        }
        let body = w.into_inner().unwrap_or_default();
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    let columns = schema
        .map(|s| {
            s.fields()
                .iter()
                .map(|f| ColumnDoc {
                    name: f.name().clone(),
                    column_type: type_name(f.data_type()).to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut rows = Vec::with_capacity(answer.rows);
    for b in &answer.batches {
        for r in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .map(|c| {
                        let mut s = String::new();
                        write_json(c.as_ref(), r, &mut s);
                        serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)
                    })
                    .collect(),
            );
        }
    }
    Ok(axum::Json(SqlAnswer {
        columns,
        row_count: rows.len(),
        rows,
        tables: read.iter().map(|d| d.id.to_string()).collect(),
    })
    .into_response())
}

/// `POST /api/v1/sql`.
pub async fn post(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<SqlInput>,
) -> AppResult<Response> {
    answer(&state, &ctx, input).await
}

/// `GET /api/v1/sql?sql=…`, for links and for clients that only GET.
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(input): Params<SqlInput>,
) -> AppResult<Response> {
    answer(&state, &ctx, input).await
}
