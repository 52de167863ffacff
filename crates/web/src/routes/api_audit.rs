//! `GET /api/v1/audit`: the audit trail for the security supervisor and the regulator,
//! filtered by actor, target, action and time, newest first, with keyset paging.

use axum::Json;
use axum::extract::State;
use chrono::DateTime;
use domain::audit::AuditRecord;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::audit::{AuditFilter, AuditKind};

use crate::contract::Rfc3339;
use crate::ctx::Params;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Deserialize, JsonSchema)]
pub struct AuditParams {
    actor: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    action: Option<String>,
    /// RFC 3339 instants; `from` inclusive, `to` exclusive.
    from: Option<String>,
    to: Option<String>,
    /// The `next_before` of the page before.
    before: Option<i64>,
    /// Records per page, 1 to 1000 (more is clamped); 100 when not given.
    limit: Option<i64>,
    /// Only sign-ins and sign-outs, or only changes.
    kind: Option<KindParam>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindParam {
    SignIns,
    Changes,
}

impl From<KindParam> for AuditKind {
    fn from(k: KindParam) -> Self {
        match k {
            KindParam::SignIns => AuditKind::SignIns,
            KindParam::Changes => AuditKind::Changes,
        }
    }
}

/// One record of the audit trail, chained to the one before by its hash.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditRecordView {
    pub seq: i64,
    pub at: Rfc3339,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before_digest: Option<String>,
    pub after_digest: Option<String>,
    pub client_addr: Option<String>,
    pub hash: String,
    pub prev_hash: String,
}

impl AuditRecordView {
    fn of(r: &AuditRecord) -> Self {
        AuditRecordView {
            seq: r.seq,
            at: domain::clock::Timestamp(r.at).into(),
            actor_id: r.actor_id.clone(),
            actor_role: r.actor_role.clone(),
            action: r.action.clone(),
            target_type: r.target_type.clone(),
            target_id: r.target_id.clone(),
            before_digest: r.before_digest.clone(),
            after_digest: r.after_digest.clone(),
            client_addr: r.client_addr.clone(),
            hash: r.hash.clone(),
            prev_hash: r.prev_hash.clone(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditPage {
    pub records: Vec<AuditRecordView>,
    /// Pass as `before` for the next page; null on the last.
    pub next_before: Option<i64>,
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
) -> AppResult<Json<AuditPage>> {
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
        kind: p.kind.map(Into::into),
        limit,
    };
    let records = state.store.list_audit(&filter).await?;
    let next = (records.len() as i64 == limit)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    Ok(Json(AuditPage {
        records: records.iter().map(AuditRecordView::of).collect(),
        next_before: next,
    }))
}
