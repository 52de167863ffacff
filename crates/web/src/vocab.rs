//! What the operator maintains for everyone (A9.3, A9.1 (二), A13.1): the managed formats, the
//! glossary of abbreviations and the classification guide. Shared by `/api/v1` and the
//! operator's pages.

use domain::bounded;
use domain::openlist::classification::Guide;
use serde::Deserialize;
use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

/// A vocabulary code: lower-case letters, digits and underscores.
pub fn valid_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[derive(Debug, Default, Deserialize)]
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
    state: &AppState,
    ctx: &Ctx,
    code: String,
    input: FormatInput,
) -> AppResult<()> {
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
        return Err(AppError::invalid(errors));
    }
    let row = store::vocab::FormatRow {
        code,
        name: input.name.trim().to_owned(),
        media_type: input.media_type.trim().to_owned(),
        openness: input.openness,
        proprietary: i64::from(input.proprietary),
    };
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    store::vocab::upsert_format(&mut tx, &row).await?;
    let mut ev = ctx.event(now, "vocabulary.format", "format", row.code.clone());
    ev.after = Some(serde_json::to_value(&row).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
pub struct GlossaryInput {
    #[serde(default)]
    pub explanation_zh: String,
    #[serde(default)]
    pub explanation_en: String,
}

/// Explains an abbreviation once for the whole platform (A9.1 (二)).
pub async fn save_glossary(
    state: &AppState,
    ctx: &Ctx,
    term: String,
    input: GlossaryInput,
) -> AppResult<()> {
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
        return Err(AppError::invalid(errors));
    }
    let row = store::vocab::GlossaryRow {
        term,
        explanation_zh: input.explanation_zh.trim().to_owned(),
        explanation_en: input.explanation_en.trim().to_owned(),
    };
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    store::vocab::upsert_glossary(&mut tx, &row).await?;
    let mut ev = ctx.event(now, "vocabulary.glossary", "glossary", row.term.clone());
    ev.after = Some(serde_json::to_value(&row).unwrap_or_default());
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// A guide is a few pages of rules; anything larger is a mistake or an attack.
const MAX_GUIDE_BYTES: usize = 256 * 1024;

/// Saves a new version of the classification guide. It must parse, and its own examples must
/// agree with it. Returns the new version number.
pub async fn save_guide(
    state: &AppState,
    ctx: &Ctx,
    toml: &str,
    base_version: Option<i64>,
) -> AppResult<i64> {
    if toml.len() > MAX_GUIDE_BYTES {
        return Err(AppError::invalid(vec![FieldError {
            field: "toml".into(),
            code: "too_long",
            detail: Some(MAX_GUIDE_BYTES.to_string()),
        }]));
    }
    if let Err(e) = Guide::from_toml(toml) {
        return Err(AppError::invalid(vec![FieldError {
            field: "toml".into(),
            code: "invalid_guide",
            detail: Some(e.to_string()),
        }]));
    }
    let now = state.clock.now();
    let by = ctx.user()?.id.to_string();
    let mut tx = state.store.begin_write().await?;
    let version = store::guides::insert(&mut tx, toml, base_version, Some(&by), now).await?;
    let mut ev = ctx.event(
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
