//! The job queue in the database. A worker *claims* a job: it takes the oldest job that is due,
//! or one whose lease ran out (its worker died), and holds it under a lease it renews with each
//! heartbeat. PostgreSQL skips rows other workers hold (`FOR UPDATE SKIP LOCKED`); SQLite has one
//! writer, so claims there are serialized by the write connection. The queue's own bookkeeping
//! (claims, heartbeats, outcomes) is not audited: it is not platform state, and a job that
//! changes platform state does so through a use case, in an audited transaction.

use domain::clock::Timestamp;
use domain::ids::JobId;
use domain::jobs::JobState;

use crate::paging::{Page, Paged};
use crate::{Backend, Result, Store, StoreError, WriteTx, parse};

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub lease_until: Option<Timestamp>,
    pub phase: String,
    pub done: i64,
    pub total: Option<i64>,
    pub last_error: Option<String>,
    pub cancel_requested: bool,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl JobRecord {
    /// How far the job has come, 0–100, once it has counted its work.
    pub fn percent(&self) -> Option<i64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| self.done.clamp(0, t) * 100 / t)
    }
}

const COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, lease_until, \
                       phase, done, total, last_error, cancel_requested, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    kind: String,
    payload: String,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_at: i64,
    lease_until: Option<i64>,
    phase: String,
    done: i64,
    total: Option<i64>,
    last_error: Option<String>,
    cancel_requested: i64,
    created_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for JobRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(JobRecord {
            id: parse(&r.id, "job id")?,
            payload: serde_json::from_str(&r.payload)
                .map_err(|e| StoreError::Corrupt(format!("job {}: {e}", r.id)))?,
            kind: r.kind,
            state: parse(&r.state, "job state")?,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_at: Timestamp(r.run_at),
            lease_until: r.lease_until.map(Timestamp),
            phase: r.phase,
            done: r.done,
            total: r.total,
            last_error: r.last_error,
            cancel_requested: r.cancel_requested != 0,
            created_by: r.created_by,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

/// How far a running job has come, as its worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub phase: String,
    pub done: i64,
    pub total: Option<i64>,
}

/// The queue's depth (jobs waiting or running) and the age of its oldest live job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStats {
    pub depth: i64,
    pub oldest_age_secs: i64,
}

/// Enqueues a job inside the caller's transaction, so a use case and the work it leaves for
/// later commit together or not at all.
pub async fn enqueue(tx: &mut WriteTx, job: &NewJob, now: Timestamp) -> Result<JobId> {
    insert(tx.conn(), job, now).await
}

/// Cancels a job, in the caller's audited transaction: one still waiting at once, a running one
/// by asking its worker, who sees it at its next heartbeat. Returns the state it is in after.
pub async fn cancel(tx: &mut WriteTx, id: JobId, now: Timestamp) -> Result<JobState> {
    let state: Option<String> = sqlx::query_scalar(
        "UPDATE jobs SET state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END, \
         cancel_requested = CASE WHEN state = 'running' THEN 1 ELSE cancel_requested END, \
         updated_at = $1 WHERE id = $2 RETURNING state",
    )
    .bind(now.0)
    .bind(id.to_string())
    .fetch_optional(tx.conn())
    .await?;
    parse(&state.ok_or(StoreError::NotFound)?, "job state")
}

async fn insert<'e>(
    on: impl sqlx::Executor<'e, Database = sqlx::Any>,
    job: &NewJob,
    now: Timestamp,
) -> Result<JobId> {
    let id = JobId::new();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $7)",
    )
    .bind(id.to_string())
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(job.max_attempts.max(1))
    .bind(job.run_at.0)
    .bind(&job.created_by)
    .bind(now.0)
    .execute(on)
    .await?;
    Ok(id)
}

impl Store {
    /// Enqueues a job of the platform's own (housekeeping and the like) outside any audited
    /// transaction: bookkeeping, not a change of the platform's state.
    pub async fn enqueue_system_job(&self, job: &NewJob, now: Timestamp) -> Result<JobId> {
        insert(self.writer(), job, now).await
    }

    /// Claims the next job that is due, or whose lease ran out, for `worker` until
    /// `now + lease_secs`. A job whose lease ran out with no attempt left is failed first.
    pub async fn claim_job(
        &self,
        worker: &str,
        now: Timestamp,
        lease_secs: i64,
    ) -> Result<Option<JobRecord>> {
        // Workers poll every few seconds; an idle queue is seen with a read, so polling never
        // takes the write lock (on SQLite, the whole database's) for nothing.
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM jobs WHERE (state = 'queued' AND run_at <= $1) \
             OR (state = 'running' AND lease_until < $1) LIMIT 1",
        )
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?;
        if due.is_none() {
            return Ok(None);
        }
        sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_until = NULL, leased_by = NULL, \
             last_error = COALESCE(last_error, 'interrupted: its worker stopped'), updated_at = $1 \
             WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts",
        )
        .bind(now.0)
        .execute(self.writer())
        .await?;
        let pick = match self.backend() {
            Backend::Postgres => {
                "SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $1) \
                 OR (state = 'running' AND lease_until < $1) \
                 ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $1) \
                 OR (state = 'running' AND lease_until < $1) \
                 ORDER BY run_at, id LIMIT 1"
            }
        };
        let claim = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $2, \
             leased_by = $3, updated_at = $1 WHERE id = ({pick}) RETURNING {COLUMNS}"
        );
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(claim))
            .bind(now.0)
            .bind(now.0 + lease_secs * 1000)
            .bind(worker)
            .fetch_optional(self.writer())
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Reports progress and renews the lease. Answers whether cancellation was asked; fails
    /// with `Conflict("lease")` when the job is no longer this worker's (its lease ran out and
    /// another took it).
    pub async fn heartbeat_job(
        &self,
        id: JobId,
        worker: &str,
        now: Timestamp,
        lease_secs: i64,
        progress: &Progress,
    ) -> Result<bool> {
        let cancel: Option<i64> = sqlx::query_scalar(
            "UPDATE jobs SET lease_until = $1, phase = $2, done = $3, total = $4, updated_at = $5 \
             WHERE id = $6 AND state = 'running' AND leased_by = $7 RETURNING cancel_requested",
        )
        .bind(now.0 + lease_secs * 1000)
        .bind(&progress.phase)
        .bind(progress.done)
        .bind(progress.total)
        .bind(now.0)
        .bind(id.to_string())
        .bind(worker)
        .fetch_optional(self.writer())
        .await?;
        cancel.map(|c| c != 0).ok_or(StoreError::Conflict("lease"))
    }

    /// Ends a running job of `worker` in `outcome`, with its last progress: succeeded,
    /// cancelled, or — with `error` — failed, queued again after `retry_after_secs` while attempts
    /// are left.
    pub async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        now: Timestamp,
        outcome: Outcome<'_>,
        progress: &Progress,
    ) -> Result<JobState> {
        let (state, error, run_at) = match outcome {
            Outcome::Succeeded => ("succeeded", None, None),
            Outcome::Cancelled => ("cancelled", None, None),
            Outcome::Failed {
                error,
                retry_after_secs,
            } => ("failed", Some(error), Some(now.0 + retry_after_secs * 1000)),
        };
        // A failure with attempts left goes back to the queue, to run after its backoff.
        let state: Option<String> = sqlx::query_scalar(
            "UPDATE jobs SET state = CASE WHEN CAST($1 AS TEXT) = 'failed' AND attempts < max_attempts \
             THEN 'queued' ELSE CAST($1 AS TEXT) END, run_at = COALESCE($2, run_at), last_error = COALESCE($3, last_error), \
             lease_until = NULL, leased_by = NULL, updated_at = $4, phase = $7, done = $8, total = $9 \
             WHERE id = $5 AND state = 'running' AND leased_by = $6 RETURNING state",
        )
        .bind(state)
        .bind(run_at)
        .bind(error)
        .bind(now.0)
        .bind(id.to_string())
        .bind(worker)
        .bind(&progress.phase)
        .bind(progress.done)
        .bind(progress.total)
        .fetch_optional(self.writer())
        .await?;
        parse(&state.ok_or(StoreError::Conflict("lease"))?, "job state")
    }

    pub async fn job(&self, id: &str) -> Result<JobRecord> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
        let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// One page of jobs, optionally of one state, newest first.
    pub async fn jobs(&self, state: Option<JobState>, page: &Page) -> Result<Paged<JobRecord>> {
        let mut w = crate::filters::Filters::default();
        w.text("state", "=", state.map(|s| s.as_str())).after(
            ("created_at", "<"),
            ("id", "<"),
            page.cursor(),
        );
        let sql = w.sql(
            &format!("SELECT {COLUMNS} FROM jobs"),
            "ORDER BY created_at DESC, id DESC LIMIT $?",
        );
        let rows: Vec<Row> = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(page.limit)
            .fetch_all(self.pool())
            .await?;
        Paged::from_rows(rows, page, |j: &JobRecord| {
            (j.created_at.0, j.id.to_string())
        })
    }

    pub async fn job_queue_stats(&self, now: Timestamp) -> Result<QueueStats> {
        let (depth, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at) FROM jobs WHERE state IN ('queued', 'running')",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(QueueStats {
            depth,
            oldest_age_secs: oldest.map(|t| (now.0 - t).max(0) / 1000).unwrap_or(0),
        })
    }

    /// Whether a job of `kind` is waiting or running (periodic jobs are enqueued only then).
    pub async fn live_job_of_kind(&self, kind: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND state IN ('queued', 'running')",
        )
        .bind(kind)
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }
}

/// How a running job ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    Succeeded,
    Cancelled,
    Failed {
        error: &'a str,
        retry_after_secs: i64,
    },
}
