//! Open-list change tickets: the ticket, its history of events, its attachments.

use std::collections::HashMap;

use domain::clock::Timestamp;
use domain::ids::{DatasetId, OrgId, TicketId};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::ticket::{ReturnReason, TicketKind, TicketState};

use crate::paging::{Page, Paged};
use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct TicketRecord {
    pub id: TicketId,
    pub dataset_id: DatasetId,
    pub org_id: OrgId,
    pub kind: TicketKind,
    pub state: TicketState,
    pub proposed: Option<DatasetMeta>,
    pub base_version: Option<i64>,
    pub reason: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    dataset_id: String,
    org_id: String,
    kind: String,
    state: String,
    proposed: Option<String>,
    base_version: Option<i64>,
    reason: String,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for TicketRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(TicketRecord {
            id: parse(&r.id, "ticket id")?,
            dataset_id: parse(&r.dataset_id, "dataset id")?,
            org_id: parse(&r.org_id, "org id")?,
            kind: parse(&r.kind, "ticket kind")?,
            state: parse(&r.state, "ticket state")?,
            proposed: r
                .proposed
                .map(|p| serde_json::from_str(&p))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("ticket {}: {e}", r.id)))?,
            base_version: r.base_version,
            reason: r.reason,
            created_by: r.created_by,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TicketEvent {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_id: String,
    pub event: String,
    pub reasons: Vec<ReturnReason>,
    pub text: String,
}

fn proposed_json(t: &TicketRecord) -> Option<String> {
    t.proposed
        .as_ref()
        .map(|m| serde_json::to_string(m).expect("metadata serializes"))
}

impl TicketRecord {
    /// What the authorization policy decides on.
    pub fn facts(&self) -> domain::policy::TicketFacts {
        domain::policy::TicketFacts {
            org: self.org_id,
            state: self.state,
        }
    }
}

pub async fn insert(tx: &mut WriteTx, t: &TicketRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO tickets (id, dataset_id, org_id, kind, state, proposed, base_version, reason, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(t.id.to_string())
    .bind(t.dataset_id.to_string())
    .bind(t.org_id.to_string())
    .bind(t.kind.as_str())
    .bind(t.state.as_str())
    .bind(proposed_json(t))
    .bind(t.base_version)
    .bind(&t.reason)
    .bind(&t.created_by)
    .bind(t.created_at.0)
    .bind(t.updated_at.0)
    .execute(tx.conn())
    .await
    // The one rule this insert can break: an entry has at most one open ticket.
    .map_err(|e| StoreError::conflict_on(e, "open_ticket"))?;
    Ok(())
}

/// Saves a ticket's new state (and revised proposal), only if it is still in `expected` state:
/// two reviewers acting at once cannot both succeed.
pub async fn update(tx: &mut WriteTx, t: &TicketRecord, expected: TicketState) -> Result<()> {
    let done = sqlx::query(
        "UPDATE tickets SET kind = $1, state = $2, proposed = $3, base_version = $4, reason = $5, updated_at = $6 \
         WHERE id = $7 AND state = $8",
    )
    .bind(t.kind.as_str())
    .bind(t.state.as_str())
    .bind(proposed_json(t))
    .bind(t.base_version)
    .bind(&t.reason)
    .bind(t.updated_at.0)
    .bind(t.id.to_string())
    .bind(expected.as_str())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("ticket_state"));
    }
    Ok(())
}

pub async fn add_event(
    tx: &mut WriteTx,
    ticket: TicketId,
    at: Timestamp,
    actor: &str,
    event: &str,
    reasons: &[ReturnReason],
    text: &str,
) -> Result<()> {
    let (next,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_events WHERE ticket_id = $1")
            .bind(ticket.to_string())
            .fetch_one(tx.conn())
            .await?;
    let reasons =
        (!reasons.is_empty()).then(|| serde_json::to_string(reasons).expect("reasons serialize"));
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, seq, at, actor_id, event, reasons, text) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ticket.to_string())
    .bind(next)
    .bind(at.0)
    .bind(actor)
    .bind(event)
    .bind(reasons)
    .bind(text)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Which tickets a list shows: every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub org: Option<OrgId>,
    pub dataset: Option<DatasetId>,
    pub state: Option<TicketState>,
    pub kind: Option<TicketKind>,
}

impl TicketFilter {
    fn filters(&self) -> crate::filters::Filters {
        let mut w = crate::filters::Filters::default();
        w.text("org_id", "=", self.org.map(|o| o.to_string()).as_deref())
            .text(
                "dataset_id",
                "=",
                self.dataset.map(|d| d.to_string()).as_deref(),
            )
            .text("state", "=", self.state.map(|s| s.as_str()))
            .text("kind", "=", self.kind.map(|k| k.as_str()));
        w
    }
}

impl Store {
    pub async fn ticket(&self, id: &str) -> Result<TicketRecord> {
        let row: Row = sqlx::query_as(
            "SELECT id, dataset_id, org_id, kind, state, proposed, base_version, reason, created_by, created_at, \
             updated_at FROM tickets WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// One page of tickets filtered by organization, dataset and state; oldest change first
    /// (a queue).
    pub async fn tickets(&self, filter: &TicketFilter, page: &Page) -> Result<Paged<TicketRecord>> {
        let mut w = filter.filters();
        w.after(("updated_at", ">"), ("id", ">"), page.cursor());
        let sql = w.sql(
            "SELECT id, dataset_id, org_id, kind, state, proposed, base_version, reason, created_by, \
             created_at, updated_at FROM tickets",
            "ORDER BY updated_at, id LIMIT $?",
        );
        let rows: Vec<Row> = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(page.limit)
            .fetch_all(self.pool())
            .await?;
        Paged::from_rows(rows, page, |t: &TicketRecord| {
            (t.updated_at.0, t.id.to_string())
        })
    }

    /// How many tickets `filter` lets through.
    pub async fn count_matching_tickets(&self, filter: &TicketFilter) -> Result<i64> {
        let w = filter.filters();
        let sql = w.sql("SELECT COUNT(*) FROM tickets", "");
        let (n,): (i64,) = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// An organization's `limit` most relevant tickets: open ones first, then the latest.
    pub async fn recent_tickets(&self, org: OrgId, limit: i64) -> Result<Vec<TicketRecord>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, dataset_id, org_id, kind, state, proposed, base_version, reason, created_by, created_at, \
             updated_at FROM tickets WHERE org_id = $1 \
             ORDER BY CASE WHEN state IN ('submitted', 'returned') THEN 0 ELSE 1 END, updated_at DESC, id \
             LIMIT $2",
        )
        .bind(org.to_string())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// How many tickets are in `state` (of `org`, or of every provider).
    pub async fn count_tickets(&self, org: Option<OrgId>, state: TicketState) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE ($1 IS NULL OR org_id = $1) AND state = $2",
        )
        .bind(org.map(|o| o.to_string()))
        .bind(state.as_str())
        .fetch_one(self.pool())
        .await?)
    }

    /// The open ticket of an entry, if it has one (there is at most one).
    pub async fn open_ticket(&self, dataset: DatasetId) -> Result<Option<TicketRecord>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, dataset_id, org_id, kind, state, proposed, base_version, reason, created_by, created_at, \
             updated_at FROM tickets WHERE dataset_id = $1 AND state IN ('submitted', 'returned')",
        )
        .bind(dataset.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// For each of `tickets`: the name of its entry and its provider's slug, in one query.
    pub async fn ticket_subjects(
        &self,
        tickets: &[TicketId],
    ) -> Result<HashMap<TicketId, (String, String)>> {
        if tickets.is_empty() {
            return Ok(HashMap::new());
        }
        // One placeholder per id; the ids are bound, never spliced into the text.
        let placeholders: Vec<String> = (1..=tickets.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT t.id, d.name, o.slug FROM tickets t JOIN datasets d ON d.id = t.dataset_id \
             JOIN organizations o ON o.id = t.org_id WHERE t.id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, String, String)>(sqlx::AssertSqlSafe(sql));
        for id in tickets {
            q = q.bind(id.to_string());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.into_iter()
            .map(|(id, name, slug)| Ok((parse::<TicketId>(&id, "ticket id")?, (name, slug))))
            .collect()
    }

    pub async fn ticket_events(&self, id: TicketId) -> Result<Vec<TicketEvent>> {
        let rows: Vec<(i64, i64, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT seq, at, actor_id, event, reasons, text FROM ticket_events WHERE ticket_id = $1 ORDER BY seq",
        )
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(seq, at, actor_id, event, reasons, text)| {
                Ok(TicketEvent {
                    seq,
                    at: Timestamp(at),
                    actor_id,
                    event,
                    reasons: reasons
                        .map(|r| serde_json::from_str(&r))
                        .transpose()
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?
                        .unwrap_or_default(),
                    text,
                })
            })
            .collect()
    }
}
