//! An entry's data (A10.2, A16.1): a provider's file streamed into the file store, then
//! ingested by a background job — read against the entry's data items, checked by the quality
//! gate, profiled and written as Parquet — and published as the entry's next version only when
//! it passed and its Parquet file is completely stored. Publishing is one transaction: the
//! version is numbered, the entry switched to it, its data update recorded (A9.4) and audited.
//! A refused upload keeps its report and the list of its failing rows for the provider.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
pub use data::gate::Thresholds;
use data::gate::Verdict;
use data::ingest::{IngestError, IngestOptions, Outcome, Progress, Sinks};
use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::DatasetStatus;
use domain::policy::{Action, Resource};
use futures_util::Stream;
use serde_json::json;
use store::blobs::BlobError;
use store::data_versions::{self, DataVersion, Ended, Mode, VersionState};
use store::datasets::DatasetRecord;
use store::jobs::JobRecord;

use crate::jobs::{Handler, JobCtx, JobError, JobFuture};
use crate::{App, Caller, Error, ErrorCode, FieldError, Result};

/// The largest data file one upload may hold.
pub const MAX_DATA_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The kind of the ingestion job.
pub const INGEST: &str = "ingest_data";
/// Versions listed in an entry's history.
pub const HISTORY: i64 = 200;

/// The formats a data file may come in, as read from its name and checked against its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Csv,
    Tsv,
    Xlsx,
    Xls,
    /// An array of objects.
    Json,
    /// One object a line.
    Ndjson,
    /// A feature collection.
    GeoJson,
    Parquet,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Csv => "csv",
            SourceFormat::Tsv => "tsv",
            SourceFormat::Xlsx => "xlsx",
            SourceFormat::Xls => "xls",
            SourceFormat::Json => "json",
            SourceFormat::Ndjson => "ndjson",
            SourceFormat::GeoJson => "geojson",
            SourceFormat::Parquet => "parquet",
        }
    }

    fn delimiter(self) -> u8 {
        match self {
            SourceFormat::Tsv => b'\t',
            _ => b',',
        }
    }

    /// Whether the file is text, read in its encoding.
    fn is_text(self) -> bool {
        matches!(
            self,
            SourceFormat::Csv
                | SourceFormat::Tsv
                | SourceFormat::Json
                | SourceFormat::Ndjson
                | SourceFormat::GeoJson
        )
    }

    /// Whether a file that starts with `first` can be of this format: text is not an archive
    /// or an office file, a workbook or Parquet file starts with its own magic number.
    fn fits(self, first: &[u8]) -> bool {
        match self {
            SourceFormat::Xlsx => first.starts_with(b"PK\x03\x04"),
            SourceFormat::Xls => first.starts_with(b"\xD0\xCF\x11\xE0"),
            SourceFormat::Parquet => first.starts_with(b"PAR1"),
            _ => !BINARY_MAGIC.iter().any(|m| first.starts_with(m)),
        }
    }

    /// The format a file's name says; `Err` with the code for a name that says another kind
    /// of file, or none.
    pub fn from_name(name: &str) -> std::result::Result<Self, ErrorCode> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv") | Some("txt") => Ok(SourceFormat::Csv),
            Some("tsv") | Some("tab") => Ok(SourceFormat::Tsv),
            Some("xlsx") => Ok(SourceFormat::Xlsx),
            Some("xls") => Ok(SourceFormat::Xls),
            Some("json") => Ok(SourceFormat::Json),
            Some("ndjson") | Some("jsonl") => Ok(SourceFormat::Ndjson),
            Some("geojson") => Ok(SourceFormat::GeoJson),
            Some("parquet") => Ok(SourceFormat::Parquet),
            _ => Err(ErrorCode::DataFormatNotSupported),
        }
    }
}

/// Magic numbers of binary files that are not text whatever their name says: archives and
/// office files (XLSX is a zip), PDF, images, Parquet, executables.
const BINARY_MAGIC: &[&[u8]] = &[
    b"PK\x03\x04",
    b"\xD0\xCF\x11\xE0",
    b"%PDF",
    b"\x89PNG",
    b"\xFF\xD8\xFF",
    b"GIF8",
    b"PAR1",
    b"\x1F\x8B",
    b"7z\xBC\xAF",
    b"Rar!",
    b"\x7FELF",
    b"MZ",
];

/// What a provider sends with a file.
#[derive(Debug, Clone)]
pub struct DataUpload {
    pub name: String,
    pub mode: Mode,
    /// The text encoding, when the provider names it (else it is detected).
    pub encoding: Option<String>,
}

/// Streams `chunks` into the file store as the next data of `dataset` and queues its
/// ingestion. Refused before anything is kept: an entry that is not the caller's to publish, a
/// name of no data format, content of another kind than the name says, more than
/// [`MAX_DATA_BYTES`], an unknown encoding, while another file of the entry is being read.
pub async fn upload<E: std::fmt::Display>(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    upload: &DataUpload,
    chunks: impl Stream<Item = std::result::Result<Bytes, E>>,
) -> Result<DataVersion> {
    caller.authorize(Action::PublishData, Resource::Dataset(dataset.facts()))?;
    let user = caller.user()?.id;
    if matches!(dataset.status, DatasetStatus::Withdrawn) {
        return Err(ErrorCode::WrongStatus.into());
    }
    let name = upload.name.trim();
    let mut errors: Vec<FieldError> = FieldError::text("name", name, domain::bounded::NAME)
        .into_iter()
        .collect();
    if name.is_empty() {
        errors.push(FieldError::new("name", "required"));
    }
    if let Some(enc) = &upload.encoding
        && data::encoding::detect(b"", Some(enc)).is_err()
    {
        errors.push(FieldError {
            field: "encoding".into(),
            code: "unknown_encoding",
            detail: Some(enc.chars().take(40).collect()),
        });
    }
    if dataset.meta.data_items.is_empty() {
        errors.push(FieldError::new("data_items", "required"));
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let format = SourceFormat::from_name(name).map_err(Error::new)?;
    if app.store.ingesting_of(dataset.id).await? > 0 {
        return Err(ErrorCode::IngestionRunning.into());
    }
    let mut first = true;
    // The raw file may hold what the entry's de-identification rules take out: it is kept
    // where no open path reads.
    let stored = app
        .blobs
        .restricted()
        .put_inspected(chunks, MAX_DATA_BYTES, |chunk| {
            if let Some(bytes) = chunk
                && std::mem::take(&mut first)
                && !format.fits(bytes)
            {
                return Err("format".to_owned());
            }
            Ok(())
        })
        .await
        .map_err(|e| match e {
            BlobError::TooLarge(_) => Error::new(ErrorCode::PayloadTooLarge),
            BlobError::Refused(_) => Error::new(ErrorCode::FormatMismatch),
            BlobError::Source(_) => Error::new(ErrorCode::MalformedRequest),
            other => store::StoreError::from(other).into(),
        })?;
    if stored.size == 0 {
        return Err(Error::invalid(vec![FieldError::new("file", "required")]));
    }
    let now = app.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let items = serde_json::to_string(&dataset.meta.data_items).expect("data items serialize");
    let mut tx = app.store.begin_write().await?;
    let job = store::jobs::enqueue(
        &mut tx,
        &store::jobs::NewJob {
            kind: INGEST.to_owned(),
            payload: json!({ "version": id }),
            max_attempts: 3,
            run_at: now,
            created_by: Some(user.to_string()),
        },
        now,
    )
    .await?;
    let version = DataVersion {
        id: id.clone(),
        dataset_id: dataset.id,
        org_id: dataset.org_id,
        number: None,
        state: VersionState::Ingesting,
        mode: upload.mode,
        source_name: name.to_owned(),
        source_sha256: stored.sha256.clone(),
        source_size: stored.size as i64,
        source_format: format.as_str().to_owned(),
        declared_encoding: upload.encoding.clone(),
        encoding: None,
        job_id: Some(job.to_string()),
        parquet_sha256: None,
        parquet_size: None,
        failures_sha256: None,
        rows: None,
        score: None,
        items,
        report: None,
        profile: None,
        error: None,
        created_by: user.to_string(),
        created_at: now,
        finished_at: None,
    };
    data_versions::insert(&mut tx, &version).await?;
    let mut ev = caller.event(
        now,
        "data_version.upload",
        "dataset",
        dataset.id.to_string(),
    );
    ev.after = Some(json!({
        "version": id, "name": name, "size": stored.size, "sha256": stored.sha256,
        "mode": upload.mode.as_str(), "encoding": upload.encoding,
    }));
    tx.audit(ev).await?;
    tx.commit().await?;
    // This process's workers start on it now rather than at their next look at the queue.
    app.jobs_due.notify_one();
    Ok(version)
}

/// The provider stops an upload being read: at once when its job waits, at the job's next
/// report of progress when it runs.
pub async fn cancel(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    v: &DataVersion,
) -> Result<()> {
    caller.authorize(Action::PublishData, Resource::Dataset(dataset.facts()))?;
    if v.dataset_id != dataset.id {
        return Err(ErrorCode::NotFound.into());
    }
    if v.state != VersionState::Ingesting {
        return Err(ErrorCode::WrongStatus.into());
    }
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    if let Some(job) = v.job_id.as_deref().and_then(|j| j.parse().ok()) {
        let state = store::jobs::cancel(&mut tx, job, now).await?;
        if state == domain::jobs::JobState::Cancelled {
            data_versions::end(
                &mut tx,
                &v.id,
                VersionState::Cancelled,
                &Ended::default(),
                now,
            )
            .await?;
        }
    }
    let mut ev = caller.event(
        now,
        "data_version.cancel",
        "dataset",
        dataset.id.to_string(),
    );
    ev.after = Some(json!({ "version": v.id }));
    tx.audit(ev).await?;
    tx.commit().await?;
    app.versions_ended.notify_waiters();
    Ok(())
}

/// Version `id`, read again until its ingestion ends or `wait` runs out: answered as soon as
/// this process ends it, and looked at again every second for an end another process makes.
pub async fn ended(app: &App, id: &str, wait: Duration) -> store::Result<DataVersion> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Listening before reading: an end between the read and the wait is not missed.
        let mut rung = std::pin::pin!(app.versions_ended.notified());
        rung.as_mut().enable();
        let v = app.store.data_version(id).await?;
        let now = tokio::time::Instant::now();
        if v.state != VersionState::Ingesting || now >= deadline {
            return Ok(v);
        }
        let look_again = (now + Duration::from_secs(1)).min(deadline);
        tokio::select! {
            () = rung => {}
            () = tokio::time::sleep_until(look_again) => {}
        }
    }
}

/// The ingestion job: one version, from its stored file to published or refused.
pub struct IngestData;

impl Handler for IngestData {
    fn run<'a>(&'a self, app: &'a App, job: &'a JobRecord, ctx: &'a JobCtx) -> JobFuture<'a> {
        Box::pin(async move {
            let id = job.payload["version"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let v = match app.store.data_version(&id).await {
                Ok(v) => v,
                Err(store::StoreError::NotFound) => {
                    return Err(JobError::Failed(format!("no data version {id}")));
                }
                Err(e) => return Err(JobError::Failed(e.to_string())),
            };
            if v.state != VersionState::Ingesting {
                return Ok(());
            }
            let last_attempt = job.attempts >= job.max_attempts;
            match ingest(app, &v, ctx).await {
                Ok(()) => Ok(()),
                Err(JobError::Cancelled) => {
                    end(
                        app,
                        &v,
                        VersionState::Cancelled,
                        Ended::default(),
                        "data_version.cancelled",
                    )
                    .await?;
                    Err(JobError::Cancelled)
                }
                Err(JobError::Failed(why)) => {
                    if last_attempt {
                        let ended = Ended {
                            error: Some("internal".into()),
                            ..Default::default()
                        };
                        end(app, &v, VersionState::Failed, ended, "data_version.fail").await?;
                    }
                    Err(JobError::Failed(why))
                }
            }
        })
    }
}

/// Ends, as failed, the versions whose ingestion job ended without ending them (a worker that
/// died on the last attempt), so that the entry takes uploads again. Returns how many.
pub async fn end_stranded(app: &App) -> std::result::Result<usize, JobError> {
    let stranded = app.store.stranded_data_versions().await.map_err(failed)?;
    let mut n = 0;
    for v in &stranded {
        let ended = Ended {
            error: Some("interrupted".into()),
            ..Ended::default()
        };
        if end(app, v, VersionState::Failed, ended, "data_version.fail").await? {
            n += 1;
        }
    }
    Ok(n)
}

fn failed(e: impl std::fmt::Display) -> JobError {
    JobError::Failed(e.to_string())
}

/// Ends `v` in `state`, audited as `action` by the platform.
async fn end(
    app: &App,
    v: &DataVersion,
    state: VersionState,
    ended: Ended,
    action: &'static str,
) -> std::result::Result<bool, JobError> {
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await.map_err(failed)?;
    let ended_now = data_versions::end(&mut tx, &v.id, state, &ended, now)
        .await
        .map_err(failed)?;
    if ended_now {
        let mut ev =
            store::AuditEvent::system(now, "system", action, "dataset", v.dataset_id.to_string());
        ev.after = Some(json!({
            "version": v.id, "rows": ended.rows, "score": ended.score, "error": ended.error,
        }));
        tx.audit(ev).await.map_err(failed)?;
    }
    tx.commit().await.map_err(failed)?;
    if ended_now {
        app.versions_ended.notify_waiters();
    }
    Ok(ended_now)
}

/// What reading the file in the blocking pool gave.
enum FileRead {
    Done {
        outcome: Box<Outcome>,
        /// The text encoding it was read in; none for a workbook or Parquet file.
        encoding: Option<&'static str>,
    },
    /// The file cannot be read as text in any encoding we may use, or not as CSV.
    Unreadable(String),
}

async fn ingest(app: &App, v: &DataVersion, ctx: &JobCtx) -> std::result::Result<(), JobError> {
    let items: Vec<DataItem> = serde_json::from_str(&v.items).map_err(failed)?;
    let format = SourceFormat::from_name(&v.source_name).map_err(|c| failed(c.as_str()))?;
    std::fs::create_dir_all(&app.config.data.scratch_dir).map_err(failed)?;
    let dir = tempfile::tempdir_in(&app.config.data.scratch_dir).map_err(failed)?;
    let parquet = dir.path().join("data.parquet");
    let failures = dir.path().join("failures.csv");
    ctx.progress("downloading", 0, Some(v.source_size)).await?;
    let source = raw_path(app, &v.source_sha256, &dir.path().join("source"))
        .await
        .map_err(failed)?;

    // Rows added to a time series: the current version's rows come first.
    let append_to = match v.mode {
        Mode::Append => match app
            .store
            .current_data_version(v.dataset_id)
            .await
            .map_err(failed)?
        {
            Some(current) => Some(
                crate::open_data::parquet_file(app, &current)
                    .await
                    .map_err(|e| failed(e.code.as_str()))?,
            ),
            None => None,
        },
        Mode::Replace => None,
    };
    let dataset = app
        .store
        .dataset(&v.dataset_id.to_string())
        .await
        .map_err(failed)?;
    let privacy = crate::privacy::options(app, &dataset)
        .await
        .map_err(|e| failed(e.code.as_str()))?;
    let progress = Arc::new(Progress::default());
    let bytes_read = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let options = IngestOptions {
        privacy: privacy.clone(),
        read: data::ReadOptions {
            delimiter: format.delimiter(),
            ..Default::default()
        },
        area: app.config.data.area,
        thresholds: app.config.data.quality,
        append_to,
        // The duplicate check spills into this job's own directory, removed with it.
        spill: Some(data::ingest::Spill::new(
            dir.path().to_owned(),
            parquet.clone(),
        )),
        ..Default::default()
    };
    let work = {
        let (progress, bytes_read) = (progress.clone(), bytes_read.clone());
        let (source, parquet, failures) = (source.clone(), parquet.clone(), failures.clone());
        let declared = v.declared_encoding.clone();
        tokio::task::spawn_blocking(move || {
            read_file(
                format,
                &source,
                declared.as_deref(),
                &items,
                options,
                &parquet,
                &failures,
                progress,
                bytes_read,
            )
        })
    };
    let mut work = std::pin::pin!(work);
    let read = loop {
        tokio::select! {
            done = &mut work => break done.map_err(failed)?,
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                let done = bytes_read.load(Ordering::Relaxed) as i64;
                if let Err(e) = ctx.progress("reading", done, Some(v.source_size)).await {
                    progress.cancel.store(true, Ordering::Relaxed);
                    // The reader stops at its next batch; wait for it to let go of the files.
                    let _ = (&mut work).await;
                    return Err(e);
                }
            }
        }
    };
    let (outcome, encoding) = match read {
        Ok(FileRead::Done { outcome, encoding }) => (outcome, encoding),
        Ok(FileRead::Unreadable(why)) => {
            let ended = Ended {
                error: Some(why),
                ..Default::default()
            };
            end(app, v, VersionState::Refused, ended, "data_version.refuse").await?;
            return Ok(());
        }
        Err(IngestError::Cancelled) => return Err(JobError::Cancelled),
        Err(IngestError::SchemaChanged) => {
            let ended = Ended {
                error: Some("schema_changed".into()),
                ..Default::default()
            };
            end(app, v, VersionState::Refused, ended, "data_version.refuse").await?;
            return Ok(());
        }
        Err(e) => return Err(failed(e)),
    };
    let mut outcome = outcome;
    if let Some(risk) = crate::privacy::assess(app, &privacy, &parquet)
        .await
        .map_err(failed)?
    {
        // Unconditional data may not single anyone out (A14.1).
        if privacy.block && !risk.passes() {
            outcome.report.verdict = Verdict::Refused;
            outcome.report.findings.push(data::ingest::FindingView {
                code: data::ingest::K_ANONYMITY.to_owned(),
                line: None,
                column: None,
                value: None,
                detail: Some(format!("{}/{}", risk.k, risk.threshold)),
            });
        }
        outcome.report.risk = Some(risk);
    }
    let report = &outcome.report;
    let rows = (report.rows + outcome.carried) as i64;
    ctx.progress("storing", rows, Some(rows)).await?;
    let failures_ref = if report.bad_rows > 0 {
        Some(
            app.blobs
                .restricted()
                .put_file(&failures, MAX_DATA_BYTES * 2)
                .await
                .map_err(failed)?,
        )
    } else {
        None
    };
    let mut ended = Ended {
        encoding: encoding.map(str::to_owned),
        failures_sha256: failures_ref.map(|f| f.sha256),
        rows: Some(rows),
        score: Some((report.score * 10.0).round() as i64),
        report: Some(serde_json::to_string(report).map_err(failed)?),
        profile: Some(serde_json::to_string(&outcome.profile).map_err(failed)?),
        ..Default::default()
    };
    if report.verdict == Verdict::Refused {
        end(app, v, VersionState::Refused, ended, "data_version.refuse").await?;
        return Ok(());
    }
    // The Parquet file is read back before it is stored: its rows must be all that were read.
    let written = data::ingest::parquet_rows(&parquet).map_err(failed)?;
    if written != rows {
        return Err(failed(format!(
            "the Parquet file holds {written} rows of {rows}"
        )));
    }
    let stored = app
        .blobs
        .put_file(&parquet, u64::MAX)
        .await
        .map_err(failed)?;
    if !app.blobs.exists(&stored.sha256).await.map_err(failed)? {
        return Err(failed("the stored Parquet file is not there"));
    }
    ended.parquet_sha256 = Some(stored.sha256.clone());
    ended.parquet_size = Some(stored.size as i64);
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await.map_err(failed)?;
    if !data_versions::end(&mut tx, &v.id, VersionState::Published, &ended, now)
        .await
        .map_err(failed)?
    {
        // Cancelled (or ended by another worker) meanwhile: nothing to publish.
        return Ok(());
    }
    let number = data_versions::publish(&mut tx, &v.id, v.dataset_id, now)
        .await
        .map_err(failed)?;
    let mut ev = store::AuditEvent::system(
        now,
        "system",
        "data_version.publish",
        "dataset",
        v.dataset_id.to_string(),
    );
    ev.after = Some(json!({
        "version": v.id, "number": number, "rows": rows, "added": report.rows,
        "score": report.score,
        "parquet_sha256": stored.sha256, "parquet_size": stored.size,
    }));
    tx.audit(ev).await.map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    app.versions_ended.notify_waiters();
    // The version is published whatever becomes of its sample.
    if let Err(e) = crate::samples::redraw(app, &dataset, &v.id).await {
        tracing::warn!(error = %e.code.as_str(), version = %v.id, "cannot queue the sample's redraw");
    }
    ctx.progress("published", rows, Some(rows)).await?;
    Ok(())
}

/// Fetches a raw upload (or a list of failing rows, which repeats it) from the restricted area
/// into `to`; files stored before that area existed are in the open one.
async fn raw_file(
    app: &App,
    sha256: &str,
    to: &Path,
) -> std::result::Result<u64, store::blobs::BlobError> {
    match app.blobs.restricted().get_to_file(sha256, to).await {
        Err(store::blobs::BlobError::NotFound) => app.blobs.get_to_file(sha256, to).await,
        other => other,
    }
}

/// A raw upload on this machine's disk: read in place from a file store there, or else
/// fetched into `scratch` (which is then the path given).
pub async fn raw_path(
    app: &App,
    sha256: &str,
    scratch: &Path,
) -> std::result::Result<std::path::PathBuf, store::blobs::BlobError> {
    let restricted = app.blobs.restricted();
    if let Some(path) = restricted
        .local_file(sha256)
        .or_else(|| app.blobs.local_file(sha256))
    {
        return Ok(path);
    }
    raw_file(app, sha256, scratch).await?;
    Ok(scratch.to_owned())
}

/// A raw upload (or a list of failing rows) as a stream, from wherever it is kept.
pub async fn raw_stream(
    app: &App,
    sha256: &str,
) -> Result<
    futures_util::stream::BoxStream<'static, std::result::Result<Bytes, store::blobs::BlobError>>,
> {
    let found = match app.blobs.restricted().get(sha256).await {
        Err(store::blobs::BlobError::NotFound) => app.blobs.get(sha256).await,
        other => other,
    };
    Ok(found.map_err(store::StoreError::from)?)
}

/// Counts the bytes read through it, for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The header and first `n` rows of the raw upload at `source`, read as its ingestion reads
/// it (the encoding declared or detected).
pub fn first_rows(
    format: SourceFormat,
    source: &Path,
    declared: Option<&str>,
    items: &[DataItem],
    n: usize,
) -> std::result::Result<(Vec<String>, Vec<csv::StringRecord>), String> {
    use data::sources;
    let rows = if format.is_text() {
        let file = std::fs::File::open(source).map_err(|e| e.to_string())?;
        let (_, reader) = data::decoded(std::io::BufReader::new(file), declared)
            .map_err(|e| e.to_string())?
            .map_err(|e| encoding_code(&e).to_owned())?;
        match format {
            SourceFormat::Csv | SourceFormat::Tsv => {
                let mut csv = csv::ReaderBuilder::new()
                    .delimiter(format.delimiter())
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(reader);
                let mut records = csv.records();
                let header = match records.next() {
                    Some(Ok(h)) => h.iter().map(str::to_owned).collect(),
                    _ => return Err("empty_file".into()),
                };
                let rows = records.take(n).filter_map(|r| r.ok()).collect();
                return Ok((header, rows));
            }
            SourceFormat::Ndjson => sources::ndjson(std::io::BufReader::new(reader)),
            SourceFormat::GeoJson => {
                let column = items
                    .iter()
                    .find(|i| i.field_type == domain::openlist::vocab::FieldType::Geometry)
                    .map_or_else(|| "geometry".to_owned(), |i| i.name.clone());
                sources::json(reader, Some(column))
            }
            _ => sources::json(reader, None),
        }
    } else if format == SourceFormat::Parquet {
        sources::parquet(source)
    } else {
        sources::spreadsheet(source)
    }
    .map_err(|e| read_code(&e))?;
    let header = rows.header.clone();
    let records = rows
        .rows
        .take(n)
        .filter_map(|r| r.ok().map(|(_, record)| record))
        .collect();
    Ok((header, records))
}

#[allow(clippy::too_many_arguments)]
fn read_file(
    format: SourceFormat,
    source: &Path,
    declared: Option<&str>,
    items: &[DataItem],
    options: IngestOptions,
    parquet: &Path,
    failures: &Path,
    progress: Arc<Progress>,
    bytes_read: Arc<std::sync::atomic::AtomicU64>,
) -> std::result::Result<FileRead, IngestError> {
    use data::ingest::{ingest_csv, ingest_rows};
    use data::sources;
    let io = |e: std::io::Error| IngestError::Write(e.to_string());
    let out = std::io::BufWriter::new(std::fs::File::create(parquet).map_err(io)?);
    let bad = std::io::BufWriter::new(std::fs::File::create(failures).map_err(io)?);
    let sinks = Sinks {
        parquet: Some(Box::new(out)),
        failures: Some(Box::new(bad)),
    };
    let done = |read: Result<(Outcome, data::Report), IngestError>, encoding| match read {
        Ok((outcome, _)) => Ok(FileRead::Done {
            outcome: Box::new(outcome),
            encoding,
        }),
        Err(IngestError::Read(e)) => Ok(FileRead::Unreadable(read_code(&e))),
        Err(e) => Err(e),
    };
    if !format.is_text() {
        // Workbooks and Parquet files are read whole from their place on disk.
        let size = std::fs::metadata(source).map(|m| m.len()).unwrap_or(0);
        let rows = match format {
            SourceFormat::Parquet => sources::parquet(source),
            _ => sources::spreadsheet(source),
        };
        bytes_read.store(size, Ordering::Relaxed);
        return match rows {
            Ok(rows) => done(ingest_rows(rows, items, options, sinks, progress), None),
            Err(e) => Ok(FileRead::Unreadable(read_code(&e))),
        };
    }
    let file = std::fs::File::open(source).map_err(io)?;
    let counted = Counting {
        inner: std::io::BufReader::with_capacity(1 << 20, file),
        count: bytes_read,
    };
    let decoded =
        data::decoded(counted, declared).map_err(|e| IngestError::Read(data::ReadError::Io(e)))?;
    let (detected, reader) = match decoded {
        Ok(found) => found,
        Err(e) => return Ok(FileRead::Unreadable(encoding_code(&e).to_owned())),
    };
    let encoding = Some(detected.name());
    let rows = match format {
        SourceFormat::Csv | SourceFormat::Tsv => {
            return done(
                ingest_csv(reader, items, options, sinks, progress),
                encoding,
            );
        }
        SourceFormat::Ndjson => sources::ndjson(std::io::BufReader::new(reader)),
        SourceFormat::GeoJson => {
            // The features' geometry is the entry's geometry item (or a column `geometry`).
            let column = items
                .iter()
                .find(|i| i.field_type == domain::openlist::vocab::FieldType::Geometry)
                .map_or_else(|| "geometry".to_owned(), |i| i.name.clone());
            sources::json(reader, Some(column))
        }
        _ => sources::json(reader, None),
    };
    match rows {
        Ok(rows) => done(ingest_rows(rows, items, options, sinks, progress), encoding),
        Err(e) => Ok(FileRead::Unreadable(read_code(&e))),
    }
}

fn encoding_code(e: &data::EncodingError) -> &'static str {
    match e {
        data::EncodingError::UnknownLabel(_) => "unknown_encoding",
        data::EncodingError::Undetermined | data::EncodingError::Malformed { .. } => {
            "encoding_undetermined"
        }
    }
}

/// Why a file could not be read, as a stable code and, after a colon, where (the byte of a
/// malformed character, the CSV reader's position).
fn read_code(e: &data::ReadError) -> String {
    match e {
        data::ReadError::Empty => "empty_file".to_owned(),
        data::ReadError::Io(e) => {
            let detail: String = e.to_string().chars().take(200).collect();
            format!("unreadable_text:{detail}")
        }
    }
}
