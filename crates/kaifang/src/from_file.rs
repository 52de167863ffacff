//! `kaifang generate --from-file FILE --org SLUG [--name NAME]`: a published unconditional
//! entry whose data items are inferred from a CSV file (over every row), owned by the named
//! organization, with the file published as its first version through the same upload and
//! ingestion job as a provider's file — so that a benchmark, or a city trying Kaifang on its
//! own data, can start from any CSV.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use app::data_versions::DataUpload;
use domain::clock::Clock;
use domain::ids::DatasetId;
use domain::openlist::dataset::DataItem;
use domain::openlist::vocab::DatasetStatus;
use store::AuditEvent;
use store::data_versions::{Mode, VersionState};
use store::datasets::DatasetRecord;

/// Infers the data items of the CSV file at `path`: each column's type over every row.
fn items_of(path: &Path) -> anyhow::Result<Vec<DataItem>> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let delimiter = app::infer::delimiter_of(&name).unwrap_or(b',');
    app::infer::items_from_file(path, delimiter, None)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e))
}

/// Adds the entry, publishes the file as its first version and returns the entry's id.
pub async fn generate(
    app: &app::App,
    clock: &dyn Clock,
    path: &Path,
    org: &str,
    name: Option<String>,
) -> anyhow::Result<DatasetId> {
    let org = app
        .store
        .org(org)
        .await
        .with_context(|| format!("no organization {org}"))?;
    let items = items_of(path)?;
    let name = name.unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "数据".into())
    });
    let meta = serde_json::from_value(serde_json::json!({
        "name": name,
        "summary": format!("由文件 {} 生成的数据集。", path.display()),
        "domain": "economy",
        "open_type": "unconditional",
        "update_frequency": "static",
        "formats": ["csv"],
        "data_items": items,
    }))?;
    let now = clock.now();
    let d = DatasetRecord {
        id: DatasetId::new(),
        org_id: org.id,
        status: DatasetStatus::Published,
        meta,
        guide_version: 1,
        published_version: Some(1),
        created_at: now,
        updated_at: now,
        last_reviewed_at: None,
        row_version: 1,
        data: None,
    };
    let mut tx = app.store.begin_write().await?;
    store::datasets::insert(&mut tx, &d).await?;
    let mut ev = AuditEvent::system(
        now,
        "system",
        "cli.generate_from_file",
        "dataset",
        d.id.to_string(),
    );
    ev.after = Some(serde_json::json!({ "file": path.display().to_string(), "org": org.slug }));
    tx.audit(ev).await?;
    tx.commit().await?;

    let caller = app::Caller::platform_for(org.id);
    let upload = DataUpload {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data.csv".into()),
        mode: Mode::Replace,
        encoding: None,
    };
    let file = tokio::fs::File::open(path).await?;
    let chunks = store::blobs::file_chunks(file);
    let v = app::data_versions::upload(app, &caller, &d, &upload, chunks)
        .await
        .map_err(|e| anyhow::anyhow!("upload refused: {}", e.code.as_str()))?;
    // The job is read here, by this process, through the same runner a server uses.
    let runner = Arc::new(app::jobs::runner(
        app.clone(),
        format!("generate-{}", std::process::id()),
    ));
    while runner.run_once().await?.is_some() {}
    let v = app.store.data_version(&v.id).await?;
    match v.state {
        VersionState::Published => Ok(d.id),
        other => anyhow::bail!(
            "the file was not published ({}): {}",
            other.as_str(),
            v.error.clone().unwrap_or_else(|| format!(
                "quality score {:.1}",
                v.score.unwrap_or(0) as f64 / 10.0
            ))
        ),
    }
}
