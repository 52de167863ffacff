//! Who someone is on the platform: platform roles held by staff of the operator, regulator and
//! security supervisor, and roles inside a provider organization.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{OrgId, UserId};

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($code => Ok($name::$variant),)+ other => Err(UnknownName(other.to_owned())) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name: {0}")]
pub struct UnknownName(pub String);

string_enum!(
    /// Roles of the platform's own staff (not tied to a provider organization).
    PlatformRole {
        Operator => "operator",
        Regulator => "regulator",
        SecurityAuditor => "security_auditor",
        Sysadmin => "sysadmin",
    }
);

string_enum!(
    /// Roles of a member inside a provider organization.
    OrgRole {
        ProviderAdmin => "provider_admin",
        Editor => "editor",
        Reviewer => "reviewer",
    }
);

string_enum!(
    /// What kind of 数据利用主体 registered the account.
    AccountKind {
        NaturalPerson => "natural_person",
        Organization => "organization",
    }
);

string_enum!(
    /// The kinds of provider organization named by the rules.
    OrgKind {
        Bureau => "bureau",
        District => "district",
        Utility => "utility",
        Operator => "operator",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub org: OrgId,
    pub role: OrgRole,
}

/// A signed-in account with everything the policy needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserActor {
    pub id: UserId,
    pub platform_roles: Vec<PlatformRole>,
    pub memberships: Vec<Membership>,
}

impl UserActor {
    pub fn has(&self, role: PlatformRole) -> bool {
        self.platform_roles.contains(&role)
    }

    pub fn role_in(&self, org: OrgId) -> Option<OrgRole> {
        self.memberships
            .iter()
            .find(|m| m.org == org)
            .map(|m| m.role)
    }

    /// The role recorded in the audit trail: the most privileged one the account holds.
    pub fn audit_role(&self) -> String {
        if let Some(role) = self.platform_roles.iter().min() {
            return role.as_str().to_owned();
        }
        if let Some(m) = self.memberships.iter().min_by_key(|m| m.role) {
            return m.role.as_str().to_owned();
        }
        "user".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Actor {
    Anonymous,
    User(UserActor),
}

impl Actor {
    pub fn user(&self) -> Option<&UserActor> {
        match self {
            Actor::Anonymous => None,
            Actor::User(u) => Some(u),
        }
    }
}
