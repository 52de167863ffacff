//! The audit trail for the regulator and the security auditor (A25.5, A26.1): every record
//! with its actor, role and action by their labels, filtered by choices rather than codes,
//! sign-ins apart from changes, the newest signed checkpoint of the chain, and the filtered
//! trail as CSV.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeZone};
use domain::audit::AuditRecord;
use domain::clock::{Timestamp, china_standard_time};
use domain::ids::UserId;
use serde::Deserialize;
use store::audit::{AuditFilter, AuditKind};

use crate::ctx::{Ctx, Params};
use crate::error::{AppResult, FieldError};
use crate::page::{Choice, PageCtx, html, when};
use crate::state::AppState;
use app::accounts;

/// The actions the platform records, each with a label in the catalogues (`audit_action.*`);
/// the filter offers them as choices. An action missing here is still shown, by its code.
pub const ACTIONS: &[&str] = &[
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "user.register",
    "user.create",
    "user.role_grant",
    "token.create",
    "token.revoke",
    "org.create",
    "org.member_set",
    "org.member_remove",
    "dataset.create",
    "dataset.update",
    "dataset.review",
    "dataset.data_update",
    "dataset.format_exception",
    "ticket.submit",
    "ticket.return",
    "ticket.resubmit",
    "ticket.accept",
    "ticket.cancel",
    "review_cycle.submit",
    "review_cycle.accept",
    "review_cycle.give_back",
    "catalogue.import",
    "catalogue.delete",
    "guide.update",
    "vocabulary.format",
    "vocabulary.glossary",
    "vocabulary.domain",
    "article.create",
    "article.update",
    "upload.create",
    "job.cancel",
    "housekeeping.purge",
    "housekeeping.purge_uploads",
];

/// The kinds of object records are about, for the filter.
const TARGETS: &[&str] = &[
    "account",
    "user",
    "session",
    "token",
    "organization",
    "dataset",
    "ticket",
    "catalogue_item",
    "classification_guide",
    "format",
    "glossary",
    "domain",
    "article",
    "upload",
    "job",
    "housekeeping",
];

/// The most records one CSV export holds; narrow the filters for more.
const EXPORT_LIMIT: i64 = 10_000;
const AUDIT_PAGE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target_type: String,
    #[serde(default)]
    target_id: String,
    /// Days in China Standard Time, both included.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// `sign_ins`, `changes`, or empty for both.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    before: Option<i64>,
}

impl AuditQuery {
    /// The query string of these filters (without the page), for links.
    fn encoded(&self) -> String {
        let mut link = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target_type", &self.target_type),
            ("target_id", &self.target_id),
            ("from", &self.from),
            ("to", &self.to),
            ("kind", &self.kind),
        ] {
            if !v.is_empty() {
                link.append_pair(k, v);
            }
        }
        link.finish()
    }
}

pub struct AuditRow {
    seq: i64,
    at: String,
    /// The account's name and email, when the actor is an account that still exists.
    actor_name: Option<String>,
    actor: String,
    role: String,
    action: String,
    target: String,
    client: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage<'a> {
    page: PageCtx<'a>,
    q: AuditQuery,
    rows: Vec<AuditRow>,
    older: Option<String>,
    export: String,
    errors: Vec<(String, String)>,
    actions: Vec<Choice>,
    targets: Vec<Choice>,
    kinds: Vec<Choice>,
    /// Where the newest signed checkpoint anchors the chain, in words.
    checkpoint: String,
}

/// "Name (email)" of each actor id that names an existing account. A page of the trail holds
/// at most `AUDIT_PAGE` records and usually a handful of distinct people, so each is looked up
/// once.
async fn actor_names<'a>(
    state: &AppState,
    ids: impl Iterator<Item = &'a str>,
) -> AppResult<HashMap<String, String>> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(id) {
            continue;
        }
        let Ok(user_id) = id.parse::<UserId>() else {
            continue;
        };
        match state.store.user(user_id).await {
            Ok(user) => {
                names.insert(
                    id.to_owned(),
                    format!("{} ({})", user.display_name, user.email),
                );
            }
            Err(store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(names)
}

/// The first millisecond of `day` (or of the day after, for an end date) in CST.
fn day_start(field: &str, day: &str, next: bool, errors: &mut Vec<FieldError>) -> Option<i64> {
    let day = day.trim();
    if day.is_empty() {
        return None;
    }
    let Ok(date) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
        errors.push(FieldError::new(field, "invalid_date"));
        return None;
    };
    let date = if next { date.succ_opt()? } else { date };
    let start = date.and_hms_opt(0, 0, 0)?;
    china_standard_time()
        .from_local_datetime(&start)
        .single()
        .map(|t| t.timestamp_millis())
}

/// The records the filters ask for, at most `limit`, or every problem of the filters.
async fn records(
    state: &AppState,
    q: &AuditQuery,
    limit: i64,
) -> AppResult<Result<Vec<AuditRecord>, Vec<FieldError>>> {
    let mut errors = Vec::new();
    let from = day_start("from", &q.from, false, &mut errors);
    let to = day_start("to", &q.to, true, &mut errors);
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    // People know each other by email, the trail by account id: either may be asked for.
    let actor_id = match text(&q.actor) {
        Some(email) if email.contains('@') => {
            match accounts::account_by_email(&state.app, &email).await? {
                Some(user) => Some(user.id.to_string()),
                None => {
                    errors.push(FieldError::new("actor", "unknown_user"));
                    None
                }
            }
        }
        other => other,
    };
    let kind = match q.kind.as_str() {
        "" => None,
        "sign_ins" => Some(AuditKind::SignIns),
        "changes" => Some(AuditKind::Changes),
        _ => {
            errors.push(FieldError::new("kind", "invalid_choice"));
            None
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let filter = AuditFilter {
        actor_id,
        target_type: text(&q.target_type),
        target_id: text(&q.target_id),
        action: text(&q.action),
        from,
        to,
        before_seq: q.before,
        kind,
        limit,
    };
    Ok(Ok(state.store.list_audit(&filter).await?))
}

fn label(page: &PageCtx, family: &str, code: &str) -> String {
    let key = format!("{family}.{code}");
    let text = page.t(&key);
    if text == key { code.to_owned() } else { text }
}

pub async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<AuditQuery>,
) -> AppResult<Response> {
    let page = PageCtx::new(&state, &ctx, "/console/audit");
    let (records, errors) = match records(&state, &q, AUDIT_PAGE).await? {
        Ok(records) => (records, Vec::new()),
        Err(errors) => (Vec::new(), errors),
    };
    let older = (records.len() as i64 == AUDIT_PAGE)
        .then(|| records.last().map(|r| r.seq))
        .flatten()
        .map(|seq| {
            let filters = q.encoded();
            let sep = if filters.is_empty() { "" } else { "&" };
            format!("/console/audit?{filters}{sep}before={seq}")
        });
    let names = actor_names(&state, records.iter().filter_map(|r| r.actor_id.as_deref())).await?;
    let rows = records
        .into_iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at: when(Timestamp(r.at)),
            actor_name: r.actor_id.as_ref().and_then(|id| names.get(id).cloned()),
            actor: r.actor_id.unwrap_or_default(),
            role: label(&page, "role", &r.actor_role),
            action: label(&page, "audit_action", &r.action),
            target: format!(
                "{} {}",
                label(&page, "audit_target", &r.target_type),
                r.target_id
            ),
            client: r.client_addr.unwrap_or_default(),
        })
        .collect();
    let choices = |values: &[&str], family: &str, current: &str, all: &str| {
        let mut out = vec![Choice {
            value: String::new(),
            label: page.t(all),
            selected: current.is_empty(),
        }];
        out.extend(values.iter().map(|v| Choice {
            value: (*v).to_owned(),
            label: label(&page, family, v),
            selected: current == *v,
        }));
        out
    };
    let actions = choices(ACTIONS, "audit_action", &q.action, "operator.all_actions");
    let targets = choices(
        TARGETS,
        "audit_target",
        &q.target_type,
        "operator.all_targets",
    );
    let kinds = choices(
        &["sign_ins", "changes"],
        "audit_kind",
        &q.kind,
        "operator.all_records",
    );
    // A checkpoint that cannot be read is said, not passed over: a damaged anchor must be seen.
    let checkpoint = match store::checkpoints::CheckpointFiles::new(&state.app.blobs)
        .latest()
        .await
    {
        Ok(Some(cp)) => page.tfs(
            "operator.checkpoint",
            &[("seq", cp.seq.to_string()), ("at", when(Timestamp(cp.at)))],
        ),
        Ok(None) => page.t("operator.no_checkpoint"),
        Err(e) => {
            tracing::warn!(error = %e, "the newest audit checkpoint cannot be read");
            page.t("operator.checkpoint_unreadable")
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let errors = errors
        .iter()
        .map(|e| {
            (
                e.field.clone(),
                super::console::message(&state, ctx.lang, e),
            )
        })
        .collect();
    let view = AuditPage {
        export: format!("/console/audit/export.csv?{}", q.encoded()),
        errors,
        q,
        rows,
        older,
        actions,
        targets,
        kinds,
        checkpoint,
        page,
    };
    html(status, view)
}

/// The filtered trail as CSV (UTF-8 with a byte order mark, so spreadsheet programs read the
/// Chinese right), newest first, at most [`EXPORT_LIMIT`] records.
pub async fn export(
    State(state): State<AppState>,
    Params(q): Params<AuditQuery>,
) -> AppResult<Response> {
    let records = match records(&state, &q, EXPORT_LIMIT).await? {
        Ok(records) => records,
        Err(errors) => return Err(crate::error::AppError::invalid(errors)),
    };
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let header = [
        "seq",
        "at",
        "actor_id",
        "actor_role",
        "action",
        "target_type",
        "target_id",
        "client_addr",
        "before_digest",
        "after_digest",
        "prev_hash",
        "hash",
    ];
    let write = |out: &mut csv::Writer<Vec<u8>>, row: &[&str]| {
        out.write_record(row)
            .map_err(|_| crate::error::AppError::new(crate::error::ErrorCode::Internal))
    };
    write(&mut out, &header)?;
    for r in &records {
        let at = Timestamp(r.at).to_rfc3339();
        let seq = r.seq.to_string();
        write(
            &mut out,
            &[
                &seq,
                &at,
                r.actor_id.as_deref().unwrap_or(""),
                &r.actor_role,
                &r.action,
                &r.target_type,
                &r.target_id,
                r.client_addr.as_deref().unwrap_or(""),
                r.before_digest.as_deref().unwrap_or(""),
                r.after_digest.as_deref().unwrap_or(""),
                &r.prev_hash,
                &r.hash,
            ],
        )?;
    }
    let body = out
        .into_inner()
        .map_err(|_| crate::error::AppError::new(crate::error::ErrorCode::Internal))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-trail.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
