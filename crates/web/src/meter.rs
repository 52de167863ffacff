//! The uses a request makes of open-list entries (A25.5). A handler notes each use on the
//! request's [`Meter`] as soon as it knows the entry, and adds the version, the fields and the
//! records as it learns them; the route guard hands the uses to the usage log once the
//! answer's body is done with — sent in full, or dropped because the caller went away — with
//! the answer's status and the bytes actually sent. A call refused after its entry was known
//! is logged too, with its status.

use std::sync::{Arc, Mutex, PoisonError};

use app::Caller;
use app::usage::UsageLog;
use axum::body::Body;
use axum::response::Response;
use domain::clock::Timestamp;
use domain::usage::{FieldList, UsageKind, Use};
use http_body_util::BodyExt;

/// The uses of one request, shared between its handler and the route guard.
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<Mutex<Vec<Use>>>);

impl Meter {
    fn with<R>(&self, f: impl FnOnce(&mut Vec<Use>) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Notes a use of `kind` of entry `dataset_id`.
    pub fn note(&self, kind: UsageKind, dataset_id: String) {
        self.with(|uses| uses.push(Use::of(kind, dataset_id)));
    }

    /// The data version the last noted use read (a version being ingested has no number).
    pub fn version(&self, number: Option<i64>) {
        self.with(|uses| {
            if let Some(u) = uses.last_mut() {
                u.version = number;
            }
        });
    }

    /// The fields a records query answers.
    pub fn query(&self, table: &data::records::Table, q: &data::query::Query) {
        let schema = table.schema();
        let names = schema.fields();
        self.fields(
            q.fields
                .iter()
                .filter_map(|&i| names.get(i))
                .map(|f| f.name().as_str()),
        );
    }

    /// The data items the request asked for (every use it made).
    pub fn fields<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let fields = FieldList::new(names);
        self.with(|uses| {
            for u in uses.iter_mut() {
                u.fields = fields.clone();
            }
        });
    }

    /// The records the request answered (every use it made).
    pub fn rows(&self, n: u64) {
        self.with(|uses| {
            for u in uses.iter_mut() {
                u.rows = n;
            }
        });
    }

    /// Takes back the last noted use: what the request did is not a use of its own (a later
    /// part of a download already logged).
    pub fn forget(&self) {
        self.with(|uses| uses.pop());
    }

    fn take(&self) -> Vec<Use> {
        self.with(std::mem::take)
    }
}

/// The response, with its body made to log the request's uses once it is done with.
pub fn log_when_sent(
    meter: &Meter,
    log: &UsageLog,
    caller: &Caller,
    at: Timestamp,
    response: Response,
) -> Response {
    let uses = meter.take();
    if uses.is_empty() {
        return response;
    }
    let status = response.status().as_u16();
    let mut sent = Sent {
        uses,
        status,
        bytes: 0,
        log: log.clone(),
        caller: caller.clone(),
        at,
    };
    let (parts, body) = response.into_parts();
    // The closure owns `sent` whole (a method call captures the value, not one field), so it
    // is dropped, and the uses logged, with the body.
    let body = body.inspect_frame(move |frame| {
        if let Some(data) = frame.data_ref() {
            sent.add(data.len());
        }
    });
    Response::from_parts(parts, Body::new(body))
}

/// What is logged when the body is dropped.
struct Sent {
    uses: Vec<Use>,
    status: u16,
    bytes: u64,
    log: UsageLog,
    caller: Caller,
    at: Timestamp,
}

impl Sent {
    fn add(&mut self, bytes: usize) {
        self.bytes = self.bytes.saturating_add(bytes as u64);
    }
}

impl Drop for Sent {
    fn drop(&mut self) {
        for mut u in self.uses.drain(..) {
            u.status = self.status;
            u.bytes = self.bytes;
            if !u.succeeded() {
                u.rows = 0;
            }
            self.log.record(&self.caller, self.at, u);
        }
    }
}
