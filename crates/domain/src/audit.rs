//! The audit trail's hash chain (A25.5, A26.1). Each record's hash covers its own fields and
//! the previous record's hash, so altering, deleting or reordering any record breaks the chain
//! at that record. The store keeps the head (last sequence number and hash) beside the records,
//! so cutting records off the end is caught too.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that precedes the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record as stored. `seq` starts at 1 and has no gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before_digest: Option<String>,
    pub after_digest: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The hash this record must carry, given its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        // Length-prefixed fields: no two different records encode to the same bytes.
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(b"kaifang-audit-v1");
        field(&self.seq.to_be_bytes());
        field(&self.at.to_be_bytes());
        for opt in [
            &self.actor_id,
            &self.before_digest,
            &self.after_digest,
            &self.client_addr,
        ] {
            match opt {
                Some(s) => {
                    field(b"1");
                    field(s.as_bytes());
                }
                None => field(b"0"),
            }
        }
        field(self.actor_role.as_bytes());
        field(self.action.as_bytes());
        field(self.target_type.as_bytes());
        field(self.target_id.as_bytes());
        field(self.prev_hash.as_bytes());
        hex::encode(h.finalize())
    }
}

/// SHA-256 of a state, as hex: the before/after digests of a record. Callers pass a canonical
/// serialization (serde_json with sorted keys).
pub fn digest(canonical: &[u8]) -> String {
    hex::encode(Sha256::digest(canonical))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {found} follows record {previous}: records are missing or reordered")]
    Gap { previous: i64, found: i64 },
    #[error("record {seq} does not follow the hash of the record before it")]
    Link { seq: i64 },
    #[error("record {seq} was altered: its hash does not match its content")]
    Altered { seq: i64 },
    #[error(
        "the chain ends at record {last} but its head says {head}: records were removed from the end"
    )]
    Truncated { last: i64, head: i64 },
    #[error(
        "record {seq} differs from the signed checkpoint: the chain was rewritten up to or past it"
    )]
    Rewritten { seq: i64 },
    #[error("the chain ends at record {last} but a signed checkpoint vouches for {checkpoint}")]
    ShorterThanCheckpoint { last: i64, checkpoint: i64 },
}

impl ChainBreak {
    /// The first record found bad.
    pub fn seq(&self) -> i64 {
        match *self {
            ChainBreak::Gap { previous, .. } => previous + 1,
            ChainBreak::Link { seq }
            | ChainBreak::Altered { seq }
            | ChainBreak::Rewritten { seq } => seq,
            ChainBreak::Truncated { last, .. } | ChainBreak::ShorterThanCheckpoint { last, .. } => {
                last + 1
            }
        }
    }
}

/// Walks records in `seq` order. Feed every record, then call [`ChainVerifier::finish`].
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    /// A signed checkpoint's (seq, hash), which the record at that seq must carry.
    anchor: Option<(i64, String)>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            anchor: None,
        }
    }
}

impl ChainVerifier {
    /// A verifier that also holds the chain to a verified checkpoint.
    pub fn anchored(seq: i64, hash: &str) -> Self {
        Self {
            anchor: Some((seq, hash.to_owned())),
            ..Self::default()
        }
    }

    pub fn push(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        if record.seq != self.last_seq + 1 {
            return Err(ChainBreak::Gap {
                previous: self.last_seq,
                found: record.seq,
            });
        }
        if record.prev_hash != self.last_hash {
            return Err(ChainBreak::Link { seq: record.seq });
        }
        if record.compute_hash() != record.hash {
            return Err(ChainBreak::Altered { seq: record.seq });
        }
        if let Some((seq, hash)) = &self.anchor
            && *seq == record.seq
            && *hash != record.hash
        {
            return Err(ChainBreak::Rewritten { seq: *seq });
        }
        self.last_seq = record.seq;
        self.last_hash = record.hash.clone();
        Ok(())
    }

    /// Checks the end of the chain against the stored head. Returns the number of records.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        if let Some((checkpoint, _)) = self.anchor
            && checkpoint > self.last_seq
        {
            return Err(ChainBreak::ShorterThanCheckpoint {
                last: self.last_seq,
                checkpoint,
            });
        }
        if head_seq != self.last_seq {
            return Err(ChainBreak::Truncated {
                last: self.last_seq,
                head: head_seq,
            });
        }
        if head_hash != self.last_hash {
            return Err(ChainBreak::Altered {
                seq: self.last_seq.max(1),
            });
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut r = AuditRecord {
                    seq,
                    at: 1_700_000_000_000 + seq,
                    actor_id: Some(format!("user-{seq}")),
                    actor_role: "operator".into(),
                    action: "org.create".into(),
                    target_type: "organization".into(),
                    target_id: format!("org-{seq}"),
                    before_digest: None,
                    after_digest: Some(digest(b"{}")),
                    client_addr: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = r.compute_hash();
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(records: &[AuditRecord], head: (i64, &str)) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for r in records {
            v.push(r)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, (5, &c[4].hash)), Ok(5));
        assert_eq!(verify(&[], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn altered_deleted_reordered_and_truncated_are_caught() {
        let c = chain(5);
        let head = (5, c[4].hash.as_str());

        let mut altered = c.clone();
        altered[2].action = "org.delete".into();
        assert_eq!(verify(&altered, head).unwrap_err().seq(), 3);

        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted, head).unwrap_err().seq(), 2);

        let mut reordered = c.clone();
        reordered.swap(1, 2);
        reordered[1].seq = 2;
        reordered[2].seq = 3;
        assert!(matches!(
            verify(&reordered, head),
            Err(ChainBreak::Link { seq: 2 })
        ));

        assert_eq!(verify(&c[..4], head).unwrap_err().seq(), 5);
    }

    #[test]
    fn a_chain_rewritten_whole_is_caught_by_its_checkpoint() {
        let c = chain(5);
        let anchor = (3, c[2].hash.clone());
        let run = |records: &[AuditRecord]| {
            let mut v = ChainVerifier::anchored(anchor.0, &anchor.1);
            for r in records {
                v.push(r)?;
            }
            let last = records.last().unwrap();
            v.finish(last.seq, &last.hash)
        };
        assert_eq!(run(&c), Ok(5));
        // Record 2 altered and every hash after it recomputed, head included: the chain is
        // consistent in itself, but not with the checkpoint.
        let mut rewritten = c.clone();
        rewritten[1].action = "org.delete".into();
        let mut prev = rewritten[0].hash.clone();
        for r in rewritten.iter_mut().skip(1) {
            r.prev_hash = prev;
            r.hash = r.compute_hash();
            prev = r.hash.clone();
        }
        assert_eq!(run(&rewritten), Err(ChainBreak::Rewritten { seq: 3 }));
        // Cut back to before the checkpoint, head moved along.
        assert_eq!(
            run(&c[..2]),
            Err(ChainBreak::ShorterThanCheckpoint {
                last: 2,
                checkpoint: 3
            })
        );
    }
}
