//! Delivery of conditional data under an agreement (A21.1): a credential reads an entry only
//! while its agreement is active, within the period granted, up to the calls a day granted,
//! and only the data items granted. Checked on every call, before any data is read.

use std::collections::BTreeSet;

use domain::access::AgreementState;
use domain::ids::AgreementId;
use domain::openlist::vocab::OpenType;
use domain::policy::{Action, Resource};
use store::data_versions::DataVersion;
use store::datasets::DatasetRecord;

use crate::App;
use crate::anomaly::{Anomaly, SCRAPING_MIN_CALLS};
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};

/// What a credential may read of one entry, as checked at the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub agreement: AgreementId,
    /// The data items granted (column level).
    pub items: BTreeSet<String>,
    /// Conditions every row delivered meets.
    pub rows: Vec<domain::access::RowFilter>,
    /// Calls made today under the agreement to this entry, this one included.
    pub calls_today: u64,
}

impl Admission {
    /// Refuses the first of `fields` not granted, naming it.
    pub fn check<'a>(&self, fields: impl IntoIterator<Item = &'a str>) -> Result<()> {
        match fields.into_iter().find(|f| !self.items.contains(*f)) {
            None => Ok(()),
            Some(f) => {
                let mut e = Error::new(ErrorCode::FieldNotGranted);
                e.fields.push(FieldError {
                    field: "fields".into(),
                    code: "field_not_granted",
                    detail: Some(f.to_owned()),
                });
                Err(e)
            }
        }
    }
}

impl Admission {
    /// The grant's row filters over a version of `schema`, as the records API reads filters.
    /// A filter the data can no longer apply — its column gone, its value no longer of the
    /// column's type — refuses the call: delivering every row would give more than was granted.
    pub fn row_filters(
        &self,
        schema: &data::arrow::datatypes::Schema,
    ) -> Result<Vec<data::query::Filter>> {
        use data::query::Op;
        use domain::access::RowOp;
        self.rows
            .iter()
            .map(|f| {
                let op = match f.op {
                    RowOp::Eq => Op::Eq,
                    RowOp::In => Op::In,
                    RowOp::Gte => Op::Gte,
                    RowOp::Lte => Op::Lte,
                };
                let values: Vec<&str> = f.values.iter().map(String::as_str).collect();
                data::query::condition(schema, &f.field, op, &values, &f.field).map_err(|_| {
                    let mut e = Error::new(ErrorCode::RowFilterUnavailable);
                    e.fields.push(FieldError {
                        field: "rows".into(),
                        code: "row_filter_unavailable",
                        detail: Some(f.field.clone()),
                    });
                    e
                })
            })
            .collect()
    }
}

/// Seconds from `now` to the next midnight in China Standard Time, when a day's calls start
/// again.
fn until_midnight(now: domain::clock::Timestamp) -> i64 {
    let local = now.to_cst();
    let next = local.date_naive().succ_opt().unwrap_or(local.date_naive());
    let midnight = next
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(domain::clock::china_standard_time())
        .single()
        .expect("a fixed offset has one local time");
    ((midnight.timestamp_millis() - now.0) / 1000).max(1)
}

/// Whether `caller`'s credential may read `dataset` now, and what of it: counted as one call
/// against the day's quota when it may.
pub async fn admit(app: &App, caller: &Caller, dataset: &DatasetRecord) -> Result<Admission> {
    caller.authorize(Action::ReadOpenData, Resource::Dataset(dataset.facts()))?;
    if dataset.meta.open_type != OpenType::Conditional {
        return Err(ErrorCode::Forbidden.into());
    }
    let id = caller
        .user()?
        .scope
        .and_then(|s| s.agreement)
        .ok_or(ErrorCode::Forbidden)?;
    let now = app.clock.now();
    let held = app.agreements.get(app, id, now).await?;
    if held.record.state != AgreementState::Active {
        return Err(ErrorCode::AgreementNotActive.into());
    }
    let grant = held
        .grants
        .iter()
        .find(|g| g.dataset == dataset.id)
        .cloned()
        .ok_or(ErrorCode::NotGranted)?;
    // Aggregates only: the rows of a sandbox grant never leave the platform (A21.2).
    if grant.delivery == domain::access::Delivery::Sandbox {
        return Err(ErrorCode::SandboxOnly.into());
    }
    let calls = count_call(app, id, &grant, now).await?;
    Ok(Admission {
        agreement: id,
        items: grant.items,
        rows: grant.rows,
        calls_today: calls,
    })
}

/// Holds one call under `grant` of agreement `id` to the period and the calls a day granted,
/// and counts it: the calls made today, this one included.
pub(crate) async fn count_call(
    app: &App,
    id: AgreementId,
    grant: &crate::access::Grant,
    now: domain::clock::Timestamp,
) -> Result<u64> {
    let today = now.to_cst().date_naive();
    if today < grant.period_start || today > grant.period_end {
        crate::anomaly::raise(app, id, grant.dataset, Anomaly::OutsidePeriod, now).await;
        return Err(ErrorCode::OutsideAgreementPeriod.into());
    }
    let key = format!("agreement-calls:{id}:{}:{today}", grant.dataset);
    let calls = app.counters.add(&app.store, &key, 1, now, 86_400).await?;
    if calls as u64 > grant.calls_per_day {
        let mut e = Error::new(ErrorCode::QuotaExceeded);
        e.retry_after = Some(until_midnight(now));
        return Err(e);
    }
    // Against the volume granted, which is at most the one the applicant declared.
    let limit = crate::anomaly::burst_limit(grant.calls_per_day);
    let key = format!("agreement-minute:{id}:{}", grant.dataset);
    let minute = app.counters.add(&app.store, &key, 1, now, 60).await?;
    if minute as u64 > limit {
        let burst = Anomaly::Burst {
            calls: minute as u64,
            limit,
        };
        crate::anomaly::raise(app, id, grant.dataset, burst, now).await;
    }
    Ok(calls as u64)
}

/// Counts the `rows` one call delivered of `dataset` under `admission`, where `whole` rows are
/// all the call could reach: rows adding up to the whole over several calls in a day is a
/// table paged through, and raised as such.
pub async fn delivered(
    app: &App,
    admission: &Admission,
    dataset: domain::ids::DatasetId,
    rows: u64,
    whole: u64,
) {
    if rows == 0 || whole == 0 {
        return;
    }
    let now = app.clock.now();
    let day = now.to_cst().date_naive();
    let key = format!("agreement-rows:{}:{dataset}:{day}", admission.agreement);
    let n = rows.min(i64::MAX as u64) as i64;
    let counted = app.counters.add(&app.store, &key, n, now, 86_400).await;
    match counted {
        Ok(total) if total as u64 >= whole && admission.calls_today >= SCRAPING_MIN_CALLS => {
            let seen = Anomaly::Scraping {
                rows: total as u64,
                table_rows: whole,
            };
            crate::anomaly::raise(app, admission.agreement, dataset, seen, now).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "rows delivered under an agreement not counted"),
    }
}

/// The version of a conditional entry a credential reads, with what it may read of it.
pub async fn granted_version(
    app: &App,
    caller: &Caller,
    dataset: &DatasetRecord,
    number: Option<i64>,
) -> Result<(DataVersion, Admission)> {
    let admission = admit(app, caller, dataset).await?;
    let v = crate::open_data::lookup(app, dataset, number).await?;
    Ok((v, admission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_days_calls_start_again_at_midnight_in_shanghai() {
        // 2026-12-05 23:59:00 +08:00 is 15:59:00 UTC.
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T23:59:00+08:00").unwrap();
        assert_eq!(
            until_midnight(domain::clock::Timestamp(at.timestamp_millis())),
            60
        );
    }

    #[test]
    fn a_field_outside_the_grant_is_named() {
        let a = Admission {
            agreement: AgreementId::new(),
            items: ["line_name".to_owned()].into(),
            rows: Vec::new(),
            calls_today: 1,
        };
        assert!(a.check(["line_name"]).is_ok());
        let e = a.check(["line_name", "passenger_id"]).unwrap_err();
        assert_eq!(e.code, ErrorCode::FieldNotGranted);
        assert_eq!(e.fields[0].detail.as_deref(), Some("passenger_id"));
    }
}
