//! Conditional opening (A18–A21): an access application, the work orders it becomes, and the
//! data use agreement an approval leads to, as state machines. Each transition names the party
//! making it — the app layer has asked the one policy who the caller is to the object — and a
//! party the rules do not give the step to, or a state the step does not start from, is a typed
//! error; nothing changes.
//!
//! ```text
//! application:  Draft ─submit─► Submitted ─accept_for_review─► Accepted (one work order per provider)
//!                 │                │  ▲
//!                 │  refuse_incomplete │ resubmit
//!                 │                ▼  │
//!                 └──withdraw──► Withdrawn ◄─withdraw─ Returned
//!
//! work order:   InReview ─send_to_experts─► ExpertReview ─back_from_experts─► InReview
//!               InReview | ExpertReview ─approve─► Approved | ─refuse─► Refused
//!
//! agreement:    AwaitingSignatures ─sign (each side once)─► Active ─suspend─► Suspended ─resume─► Active
//!               Active | Suspended ─revoke─► Revoked;  Active ─expire─► Expired;
//!               a new version signed supersedes it: Active | Suspended ─supersede─► Superseded
//! ```

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::names::string_enum as names;

/// Who makes a step, as the policy found the caller to be to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The account that applied (a person, or an organization's account).
    Applicant,
    /// The platform's operator (completeness review, A19.1; supervision of delivery).
    Operator,
    /// A reviewer of the organization that provides the entry (A19.2).
    Provider,
    /// An expert assigned to the work order.
    Expert,
    /// The platform itself: an agreement's period ending.
    System,
}

names!(ApplicationState {
    Draft => "draft",
    Submitted => "submitted",
    /// Refused as incomplete, with all its reasons at once; the applicant may fix and resubmit.
    Returned => "returned",
    /// Complete: it became one work order per provider.
    Accepted => "accepted",
    Withdrawn => "withdrawn",
});

names!(WorkOrderState {
    InReview => "in_review",
    ExpertReview => "expert_review",
    Approved => "approved",
    Refused => "refused",
});

names!(AgreementState {
    AwaitingSignatures => "awaiting_signatures",
    Active => "active",
    Suspended => "suspended",
    Revoked => "revoked",
    Expired => "expired",
    Superseded => "superseded",
});

/// A step refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("{party:?} may not {step}")]
    NotYours { party: Party, step: &'static str },
    #[error("a {object} that is {from} cannot be {step}")]
    WrongState {
        object: &'static str,
        from: &'static str,
        step: &'static str,
    },
    #[error("the agreement's text changed since it was read: read it again before signing")]
    TextChanged,
    #[error("{0:?} has signed already")]
    AlreadySigned(Party),
}

impl StepError {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotYours { .. } => "forbidden",
            Self::WrongState { .. } => "invalid_transition",
            Self::TextChanged => "agreement_text_changed",
            Self::AlreadySigned(_) => "already_signed",
        }
    }
}

fn only(party: Party, allowed: &[Party], step: &'static str) -> Result<(), StepError> {
    if allowed.contains(&party) {
        Ok(())
    } else {
        Err(StepError::NotYours { party, step })
    }
}

fn wrong(object: &'static str, from: &'static str, step: &'static str) -> StepError {
    StepError::WrongState { object, from, step }
}

/// Reasons given all at once (一次性告知): at least one, none blank, no repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Reasons(Vec<String>);

impl Reasons {
    /// The reasons, trimmed; `None` when none is left.
    pub fn new(reasons: impl IntoIterator<Item = String>) -> Option<Self> {
        let mut out: Vec<String> = Vec::new();
        for r in reasons {
            let r = r.trim().to_owned();
            if !r.is_empty() && !out.contains(&r) {
                out.push(r);
            }
        }
        (!out.is_empty()).then_some(Self(out))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl ApplicationState {
    pub fn submit(self, by: Party) -> Result<Self, StepError> {
        only(by, &[Party::Applicant], "submit")?;
        match self {
            Self::Draft => Ok(Self::Submitted),
            from => Err(wrong("application", from.as_str(), "submitted")),
        }
    }

    /// The applicant sends the application again after fixing what was refused.
    pub fn resubmit(self, by: Party) -> Result<Self, StepError> {
        only(by, &[Party::Applicant], "resubmit")?;
        match self {
            Self::Returned => Ok(Self::Submitted),
            from => Err(wrong("application", from.as_str(), "resubmitted")),
        }
    }

    /// Completeness review (A19.1): the materials are all there.
    pub fn accept_for_review(self, by: Party) -> Result<Self, StepError> {
        only(by, &[Party::Operator], "accept an application for review")?;
        match self {
            Self::Submitted => Ok(Self::Accepted),
            from => Err(wrong("application", from.as_str(), "accepted")),
        }
    }

    /// Completeness review (A19.1): refused with every reason at once (the type makes sure).
    pub fn refuse_incomplete(self, by: Party, _reasons: &Reasons) -> Result<Self, StepError> {
        only(
            by,
            &[Party::Operator],
            "refuse an application as incomplete",
        )?;
        match self {
            Self::Submitted => Ok(Self::Returned),
            from => Err(wrong("application", from.as_str(), "returned")),
        }
    }

    pub fn withdraw(self, by: Party) -> Result<Self, StepError> {
        only(by, &[Party::Applicant], "withdraw")?;
        match self {
            Self::Draft | Self::Submitted | Self::Returned => Ok(Self::Withdrawn),
            from => Err(wrong("application", from.as_str(), "withdrawn")),
        }
    }

    /// The applicant may still change the form.
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }
}

/// What the reviewer weighed in deciding (A19.2): fairness among those who apply, the value of
/// the scenario, and the risk of combining the data with other sources. Each is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Criteria {
    #[serde(default)]
    pub fairness: String,
    #[serde(default)]
    pub scenario_value: String,
    #[serde(default)]
    pub combination_risk: String,
}

impl Criteria {
    /// The criteria left blank, by field name.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("fairness", &self.fairness),
            ("scenario_value", &self.scenario_value),
            ("combination_risk", &self.combination_risk),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| k)
        .collect()
    }
}

/// What an application asks of one entry, or what a provider grants: the data items (column
/// level), the period of use and the calls a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub items: BTreeSet<String>,
    pub period: (NaiveDate, NaiveDate),
    pub calls_per_day: u64,
}

/// How a row filter compares a data item with its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RowOp {
    /// Equal to the one value.
    Eq,
    /// Equal to one of the values.
    In,
    /// At least the one value.
    Gte,
    /// At most the one value.
    Lte,
}

/// Values one `in` row filter may list.
pub const MAX_ROW_VALUES: usize = 50;
/// Row filters one grant may carry.
pub const MAX_ROW_FILTERS: usize = 10;

/// A condition every row delivered under a grant meets (A21.1): a provider may open only part
/// of an entry — one district's rows, a range of dates. The values are text here; the data's
/// own types give them meaning when a call is answered, and a filter the data can no longer
/// apply refuses the call rather than deliver more than was granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowFilter {
    /// The data item's field name.
    pub field: String,
    pub op: RowOp,
    /// One value; one or more for `in`.
    pub values: Vec<String>,
}

impl RowFilter {
    /// What is wrong with the filter's shape, as an error code: a filter names a field and
    /// gives one value (one to fifty for `in`), each a short line.
    pub fn problem(&self) -> Option<&'static str> {
        let n = self.values.len();
        let count_ok = match self.op {
            RowOp::In => (1..=MAX_ROW_VALUES).contains(&n),
            _ => n == 1,
        };
        if !count_ok {
            return Some("row_filter_values");
        }
        let bad = |v: &str| {
            v.trim().is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control)
        };
        if self.values.iter().any(|v| bad(v)) {
            return Some("row_filter_value");
        }
        None
    }
}

/// How the data of a grant is delivered (A21.1, A21.2): rows through the API under a
/// credential, or aggregates only, computed on the platform in the sandbox.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    #[default]
    Rows,
    Sandbox,
}

/// A differential-privacy budget ε (A25.6), held in thousandths so that grants compare
/// exactly; written and read as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Budget(u32);

impl Budget {
    /// The largest budget one grant may carry; past it the noise protects nobody.
    pub const MAX: f64 = 100.0;
    /// The smallest.
    pub const MIN: f64 = 0.001;

    /// `epsilon` as a budget, when it is a number from [`Budget::MIN`] to [`Budget::MAX`].
    pub fn new(epsilon: f64) -> Option<Budget> {
        (epsilon.is_finite() && (Self::MIN..=Self::MAX).contains(&epsilon))
            .then(|| Budget((epsilon * 1000.0).round() as u32))
    }

    pub fn from_thousandths(milli: u32) -> Budget {
        Budget(milli)
    }

    pub fn thousandths(self) -> u32 {
        self.0
    }

    pub fn epsilon(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl Serialize for Budget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.epsilon())
    }
}

impl<'de> Deserialize<'de> for Budget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let epsilon = f64::deserialize(d)?;
        Budget::new(epsilon).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "a privacy budget is from {} to {}",
                Budget::MIN,
                Budget::MAX
            ))
        })
    }
}

impl schemars::JsonSchema for Budget {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Budget".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "minimum": Budget::MIN,
            "maximum": Budget::MAX,
            "description": "A differential-privacy budget, epsilon"
        })
    }
}

/// Why a grant was refused: it gives what was not asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("data item {0} was not applied for")]
    ItemNotApplied(String),
    #[error("no data item is granted")]
    NoItems,
    #[error("the period granted lies outside the period applied for")]
    PeriodWider,
    #[error("the period ends before it starts")]
    PeriodBackwards,
    #[error("more calls a day than applied for")]
    QuotaHigher,
}

impl GrantError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::ItemNotApplied(_) => "item_not_applied",
            Self::NoItems => "no_items",
            Self::PeriodWider => "period_wider",
            Self::PeriodBackwards => "period_backwards",
            Self::QuotaHigher => "quota_higher",
        }
    }
}

impl Scope {
    /// A grant within what was applied for: the same or fewer items, a period inside, no more
    /// calls (A19.2: a provider may narrow, never widen).
    pub fn narrowed_to(&self, granted: Scope) -> Result<Scope, GrantError> {
        if granted.items.is_empty() {
            return Err(GrantError::NoItems);
        }
        if let Some(extra) = granted.items.difference(&self.items).next() {
            return Err(GrantError::ItemNotApplied(extra.clone()));
        }
        if granted.period.1 < granted.period.0 {
            return Err(GrantError::PeriodBackwards);
        }
        if granted.period.0 < self.period.0 || granted.period.1 > self.period.1 {
            return Err(GrantError::PeriodWider);
        }
        if granted.calls_per_day > self.calls_per_day {
            return Err(GrantError::QuotaHigher);
        }
        Ok(granted)
    }
}

impl WorkOrderState {
    pub fn is_open(self) -> bool {
        matches!(self, Self::InReview | Self::ExpertReview)
    }

    /// Large or complex requests go to experts (A19.2).
    pub fn send_to_experts(self, by: Party) -> Result<Self, StepError> {
        only(by, &[Party::Provider], "send a work order to experts")?;
        match self {
            Self::InReview => Ok(Self::ExpertReview),
            from => Err(wrong("work order", from.as_str(), "sent to experts")),
        }
    }

    /// The experts' opinions are in (or the provider takes the order back).
    pub fn back_from_experts(self, by: Party) -> Result<Self, StepError> {
        // The last expert's opinion brings it back, or the provider takes it back.
        only(
            by,
            &[Party::Provider, Party::Expert],
            "take a work order back from experts",
        )?;
        match self {
            Self::ExpertReview => Ok(Self::InReview),
            from => Err(wrong(
                "work order",
                from.as_str(),
                "taken back from experts",
            )),
        }
    }

    pub fn approve(self, by: Party) -> Result<Self, StepError> {
        only(by, &[Party::Provider], "approve a work order")?;
        match self {
            Self::InReview | Self::ExpertReview => Ok(Self::Approved),
            from => Err(wrong("work order", from.as_str(), "approved")),
        }
    }

    /// Refused with every reason at once (A19.3).
    pub fn refuse(self, by: Party, _reasons: &Reasons) -> Result<Self, StepError> {
        only(by, &[Party::Provider], "refuse a work order")?;
        match self {
            Self::InReview | Self::ExpertReview => Ok(Self::Refused),
            from => Err(wrong("work order", from.as_str(), "refused")),
        }
    }
}

/// An agreement's signatures so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Signatures {
    pub applicant: bool,
    pub provider: bool,
}

impl AgreementState {
    /// `by` signs the text whose digest it read (`read`); the agreement's text now has
    /// `current`. The second signature makes it active.
    pub fn sign(
        self,
        by: Party,
        signed: Signatures,
        read: &str,
        current: &str,
    ) -> Result<(Self, Signatures), StepError> {
        only(
            by,
            &[Party::Applicant, Party::Provider],
            "sign an agreement",
        )?;
        if self != Self::AwaitingSignatures {
            return Err(wrong("agreement", self.as_str(), "signed"));
        }
        if read != current {
            return Err(StepError::TextChanged);
        }
        let mut next = signed;
        let mine = if by == Party::Applicant {
            &mut next.applicant
        } else {
            &mut next.provider
        };
        if *mine {
            return Err(StepError::AlreadySigned(by));
        }
        *mine = true;
        let state = if next.applicant && next.provider {
            Self::Active
        } else {
            Self::AwaitingSignatures
        };
        Ok((state, next))
    }

    /// Delivery stops at once (A21.1): the provider or the operator.
    pub fn suspend(self, by: Party) -> Result<Self, StepError> {
        only(
            by,
            &[Party::Provider, Party::Operator],
            "suspend an agreement",
        )?;
        match self {
            Self::Active => Ok(Self::Suspended),
            from => Err(wrong("agreement", from.as_str(), "suspended")),
        }
    }

    pub fn resume(self, by: Party) -> Result<Self, StepError> {
        only(
            by,
            &[Party::Provider, Party::Operator],
            "resume an agreement",
        )?;
        match self {
            Self::Suspended => Ok(Self::Active),
            from => Err(wrong("agreement", from.as_str(), "resumed")),
        }
    }

    pub fn revoke(self, by: Party) -> Result<Self, StepError> {
        only(
            by,
            &[Party::Provider, Party::Operator],
            "revoke an agreement",
        )?;
        match self {
            Self::Active | Self::Suspended | Self::AwaitingSignatures => Ok(Self::Revoked),
            from => Err(wrong("agreement", from.as_str(), "revoked")),
        }
    }

    /// The period of use has ended.
    pub fn expire(self, by: Party) -> Result<Self, StepError> {
        only(by, &[Party::System], "end an agreement's period")?;
        match self {
            Self::Active | Self::Suspended => Ok(Self::Expired),
            from => Err(wrong("agreement", from.as_str(), "expired")),
        }
    }

    /// A new version was signed by both sides.
    pub fn supersede(self, by: Party) -> Result<Self, StepError> {
        only(
            by,
            &[Party::System],
            "replace an agreement by its new version",
        )?;
        match self {
            Self::Active | Self::Suspended => Ok(Self::Superseded),
            from => Err(wrong("agreement", from.as_str(), "superseded")),
        }
    }

    /// Data may be delivered under it now.
    pub fn delivers(self) -> bool {
        self == Self::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Party; 5] = [
        Party::Applicant,
        Party::Operator,
        Party::Provider,
        Party::Expert,
        Party::System,
    ];

    fn reasons() -> Reasons {
        Reasons::new(["缺少安全承诺书".to_owned()]).unwrap()
    }

    #[test]
    fn an_application_goes_round_until_complete() {
        let s = ApplicationState::Draft
            .submit(Party::Applicant)
            .unwrap()
            .refuse_incomplete(Party::Operator, &reasons())
            .unwrap();
        assert_eq!(s, ApplicationState::Returned);
        assert!(s.is_editable());
        let s = s
            .resubmit(Party::Applicant)
            .unwrap()
            .accept_for_review(Party::Operator)
            .unwrap();
        assert_eq!(s, ApplicationState::Accepted);
        assert!(!s.is_editable());
    }

    #[test]
    fn each_application_step_is_one_partys() {
        // (step, the one party allowed, the state it starts from)
        type Step = fn(ApplicationState, Party) -> Result<ApplicationState, StepError>;
        let steps: [(&str, Step, Party, ApplicationState); 5] = [
            (
                "submit",
                |s, p| s.submit(p),
                Party::Applicant,
                ApplicationState::Draft,
            ),
            (
                "resubmit",
                |s, p| s.resubmit(p),
                Party::Applicant,
                ApplicationState::Returned,
            ),
            (
                "accept",
                |s, p| s.accept_for_review(p),
                Party::Operator,
                ApplicationState::Submitted,
            ),
            (
                "refuse",
                |s, p| s.refuse_incomplete(p, &reasons()),
                Party::Operator,
                ApplicationState::Submitted,
            ),
            (
                "withdraw",
                |s, p| s.withdraw(p),
                Party::Applicant,
                ApplicationState::Submitted,
            ),
        ];
        for (name, step, allowed, from) in steps {
            for party in ALL {
                let got = step(from, party);
                if party == allowed {
                    assert!(got.is_ok(), "{name} by {party:?}");
                } else {
                    assert!(
                        matches!(got, Err(StepError::NotYours { .. })),
                        "{name} by {party:?}: {got:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_application_cannot_skip_or_repeat_a_step() {
        use ApplicationState::*;
        assert!(Draft.accept_for_review(Party::Operator).is_err());
        assert!(Accepted.submit(Party::Applicant).is_err());
        assert!(
            Submitted.submit(Party::Applicant).is_err(),
            "double submission"
        );
        assert!(Accepted.withdraw(Party::Applicant).is_err());
        assert!(Withdrawn.resubmit(Party::Applicant).is_err());
        let e = Returned.accept_for_review(Party::Operator).unwrap_err();
        assert_eq!(e.code(), "invalid_transition");
    }

    #[test]
    fn reasons_are_given_all_at_once_and_never_empty() {
        assert_eq!(Reasons::new(Vec::<String>::new()), None);
        assert_eq!(Reasons::new(["  ".to_owned()]), None);
        let r = Reasons::new(["甲".to_owned(), " 甲 ".to_owned(), "乙".to_owned()]).unwrap();
        assert_eq!(r.as_slice(), ["甲", "乙"]);
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn applied() -> Scope {
        Scope {
            items: ["name", "district", "capital"].map(String::from).into(),
            period: (d(2027, 1, 1), d(2027, 12, 31)),
            calls_per_day: 1_000,
        }
    }

    #[test]
    fn a_grant_may_narrow_what_was_applied_for_but_never_widen_it() {
        let narrower = Scope {
            items: ["name", "district"].map(String::from).into(),
            period: (d(2027, 3, 1), d(2027, 6, 30)),
            calls_per_day: 100,
        };
        assert_eq!(applied().narrowed_to(narrower.clone()), Ok(narrower));
        assert_eq!(applied().narrowed_to(applied()), Ok(applied()));
        let with = |f: fn(&mut Scope)| {
            let mut s = applied();
            f(&mut s);
            applied().narrowed_to(s).unwrap_err()
        };
        assert_eq!(
            with(|s| {
                s.items.insert("id_number".into());
            }),
            GrantError::ItemNotApplied("id_number".into())
        );
        assert_eq!(with(|s| s.items.clear()), GrantError::NoItems);
        assert_eq!(
            with(|s| s.period.1 = d(2028, 1, 1)),
            GrantError::PeriodWider
        );
        assert_eq!(
            with(|s| s.period = (d(2027, 5, 1), d(2027, 4, 1))),
            GrantError::PeriodBackwards
        );
        assert_eq!(with(|s| s.calls_per_day = 1_001), GrantError::QuotaHigher);
    }

    #[test]
    fn a_work_order_is_decided_by_its_provider_alone() {
        use WorkOrderState::*;
        let s = InReview.send_to_experts(Party::Provider).unwrap();
        assert_eq!(s, ExpertReview);
        for party in [
            Party::Applicant,
            Party::Operator,
            Party::Expert,
            Party::System,
        ] {
            assert!(s.approve(party).is_err(), "{party:?}");
            assert!(s.refuse(party, &reasons()).is_err(), "{party:?}");
        }
        assert_eq!(s.approve(Party::Provider), Ok(Approved));
        assert_eq!(InReview.refuse(Party::Provider, &reasons()), Ok(Refused));
        assert!(Approved.refuse(Party::Provider, &reasons()).is_err());
        assert!(Refused.approve(Party::Provider).is_err());
        assert!(!Approved.is_open());
    }

    #[test]
    fn an_agreement_needs_both_signatures_on_the_same_text() {
        use AgreementState::*;
        let none = Signatures::default();
        let (s, signed) = AwaitingSignatures
            .sign(Party::Applicant, none, "abc", "abc")
            .unwrap();
        assert_eq!(s, AwaitingSignatures);
        assert!(!s.delivers());
        // Signing twice, or a text that changed since it was read, is refused.
        assert_eq!(
            s.sign(Party::Applicant, signed, "abc", "abc"),
            Err(StepError::AlreadySigned(Party::Applicant))
        );
        assert_eq!(
            s.sign(Party::Provider, signed, "abc", "abd"),
            Err(StepError::TextChanged)
        );
        assert!(s.sign(Party::Operator, signed, "abc", "abc").is_err());
        let (s, _) = s.sign(Party::Provider, signed, "abc", "abc").unwrap();
        assert_eq!(s, Active);
        assert!(s.delivers());
    }

    #[test]
    fn delivery_stops_at_once_and_ends_for_good() {
        use AgreementState::*;
        let s = Active.suspend(Party::Provider).unwrap();
        assert!(!s.delivers());
        assert!(Active.suspend(Party::Applicant).is_err());
        assert_eq!(s.resume(Party::Operator), Ok(Active));
        assert_eq!(s.revoke(Party::Operator), Ok(Revoked));
        assert!(Revoked.resume(Party::Provider).is_err());
        assert!(
            Revoked
                .sign(Party::Applicant, Signatures::default(), "a", "a")
                .is_err()
        );
        assert_eq!(Active.expire(Party::System), Ok(Expired));
        assert!(Active.expire(Party::Provider).is_err());
        assert!(Expired.resume(Party::Provider).is_err());
        assert_eq!(Active.supersede(Party::System), Ok(Superseded));
    }
}
