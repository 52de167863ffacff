//! Checks of values the quality gate applies by a data item's meaning (A16.1): identifiers with
//! their check characters, phone numbers, postcodes, and coordinates inside the platform's
//! area.

use domain::identifiers::{ResidentIdNumber, UnifiedSocialCreditCode};

/// A 居民身份证号码 (GB 11643): 17 digits, a right check character, and a real birth date.
pub fn resident_id(s: &str) -> bool {
    let Ok(id) = s.parse::<ResidentIdNumber>() else {
        return false;
    };
    use chrono::Datelike;
    let birth = &id.as_str()[6..14];
    crate::cells::date(birth).is_some_and(|d| d.year() >= 1900)
}

/// A 统一社会信用代码 (GB 32100) with a right check character.
pub fn uscc(s: &str) -> bool {
    s.parse::<UnifiedSocialCreditCode>().is_ok()
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A mainland mobile number: 1[3-9] and nine digits, optionally after +86 or 0086.
pub fn mobile(s: &str) -> bool {
    let n = s
        .trim()
        .trim_start_matches("+86")
        .trim_start_matches("0086")
        .trim_start_matches(['-', ' ']);
    n.len() == 11 && digits(n) && n.starts_with('1') && (b'3'..=b'9').contains(&n.as_bytes()[1])
}

/// A landline: an area code of 3 or 4 digits starting with 0, then 7 or 8 digits, optionally an
/// extension (021-12345678, 0571-8765432-123).
pub fn landline(s: &str) -> bool {
    let mut parts = s.trim().splitn(3, '-');
    let (Some(area), Some(number)) = (parts.next(), parts.next()) else {
        return false;
    };
    let extension_ok = parts.next().is_none_or(|e| digits(e) && e.len() <= 6);
    digits(area)
        && area.starts_with('0')
        && (3..=4).contains(&area.len())
        && digits(number)
        && (7..=8).contains(&number.len())
        && extension_ok
}

/// A postcode: six digits (China's run from 0 to 8 in their first digit).
pub fn postcode(s: &str) -> bool {
    s.len() == 6 && digits(s) && s.as_bytes()[0] != b'9'
}

/// A box of longitudes and latitudes: where the platform's data lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub west: f64,
    pub east: f64,
    pub south: f64,
    pub north: f64,
}

/// Shanghai, its islands included (Chongming, Changxing, Hengsha), with a margin.
pub const SHANGHAI: Area = Area {
    west: 120.85,
    east: 122.20,
    south: 30.67,
    north: 31.88,
};

impl Area {
    pub fn contains(&self, longitude: f64, latitude: f64) -> bool {
        (self.west..=self.east).contains(&longitude)
            && (self.south..=self.north).contains(&latitude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_phones_and_postcodes() {
        assert!(resident_id("11010519491231002X"));
        assert!(!resident_id("110105194912310021"), "wrong check character");
        // A right check character over a birth date that does not exist (30 February).
        assert!("110105194902300020".parse::<ResidentIdNumber>().is_ok());
        assert!(!resident_id("110105194902300020"));
        assert!(uscc("91350100M000100Y43") && !uscc("91350100M000100Y44"));
        for good in ["13812345678", "+86 13812345678", "008613812345678"] {
            assert!(mobile(good), "{good}");
        }
        for bad in ["12812345678", "1381234567", "138123456789", "一三八"] {
            assert!(!mobile(bad), "{bad}");
        }
        for good in ["021-12345678", "0571-8765432", "021-12345678-123"] {
            assert!(landline(good), "{good}");
        }
        for bad in ["21-12345678", "021-123", "021-12345678-1234567", "021"] {
            assert!(!landline(bad), "{bad}");
        }
        assert!(postcode("200000") && postcode("020000"));
        assert!(!postcode("20000") && !postcode("900000") && !postcode("2000a0"));
    }

    #[test]
    fn shanghai_holds_its_districts_and_islands_and_not_its_neighbours() {
        for (place, lon, lat) in [
            ("人民广场", 121.475, 31.228),
            ("崇明", 121.397, 31.623),
            ("金山", 121.342, 30.742),
            ("浦东机场", 121.805, 31.143),
        ] {
            assert!(SHANGHAI.contains(lon, lat), "{place}");
        }
        for (place, lon, lat) in [
            ("北京", 116.40, 39.90),
            ("杭州", 120.16, 30.27),
            ("南京", 118.80, 32.06),
        ] {
            assert!(!SHANGHAI.contains(lon, lat), "{place}");
        }
        // Latitude and longitude swapped is outside, as it should be found.
        assert!(!SHANGHAI.contains(31.228, 121.475));
    }
}
