//! argon2id password hashes, computed off the async threads (they are slow on purpose).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, ErrorCode};

pub async fn hash(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let mut salt_bytes = [0u8; 16];
        getrandom::fill(&mut salt_bytes)
            .expect("the operating system's random source is available");
        let salt = SaltString::encode_b64(&salt_bytes)?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| Error::new(ErrorCode::Internal))?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        Error::new(ErrorCode::Internal)
    })
}

/// Whether `password` matches `stored`. With no stored hash (unknown account) a dummy hash is
/// checked anyway, so the answer takes as long either way and does not reveal accounts.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$M0h/WcC0Hh1eyNvW2TE7uoSPHxEXc6GQ4LsN+UnTi/w";
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY.to_owned());
    tokio::task::spawn_blocking(move || {
        let ok = PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}
