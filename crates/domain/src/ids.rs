//! Newtype ids. Every id is a UUIDv7 (time-ordered), stored as text so that one schema serves
//! SQLite and PostgreSQL alike.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A registered account (natural person or organization user).
    UserId
);
id_type!(
    /// An organization: a provider (bureau, district, utility) or the operator's own.
    OrgId
);
id_type!(
    /// A personal API token.
    TokenId
);
id_type!(
    /// An open-list entry (dataset).
    DatasetId
);
id_type!(
    /// An item of a provider's public data catalogue (目录).
    CatalogueItemId
);
id_type!(
    /// An open-list change ticket (A11).
    TicketId
);
id_type!(
    /// A policy, rule or news article the portal publishes (A25.4).
    ArticleId
);
id_type!(
    /// A background job.
    JobId
);
id_type!(
    /// An application for conditional data (A18.2).
    ApplicationId
);
id_type!(
    /// A provider's share of an accepted application, reviewed by that provider (A19.2).
    WorkOrderId
);
id_type!(
    /// A data use agreement between an applicant and a provider (A20.1).
    AgreementId
);
id_type!(
    /// A work order sent to one expert for an opinion by a date (A19.2).
    AssignmentId
);
