//! Supervision of how providers handle applications (A19.2): for each provider, the work
//! orders decided and how many of them by their deadline, the working days a decision took,
//! the orders still open and those overdue — for the operator's and the regulator's desks.

use std::collections::BTreeMap;

use domain::access::WorkOrderState;
use domain::ids::{OrgId, WorkOrderId};
use domain::policy::{Action, Resource};

use crate::App;
use crate::caller::Caller;
use crate::error::Result;

/// The months supervision looks back over.
pub const MONTHS: i64 = 12;
/// The most work orders it reads.
const MAX_ORDERS: i64 = 200_000;

/// One provider's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ProviderFigures {
    pub organization: OrgId,
    pub name: String,
    pub decided: u64,
    /// Decided by the end of their last working day.
    pub on_time: u64,
    /// The median working days from acceptance to decision.
    pub median_working_days: Option<i64>,
    pub open: u64,
    /// Open past their deadline.
    pub overdue: u64,
}

/// A work order past its deadline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Overdue {
    pub id: WorkOrderId,
    pub organization: OrgId,
    pub provider: String,
    pub due_on: chrono::NaiveDate,
    /// Working days since the deadline.
    pub working_days_late: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// The providers with work orders, the most overdue first.
    pub providers: Vec<ProviderFigures>,
    /// Every overdue work order, the longest late first.
    pub overdue: Vec<Overdue>,
    /// Conditional data handed over outside the platform, the latest first (A21.1).
    pub offline: Vec<OfflineFiling>,
}

/// An offline delivery as the regulator reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct OfflineFiling {
    pub id: String,
    pub agreement: domain::ids::AgreementId,
    pub organization: OrgId,
    pub provider: String,
    pub reason: String,
    pub recipient: String,
    pub sha256: String,
    pub file_name: Option<String>,
    pub size: Option<i64>,
    /// When it was filed (RFC 3339, China Standard Time).
    pub filed_at: String,
}

/// The most offline filings the desk lists.
const MAX_OFFLINE: i64 = 500;

/// The figures over the last [`MONTHS`] months, as of now.
pub async fn summary(app: &App, caller: &Caller) -> Result<Summary> {
    caller.authorize(Action::OverseeApplications, Resource::Platform)?;
    let now = app.clock.now();
    let since = now.plus_seconds(-MONTHS * 31 * 86_400);
    let orders = app.store.work_order_outcomes(since, MAX_ORDERS).await?;
    let (calendar, _) = crate::calendar::calendar(app).await?;
    let today = now.to_cst().date_naive();
    let mut names: BTreeMap<OrgId, String> = BTreeMap::new();
    for o in &orders {
        if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(o.org_id) {
            slot.insert(app.store.org(&o.org_id.to_string()).await?.name_zh);
        }
    }
    let mut figures: BTreeMap<OrgId, (ProviderFigures, Vec<i64>)> = BTreeMap::new();
    let mut overdue = Vec::new();
    for o in &orders {
        let (f, days) = figures.entry(o.org_id).or_insert_with(|| {
            (
                ProviderFigures {
                    organization: o.org_id,
                    name: names[&o.org_id].clone(),
                    ..Default::default()
                },
                Vec::new(),
            )
        });
        let accepted = o.created_at.to_cst().date_naive();
        match (o.state, o.decided_at) {
            (WorkOrderState::Approved | WorkOrderState::Refused, Some(at)) => {
                let day = at.to_cst().date_naive();
                f.decided += 1;
                if day <= o.due_on {
                    f.on_time += 1;
                }
                days.push(calendar.working_days_between(accepted, day));
            }
            _ => {
                f.open += 1;
                if today > o.due_on {
                    f.overdue += 1;
                    overdue.push(Overdue {
                        id: o.id,
                        organization: o.org_id,
                        provider: names[&o.org_id].clone(),
                        due_on: o.due_on,
                        working_days_late: -calendar.working_days_left(today, o.due_on),
                    });
                }
            }
        }
    }
    let mut providers: Vec<ProviderFigures> = figures
        .into_values()
        .map(|(mut f, mut days)| {
            days.sort_unstable();
            f.median_working_days = days.get(days.len() / 2).copied();
            f
        })
        .collect();
    providers.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(a.name.cmp(&b.name)));
    overdue.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.id.cmp(&b.id)));
    let mut offline = Vec::new();
    for o in app.store.offline_deliveries(since, MAX_OFFLINE).await? {
        let provider = match names.get(&o.org_id) {
            Some(n) => n.clone(),
            None => app.store.org(&o.org_id.to_string()).await?.name_zh,
        };
        offline.push(OfflineFiling {
            id: o.id,
            agreement: o.agreement_id,
            organization: o.org_id,
            provider,
            reason: o.reason,
            recipient: o.recipient,
            sha256: o.sha256,
            file_name: o.file_name,
            size: o.size,
            filed_at: o.filed_at.to_cst().to_rfc3339(),
        });
    }
    Ok(Summary {
        providers,
        overdue,
        offline,
    })
}
