//! Reading an entry's open data (A17.1): the version asked for (the current one unless named),
//! its Parquet file kept on this machine's disk once fetched from the file store, and its rows
//! held in memory for queries while they are used, within a bound. Only unconditional entries
//! that are open now are read here; conditional data is delivered under an agreement.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use data::records::Table;
use domain::policy::{Action, Resource};
use store::data_versions::{DataVersion, VersionState};
use store::datasets::DatasetRecord;

use crate::held::Entry;
use crate::{App, Caller, ErrorCode, Result};

/// Versions' rows held in memory, by version, weighed by their size.
#[derive(Clone)]
pub struct Tables {
    cache: moka::future::Cache<String, Arc<Table>>,
    /// Where fetched Parquet files are kept.
    dir: PathBuf,
}

impl Tables {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .weigher(|_, t: &Arc<Table>| u32::try_from(t.memory()).unwrap_or(u32::MAX))
                .max_capacity(max_bytes)
                .build(),
            dir,
        }
    }
}

/// The version of `dataset` that `number` names, or its current one; only published versions
/// of entries whose data is open.
pub async fn version(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    number: Option<i64>,
) -> Result<DataVersion> {
    may_read(caller, dataset)?;
    lookup(app, dataset, number).await
}

/// As [`version`], for an entry held for the reads of its open data: its current version is
/// the one held with it.
pub async fn held_version<'e>(
    app: &App,
    caller: &Caller,
    entry: &'e Entry,
    number: Option<i64>,
) -> Result<Cow<'e, DataVersion>> {
    may_read(caller, &entry.dataset)?;
    match number {
        Some(n) => lookup(app, &entry.dataset, Some(n)).await.map(Cow::Owned),
        None => {
            let v = entry.current.as_ref().ok_or(ErrorCode::NoData)?;
            readable(v)?;
            Ok(Cow::Borrowed(v))
        }
    }
}

fn may_read(caller: &Caller, dataset: &DatasetRecord) -> Result<()> {
    caller.authorize(Action::ReadOpenData, Resource::Dataset(dataset.facts()))?;
    // Conditional data is read only through `delivery::granted_version`, which holds the
    // caller to what their agreement grants.
    if !dataset.facts().serves_open_data() {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok(())
}

/// The published version `number` of `dataset`, or its current one.
pub(crate) async fn lookup(
    app: &App,
    dataset: &DatasetRecord,
    number: Option<i64>,
) -> Result<DataVersion> {
    let v = match number {
        Some(n) => app
            .store
            .data_version_numbered(dataset.id, n)
            .await
            .map_err(|e| match e {
                store::StoreError::NotFound => ErrorCode::NotFound.into(),
                other => crate::Error::from(other),
            })?,
        None => app
            .store
            .current_data_version(dataset.id)
            .await?
            .ok_or(ErrorCode::NoData)?,
    };
    readable(&v)?;
    Ok(v)
}

/// Only a published version whose Parquet file is stored is read.
fn readable(v: &DataVersion) -> Result<()> {
    if v.state != VersionState::Published || v.parquet_sha256.is_none() {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(())
}

/// The local path of `v`'s Parquet file, fetched from the file store the first time.
pub async fn parquet_file(app: &App, v: &DataVersion) -> Result<PathBuf> {
    let sha = v.parquet_sha256.as_deref().ok_or(ErrorCode::NotFound)?;
    cached_parquet(app, sha).await
}

/// The local path of the Parquet file `sha` of the open area of the file store, fetched the
/// first time.
pub async fn cached_parquet(app: &App, sha: &str) -> Result<PathBuf> {
    let dir = &app.tables.dir;
    let path = dir.join(format!("{sha}.parquet"));
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(path);
    }
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| store::StoreError::Io(e.to_string()))?;
    // Fetched beside it and renamed, so a reader never opens half a file.
    let partial = dir.join(format!("{sha}.{}.partial", uuid::Uuid::now_v7()));
    if let Err(e) = app.blobs.get_to_file(sha, &partial).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(store::StoreError::from(e).into());
    }
    tokio::fs::rename(&partial, &path)
        .await
        .map_err(|e| store::StoreError::Io(e.to_string()))?;
    Ok(path)
}

/// `v`'s rows, from memory or read in.
pub async fn table(app: &App, v: &DataVersion) -> Result<Arc<Table>> {
    let tables = &app.tables;
    if let Some(t) = tables.cache.get(&v.id).await {
        return Ok(t);
    }
    let path = parquet_file(app, v).await?;
    let id = v.id.clone();
    let loaded = tables
        .cache
        .try_get_with(v.id.clone(), async move {
            tokio::task::spawn_blocking(move || Table::load(&path, &id).map(Arc::new))
                .await
                .map_err(|e| e.to_string())?
        })
        .await
        .map_err(|e: Arc<String>| store::StoreError::Io(e.to_string()))?;
    Ok(loaded)
}

/// `v` as an Excel workbook on this machine's disk, written the first time it is asked for.
/// `Ok(None)` when its rows do not fit in a worksheet.
pub async fn xlsx_file(app: &App, v: &DataVersion) -> Result<Option<PathBuf>> {
    let parquet = parquet_file(app, v).await?;
    let sha = v.parquet_sha256.as_deref().ok_or(ErrorCode::NotFound)?;
    let path = app.tables.dir.join(format!("{sha}.xlsx"));
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(Some(path));
    }
    let partial = app
        .tables
        .dir
        .join(format!("{sha}.{}.xlsx.partial", uuid::Uuid::now_v7()));
    let (from, to) = (parquet.clone(), partial.clone());
    let written = tokio::task::spawn_blocking(move || data::xlsx::write_xlsx(&from, &to))
        .await
        .map_err(|e| store::StoreError::Io(e.to_string()))?;
    match written {
        Ok(()) => {
            tokio::fs::rename(&partial, &path)
                .await
                .map_err(|e| store::StoreError::Io(e.to_string()))?;
            Ok(Some(path))
        }
        Err(data::xlsx::XlsxError::TooManyRows(_)) => {
            let _ = tokio::fs::remove_file(&partial).await;
            Ok(None)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            Err(store::StoreError::Io(e.to_string()).into())
        }
    }
}

/// Why a query was refused or stopped.
#[derive(Debug)]
pub enum SqlFailure {
    Sql(data::sql::SqlError),
    App(crate::Error),
}

impl From<crate::Error> for SqlFailure {
    fn from(e: crate::Error) -> Self {
        SqlFailure::App(e)
    }
}

impl From<store::StoreError> for SqlFailure {
    fn from(e: store::StoreError) -> Self {
        SqlFailure::App(e.into())
    }
}

impl From<data::sql::SqlError> for SqlFailure {
    fn from(e: data::sql::SqlError) -> Self {
        SqlFailure::Sql(e)
    }
}

/// The Arrow schema of the Parquet file at `path`, from its footer.
pub async fn parquet_schema(path: PathBuf) -> Result<data::arrow::datatypes::SchemaRef> {
    tokio::task::spawn_blocking(move || {
        use data::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
        ParquetRecordBatchReaderBuilder::try_new(file)
            .map(|b| b.schema().clone())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| store::StoreError::Io(e.to_string()))?
    .map_err(|e| store::StoreError::Io(e).into())
}

/// Conditional data as a query under an agreement reads it: a view with the granted columns
/// only and the rows the grant's filters keep, the call counted against the day's quota.
async fn granted_source(
    app: &App,
    caller: &Caller,
    d: &DatasetRecord,
    name: String,
    text: &str,
) -> std::result::Result<data::sql::Source, SqlFailure> {
    let (v, admission) = crate::delivery::granted_version(app, caller, d, None).await?;
    granted_view(app, &v, &admission, name, text).await
}

/// Version `v` as a query granted `admission` reads it, named `name`: a view with the granted
/// columns only and the rows the grant's filters keep. A query (`text`) that names a column
/// outside the grant is refused naming it, before it is planned.
pub(crate) async fn granted_view(
    app: &App,
    v: &DataVersion,
    admission: &crate::delivery::Admission,
    name: String,
    text: &str,
) -> std::result::Result<data::sql::Source, SqlFailure> {
    // The file's own columns, from its footer: the query reads the file, not the rows held
    // for the records API.
    let path = parquet_file(app, v).await?;
    let schema = parquet_schema(path.clone()).await?;
    let hidden: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !admission.items.contains(n))
        .collect();
    let used = data::sql::identifiers(text)?;
    if let Some(h) = hidden
        .iter()
        .find(|h| used.iter().any(|u| u.eq_ignore_ascii_case(h)))
    {
        // The refusal names the item just as the records API does.
        admission.check([h.as_str()])?;
    }
    let view = data::sql::View {
        columns: schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| admission.items.contains(n))
            .collect(),
        filters: admission.row_filters(&schema)?,
    };
    Ok(data::sql::Source {
        name,
        path,
        view: Some(view),
    })
}

/// Runs one read-only SELECT over open data. A table is an entry named by its id, its CKAN
/// resource id (`{id}-csv`) or its exact name; only entries whose data the caller may read are
/// tables — open data, and conditional data under the caller's agreement. Returns the answer
/// and the entries read.
pub async fn sql(
    app: &App,
    caller: &Caller,
    text: &str,
) -> std::result::Result<(data::sql::Answer, Vec<DatasetRecord>), SqlFailure> {
    let names = data::sql::tables_of(text)?;
    let credential = caller
        .user()
        .is_ok_and(|u| u.scope.is_some_and(|s| s.agreement.is_some()));
    let mut tables = Vec::new();
    let mut read = Vec::new();
    let mut by_name: Option<Vec<(String, String)>> = None;
    for name in names {
        let id = name.strip_suffix("-csv").unwrap_or(&name).to_owned();
        let found = match app.store.dataset(&id).await {
            Ok(d) => Some(d),
            Err(store::StoreError::NotFound) => {
                if by_name.is_none() {
                    by_name = Some(app.store.dataset_names(None).await?);
                }
                let hit = by_name
                    .as_ref()
                    .and_then(|all| all.iter().find(|(_, n)| *n == name))
                    .map(|(id, _)| id.clone());
                match hit {
                    Some(id) => Some(app.store.dataset(&id).await?),
                    None => None,
                }
            }
            Err(e) => return Err(crate::Error::from(e).into()),
        };
        let open = found.filter(|d| {
            caller
                .authorize(Action::ReadOpenData, Resource::Dataset(d.facts()))
                .is_ok()
        });
        let Some(d) = open else {
            return Err(data::sql::SqlError::UnknownTable(name).into());
        };
        if credential && d.facts().serves_granted_data() {
            tables.push(granted_source(app, caller, &d, name, text).await?);
            read.push(d);
            continue;
        }
        let v = version(app, caller, &d, None)
            .await
            .map_err(|_| data::sql::SqlError::UnknownTable(name.clone()))?;
        tables.push(data::sql::Source::file(name, parquet_file(app, &v).await?));
        read.push(d);
    }
    let answer = data::sql::run(text, &tables, app.config.data.sql).await?;
    Ok((answer, read))
}
