//! Pinyin of the entries' names, so that a visitor without a Chinese keyboard finds 公交 by
//! typing gongjiao, or its initials gj.

use pinyin::ToPinyin;

/// Runs of at most this many characters are spelled out: enough for the words people type.
const MAX_RUN: usize = 4;

/// The pinyin spellings of `text` to index: for every run of one to four neighbouring Chinese
/// characters, their syllables written together (公交 → `gongjiao`, 公交线路 →
/// `gongjiaoxianlu`), and for runs of two or more, their initials (`gj`, `gjxl`). Runs are
/// taken at every position rather than along word boundaries, so no segmentation can hide a
/// word; a spelling that crosses a boundary is harmless, as nobody types it.
pub fn spellings(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    for run in han_runs(text) {
        for start in 0..run.len() {
            let mut full = String::new();
            let mut initials = String::new();
            for (len, syllable) in run[start..].iter().take(MAX_RUN).enumerate() {
                full.push_str(syllable);
                initials.push_str(&syllable[..1]);
                add(&full);
                if len > 0 {
                    add(&initials);
                }
            }
        }
    }
    out
}

/// The syllables of each run of characters that have a reading, in order.
fn han_runs(text: &str) -> Vec<Vec<&'static str>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for reading in text.to_pinyin() {
        match reading {
            Some(p) => run.push(p.plain()),
            None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// Whether a word of a query could be pinyin: Latin letters only.
pub fn could_be_pinyin(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(spellings: &[String], s: &str) -> bool {
        spellings.iter().any(|x| x == s)
    }

    #[test]
    fn names_are_spelled_in_full_and_by_initials() {
        let s = spellings("上海市公交线路");
        for expected in [
            "gongjiao",
            "gj",
            "gongjiaoxianlu",
            "gjxl",
            "shanghai",
            "sh",
            "gong",
        ] {
            assert!(has(&s, expected), "{expected}: {s:?}");
        }
        // A single initial would match nearly everything.
        assert!(!has(&s, "g"));
    }

    #[test]
    fn latin_digits_and_punctuation_break_runs() {
        let s = spellings("2024年A级景区（公园）");
        assert!(
            has(&s, "nian") && has(&s, "jijingqu") && has(&s, "gongyuan"),
            "{s:?}"
        );
        assert!(!s.iter().any(|t| t.contains("nianji")), "{s:?}");
        assert!(!s.iter().any(|t| t.contains("qugong")), "{s:?}");
        assert!(spellings("Shanghai 2024").is_empty());
    }
}
