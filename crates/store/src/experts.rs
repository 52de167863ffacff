//! Expert review assignments (A19.2): a work order given to one expert for an opinion by a
//! date, and the opinion once filed.

use chrono::NaiveDate;
use domain::clock::Timestamp;
use domain::ids::{AssignmentId, UserId, WorkOrderId};

use crate::access::{WorkOrderRecord, day_number, day_of};
use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct AssignmentRecord {
    pub id: AssignmentId,
    pub work_order_id: WorkOrderId,
    pub expert_id: UserId,
    pub question: String,
    pub due_on: NaiveDate,
    pub assigned_by: UserId,
    pub assigned_at: Timestamp,
    pub opinion: Option<Opinion>,
}

/// An expert's filed opinion.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Opinion {
    /// approve, narrow or refuse.
    pub recommendation: String,
    pub text: String,
    pub filed_at: Timestamp,
}

impl AssignmentRecord {
    /// What the policy knows of the assignment, given its work order.
    pub fn facts(&self, order: &WorkOrderRecord) -> domain::policy::AssignmentFacts {
        domain::policy::AssignmentFacts {
            expert: self.expert_id,
            order: order.facts(),
        }
    }
}

const COLUMNS: &str = "id, work_order_id, expert_id, question, due_day, assigned_by, assigned_at, \
     recommendation, opinion, filed_at";

type Row = (
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
);

fn record(r: Row) -> Result<AssignmentRecord> {
    let (id, order, expert, question, due, by, at, recommendation, opinion, filed) = r;
    Ok(AssignmentRecord {
        id: parse(&id, "assignment id")?,
        work_order_id: parse(&order, "work order id")?,
        expert_id: parse(&expert, "expert id")?,
        question,
        due_on: day_of(due)?,
        assigned_by: parse(&by, "assigner id")?,
        assigned_at: Timestamp(at),
        opinion: match (recommendation, opinion, filed) {
            (Some(recommendation), Some(text), Some(at)) => Some(Opinion {
                recommendation,
                text,
                filed_at: Timestamp(at),
            }),
            _ => None,
        },
    })
}

pub async fn insert(tx: &mut WriteTx, a: &AssignmentRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO expert_assignments (id, work_order_id, expert_id, question, due_day, \
         assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(a.id.to_string())
    .bind(a.work_order_id.to_string())
    .bind(a.expert_id.to_string())
    .bind(&a.question)
    .bind(day_number(a.due_on))
    .bind(a.assigned_by.to_string())
    .bind(a.assigned_at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Files the opinion on `id` unless one is already filed: `Conflict("opinion_filed")`.
pub async fn file(tx: &mut WriteTx, id: AssignmentId, opinion: &Opinion) -> Result<()> {
    let done = sqlx::query(
        "UPDATE expert_assignments SET recommendation = $1, opinion = $2, filed_at = $3 \
         WHERE id = $4 AND filed_at IS NULL",
    )
    .bind(&opinion.recommendation)
    .bind(&opinion.text)
    .bind(opinion.filed_at.0)
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("opinion_filed"));
    }
    Ok(())
}

/// Opinions still awaited on `order`, counted inside the transaction that filed one.
pub async fn awaited(tx: &mut WriteTx, order: WorkOrderId) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM expert_assignments WHERE work_order_id = $1 AND filed_at IS NULL",
    )
    .bind(order.to_string())
    .fetch_one(tx.conn())
    .await?;
    Ok(n)
}

/// Moves a work order between review states if it is still in `from`:
/// `Conflict("work_order_changed")` otherwise.
pub async fn move_order(
    tx: &mut WriteTx,
    order: WorkOrderId,
    from: domain::access::WorkOrderState,
    to: domain::access::WorkOrderState,
    at: Timestamp,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE access_work_orders SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
    )
    .bind(to.as_str())
    .bind(at.0)
    .bind(order.to_string())
    .bind(from.as_str())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("work_order_changed"));
    }
    Ok(())
}

/// Most assignments one expert's list shows.
pub const MAX_LISTED: i64 = 500;

impl Store {
    pub async fn assignment(&self, id: &str) -> Result<AssignmentRecord> {
        let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM expert_assignments WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        record(row)
    }

    /// The assignments on `order`, in the order they were given.
    pub async fn assignments_of(&self, order: WorkOrderId) -> Result<Vec<AssignmentRecord>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM expert_assignments WHERE work_order_id = $1 \
             ORDER BY assigned_at, id"
        )))
        .bind(order.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(record).collect()
    }

    /// `expert`'s assignments, those awaiting an opinion first, the nearest date first.
    pub async fn assignments_for(&self, expert: UserId) -> Result<Vec<AssignmentRecord>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM expert_assignments WHERE expert_id = $1 \
             ORDER BY CASE WHEN filed_at IS NULL THEN 0 ELSE 1 END, due_day, id LIMIT $2"
        )))
        .bind(expert.to_string())
        .bind(MAX_LISTED)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(record).collect()
    }

    /// The accounts holding the expert role: (id, display name, email).
    pub async fn experts(&self) -> Result<Vec<(UserId, String, String)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.display_name, u.email FROM users u \
             JOIN user_platform_roles r ON r.user_id = u.id AND r.role = 'expert' \
             ORDER BY u.display_name, u.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, name, email)| Ok((parse(&id, "user id")?, name, email)))
            .collect()
    }
}
