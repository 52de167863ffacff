//! `GET /api/v1/audit`: the audit trail for the security supervisor and the regulator,
//! filtered by actor, target, action and time, newest first, with keyset paging.

use axum::Json;
use axum::extract::State;
use chrono::DateTime;
use serde::Deserialize;
use serde_json::json;
use store::audit::AuditFilter;

use crate::ctx::Params;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AuditParams {
    actor: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    action: Option<String>,
    /// RFC 3339 instants; `from` inclusive, `to` exclusive.
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

fn instant(field: &'static str, v: Option<String>) -> Result<Option<i64>, AppError> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.timestamp_millis())
                .map_err(|_| AppError::field(field, "invalid_time"))
        })
        .transpose()
}

pub async fn list(
    State(state): State<AppState>,
    Params(p): Params<AuditParams>,
) -> AppResult<Json<serde_json::Value>> {
    let (from, to) = (instant("from", p.from), instant("to", p.to));
    let (from, to) = match (from, to) {
        (Ok(f), Ok(t)) => (f, t),
        (f, t) => {
            let fields = [f.err(), t.err()]
                .into_iter()
                .flatten()
                .flat_map(|e| e.0.fields)
                .collect();
            return Err(AppError::invalid(fields));
        }
    };
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let filter = AuditFilter {
        actor_id: p.actor.filter(|s| !s.is_empty()),
        target_type: p.target_type.filter(|s| !s.is_empty()),
        target_id: p.target_id.filter(|s| !s.is_empty()),
        action: p.action.filter(|s| !s.is_empty()),
        from,
        to,
        before_seq: p.before,
        limit,
    };
    let records = state.store.list_audit(&filter).await?;
    let next = (records.len() as i64 == limit)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    let items: Vec<_> = records
        .iter()
        .map(|r| {
            json!({
                "seq": r.seq,
                "at": domain::clock::Timestamp(r.at).to_rfc3339(),
                "actor_id": r.actor_id, "actor_role": r.actor_role, "action": r.action,
                "target_type": r.target_type, "target_id": r.target_id,
                "before_digest": r.before_digest, "after_digest": r.after_digest,
                "client_addr": r.client_addr, "hash": r.hash, "prev_hash": r.prev_hash,
            })
        })
        .collect();
    Ok(Json(json!({ "records": items, "next_before": next })))
}
