//! Conditional opening's records (A18–A19): applications with every round of their
//! completeness review and their materials, and the work orders an accepted application
//! becomes. A state is saved only if it is still the one it was read in: two reviewers acting
//! at once cannot both succeed.

use chrono::NaiveDate;
use domain::access::{ApplicationState, WorkOrderState};
use domain::application::{ApplicationForm, Request};
use domain::clock::Timestamp;
use domain::ids::{ApplicationId, DatasetId, OrgId, UserId, WorkOrderId};

use crate::paging::{Page, Paged};
use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApplicationRecord {
    pub id: ApplicationId,
    pub applicant_id: UserId,
    pub state: ApplicationState,
    pub form: ApplicationForm,
    /// Submissions so far.
    pub round: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub row_version: i64,
}

impl ApplicationRecord {
    pub fn facts(&self) -> domain::policy::ApplicationFacts {
        domain::policy::ApplicationFacts {
            applicant: self.applicant_id,
        }
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("access records serialize")
}

const APPLICATION_COLUMNS: &str =
    "id, applicant_id, state, form, round, created_at, updated_at, row_version";

type ApplicationRow = (String, String, String, String, i64, i64, i64, i64);

fn application(r: ApplicationRow) -> Result<ApplicationRecord> {
    let (id, applicant, state, form, round, created, updated, row_version) = r;
    Ok(ApplicationRecord {
        form: serde_json::from_str(&form).map_err(|e| corrupt(&format!("application {id}"), e))?,
        id: parse(&id, "application id")?,
        applicant_id: parse(&applicant, "user id")?,
        state: parse(&state, "application state")?,
        round,
        created_at: Timestamp(created),
        updated_at: Timestamp(updated),
        row_version,
    })
}

pub async fn insert_application(tx: &mut WriteTx, a: &ApplicationRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_applications (id, applicant_id, state, form, round, created_at, updated_at, row_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(a.id.to_string())
    .bind(a.applicant_id.to_string())
    .bind(a.state.as_str())
    .bind(to_json(&a.form))
    .bind(a.round)
    .bind(a.created_at.0)
    .bind(a.updated_at.0)
    .bind(a.row_version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// How many applications of `applicant` are in `state`, read inside the transaction that adds one.
pub async fn count_in_state(
    tx: &mut WriteTx,
    applicant: UserId,
    state: ApplicationState,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM access_applications WHERE applicant_id = $1 AND state = $2",
    )
    .bind(applicant.to_string())
    .bind(state.as_str())
    .fetch_one(tx.conn())
    .await?)
}

/// Saves `a` (its state, form and round) if the stored one is still at `a.row_version` and
/// in `expected` state; the saved row's version is one more. `Conflict("application_changed")`
/// when someone got there first.
pub async fn update_application(
    tx: &mut WriteTx,
    a: &ApplicationRecord,
    expected: ApplicationState,
) -> Result<ApplicationRecord> {
    let done = sqlx::query(
        "UPDATE access_applications SET state = $1, form = $2, round = $3, updated_at = $4, \
         row_version = row_version + 1 WHERE id = $5 AND state = $6 AND row_version = $7",
    )
    .bind(a.state.as_str())
    .bind(to_json(&a.form))
    .bind(a.round)
    .bind(a.updated_at.0)
    .bind(a.id.to_string())
    .bind(expected.as_str())
    .bind(a.row_version)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("application_changed"));
    }
    Ok(ApplicationRecord {
        row_version: a.row_version + 1,
        ..a.clone()
    })
}

/// A material uploaded with an application.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MaterialRecord {
    pub id: String,
    /// The entry whose list requires it; `None` for the application's own (the pledge).
    pub dataset_id: Option<DatasetId>,
    pub material: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

pub async fn add_material(
    tx: &mut WriteTx,
    application: ApplicationId,
    m: &MaterialRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_materials (id, application_id, dataset_id, material, name, media_type, size, sha256, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&m.id)
    .bind(application.to_string())
    .bind(m.dataset_id.map(|d| d.to_string()))
    .bind(&m.material)
    .bind(&m.name)
    .bind(&m.media_type)
    .bind(m.size)
    .bind(&m.sha256)
    .bind(m.created_at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Removes material `id` of `application`; `NotFound` when it has none such.
pub async fn remove_material(tx: &mut WriteTx, application: ApplicationId, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM access_materials WHERE application_id = $1 AND id = $2")
        .bind(application.to_string())
        .bind(id)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The number of materials an application holds, read inside the transaction that adds one.
pub async fn count_materials(tx: &mut WriteTx, application: ApplicationId) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM access_materials WHERE application_id = $1")
            .bind(application.to_string())
            .fetch_one(tx.conn())
            .await?,
    )
}

/// A submission and how its completeness review ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoundRecord {
    pub round: i64,
    pub submitted_at: Timestamp,
    pub form: ApplicationForm,
    pub materials: Vec<MaterialRecord>,
    /// accepted, returned or withdrawn; `None` while under review.
    pub outcome: Option<String>,
    pub reasons: Vec<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
}

pub async fn open_round(
    tx: &mut WriteTx,
    application: ApplicationId,
    round: &RoundRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_application_rounds (application_id, round, submitted_at, form, materials) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(application.to_string())
    .bind(round.round)
    .bind(round.submitted_at.0)
    .bind(to_json(&round.form))
    .bind(to_json(&round.materials))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records how round `round` ended; `Conflict("round_closed")` if it already had.
pub async fn close_round(
    tx: &mut WriteTx,
    application: ApplicationId,
    round: i64,
    outcome: &str,
    reasons: &[String],
    by: &str,
    at: Timestamp,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE access_application_rounds SET outcome = $1, reasons = $2, decided_by = $3, decided_at = $4 \
         WHERE application_id = $5 AND round = $6 AND outcome IS NULL",
    )
    .bind(outcome)
    .bind((!reasons.is_empty()).then(|| to_json(&reasons)))
    .bind(by)
    .bind(at.0)
    .bind(application.to_string())
    .bind(round)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("round_closed"));
    }
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkOrderRecord {
    pub id: WorkOrderId,
    pub application_id: ApplicationId,
    pub org_id: OrgId,
    pub applicant_id: UserId,
    pub state: WorkOrderState,
    /// What was applied for of this provider's entries.
    pub requested: Request,
    pub created_at: Timestamp,
    /// The last of the working days given to decide; the deadline is its end.
    pub due_on: NaiveDate,
    /// Counted partly on weekends alone, in a year the calendar did not know.
    pub due_provisional: bool,
    pub decision: Option<serde_json::Value>,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

impl WorkOrderRecord {
    pub fn facts(&self) -> domain::policy::WorkOrderFacts {
        domain::policy::WorkOrderFacts {
            org: self.org_id,
            applicant: self.applicant_id,
        }
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")
}

/// A date as the days since 1970-01-01 it is stored as.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - epoch()).num_days()
}

pub(crate) fn day_of(n: i64) -> Result<NaiveDate> {
    epoch()
        .checked_add_signed(chrono::TimeDelta::days(n))
        .ok_or_else(|| StoreError::Corrupt(format!("day {n}")))
}

const ORDER_COLUMNS: &str = "id, application_id, org_id, applicant_id, state, requested, created_at, \
     due_day, due_provisional, decision, decided_by, decided_at, updated_at";

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    application_id: String,
    org_id: String,
    applicant_id: String,
    state: String,
    requested: String,
    created_at: i64,
    due_day: i64,
    due_provisional: i64,
    decision: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    updated_at: i64,
}

impl TryFrom<OrderRow> for WorkOrderRecord {
    type Error = StoreError;
    fn try_from(r: OrderRow) -> Result<Self> {
        let what = format!("work order {}", r.id);
        Ok(Self {
            requested: serde_json::from_str(&r.requested).map_err(|e| corrupt(&what, e))?,
            decision: r
                .decision
                .map(|d| serde_json::from_str(&d))
                .transpose()
                .map_err(|e| corrupt(&what, e))?,
            id: parse(&r.id, "work order id")?,
            application_id: parse(&r.application_id, "application id")?,
            org_id: parse(&r.org_id, "org id")?,
            applicant_id: parse(&r.applicant_id, "user id")?,
            state: parse(&r.state, "work order state")?,
            created_at: Timestamp(r.created_at),
            due_on: day_of(r.due_day)?,
            due_provisional: r.due_provisional != 0,
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(Timestamp),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

pub async fn insert_work_order(tx: &mut WriteTx, w: &WorkOrderRecord) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO access_work_orders ({ORDER_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )))
    .bind(w.id.to_string())
    .bind(w.application_id.to_string())
    .bind(w.org_id.to_string())
    .bind(w.applicant_id.to_string())
    .bind(w.state.as_str())
    .bind(to_json(&w.requested))
    .bind(w.created_at.0)
    .bind(day_number(w.due_on))
    .bind(i64::from(w.due_provisional))
    .bind(w.decision.as_ref().map(to_json))
    .bind(w.decided_by.clone())
    .bind(w.decided_at.map(|t| t.0))
    .bind(w.updated_at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves a work order's decision if it is still in `expected` state;
/// `Conflict("work_order_changed")` when another decision came first.
pub async fn decide_work_order(
    tx: &mut WriteTx,
    w: &WorkOrderRecord,
    expected: WorkOrderState,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE access_work_orders SET state = $1, decision = $2, decided_by = $3, decided_at = $4, \
         updated_at = $5 WHERE id = $6 AND state = $7",
    )
    .bind(w.state.as_str())
    .bind(w.decision.as_ref().map(to_json))
    .bind(w.decided_by.clone())
    .bind(w.decided_at.map(|t| t.0))
    .bind(w.updated_at.0)
    .bind(w.id.to_string())
    .bind(expected.as_str())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("work_order_changed"));
    }
    Ok(())
}

/// Moves a work order's deadline (a provisional count made again on a calendar that now
/// knows the year).
pub async fn set_due(
    tx: &mut WriteTx,
    id: WorkOrderId,
    due: NaiveDate,
    provisional: bool,
) -> Result<()> {
    sqlx::query("UPDATE access_work_orders SET due_day = $1, due_provisional = $2 WHERE id = $3")
        .bind(day_number(due))
        .bind(i64::from(provisional))
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Open work orders due on or before `by_day` (days since 1970-01-01) whose deciders were not
/// yet reminded, at most `limit`.
pub async fn unreminded_due(
    tx: &mut WriteTx,
    by_day: i64,
    limit: i64,
) -> Result<Vec<WorkOrderRecord>> {
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM access_work_orders \
         WHERE reminded_at IS NULL AND state IN ('in_review', 'expert_review') AND due_day <= $1 \
         ORDER BY due_day, id LIMIT $2"
    )))
    .bind(by_day)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Records that `id`'s deciders were reminded.
pub async fn set_reminded(tx: &mut WriteTx, id: WorkOrderId, at: Timestamp) -> Result<()> {
    sqlx::query("UPDATE access_work_orders SET reminded_at = $1 WHERE id = $2")
        .bind(at.0)
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Open work orders whose deadline was counted provisionally, read inside a transaction.
pub async fn provisional_work_orders(tx: &mut WriteTx) -> Result<Vec<WorkOrderRecord>> {
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM access_work_orders \
         WHERE due_provisional = 1 AND state IN ('in_review', 'expert_review')"
    )))
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Which applications a list shows.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    pub applicant: Option<UserId>,
    pub state: Option<ApplicationState>,
}

/// Which work orders a list shows.
#[derive(Debug, Clone, Default)]
pub struct WorkOrderFilter {
    pub org: Option<OrgId>,
    pub applicant: Option<UserId>,
    pub state: Option<WorkOrderState>,
    /// Only the ones still to decide.
    pub open: bool,
}

/// `SELECT id, dataset_id, material, name, media_type, size, sha256, created_at`.
type MaterialRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
    String,
    i64,
);

/// How one work order went, for supervision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderOutcome {
    pub id: WorkOrderId,
    pub org_id: OrgId,
    pub state: WorkOrderState,
    pub created_at: Timestamp,
    pub due_on: NaiveDate,
    pub decided_at: Option<Timestamp>,
}

impl Store {
    /// The work orders made since `since` (at most `limit`, oldest first), as supervision
    /// counts them.
    pub async fn work_order_outcomes(
        &self,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<OrderOutcome>> {
        let rows: Vec<(String, String, String, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, org_id, state, created_at, due_day, decided_at FROM access_work_orders \
             WHERE created_at >= $1 ORDER BY created_at LIMIT $2",
        )
        .bind(since.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, org, state, created, due, decided)| {
                Ok(OrderOutcome {
                    id: parse(&id, "work order id")?,
                    org_id: parse(&org, "org id")?,
                    state: parse(&state, "work order state")?,
                    created_at: Timestamp(created),
                    due_on: day_of(due)?,
                    decided_at: decided.map(Timestamp),
                })
            })
            .collect()
    }

    pub async fn application(&self, id: &str) -> Result<ApplicationRecord> {
        let row: ApplicationRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {APPLICATION_COLUMNS} FROM access_applications WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        application(row)
    }

    /// One page of applications, the latest change first for an applicant's own list and the
    /// longest waiting first for a queue (a state given).
    pub async fn applications(
        &self,
        filter: &ApplicationFilter,
        page: &Page,
    ) -> Result<Paged<ApplicationRecord>> {
        let mut w = crate::filters::Filters::default();
        w.text(
            "applicant_id",
            "=",
            filter.applicant.map(|a| a.to_string()).as_deref(),
        )
        .text("state", "=", filter.state.map(|s| s.as_str()));
        let queue = filter.state.is_some();
        let (key, order) = if queue {
            (("updated_at", ">"), "ORDER BY updated_at, id LIMIT $?")
        } else {
            (
                ("updated_at", "<"),
                "ORDER BY updated_at DESC, id DESC LIMIT $?",
            )
        };
        w.after(key, ("id", if queue { ">" } else { "<" }), page.cursor());
        let sql = w.sql(
            &format!("SELECT {APPLICATION_COLUMNS} FROM access_applications"),
            order,
        );
        let rows: Vec<ApplicationRow> = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(page.limit)
            .fetch_all(self.pool())
            .await?;
        let items = rows
            .into_iter()
            .map(application)
            .collect::<Result<Vec<_>>>()?;
        let next = (items.len() as i64 == page.limit)
            .then(|| items.last())
            .flatten()
            .map(|a| crate::paging::Cursor {
                at: a.updated_at.0,
                id: a.id.to_string(),
            });
        Ok(Paged { items, next })
    }

    pub async fn materials(&self, application: ApplicationId) -> Result<Vec<MaterialRecord>> {
        let rows: Vec<MaterialRow> = sqlx::query_as(
            "SELECT id, dataset_id, material, name, media_type, size, sha256, created_at \
                 FROM access_materials WHERE application_id = $1 ORDER BY created_at, id",
        )
        .bind(application.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(
                |(id, dataset, material, name, media_type, size, sha256, at)| {
                    Ok(MaterialRecord {
                        id,
                        dataset_id: dataset.map(|d| parse(&d, "dataset id")).transpose()?,
                        material,
                        name,
                        media_type,
                        size,
                        sha256,
                        created_at: Timestamp(at),
                    })
                },
            )
            .collect()
    }

    pub async fn rounds(&self, application: ApplicationId) -> Result<Vec<RoundRecord>> {
        type Row = (
            i64,
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT round, submitted_at, form, materials, outcome, reasons, decided_by, decided_at \
             FROM access_application_rounds WHERE application_id = $1 ORDER BY round",
        )
        .bind(application.to_string())
        .fetch_all(self.pool())
        .await?;
        let what = format!("application {application}");
        rows.into_iter()
            .map(
                |(round, at, form, materials, outcome, reasons, by, decided)| {
                    Ok(RoundRecord {
                        round,
                        submitted_at: Timestamp(at),
                        form: serde_json::from_str(&form).map_err(|e| corrupt(&what, e))?,
                        materials: serde_json::from_str(&materials)
                            .map_err(|e| corrupt(&what, e))?,
                        outcome,
                        reasons: reasons
                            .map(|r| serde_json::from_str(&r))
                            .transpose()
                            .map_err(|e| corrupt(&what, e))?
                            .unwrap_or_default(),
                        decided_by: by,
                        decided_at: decided.map(Timestamp),
                    })
                },
            )
            .collect()
    }

    pub async fn work_order(&self, id: &str) -> Result<WorkOrderRecord> {
        let row: OrderRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM access_work_orders WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    pub async fn work_orders_of(&self, application: ApplicationId) -> Result<Vec<WorkOrderRecord>> {
        let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM access_work_orders WHERE application_id = $1 ORDER BY org_id"
        )))
        .bind(application.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// One page of work orders, the nearest deadline first (an inbox).
    pub async fn work_orders(
        &self,
        filter: &WorkOrderFilter,
        page: &Page,
    ) -> Result<Paged<WorkOrderRecord>> {
        let mut w = crate::filters::Filters::default();
        w.text("org_id", "=", filter.org.map(|o| o.to_string()).as_deref())
            .text(
                "applicant_id",
                "=",
                filter.applicant.map(|a| a.to_string()).as_deref(),
            )
            .text("state", "=", filter.state.map(|s| s.as_str()));
        if filter.open {
            w.text("state", "<>", Some(WorkOrderState::Approved.as_str()))
                .text("state", "<>", Some(WorkOrderState::Refused.as_str()));
        }
        w.after(("due_day", ">"), ("id", ">"), page.cursor());
        let sql = w.sql(
            &format!("SELECT {ORDER_COLUMNS} FROM access_work_orders"),
            "ORDER BY due_day, id LIMIT $?",
        );
        let rows: Vec<OrderRow> = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(page.limit)
            .fetch_all(self.pool())
            .await?;
        Paged::from_rows(rows, page, |w: &WorkOrderRecord| {
            (day_number(w.due_on), w.id.to_string())
        })
    }
}
