//! Managed vocabularies: domains, formats, the glossary of abbreviations.

use domain::openlist::checks::{FormatRule, Vocabularies};

use crate::{Result, Store, WriteTx};

#[derive(
    Debug, Clone, serde::Serialize, serde::Deserialize, sqlx::FromRow, schemars::JsonSchema,
)]
pub struct DomainRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub domain_group: String,
}

#[derive(
    Debug, Clone, serde::Serialize, serde::Deserialize, sqlx::FromRow, schemars::JsonSchema,
)]
pub struct FormatRow {
    pub code: String,
    pub name: String,
    pub media_type: String,
    pub openness: i64,
    pub proprietary: i64,
}

#[derive(
    Debug, Clone, serde::Serialize, serde::Deserialize, sqlx::FromRow, schemars::JsonSchema,
)]
pub struct GlossaryRow {
    pub term: String,
    pub explanation_zh: String,
    pub explanation_en: String,
}

impl Store {
    pub async fn domains(&self) -> Result<Vec<DomainRow>> {
        Ok(sqlx::query_as(
            "SELECT code, name_zh, name_en, domain_group FROM domains ORDER BY position, code",
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn formats(&self) -> Result<Vec<FormatRow>> {
        Ok(sqlx::query_as("SELECT code, name, media_type, openness, proprietary FROM formats ORDER BY openness DESC, code")
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn glossary(&self) -> Result<Vec<GlossaryRow>> {
        Ok(sqlx::query_as(
            "SELECT term, explanation_zh, explanation_en FROM glossary ORDER BY term",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// The vocabularies in the shape the open-list checks use.
    pub async fn vocabularies(&self) -> Result<Vocabularies> {
        Ok(Vocabularies {
            domains: self.domains().await?.into_iter().map(|d| d.code).collect(),
            formats: self
                .formats()
                .await?
                .into_iter()
                .map(|f| {
                    (
                        f.code,
                        FormatRule {
                            proprietary: f.proprietary != 0,
                        },
                    )
                })
                .collect(),
            glossary: self.glossary().await?.into_iter().map(|g| g.term).collect(),
        })
    }
}

pub async fn upsert_format(tx: &mut WriteTx, f: &FormatRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO formats (code, name, media_type, openness, proprietary) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, media_type = excluded.media_type, \
         openness = excluded.openness, proprietary = excluded.proprietary",
    )
    .bind(&f.code)
    .bind(&f.name)
    .bind(&f.media_type)
    .bind(f.openness)
    .bind(f.proprietary)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn upsert_glossary(tx: &mut WriteTx, g: &GlossaryRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO glossary (term, explanation_zh, explanation_en) VALUES ($1, $2, $3) \
         ON CONFLICT (term) DO UPDATE SET explanation_zh = excluded.explanation_zh, explanation_en = excluded.explanation_en",
    )
    .bind(&g.term)
    .bind(&g.explanation_zh)
    .bind(&g.explanation_en)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn upsert_domain(tx: &mut WriteTx, d: &DomainRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO domains (code, name_zh, name_en, domain_group, position) \
         VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(position), 0) + 1 FROM domains)) \
         ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, \
         domain_group = excluded.domain_group",
    )
    .bind(&d.code)
    .bind(&d.name_zh)
    .bind(&d.name_en)
    .bind(&d.domain_group)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Allows a proprietary `format` for one entry (A9.3).
pub async fn grant_format_exception(
    tx: &mut WriteTx,
    dataset: &str,
    format: &str,
    reason: &str,
    by: &str,
    at: domain::clock::Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO format_exceptions (dataset_id, format, reason, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (dataset_id, format) DO UPDATE SET reason = excluded.reason, granted_by = excluded.granted_by, \
         granted_at = excluded.granted_at",
    )
    .bind(dataset)
    .bind(format)
    .bind(reason)
    .bind(by)
    .bind(at.0)
    .execute(tx.conn())
    .await?;
    Ok(())
}

impl Store {
    /// Formats the operator allows for this entry despite being proprietary.
    pub async fn format_exceptions(
        &self,
        dataset: &str,
    ) -> Result<std::collections::BTreeSet<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT format FROM format_exceptions WHERE dataset_id = $1")
                .bind(dataset)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(f,)| f).collect())
    }
}
