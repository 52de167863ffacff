//! The one authorization policy: "may this actor do this action to this resource", where a
//! resource is an object with what the decision depends on (an entry's provider, status and
//! open type; a ticket's provider and state; an article's status). Every route asks
//! [`authorize`] about the object it acts on, and [`may_know`] whether a refusal may admit that
//! the object exists; a test walks every route with every role against an expected-answer
//! table written apart from this module.

use serde::Serialize;

use crate::articles::ArticleStatus;
use crate::ids::{OrgId, UserId};
use crate::openlist::ticket::TicketState;
use crate::openlist::vocab::{DatasetStatus, OpenType};
use crate::roles::{Actor, OrgRole, PlatformRole, UserActor};

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
    /// Changing one's own password (the old one typed again).
    ChangeOwnPassword,
    /// Streaming a file in, to attach it afterwards.
    UploadFiles,
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
    /// Accepting or returning open-list change tickets (A11) and providers' annual reviews
    /// (A10.1).
    ReviewTickets,
    /// Writing the policies, rules and news the portal publishes (A25.4).
    PublishArticles,
    /// Seeing and cancelling background jobs.
    ManageJobs,
    /// Uploading an entry's data and seeing its quality reports (A16.1, A23).
    PublishData,
    /// Reading an entry's data through previews, downloads, the records API and SQL: anyone,
    /// for unconditional data that is open now (A17.1); conditional data never through these
    /// routes.
    ReadOpenData,
    /// Reading the platform's metrics (Prometheus).
    ViewMetrics,
    /// The quality of every provider's data uploads over time (A16.4): the operator's
    /// monitoring and periodic evaluation, which the regulator may read too.
    ViewQuality,
    /// Loading a year's holidays and make-up workdays into the working-day calendar the
    /// review deadlines are counted on (A19.2), as the State Council's notices come out.
    ManageCalendar,
    /// Starting an application for conditional data (A18.2): any registered account.
    Apply,
    /// Reading an application and its materials: its applicant, the operator, the regulator.
    ViewApplication,
    /// Changing, submitting, resubmitting or withdrawing an application: its applicant only.
    EditApplication,
    /// The completeness review (A19.1): the operator, never on their own application.
    CheckCompleteness,
    /// Reading a work order and the materials of its entries: the providing organization's
    /// members, the applicant, the operator and the regulator.
    ViewWorkOrder,
    /// Deciding a work order (A19.2): the providing organization's admins and reviewers.
    DecideWorkOrder,
    /// Reading a data use agreement (A20.1): its two sides, the operator and the regulator.
    ViewAgreement,
    /// Signing an agreement: the applicant, and the provider's admins and reviewers.
    SignAgreement,
    /// Taking a new credential under an active agreement: its applicant only.
    TakeCredential,
    /// Suspending, resuming or revoking delivery under an agreement (A21.1): the provider's
    /// admins and reviewers, and the operator.
    ManageDelivery,
    /// Writing an organization's data use agreement template (A20.1): its admins and the
    /// operator.
    EditAgreementTemplate,
    /// Supervising how providers handle applications (A19.2): processing times, the on-time
    /// rate, overdue work orders — the operator and the regulator.
    OverseeApplications,
    /// Reading an expert review assignment and the request it is about: the expert it is
    /// given to, and those who see the provider's internal work; on the platform, an
    /// expert's own list.
    ViewAssignment,
    /// Filing an opinion on an assignment: its expert only.
    GiveOpinion,
    /// Changing an agreement's terms, which makes a new version both sides sign again
    /// (A20.1): the provider's admins and reviewers.
    ReviseAgreement,
    /// Letting a kind of personal information the scan found be opened in one data item of
    /// an entry, with a reason (A14.1): an operator who is not of the providing organization.
    GrantPrivacyException,
    /// Defining a conditional entry's sample data, drawn and published for anyone (A22.1):
    /// the operator.
    BuildSample,
    /// Asking aggregates of conditional data in an agreement's sandbox (A21.2): its applicant,
    /// signed in or with the agreement's credential. A read, like a credential's other calls:
    /// what it spends is the grant's quota and budget.
    QuerySandbox,
}

impl Action {
    /// Actions that change nothing: all a read-only token may do.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Action::ViewPublic
                | Action::ReadOpenData
                | Action::ViewOwnAccount
                | Action::ViewMembers
                | Action::ListUsers
                | Action::ViewAudit
                | Action::ViewOrgInternal
                | Action::ViewMetrics
                | Action::ViewQuality
                | Action::ViewApplication
                | Action::ViewWorkOrder
                | Action::ViewAgreement
                | Action::OverseeApplications
                | Action::ViewAssignment
                | Action::QuerySandbox
        )
    }

    /// Actions anyone may take without an account.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Action::ViewPublic | Action::ReadOpenData | Action::Register | Action::LogIn
        )
    }

    pub const ALL: &'static [Action] = &[
        Action::ViewPublic,
        Action::Register,
        Action::LogIn,
        Action::LogOut,
        Action::ViewOwnAccount,
        Action::ManageOwnTokens,
        Action::ChangeOwnPassword,
        Action::UploadFiles,
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
        Action::ManageJobs,
        Action::PublishData,
        Action::ReadOpenData,
        Action::ViewMetrics,
        Action::ViewQuality,
        Action::ManageCalendar,
        Action::Apply,
        Action::ViewApplication,
        Action::EditApplication,
        Action::CheckCompleteness,
        Action::ViewWorkOrder,
        Action::DecideWorkOrder,
        Action::ViewAgreement,
        Action::SignAgreement,
        Action::TakeCredential,
        Action::ManageDelivery,
        Action::EditAgreementTemplate,
        Action::OverseeApplications,
        Action::ViewAssignment,
        Action::GiveOpinion,
        Action::ReviseAgreement,
        Action::GrantPrivacyException,
        Action::BuildSample,
        Action::QuerySandbox,
    ];
}

/// What an action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Resource {
    Platform,
    Organization(OrgId),
    /// The caller's own account and what hangs off it (sessions, tokens).
    OwnAccount,
    /// An open-list entry.
    Dataset(DatasetFacts),
    /// An open-list change ticket (and the documents attached to it).
    Ticket(TicketFacts),
    /// A policy, rule or news article (and its attachments).
    Article(ArticleStatus),
    /// An application for conditional data (and its materials).
    Application(ApplicationFacts),
    /// A provider's work order (and the materials of its entries).
    WorkOrder(WorkOrderFacts),
    /// A data use agreement between an applicant and a provider.
    Agreement(WorkOrderFacts),
    /// A work order given to one expert for an opinion.
    Assignment(AssignmentFacts),
}

/// What the policy knows of an expert review assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AssignmentFacts {
    pub expert: UserId,
    /// The work order's.
    pub order: WorkOrderFacts,
}

/// What the policy knows of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApplicationFacts {
    pub applicant: UserId,
}

/// What the policy knows of a work order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WorkOrderFacts {
    /// The organization that provides its entries and decides it.
    pub org: OrgId,
    pub applicant: UserId,
}

/// What the policy knows of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DatasetFacts {
    pub org: OrgId,
    pub status: DatasetStatus,
    pub open_type: OpenType,
}

impl DatasetFacts {
    /// On the public open list: published (or static, or suspended with its notice), and not
    /// non-open. Non-open entries stay in the list for providers, operator and regulator (A14);
    /// drafts and withdrawn entries are their provider's.
    pub fn is_public(self) -> bool {
        matches!(
            self.status,
            DatasetStatus::Published | DatasetStatus::Static | DatasetStatus::Suspended
        ) && self.open_type != OpenType::NotOpen
    }

    /// Whether the entry's data is delivered under agreements: conditional and open now.
    pub fn serves_granted_data(self) -> bool {
        matches!(
            self.status,
            DatasetStatus::Published | DatasetStatus::Static
        ) && self.open_type == OpenType::Conditional
    }

    /// Whether the entry's data is served to anyone (previews, downloads, records, SQL):
    /// unconditional and open now. Conditional data is delivered under an agreement only.
    pub fn serves_open_data(self) -> bool {
        matches!(
            self.status,
            DatasetStatus::Published | DatasetStatus::Static
        ) && self.open_type == OpenType::Unconditional
    }
}

/// What the policy knows of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TicketFacts {
    pub org: OrgId,
    pub state: TicketState,
}

impl Resource {
    /// The organization the resource belongs to, if any.
    pub fn org(self) -> Option<OrgId> {
        match self {
            Resource::Organization(org) => Some(org),
            Resource::Dataset(d) => Some(d.org),
            Resource::Ticket(t) => Some(t.org),
            Resource::WorkOrder(w) | Resource::Agreement(w) => Some(w.org),
            Resource::Assignment(a) => Some(a.order.org),
            Resource::Platform
            | Resource::OwnAccount
            | Resource::Article(_)
            | Resource::Application(_) => None,
        }
    }
}

/// Sees an organization's internal work: its members, the operator and the regulator.
fn sees_internals(user: &UserActor, org: OrgId) -> bool {
    user.role_in(org).is_some()
        || user.has(PlatformRole::Operator)
        || user.has(PlatformRole::Regulator)
}

/// An admin or reviewer of the providing organization who is not the applicant.
fn decides_for_provider(user: &UserActor, w: WorkOrderFacts) -> bool {
    user.id != w.applicant
        && matches!(
            user.role_in(w.org),
            Some(OrgRole::ProviderAdmin | OrgRole::Reviewer)
        )
}

/// Whether a refusal of `resource` to `actor` may say so (401/403), or must answer as if the
/// object did not exist (404), because the actor may not even know of it: an entry that is not
/// public, a ticket, a draft article.
pub fn may_know(actor: &Actor, resource: Resource) -> bool {
    let user = actor.user();
    match resource {
        Resource::Dataset(d) => d.is_public() || user.is_some_and(|u| sees_internals(u, d.org)),
        Resource::Ticket(t) => user.is_some_and(|u| sees_internals(u, t.org)),
        Resource::Article(status) => {
            status == ArticleStatus::Published
                || user.is_some_and(|u| u.has(PlatformRole::Operator))
        }
        Resource::Application(a) => user.is_some_and(|u| {
            u.id == a.applicant || u.has(PlatformRole::Operator) || u.has(PlatformRole::Regulator)
        }),
        Resource::WorkOrder(w) | Resource::Agreement(w) => {
            user.is_some_and(|u| u.id == w.applicant || sees_internals(u, w.org))
        }
        Resource::Assignment(a) => {
            user.is_some_and(|u| u.id == a.expert || sees_internals(u, a.order.org))
        }
        Resource::Platform | Resource::Organization(_) | Resource::OwnAccount => true,
    }
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

    // What is public to everyone, except objects that are not public themselves.
    if action == ViewPublic {
        let visible = match resource {
            Resource::Dataset(_)
            | Resource::Ticket(_)
            | Resource::Article(_)
            | Resource::Application(_)
            | Resource::WorkOrder(_)
            | Resource::Assignment(_) => may_know(actor, resource),
            _ => true,
        };
        return match (visible, actor.user()) {
            (true, _) => Ok(()),
            (false, None) => Err(Denial::NotSignedIn),
            (false, Some(_)) => Err(Denial::Forbidden),
        };
    }
    // Open data: an entry anyone may know of, unconditional, and open now (not suspended);
    // conditional data only with a credential issued under an agreement, which the use case
    // holds to what the agreement grants (A21.1).
    if action == ReadOpenData {
        let credential = actor
            .user()
            .and_then(|u| u.scope)
            .is_some_and(|s| s.agreement.is_some());
        let open = match resource {
            Resource::Dataset(d) => d.serves_open_data() || (credential && d.serves_granted_data()),
            _ => false,
        };
        return match (open, actor.user()) {
            (true, _) => Ok(()),
            (false, None) if !may_know(actor, resource) => Err(Denial::NotSignedIn),
            (false, _) => Err(Denial::Forbidden),
        };
    }
    if action.is_public() {
        return Ok(());
    }
    let Some(user) = actor.user() else {
        return Err(Denial::NotSignedIn);
    };
    let org = resource.org();
    // A token's scope narrows what its account may do; it never widens it.
    if let Some(scope) = user.scope {
        let writes = !action.is_read();
        let outside = match (scope.org, org) {
            (Some(allowed), Some(org)) => allowed != org,
            // An organization's token does nothing platform-wide but read.
            (Some(_), None) => writes && resource != Resource::OwnAccount,
            (None, _) => false,
        };
        // A credential delivers data under its agreement and is good for nothing else (the
        // use case holds a sandbox query to the credential's own agreement).
        let credential_use = scope.agreement.is_some() && action != QuerySandbox;
        if (scope.read_only && writes) || outside || credential_use {
            return Err(Denial::Forbidden);
        }
    }
    let allowed = match action {
        ViewPublic | ReadOpenData | Register | LogIn => true,
        LogOut | ViewOwnAccount | ManageOwnTokens | ChangeOwnPassword | UploadFiles => {
            resource == Resource::OwnAccount
        }
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
        ViewOrgInternal => org.is_some_and(|org| sees_internals(user, org)),
        EditOpenList | PublishData => org.is_some_and(|org| {
            matches!(
                user.role_in(org),
                Some(OrgRole::ProviderAdmin | OrgRole::Editor)
            )
        }),
        // The queue is the operator's; a ticket is decided by an operator who is not a member
        // of the providing organization (separation of duties: nobody approves their own).
        ReviewTickets => match resource {
            Resource::Platform => user.has(Operator),
            Resource::Ticket(t) => user.has(Operator) && user.role_in(t.org).is_none(),
            // An organization's annual review is decided the same way (A10.1).
            Resource::Organization(org) => user.has(Operator) && user.role_in(org).is_none(),
            _ => false,
        },
        // Exceptions are granted to one entry by the operator (A9.3), never for their own
        // organization's data; so are exceptions to the privacy guard (A14.1).
        ManageVocabularies | GrantPrivacyException => match resource {
            Resource::Platform => user.has(Operator),
            Resource::Dataset(d) => user.has(Operator) && user.role_in(d.org).is_none(),
            _ => false,
        },
        EditGuide | PublishArticles | ManageCalendar | BuildSample => user.has(Operator),
        ManageJobs => user.has(Operator) || user.has(Sysadmin),
        ViewMetrics => user.has(Sysadmin),
        ViewQuality | OverseeApplications => user.has(Operator) || user.has(Regulator),
        // Any account may apply; an organization's token acts for that organization's
        // provider work only, so it does not apply for data.
        Apply => resource == Resource::OwnAccount && user.scope.is_none_or(|s| s.org.is_none()),
        ViewApplication => match resource {
            Resource::Application(a) => {
                user.id == a.applicant || user.has(Operator) || user.has(Regulator)
            }
            _ => false,
        },
        EditApplication => match resource {
            Resource::Application(a) => user.id == a.applicant,
            _ => false,
        },
        // Separation of duties: nobody checks their own application.
        CheckCompleteness => match resource {
            Resource::Platform => user.has(Operator),
            Resource::Application(a) => user.has(Operator) && user.id != a.applicant,
            _ => false,
        },
        ViewWorkOrder => match resource {
            Resource::WorkOrder(w) => user.id == w.applicant || sees_internals(user, w.org),
            // A provider's own inbox.
            Resource::Organization(org) => sees_internals(user, org),
            _ => false,
        },
        // Nobody decides on their own application, even as the provider's reviewer.
        DecideWorkOrder => match resource {
            Resource::WorkOrder(w) => decides_for_provider(user, w),
            _ => false,
        },
        ViewAgreement => match resource {
            Resource::Agreement(a) => user.id == a.applicant || sees_internals(user, a.org),
            _ => false,
        },
        SignAgreement => match resource {
            Resource::Agreement(a) => user.id == a.applicant || decides_for_provider(user, a),
            _ => false,
        },
        EditAgreementTemplate => match resource {
            Resource::Organization(org) => {
                user.role_in(org) == Some(OrgRole::ProviderAdmin) || user.has(Operator)
            }
            _ => false,
        },
        TakeCredential | QuerySandbox => match resource {
            Resource::Agreement(a) => user.id == a.applicant,
            _ => false,
        },
        ManageDelivery => match resource {
            Resource::Agreement(a) => {
                decides_for_provider(user, a) || (user.has(Operator) && user.id != a.applicant)
            }
            _ => false,
        },
        ReviseAgreement => match resource {
            Resource::Agreement(a) => decides_for_provider(user, a),
            _ => false,
        },
        ViewAssignment => match resource {
            Resource::Platform => user.has(Expert),
            Resource::Assignment(a) => user.id == a.expert || sees_internals(user, a.order.org),
            _ => false,
        },
        // An expert who has lost the role, or who applied, gives no opinion.
        GiveOpinion => match resource {
            Resource::Assignment(a) => {
                user.id == a.expert && user.has(Expert) && user.id != a.order.applicant
            }
            _ => false,
        },
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
            scope: None,
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
    fn nobody_decides_their_own_organizations_ticket() {
        let (a, b) = (OrgId::new(), OrgId::new());
        let insider = user(
            &[PlatformRole::Operator],
            &[Membership {
                org: a,
                role: OrgRole::Editor,
            }],
        );
        let ticket = |org| {
            Resource::Ticket(TicketFacts {
                org,
                state: TicketState::Submitted,
            })
        };
        assert_eq!(
            authorize(&insider, Action::ReviewTickets, ticket(a)),
            Err(Denial::Forbidden)
        );
        assert!(authorize(&insider, Action::ReviewTickets, ticket(b)).is_ok());
        assert!(authorize(&insider, Action::ReviewTickets, Resource::Platform).is_ok());
    }

    #[test]
    fn an_entry_is_known_to_the_public_only_while_it_is_open() {
        let org = OrgId::new();
        let entry = |status, open_type| {
            Resource::Dataset(DatasetFacts {
                org,
                status,
                open_type,
            })
        };
        let public = entry(DatasetStatus::Published, OpenType::Unconditional);
        assert!(authorize(&Actor::Anonymous, Action::ViewPublic, public).is_ok());
        for hidden in [
            entry(DatasetStatus::Draft, OpenType::Unconditional),
            entry(DatasetStatus::Withdrawn, OpenType::Unconditional),
            entry(DatasetStatus::Published, OpenType::NotOpen),
        ] {
            assert!(!may_know(&Actor::Anonymous, hidden));
            assert_eq!(
                authorize(&Actor::Anonymous, Action::ViewPublic, hidden),
                Err(Denial::NotSignedIn)
            );
            let member = user(
                &[],
                &[Membership {
                    org,
                    role: OrgRole::Reviewer,
                }],
            );
            assert!(authorize(&member, Action::ViewPublic, hidden).is_ok());
            assert!(authorize(&user(&[], &[]), Action::ViewPublic, hidden).is_err());
        }
    }

    #[test]
    fn a_tokens_scope_only_takes_rights_away() {
        let (a, b) = (OrgId::new(), OrgId::new());
        let scoped = |scope: crate::roles::TokenScope| {
            Actor::User(UserActor {
                id: crate::ids::UserId::new(),
                platform_roles: vec![PlatformRole::Operator],
                memberships: vec![Membership {
                    org: a,
                    role: OrgRole::Editor,
                }],
                scope: Some(scope),
            })
        };
        let read = scoped(crate::roles::TokenScope {
            read_only: true,
            org: None,
            agreement: None,
        });
        assert!(authorize(&read, Action::ViewOrgInternal, Resource::Organization(a)).is_ok());
        assert!(authorize(&read, Action::EditOpenList, Resource::Organization(a)).is_err());
        let only_b = scoped(crate::roles::TokenScope {
            read_only: false,
            org: Some(b),
            agreement: None,
        });
        // Limited to B, whose member the account is not: no editing there, and none in A.
        assert!(authorize(&only_b, Action::EditOpenList, Resource::Organization(b)).is_err());
        assert!(authorize(&only_b, Action::EditOpenList, Resource::Organization(a)).is_err());
        assert!(authorize(&only_b, Action::ViewOrgInternal, Resource::Organization(b)).is_ok());
        assert!(authorize(&only_b, Action::EditGuide, Resource::Platform).is_err());
        assert!(authorize(&only_b, Action::ViewPublic, Resource::Platform).is_ok());

        // A credential under an agreement reads conditional entries on the open list (the
        // use case then holds it to what the agreement grants) and does nothing else.
        let credential = scoped(crate::roles::TokenScope {
            read_only: true,
            org: None,
            agreement: Some(crate::ids::AgreementId::new()),
        });
        let entry = |open_type| {
            Resource::Dataset(DatasetFacts {
                org: b,
                status: DatasetStatus::Published,
                open_type,
            })
        };
        assert!(
            authorize(
                &credential,
                Action::ReadOpenData,
                entry(OpenType::Conditional)
            )
            .is_ok()
        );
        assert!(authorize(&read, Action::ReadOpenData, entry(OpenType::Conditional)).is_err());
        assert!(authorize(&credential, Action::ReadOpenData, entry(OpenType::NotOpen)).is_err());
        assert!(
            authorize(
                &credential,
                Action::ViewOrgInternal,
                Resource::Organization(a)
            )
            .is_err()
        );
        assert!(authorize(&credential, Action::ViewOwnAccount, Resource::OwnAccount).is_err());
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
