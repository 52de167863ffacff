//! CKAN's DataStore actions over an entry's current data: `datastore_search` (filters with
//! CKAN 2.12's range objects, `q`, `fields`, `sort`, `limit` up to 32,000, `offset`,
//! `include_total`, `records_format` objects, lists, CSV or TSV) and `datastore_info`. A
//! resource is named as in `package_show` (`{entry}-csv`, or the entry's id alone). They run
//! the records API's query, so they read only what it reads: open, unconditional data.

use data::arrow::datatypes::DataType;
use serde_json::{Map, Value, json};

use super::{CkanError, CkanResult, Params};
use crate::ctx::Ctx;
use crate::state::AppState;

/// CKAN's type names for ours.
fn ckan_type(t: &DataType) -> &'static str {
    match t {
        DataType::Int64 => "int",
        DataType::Float64 => "numeric",
        DataType::Boolean => "bool",
        DataType::Date32 => "date",
        DataType::Timestamp(_, _) => "timestamp",
        _ => "text",
    }
}

fn forbidden() -> CkanError {
    CkanError {
        kind: "Authorization Error",
        message: json!("Access denied: this resource's data is not open to everyone"),
        status: axum::http::StatusCode::FORBIDDEN,
    }
}

/// The entry and its current version's rows that `resource_id` names.
async fn open_resource(
    state: &AppState,
    ctx: &Ctx,
    p: &Params,
    kind: domain::usage::UsageKind,
) -> Result<
    (
        store::datasets::DatasetRecord,
        store::data_versions::DataVersion,
        std::sync::Arc<data::records::Table>,
        String,
    ),
    CkanError,
> {
    let resource = p
        .str("resource_id")
        .or_else(|| p.str("id"))
        .ok_or_else(|| CkanError::validation("resource_id", "Missing value"))?;
    let dataset = resource.strip_suffix("-csv").unwrap_or(&resource);
    let d = match state.store.dataset(dataset).await {
        Ok(d) if crate::openlist::can_see(ctx, &d) => d,
        Ok(_) | Err(store::StoreError::NotFound) => return Err(CkanError::not_found("Resource")),
        Err(e) => return Err(e.into()),
    };
    crate::openlist::count_read(ctx, &d, kind);
    let v = app::open_data::version(&state.app, &ctx.caller, &d, None)
        .await
        .map_err(|e| match e.code {
            app::ErrorCode::Forbidden | app::ErrorCode::NotSignedIn => forbidden(),
            _ => CkanError::not_found("Resource"),
        })?;
    ctx.meter.version(v.number);
    let t = app::open_data::table(&state.app, &v)
        .await
        .map_err(|_| CkanError::internal())?;
    Ok((d, v, t, resource))
}

/// A filter value as the records query takes it.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Translates the action's parameters into the records query's pairs.
fn pairs(p: &Params) -> Result<Vec<(String, String)>, CkanError> {
    let mut out = Vec::new();
    match p.0.get("filters") {
        None | Some(Value::Null) => {}
        Some(v) => {
            let v = match v {
                Value::String(s) => serde_json::from_str::<Value>(s)
                    .map_err(|_| CkanError::validation("filters", "Not a JSON object"))?,
                other => other.clone(),
            };
            let Value::Object(filters) = v else {
                return Err(CkanError::validation("filters", "Not a JSON object"));
            };
            for (field, value) in filters {
                match value {
                    Value::Array(values) => {
                        out.push((
                            format!("{field}__in"),
                            values.iter().map(text).collect::<Vec<_>>().join(","),
                        ));
                    }
                    // CKAN 2.12's range filters: {"gte": 1, "lt": 10}.
                    Value::Object(range) => {
                        for (op, bound) in range {
                            if !matches!(op.as_str(), "gt" | "gte" | "lt" | "lte" | "eq" | "ne") {
                                return Err(CkanError::validation(
                                    "filters",
                                    "Unknown range operator",
                                ));
                            }
                            out.push((format!("{field}__{op}"), text(&bound)));
                        }
                    }
                    value => out.push((format!("{field}__eq"), text(&value))),
                }
            }
        }
    }
    match p.0.get("q") {
        None | Some(Value::Null) => {}
        Some(Value::String(q)) if q.trim_start().starts_with('{') => {
            let Ok(Value::Object(by_field)) = serde_json::from_str::<Value>(q) else {
                return Err(CkanError::validation("q", "Not a JSON object"));
            };
            for (field, words) in by_field {
                out.push((format!("{field}__contains"), text(&words)));
            }
        }
        Some(Value::Object(by_field)) => {
            for (field, words) in by_field {
                out.push((format!("{field}__contains"), text(words)));
            }
        }
        Some(q) => out.push(("q".into(), text(q))),
    }
    let fields = p.list("fields")?;
    if !fields.is_empty() {
        let wanted: Vec<String> = fields
            .iter()
            .flat_map(|f| f.split(','))
            .map(str::trim)
            .filter(|f| !f.is_empty() && *f != "_id")
            .map(str::to_owned)
            .collect();
        if !wanted.is_empty() {
            out.push(("fields".into(), wanted.join(",")));
        }
    }
    if let Some(sort) = p.str("sort").filter(|s| !s.trim().is_empty()) {
        let mut keys = sort.split(',').map(str::trim).filter(|k| !k.is_empty());
        let first = keys.next().unwrap_or_default();
        if keys.next().is_some() {
            return Err(CkanError::validation("sort", "Sort by one field only"));
        }
        let mut words = first.split_whitespace();
        let field = words.next().unwrap_or_default().trim_matches('"');
        let dir = words.next().map(str::to_ascii_lowercase);
        let key = match dir.as_deref() {
            None | Some("asc") => field.to_owned(),
            Some("desc") => format!("-{field}"),
            Some(_) => return Err(CkanError::validation("sort", "Use asc or desc")),
        };
        if field != "_id" {
            out.push(("sort".into(), key));
        }
    }
    let limit = p.int("limit", 100, 0, data::query::MAX_LIMIT as i64)?;
    out.push(("limit".into(), limit.max(1).to_string()));
    let offset = p.int("offset", 0, 0, data::query::MAX_OFFSET as i64)?;
    out.push(("offset".into(), offset.to_string()));
    Ok(out)
}

pub(super) async fn search(state: &AppState, ctx: &Ctx, p: &Params) -> CkanResult {
    let (_, _, table, resource) =
        open_resource(state, ctx, p, domain::usage::UsageKind::Records).await?;
    let pairs = pairs(p)?;
    let limit = p.int("limit", 100, 0, data::query::MAX_LIMIT as i64)?;
    let offset = p.int("offset", 0, 0, data::query::MAX_OFFSET as i64)?;
    let schema = table.schema();
    let query_error = |e: data::query::QueryError| {
        let field = match e.param.split_once("__") {
            Some((f, _)) => f.to_owned(),
            None => e.param.clone(),
        };
        CkanError::validation(if field.is_empty() { "q" } else { &field }, e.code)
    };
    let q = data::query::parse(&pairs, &schema).map_err(query_error)?;
    ctx.meter.query(&table, &q);
    let page = tokio::task::spawn_blocking({
        let (table, q) = (table.clone(), q.clone());
        move || data::records::run(&table, &q)
    })
    .await
    .map_err(|_| CkanError::internal())?
    .map_err(query_error)?;
    let rows = if limit == 0 { 0 } else { page.rows.num_rows() };
    ctx.meter.rows(rows as u64);
    let batch = &page.rows;
    let mut fields = vec![json!({ "id": "_id", "type": "int" })];
    fields.extend(
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| json!({ "id": f.name(), "type": ckan_type(f.data_type()) })),
    );
    let format = p.str("records_format").unwrap_or_else(|| "objects".into());
    let value = |col: usize, row: usize| -> Value {
        let mut s = String::new();
        data::records::write_json(batch.column(col).as_ref(), row, &mut s);
        serde_json::from_str(&s).unwrap_or(Value::Null)
    };
    let records = match format.as_str() {
        "objects" => Value::Array(
            (0..rows)
                .map(|r| {
                    let mut o = Map::new();
                    o.insert("_id".into(), json!(page.ids[r] + 1));
                    for (c, f) in batch.schema().fields().iter().enumerate() {
                        o.insert(f.name().clone(), value(c, r));
                    }
                    Value::Object(o)
                })
                .collect(),
        ),
        "lists" => Value::Array(
            (0..rows)
                .map(|r| {
                    let mut l = vec![json!(page.ids[r] + 1)];
                    l.extend((0..batch.num_columns()).map(|c| value(c, r)));
                    Value::Array(l)
                })
                .collect(),
        ),
        "csv" | "tsv" => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if format == "tsv" { b'\t' } else { b',' })
                .from_writer(Vec::new());
            for r in 0..rows {
                let mut cells = vec![(page.ids[r] + 1).to_string()];
                cells.extend(
                    batch
                        .columns()
                        .iter()
                        .map(|c| data::records::csv_cell(c.as_ref(), r)),
                );
                let _ = w.write_record(&cells);
            }
            json!(String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default())
        }
        _ => {
            return Err(CkanError::validation(
                "records_format",
                "Use objects, lists, csv or tsv",
            ));
        }
    };
    let mut out = json!({
        "resource_id": resource,
        "fields": fields,
        "records_format": format,
        "records": records,
        "limit": limit,
        "_links": {
            "start": format!("/api/3/action/datastore_search?resource_id={resource}"),
            "next": format!(
                "/api/3/action/datastore_search?resource_id={resource}&offset={}",
                offset + limit
            ),
        },
    });
    if offset > 0 {
        out["offset"] = json!(offset);
    }
    if p.0
        .get("include_total")
        .is_none_or(|v| v != &json!(false) && v != &json!("false"))
    {
        out["total"] = json!(page.total);
        out["total_was_estimated"] = json!(false);
    }
    Ok(out)
}

pub(super) async fn info(state: &AppState, ctx: &Ctx, p: &Params) -> CkanResult {
    let (d, v, table, resource) =
        open_resource(state, ctx, p, domain::usage::UsageKind::ApiRead).await?;
    let schema = table.schema();
    let fields: Vec<Value> = schema
        .fields()
        .iter()
        .map(|f| {
            let label = d
                .meta
                .data_items
                .iter()
                .find(|i| &i.name == f.name())
                .map(|i| i.label.clone())
                .unwrap_or_default();
            json!({
                "id": f.name(), "type": ckan_type(f.data_type()),
                "schema": { "native_type": ckan_type(f.data_type()), "notnull": false },
                "info": { "label": label },
            })
        })
        .collect();
    Ok(json!({
        "meta": {
            "id": resource, "count": table.rows(), "table_type": "BASE TABLE",
            "size": v.parquet_size, "version": v.number,
        },
        "fields": fields,
    }))
}

/// `datastore_search_sql`: one read-only SELECT whose tables are resources (`"{entry}-csv"`)
/// or entries, through the same gate and limits as `/api/v1/sql`.
pub(super) async fn search_sql(state: &AppState, ctx: &Ctx, p: &Params) -> CkanResult {
    let sql = p
        .str("sql")
        .ok_or_else(|| CkanError::validation("sql", "Missing value"))?;
    let (answer, read) = app::open_data::sql(&state.app, &ctx.caller, &sql)
        .await
        .map_err(|e| match e {
            app::open_data::SqlFailure::Sql(e) => {
                let mut c = CkanError::validation("sql", e.code());
                c.message = json!({ "sql": [e.to_string()], "info": { "code": e.code() } });
                c
            }
            app::open_data::SqlFailure::App(_) => CkanError::internal(),
        })?;
    for d in &read {
        crate::openlist::count_read(ctx, d, domain::usage::UsageKind::Records);
    }
    ctx.meter.rows(answer.rows as u64);
    let mut fields = Vec::new();
    let mut records = Vec::new();
    for b in &answer.batches {
        let schema = b.schema();
        if fields.is_empty() {
            fields = schema
                .fields()
                .iter()
                .map(|f| json!({ "id": f.name(), "type": ckan_type(f.data_type()) }))
                .collect();
        }
        for r in 0..b.num_rows() {
            let mut o = Map::new();
            for (c, f) in schema.fields().iter().enumerate() {
                let mut s = String::new();
                data::records::write_json(b.column(c).as_ref(), r, &mut s);
                o.insert(
                    f.name().clone(),
                    serde_json::from_str(&s).unwrap_or(Value::Null),
                );
            }
            records.push(Value::Object(o));
        }
    }
    Ok(json!({ "sql": sql, "fields": fields, "records": records, "records_truncated": false }))
}
