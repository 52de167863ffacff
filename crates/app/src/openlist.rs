//! The open list's use cases: which entries are public, what an entry must satisfy to be saved
//! or published, creating and editing drafts.

use domain::policy::{Action, Resource};
use std::collections::BTreeSet;

use domain::ids::DatasetId;
use domain::openlist::checks::{Problem, PublishContext, publish_problems, reference_problems};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::vocab::DatasetStatus;
use store::datasets::{self, DatasetRecord};
use store::orgs::OrgRecord;

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};

/// Entries anyone may see: published (or static, or suspended with its notice), and not
/// non-open. Non-open entries stay in the list for providers, operator and regulator (A14).
pub fn public(d: &DatasetRecord) -> bool {
    d.facts().is_public()
}

/// Checks an entry before it is stored: sound references, a grading that fits the guide, an
/// open type the grading permits, links only to the provider's own catalogue items.
/// Returns the version of the guide it was checked against.
pub async fn check_for_save(
    app: &App,
    org: &OrgRecord,
    meta: &DatasetMeta,
    this: Option<&str>,
) -> Result<i64> {
    let vocab = app.store.vocabularies().await?;
    let mut related = BTreeSet::new();
    for r in &meta.relations {
        if Some(r.dataset.as_str()) != this && app.store.dataset_exists(&r.dataset).await? {
            related.insert(r.dataset.clone());
        }
    }
    let mut problems: Vec<FieldError> =
        reference_problems(meta, &vocab, &|id| related.contains(id))
            .into_iter()
            .map(Into::into)
            .collect();

    let (guide_version, guide) = app.store.current_guide().await?;
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
    let own_items = app.store.catalogue_ids(org.id).await?;
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
        Err(Error::invalid(problems))
    }
}

/// Stores a new draft entry of `org`, audited.
pub async fn create_draft(
    app: &App,
    caller: &Caller,
    org: &OrgRecord,
    meta: DatasetMeta,
) -> Result<DatasetRecord> {
    caller.authorize(Action::EditOpenList, Resource::Organization(org.id))?;
    let guide_version = check_for_save(app, org, &meta, None).await?;
    let now = app.clock.now();
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
        data: None,
    };
    let mut tx = app.store.begin_write().await?;
    datasets::insert(&mut tx, &d).await?;
    let mut ev = caller.event(now, "dataset.create", "dataset", d.id.to_string());
    ev.after = Some(serde_json::to_value(&d.meta).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(d)
}

/// Replaces a draft's metadata, audited. A published entry changes only through a ticket
/// (A11.1).
pub async fn update_draft(
    app: &App,
    caller: &Caller,
    d: DatasetRecord,
    org: &OrgRecord,
    meta: DatasetMeta,
    expected_version: Option<i64>,
) -> Result<DatasetRecord> {
    caller.authorize(Action::EditOpenList, Resource::Dataset(d.facts()))?;
    if !d.status.is_editable() {
        return Err(ErrorCode::NeedsTicket.into());
    }
    if expected_version.is_some_and(|v| v != d.row_version) {
        return Err(ErrorCode::EditConflict.into());
    }
    let guide_version = check_for_save(app, org, &meta, Some(&d.id.to_string())).await?;
    let now = app.clock.now();
    let before = serde_json::to_value(&d.meta).unwrap_or_default();
    let updated = DatasetRecord {
        meta,
        guide_version,
        updated_at: now,
        ..d
    };
    let mut tx = app.store.begin_write().await?;
    let row_version = datasets::update(&mut tx, &updated).await?;
    let updated = DatasetRecord {
        row_version,
        ..updated
    };
    let mut ev = caller.event(now, "dataset.update", "dataset", updated.id.to_string());
    ev.before = Some(before);
    ev.after = Some(serde_json::to_value(&updated.meta).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Every reason `meta` (of `d`'s provider) cannot be published yet.
pub async fn check_for_publish(
    app: &App,
    d: &DatasetRecord,
    meta: &DatasetMeta,
) -> Result<Vec<Problem>> {
    let vocab = app.store.vocabularies().await?;
    let (_, guide) = app.store.current_guide().await?;
    let segmenter = app.segmenter().await;
    let others = app.store.dataset_names(Some(&d.id.to_string())).await?;
    let known: BTreeSet<String> = others.iter().map(|(id, _)| id.clone()).collect();
    let items = app.store.catalogue_ids(d.org_id).await?;
    let exceptions = app.store.format_exceptions(&d.id.to_string()).await?;
    let cx = PublishContext {
        vocab: &vocab,
        guide: &guide,
        segmenter: &segmenter,
        others: &others,
        similarity_threshold: app.config.name_similarity_threshold,
        known_datasets: &|id| known.contains(id),
        catalogue_items: &|c| items.contains(c),
        format_exceptions: &exceptions,
    };
    Ok(publish_problems(meta, &cx))
}
