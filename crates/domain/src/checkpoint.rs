//! Checkpoints anchor the audit chain outside the database. The chain alone shows that records
//! were not altered one by one; someone able to write the database could still rewrite every
//! record, hash and the head together. A checkpoint is the head (sequence number and hash) at
//! a moment, signed with a key the database never holds and kept in the file store: a rewrite
//! of anything up to a checkpoint no longer matches it.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// A signed statement "the chain had `seq` records, the last with hash `hash`, at `at`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    /// The signer's public key, hex: which key to check it with (it must also be trusted).
    pub public_key: String,
    /// Ed25519 signature over [`Checkpoint::message`], hex.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint was signed with another key than the one trusted")]
    UnknownKey,
    #[error("the checkpoint's signature does not verify: it was altered or forged")]
    BadSignature,
}

/// The bytes signed: length-prefixed fields under a version tag, as the chain's hashes.
fn message(seq: i64, hash: &str, at: i64) -> Vec<u8> {
    let mut out = Vec::new();
    for field in [
        b"kaifang-audit-checkpoint-v1".as_slice(),
        &seq.to_be_bytes(),
        hash.as_bytes(),
        &at.to_be_bytes(),
    ] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

impl Checkpoint {
    pub fn sign(key: &SigningKey, seq: i64, hash: &str, at: i64) -> Self {
        let signature = key.sign(&message(seq, hash, at));
        Self {
            seq,
            hash: hash.to_owned(),
            at,
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Checks the signature with the `trusted` key (never with the key the file names).
    pub fn verify(&self, trusted: &VerifyingKey) -> Result<(), CheckpointError> {
        if self.public_key != hex::encode(trusted.as_bytes()) {
            return Err(CheckpointError::UnknownKey);
        }
        let bytes: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CheckpointError::BadSignature)?;
        trusted
            .verify(
                &message(self.seq, &self.hash, self.at),
                &Signature::from_bytes(&bytes),
            )
            .map_err(|_| CheckpointError::BadSignature)
    }
}

/// A verifying key from its hex form (as `kaifang audit key` prints it).
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

pub use ed25519_dalek::{SigningKey as AuditSigningKey, VerifyingKey as AuditVerifyingKey};

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32])
    }

    #[test]
    fn a_checkpoint_verifies_with_its_key_and_nothing_else() {
        let k = key(7);
        let cp = Checkpoint::sign(&k, 42, &"ab".repeat(32), 1_700_000_000_000);
        assert_eq!(cp.verify(&k.verifying_key()), Ok(()));
        assert_eq!(
            cp.verify(&key(8).verifying_key()),
            Err(CheckpointError::UnknownKey)
        );
        // Re-signing with another key and claiming it: the trusted key still decides.
        let forged = Checkpoint {
            public_key: cp.public_key.clone(),
            ..Checkpoint::sign(&key(8), 42, &"cd".repeat(32), cp.at)
        };
        assert_eq!(
            forged.verify(&k.verifying_key()),
            Err(CheckpointError::BadSignature)
        );
        for altered in [
            Checkpoint {
                seq: 43,
                ..cp.clone()
            },
            Checkpoint {
                hash: "cd".repeat(32),
                ..cp.clone()
            },
            Checkpoint {
                at: cp.at + 1,
                ..cp.clone()
            },
            Checkpoint {
                signature: "00".into(),
                ..cp.clone()
            },
        ] {
            assert_eq!(
                altered.verify(&k.verifying_key()),
                Err(CheckpointError::BadSignature)
            );
        }
        let text = hex::encode(k.verifying_key().as_bytes());
        assert_eq!(parse_public_key(&text), Some(k.verifying_key()));
        assert_eq!(parse_public_key("zz"), None);
    }
}
