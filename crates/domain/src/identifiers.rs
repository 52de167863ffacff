//! National identifier checks: 统一社会信用代码 (GB 32100-2015) and 居民身份证号码 (GB 11643-1999).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The 31 characters GB 32100 allows; the letters I, O, S, V and Z are left out.
const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("a unified social credit code has 18 characters")]
    Length,
    #[error("character {0} is not allowed in a unified social credit code")]
    Character(usize),
    #[error("the check character does not match")]
    CheckCharacter,
    #[error("the first two characters are no registration authority and organization type")]
    Authority,
    #[error("characters 3 to 8 are no administrative division code")]
    Division,
}

/// The registration authorities (登记管理部门码, character 1) of GB 32100 and its later
/// allocations, each with the organization types (机构类别码, character 2) it may issue.
const USCC_AUTHORITIES: &[(u8, &[u8])] = &[
    (b'1', b"1239"),   // 机构编制: 机关, 事业单位, 群众团体, 其他
    (b'2', b"19"),     // 外交
    (b'3', b"123459"), // 司法行政: 律师, 公证, 基层法律服务, 司法鉴定, 仲裁, 其他
    (b'4', b"19"),     // 文化
    (b'5', b"1239"),   // 民政: 社会团体, 民办非企业单位, 基金会, 其他
    (b'6', b"129"),    // 旅游
    (b'7', b"129"),    // 宗教
    (b'8', b"19"),     // 工会
    (b'9', b"123"),    // 市场监管 (工商): 企业, 个体工商户, 农民专业合作社
    (b'A', b"19"),     // 中央军委改革和编制办公室
    (b'N', b"1239"),   // 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    (b'Y', b"1"),      // 其他
];

/// Province-level prefixes of GB/T 2260 codes, and 10 for registrations at the centre.
const DIVISION_PREFIXES: &[&str] = &[
    "10", "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
];

/// A 统一社会信用代码 whose check character is right. Parsed upper-case, without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct UnifiedSocialCreditCode(String);

impl UnifiedSocialCreditCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The check character for the first 17 characters, or `None` if one is outside the charset.
    pub fn check_character(first17: &str) -> Option<char> {
        let mut sum = 0u32;
        for (i, b) in first17.bytes().enumerate().take(17) {
            let value = USCC_CHARSET.iter().position(|&c| c == b)? as u32;
            sum += value * USCC_WEIGHTS[i];
        }
        let check = (31 - sum % 31) % 31;
        Some(USCC_CHARSET[check as usize] as char)
    }
}

impl FromStr for UnifiedSocialCreditCode {
    type Err = UsccError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let code: String = input.trim().to_ascii_uppercase();
        if code.chars().count() != 18 {
            return Err(UsccError::Length);
        }
        if let Some(pos) = code.bytes().position(|b| !USCC_CHARSET.contains(&b)) {
            return Err(UsccError::Character(pos + 1));
        }
        let expected = Self::check_character(&code[..17]).ok_or(UsccError::Character(0))?;
        if code.as_bytes()[17] as char != expected {
            return Err(UsccError::CheckCharacter);
        }
        let bytes = code.as_bytes();
        let known_type = USCC_AUTHORITIES
            .iter()
            .any(|(authority, types)| *authority == bytes[0] && types.contains(&bytes[1]));
        if !known_type {
            return Err(UsccError::Authority);
        }
        let division = &code[2..8];
        if !division.bytes().all(|b| b.is_ascii_digit())
            || !DIVISION_PREFIXES.contains(&&division[..2])
        {
            return Err(UsccError::Division);
        }
        Ok(Self(code))
    }
}

impl TryFrom<String> for UnifiedSocialCreditCode {
    type Error = UsccError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<UnifiedSocialCreditCode> for String {
    fn from(value: UnifiedSocialCreditCode) -> Self {
        value.0
    }
}

impl fmt::Display for UnifiedSocialCreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("a resident ID number has 18 characters")]
    Length,
    #[error("the first 17 characters of a resident ID number are digits")]
    Character,
    #[error("the check character does not match")]
    CheckCharacter,
}

/// A 18-digit 居民身份证号码 whose ISO 7064 MOD 11-2 check character is right.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResidentIdNumber(String);

impl ResidentIdNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn check_character(first17: &str) -> Option<char> {
        let mut sum = 0u32;
        for (i, c) in first17.chars().enumerate().take(17) {
            sum += c.to_digit(10)? * ID_WEIGHTS[i];
        }
        Some(ID_CHECK[(sum % 11) as usize] as char)
    }
}

impl FromStr for ResidentIdNumber {
    type Err = ResidentIdError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let id = input.trim().to_ascii_uppercase();
        if id.chars().count() != 18 {
            return Err(ResidentIdError::Length);
        }
        // Eighteen characters of other scripts are not eighteen bytes: refused before slicing.
        if !id.is_ascii() {
            return Err(ResidentIdError::Character);
        }
        let expected = Self::check_character(&id[..17]).ok_or(ResidentIdError::Character)?;
        if id.as_bytes()[17] as char != expected {
            return Err(ResidentIdError::CheckCharacter);
        }
        Ok(Self(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn resident_id_numbers_are_checked_and_any_text_gets_an_answer() {
        assert!("11010519491231002X".parse::<ResidentIdNumber>().is_ok());
        assert!("11010519491231002x".parse::<ResidentIdNumber>().is_ok());
        assert_eq!(
            "110105194912310021".parse::<ResidentIdNumber>(),
            Err(ResidentIdError::CheckCharacter)
        );
        // Eighteen Chinese characters: an error, not a panic on a character boundary.
        assert_eq!(
            "一二三四五六七八九十一二三四五六七八".parse::<ResidentIdNumber>(),
            Err(ResidentIdError::Character)
        );
    }

    #[test]
    fn published_example_codes_are_accepted() {
        // The example code used in the GB 32100-2015 explanatory material.
        assert!(
            "91350100M000100Y43"
                .parse::<UnifiedSocialCreditCode>()
                .is_ok()
        );
        assert!(
            " 91350100m000100y43 "
                .parse::<UnifiedSocialCreditCode>()
                .is_ok()
        );
    }

    #[test]
    fn bad_codes_are_refused_with_the_reason() {
        assert_eq!(
            "9135010".parse::<UnifiedSocialCreditCode>(),
            Err(UsccError::Length)
        );
        assert_eq!(
            "91350100M000100Y44".parse::<UnifiedSocialCreditCode>(),
            Err(UsccError::CheckCharacter)
        );
        assert_eq!(
            "91350100I000100Y43".parse::<UnifiedSocialCreditCode>(),
            Err(UsccError::Character(9))
        );
    }

    #[test]
    fn resident_id_example_is_accepted() {
        // The worked example of GB 11643-1999.
        assert!("11010519491231002X".parse::<ResidentIdNumber>().is_ok());
        assert_eq!(
            "110105194912310021".parse::<ResidentIdNumber>(),
            Err(ResidentIdError::CheckCharacter)
        );
    }

    /// A company registered in Shanghai (91, 310000) with any organization code.
    fn uscc_body() -> impl Strategy<Value = String> {
        proptest::collection::vec(0usize..31, 9).prop_map(|v| {
            let code: String = v.into_iter().map(|i| USCC_CHARSET[i] as char).collect();
            format!("91310000{code}")
        })
    }

    #[test]
    fn codes_that_pass_the_check_character_but_not_the_structure_are_refused() {
        let with_check = |body: &str| {
            format!(
                "{body}{}",
                UnifiedSocialCreditCode::check_character(body).unwrap()
            )
        };
        // All zeros passes the check character (the weighted sum is 0).
        assert_eq!(
            "000000000000000000".parse::<UnifiedSocialCreditCode>(),
            Err(UsccError::Authority)
        );
        for (body, err) in [
            ("94310000MA1FL8XQ3", UsccError::Authority), // 工商 issues no type 4
            ("B1310000MA1FL8XQ3", UsccError::Authority), // no authority B
            ("Y2310000MA1FL8XQ3", UsccError::Authority),
            ("91000000MA1FL8XQ3", UsccError::Division),
            ("9199ABCDMA1FL8XQ3", UsccError::Division),
            ("91990000MA1FL8XQ3", UsccError::Division),
        ] {
            assert_eq!(
                with_check(body).parse::<UnifiedSocialCreditCode>(),
                Err(err),
                "{body}"
            );
        }
        for body in [
            "91310000MA1FL8XQ3",
            "12310000425011234",
            "11100000000013127",
            "53310000501770123",
            "N2310115MF1234567",
        ] {
            assert!(
                with_check(body).parse::<UnifiedSocialCreditCode>().is_ok(),
                "{body}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_body_with_its_check_character_is_valid(body in uscc_body()) {
            let check = UnifiedSocialCreditCode::check_character(&body).unwrap();
            let code = format!("{body}{check}");
            prop_assert!(code.parse::<UnifiedSocialCreditCode>().is_ok());
        }

        #[test]
        fn changing_one_character_is_caught(body in uscc_body(), pos in 8usize..17, delta in 1usize..31) {
            let check = UnifiedSocialCreditCode::check_character(&body).unwrap();
            let mut chars: Vec<u8> = format!("{body}{check}").into_bytes();
            let old = USCC_CHARSET.iter().position(|&c| c == chars[pos]).unwrap();
            chars[pos] = USCC_CHARSET[(old + delta) % 31];
            let code = String::from_utf8(chars).unwrap();
            prop_assert_eq!(code.parse::<UnifiedSocialCreditCode>(), Err(UsccError::CheckCharacter));
        }
    }
}
