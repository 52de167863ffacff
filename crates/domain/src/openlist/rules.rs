//! What the quality gate checks in a data item's values beyond its declared type (A16.1): a
//! value required in every row, a key no two rows share, an enumeration, a range, a pattern, a
//! date format and checks by meaning (identifier check characters, phone numbers, postcodes,
//! coordinates inside the configured area). Declared with the item, so the entry's data items
//! are the whole schema a file is read against.

use serde::{Deserialize, Serialize};

use super::vocab::FieldType;

/// Values an enumeration may list.
pub const MAX_ALLOWED_VALUES: usize = 500;
/// Characters of a pattern or a date format.
pub const MAX_PATTERN_CHARS: usize = 200;
/// The compiled size a pattern may take: a pattern is a provider's input, matched against
/// every value of every upload.
pub const MAX_PATTERN_BYTES: usize = 1 << 16;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRules {
    /// Every row has a value.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// The item is (part of) the key: no two rows share the values of all key items.
    #[serde(default, skip_serializing_if = "is_false")]
    pub key: bool,
    /// The only values allowed; none listed allows any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// The smallest number allowed (numbers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The largest number allowed (numbers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A regular expression every value matches as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The one way dates (or times) are written, as a strftime format such as `%Y-%m-%d`;
    /// none accepts the common ways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A check by meaning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<ValueCheck>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ItemRules {
    pub fn is_empty(&self) -> bool {
        self == &ItemRules::default()
    }
}

/// Checks by what a value means, not only its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueCheck {
    /// 居民身份证号码 with its check character and a real birth date (GB 11643).
    ResidentId,
    /// 统一社会信用代码 with its check character (GB 32100).
    CreditCode,
    /// A mainland mobile number.
    Mobile,
    /// A landline number with its area code.
    Landline,
    /// A mobile or a landline number.
    Phone,
    /// A six-digit postcode.
    Postcode,
    /// A point inside the configured area.
    InArea,
    /// A longitude inside the configured area.
    Longitude,
    /// A latitude inside the configured area.
    Latitude,
}

impl ValueCheck {
    pub const ALL: &'static [ValueCheck] = &[
        ValueCheck::ResidentId,
        ValueCheck::CreditCode,
        ValueCheck::Mobile,
        ValueCheck::Landline,
        ValueCheck::Phone,
        ValueCheck::Postcode,
        ValueCheck::InArea,
        ValueCheck::Longitude,
        ValueCheck::Latitude,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ValueCheck::ResidentId => "resident_id",
            ValueCheck::CreditCode => "credit_code",
            ValueCheck::Mobile => "mobile",
            ValueCheck::Landline => "landline",
            ValueCheck::Phone => "phone",
            ValueCheck::Postcode => "postcode",
            ValueCheck::InArea => "in_area",
            ValueCheck::Longitude => "longitude",
            ValueCheck::Latitude => "latitude",
        }
    }

    /// Whether the check can apply to values of type `t`.
    pub fn fits(self, t: FieldType) -> bool {
        match self {
            ValueCheck::InArea => t == FieldType::Geometry,
            ValueCheck::Longitude | ValueCheck::Latitude => t == FieldType::Decimal,
            _ => matches!(t, FieldType::Text | FieldType::Code),
        }
    }
}

impl std::str::FromStr for ValueCheck {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ValueCheck::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or(())
    }
}

/// Compiles a pattern as the gate does: anchored to the whole value, bounded in size.
pub fn compile_pattern(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(MAX_PATTERN_BYTES)
        .dfa_size_limit(MAX_PATTERN_BYTES)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "pattern_too_big".to_owned(),
            _ => "invalid_pattern".to_owned(),
        })
}

/// Whether `format` is a strftime format that writes and reads back a date (or a date and
/// time): one that holds a year, a month and a day.
pub fn valid_date_format(format: &str, with_time: bool) -> bool {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return false;
    }
    let sample = chrono::NaiveDate::from_ymd_opt(2024, 11, 23)
        .and_then(|d| d.and_hms_opt(17, 45, 9))
        .expect("a real time");
    let text = sample.format(format).to_string();
    if with_time {
        chrono::NaiveDateTime::parse_from_str(&text, format).is_ok_and(|t| t == sample)
    } else {
        chrono::NaiveDate::parse_from_str(&text, format).is_ok_and(|d| d == sample.date())
    }
}

/// What is wrong with `rules` for an item of type `t`, as (problem code, part of the rules).
pub fn problems(rules: &ItemRules, t: FieldType) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let numeric = matches!(t, FieldType::Integer | FieldType::Decimal);
    if (rules.min.is_some() || rules.max.is_some()) && !numeric {
        out.push(("range_needs_number", "min"));
    }
    if rules.min.is_some_and(|v| !v.is_finite()) {
        out.push(("invalid_number", "min"));
    }
    if rules.max.is_some_and(|v| !v.is_finite()) {
        out.push(("invalid_number", "max"));
    }
    if let (Some(lo), Some(hi)) = (rules.min, rules.max)
        && lo > hi
    {
        out.push(("range_reversed", "min"));
    }
    if rules.allowed.len() > MAX_ALLOWED_VALUES {
        out.push(("too_many", "allowed"));
    }
    if rules
        .allowed
        .iter()
        .any(|v| v.trim().is_empty() || v.chars().count() > crate::bounded::LABEL.max_chars)
    {
        out.push(("invalid_value", "allowed"));
    }
    if let Some(p) = &rules.pattern {
        if p.chars().count() > MAX_PATTERN_CHARS {
            out.push(("too_long", "pattern"));
        } else if let Err(code) = compile_pattern(p) {
            out.push((
                if code == "pattern_too_big" {
                    "pattern_too_big"
                } else {
                    "invalid_pattern"
                },
                "pattern",
            ));
        }
    }
    if let Some(f) = &rules.format {
        let dated = matches!(t, FieldType::Date | FieldType::DateTime);
        if !dated {
            out.push(("format_needs_date", "format"));
        } else if f.chars().count() > MAX_PATTERN_CHARS
            || !valid_date_format(f, t == FieldType::DateTime)
        {
            out.push(("invalid_date_format", "format"));
        }
    }
    if let Some(c) = rules.check
        && !c.fits(t)
    {
        out.push(("check_does_not_fit", "check"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_checked_against_the_type() {
        let r = ItemRules {
            min: Some(5.0),
            max: Some(1.0),
            ..Default::default()
        };
        assert_eq!(
            problems(&r, FieldType::Integer),
            vec![("range_reversed", "min")]
        );
        assert_eq!(
            problems(&r, FieldType::Text)[0],
            ("range_needs_number", "min")
        );
        let r = ItemRules {
            pattern: Some("(a".into()),
            format: Some("%Y".into()),
            check: Some(ValueCheck::InArea),
            ..Default::default()
        };
        let codes: Vec<_> = problems(&r, FieldType::Date)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            codes,
            [
                "invalid_pattern",
                "invalid_date_format",
                "check_does_not_fit"
            ]
        );
    }

    #[test]
    fn a_pattern_that_compiles_too_big_is_refused() {
        assert!(compile_pattern(r"[0-9]{3}").is_ok());
        assert_eq!(
            compile_pattern(r"(\w{100}){100}").unwrap_err(),
            "pattern_too_big"
        );
    }

    #[test]
    fn date_formats_must_hold_a_whole_date() {
        assert!(valid_date_format("%Y-%m-%d", false));
        assert!(valid_date_format("%Y年%m月%d日", false));
        assert!(!valid_date_format("%Y-%m", false));
        assert!(!valid_date_format("%Q", false));
        assert!(valid_date_format("%Y/%m/%d %H:%M:%S", true));
        assert!(!valid_date_format("%Y/%m/%d", true));
    }
}
