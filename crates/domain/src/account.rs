//! What registration accepts: e-mail addresses, passwords, display names.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A lower-cased e-mail address of a plausible shape. Deliverability is not checked here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid e-mail address")]
pub struct EmailError;

impl Email {
    /// The longest address accepted (RFC 5321's path limit).
    pub const MAX_LEN: usize = 254;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let email = input.trim().to_lowercase();
        let (local, domain) = email.split_once('@').ok_or(EmailError)?;
        let plausible = !local.is_empty()
            && local.len() <= 64
            && email.len() <= Self::MAX_LEN
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        if plausible {
            Ok(Self(email))
        } else {
            Err(EmailError)
        }
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the platform's policy. Never displayed, never logged.
pub struct NewPassword(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least 10 characters")]
    TooShort,
    #[error("a password has at most 128 characters")]
    TooLong,
    #[error("a password mixes letters and digits or symbols")]
    TooSimple,
    #[error("a password is too easy to guess")]
    TooGuessable,
}

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    /// Checks `input` against the policy. `context` holds what an attacker knows of the
    /// account (its e-mail address, names): a password built from them is too easy to guess.
    pub fn parse(input: String, context: &[&str]) -> Result<Self, PasswordError> {
        let n = input.chars().count();
        if n < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if n > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        let letters = input.chars().any(char::is_alphabetic);
        let others = input.chars().any(|c| !c.is_alphabetic());
        if !(letters && others) {
            return Err(PasswordError::TooSimple);
        }
        // The e-mail address also counts by its parts (`li.lei`, `example`).
        let mut hints: Vec<&str> = Vec::new();
        for c in context.iter().filter(|c| !c.trim().is_empty()) {
            hints.push(c.trim());
            hints.extend(c.split(['@', '.', '-', '_']).filter(|p| p.len() >= 3));
        }
        // A password that spells out what the account gives away must be stronger still.
        let lower = input.to_lowercase();
        let uses_hint = hints
            .iter()
            .any(|h| h.chars().count() >= 3 && lower.contains(&h.to_lowercase()));
        let needed = if uses_hint {
            zxcvbn::Score::Four
        } else {
            zxcvbn::Score::Three
        };
        if zxcvbn::zxcvbn(&input, &hints).score() < needed {
            return Err(PasswordError::TooGuessable);
        }
        Ok(Self(input))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a name has 1 to 100 characters")]
pub struct DisplayNameError;

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, DisplayNameError> {
        let name = input.trim();
        let n = name.chars().count();
        if n == 0 || n > 100 || name.chars().any(char::is_control) {
            return Err(DisplayNameError);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            "  Li.Lei@Example.CN ".parse::<Email>().unwrap().as_str(),
            "li.lei@example.cn"
        );
        for bad in [
            "", "a", "a@b", "@b.cn", "a b@c.cn", "a@.cn", "a@b.cn.", "a@b@c.cn",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert_eq!(
            NewPassword::parse("short1".into(), &[]).unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            NewPassword::parse("onlyletterss".into(), &[]).unwrap_err(),
            PasswordError::TooSimple
        );
        assert!(NewPassword::parse("开放数据平台2026".into(), &[]).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                NewPassword::parse("tundra-quill-8147".into(), &[]).unwrap()
            ),
            "NewPassword(***)"
        );
    }

    #[test]
    fn guessable_passwords_are_refused() {
        for weak in ["password123", "Password1234", "qwerty12345", "1q2w3e4r5t6y"] {
            assert_eq!(
                NewPassword::parse(weak.into(), &[]).unwrap_err(),
                PasswordError::TooGuessable,
                "{weak}"
            );
        }
        // What the account itself gives away: its e-mail address, its names.
        let email = "zhangwei.data@example.cn";
        for weak in [email, "zhangwei.data2026", "Example.cn-2026"] {
            assert_eq!(
                NewPassword::parse(weak.into(), &[email, "张伟"]).unwrap_err(),
                PasswordError::TooGuessable,
                "{weak}"
            );
        }
        assert!(NewPassword::parse("zhangwei.data2026".into(), &[]).is_ok());
    }
}
