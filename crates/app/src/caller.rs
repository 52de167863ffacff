//! Who calls a use case and from where: the actor the policy judges, how they came (a signed-in
//! session, an API token, the command line, the platform itself), and what the audit trail
//! records of the call. Never an HTTP type: the web layer builds a caller from its request, the
//! CLI and jobs build theirs directly.

use domain::clock::Timestamp;
use domain::policy::{Action, Resource, authorize};
use domain::roles::{Actor, UserActor};
use store::AuditEvent;

use crate::error::{Error, ErrorCode, Result};

/// How the caller reached the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Nobody signed in.
    Anonymous,
    /// A signed-in browser session (its secret's hash names the session).
    Session { token_hash: String },
    /// A bearer API token.
    ApiToken,
    /// An operator at the machine's command line.
    Cli,
    /// The platform itself: jobs, housekeeping, seeding.
    System,
}

/// The id the platform acts under when it acts as a provider (no account has it).
pub const PLATFORM_USER: &str = "00000000-0000-7000-8000-000000000000";

#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub via: Via,
    /// The client's address as the web layer determined it (a trusted proxy's forwarding
    /// believed), for the audit trail and for throttling.
    pub client_addr: Option<String>,
}

impl Caller {
    pub fn anonymous(client_addr: Option<String>) -> Self {
        Self {
            actor: Actor::Anonymous,
            via: Via::Anonymous,
            client_addr,
        }
    }

    /// An account acting from the command line.
    pub fn cli(actor: Actor) -> Self {
        Self {
            actor,
            via: Via::Cli,
            client_addr: None,
        }
    }

    /// The platform itself acting as a provider of `org`: the demo's seeding of data, and
    /// `kaifang generate` run at the machine by whoever runs the platform. Audited as the
    /// system; never built from a request.
    pub fn platform_for(org: domain::ids::OrgId) -> Self {
        use domain::roles::{Membership, OrgRole};
        Self {
            actor: Actor::User(UserActor {
                id: PLATFORM_USER.parse().expect("a valid id"),
                platform_roles: Vec::new(),
                memberships: vec![Membership {
                    org,
                    role: OrgRole::ProviderAdmin,
                }],
                scope: None,
            }),
            via: Via::System,
            client_addr: None,
        }
    }

    /// Asks the one policy whether this caller may do `action` to `resource`.
    pub fn authorize(&self, action: Action, resource: Resource) -> Result<()> {
        authorize(&self.actor, action, resource).map_err(Error::from)
    }

    /// The signed-in account; callers have been authorized for an action that needs one.
    pub fn user(&self) -> Result<&UserActor> {
        self.actor
            .user()
            .ok_or_else(|| Error::new(ErrorCode::NotSignedIn))
    }

    /// An audit record of a change made by this caller at `now`.
    pub fn event(
        &self,
        now: Timestamp,
        action: &'static str,
        target_type: &'static str,
        target_id: String,
    ) -> AuditEvent {
        let (actor_id, actor_role) = match &self.actor {
            Actor::Anonymous => (None, self.anonymous_role().to_owned()),
            Actor::User(u) => (Some(u.id.to_string()), u.audit_role()),
        };
        AuditEvent {
            at: now,
            actor_id,
            actor_role,
            action,
            target_type,
            target_id,
            before: None,
            after: None,
            client_addr: self.client_addr.clone(),
        }
    }

    fn anonymous_role(&self) -> &'static str {
        match self.via {
            Via::Cli => "cli",
            Via::System => "system",
            _ => "anonymous",
        }
    }
}
