//! Managed vocabularies: domains, formats, the glossary of abbreviations.

use domain::openlist::checks::{FormatRule, Vocabularies};

use crate::{Result, Store};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct DomainRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub domain_group: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct FormatRow {
    pub code: String,
    pub name: String,
    pub media_type: String,
    pub openness: i64,
    pub proprietary: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
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
