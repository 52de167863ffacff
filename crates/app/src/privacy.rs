//! The privacy guard's use cases (A10.3, A12.1, A14.1): the provider's de-identification plan
//! for an entry, the operator's exceptions, and what an ingestion applies. Unconditional data
//! is published only when every kind of personal information the scan finds in it is dealt
//! with — by a rule of the plan or by an exception an operator granted with a reason.

use base64::Engine;
use data::privacy::{PiReport, PrivacyOptions};
use domain::openlist::vocab::OpenType;
use domain::policy::{Action, Resource};
use domain::privacy::{DeidRule, PiKind, PrivacyPlan, plan_problems};
use serde_json::json;
use store::datasets::DatasetRecord;
use store::privacy::ExceptionRecord;

use crate::{App, Caller, Error, ErrorCode, FieldError, Result};

/// The privacy guard's bars.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The smallest group of rows sharing their quasi-identifiers that unconditional data may
    /// have (k-anonymity).
    pub min_k: u64,
    /// What a sample may differ from the whole by (A22.1).
    pub fidelity: data::privacy::sample::Fidelity,
    /// The fewest records a group answered in a sandbox holds (A21.2).
    pub sandbox_threshold: u64,
    /// The privacy budget one noisy sandbox query spends unless it asks for another.
    pub sandbox_epsilon: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_k: 5,
            fidelity: Default::default(),
            sandbox_threshold: 10,
            sandbox_epsilon: 0.1,
        }
    }
}

/// What assessing the risk of one version may take.
const RISK_LIMITS: data::sql::Limits = data::sql::Limits {
    time: std::time::Duration::from_secs(300),
    memory_bytes: 512 << 20,
    rows: 1_000,
};

/// The re-identification risk of the version written to `parquet`, when the plan marks
/// quasi-identifiers.
pub async fn assess(
    app: &App,
    options: &PrivacyOptions,
    parquet: &std::path::Path,
) -> std::result::Result<Option<data::privacy::risk::RiskReport>, data::sql::SqlError> {
    if options.plan.quasi_identifiers.is_empty() {
        return Ok(None);
    }
    data::privacy::risk::assess(
        parquet,
        &options.plan.quasi_identifiers,
        options.plan.sensitive.as_deref(),
        app.config.data.privacy.min_k,
        RISK_LIMITS,
    )
    .await
    .map(Some)
}

/// An entry's privacy as its provider and the operator see it.
#[derive(Debug, Clone)]
pub struct PrivacyView {
    pub plan: PrivacyPlan,
    /// 0 while the entry has no plan; an edit names the version it was made from.
    pub row_version: i64,
    pub exceptions: Vec<ExceptionRecord>,
    /// The scan of the newest upload that was read, with that upload's id.
    pub scan: Option<(String, PiReport)>,
    /// The name of the file that upload was.
    pub scanned_file: Option<String>,
    /// The re-identification risk of the newest upload, when the plan marks quasi-identifiers.
    pub risk: Option<data::privacy::risk::RiskReport>,
}

/// The plan kept for an entry (an empty one when it has none), with its row version.
pub async fn plan_of(app: &App, dataset: &DatasetRecord) -> Result<(PrivacyPlan, i64)> {
    Ok(match app.store.privacy_plan(dataset.id).await? {
        Some(r) => (
            serde_json::from_str(&r.plan)
                .map_err(|e| store::StoreError::Corrupt(format!("privacy plan: {e}")))?,
            r.row_version,
        ),
        None => (PrivacyPlan::default(), 0),
    })
}

pub async fn view(app: &App, caller: &Caller, dataset: &DatasetRecord) -> Result<PrivacyView> {
    caller.authorize(Action::ViewOrgInternal, Resource::Dataset(dataset.facts()))?;
    let (plan, row_version) = plan_of(app, dataset).await?;
    let exceptions = app.store.privacy_exceptions(dataset.id).await?;
    // The newest uploads' reports, read once: the scan of the newest that has one, and the
    // re-identification risk of the newest of all.
    let reports: Vec<(String, String, Option<data::ingest::QualityReport>)> = app
        .store
        .data_versions_of(dataset.id, 20)
        .await?
        .into_iter()
        .map(|v| {
            let report = v
                .report
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok());
            (v.id, v.source_name, report)
        })
        .collect();
    let risk = reports
        .first()
        .and_then(|(_, _, r)| r.as_ref())
        .and_then(|r| r.risk.clone());
    let mut scanned_file = None;
    let scan = reports.into_iter().find_map(|(id, file, r)| {
        let personal = r?.personal;
        scanned_file = Some(file);
        Some((id, personal))
    });
    Ok(PrivacyView {
        plan,
        row_version,
        exceptions,
        scan,
        scanned_file,
        risk,
    })
}

/// Saves the provider's plan, made from version `base` of the one kept. The first rule that
/// makes pseudonyms gives the entry its secret, in the same transaction.
pub async fn save(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    plan: &PrivacyPlan,
    base: i64,
) -> Result<i64> {
    caller.authorize(Action::PublishData, Resource::Dataset(dataset.facts()))?;
    let user = caller.user()?.id.to_string();
    let problems = plan_problems(plan, &dataset.meta.data_items);
    if !problems.is_empty() {
        return Err(Error::invalid(
            problems
                .into_iter()
                .map(|(field, code)| FieldError::new(field, code))
                .collect(),
        ));
    }
    let (before, _) = plan_of(app, dataset).await?;
    let now = app.clock.now();
    let text = serde_json::to_string(plan).expect("a plan serializes");
    let mut tx = app.store.begin_write().await?;
    let version = store::privacy::save_plan(&mut tx, dataset.id, &text, base, &user, now).await?;
    if plan.rules.values().any(|r| *r == DeidRule::Pseudonym) {
        store::privacy::keep_secret(&mut tx, dataset.id, &crate::secrets::random_secret(), now)
            .await?;
    }
    let mut ev = caller.event(now, "privacy_plan.save", "dataset", dataset.id.to_string());
    ev.before = Some(serde_json::to_value(&before).expect("a plan serializes"));
    ev.after = Some(serde_json::to_value(plan).expect("a plan serializes"));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(version)
}

/// The operator lets `kind` be opened in `item` of the entry, for `reason`.
pub async fn grant_exception(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    item: &str,
    kind: Option<PiKind>,
    reason: &str,
) -> Result<ExceptionRecord> {
    caller.authorize(
        Action::GrantPrivacyException,
        Resource::Dataset(dataset.facts()),
    )?;
    let user = caller.user()?.id.to_string();
    let reason = reason.trim();
    let mut errors: Vec<FieldError> = FieldError::text("reason", reason, domain::bounded::TEXT)
        .into_iter()
        .collect();
    if reason.is_empty() {
        errors.push(FieldError::new("reason", "required"));
    }
    if !dataset.meta.data_items.iter().any(|d| d.name == item) {
        errors.push(FieldError::new("item", "unknown_item"));
    }
    if kind.is_none() {
        errors.push(FieldError::new("kind", "invalid_choice"));
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return Err(Error::invalid(errors));
    };
    let now = app.clock.now();
    let record = ExceptionRecord {
        id: uuid::Uuid::now_v7().to_string(),
        dataset_id: dataset.id.to_string(),
        item: item.to_owned(),
        kind: kind.as_str().to_owned(),
        reason: reason.to_owned(),
        granted_by: user,
        granted_at: now.0,
    };
    let mut tx = app.store.begin_write().await?;
    store::privacy::insert_exception(&mut tx, &record).await?;
    let mut ev = caller.event(
        now,
        "privacy_exception.grant",
        "dataset",
        dataset.id.to_string(),
    );
    ev.after = Some(json!({
        "exception": record.id, "item": item, "kind": kind.as_str(), "reason": reason,
    }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(record)
}

/// The operator takes an exception back: the next upload is held to the rules again.
pub async fn withdraw_exception(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    id: &str,
) -> Result<()> {
    caller.authorize(
        Action::GrantPrivacyException,
        Resource::Dataset(dataset.facts()),
    )?;
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    if !store::privacy::delete_exception(&mut tx, dataset.id, id).await? {
        return Err(ErrorCode::NotFound.into());
    }
    let mut ev = caller.event(
        now,
        "privacy_exception.withdraw",
        "dataset",
        dataset.id.to_string(),
    );
    ev.before = Some(json!({ "exception": id }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// The key of the entry's pseudonyms, once it has one.
async fn secret_of(app: &App, dataset: &DatasetRecord) -> Result<Option<Vec<u8>>> {
    Ok(app.store.pseudonym_secret(dataset.id).await?.map(|s| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .unwrap_or_else(|_| s.into_bytes())
    }))
}

/// Rows the rule editor previews.
pub const PREVIEW_ROWS: usize = 20;

/// The newest upload's first rows as `plan` would open them, for the rule editor.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The upload previewed.
    pub source_name: String,
    pub rows: Vec<Vec<data::privacy::deid::Previewed>>,
}

/// Previews `plan` on the first [`PREVIEW_ROWS`] rows of the entry's newest upload; `None`
/// when it has none.
pub async fn preview(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    plan: &PrivacyPlan,
) -> Result<Option<Preview>> {
    caller.authorize(Action::PublishData, Resource::Dataset(dataset.facts()))?;
    let Some(v) = app
        .store
        .data_versions_of(dataset.id, 1)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let format = crate::data_versions::SourceFormat::from_name(&v.source_name)?;
    std::fs::create_dir_all(&app.config.data.scratch_dir)
        .map_err(|e| store::StoreError::Io(e.to_string()))?;
    let dir = tempfile::tempdir_in(&app.config.data.scratch_dir)
        .map_err(|e| store::StoreError::Io(e.to_string()))?;
    let source = crate::data_versions::raw_path(app, &v.source_sha256, &dir.path().join("source"))
        .await
        .map_err(store::StoreError::from)?;
    let items = dataset.meta.data_items.clone();
    // Pseudonyms under the entry's own secret, or, before it has one, a passing one.
    let secret = match secret_of(app, dataset).await? {
        Some(s) => s,
        None => crate::secrets::random_secret().into_bytes(),
    };
    let (declared, plan) = (v.declared_encoding.clone(), plan.clone());
    let rows = tokio::task::spawn_blocking(move || {
        let (header, records) = crate::data_versions::first_rows(
            format,
            &source,
            declared.as_deref(),
            &items,
            PREVIEW_ROWS,
        )
        .ok()?;
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        Some(data::privacy::deid::preview(
            &header, &records, &items, &plan, &secret,
        ))
    })
    .await
    .map_err(|_| ErrorCode::Internal)?;
    Ok(rows.map(|rows| Preview {
        source_name: v.source_name,
        rows,
    }))
}

/// What an ingestion of `dataset`'s data applies: its plan, its pseudonym secret, the
/// exceptions, and whether unhandled personal information refuses the version — for data
/// to be opened without conditions.
pub async fn options(app: &App, dataset: &DatasetRecord) -> Result<PrivacyOptions> {
    let (plan, _) = plan_of(app, dataset).await?;
    let secret = secret_of(app, dataset).await?.unwrap_or_default();
    let exceptions = app
        .store
        .privacy_exceptions(dataset.id)
        .await?
        .into_iter()
        .filter_map(|e| Some((e.item, e.kind.parse().ok()?)))
        .collect();
    Ok(PrivacyOptions {
        plan,
        secret,
        exceptions,
        block: dataset.meta.open_type == OpenType::Unconditional,
    })
}
