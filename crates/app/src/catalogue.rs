//! A provider's public data catalogue (目录, A9.5) and its yearly review of the open list
//! (A10.1), as the API and the console pages share them.

use domain::policy::{Action, Resource};
use serde::Deserialize;
use serde_json::json;
use store::catalogue::{self, ImportItem};
use store::datasets::{self, DatasetRecord};
use store::orgs::OrgRecord;

use domain::bounded;
use domain::openlist::vocab::DatasetStatus;

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};

/// One catalogue item as imported.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ImportRow {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub source_system: String,
    /// The item's row version when it was exported: the import then refuses to overwrite a
    /// change made since. Absent (or an empty CSV cell) means "set as given".
    #[serde(default, deserialize_with = "blank_is_none")]
    pub row_version: Option<i64>,
}

/// An empty CSV cell reads as no value.
fn blank_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Cell {
        Number(i64),
        Text(String),
    }
    match Option::<Cell>::deserialize(d)? {
        None => Ok(None),
        Some(Cell::Number(n)) => Ok(Some(n)),
        Some(Cell::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Cell::Text(t)) => t.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

pub const MAX_IMPORT_ROWS: usize = 10_000;

/// Reads CSV with a header row (`code,name,description,source_system`), as spreadsheets export
/// it (a byte-order mark is allowed).
pub fn parse_csv(text: &str) -> Result<Vec<ImportRow>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize::<ImportRow>().enumerate() {
        match row {
            Ok(r) => rows.push(r),
            Err(_) => {
                return Err(Error::invalid(vec![FieldError::new(
                    format!("rows[{}]", i + 1),
                    "malformed_row",
                )]));
            }
        }
    }
    Ok(rows)
}

/// Adds or updates the organization's catalogue items; all or nothing, every bad row reported.
/// Returns how many were added and how many updated.
pub async fn import(
    app: &App,
    caller: &Caller,
    org: &OrgRecord,
    rows: Vec<ImportRow>,
) -> Result<(usize, usize)> {
    caller.authorize(Action::EditOpenList, Resource::Organization(org.id))?;
    let mut errors = Vec::new();
    if rows.is_empty() {
        errors.push(FieldError::new("items", "required"));
    }
    if rows.len() > MAX_IMPORT_ROWS {
        errors.push(FieldError {
            field: "items".into(),
            code: "too_many",
            detail: Some(MAX_IMPORT_ROWS.to_string()),
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, r) in rows.iter().enumerate() {
        let code_ok =
            !r.code.is_empty() && r.code.len() <= 64 && !r.code.chars().any(char::is_whitespace);
        if !code_ok {
            errors.push(FieldError::new(format!("items[{i}].code"), "invalid_code"));
        } else if !seen.insert(r.code.as_str()) {
            errors.push(FieldError {
                field: format!("items[{i}].code"),
                code: "duplicate_code",
                detail: Some(r.code.clone()),
            });
        }
        if r.name.trim().is_empty() {
            errors.push(FieldError::new(format!("items[{i}].name"), "invalid_name"));
        }
        for (part, text, limit) in [
            ("name", &r.name, bounded::NAME),
            ("description", &r.description, bounded::TEXT),
            ("source_system", &r.source_system, bounded::NAME),
        ] {
            errors.extend(FieldError::text(
                &format!("items[{i}].{part}"),
                text.trim(),
                limit,
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let items: Vec<ImportItem> = rows
        .into_iter()
        .map(|r| ImportItem {
            code: r.code,
            name: r.name.trim().to_owned(),
            description: r.description.trim().to_owned(),
            source_system: r.source_system.trim().to_owned(),
            row_version: r.row_version,
        })
        .collect();
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    let counts = catalogue::import(&mut tx, org.id, &items, now).await?;
    let mut ev = caller.event(now, "catalogue.import", "organization", org.id.to_string());
    ev.after = Some(json!({ "codes": items.iter().map(|i| &i.code).collect::<Vec<_>>() }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(counts)
}

/// Records that the provider reviewed an entry and keeps it as it is (A10.1); changes go
/// through tickets.
/// Records that a published entry's data was updated now (A9.4), audited.
pub async fn record_data_update(app: &App, caller: &Caller, d: &DatasetRecord) -> Result<()> {
    caller.authorize(Action::EditOpenList, Resource::Dataset(d.facts()))?;
    if d.status != DatasetStatus::Published {
        return Err(ErrorCode::WrongStatus.into());
    }
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    datasets::record_data_update(&mut tx, d.id, now).await?;
    let ev = caller.event(now, "dataset.data_update", "dataset", d.id.to_string());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn mark_reviewed(
    app: &App,
    caller: &Caller,
    d: &DatasetRecord,
    note: &str,
) -> Result<()> {
    caller.authorize(Action::EditOpenList, Resource::Dataset(d.facts()))?;
    if !d.status.is_listed() {
        return Err(ErrorCode::WrongStatus.into());
    }
    if let Some(e) = FieldError::text("note", note.trim(), bounded::TEXT) {
        return Err(Error::invalid(vec![e]));
    }
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    datasets::mark_reviewed(&mut tx, d.id, now).await?;
    let mut ev = caller.event(now, "dataset.review", "dataset", d.id.to_string());
    ev.after = Some(json!({ "note": note.trim() }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a catalogue item of `org`. An item that fields of entries link to is refused with
/// the ids of those entries.
pub async fn delete_item(
    app: &App,
    caller: &Caller,
    org: &OrgRecord,
    id: domain::ids::CatalogueItemId,
) -> Result<()> {
    caller.authorize(Action::EditOpenList, Resource::Organization(org.id))?;
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    if let Err(datasets) = catalogue::delete(&mut tx, org.id, id).await? {
        let mut err = Error::new(ErrorCode::CatalogueItemInUse);
        err.fields = datasets
            .into_iter()
            .map(|d| FieldError {
                field: "datasets".into(),
                code: "linked_by",
                detail: Some(d),
            })
            .collect();
        return Err(err);
    }
    tx.audit(caller.event(now, "catalogue.delete", "catalogue_item", id.to_string()))
        .await?;
    tx.commit().await?;
    Ok(())
}
