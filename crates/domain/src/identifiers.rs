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
}

/// A 统一社会信用代码 whose check character is right. Parsed upper-case, without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

    fn uscc_body() -> impl Strategy<Value = String> {
        proptest::collection::vec(0usize..31, 17)
            .prop_map(|v| v.into_iter().map(|i| USCC_CHARSET[i] as char).collect())
    }

    proptest! {
        #[test]
        fn any_body_with_its_check_character_is_valid(body in uscc_body()) {
            let check = UnifiedSocialCreditCode::check_character(&body).unwrap();
            let code = format!("{body}{check}");
            prop_assert!(code.parse::<UnifiedSocialCreditCode>().is_ok());
        }

        #[test]
        fn changing_one_character_is_caught(body in uscc_body(), pos in 0usize..17, delta in 1usize..31) {
            let check = UnifiedSocialCreditCode::check_character(&body).unwrap();
            let mut chars: Vec<u8> = format!("{body}{check}").into_bytes();
            let old = USCC_CHARSET.iter().position(|&c| c == chars[pos]).unwrap();
            chars[pos] = USCC_CHARSET[(old + delta) % 31];
            let code = String::from_utf8(chars).unwrap();
            prop_assert_eq!(code.parse::<UnifiedSocialCreditCode>(), Err(UsccError::CheckCharacter));
        }
    }
}
