//! The words of the notices the parties of conditional opening receive, from the message
//! catalogue: in the in-app inbox in the reader's language, by mail in Chinese with English
//! beneath.

use std::collections::BTreeMap;

use domain::notice::Notice;

use crate::i18n::{Lang, Messages};

/// `template` with each `{name}` of `params` filled in one pass: a value that itself holds
/// `{…}` (a reason someone typed) is written as it is.
fn fill(template: &str, params: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}').map(|end| (end, &after[..end])) {
            Some((end, name)) if params.contains_key(name) => {
                out.push_str(&params[name]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The notice's subject and text in `lang`.
pub fn text(messages: &Messages, lang: Lang, n: &Notice) -> (String, String) {
    let kind = n.kind.as_str();
    (
        fill(
            messages.get(lang, &format!("notice.{kind}.subject")),
            &n.params,
        ),
        fill(
            messages.get(lang, &format!("notice.{kind}.body")),
            &n.params,
        ),
    )
}

/// The notice as a mail: the Chinese subject; the Chinese text, the link, then the English.
pub fn mail(messages: &Messages, public_url: &str, n: &Notice) -> (String, String) {
    let (subject, zh) = text(messages, Lang::Zh, n);
    let (_, en) = text(messages, Lang::En, n);
    let link = format!("{}{}", public_url.trim_end_matches('/'), n.link);
    (subject, format!("{zh}\n\n{link}\n\n——\n{en}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_filled_once_and_typed_braces_stay() {
        let params = BTreeMap::from([
            ("reasons".to_owned(), "请补充{due}".to_owned()),
            ("due".to_owned(), "2026-12-18".to_owned()),
        ]);
        assert_eq!(
            fill("理由：{reasons}；截止 {due}；{other}", &params),
            "理由：请补充{due}；截止 2026-12-18；{other}"
        );
    }

    #[test]
    fn every_kind_has_a_subject_and_a_text_in_both_languages() {
        let m = Messages::embedded();
        for kind in domain::notice::NoticeKind::ALL {
            for lang in [Lang::Zh, Lang::En] {
                for part in ["subject", "body"] {
                    let key = format!("notice.{}.{part}", kind.as_str());
                    assert_ne!(m.get(lang, &key), key, "{key} in {lang:?}");
                }
            }
        }
    }
}
