//! Message catalogues (zh-CN first, English second) and the choice of language per request.
//! See docs/decisions/0003-message-catalogues.md for why this is a key→string table.

use std::collections::HashMap;

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Lang {
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

pub const LANG_COOKIE: &str = "kf_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The visitor's choice (a cookie set by the language switch), else the best match of
    /// `Accept-Language` by quality, else Chinese.
    pub fn negotiate(headers: &HeaderMap, cookie_choice: Option<&str>) -> Lang {
        if let Some(lang) = cookie_choice.and_then(Lang::parse) {
            return lang;
        }
        let Some(accept) = headers.get(axum::http::header::ACCEPT_LANGUAGE) else {
            return Lang::Zh;
        };
        let accept = accept.to_str().unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Zh)
    }
}

#[derive(Debug)]
pub struct Messages {
    zh: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl Messages {
    /// The catalogues compiled into the binary.
    pub fn embedded() -> Self {
        let load = |src: &str, name: &str| -> HashMap<String, String> {
            toml::from_str(src)
                .unwrap_or_else(|e| panic!("message catalogue {name} is invalid: {e}"))
        };
        Self {
            zh: load(include_str!("../locales/zh-CN.toml"), "zh-CN"),
            en: load(include_str!("../locales/en.toml"), "en"),
        }
    }

    /// The message `key` in `lang`. A missing key shows itself, so it is seen and fixed.
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let table = match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        };
        table.get(key).map(String::as_str).unwrap_or(key)
    }

    /// `get` with `{name}` placeholders filled in.
    pub fn format(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let mut text = self.get(lang, key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The message of a field's problem `code`; a `{max}` in it is filled from the problem's
    /// detail (the bound a text or list went past).
    pub fn field(&self, lang: Lang, code: &str, detail: Option<&str>) -> String {
        self.format(
            lang,
            &format!("field.{code}"),
            &[("max", detail.unwrap_or_default().to_owned())],
        )
    }

    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        let table = match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        };
        let mut keys: Vec<&str> = table.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_have_the_same_keys() {
        let m = Messages::embedded();
        assert_eq!(m.keys(Lang::Zh), m.keys(Lang::En));
    }

    #[test]
    fn negotiation_prefers_cookie_then_quality() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::negotiate(&h, None), Lang::Zh);
        h.insert(
            "accept-language",
            "en-US,en;q=0.9,zh-CN;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::negotiate(&h, None), Lang::En);
        assert_eq!(Lang::negotiate(&h, Some("zh-CN")), Lang::Zh);
        h.insert(
            "accept-language",
            "fr-FR, zh;q=0.5, en;q=0.4".parse().unwrap(),
        );
        assert_eq!(Lang::negotiate(&h, None), Lang::Zh);
    }
}
