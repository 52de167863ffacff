//! Records held in the process for the calls that read them many times a second.
//!
//! Agreements held in the process for the calls made under them: a credential's every call
//! needs its agreement's state and grants, and a database read per call was most of what the
//! scope check cost. An agreement is read again at least once a second, and dropped at once
//! when this process changes its state (suspended, resumed, revoked, superseded, signed), so a
//! provider who stops delivery stops it at once here and within a second on other servers.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::clock::Timestamp;
use domain::ids::{AgreementId, DatasetId};
use store::agreements::AgreementRecord;
use store::data_versions::DataVersion;
use store::datasets::DatasetRecord;

use crate::App;
use crate::access::Grant;
use crate::error::Result;

/// How long an agreement (or an entry) is held before it is read again.
pub const HOLD_MILLIS: i64 = 1_000;
/// Agreements (or entries) held at most; past it, all are dropped and read again.
const MAX_HELD: usize = 10_000;

/// An agreement with its grants parsed.
#[derive(Debug)]
pub struct Held {
    pub record: AgreementRecord,
    pub grants: Vec<Grant>,
}

/// Each agreement held, with when it was read.
type Table = HashMap<AgreementId, (Timestamp, Arc<Held>)>;

#[derive(Debug, Clone, Default)]
pub struct Agreements {
    held: Arc<Mutex<Table>>,
}

impl Agreements {
    /// Agreement `id` as of at most a second before `now`.
    pub async fn get(&self, app: &App, id: AgreementId, now: Timestamp) -> Result<Arc<Held>> {
        {
            let held = self.held.lock().expect("held agreements lock");
            if let Some((at, h)) = held.get(&id)
                && (0..HOLD_MILLIS).contains(&(now.0 - at.0))
            {
                return Ok(h.clone());
            }
        }
        let record = app.store.agreement(&id.to_string()).await?;
        let h = Arc::new(Held {
            grants: crate::agreements::grants_of(&record),
            record,
        });
        let mut held = self.held.lock().expect("held agreements lock");
        if held.len() >= MAX_HELD {
            held.clear();
        }
        held.insert(id, (now, h.clone()));
        Ok(h)
    }

    /// Drops `id`, whose state this process just changed.
    pub fn forget(&self, id: AgreementId) {
        self.held.lock().expect("held agreements lock").remove(&id);
    }
}

/// An open-list entry as reads of its open data need it: the entry and its current data
/// version (none before the first is published).
#[derive(Debug)]
pub struct Entry {
    pub dataset: DatasetRecord,
    pub current: Option<DataVersion>,
}

/// Entries held for the reads of their open data (records, downloads), which would otherwise
/// read the entry and its current version from the database on every call. An
/// entry is read again once it has been held for a second, and at once after this process
/// commits a change to any entry (its metadata, status or data version), so a withdrawal or a
/// new version shows at once here and within a second on other servers.
#[derive(Debug, Clone, Default)]
pub struct Entries {
    held: Arc<Mutex<HashMap<DatasetId, HeldEntry>>>,
}

#[derive(Debug)]
struct HeldEntry {
    read_at: Instant,
    /// The store's count of entry changes when it was read.
    changes: u64,
    entry: Arc<Entry>,
}

impl Entries {
    /// The entry `id` names, as of at most a second ago and of this process's last change to
    /// an entry; `NotFound` when there is none.
    pub async fn get(&self, app: &App, id: &str) -> Result<Arc<Entry>> {
        let key = DatasetId::from_str(id).map_err(|_| crate::ErrorCode::NotFound)?;
        // Read before the entry: a change committed while it is read makes the next call
        // read it again.
        let changes = app.store.entry_changes();
        {
            let held = self.held.lock().expect("held entries lock");
            if let Some(h) = held.get(&key)
                && h.changes == changes
                && h.read_at.elapsed() < Duration::from_millis(HOLD_MILLIS as u64)
            {
                return Ok(h.entry.clone());
            }
        }
        let dataset = app.store.dataset(id).await?;
        let current = app.store.current_data_version(dataset.id).await?;
        let entry = Arc::new(Entry { dataset, current });
        let mut held = self.held.lock().expect("held entries lock");
        if held.len() >= MAX_HELD {
            held.clear();
        }
        held.insert(
            key,
            HeldEntry {
                read_at: Instant::now(),
                changes,
                entry: entry.clone(),
            },
        );
        Ok(entry)
    }
}
