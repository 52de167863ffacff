//! Running background jobs. A [`Runner`] claims jobs from the store's queue, runs each with the
//! handler registered for its kind, renews the job's lease while it runs, and records how it
//! ended: done, cancelled, or failed — queued again after a backoff while attempts are left,
//! then left failed (the dead letter state) for the operator. A worker that dies leaves its job
//! to be claimed again once the lease runs out. Runners live in `kaifang serve` and, for
//! deployments that separate them, in `kaifang worker`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use domain::ids::JobId;
use domain::jobs::{JobState, backoff_secs};
use store::jobs::{JobRecord, Outcome, Progress};
use tokio::sync::Mutex;

use crate::App;

/// Why a job stopped short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The operator cancelled it.
    Cancelled,
    /// It failed; the text is kept for the operator.
    Failed(String),
}

impl From<crate::Error> for JobError {
    fn from(e: crate::Error) -> Self {
        JobError::Failed(e.to_string())
    }
}

pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>>;

/// The work of one kind of job.
pub trait Handler: Send + Sync {
    fn run<'a>(&'a self, app: &'a App, job: &'a JobRecord, ctx: &'a JobCtx) -> JobFuture<'a>;
}

/// What a running job reports through: its progress, and whether it should stop.
pub struct JobCtx {
    progress: Mutex<Progress>,
    cancelled: AtomicBool,
}

impl JobCtx {
    /// Records how far the job has come (sent with the next heartbeat). Fails with
    /// [`JobError::Cancelled`] once the operator asked the job to stop.
    pub async fn progress(
        &self,
        phase: &str,
        done: i64,
        total: Option<i64>,
    ) -> Result<(), JobError> {
        *self.progress.lock().await = Progress {
            phase: phase.to_owned(),
            done,
            total,
        };
        self.check()
    }

    /// Fails with [`JobError::Cancelled`] once the operator asked the job to stop.
    pub fn check(&self) -> Result<(), JobError> {
        if self.cancelled.load(Ordering::Acquire) {
            Err(JobError::Cancelled)
        } else {
            Ok(())
        }
    }
}

pub struct Runner {
    app: App,
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
    /// Names this worker in the leases it holds.
    worker: String,
    lease_secs: i64,
    retry_base_secs: i64,
}

impl Runner {
    pub fn new(app: App, worker: impl Into<String>) -> Self {
        Self {
            app,
            handlers: HashMap::new(),
            worker: worker.into(),
            lease_secs: 60,
            retry_base_secs: 10,
        }
    }

    pub fn handle(mut self, kind: &'static str, handler: impl Handler + 'static) -> Self {
        self.handlers.insert(kind, Arc::new(handler));
        self
    }

    pub fn lease_secs(mut self, secs: i64) -> Self {
        self.lease_secs = secs.max(1);
        self
    }

    /// Claims one job that is due and runs it to its end. Returns the job and the state it was
    /// left in, or `None` when nothing was due.
    pub async fn run_once(&self) -> crate::Result<Option<(JobId, JobState)>> {
        let now = self.app.clock.now();
        let Some(job) = self
            .app
            .store
            .claim_job(&self.worker, now, self.lease_secs)
            .await?
        else {
            return Ok(None);
        };
        let ctx = JobCtx {
            progress: Mutex::new(Progress {
                phase: job.phase.clone(),
                done: job.done,
                total: job.total,
            }),
            cancelled: AtomicBool::new(job.cancel_requested),
        };
        let result = match self.handlers.get(job.kind.as_str()) {
            None => Err(JobError::Failed(format!(
                "no handler for jobs of kind {}",
                job.kind
            ))),
            Some(handler) => {
                let work = handler.run(&self.app, &job, &ctx);
                match self.with_heartbeats(job.id, &ctx, work).await {
                    Some(result) => result,
                    // The lease was lost: another worker has the job now.
                    None => return Ok(Some((job.id, JobState::Running))),
                }
            }
        };
        let now = self.app.clock.now();
        let outcome = match &result {
            Ok(()) => Outcome::Succeeded,
            Err(JobError::Cancelled) => Outcome::Cancelled,
            Err(JobError::Failed(error)) => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %error, "job failed");
                Outcome::Failed {
                    error,
                    retry_after_secs: backoff_secs(job.attempts, self.retry_base_secs),
                }
            }
        };
        let progress = ctx.progress.lock().await.clone();
        match self
            .app
            .store
            .finish_job(job.id, &self.worker, now, outcome, &progress)
            .await
        {
            Ok(state) => Ok(Some((job.id, state))),
            Err(store::StoreError::Conflict(_)) => Ok(Some((job.id, JobState::Running))),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs `work` while renewing the job's lease (with the progress reported) every third of
    /// it, or every second if that is sooner. `None` when the lease was lost, and the work
    /// abandoned.
    async fn with_heartbeats(
        &self,
        id: JobId,
        ctx: &JobCtx,
        work: JobFuture<'_>,
    ) -> Option<Result<(), JobError>> {
        // At least every second, so the progress shown (written with each beat) keeps up.
        let every = Duration::from_millis((self.lease_secs * 1000 / 3).clamp(100, 1000) as u64);
        let beats = async {
            loop {
                tokio::time::sleep(every).await;
                let progress = ctx.progress.lock().await.clone();
                let now = self.app.clock.now();
                match self
                    .app
                    .store
                    .heartbeat_job(id, &self.worker, now, self.lease_secs, &progress)
                    .await
                {
                    Ok(cancel) => ctx.cancelled.store(cancel, Ordering::Release),
                    Err(store::StoreError::Conflict(_)) => return,
                    Err(e) => tracing::warn!(job = %id, error = %e, "job heartbeat failed"),
                }
            }
        };
        tokio::select! {
            result = work => Some(result),
            () = beats => None,
        }
    }

    /// Runs jobs for as long as the task lives, resting `idle` when nothing is due, or until
    /// this process queues a job ([`crate::App::jobs_due`]).
    pub fn spawn(self: Arc<Self>, idle: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.run_once().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "job queue unreachable; will retry"),
                }
                tokio::select! {
                    () = tokio::time::sleep(idle) => {}
                    () = self.app.jobs_due.notified() => {}
                }
            }
        })
    }
}

/// The periodic purge of what has run out: expired sessions, old tokens and throttling
/// counters (`store::housekeeping`).
pub struct Housekeeping;

pub const HOUSEKEEPING: &str = "housekeeping";

/// Tokens stay listed (as expired or revoked) this long before they are removed.
const KEEP_TOKENS_SECS: i64 = 30 * 86_400;

impl Handler for Housekeeping {
    fn run<'a>(&'a self, app: &'a App, _job: &'a JobRecord, ctx: &'a JobCtx) -> JobFuture<'a> {
        Box::pin(async move {
            ctx.progress("purging", 0, None).await?;
            // Counters older than the longest throttling window (a day covers them) go too.
            let window = app.config.login_window_secs.max(86_400);
            let p = app
                .store
                .purge_expired(app.clock.now(), KEEP_TOKENS_SECS, window)
                .await
                .map_err(|e| JobError::Failed(e.to_string()))?;
            // Uploads nobody attached in time, and the files only they named.
            let files = crate::uploads::purge(app)
                .await
                .map_err(|e| JobError::Failed(e.code.as_str().to_owned()))?;
            // Data versions whose ingestion died with its last attempt end as failed.
            let stranded = crate::data_versions::end_stranded(app).await?;
            // The usage log's minutes go after a year and a month; their days stay rolled up.
            let usage = app
                .store
                .purge_usage_before(app.clock.now().plus_seconds(-400 * 86_400))
                .await
                .map_err(|e| JobError::Failed(e.to_string()))?;
            // Deciders of work orders whose deadline is near are reminded, once.
            let reminded = crate::access::remind(app)
                .await
                .map_err(|e| JobError::Failed(e.code.as_str().to_owned()))?;
            let purged = (p.sessions + p.tokens + p.counters + usage) as i64
                + (files + stranded + reminded) as i64;
            if purged > 0 {
                tracing::info!(
                    ?p,
                    files,
                    stranded,
                    "housekeeping purged expired rows and files"
                );
            }
            ctx.progress("done", purged, Some(purged)).await
        })
    }
}

/// Rolls the usage log up into daily counts and refreshes the entries' recent reads, which
/// the "most used" sort ranks by (`crate::usage::roll_up`).
pub struct UsageRollup;

pub const USAGE_ROLLUP: &str = "usage_rollup";

impl Handler for UsageRollup {
    fn run<'a>(&'a self, app: &'a App, _job: &'a JobRecord, ctx: &'a JobCtx) -> JobFuture<'a> {
        Box::pin(async move {
            ctx.progress("rolling_up", 0, None).await?;
            let changed = crate::usage::roll_up(app)
                .await
                .map_err(|e| JobError::Failed(e.code.as_str().to_owned()))?;
            ctx.progress("done", changed as i64, Some(changed as i64))
                .await
        })
    }
}

/// Enqueues a job of `kind` unless one is waiting or running: the way periodic work is
/// scheduled, on every node, without running twice.
pub async fn schedule(app: &App, kind: &str) -> crate::Result<Option<JobId>> {
    if app.store.live_job_of_kind(kind).await? {
        return Ok(None);
    }
    let now = app.clock.now();
    let job = store::jobs::NewJob {
        kind: kind.to_owned(),
        payload: serde_json::json!({}),
        max_attempts: 3,
        run_at: now,
        created_by: None,
    };
    Ok(Some(app.store.enqueue_system_job(&job, now).await?))
}

/// A runner with a handler for every kind of job the platform knows.
pub fn runner(app: App, worker: impl Into<String>) -> Runner {
    Runner::new(app, worker)
        .handle(HOUSEKEEPING, Housekeeping)
        .handle(USAGE_ROLLUP, UsageRollup)
        .handle(
            crate::data_versions::INGEST,
            crate::data_versions::IngestData,
        )
        .handle(crate::samples::BUILD_SAMPLE, crate::samples::BuildSample)
}

/// Schedules the periodic jobs every `every` for as long as the task lives.
pub fn spawn_scheduler(app: App, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            for kind in [HOUSEKEEPING, USAGE_ROLLUP] {
                if let Err(e) = schedule(&app, kind).await {
                    tracing::warn!(error = %e, kind, "cannot schedule a periodic job; will retry");
                }
            }
        }
    })
}

/// The operator cancels a job, audited: at once when it waits, at its next heartbeat when it
/// runs (its worker then ends it as cancelled).
pub async fn cancel(app: &App, caller: &crate::Caller, id: JobId) -> crate::Result<JobState> {
    use domain::policy::{Action, Resource};
    caller.authorize(Action::ManageJobs, Resource::Platform)?;
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    let state = store::jobs::cancel(&mut tx, id, now).await?;
    let mut ev = caller.event(now, "job.cancel", "job", id.to_string());
    ev.after = Some(serde_json::json!({ "state": state }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(state)
}
