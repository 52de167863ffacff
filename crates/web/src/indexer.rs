//! Keeps this node's search index in step with the database: at start, after local writes,
//! and every few seconds for writes made by other nodes.

use std::time::Duration;

use search::{Change, SearchDoc};
use store::datasets::ChangedDataset;

use crate::error::{AppError, ErrorCode};
use crate::openlist::{public, public_dataset_json};
use crate::state::AppState;

const BATCH: i64 = 2000;
const MERGE_AFTER: usize = 5000;

fn search_doc(state: &AppState, c: &ChangedDataset, org: &store::orgs::OrgRecord) -> SearchDoc {
    let d = &c.dataset;
    let m = &d.meta;
    let payload = public_dataset_json(state, d, org).to_json();
    SearchDoc {
        id: d.id.to_string(),
        name: m.name.clone(),
        summary: m.summary.clone(),
        name_en: m.name_en.clone(),
        summary_en: m.summary_en.clone(),
        keywords: m.keywords.clone(),
        field_labels: m.data_items.iter().map(|i| i.label.clone()).collect(),
        provider_slug: c.provider_slug.clone(),
        provider_name: c.provider_name.clone(),
        domain: m.domain.clone(),
        open_type: m.open_type.as_str().to_owned(),
        formats: m.formats.clone(),
        update_frequency: m.update_frequency.as_str().to_owned(),
        areas: m.spatial.areas.clone(),
        licence: m.license.clone(),
        published_at: d.updated_at.0,
        usage: c.usage_recent,
        ckan_payload: crate::routes::ckan::package(&payload, &state.config.public_url).to_string(),
        payload: payload.to_string(),
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "search index update failed");
    AppError::new(ErrorCode::Internal)
}

/// After a change of the open list on this node: shows it in search at once. The follower
/// retries if this fails; the change itself is committed either way.
pub async fn refresh(state: &AppState) {
    if let Err(e) = catch_up(state).await {
        tracing::warn!(
            code = e.code.as_str(),
            "search index not updated after a change of the open list"
        );
    }
}

/// Applies every change the index has not seen. Returns how many entries it looked at.
pub async fn catch_up(state: &AppState) -> Result<usize, AppError> {
    let _one_at_a_time = state.index_lock.lock().await;
    let seen = catch_up_locked(state).await?;
    state
        .index_ready
        .store(true, std::sync::atomic::Ordering::Release);
    Ok(seen)
}

async fn catch_up_locked(state: &AppState) -> Result<usize, AppError> {
    let index = state.search.clone();
    let mut applied = index.applied_seq().map_err(internal)?;
    // An index ahead of the database belongs to another database (restored, replaced): rebuild.
    if applied > state.store.last_dataset_change().await? {
        tracing::warn!(
            applied,
            "search index is ahead of the database; rebuilding it"
        );
        let i = index.clone();
        tokio::task::spawn_blocking(move || i.clear())
            .await
            .map_err(internal)?
            .map_err(internal)?;
        applied = 0;
    }
    let mut seen = 0;
    let started = std::time::Instant::now();
    loop {
        let batch = state.store.datasets_changed_since(applied, BATCH).await?;
        let Some(last) = batch.last().map(|c| c.change_seq) else {
            break;
        };
        let mut orgs = std::collections::HashMap::new();
        let mut changes = Vec::with_capacity(batch.len());
        for c in &batch {
            if public(&c.dataset) {
                let org_id = c.dataset.org_id.to_string();
                if !orgs.contains_key(&org_id) {
                    orgs.insert(org_id.clone(), state.store.org(&org_id).await?);
                }
                changes.push(Change::Upsert(Box::new(search_doc(
                    state,
                    c,
                    &orgs[&org_id],
                ))));
            } else {
                changes.push(Change::Remove(c.dataset.id.to_string()));
            }
        }
        seen += batch.len();
        let i = index.clone();
        tokio::task::spawn_blocking(move || i.apply(&changes, last))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        applied = last;
    }
    // After a large catch-up (a rebuild), one segment answers searches faster than many.
    if seen >= MERGE_AFTER {
        let i = index.clone();
        tokio::task::spawn_blocking(move || i.merge_segments())
            .await
            .map_err(internal)?
            .map_err(internal)?;
    }
    if seen > 0 {
        tracing::info!(entries = seen, up_to = applied, elapsed = ?started.elapsed(), "search index caught up");
    }
    Ok(seen)
}

/// Follows changes made by other nodes for as long as the app runs.
pub fn spawn_follower(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = catch_up(&state).await {
                tracing::warn!(
                    code = e.code.as_str(),
                    "search index catch-up failed; will retry"
                );
            }
        }
    })
}
