//! Who someone is on the platform: platform roles held by staff of the operator, regulator and
//! security supervisor, and roles inside a provider organization.

use serde::Serialize;

pub use crate::names::UnknownName;
use crate::names::string_enum;

use crate::ids::{OrgId, UserId};

string_enum!(
    /// Roles of the platform's own staff (not tied to a provider organization).
    PlatformRole {
        Operator => "operator",
        Regulator => "regulator",
        SecurityAuditor => "security_auditor",
        Sysadmin => "sysadmin",
        /// Gives opinions on work orders sent to expert review (A19.2).
        Expert => "expert",
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
    /// When the account acts through an API token: what the token is limited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<TokenScope>,
}

/// What an API token may do, within what its account may: read only, or read and write; and
/// optionally only on one organization's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TokenScope {
    pub read_only: bool,
    pub org: Option<OrgId>,
    /// A credential issued under a data use agreement (A21.1): it reads what the agreement
    /// grants and does nothing else.
    pub agreement: Option<crate::ids::AgreementId>,
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
