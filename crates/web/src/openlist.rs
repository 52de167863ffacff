//! The open list's rules as the web layer applies them: who sees which entry, what an entry
//! must satisfy to be saved or published, and how an entry is shown.

use std::collections::BTreeSet;

use domain::ids::DatasetId;
use domain::openlist::checks::{Problem, PublishContext, publish_problems, reference_problems};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::vocab::{DatasetStatus, OpenType};
use domain::policy::{Action, Resource};
use serde_json::{Value, json};
use store::datasets::{self, DatasetRecord};
use store::orgs::OrgRecord;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::state::AppState;

/// Entries anyone may see: published (or static, or suspended with its notice), and not
/// non-open. Non-open entries stay in the list for providers, operator and regulator (A14).
pub fn public(d: &DatasetRecord) -> bool {
    matches!(
        d.status,
        DatasetStatus::Published | DatasetStatus::Static | DatasetStatus::Suspended
    ) && d.meta.open_type != OpenType::NotOpen
}

pub fn can_see(ctx: &Ctx, d: &DatasetRecord) -> bool {
    public(d)
        || ctx
            .authorize(Action::ViewOrgInternal, Resource::Organization(d.org_id))
            .is_ok()
}

/// Checks an entry before it is stored: sound references, a grading that fits the guide, an
/// open type the grading permits, links only to the provider's own catalogue items.
/// Returns the version of the guide it was checked against.
pub async fn check_for_save(
    state: &AppState,
    org: &OrgRecord,
    meta: &DatasetMeta,
    this: Option<&str>,
) -> AppResult<i64> {
    let vocab = state.store.vocabularies().await?;
    let mut related = BTreeSet::new();
    for r in &meta.relations {
        if Some(r.dataset.as_str()) != this && state.store.dataset_exists(&r.dataset).await? {
            related.insert(r.dataset.clone());
        }
    }
    let mut problems: Vec<FieldError> =
        reference_problems(meta, &vocab, &|id| related.contains(id))
            .into_iter()
            .map(Into::into)
            .collect();

    let (guide_version, guide) = state.store.current_guide().await?;
    let grading_errors = guide.check_grading(&meta.grading);
    let complete = !meta.grading.is_empty() && grading_errors.is_empty();
    for e in grading_errors {
        // A draft may leave dimensions for later; what it states must exist.
        if !matches!(
            e,
            domain::openlist::classification::GradingError::MissingDimension { .. }
        ) {
            problems.push(FieldError {
                field: "grading".into(),
                code: "invalid_grading",
                detail: Some(e.to_string()),
            });
        }
    }
    if complete
        && let Ok(permitted) = guide.permitted_open_type(&meta.grading)
        && permitted != meta.open_type
    {
        problems.push(FieldError {
            field: "open_type".into(),
            code: "open_type_not_permitted",
            detail: Some(permitted.as_str().to_owned()),
        });
    }
    let own_items = state.store.catalogue_ids(org.id).await?;
    for (i, item) in meta.data_items.iter().enumerate() {
        if let Some(c) = &item.catalogue_item
            && !own_items.contains(c)
        {
            problems.push(FieldError {
                field: format!("data_items[{i}].catalogue_item"),
                code: "unknown_catalogue_item",
                detail: Some(c.clone()),
            });
        }
    }
    if problems.is_empty() {
        Ok(guide_version)
    } else {
        Err(AppError::invalid(problems))
    }
}

/// Stores a new draft entry of `org`, audited.
pub async fn create_draft(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    meta: DatasetMeta,
) -> AppResult<DatasetRecord> {
    let guide_version = check_for_save(state, org, &meta, None).await?;
    let now = state.clock.now();
    let d = DatasetRecord {
        id: DatasetId::new(),
        org_id: org.id,
        status: DatasetStatus::Draft,
        meta,
        guide_version,
        published_version: None,
        created_at: now,
        updated_at: now,
        last_reviewed_at: None,
        row_version: 1,
    };
    let mut tx = state.store.begin_write().await?;
    datasets::insert(&mut tx, &d).await?;
    let mut ev = ctx.event(now, "dataset.create", "dataset", d.id.to_string());
    ev.after = Some(serde_json::to_value(&d.meta).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(d)
}

/// Replaces a draft's metadata, audited. A published entry changes only through a ticket
/// (A11.1).
pub async fn update_draft(
    state: &AppState,
    ctx: &Ctx,
    d: DatasetRecord,
    org: &OrgRecord,
    meta: DatasetMeta,
    expected_version: Option<i64>,
) -> AppResult<DatasetRecord> {
    if d.status != DatasetStatus::Draft {
        return Err(ErrorCode::NeedsTicket.into());
    }
    if expected_version.is_some_and(|v| v != d.row_version) {
        return Err(ErrorCode::EditConflict.into());
    }
    let guide_version = check_for_save(state, org, &meta, Some(&d.id.to_string())).await?;
    let now = state.clock.now();
    let before = serde_json::to_value(&d.meta).unwrap_or_default();
    let updated = DatasetRecord {
        meta,
        guide_version,
        updated_at: now,
        ..d
    };
    let mut tx = state.store.begin_write().await?;
    let row_version = datasets::update(&mut tx, &updated).await?;
    let updated = DatasetRecord {
        row_version,
        ..updated
    };
    let mut ev = ctx.event(now, "dataset.update", "dataset", updated.id.to_string());
    ev.before = Some(before);
    ev.after = Some(serde_json::to_value(&updated.meta).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Every reason `meta` (of `d`'s provider) cannot be published yet.
pub async fn check_for_publish(
    state: &AppState,
    d: &DatasetRecord,
    meta: &DatasetMeta,
) -> AppResult<Vec<Problem>> {
    let vocab = state.store.vocabularies().await?;
    let (_, guide) = state.store.current_guide().await?;
    let segmenter = state.segmenter().await;
    let others = state.store.dataset_names(Some(&d.id.to_string())).await?;
    let known: BTreeSet<String> = others.iter().map(|(id, _)| id.clone()).collect();
    let items = state.store.catalogue_ids(d.org_id).await?;
    let exceptions = state.store.format_exceptions(&d.id.to_string()).await?;
    let cx = PublishContext {
        vocab: &vocab,
        guide: &guide,
        segmenter: &segmenter,
        others: &others,
        similarity_threshold: state.config.name_similarity_threshold,
        known_datasets: &|id| known.contains(id),
        catalogue_items: &|c| items.contains(c),
        format_exceptions: &exceptions,
    };
    Ok(publish_problems(meta, &cx))
}

/// A citation for outcomes built on the entry (A29.3), after GB/T 7714-2015 for datasets.
pub fn citation(state: &AppState, d: &DatasetRecord, org: &OrgRecord) -> String {
    let year = d.created_at.to_cst().format("%Y");
    format!(
        "{}. {}[DS]. 上海: 上海市公共数据开放平台, {}. {}/datasets/{}",
        org.name_zh,
        d.meta.name,
        year,
        state.config.public_url.trim_end_matches('/'),
        d.id
    )
}

/// An entry as the public reads it: its metadata without the fields kept internal.
pub fn public_dataset_json(state: &AppState, d: &DatasetRecord, org: &OrgRecord) -> Value {
    let mut v = dataset_json(state, d, org);
    v["metadata"] = d.meta.public_json();
    v
}

/// An entry as `ctx` may read it: whole for its provider's members and the platform's staff
/// who see providers' internals, the public view for everyone else.
pub fn dataset_json_for(ctx: &Ctx, state: &AppState, d: &DatasetRecord, org: &OrgRecord) -> Value {
    if sees_internals(ctx, d) {
        dataset_json(state, d, org)
    } else {
        public_dataset_json(state, d, org)
    }
}

/// Whether `ctx` may see what of `d` is internal to its provider.
pub fn sees_internals(ctx: &Ctx, d: &DatasetRecord) -> bool {
    ctx.authorize(Action::ViewOrgInternal, Resource::Organization(d.org_id))
        .is_ok()
}

/// An entry whole, internal fields included: for its provider and the platform's staff.
pub fn dataset_json(state: &AppState, d: &DatasetRecord, org: &OrgRecord) -> Value {
    json!({
        "id": d.id,
        "status": d.status,
        "version": d.published_version,
        "provider": { "id": org.id, "slug": org.slug, "name_zh": org.name_zh, "name_en": org.name_en },
        "metadata": d.meta,
        "guide_version": d.guide_version,
        "citation": citation(state, d, org),
        "created_at": d.created_at.to_rfc3339(),
        "updated_at": d.updated_at.to_rfc3339(),
        "last_reviewed_at": d.last_reviewed_at.map(|t| t.to_rfc3339()),
    })
}
