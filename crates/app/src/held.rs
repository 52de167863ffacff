//! Agreements held in the process for the calls made under them: a credential's every call
//! needs its agreement's state and grants, and a database read per call was most of what the
//! scope check cost. An agreement is read again at least once a second, and dropped at once
//! when this process changes its state (suspended, resumed, revoked, superseded, signed), so a
//! provider who stops delivery stops it at once here and within a second on other servers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use domain::clock::Timestamp;
use domain::ids::AgreementId;
use store::agreements::AgreementRecord;

use crate::App;
use crate::access::Grant;
use crate::error::Result;

/// How long an agreement is held before it is read again.
pub const HOLD_MILLIS: i64 = 1_000;
/// Agreements held at most; past it, all are dropped and read again.
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
