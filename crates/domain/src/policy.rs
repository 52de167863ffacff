//! The one authorization policy: "may this actor do this action to this resource".
//! Every route asks [`authorize`]; a test walks every route with every role and checks that
//! what the route does is what this function says.

use serde::Serialize;

use crate::ids::OrgId;
use crate::roles::{Actor, OrgRole, PlatformRole};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Anything the rules make public to anyone without registering (A17).
    ViewPublic,
    Register,
    LogIn,
    LogOut,
    ViewOwnAccount,
    ManageOwnTokens,
    CreateOrganization,
    ViewMembers,
    ManageMembers,
    ListUsers,
    ManagePlatformRoles,
    /// Reading the audit trail (A25.5, A26.1): security supervisor and regulator.
    ViewAudit,
    /// Seeing an organization's internal open-list work: drafts, non-open entries, catalogue.
    ViewOrgInternal,
    /// Writing an organization's open list: drafts, catalogue imports, change tickets (A25.1).
    EditOpenList,
    /// Maintaining the classification guide (A13.1).
    EditGuide,
    /// Maintaining domains, formats and the glossary.
    ManageVocabularies,
    /// Accepting or returning open-list change tickets (A11).
    ReviewTickets,
    /// Writing the policies, rules and news the portal publishes (A25.4).
    PublishArticles,
}

impl Action {
    /// Actions anyone may take without an account.
    pub fn is_public(self) -> bool {
        matches!(self, Action::ViewPublic | Action::Register | Action::LogIn)
    }

    pub const ALL: &'static [Action] = &[
        Action::ViewPublic,
        Action::Register,
        Action::LogIn,
        Action::LogOut,
        Action::ViewOwnAccount,
        Action::ManageOwnTokens,
        Action::CreateOrganization,
        Action::ViewMembers,
        Action::ManageMembers,
        Action::ListUsers,
        Action::ManagePlatformRoles,
        Action::ViewAudit,
        Action::ViewOrgInternal,
        Action::EditOpenList,
        Action::EditGuide,
        Action::ManageVocabularies,
        Action::ReviewTickets,
        Action::PublishArticles,
    ];
}

/// What an action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Resource {
    Platform,
    Organization(OrgId),
    /// The caller's own account and what hangs off it (sessions, tokens).
    OwnAccount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("sign in first")]
    NotSignedIn,
    #[error("this account may not do that")]
    Forbidden,
}

pub fn authorize(actor: &Actor, action: Action, resource: Resource) -> Result<(), Denial> {
    use Action::*;
    use PlatformRole::*;

    if action.is_public() {
        return Ok(());
    }
    let Some(user) = actor.user() else {
        return Err(Denial::NotSignedIn);
    };
    let allowed = match action {
        ViewPublic | Register | LogIn => true,
        LogOut | ViewOwnAccount | ManageOwnTokens => resource == Resource::OwnAccount,
        CreateOrganization => user.has(Operator) || user.has(Sysadmin),
        ViewMembers => match resource {
            Resource::Organization(org) => {
                user.role_in(org).is_some()
                    || user.has(Operator)
                    || user.has(Regulator)
                    || user.has(Sysadmin)
            }
            _ => false,
        },
        ManageMembers => match resource {
            Resource::Organization(org) => {
                user.role_in(org) == Some(OrgRole::ProviderAdmin)
                    || user.has(Operator)
                    || user.has(Sysadmin)
            }
            _ => false,
        },
        ListUsers => user.has(Operator) || user.has(Sysadmin),
        ManagePlatformRoles => user.has(Sysadmin),
        // Separation of duties: those who run the platform do not read its audit trail alone.
        ViewAudit => user.has(SecurityAuditor) || user.has(Regulator),
        ViewOrgInternal => match resource {
            Resource::Organization(org) => {
                user.role_in(org).is_some() || user.has(Operator) || user.has(Regulator)
            }
            _ => false,
        },
        EditOpenList => match resource {
            Resource::Organization(org) => {
                matches!(
                    user.role_in(org),
                    Some(OrgRole::ProviderAdmin | OrgRole::Editor)
                )
            }
            _ => false,
        },
        EditGuide | ManageVocabularies | ReviewTickets | PublishArticles => user.has(Operator),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denial::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::roles::{Membership, UserActor};

    fn user(roles: &[PlatformRole], memberships: &[Membership]) -> Actor {
        Actor::User(UserActor {
            id: UserId::new(),
            platform_roles: roles.to_vec(),
            memberships: memberships.to_vec(),
        })
    }

    #[test]
    fn anonymous_may_only_see_public_things_and_sign_in() {
        for &action in Action::ALL {
            let expected = matches!(
                action,
                Action::ViewPublic | Action::Register | Action::LogIn
            );
            assert_eq!(
                authorize(&Actor::Anonymous, action, Resource::Platform).is_ok(),
                expected,
                "{action:?}"
            );
        }
    }

    #[test]
    fn provider_admin_manages_only_their_own_organization() {
        let (a, b) = (OrgId::new(), OrgId::new());
        let admin = user(
            &[],
            &[Membership {
                org: a,
                role: OrgRole::ProviderAdmin,
            }],
        );
        let editor = user(
            &[],
            &[Membership {
                org: a,
                role: OrgRole::Editor,
            }],
        );
        assert!(authorize(&admin, Action::ManageMembers, Resource::Organization(a)).is_ok());
        assert_eq!(
            authorize(&admin, Action::ManageMembers, Resource::Organization(b)),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            authorize(&editor, Action::ManageMembers, Resource::Organization(a)),
            Err(Denial::Forbidden)
        );
        assert!(authorize(&editor, Action::ViewMembers, Resource::Organization(a)).is_ok());
    }

    #[test]
    fn only_a_providers_admins_and_editors_write_its_open_list() {
        let (a, b) = (OrgId::new(), OrgId::new());
        let admin = user(
            &[],
            &[Membership {
                org: a,
                role: OrgRole::ProviderAdmin,
            }],
        );
        let editor = user(
            &[],
            &[Membership {
                org: a,
                role: OrgRole::Editor,
            }],
        );
        let reviewer = user(
            &[],
            &[Membership {
                org: a,
                role: OrgRole::Reviewer,
            }],
        );
        let operator = user(&[PlatformRole::Operator], &[]);
        for (actor, expected) in [
            (&admin, true),
            (&editor, true),
            (&reviewer, false),
            (&operator, false),
        ] {
            assert_eq!(
                authorize(actor, Action::EditOpenList, Resource::Organization(a)).is_ok(),
                expected
            );
        }
        assert!(authorize(&admin, Action::EditOpenList, Resource::Organization(b)).is_err());
        assert!(
            authorize(
                &reviewer,
                Action::ViewOrgInternal,
                Resource::Organization(a)
            )
            .is_ok()
        );
        assert!(
            authorize(
                &operator,
                Action::ViewOrgInternal,
                Resource::Organization(b)
            )
            .is_ok()
        );
        assert!(authorize(&admin, Action::ViewOrgInternal, Resource::Organization(b)).is_err());
    }

    #[test]
    fn audit_is_for_the_security_auditor_and_regulator_only() {
        for &role in PlatformRole::ALL {
            let expected = matches!(
                role,
                PlatformRole::SecurityAuditor | PlatformRole::Regulator
            );
            assert_eq!(
                authorize(&user(&[role], &[]), Action::ViewAudit, Resource::Platform).is_ok(),
                expected
            );
        }
    }
}
