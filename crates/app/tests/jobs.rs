//! The job queue and its runner, without HTTP: claims are exclusive, failures retry after a
//! backoff and end in the dead letter state, a crashed worker's job is taken again, progress is
//! visible, and cancellation stops a waiting job at once and a running one at its heartbeat.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use domain::clock::{Clock, ManualClock, Timestamp};
use domain::jobs::JobState;
use kaifang_app as app;
use kaifang_app::jobs::{Handler, JobCtx, JobError, JobFuture, Runner};
use store::jobs::{JobRecord, NewJob};

struct World {
    app: app::App,
    clock: Arc<ManualClock>,
    _db: common::TestDb,
}

async fn world() -> World {
    let clock = Arc::new(ManualClock::new(Timestamp(1_780_000_000_000)));
    let db = common::database(clock.now()).await;
    let app = app::App::new(
        db.store.clone(),
        db.blobs.clone(),
        clock.clone(),
        app::Config::default(),
    );
    World {
        app,
        clock,
        _db: db,
    }
}

impl World {
    async fn enqueue(&self, kind: &str, max_attempts: i64) -> domain::ids::JobId {
        let now = self.clock.now();
        let job = NewJob {
            kind: kind.into(),
            payload: serde_json::json!({ "n": 1 }),
            max_attempts,
            run_at: now,
            created_by: None,
        };
        self.app.store.enqueue_system_job(&job, now).await.unwrap()
    }

    async fn state(&self, id: domain::ids::JobId) -> JobRecord {
        self.app.store.job(&id.to_string()).await.unwrap()
    }
}

/// Fails its first `failures` runs, then succeeds, reporting progress as it goes.
struct Flaky {
    failures: usize,
    runs: AtomicUsize,
}

impl Handler for Flaky {
    fn run<'a>(&'a self, _: &'a app::App, _: &'a JobRecord, ctx: &'a JobCtx) -> JobFuture<'a> {
        Box::pin(async move {
            let run = self.runs.fetch_add(1, Ordering::SeqCst);
            ctx.progress("counting", 5, Some(10)).await?;
            if run < self.failures {
                return Err(JobError::Failed(format!("run {run} broke")));
            }
            ctx.progress("counting", 10, Some(10)).await
        })
    }
}

/// Runs until it is cancelled.
struct Endless;

impl Handler for Endless {
    fn run<'a>(&'a self, _: &'a app::App, _: &'a JobRecord, ctx: &'a JobCtx) -> JobFuture<'a> {
        Box::pin(async move {
            let mut i = 0;
            loop {
                ctx.progress("looping", i, None).await?;
                i += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    }
}

#[tokio::test]
async fn a_failing_job_retries_after_a_backoff_then_succeeds_or_ends_in_the_dead_letter_state() {
    let w = world().await;
    let runner = Runner::new(w.app.clone(), "w1").handle(
        "flaky",
        Flaky {
            failures: 1,
            runs: AtomicUsize::new(0),
        },
    );
    let id = w.enqueue("flaky", 3).await;
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some((id, JobState::Queued))
    );
    let job = w.state(id).await;
    assert_eq!(
        (job.attempts, job.last_error.as_deref()),
        (1, Some("run 0 broke"))
    );
    assert_eq!(
        (job.phase.as_str(), job.done, job.total),
        ("counting", 5, Some(10))
    );
    // The retry waits out its backoff.
    assert_eq!(runner.run_once().await.unwrap(), None);
    w.clock.advance_seconds(10);
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some((id, JobState::Succeeded))
    );

    let dead = Runner::new(w.app.clone(), "w1").handle(
        "flaky",
        Flaky {
            failures: 99,
            runs: AtomicUsize::new(0),
        },
    );
    let id = w.enqueue("flaky", 2).await;
    assert_eq!(dead.run_once().await.unwrap(), Some((id, JobState::Queued)));
    w.clock.advance_seconds(3600);
    assert_eq!(dead.run_once().await.unwrap(), Some((id, JobState::Failed)));
    assert_eq!(w.state(id).await.attempts, 2);
    // A job of a kind nobody handles fails the same way, with the reason.
    let id = w.enqueue("unknown_kind", 1).await;
    assert_eq!(dead.run_once().await.unwrap(), Some((id, JobState::Failed)));
    assert!(
        w.state(id)
            .await
            .last_error
            .unwrap()
            .contains("unknown_kind")
    );
}

#[tokio::test]
async fn a_crashed_workers_job_is_taken_again_when_its_lease_runs_out() {
    let w = world().await;
    let id = w.enqueue("flaky", 2).await;
    // A worker claims it and dies.
    let claimed = w
        .app
        .store
        .claim_job("dead-worker", w.clock.now(), 60)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.id, claimed.state), (id, JobState::Running));
    let runner = Runner::new(w.app.clone(), "w2").handle(
        "flaky",
        Flaky {
            failures: 0,
            runs: AtomicUsize::new(0),
        },
    );
    // Held under its lease, nobody else takes it.
    assert_eq!(runner.run_once().await.unwrap(), None);
    w.clock.advance_seconds(61);
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some((id, JobState::Succeeded))
    );
    assert_eq!(w.state(id).await.attempts, 2);

    // With no attempt left, an interrupted job is failed, not run again.
    let id = w.enqueue("flaky", 1).await;
    w.app
        .store
        .claim_job("dead-worker", w.clock.now(), 60)
        .await
        .unwrap()
        .unwrap();
    w.clock.advance_seconds(61);
    assert_eq!(runner.run_once().await.unwrap(), None);
    let job = w.state(id).await;
    assert_eq!(job.state, JobState::Failed);
    assert!(job.last_error.unwrap().contains("interrupted"));
    // The dead worker's late report changes nothing.
    assert!(
        w.app
            .store
            .finish_job(
                id,
                "dead-worker",
                w.clock.now(),
                store::jobs::Outcome::Succeeded,
                &store::jobs::Progress {
                    phase: String::new(),
                    done: 0,
                    total: None
                }
            )
            .await
            .is_err()
    );
}

#[tokio::test]
async fn claims_are_exclusive_among_many_workers() {
    let w = world().await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(w.enqueue("flaky", 1).await);
    }
    let claims = (0..8).map(|i| {
        let store = w.app.store.clone();
        let now = w.clock.now();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = store.claim_job(&format!("w{i}"), now, 60).await.unwrap() {
                mine.push(job.id);
            }
            mine
        })
    });
    let mut claimed = Vec::new();
    for c in claims {
        claimed.extend(c.await.unwrap());
    }
    claimed.sort_by_key(|id| id.to_string());
    ids.sort_by_key(|id| id.to_string());
    assert_eq!(claimed, ids, "each job claimed exactly once");
}

#[tokio::test]
async fn cancelling_stops_a_waiting_job_at_once_and_a_running_one_at_its_heartbeat() {
    let w = world().await;
    let operator = {
        let staff = app::accounts::create_staff(
            &w.app,
            &app::Caller::cli(domain::roles::Actor::Anonymous),
            app::accounts::StaffAccount {
                email: "op@example.cn".into(),
                name: "运营".into(),
                role: domain::roles::PlatformRole::Operator,
                password: "correct-horse-42".into(),
            },
        )
        .await
        .unwrap();
        app::Caller {
            actor: domain::roles::Actor::User(w.app.store.actor(staff.id).await.unwrap()),
            via: app::Via::Session {
                token_hash: "t".into(),
            },
            client_addr: None,
        }
    };
    let waiting = w.enqueue("endless", 1).await;
    assert_eq!(
        app::jobs::cancel(&w.app, &operator, waiting).await.unwrap(),
        JobState::Cancelled
    );

    let running = w.enqueue("endless", 1).await;
    let runner = Arc::new(
        Runner::new(w.app.clone(), "w1")
            .handle("endless", Endless)
            .lease_secs(1),
    );
    let task = {
        let runner = runner.clone();
        tokio::spawn(async move { runner.run_once().await })
    };
    // Wait until it runs, then ask it to stop.
    for _ in 0..100 {
        if w.state(running).await.state == JobState::Running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        app::jobs::cancel(&w.app, &operator, running).await.unwrap(),
        JobState::Running
    );
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("the job stops at its next heartbeat")
        .unwrap()
        .unwrap();
    assert_eq!(ended, Some((running, JobState::Cancelled)));
    let job = w.state(running).await;
    assert!(job.phase == "looping" && job.done > 0, "{job:?}");
    // A resident may not cancel jobs.
    let err = app::jobs::cancel(&w.app, &app::Caller::anonymous(None), running)
        .await
        .unwrap_err();
    assert_eq!(err.code, app::ErrorCode::NotSignedIn);
}

#[tokio::test]
async fn housekeeping_is_scheduled_once_and_runs_as_a_job() {
    let w = world().await;
    let first = app::jobs::schedule(&w.app, app::jobs::HOUSEKEEPING)
        .await
        .unwrap();
    assert!(first.is_some());
    // Already waiting: not scheduled twice, whatever the number of nodes.
    assert_eq!(
        app::jobs::schedule(&w.app, app::jobs::HOUSEKEEPING)
            .await
            .unwrap(),
        None
    );
    let runner = app::jobs::runner(w.app.clone(), "w1");
    assert_eq!(
        runner.run_once().await.unwrap(),
        Some((first.unwrap(), JobState::Succeeded))
    );
    assert!(
        app::jobs::schedule(&w.app, app::jobs::HOUSEKEEPING)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_running_jobs_progress_reaches_the_store_within_seconds_whatever_its_lease() {
    let w = world().await;
    // The default lease is a minute; the heartbeat that writes the progress comes every second
    // nonetheless (a third of the lease, 20 s, left the progress bar still for that long).
    let runner = Arc::new(Runner::new(w.app.clone(), "w1").handle("endless", Endless));
    let id = w.enqueue("endless", 1).await;
    let task = {
        let runner = runner.clone();
        tokio::spawn(async move { runner.run_once().await })
    };
    let mut job = w.state(id).await;
    for _ in 0..200 {
        if job.done > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        job = w.state(id).await;
    }
    task.abort();
    assert!(
        job.phase == "looping" && job.done > 0,
        "no progress within 10 s: {job:?}"
    );
}
