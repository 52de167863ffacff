//! Alerts on unusual use of conditional data (A30.1): calls far above the volume the
//! applicant declared, a whole table paged through, calls outside the period of use. Each
//! kind is raised at most once a day per agreement and entry, to the provider's deciders and
//! the operators, and recorded in the audit trail as the platform's observation. Raising an
//! alert never decides a call: the call is answered (or refused) for its own reasons.

use domain::clock::Timestamp;
use domain::ids::{AgreementId, DatasetId};
use domain::notice::{Notice, NoticeKind};
use serde_json::json;

use crate::App;
use crate::notify::{self, Outbox};

/// Calls a minute that count as a burst: twenty times the declared day's volume spread evenly
/// over its minutes, and never fewer than this.
pub const MIN_BURST_PER_MINUTE: u64 = 10;

/// Calls in one minute above which a credential granted `calls_per_day` is bursting.
pub fn burst_limit(calls_per_day: u64) -> u64 {
    (calls_per_day.saturating_mul(20))
        .div_ceil(24 * 60)
        .max(MIN_BURST_PER_MINUTE)
}

/// Calls in a day, at least, before rows delivered add up to scraping: one download of the
/// whole table is what a grant allows, paging through it call after call is scraping.
pub const SCRAPING_MIN_CALLS: u64 = 3;

/// What was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// More calls in a minute than [`burst_limit`] of the declared volume.
    Burst { calls: u64, limit: u64 },
    /// Rows delivered today reached the whole table over several calls.
    Scraping { rows: u64, table_rows: u64 },
    /// A call on a day outside the period of use.
    OutsidePeriod,
}

impl Anomaly {
    pub fn kind(&self) -> &'static str {
        match self {
            Anomaly::Burst { .. } => "burst",
            Anomaly::Scraping { .. } => "scraping",
            Anomaly::OutsidePeriod => "outside_period",
        }
    }

    fn notice(&self) -> NoticeKind {
        match self {
            Anomaly::Burst { .. } => NoticeKind::UsageBurst,
            Anomaly::Scraping { .. } => NoticeKind::UsageScraping,
            Anomaly::OutsidePeriod => NoticeKind::UsageOutsidePeriod,
        }
    }

    fn details(&self) -> serde_json::Value {
        match self {
            Anomaly::Burst { calls, limit } => {
                json!({ "calls_in_a_minute": calls, "limit": limit })
            }
            Anomaly::Scraping { rows, table_rows } => {
                json!({ "rows_today": rows, "table_rows": table_rows })
            }
            Anomaly::OutsidePeriod => json!({}),
        }
    }
}

/// Raises `anomaly` seen on a call under `agreement` to `dataset`, unless it was raised today.
/// Failures are logged, never passed to the call.
pub async fn raise(
    app: &App,
    agreement: AgreementId,
    dataset: DatasetId,
    anomaly: Anomaly,
    now: Timestamp,
) {
    if let Err(e) = try_raise(app, agreement, dataset, &anomaly, now).await {
        tracing::warn!(error = %e, kind = anomaly.kind(), "a usage alert could not be raised");
    }
}

async fn try_raise(
    app: &App,
    agreement: AgreementId,
    dataset: DatasetId,
    anomaly: &Anomaly,
    now: Timestamp,
) -> crate::Result<()> {
    let day = now.to_cst().date_naive();
    // Seen again and again once seen (every call of a scraper after the whole table): counted
    // in the process, so that only the first costs a write.
    let key = format!("anomaly:{agreement}:{dataset}:{}:{day}", anomaly.kind());
    if app.counters.add(&app.store, &key, 1, now, 86_400).await? > 1 {
        return Ok(());
    }
    let a = app.store.agreement(&agreement.to_string()).await?;
    let mut people = notify::deciders(app, a.org_id).await?;
    people.extend(notify::operators(app).await?);
    people.sort();
    people.dedup();
    let entry = app
        .store
        .dataset(&dataset.to_string())
        .await
        .map(|d| d.meta.name)
        .unwrap_or_default();
    let mut outbox = Outbox::default();
    outbox.to(
        people,
        &Notice::new(anomaly.notice(), format!("/agreements/{agreement}")).with("entry", entry),
    );
    let mut tx = app.store.begin_write().await?;
    let mut ev = store::AuditEvent::system(
        now,
        "system",
        "agreement.anomaly",
        "agreement",
        agreement.to_string(),
    );
    let mut after = anomaly.details();
    after["kind"] = json!(anomaly.kind());
    after["dataset"] = json!(dataset);
    ev.after = Some(after);
    tx.audit(ev).await?;
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_twenty_times_the_declared_rate_and_never_below_ten_a_minute() {
        assert_eq!(burst_limit(0), 10);
        assert_eq!(burst_limit(100), 10);
        // 1,000 a day is 0.69 a minute on average; twenty times that, rounded up.
        assert_eq!(burst_limit(1_000), 14);
        assert_eq!(burst_limit(144_000), 2_000);
        // Never overflows: the product saturates first.
        assert_eq!(burst_limit(u64::MAX), u64::MAX.div_ceil(24 * 60));
    }
}
