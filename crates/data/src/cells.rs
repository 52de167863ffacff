//! Whether a cell holds a value of its data item's declared type. An empty cell is a missing
//! value (null), which is for the required-field rule to judge, not the type.

use chrono::{NaiveDate, NaiveDateTime};
use domain::openlist::vocab::FieldType;

/// Whether `cell` (trimmed, non-empty) is a value of type `t`.
pub fn conforms(t: FieldType, cell: &str) -> bool {
    match t {
        // Codes (行政区划代码, 邮政编码, 统一社会信用代码) are text: leading zeros are kept.
        FieldType::Text | FieldType::Code => true,
        FieldType::Integer => integer(cell),
        FieldType::Decimal => decimal(cell),
        FieldType::Boolean => boolean(cell).is_some(),
        FieldType::Date => date(cell).is_some(),
        FieldType::DateTime => datetime(cell).is_some(),
        FieldType::Geometry => point(cell).is_some(),
    }
}

/// `cell` without the white space around it, as [`str::trim`] gives it, answered from the two
/// end characters alone when neither is white space (most cells: this runs on every one).
pub fn trimmed(cell: &str) -> &str {
    let solid = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    if solid(cell.chars().next()) && solid(cell.chars().next_back()) {
        cell
    } else {
        cell.trim()
    }
}

fn integer(s: &str) -> bool {
    s.parse::<i64>().is_ok()
}

fn decimal(s: &str) -> bool {
    // Digits, a point and an exponent only: not "inf", "NaN" or "0x1p3".
    s.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// true/false, 1/0, yes/no, 是/否.
pub fn boolean(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" => Some(true),
        "false" | "0" | "no" | "n" | "否" => Some(false),
        _ => None,
    }
}

/// 2024-03-01, 2024/03/01, 20240301 or 2024年3月1日.
pub fn date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        return NaiveDate::from_ymd_opt(n(0..4)? as i32, n(4..6)?, n(6..8)?);
    }
    // The usual spelling, 2024-03-01 or 2024/03/01, read without a format's machinery.
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() == 10
        && (b[4] == b'-' || b[4] == b'/')
        && b[7] == b[4]
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
    {
        return NaiveDate::from_ymd_opt(n(0..4)? as i32, n(5..7)?, n(8..10)?);
    }
    ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// 2024-03-01 08:30[:00], with a space or a T, or RFC 3339 with an offset.
pub fn datetime(s: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// A point as WKT, `POINT (121.47 31.23)`: (longitude, latitude), each within range.
pub fn point(s: &str) -> Option<(f64, f64)> {
    let rest = s.trim();
    let rest = rest
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("point"))
        .map(|_| rest[5..].trim())?;
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = inner.split_whitespace();
    let (x, y) = (parts.next()?, parts.next()?);
    if parts.next().is_some() || !decimal(x) || !decimal(y) {
        return None;
    }
    let (x, y): (f64, f64) = (x.parse().ok()?, y.parse().ok()?);
    ((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)).then_some((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_takes_its_values_and_refuses_others() {
        use FieldType::*;
        let cases: &[(FieldType, &[&str], &[&str])] = &[
            (
                Integer,
                &["0", "-12", "+7", "007"],
                &["1.5", "1e3", "12a", "--1", "九", "99999999999999999999"],
            ),
            (
                Decimal,
                &["1.5", "-0.25", "3", "1e-3", ".5"],
                &["inf", "NaN", "1,5", "0x10", "."],
            ),
            (
                Boolean,
                &["true", "FALSE", "1", "否", "是"],
                &["2", "maybe", "真"],
            ),
            (
                Date,
                &["2024-03-01", "2024/3/1", "20240301", "2024年3月1日"],
                &["2024-02-30", "03/01/2024", "2024-13-01", "2024"],
            ),
            (
                DateTime,
                &[
                    "2024-03-01 08:30",
                    "2024-03-01T08:30:15",
                    "2024-03-01T08:30:15+08:00",
                ],
                &["2024-03-01", "08:30", "2024-03-01 25:00"],
            ),
            (
                Geometry,
                &["POINT (121.47 31.23)", "point(121 31)"],
                &[
                    "POINT (200 31)",
                    "121.47,31.23",
                    "POINT (121)",
                    "POINT (a b)",
                ],
            ),
            (Code, &["020000", "91310000MA1FL0XX1A"], &[]),
        ];
        for (t, good, bad) in cases {
            for v in *good {
                assert!(conforms(*t, v), "{t:?} should take {v:?}");
            }
            for v in *bad {
                assert!(!conforms(*t, v), "{t:?} should refuse {v:?}");
            }
        }
    }
    proptest::proptest! {
        /// A cell is trimmed as `str::trim` trims it, white space of every kind included.
        #[test]
        fn cells_are_trimmed_as_the_standard_library_trims(
            cell in "[ \\t\\r\\n\u{3000}\u{a0}\u{2028}\u{85}a中0]{0,6}",
        ) {
            proptest::prop_assert_eq!(trimmed(&cell), cell.trim());
        }

        /// The shortcut for 2024-03-01 and 2024/03/01 reads each as chrono's format does.
        #[test]
        fn the_usual_spelling_of_a_date_reads_as_its_format_does(
            y in 0u32..10_000, m in 0u32..100, d in 0u32..100, slash: bool,
        ) {
            let (sep, format) = if slash { ('/', "%Y/%m/%d") } else { ('-', "%Y-%m-%d") };
            let text = format!("{y:04}{sep}{m:02}{sep}{d:02}");
            proptest::prop_assert_eq!(date(&text), NaiveDate::parse_from_str(&text, format).ok());
        }
    }
}
