//! Signed checkpoints of the audit chain, kept in the file store and never in the database
//! (see `domain::checkpoint`), and the signing key they are made with.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use domain::checkpoint::{AuditSigningKey, AuditVerifyingKey, Checkpoint, CheckpointError};
use domain::clock::Timestamp;

use crate::audit::Verification;
use crate::blobs::Blobs;
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

/// The checkpoints in the file store (a local directory or an S3 bucket, as the attachments),
/// one object per checkpoint under `audit-checkpoints/`, named by its zero-padded sequence
/// number so that the newest is the greatest name.
#[derive(Debug, Clone)]
pub struct CheckpointFiles {
    store: Arc<dyn ObjectStore>,
}

const PREFIX: &str = "audit-checkpoints";

fn object_error(e: object_store::Error) -> StoreError {
    StoreError::Io(format!("audit checkpoints: {e}"))
}

impl CheckpointFiles {
    pub fn new(blobs: &Blobs) -> Self {
        Self {
            store: blobs.object_store(),
        }
    }

    /// Writes `cp` whole or not at all (the object store writes an object atomically).
    pub async fn write(&self, cp: &Checkpoint) -> Result<String> {
        let name = format!("{PREFIX}/{:020}.json", cp.seq);
        let text = serde_json::to_vec_pretty(cp).expect("a checkpoint serializes");
        self.store
            .put(&ObjectPath::from(name.as_str()), text.into())
            .await
            .map_err(object_error)?;
        Ok(name)
    }

    /// The checkpoint of the highest sequence number, if any. An object there that does not
    /// read as a checkpoint is an error, not skipped: a damaged anchor must be seen.
    pub async fn latest(&self) -> Result<Option<Checkpoint>> {
        let prefix = ObjectPath::from(PREFIX);
        let mut newest: Option<ObjectPath> = None;
        let mut listing = self.store.list(Some(&prefix));
        while let Some(meta) = listing.next().await {
            let location = meta.map_err(object_error)?.location;
            let is_checkpoint = location
                .filename()
                .is_some_and(|n| n.ends_with(".json") && !n.starts_with('.'));
            if is_checkpoint && newest.as_ref().is_none_or(|n| location > *n) {
                newest = Some(location);
            }
        }
        let Some(location) = newest else {
            return Ok(None);
        };
        let bytes = self
            .store
            .get(&location)
            .await
            .map_err(object_error)?
            .bytes()
            .await
            .map_err(object_error)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Io(format!("{location} is not a checkpoint: {e}")))
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
        if files.latest().await?.is_some_and(|cp| cp.seq >= seq) {
            return Ok(None);
        }
        let cp = Checkpoint::sign(key, seq, &hash, at.0);
        files.write(&cp).await?;
        Ok(Some(cp))
    }

    /// Verifies the chain, held to the newest checkpoint signed by `trusted`.
    pub async fn verify_audit_anchored(
        &self,
        files: &CheckpointFiles,
        trusted: &AuditVerifyingKey,
    ) -> Result<Anchored> {
        let latest = files.latest().await?;
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
