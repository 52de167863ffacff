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
            FacetField::Tag => value.to_owned(),
        }
    }

    pub fn messages(&self) -> &Messages {
        self.messages
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }
}
