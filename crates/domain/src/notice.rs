//! What the platform tells a party when something of theirs changes (issue: every state change
//! of conditional opening notifies each party concerned). A notice is a kind and its named
//! values; the words are the message catalogue's, in the reader's language.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::names::string_enum;

string_enum!(
    /// What happened.
    NoticeKind {
        /// To the applicant: what they submitted, as a confirmation.
        ApplicationSubmitted => "application_submitted",
        /// To the operators: an application waits for the completeness review.
        ApplicationToCheck => "application_to_check",
        /// To the applicant: returned with every reason.
        ApplicationReturned => "application_returned",
        /// To the applicant: accepted, with the providers' deadlines.
        ApplicationAccepted => "application_accepted",
        /// To the provider's deciders: who asked for what, and by when to decide.
        WorkOrderAssigned => "work_order_assigned",
        /// To the applicant: the provider's decision.
        WorkOrderApproved => "work_order_approved",
        WorkOrderRefused => "work_order_refused",
        /// To a side that has yet to sign.
        AgreementToSign => "agreement_to_sign",
        /// To both sides: delivery has begun.
        AgreementActive => "agreement_active",
        /// To both sides: delivery stopped, restarted or ended.
        DeliverySuspended => "delivery_suspended",
        DeliveryResumed => "delivery_resumed",
        DeliveryRevoked => "delivery_revoked",
        /// To the provider's deciders: a provisional deadline counted again.
        DeadlineRecounted => "deadline_recounted",
        /// To the provider's deciders: a deadline is near.
        DeadlineNear => "deadline_near",
        /// To the operators: a deadline was counted into a year whose holidays are not loaded.
        DeadlineProvisional => "deadline_provisional",
        /// To an expert: a work order to give an opinion on, by a date.
        ExpertAssigned => "expert_assigned",
        /// To the applicant: the provider asked experts before deciding.
        SentToExperts => "sent_to_experts",
        /// To the provider's deciders: an expert's opinion is in.
        OpinionFiled => "opinion_filed",
        /// To the provider's deciders and the operators: unusual use under an agreement —
        /// calls far above the declared volume, a whole table paged through, calls outside
        /// the period of use.
        UsageBurst => "usage_burst",
        UsageScraping => "usage_scraping",
        UsageOutsidePeriod => "usage_outside_period",
        /// To the regulators: a provider filed conditional data handed over off the platform.
        OfflineDelivery => "offline_delivery",
    }
);

/// One notice, for one or more people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The values the message names (`entries`, `due`, `reasons`…).
    pub params: BTreeMap<String, String>,
    /// Where to look, a path of the portal.
    pub link: String,
}

impl Notice {
    pub fn new(kind: NoticeKind, link: impl Into<String>) -> Self {
        Self {
            kind,
            params: BTreeMap::new(),
            link: link.into(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.params.insert(name.to_owned(), value.into());
        self
    }
}
