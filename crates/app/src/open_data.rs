//! Reading an entry's open data (A17.1): the version asked for (the current one unless named),
//! its Parquet file kept on this machine's disk once fetched from the file store, and its rows
//! held in memory for queries while they are used, within a bound. Only unconditional entries
//! that are open now are read here; conditional data is delivered under an agreement.

use std::path::PathBuf;
use std::sync::Arc;

use data::records::Table;
use domain::policy::{Action, Resource};
use store::data_versions::{DataVersion, VersionState};
use store::datasets::DatasetRecord;

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
    caller.authorize(Action::ReadOpenData, Resource::Dataset(dataset.facts()))?;
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
    if v.state != VersionState::Published || v.parquet_sha256.is_none() {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(v)
}

/// The local path of `v`'s Parquet file, fetched from the file store the first time.
pub async fn parquet_file(app: &App, v: &DataVersion) -> Result<PathBuf> {
    let sha = v.parquet_sha256.as_deref().ok_or(ErrorCode::NotFound)?;
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
