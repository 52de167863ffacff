//! What people read in place of codes: domain, provider, format and district names from the
//! vocabularies, and the names of the rules' closed vocabularies from the message catalogues.

use std::collections::HashMap;

use domain::openlist::vocab::area;
use search::FacetField;

use crate::error::AppResult;
use crate::i18n::{Lang, Messages};
use crate::state::AppState;

pub struct Labels<'a> {
    lang: Lang,
    messages: &'a Messages,
    /// Domain code → (Chinese, English).
    domains: HashMap<String, (String, String)>,
    /// Organization slug → (Chinese, English).
    orgs: HashMap<String, (String, String)>,
    /// Format code → display name.
    formats: HashMap<String, String>,
}

impl<'a> Labels<'a> {
    /// An entry's text in the page's language: the English one on English pages when the
    /// provider gave it, else the Chinese; with the language it is in, for the `lang`
    /// attribute.
    pub fn either(&self, zh: &str, en: &str) -> (String, &'static str) {
        if self.lang == Lang::En && !en.trim().is_empty() {
            (en.to_owned(), "en")
        } else {
            (zh.to_owned(), "zh-CN")
        }
    }

    pub async fn load(state: &'a AppState, lang: Lang) -> AppResult<Self> {
        let domains = state
            .store
            .domains()
            .await?
            .into_iter()
            .map(|d| (d.code, (d.name_zh, d.name_en)))
            .collect();
        let orgs = state
            .store
            .list_orgs()
            .await?
            .into_iter()
            .map(|o| (o.slug, (o.name_zh, o.name_en)))
            .collect();
        let formats = state
            .store
            .formats()
            .await?
            .into_iter()
            .map(|f| (f.code, f.name))
            .collect();
        Ok(Self {
            lang,
            messages: &state.messages,
            domains,
            orgs,
            formats,
        })
    }

    fn pick(&self, names: Option<&(String, String)>, code: &str) -> String {
        match (names, self.lang) {
            (Some((zh, _)), Lang::Zh) => zh.clone(),
            (Some((_, en)), Lang::En) => en.clone(),
            (None, _) => code.to_owned(),
        }
    }

    pub fn domain(&self, code: &str) -> String {
        self.pick(self.domains.get(code), code)
    }

    pub fn org(&self, slug: &str) -> String {
        self.pick(self.orgs.get(slug), slug)
    }

    pub fn format(&self, code: &str) -> String {
        self.formats
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_uppercase())
    }

    pub fn area(&self, code: &str) -> String {
        match (area(code), self.lang) {
            (Some((_, zh, _)), Lang::Zh) => zh.to_owned(),
            (Some((_, _, en)), Lang::En) => en.to_owned(),
            (None, _) => code.to_owned(),
        }
    }

    /// A value of a closed vocabulary, by its message key family: `open_type`, `frequency`,
    /// `condition`, `relation`, `field_type`, `status`.
    pub fn named(&self, family: &str, code: &str) -> String {
        let key = format!("{family}.{code}");
        let text = self.messages.get(self.lang, &key);
        if text == key {
            code.to_owned()
        } else {
            text.to_owned()
        }
    }

    pub fn facet_value(&self, field: FacetField, value: &str) -> String {
        match field {
            FacetField::Domain => self.domain(value),
            FacetField::Provider => self.org(value),
            FacetField::OpenType => self.named("open_type", value),
            FacetField::Format => self.format(value),
            FacetField::UpdateFrequency => self.named("frequency", value),
            FacetField::Area => self.area(value),
            FacetField::Tag | FacetField::Licence => value.to_owned(),
        }
    }

    pub fn messages(&self) -> &Messages {
        self.messages
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Display;
    use std::str::FromStr;

    use domain::articles::{ArticleKind, ArticleStatus};
    use domain::openlist::ticket::{ReturnReason, TicketKind, TicketState};
    use domain::openlist::vocab::*;
    use domain::roles::{AccountKind, OrgKind, OrgRole, PlatformRole};

    use crate::error::ErrorCode;
    use crate::i18n::{Lang, Messages};

    /// Every value of a closed set has one spelling: what serde writes and reads, what
    /// `Display` shows and `FromStr` parses, and the key of its label in both catalogues.
    fn one_spelling<T>(all: &[T], as_str: fn(&T) -> &'static str, family: Option<&str>)
    where
        T: Copy + PartialEq + std::fmt::Debug + Display + FromStr + serde::Serialize,
        T: serde::de::DeserializeOwned,
    {
        let m = Messages::embedded();
        for v in all {
            let code = as_str(v);
            assert_eq!(serde_json::to_value(v).unwrap(), code, "serde of {v:?}");
            assert_eq!(v.to_string(), code, "Display of {v:?}");
            assert!(code.parse::<T>().ok() == Some(*v), "FromStr of {code}");
            let read: T = serde_json::from_value(code.into()).unwrap();
            assert_eq!(read, *v, "serde reads {code}");
            if let Some(family) = family {
                let key = format!("{family}.{code}");
                for lang in [Lang::Zh, Lang::En] {
                    assert_ne!(m.get(lang, &key), key, "{key} in {lang:?}");
                }
            }
        }
        assert!(serde_json::from_value::<T>("no_such_code".into()).is_err());
    }

    #[test]
    fn every_code_has_one_spelling() {
        one_spelling(OpenType::ALL, |v| v.as_str(), Some("open_type"));
        one_spelling(UpdateFrequency::ALL, |v| v.as_str(), Some("frequency"));
        one_spelling(RelationKind::ALL, |v| v.as_str(), Some("relation"));
        one_spelling(ConditionKind::ALL, |v| v.as_str(), Some("condition"));
        one_spelling(EntrySource::ALL, |v| v.as_str(), Some("source"));
        one_spelling(DatasetStatus::ALL, |v| v.as_str(), Some("status"));
        one_spelling(DomainGroup::ALL, |v| v.as_str(), Some("domain_group"));
        one_spelling(FieldType::ALL, |v| v.as_str(), Some("field_type"));
        one_spelling(PlatformRole::ALL, |v| v.as_str(), Some("role"));
        one_spelling(OrgRole::ALL, |v| v.as_str(), Some("role"));
        one_spelling(AccountKind::ALL, |v| v.as_str(), Some("kind"));
        one_spelling(OrgKind::ALL, |v| v.as_str(), Some("org.kind"));
        one_spelling(ArticleKind::ALL, |v| v.as_str(), Some("article_kind"));
        one_spelling(ArticleStatus::ALL, |v| v.as_str(), None);
        one_spelling(TicketKind::ALL, |v| v.as_str(), Some("ticket_kind"));
        one_spelling(TicketState::ALL, |v| v.as_str(), Some("ticket_state"));
        one_spelling(ReturnReason::ALL, |v| v.as_str(), Some("return_reason"));
        one_spelling(ErrorCode::ALL, |v| v.as_str(), Some("error"));
        one_spelling(
            domain::jobs::JobState::ALL,
            |v| v.as_str(),
            Some("job_state"),
        );
    }

    #[test]
    fn a_field_type_is_spelled_the_same_in_the_api_and_the_labels() {
        // The defect that started this: serde wrote `date_time` where the code is `datetime`.
        assert_eq!(
            serde_json::to_value(FieldType::DateTime).unwrap(),
            "datetime"
        );
    }
}
