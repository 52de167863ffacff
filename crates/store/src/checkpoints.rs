//! Signed checkpoints of the audit chain, kept as files beside the database and never in it
//! (see `domain::checkpoint`), and the signing key they are made with.

use std::io::Write;
use std::path::{Path, PathBuf};

use domain::checkpoint::{AuditSigningKey, AuditVerifyingKey, Checkpoint, CheckpointError};
use domain::clock::Timestamp;

use crate::audit::Verification;
use crate::{Result, Store, StoreError};

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {e}", path.display()))
}

/// Reads the signing key (64 hex digits) at `path`, or makes one there, readable by its owner
/// only, when there is none.
pub fn load_or_create_key(path: &Path) -> Result<AuditSigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| StoreError::Io(format!("{} is not an audit key", path.display())))?;
            Ok(AuditSigningKey::from_bytes(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|e| StoreError::Io(format!("no randomness for a key: {e}")))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| io("cannot create", path, e))?;
            file.write_all(hex::encode(bytes).as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(|e| io("cannot write", path, e))?;
            Ok(AuditSigningKey::from_bytes(&bytes))
        }
        Err(e) => Err(io("cannot read", path, e)),
    }
}

/// The directory of checkpoint files, one per checkpoint, named by sequence number.
#[derive(Debug, Clone)]
pub struct CheckpointFiles {
    dir: PathBuf,
}

impl CheckpointFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Writes `cp` whole or not at all (a temporary file renamed into place).
    pub fn write(&self, cp: &Checkpoint) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io("cannot create", &self.dir, e))?;
        let path = self.dir.join(format!("{:020}.json", cp.seq));
        let temp = self.dir.join(format!(".{:020}.json.tmp", cp.seq));
        let text = serde_json::to_vec_pretty(cp).expect("a checkpoint serializes");
        std::fs::write(&temp, text).map_err(|e| io("cannot write", &temp, e))?;
        std::fs::rename(&temp, &path).map_err(|e| io("cannot write", &path, e))?;
        Ok(path)
    }

    /// The checkpoint of the highest sequence number, if any. A file that does not read as a
    /// checkpoint is an error, not skipped: a damaged anchor must be seen.
    pub fn latest(&self) -> Result<Option<Checkpoint>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("cannot read", &self.dir, e)),
        };
        let mut best: Option<Checkpoint> = None;
        for entry in entries {
            let path = entry.map_err(|e| io("cannot read", &self.dir, e))?.path();
            let is_checkpoint = path.extension().is_some_and(|x| x == "json")
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !is_checkpoint {
                continue;
            }
            let text = std::fs::read(&path).map_err(|e| io("cannot read", &path, e))?;
            let cp: Checkpoint = serde_json::from_slice(&text).map_err(|e| {
                StoreError::Io(format!("{} is not a checkpoint: {e}", path.display()))
            })?;
            if best.as_ref().is_none_or(|b| cp.seq > b.seq) {
                best = Some(cp);
            }
        }
        Ok(best)
    }
}

/// What verifying the chain against its checkpoints found.
#[derive(Debug, PartialEq, Eq)]
pub enum Anchored {
    /// The chain verified, against the checkpoint at this record if there was one.
    Verified {
        verification: Verification,
        checkpoint: Option<i64>,
    },
    /// The newest checkpoint itself does not verify with the trusted key.
    BadCheckpoint { seq: i64, error: CheckpointError },
}

impl Store {
    /// Signs the chain's current head and writes it as a checkpoint. Does nothing (and returns
    /// `None`) when the newest checkpoint already covers the head.
    pub async fn checkpoint_audit(
        &self,
        key: &AuditSigningKey,
        files: &CheckpointFiles,
        at: Timestamp,
    ) -> Result<Option<Checkpoint>> {
        let (seq, hash) = self.audit_head().await?;
        if files.latest()?.is_some_and(|cp| cp.seq >= seq) {
            return Ok(None);
        }
        let cp = Checkpoint::sign(key, seq, &hash, at.0);
        files.write(&cp)?;
        Ok(Some(cp))
    }

    /// Verifies the chain, held to the newest checkpoint signed by `trusted`.
    pub async fn verify_audit_anchored(
        &self,
        files: &CheckpointFiles,
        trusted: &AuditVerifyingKey,
    ) -> Result<Anchored> {
        let latest = files.latest()?;
        if let Some(cp) = &latest
            && let Err(error) = cp.verify(trusted)
        {
            return Ok(Anchored::BadCheckpoint { seq: cp.seq, error });
        }
        let anchor = latest.as_ref().map(|cp| (cp.seq, cp.hash.as_str()));
        Ok(Anchored::Verified {
            verification: self.verify_audit(anchor).await?,
            checkpoint: latest.map(|cp| cp.seq),
        })
    }
}
