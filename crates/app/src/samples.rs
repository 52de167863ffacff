//! Sample data (A22.1): for a conditional entry, the operator defines a sample — its size, the
//! items to stratify on, optionally a seed — and it is drawn by a job from the entry's current
//! version (whose de-identification rules were applied and whose quality gate passed), its
//! fidelity to the whole measured. A faithful sample is published where anyone downloads it
//! without applying; one that does not reflect the data is kept with its report, unpublished.
//! Each new version of the entry draws its sample again, by the same definition.

use data::privacy::sample::{FidelityReport, SampleSize};
use domain::openlist::vocab::OpenType;
use domain::policy::{Action, Resource};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::data_versions::VersionState;
use store::datasets::DatasetRecord;
use store::jobs::JobRecord;
use store::samples::{SampleEnd, SampleRecord};

use crate::jobs::{Handler, JobCtx, JobError, JobFuture};
use crate::{App, Caller, Error, ErrorCode, FieldError, Result};

/// The kind of the job that draws a sample.
pub const BUILD_SAMPLE: &str = "build_sample";

/// How an entry's sample is drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleSpec {
    pub size: SampleSize,
    /// Items whose values' shares the sample keeps.
    #[serde(default)]
    pub strata: Vec<String>,
    /// Set to draw the same sample again; otherwise each draw takes a new one, recorded.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// The most items a sample may be stratified on.
pub const MAX_STRATA_ITEMS: usize = 5;

fn problems(spec: &SampleSpec, dataset: &DatasetRecord) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match spec.size {
        SampleSize::Rows(n) if n == 0 || n > data::privacy::sample::MAX_SAMPLE_ROWS => {
            errors.push(FieldError {
                field: "size.rows".into(),
                code: "out_of_range",
                detail: Some(data::privacy::sample::MAX_SAMPLE_ROWS.to_string()),
            })
        }
        SampleSize::Percent(p) if !(p > 0.0 && p <= 100.0) => {
            errors.push(FieldError::new("size.percent", "out_of_range"))
        }
        _ => {}
    }
    if spec.strata.len() > MAX_STRATA_ITEMS {
        errors.push(FieldError {
            field: "strata".into(),
            code: "too_many",
            detail: Some(MAX_STRATA_ITEMS.to_string()),
        });
    }
    for s in &spec.strata {
        if !dataset.meta.data_items.iter().any(|d| &d.name == s) {
            errors.push(FieldError {
                field: "strata".into(),
                code: "unknown_item",
                detail: Some(s.chars().take(64).collect()),
            });
        }
    }
    errors
}

/// A seed below 2^63, so that it keeps as a database integer.
fn new_seed() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    u64::from_le_bytes(bytes) >> 1
}

/// Queues the drawing of `dataset`'s sample from its current version by `spec`, in `tx`.
async fn queue(
    app: &App,
    tx: &mut store::WriteTx,
    dataset: &DatasetRecord,
    version: &str,
    spec: &SampleSpec,
    by: Option<String>,
) -> Result<SampleRecord> {
    let now = app.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let job = store::jobs::enqueue(
        tx,
        &store::jobs::NewJob {
            kind: BUILD_SAMPLE.to_owned(),
            payload: json!({ "sample": id }),
            max_attempts: 3,
            run_at: now,
            created_by: by,
        },
        now,
    )
    .await?;
    let record = SampleRecord {
        id,
        dataset_id: dataset.id.to_string(),
        version_id: version.to_owned(),
        spec: serde_json::to_string(spec).expect("a sample spec serializes"),
        seed: spec.seed.unwrap_or_else(new_seed) as i64,
        state: "building".into(),
        rows: None,
        parquet_sha256: None,
        parquet_size: None,
        report: None,
        error: None,
        job_id: Some(job.to_string()),
        created_at: now.0,
        finished_at: None,
    };
    store::samples::insert(tx, &record).await?;
    Ok(record)
}

/// The operator defines the entry's sample and has it drawn from the current version.
pub async fn define(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    spec: SampleSpec,
) -> Result<SampleRecord> {
    caller.authorize(Action::BuildSample, Resource::Dataset(dataset.facts()))?;
    let user = caller.user()?.id.to_string();
    // Unconditional data is open whole; non-open data has nothing to show.
    if dataset.meta.open_type != OpenType::Conditional {
        return Err(ErrorCode::WrongStatus.into());
    }
    let errors = problems(&spec, dataset);
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let current = app
        .store
        .current_data_version(dataset.id)
        .await?
        .filter(|v| v.state == VersionState::Published)
        .ok_or(ErrorCode::NoData)?;
    if unsafe_to_show(&current) {
        return Err(Error::invalid(vec![FieldError::new(
            "data",
            "personal_information",
        )]));
    }
    let now = app.clock.now();
    let text = serde_json::to_string(&spec).expect("a sample spec serializes");
    let mut tx = app.store.begin_write().await?;
    store::samples::save_spec(&mut tx, dataset.id, &text, &user, now).await?;
    let record = queue(app, &mut tx, dataset, &current.id, &spec, Some(user)).await?;
    let mut ev = caller.event(now, "sample.define", "dataset", dataset.id.to_string());
    ev.after = Some(json!({ "sample": record.id, "spec": spec, "seed": record.seed }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(record)
}

/// Keeps `spec` as the entry's sample definition on the platform's behalf (the demo's seeding),
/// recorded as `by`'s: the sample is drawn when the entry's next version is published.
pub async fn keep_definition(
    app: &App,
    dataset: &DatasetRecord,
    spec: &SampleSpec,
    by: &str,
) -> Result<()> {
    let now = app.clock.now();
    let text = serde_json::to_string(spec).expect("a sample spec serializes");
    let mut tx = app.store.begin_write().await?;
    store::samples::save_spec(&mut tx, dataset.id, &text, by, now).await?;
    let mut ev = store::AuditEvent::system(
        now,
        "system",
        "sample.define",
        "dataset",
        dataset.id.to_string(),
    );
    ev.after = Some(json!({ "spec": spec, "by": by }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// After a new version of `dataset` is published: its sample, if it has a definition, is
/// drawn again from it.
pub async fn redraw(app: &App, dataset: &DatasetRecord, version: &str) -> Result<()> {
    let Some(text) = app.store.sample_spec(dataset.id).await? else {
        return Ok(());
    };
    let spec: SampleSpec = serde_json::from_str(&text)
        .map_err(|e| store::StoreError::Corrupt(format!("sample spec: {e}")))?;
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    let record = queue(app, &mut tx, dataset, version, &spec, None).await?;
    let mut ev = store::AuditEvent::system(
        now,
        "system",
        "sample.redraw",
        "dataset",
        dataset.id.to_string(),
    );
    ev.after = Some(json!({ "sample": record.id, "version": version }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// The sample anyone may download: the newest published one.
pub async fn current(app: &App, dataset: &DatasetRecord) -> Result<Option<SampleRecord>> {
    Ok(app
        .store
        .newest_sample(dataset.id, Some("published"))
        .await?)
}

/// The newest sample in any state, for those who see the entry's internal work.
pub async fn newest(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
) -> Result<Option<SampleRecord>> {
    caller.authorize(Action::ViewOrgInternal, Resource::Dataset(dataset.facts()))?;
    Ok(app.store.newest_sample(dataset.id, None).await?)
}

/// The sample's fidelity report.
pub fn report_of(s: &SampleRecord) -> Option<FidelityReport> {
    serde_json::from_str(s.report.as_deref()?).ok()
}

/// The job that draws a sample.
pub struct BuildSample;

fn failed(e: impl std::fmt::Display) -> JobError {
    JobError::Failed(e.to_string())
}

impl Handler for BuildSample {
    fn run<'a>(&'a self, app: &'a App, job: &'a JobRecord, _ctx: &'a JobCtx) -> JobFuture<'a> {
        Box::pin(async move {
            let id = job.payload["sample"].as_str().unwrap_or_default();
            let Some(sample) = app.store.sample(id).await.map_err(failed)? else {
                return Err(failed(format!("no sample {id}")));
            };
            if sample.state != "building" {
                return Ok(());
            }
            match draw(app, &sample).await {
                Ok(()) => Ok(()),
                Err(e) => {
                    if job.attempts >= job.max_attempts {
                        end(
                            app,
                            &sample,
                            "failed",
                            SampleEnd {
                                error: Some("internal".into()),
                                ..Default::default()
                            },
                        )
                        .await?;
                    }
                    Err(e)
                }
            }
        })
    }
}

async fn end(
    app: &App,
    sample: &SampleRecord,
    state: &str,
    end: SampleEnd,
) -> std::result::Result<(), JobError> {
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await.map_err(failed)?;
    if store::samples::finish(&mut tx, &sample.id, state, &end, now)
        .await
        .map_err(failed)?
    {
        let action = match state {
            "published" => "sample.publish",
            "refused" => "sample.refuse",
            _ => "sample.fail",
        };
        let mut ev =
            store::AuditEvent::system(now, "system", action, "dataset", sample.dataset_id.clone());
        ev.after = Some(json!({
            "sample": sample.id, "version": sample.version_id, "rows": end.rows,
            "sha256": end.parquet_sha256, "seed": sample.seed,
        }));
        tx.audit(ev).await.map_err(failed)?;
    }
    tx.commit().await.map_err(failed)?;
    Ok(())
}

/// Why `version`'s rows may not be shown to anyone as a sample: personal information the scan
/// found that no rule or exception deals with.
fn unsafe_to_show(version: &store::data_versions::DataVersion) -> bool {
    version
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str::<data::ingest::QualityReport>(r).ok())
        .is_some_and(|r| r.personal.unhandled > 0)
}

async fn draw(app: &App, sample: &SampleRecord) -> std::result::Result<(), JobError> {
    let spec: SampleSpec = serde_json::from_str(&sample.spec).map_err(failed)?;
    let version = app
        .store
        .data_version(&sample.version_id)
        .await
        .map_err(failed)?;
    // A sample is open data: what the version holds under agreements only stays there.
    if unsafe_to_show(&version) {
        return end(
            app,
            sample,
            "refused",
            SampleEnd {
                error: Some("personal_information".into()),
                ..Default::default()
            },
        )
        .await;
    }
    let full = crate::open_data::parquet_file(app, &version)
        .await
        .map_err(|e| failed(e.code.as_str()))?;
    std::fs::create_dir_all(&app.config.data.scratch_dir).map_err(failed)?;
    let dir = tempfile::tempdir_in(&app.config.data.scratch_dir).map_err(failed)?;
    let out = dir.path().join("sample.parquet");
    let thresholds = app.config.data.privacy.fidelity;
    let seed = sample.seed as u64;
    let drawn = {
        let out = out.clone();
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::create(&out).map_err(|e| e.to_string())?;
            data::privacy::sample::build(
                &full,
                spec.size,
                &spec.strata,
                seed,
                thresholds,
                std::io::BufWriter::new(file),
            )
            .map_err(|e| match e {
                // Not a passing failure: drawing again would not help.
                data::privacy::sample::SampleError::TooManyStrata => "too_many_strata".to_owned(),
                data::privacy::sample::SampleError::UnknownColumn(_) => "unknown_item".to_owned(),
                other => other.to_string(),
            })
        })
        .await
        .map_err(failed)?
    };
    let report = match drawn {
        Ok(r) => r,
        Err(code) if code == "too_many_strata" || code == "unknown_item" => {
            let ended = SampleEnd {
                error: Some(code),
                ..Default::default()
            };
            return end(app, sample, "failed", ended).await;
        }
        Err(other) => return Err(failed(other)),
    };
    // Rows shown to anyone may not single a person out either.
    let dataset = app
        .store
        .dataset(&sample.dataset_id)
        .await
        .map_err(failed)?;
    let privacy = crate::privacy::options(app, &dataset)
        .await
        .map_err(|e| failed(e.code.as_str()))?;
    let risk = crate::privacy::assess(app, &privacy, &out)
        .await
        .map_err(failed)?;
    let text = serde_json::to_string(&report).map_err(failed)?;
    // Rows that single someone out, or rows that do not reflect the data: kept with the report,
    // not published; only the first says why in its error.
    let singles_out = risk.as_ref().is_some_and(|r| !r.passes());
    if singles_out || !report.faithful {
        return end(
            app,
            sample,
            "refused",
            SampleEnd {
                rows: Some(report.rows_sample as i64),
                report: Some(text),
                error: singles_out.then(|| "k_anonymity".into()),
                ..Default::default()
            },
        )
        .await;
    }
    let stored = app.blobs.put_file(&out, u64::MAX).await.map_err(failed)?;
    end(
        app,
        sample,
        "published",
        SampleEnd {
            rows: Some(report.rows_sample as i64),
            parquet_sha256: Some(stored.sha256),
            parquet_size: Some(stored.size as i64),
            report: Some(text),
            error: None,
        },
    )
    .await
}
