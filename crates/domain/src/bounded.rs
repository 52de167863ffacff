//! Bounds on the text a request may carry: every free-text field has a maximum length and a
//! shape (one line, or several), checked before anything is stored. A one-line text (a name, a
//! label, a code) holds no control characters at all; a text of several lines may hold line
//! breaks and tabs and nothing else of the kind. Either refuses the invisible characters that
//! reorder what a reader sees (bidirectional overrides), which make a name look like another.

use chrono::{Datelike, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A name, label, code or address: no line breaks.
    Line,
    /// A description or note: line breaks and tabs allowed.
    Lines,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max_chars: usize,
    pub shape: Shape,
}

impl Limit {
    pub const fn line(max_chars: usize) -> Self {
        Self {
            max_chars,
            shape: Shape::Line,
        }
    }

    pub const fn lines(max_chars: usize) -> Self {
        Self {
            max_chars,
            shape: Shape::Lines,
        }
    }
}

/// A code or identifier (a catalogue item code, a related entry's id, a field name).
pub const CODE: Limit = Limit::line(64);
/// A short label: a data item's label, a unit, a person's name, a keyword.
pub const LABEL: Limit = Limit::line(100);
/// A name or title.
pub const NAME: Limit = Limit::line(200);
/// A description, summary, reason or note.
pub const TEXT: Limit = Limit::lines(2000);

/// How many items a list in a request may hold (keywords, data items, conditions...).
pub const MAX_LIST: usize = 50;
/// Data items are the schema of a dataset, which may be wide.
pub const MAX_DATA_ITEMS: usize = 500;

/// Dates a request may carry: nothing the platform describes lies outside these years.
pub const MIN_YEAR: i32 = 1800;
pub const MAX_YEAR: i32 = 2200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("longer than {0} characters")]
    TooLong(usize),
    #[error("contains a control character")]
    ControlCharacter,
}

impl TextError {
    /// The stable code the APIs report.
    pub fn code(self) -> &'static str {
        match self {
            TextError::TooLong(_) => "too_long",
            TextError::ControlCharacter => "control_character",
        }
    }

    /// What exactly: the maximum, for a text that is too long.
    pub fn detail(self) -> Option<String> {
        match self {
            TextError::TooLong(max) => Some(max.to_string()),
            TextError::ControlCharacter => None,
        }
    }
}

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn refused(c: char, shape: Shape) -> bool {
    if is_bidi_control(c) {
        return true;
    }
    match shape {
        Shape::Line => c.is_control(),
        Shape::Lines => c.is_control() && !matches!(c, '\n' | '\r' | '\t'),
    }
}

/// Checks `text` against `limit`. The length is counted in characters, so a Chinese name of
/// 200 characters is as welcome as an English one.
pub fn check(text: &str, limit: Limit) -> Result<(), TextError> {
    // A byte count above four times the limit is surely too long: stop before counting.
    if text.len() > limit.max_chars * 4 || text.chars().count() > limit.max_chars {
        return Err(TextError::TooLong(limit.max_chars));
    }
    if text.chars().any(|c| refused(c, limit.shape)) {
        return Err(TextError::ControlCharacter);
    }
    Ok(())
}

/// Whether a date lies within the years the platform accepts.
pub fn date_in_range(date: NaiveDate) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&date.year())
}

/// A telephone number as people write it in China: digits with optional `+`, spaces, hyphens,
/// parentheses and an extension (`转` or `ext`), 5 to 20 digits in all. `021-12345678`,
/// `(021) 1234 5678`, `+86 138 0000 0000`, `12345`, `021-12345678转123`.
pub fn valid_phone(text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() || text.len() > 40 {
        return false;
    }
    let (main, extension) = match text.split_once('转').or_else(|| text.split_once("ext")) {
        Some((main, ext)) => (main, Some(ext.trim())),
        None => (text, None),
    };
    let main_ok = main
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'))
        && main.trim_start().chars().skip(1).all(|c| c != '+');
    let digits = main.chars().filter(char::is_ascii_digit).count();
    let extension_ok = extension
        .is_none_or(|e| !e.is_empty() && e.len() <= 6 && e.chars().all(|c| c.is_ascii_digit()));
    main_ok && (5..=20).contains(&digits) && extension_ok
}

/// Collects the problems of many fields at once: (field, code, detail).
#[derive(Debug, Default)]
pub struct TextChecks {
    pub problems: Vec<(String, &'static str, Option<String>)>,
}

impl TextChecks {
    pub fn text(&mut self, field: impl FnOnce() -> String, text: &str, limit: Limit) {
        if let Err(e) = check(text, limit) {
            self.problems.push((field(), e.code(), e.detail()));
        }
    }

    /// A list may hold at most `max` items.
    pub fn count(&mut self, field: &str, len: usize, max: usize) {
        if len > max {
            self.problems
                .push((field.to_owned(), "too_many", Some(max.to_string())));
        }
    }

    pub fn date(&mut self, field: &str, date: Option<NaiveDate>) {
        if date.is_some_and(|d| !date_in_range(d)) {
            self.problems.push((
                field.to_owned(),
                "date_out_of_range",
                Some(format!("{MIN_YEAR}-{MAX_YEAR}")),
            ));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(check(&"数".repeat(200), NAME), Ok(()));
        assert_eq!(check(&"数".repeat(201), NAME), Err(TextError::TooLong(200)));
        assert_eq!(
            check(&"a".repeat(1_000_000), NAME),
            Err(TextError::TooLong(200))
        );
    }

    #[test]
    fn one_line_refuses_every_control_character_and_several_lines_only_some() {
        for bad in [
            "a\nb",
            "a\tb",
            "a\u{0}b",
            "a\u{7f}b",
            "a\u{1b}[31mb",
            "a\u{202e}b",
        ] {
            assert_eq!(
                check(bad, NAME),
                Err(TextError::ControlCharacter),
                "{bad:?}"
            );
        }
        for ok in ["第一行\n第二行", "列\t值", "windows\r\nline"] {
            assert_eq!(check(ok, TEXT), Ok(()), "{ok:?}");
        }
        for bad in ["a\u{0}b", "a\u{8}b", "a\u{85}b", "a\u{2066}b"] {
            assert_eq!(
                check(bad, TEXT),
                Err(TextError::ControlCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn phones_as_people_write_them() {
        for ok in [
            "021-12345678",
            "(021) 1234 5678",
            "+86 138 0000 0000",
            "12345",
            "021-12345678转123",
            "021-12345678 ext 12",
            "13800000000",
        ] {
            assert!(valid_phone(ok), "{ok}");
        }
        for bad in [
            "",
            "1234",
            "call me",
            "021-1234567a",
            "12+345678",
            "021-12345678转",
            "1".repeat(21).as_str(),
            "<script>",
        ] {
            assert!(!valid_phone(bad), "{bad}");
        }
    }

    #[test]
    fn dates_within_sane_years() {
        assert!(date_in_range(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()));
        assert!(!date_in_range(NaiveDate::from_ymd_opt(1, 1, 1).unwrap()));
        assert!(!date_in_range(
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()
        ));
    }
}
