//! What the operator maintains for everyone (A9.3, A9.1 (二), A13.1): the managed formats, the
//! glossary of abbreviations and the classification guide. Shared by `/api/v1` and the
//! operator's pages.

use domain::bounded;
use domain::openlist::classification::Guide;
use domain::policy::{Action, Resource};
use serde::Deserialize;
use serde_json::json;

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, FieldError, Result};

/// A vocabulary code: lower-case letters, digits and underscores.
pub fn valid_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormatInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub media_type: String,
    #[serde(default)]
    pub openness: i64,
    #[serde(default)]
    pub proprietary: bool,
}

/// Adds or changes a format of the managed list (A9.3).
pub async fn save_format(
    app: &App,
    caller: &Caller,
    code: String,
    input: FormatInput,
) -> Result<()> {
    caller.authorize(Action::ManageVocabularies, Resource::Platform)?;
    let mut errors = Vec::new();
    if !valid_code(&code) {
        errors.push(FieldError::new("code", "invalid_code"));
    }
    if input.name.trim().is_empty() {
        errors.push(FieldError::new("name", "required"));
    }
    errors.extend(FieldError::text("name", input.name.trim(), bounded::LABEL));
    errors.extend(FieldError::text(
        "media_type",
        input.media_type.trim(),
        bounded::LABEL,
    ));
    if !(0..=5).contains(&input.openness) {
        errors.push(FieldError::new("openness", "invalid_openness"));
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let row = store::vocab::FormatRow {
        code,
        name: input.name.trim().to_owned(),
        media_type: input.media_type.trim().to_owned(),
        openness: input.openness,
        proprietary: i64::from(input.proprietary),
    };
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    store::vocab::upsert_format(&mut tx, &row).await?;
    let mut ev = caller.event(now, "vocabulary.format", "format", row.code.clone());
    ev.after = Some(serde_json::to_value(&row).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlossaryInput {
    #[serde(default)]
    pub explanation_zh: String,
    #[serde(default)]
    pub explanation_en: String,
}

/// Explains an abbreviation once for the whole platform (A9.1 (二)).
pub async fn save_glossary(
    app: &App,
    caller: &Caller,
    term: String,
    input: GlossaryInput,
) -> Result<()> {
    caller.authorize(Action::ManageVocabularies, Resource::Platform)?;
    let mut errors = Vec::new();
    let term_ok = (1..=32).contains(&term.len())
        && term
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.');
    if !term_ok {
        errors.push(FieldError::new("term", "invalid_term"));
    }
    if input.explanation_zh.trim().is_empty() {
        errors.push(FieldError::new("explanation_zh", "required"));
    }
    errors.extend(FieldError::text(
        "explanation_zh",
        input.explanation_zh.trim(),
        bounded::TEXT,
    ));
    errors.extend(FieldError::text(
        "explanation_en",
        input.explanation_en.trim(),
        bounded::TEXT,
    ));
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let row = store::vocab::GlossaryRow {
        term,
        explanation_zh: input.explanation_zh.trim().to_owned(),
        explanation_en: input.explanation_en.trim().to_owned(),
    };
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    store::vocab::upsert_glossary(&mut tx, &row).await?;
    let mut ev = caller.event(now, "vocabulary.glossary", "glossary", row.term.clone());
    ev.after = Some(serde_json::to_value(&row).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// A guide is a few pages of rules; anything larger is a mistake or an attack.
const MAX_GUIDE_BYTES: usize = 256 * 1024;

/// Saves a new version of the classification guide. It must parse, and its own examples must
/// agree with it. Returns the new version number.
/// The guide `toml` describes, if it is one that may be saved: within its size, parsed, its
/// examples agreeing with its rule. Saving and previewing ask the same.
pub fn check_guide(toml: &str) -> Result<Guide> {
    if toml.len() > MAX_GUIDE_BYTES {
        return Err(Error::invalid(vec![FieldError {
            field: "toml".into(),
            code: "too_long",
            detail: Some(MAX_GUIDE_BYTES.to_string()),
        }]));
    }
    Guide::from_toml(toml).map_err(|e| {
        Error::invalid(vec![FieldError {
            field: "toml".into(),
            code: "invalid_guide",
            detail: Some(e.to_string()),
        }])
    })
}

pub async fn save_guide(
    app: &App,
    caller: &Caller,
    toml: &str,
    base_version: Option<i64>,
) -> Result<i64> {
    caller.authorize(Action::EditGuide, Resource::Platform)?;
    check_guide(toml)?;
    let now = app.clock.now();
    let by = caller.user()?.id.to_string();
    let mut tx = app.store.begin_write().await?;
    let version = store::guides::insert(&mut tx, toml, base_version, Some(&by), now).await?;
    let mut ev = caller.event(
        now,
        "guide.update",
        "classification_guide",
        version.to_string(),
    );
    ev.after = Some(json!({ "toml": toml }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(version)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainInput {
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub group: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionInput {
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub reason: String,
}

/// Adds or renames a domain of the managed list, in one of the three groups of A6.
pub async fn save_domain(
    app: &App,
    caller: &Caller,
    code: String,
    input: DomainInput,
) -> Result<()> {
    caller.authorize(Action::ManageVocabularies, Resource::Platform)?;
    let mut errors = Vec::new();
    if !valid_code(&code) {
        errors.push(FieldError::new("code", "invalid_code"));
    }
    if input.name_zh.trim().is_empty() {
        errors.push(FieldError::new("name_zh", "required"));
    }
    errors.extend(FieldError::text(
        "name_zh",
        input.name_zh.trim(),
        bounded::LABEL,
    ));
    errors.extend(FieldError::text(
        "name_en",
        input.name_en.trim(),
        bounded::LABEL,
    ));
    if input
        .group
        .parse::<domain::openlist::vocab::DomainGroup>()
        .is_err()
    {
        errors.push(FieldError::new("group", "invalid_kind"));
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let row = store::vocab::DomainRow {
        code,
        name_zh: input.name_zh.trim().to_owned(),
        name_en: input.name_en.trim().to_owned(),
        domain_group: input.group,
    };
    let now = app.clock.now();
    let mut tx = app.store.begin_write().await?;
    store::vocab::upsert_domain(&mut tx, &row).await?;
    let mut ev = caller.event(now, "vocabulary.domain", "domain", row.code.clone());
    ev.after = Some(serde_json::to_value(&row).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// The operator allows a proprietary format for one entry, with a reason (A9.3).
pub async fn grant_format_exception(
    app: &App,
    caller: &Caller,
    d: &store::datasets::DatasetRecord,
    input: ExceptionInput,
) -> Result<()> {
    caller.authorize(Action::ManageVocabularies, Resource::Dataset(d.facts()))?;
    let formats = app.store.vocabularies().await?.formats;
    let mut errors = Vec::new();
    match formats.get(&input.format) {
        None => errors.push(FieldError::new("format", "unknown_format")),
        Some(rule) if !rule.proprietary => {
            errors.push(FieldError::new("format", "not_proprietary"))
        }
        Some(_) => {}
    }
    if input.reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "required"));
    }
    errors.extend(FieldError::text(
        "reason",
        input.reason.trim(),
        bounded::TEXT,
    ));
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let now = app.clock.now();
    let by = caller.user()?.id.to_string();
    let mut tx = app.store.begin_write().await?;
    store::vocab::grant_format_exception(
        &mut tx,
        &d.id.to_string(),
        &input.format,
        input.reason.trim(),
        &by,
        now,
    )
    .await?;
    let mut ev = caller.event(now, "dataset.format_exception", "dataset", d.id.to_string());
    ev.after = Some(json!({ "format": input.format, "reason": input.reason.trim() }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}
