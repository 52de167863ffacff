//! Walks every route with every role and an anonymous visitor, over objects of the caller's
//! own organization and of another, in several states (a draft, a published and a withdrawn
//! entry, open tickets, a published and a draft article), and checks each answer against an
//! expected-answer table written here from the rules, apart from the policy it tests. Every
//! write sends a valid body or form, so a caller who is let in must get the route's own
//! answer: a 400, a 404 for an object that exists, a 422 outside the steps where the rules
//! judge an entry's content, or a 500 fails the test.

use std::collections::{BTreeSet, HashMap};

use domain::articles::ArticleStatus;
use domain::openlist::vocab::DatasetStatus;
use domain::policy::Action;
use domain::roles::{OrgRole, PlatformRole};
use reqwest::Method;
use web::routes::Target;

use crate::support::*;

/// The routes this test knows, declared independently of the route table: a route added
/// without a line here fails the test, so nobody forgets to think about who may call it.
#[rustfmt::skip]
const ROUTES: &[(&str, &str, Action, Target)] = &[
    ("GET", "/healthz", Action::ViewPublic, Target::Platform),
    ("GET", "/readyz", Action::ViewPublic, Target::Platform),
    ("GET", "/static/site.css", Action::ViewPublic, Target::Platform),
    ("GET", "/", Action::ViewPublic, Target::Platform),
    ("GET", "/lang/{code}", Action::ViewPublic, Target::Platform),
    ("GET", "/static/site.js", Action::ViewPublic, Target::Platform),
    ("GET", "/static/console.js", Action::ViewPublic, Target::Platform),
    ("GET", "/console", Action::ViewOwnAccount, Target::OwnAccount),
    ("GET", "/console/tickets", Action::ReviewTickets, Target::Platform),
    ("GET", "/console/review-cycles", Action::ReviewTickets, Target::Platform),
    ("GET", "/console/orgs/{org}", Action::ViewOrgInternal, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/datasets/new", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/datasets/from-file", Action::EditOpenList, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/datasets/from-file", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/catalogue", Action::ViewOrgInternal, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/catalogue", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/reviews", Action::ViewOrgInternal, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/review-cycles/{year}/submit", Action::EditOpenList, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/review-cycles/{year}/accept", Action::ReviewTickets, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/review-cycles/{year}/return", Action::ReviewTickets, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/members", Action::ViewMembers, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/members", Action::ManageMembers, Target::OrgInPath),
    ("POST", "/console/datasets/{dataset}/review", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/data-update", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/console/orgs/{org}/datasets", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/console/datasets/{dataset}/edit", Action::ViewOrgInternal, Target::DatasetInPath),
    ("GET", "/console/datasets/{dataset}/data", Action::ViewOrgInternal, Target::DatasetInPath),
    ("GET", "/console/datasets/{dataset}/privacy", Action::ViewOrgInternal, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/privacy", Action::PublishData, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/privacy/exceptions", Action::GrantPrivacyException, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/privacy/exceptions/{id}/withdraw", Action::GrantPrivacyException, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/sample", Action::BuildSample, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/data", Action::PublishData, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/data/{version}/cancel", Action::PublishData, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/publish", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/remove", Action::EditOpenList, Target::DatasetInPath),
    ("GET", "/console/tickets/{ticket}", Action::ViewOrgInternal, Target::TicketInPath),
    ("POST", "/console/tickets/{ticket}/accept", Action::ReviewTickets, Target::TicketInPath),
    ("POST", "/console/tickets/{ticket}/return", Action::ReviewTickets, Target::TicketInPath),
    ("POST", "/console/tickets/{ticket}/resubmit", Action::EditOpenList, Target::TicketInPath),
    ("GET", "/datasets", Action::ViewPublic, Target::Platform),
    ("GET", "/datasets/{dataset}", Action::ViewPublic, Target::DatasetInPath),
    ("GET", "/display/{mode}", Action::ViewPublic, Target::Platform),
    ("GET", "/orgs", Action::ViewPublic, Target::Platform),
    ("GET", "/orgs/{org}", Action::ViewPublic, Target::OrgInPath),
    ("GET", "/domains", Action::ViewPublic, Target::Platform),
    ("GET", "/domains/{code}", Action::ViewPublic, Target::Platform),
    ("GET", "/pages/{page}", Action::ViewPublic, Target::Platform),
    ("GET", "/developers", Action::ViewPublic, Target::Platform),
    ("GET", "/news", Action::ViewPublic, Target::Platform),
    ("GET", "/news/{id}", Action::ViewPublic, Target::ArticleInPath),
    ("GET", "/news/{id}/attachments/{attachment}", Action::ViewPublic, Target::ArticleInPath),
    ("GET", "/console/audit", Action::ViewAudit, Target::Platform),
    ("GET", "/console/audit/export.csv", Action::ViewAudit, Target::Platform),
    ("GET", "/console/guide", Action::EditGuide, Target::Platform),
    ("POST", "/console/guide", Action::EditGuide, Target::Platform),
    ("GET", "/console/guide/versions/{version}", Action::EditGuide, Target::Platform),
    ("GET", "/console/vocabularies", Action::ManageVocabularies, Target::Platform),
    ("POST", "/console/vocabularies/formats", Action::ManageVocabularies, Target::Platform),
    ("POST", "/console/vocabularies/glossary", Action::ManageVocabularies, Target::Platform),
    ("GET", "/console/people", Action::ListUsers, Target::Platform),
    ("POST", "/console/people/roles", Action::ManagePlatformRoles, Target::Platform),
    ("GET", "/console/articles", Action::PublishArticles, Target::Platform),
    ("GET", "/console/articles/new", Action::PublishArticles, Target::Platform),
    ("POST", "/console/articles", Action::PublishArticles, Target::Platform),
    ("GET", "/console/articles/{id}/edit", Action::PublishArticles, Target::ArticleInPath),
    ("POST", "/console/articles/{id}", Action::PublishArticles, Target::ArticleInPath),
    ("GET", "/api/v1/articles", Action::ViewPublic, Target::Platform),
    ("GET", "/api/v1/articles/{id}", Action::ViewPublic, Target::ArticleInPath),
    ("POST", "/api/v1/articles", Action::PublishArticles, Target::Platform),
    ("PUT", "/api/v1/articles/{id}", Action::PublishArticles, Target::ArticleInPath),
    ("GET", "/login", Action::LogIn, Target::Platform),
    ("POST", "/login", Action::LogIn, Target::Platform),
    ("GET", "/register", Action::Register, Target::Platform),
    ("POST", "/register", Action::Register, Target::Platform),
    ("POST", "/logout", Action::LogOut, Target::OwnAccount),
    ("GET", "/account", Action::ViewOwnAccount, Target::OwnAccount),
    ("POST", "/account/tokens", Action::ManageOwnTokens, Target::OwnAccount),
    ("POST", "/account/tokens/{id}/revoke", Action::ManageOwnTokens, Target::OwnAccount),
    ("GET", "/account/password", Action::ChangeOwnPassword, Target::OwnAccount),
    ("POST", "/account/password", Action::ChangeOwnPassword, Target::OwnAccount),
    ("POST", "/api/v1/me/password", Action::ChangeOwnPassword, Target::OwnAccount),
    ("GET", "/password/forgot", Action::LogIn, Target::Platform),
    ("POST", "/password/forgot", Action::LogIn, Target::Platform),
    ("GET", "/password/reset", Action::LogIn, Target::Platform),
    ("POST", "/password/reset", Action::LogIn, Target::Platform),
    ("POST", "/api/v1/auth/register", Action::Register, Target::Platform),
    ("POST", "/api/v1/auth/login", Action::LogIn, Target::Platform),
    ("POST", "/api/v1/auth/logout", Action::LogOut, Target::OwnAccount),
    ("GET", "/api/v1/me", Action::ViewOwnAccount, Target::OwnAccount),
    ("GET", "/api/v1/me/tokens", Action::ManageOwnTokens, Target::OwnAccount),
    ("GET", "/api/v1/me/notifications", Action::ViewOwnAccount, Target::OwnAccount),
    ("GET", "/inbox", Action::ViewOwnAccount, Target::OwnAccount),
    ("POST", "/api/v1/me/tokens", Action::ManageOwnTokens, Target::OwnAccount),
    ("DELETE", "/api/v1/me/tokens/{id}", Action::ManageOwnTokens, Target::OwnAccount),
    ("GET", "/api/v1/orgs", Action::ViewPublic, Target::Platform),
    ("POST", "/api/v1/orgs", Action::CreateOrganization, Target::Platform),
    ("GET", "/api/v1/orgs/{org}", Action::ViewPublic, Target::OrgInPath),
    ("GET", "/api/v1/orgs/{org}/members", Action::ViewMembers, Target::OrgInPath),
    ("PUT", "/api/v1/orgs/{org}/members", Action::ManageMembers, Target::OrgInPath),
    ("DELETE", "/api/v1/orgs/{org}/members/{user}", Action::ManageMembers, Target::OrgInPath),
    ("GET", "/api/v1/users", Action::ListUsers, Target::Platform),
    ("POST", "/api/v1/users/{user}/roles", Action::ManagePlatformRoles, Target::Platform),
    ("GET", "/api/v1/audit", Action::ViewAudit, Target::Platform),
    ("GET", "/api/v1/vocabularies", Action::ViewPublic, Target::Platform),
    ("PUT", "/api/v1/vocabularies/formats/{code}", Action::ManageVocabularies, Target::Platform),
    ("PUT", "/api/v1/vocabularies/glossary/{term}", Action::ManageVocabularies, Target::Platform),
    ("PUT", "/api/v1/vocabularies/domains/{code}", Action::ManageVocabularies, Target::Platform),
    ("POST", "/api/v1/datasets/{dataset}/format-exceptions", Action::ManageVocabularies, Target::DatasetInPath),
    ("GET", "/api/v1/classification-guide", Action::ViewPublic, Target::Platform),
    ("PUT", "/api/v1/classification-guide", Action::EditGuide, Target::Platform),
    ("GET", "/api/v1/classification-guide/versions", Action::ViewPublic, Target::Platform),
    ("GET", "/api/v1/classification-guide/versions/{version}", Action::ViewPublic, Target::Platform),
    ("POST", "/api/v1/classification-guide/evaluate", Action::ViewPublic, Target::Platform),
    ("GET", "/api/v1/orgs/{org}/catalogue", Action::ViewOrgInternal, Target::OrgInPath),
    ("POST", "/api/v1/orgs/{org}/catalogue", Action::EditOpenList, Target::OrgInPath),
    ("DELETE", "/api/v1/orgs/{org}/catalogue/{item}", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/api/v1/orgs/{org}/datasets", Action::ViewOrgInternal, Target::OrgInPath),
    ("POST", "/api/v1/orgs/{org}/datasets", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/api/v1/datasets", Action::ViewPublic, Target::Platform),
    ("GET", "/api/v1/datasets/{dataset}", Action::ViewPublic, Target::DatasetInPath),
    ("PUT", "/api/v1/datasets/{dataset}", Action::EditOpenList, Target::DatasetInPath),
    ("GET", "/api/v1/datasets/{dataset}/check", Action::ViewOrgInternal, Target::DatasetInPath),
    ("POST", "/api/v1/datasets/{dataset}/review", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/api/v1/datasets/{dataset}/data-updates", Action::EditOpenList, Target::DatasetInPath),
    ("GET", "/api/v1/orgs/{org}/reviews", Action::ViewOrgInternal, Target::OrgInPath),
    ("GET", "/api/v1/orgs/{org}/review-cycles/{year}", Action::ViewOrgInternal, Target::OrgInPath),
    ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/submit", Action::EditOpenList, Target::OrgInPath),
    ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/accept", Action::ReviewTickets, Target::OrgInPath),
    ("POST", "/api/v1/orgs/{org}/review-cycles/{year}/return", Action::ReviewTickets, Target::OrgInPath),
    ("GET", "/api/v1/datasets/{dataset}/versions", Action::ViewPublic, Target::DatasetInPath),
    ("POST", "/api/v1/datasets/{dataset}/data", Action::PublishData, Target::DatasetInPath),
    ("GET", "/api/v1/datasets/{dataset}/data/versions", Action::ViewPublic, Target::DatasetInPath),
    ("GET", "/api/v1/datasets/{dataset}/data/versions/{version}", Action::ViewPublic, Target::DatasetInPath),
    ("POST", "/api/v1/datasets/{dataset}/data/versions/{version}/cancel", Action::PublishData, Target::DatasetInPath),
    ("GET", "/api/v1/datasets/{dataset}/data/versions/{version}/failures.csv", Action::ViewOrgInternal, Target::DatasetInPath),
    ("GET", "/api/v1/datasets/{dataset}/records", Action::ReadOpenData, Target::DatasetInPath),
    ("GET", "/api/v1/datasets/{dataset}/privacy", Action::ViewOrgInternal, Target::DatasetInPath),
    ("GET", "/api/v1/datasets/{dataset}/sample", Action::ViewPublic, Target::DatasetInPath),
    ("POST", "/api/v1/datasets/{dataset}/sample", Action::BuildSample, Target::DatasetInPath),
    ("PUT", "/api/v1/datasets/{dataset}/privacy", Action::PublishData, Target::DatasetInPath),
    ("POST", "/api/v1/datasets/{dataset}/privacy/exceptions", Action::GrantPrivacyException, Target::DatasetInPath),
    ("DELETE", "/api/v1/datasets/{dataset}/privacy/exceptions/{id}", Action::GrantPrivacyException, Target::DatasetInPath),
    ("GET", "/api/v1/sql", Action::ViewPublic, Target::Platform),
    ("POST", "/api/v1/sql", Action::ViewPublic, Target::Platform),
    ("GET", "/datasets/{dataset}/download", Action::ReadOpenData, Target::DatasetInPath),
    ("GET", "/datasets/{dataset}/sample", Action::ViewPublic, Target::DatasetInPath),
    ("POST", "/api/v1/uploads", Action::UploadFiles, Target::OwnAccount),
    ("POST", "/api/v1/datasets/{dataset}/tickets", Action::EditOpenList, Target::DatasetInPath),
    ("GET", "/api/v1/datasets/{dataset}/tickets", Action::ViewOrgInternal, Target::DatasetInPath),
    ("GET", "/api/v1/orgs/{org}/tickets", Action::ViewOrgInternal, Target::OrgInPath),
    ("GET", "/api/v1/tickets", Action::ReviewTickets, Target::Platform),
    ("GET", "/api/v1/tickets/{ticket}", Action::ViewOrgInternal, Target::TicketInPath),
    ("POST", "/api/v1/tickets/{ticket}/accept", Action::ReviewTickets, Target::TicketInPath),
    ("POST", "/api/v1/tickets/{ticket}/return", Action::ReviewTickets, Target::TicketInPath),
    ("POST", "/api/v1/tickets/{ticket}/resubmit", Action::EditOpenList, Target::TicketInPath),
    ("POST", "/api/v1/tickets/{ticket}/cancel", Action::EditOpenList, Target::TicketInPath),
    ("GET", "/api/v1/tickets/{ticket}/attachments/{attachment}", Action::ViewOrgInternal, Target::TicketInPath),
    ("GET", "/api/v1/openapi.json", Action::ViewPublic, Target::Platform),
    ("GET", "/api/v1/jobs", Action::ManageJobs, Target::Platform),
    ("GET", "/console/jobs", Action::ManageJobs, Target::Platform),
    ("POST", "/console/jobs/{job}/cancel", Action::ManageJobs, Target::Platform),
    ("GET", "/api/v1/jobs/{job}", Action::ManageJobs, Target::Platform),
    ("POST", "/api/v1/jobs/{job}/cancel", Action::ManageJobs, Target::Platform),
    ("GET", "/metrics", Action::ViewMetrics, Target::Platform),
    ("GET", "/console/quality", Action::ViewQuality, Target::Platform),
    ("GET", "/api/v1/quality", Action::ViewQuality, Target::Platform),
    ("GET", "/api/v1/calendar", Action::ViewPublic, Target::Platform),
    ("PUT", "/api/v1/calendar/{year}", Action::ManageCalendar, Target::Platform),
    ("GET", "/console/calendar", Action::ManageCalendar, Target::Platform),
    ("POST", "/console/calendar", Action::ManageCalendar, Target::Platform),
    ("POST", "/api/v1/applications", Action::Apply, Target::OwnAccount),
    ("GET", "/api/v1/applications", Action::ViewOwnAccount, Target::OwnAccount),
    ("GET", "/api/v1/completeness-queue", Action::CheckCompleteness, Target::Platform),
    ("GET", "/api/v1/applications/{application}", Action::ViewApplication, Target::ApplicationInPath),
    ("PUT", "/api/v1/applications/{application}", Action::EditApplication, Target::ApplicationInPath),
    ("POST", "/api/v1/applications/{application}/materials", Action::EditApplication, Target::ApplicationInPath),
    ("GET", "/api/v1/applications/{application}/materials/{material}", Action::ViewApplication, Target::ApplicationInPath),
    ("DELETE", "/api/v1/applications/{application}/materials/{material}", Action::EditApplication, Target::ApplicationInPath),
    ("POST", "/api/v1/applications/{application}/submit", Action::EditApplication, Target::ApplicationInPath),
    ("POST", "/api/v1/applications/{application}/withdraw", Action::EditApplication, Target::ApplicationInPath),
    ("POST", "/api/v1/applications/{application}/accept", Action::CheckCompleteness, Target::ApplicationInPath),
    ("POST", "/api/v1/applications/{application}/return", Action::CheckCompleteness, Target::ApplicationInPath),
    ("GET", "/api/v1/orgs/{org}/work-orders", Action::ViewWorkOrder, Target::OrgInPath),
    ("GET", "/api/v1/work-orders/{order}", Action::ViewWorkOrder, Target::WorkOrderInPath),
    ("GET", "/api/v1/work-orders/{order}/materials/{material}", Action::ViewWorkOrder, Target::WorkOrderInPath),
    ("POST", "/api/v1/work-orders/{order}/decision", Action::DecideWorkOrder, Target::WorkOrderInPath),
    ("POST", "/api/v1/work-orders/{order}/experts", Action::DecideWorkOrder, Target::WorkOrderInPath),
    ("GET", "/api/v1/me/assignments", Action::ViewAssignment, Target::Platform),
    ("GET", "/api/v1/assignments/{assignment}", Action::ViewAssignment, Target::AssignmentInPath),
    ("POST", "/api/v1/assignments/{assignment}/opinion", Action::GiveOpinion, Target::AssignmentInPath),
    ("GET", "/api/v1/agreements/{agreement}", Action::ViewAgreement, Target::AgreementInPath),
    ("POST", "/api/v1/agreements/{agreement}/sign", Action::SignAgreement, Target::AgreementInPath),
    ("POST", "/api/v1/agreements/{agreement}/credential", Action::TakeCredential, Target::AgreementInPath),
    ("POST", "/api/v1/agreements/{agreement}/delivery", Action::ManageDelivery, Target::AgreementInPath),
    ("POST", "/api/v1/agreements/{agreement}/offline-deliveries", Action::ManageDelivery, Target::AgreementInPath),
    ("POST", "/api/v1/agreements/{agreement}/revise", Action::ReviseAgreement, Target::AgreementInPath),
    ("GET", "/api/v1/agreements/{agreement}/usage", Action::ViewAgreement, Target::AgreementInPath),
    ("GET", "/api/v1/agreements/{agreement}/sandbox", Action::ViewAgreement, Target::AgreementInPath),
    ("POST", "/api/v1/agreements/{agreement}/sandbox", Action::QuerySandbox, Target::AgreementInPath),
    ("GET", "/applications", Action::ViewOwnAccount, Target::OwnAccount),
    ("GET", "/applications/new", Action::Apply, Target::OwnAccount),
    ("POST", "/applications", Action::Apply, Target::OwnAccount),
    ("GET", "/applications/{application}", Action::ViewApplication, Target::ApplicationInPath),
    ("POST", "/applications/{application}", Action::EditApplication, Target::ApplicationInPath),
    ("POST", "/applications/{application}/materials", Action::EditApplication, Target::ApplicationInPath),
    ("POST", "/applications/{application}/submit", Action::EditApplication, Target::ApplicationInPath),
    ("POST", "/applications/{application}/withdraw", Action::EditApplication, Target::ApplicationInPath),
    ("POST", "/applications/{application}/accept", Action::CheckCompleteness, Target::ApplicationInPath),
    ("POST", "/applications/{application}/return", Action::CheckCompleteness, Target::ApplicationInPath),
    ("GET", "/console/applications", Action::CheckCompleteness, Target::Platform),
    ("GET", "/console/oversight", Action::OverseeApplications, Target::Platform),
    ("GET", "/api/v1/oversight", Action::OverseeApplications, Target::Platform),
    ("GET", "/console/orgs/{org}/work-orders", Action::ViewWorkOrder, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/agreement-template", Action::ViewOrgInternal, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/agreement-template", Action::EditAgreementTemplate, Target::OrgInPath),
    ("GET", "/api/v1/orgs/{org}/agreement-template", Action::ViewOrgInternal, Target::OrgInPath),
    ("PUT", "/api/v1/orgs/{org}/agreement-template", Action::EditAgreementTemplate, Target::OrgInPath),
    ("GET", "/console/work-orders/{order}", Action::ViewWorkOrder, Target::WorkOrderInPath),
    ("POST", "/console/work-orders/{order}/decision", Action::DecideWorkOrder, Target::WorkOrderInPath),
    ("POST", "/console/work-orders/{order}/experts", Action::DecideWorkOrder, Target::WorkOrderInPath),
    ("GET", "/console/expert", Action::ViewAssignment, Target::Platform),
    ("GET", "/console/expert/assignments/{assignment}", Action::ViewAssignment, Target::AssignmentInPath),
    ("POST", "/console/expert/assignments/{assignment}/opinion", Action::GiveOpinion, Target::AssignmentInPath),
    ("GET", "/agreements/{agreement}", Action::ViewAgreement, Target::AgreementInPath),
    ("GET", "/agreements/{agreement}/pdf", Action::ViewAgreement, Target::AgreementInPath),
    ("POST", "/agreements/{agreement}/sign", Action::SignAgreement, Target::AgreementInPath),
    ("POST", "/agreements/{agreement}/offline-deliveries", Action::ManageDelivery, Target::AgreementInPath),
    ("POST", "/agreements/{agreement}/revise", Action::ReviseAgreement, Target::AgreementInPath),
    ("GET", "/agreements/{agreement}/sandbox", Action::ViewAgreement, Target::AgreementInPath),
    ("POST", "/agreements/{agreement}/sandbox", Action::QuerySandbox, Target::AgreementInPath),
    ("GET", "/api/3/action/{action}", Action::ViewPublic, Target::Platform),
    ("POST", "/api/3/action/{action}", Action::ViewPublic, Target::Platform),
    ("GET", "/api/action/{action}", Action::ViewPublic, Target::Platform),
    ("POST", "/api/action/{action}", Action::ViewPublic, Target::Platform),
];

#[test]
fn every_route_is_declared_here_with_the_same_action() {
    let declared: BTreeSet<String> = web::routes::specs()
        .iter()
        .map(|s| format!("{} {} {:?} {:?}", s.method, s.path, s.action, s.target))
        .collect();
    let known: BTreeSet<String> = ROUTES
        .iter()
        .map(|(m, p, a, t)| format!("{m} {p} {a:?} {t:?}"))
        .collect();
    assert_eq!(declared, known);
}

/// Who calls: signed in or not, the platform role held, the role held in organization A.
#[derive(Debug, Clone, Copy)]
struct Who {
    signed_in: bool,
    platform: Option<PlatformRole>,
    in_org_a: Option<OrgRole>,
}

impl Who {
    fn is(&self, role: PlatformRole) -> bool {
        self.platform == Some(role)
    }
}

/// What a route acts on, as this test set it up. `own` means organization A's.
#[derive(Debug, Clone, Copy)]
enum Subject {
    None,
    Org {
        own: bool,
    },
    Dataset {
        own: bool,
        public: bool,
    },
    Ticket {
        own: bool,
    },
    Article {
        published: bool,
    },
    /// An application for conditional data; `mine` when the caller applied.
    Application {
        mine: bool,
    },
    /// A work order of organization A's entries (`own`) or B's; `mine` when the caller
    /// applied.
    WorkOrder {
        own: bool,
        mine: bool,
    },
    /// An agreement awaiting signatures, of A's entries (`own`) or B's; `mine` when the
    /// caller applied.
    Agreement {
        own: bool,
        mine: bool,
    },
    /// An expert review assignment on a work order of A's entries (`own`) or B's;
    /// `assigned` when the caller is its expert.
    Assignment {
        own: bool,
        assigned: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The route ran.
    Allowed,
    /// 401 `not_signed_in`.
    SignIn,
    /// 403 `forbidden`.
    Forbidden,
    /// 404 `not_found`: the caller may not know the object exists.
    Hidden,
    /// Let in, but the route failed with what no valid request should get (a 400, a 404 for
    /// an object that exists, a 422 outside the content checks, a 500).
    Broken,
}

/// An entry or a ticket the test acts on, with metadata that passes every publish check (A9).
#[derive(Clone, Copy)]
enum Fixture {
    Entry(&'static str, DatasetStatus),
    /// A submitted ticket adding a new draft of the organization.
    Ticket(&'static str),
    /// A submitted application of the account with this e-mail address for the conditional
    /// entry of the organization.
    Application {
        applicant: &'static str,
        org: &'static str,
    },
}

struct Fixtures<'a> {
    app: &'a TestApp,
    /// Each organization's catalogue items, for the entries' fields to link to.
    items: HashMap<&'static str, Vec<String>>,
    made: usize,
    /// Each organization's published conditional entry, to apply for.
    conditional: HashMap<&'static str, String>,
    /// What each fixture is, by its id.
    kinds: HashMap<String, Fixture>,
}

impl Fixtures<'_> {
    async fn make(&mut self, fixture: Fixture) -> String {
        self.made += 1;
        let id = match fixture {
            Fixture::Entry(org, status) => {
                let name = format!("上海市测试数据集{}", self.made);
                let meta = crate::openlist::good_meta(&name, &self.items[org]);
                self.app.create_entry_with(org, meta, status).await
            }
            Fixture::Ticket(org) => {
                let draft = Box::pin(self.make(Fixture::Entry(org, DatasetStatus::Draft))).await;
                self.app.create_ticket(&draft).await
            }
            Fixture::Application { applicant, org } => {
                let user = self.app.store.user_by_email(applicant).await.unwrap();
                let entry = self.conditional[org].clone();
                self.app
                    .submitted_application(&user.id.to_string(), &[&entry])
                    .await
            }
        };
        self.kinds.insert(id.clone(), fixture);
        id
    }

    /// A new fixture like the one `segment` names; any other segment as it is.
    async fn again(&mut self, segment: &str) -> String {
        match self.kinds.get(segment).copied() {
            Some(fixture) => self.make(fixture).await,
            None => segment.to_owned(),
        }
    }
}

/// The expected answer, from the rules (A9–A11, A17, A25, A26) and the platform's roles,
/// written apart from `domain::policy`.
fn expected(who: Who, action: Action, subject: Subject) -> Outcome {
    use PlatformRole::*;
    let member_of = |own: bool| own && who.in_org_a.is_some();
    let staff_sees_internals = who.is(Operator) || who.is(Regulator);
    // Whether the caller may know the object exists at all.
    let knows = match subject {
        Subject::Dataset { own, public } => public || member_of(own) || staff_sees_internals,
        Subject::Ticket { own } => member_of(own) || staff_sees_internals,
        Subject::Article { published } => published || who.is(Operator),
        Subject::Application { mine } => mine || staff_sees_internals,
        Subject::WorkOrder { own, mine } | Subject::Agreement { own, mine } => {
            mine || member_of(own) || staff_sees_internals
        }
        Subject::Assignment { own, assigned } => assigned || member_of(own) || staff_sees_internals,
        Subject::None | Subject::Org { .. } => true,
    };
    let refused = |outcome| if knows { outcome } else { Outcome::Hidden };
    match action {
        Action::ViewPublic => {
            return if knows {
                Outcome::Allowed
            } else {
                Outcome::Hidden
            };
        }
        Action::Register | Action::LogIn => return Outcome::Allowed,
        // Open data is read by anyone, from unconditional entries that are open now (every
        // public entry here is unconditional); conditional data never through these routes.
        Action::ReadOpenData => {
            return match subject {
                Subject::Dataset { public: true, .. } => Outcome::Allowed,
                _ if knows => Outcome::Forbidden,
                _ => Outcome::Hidden,
            };
        }
        _ => {}
    }
    if !who.signed_in {
        return Outcome::SignIn;
    }
    let own = match subject {
        Subject::Org { own }
        | Subject::Dataset { own, .. }
        | Subject::Ticket { own }
        | Subject::WorkOrder { own, .. }
        | Subject::Agreement { own, .. }
        | Subject::Assignment { own, .. } => own,
        Subject::None | Subject::Article { .. } | Subject::Application { .. } => false,
    };
    let mine = matches!(
        subject,
        Subject::Application { mine: true }
            | Subject::WorkOrder { mine: true, .. }
            | Subject::Agreement { mine: true, .. }
    );
    let decides = own
        && !mine
        && matches!(
            who.in_org_a,
            Some(OrgRole::ProviderAdmin | OrgRole::Reviewer)
        );
    let admin_or_editor = matches!(who.in_org_a, Some(OrgRole::ProviderAdmin | OrgRole::Editor));
    let allowed = match action {
        // Anyone with an account acts on their own account, and may upload files to attach.
        Action::LogOut
        | Action::ViewOwnAccount
        | Action::ManageOwnTokens
        | Action::ChangeOwnPassword
        | Action::UploadFiles => true,
        Action::CreateOrganization => who.is(Operator) || who.is(Sysadmin),
        Action::ViewMembers => {
            member_of(own) || who.is(Operator) || who.is(Regulator) || who.is(Sysadmin)
        }
        Action::ManageMembers => {
            (own && who.in_org_a == Some(OrgRole::ProviderAdmin))
                || who.is(Operator)
                || who.is(Sysadmin)
        }
        Action::ListUsers => who.is(Operator) || who.is(Sysadmin),
        Action::ManagePlatformRoles => who.is(Sysadmin),
        // The trail is for those who supervise, not those who run the platform.
        Action::ViewAudit => who.is(SecurityAuditor) || who.is(Regulator),
        Action::ViewOrgInternal => member_of(own) || staff_sees_internals,
        Action::EditOpenList | Action::PublishData => own && admin_or_editor,
        // Sample data is the operator's to define (A22.1).
        Action::EditGuide | Action::PublishArticles | Action::BuildSample => who.is(Operator),
        // Nobody decides on their own organization's ticket, exception or annual review.
        // Nor lets personal information into its own organization's open data (A14.1).
        Action::ReviewTickets | Action::ManageVocabularies | Action::GrantPrivacyException => {
            match subject {
                Subject::Ticket { own } | Subject::Dataset { own, .. } | Subject::Org { own } => {
                    who.is(Operator) && !member_of(own)
                }
                _ => who.is(Operator),
            }
        }
        // The job queue is the platform's staff's; metrics are for the system administrator's
        // monitoring.
        Action::ManageJobs => who.is(Operator) || who.is(Sysadmin),
        Action::ViewMetrics => who.is(Sysadmin),
        // Quality over time is the operator's evaluation, which the regulator supervises.
        Action::ViewQuality => who.is(Operator) || who.is(Regulator),
        // The operator loads each year's holidays as the State Council's notice comes out.
        Action::ManageCalendar => who.is(Operator),
        // Anyone with an account may apply for conditional data (A18.2); an application is
        // its applicant's to change, and read by the operator and the regulator besides.
        Action::Apply => true,
        Action::ViewApplication => mine || who.is(Operator) || who.is(Regulator),
        Action::EditApplication => mine,
        // The completeness review is the operator's (A19.1), never of their own application.
        Action::CheckCompleteness => who.is(Operator) && !mine,
        // A work order is read by the providing organization, the applicant and the staff;
        // decided by the provider's admins and reviewers (A19.2), never by the applicant.
        Action::ViewWorkOrder => mine || member_of(own) || staff_sees_internals,
        Action::DecideWorkOrder => decides,
        // An agreement is read by its two sides and the staff, signed by the applicant and
        // the provider's admins and reviewers (A20.1); delivery is stopped by the provider or
        // the operator (A21.1); only the applicant holds its credential.
        Action::ViewAgreement => mine || member_of(own) || staff_sees_internals,
        Action::SignAgreement => mine || decides,
        // A change of terms is the provider's, signed again by both sides.
        Action::ReviseAgreement => decides,
        // The sandbox is asked by the applicant alone (A21.2).
        Action::TakeCredential | Action::QuerySandbox => mine,
        Action::ManageDelivery => decides || (who.is(Operator) && !mine),
        // Supervising how providers handle applications: the operator and the regulator.
        Action::OverseeApplications => who.is(Operator) || who.is(Regulator),
        // A provider's agreement template is its admins' and the operator's to write.
        Action::EditAgreementTemplate => {
            (own && who.in_org_a == Some(OrgRole::ProviderAdmin)) || who.is(Operator)
        }
        // Expert review (A19.2): an expert reads the assignments given to them and files
        // their opinions; the provider and the staff read them too.
        Action::ViewAssignment => match subject {
            Subject::Assignment { own, assigned } => {
                assigned || member_of(own) || staff_sees_internals
            }
            _ => who.is(Expert),
        },
        Action::GiveOpinion => {
            matches!(subject, Subject::Assignment { assigned: true, .. }) && who.is(Expert)
        }
        Action::ViewPublic | Action::ReadOpenData | Action::Register | Action::LogIn => true,
    };
    if allowed {
        Outcome::Allowed
    } else {
        refused(Outcome::Forbidden)
    }
}

/// What the walk's request bodies need of what it set up.
struct Walk {
    /// The classification guide as it stands.
    guide: String,
    /// The expert among the callers, to send work orders to.
    expert: String,
    /// The app's today, in China Standard Time.
    today: String,
}

/// A request an allowed caller's call must succeed with: a valid body for every `/api/` route
/// that takes one (unique where the platform wants unique values), the file for an upload.
enum Body {
    None,
    Json(serde_json::Value),
    /// Raw bytes, for `POST /api/v1/uploads?name=…`.
    Bytes(&'static [u8]),
}

/// An entry's metadata as a provider would save it in a draft.
fn sound_meta(name: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "summary": "本市公交线路及站点的基础信息，按月更新。",
        "domain": "transport",
        "keywords": ["公交"],
        "formats": ["csv"],
        "open_type": "unconditional",
        "update_frequency": "monthly",
        "spatial": { "areas": ["shanghai"] },
        "contact": { "name": "数据管理处", "phone": "021-00000000" },
        "license": "本平台数据使用协议",
    })
}

fn api_body(method: &str, path: &str, subject: Subject, n: usize, x: &Walk) -> Body {
    use serde_json::json;
    if method == "GET" || method == "DELETE" {
        return Body::None;
    }
    Body::Json(match path {
        "/api/v1/auth/register" => json!({
            "kind": "natural_person", "email": format!("new{n}@example.cn"),
            "password": "Huangpu-river-ferry-2026", "display_name": "新用户",
        }),
        // A wrong password: the route answers for itself (401 invalid_credentials), and no
        // caller's session is replaced by someone else's.
        "/api/v1/auth/login" => {
            json!({ "email": "resident@example.cn", "password": "not-the-password-1" })
        }
        "/api/v1/me/tokens" => json!({ "name": format!("token {n}") }),
        "/api/v1/me/password" => json!({
            "current_password": PASSWORD, "new_password": "Another-harbour-ferry-2027",
        }),
        "/api/v1/orgs" => json!({
            "slug": format!("made-{n}"), "name_zh": format!("测试委员会{n}"),
            "name_en": format!("Test commission {n}"), "kind": "bureau",
        }),
        "/api/v1/orgs/{org}/members" => json!({ "email": "dummy@example.cn", "role": "reviewer" }),
        "/api/v1/users/{user}/roles" => json!({ "role": "regulator" }),
        "/api/v1/vocabularies/formats/{code}" => json!({
            "name": "EN", "media_type": "text/plain", "openness": 3, "proprietary": false,
        }),
        "/api/v1/vocabularies/glossary/{term}" => {
            json!({ "explanation_zh": "测试缩写", "explanation_en": "A test abbreviation" })
        }
        "/api/v1/vocabularies/domains/{code}" => {
            json!({ "name_zh": "英文", "name_en": "English", "group": "livelihood" })
        }
        "/api/v1/datasets/{dataset}/format-exceptions" => {
            json!({ "format": "xls", "reason": "历史系统只能导出此格式" })
        }
        "/api/v1/datasets/{dataset}/privacy" => json!({
            "rules": { "line_name": { "rule": "mask", "keep_start": 1, "keep_end": 0 } },
            "row_version": 0,
        }),
        "/api/v1/datasets/{dataset}/sample" => json!({ "percent": 10, "strata": ["line_name"] }),
        "/api/v1/datasets/{dataset}/privacy/exceptions" => json!({
            "item": "line_name", "kind": "person_name", "reason": "线路以人名命名，属公开信息",
        }),
        "/api/v1/classification-guide" => json!({ "toml": x.guide }),
        "/api/v1/classification-guide/evaluate" => json!({ "grading": {
            "security_level": "general", "personal_information": "none", "trade_secret": "none",
            "legal_restriction": "none", "processing_demand": "ordinary", "access_pattern": "one_off",
        } }),
        "/api/v1/orgs/{org}/catalogue" => json!([{
            "code": format!("ITEM-{n}"), "name": "公交线路", "description": "线路基础信息",
            "source_system": "公交信息系统",
        }]),
        "/api/v1/orgs/{org}/datasets" => sound_meta(&format!("上海市测试新建数据集{n}")),
        "/api/v1/datasets/{dataset}" => sound_meta(&format!("上海市测试修改数据集{n}")),
        "/api/v1/datasets/{dataset}/review" => json!({ "note": "已复核" }),
        "/api/v1/datasets/{dataset}/tickets" => json!({ "kind": "add", "reason": "新增" }),
        "/api/v1/tickets/{ticket}/return" => {
            json!({ "reasons": ["incomplete_information"], "text": "请补充数据项说明。" })
        }
        "/api/v1/tickets/{ticket}/accept" => json!({ "text": "同意" }),
        "/api/v1/orgs/{org}/review-cycles/{year}/submit" => json!({ "note": "已逐项复核" }),
        "/api/v1/orgs/{org}/review-cycles/{year}/accept" => json!({ "note": "" }),
        "/api/v1/orgs/{org}/review-cycles/{year}/return" => json!({ "note": "请补充复核说明" }),
        "/api/v1/articles" => {
            json!({ "kind": "news", "title": format!("通知{n}"), "body": "正文" })
        }
        // The article keeps its status: the other callers still find it as set up.
        "/api/v1/articles/{id}" => json!({
            "kind": "news", "title": "通知", "body": "正文",
            "publish": matches!(subject, Subject::Article { published: true }),
        }),
        "/api/v1/uploads" => return Body::Bytes(b"%PDF-1.4 test"),
        "/api/v1/sql" => json!({ "sql": "SELECT 1 AS one" }),
        "/api/v1/calendar/{year}" => json!({ "holidays": ["2026-01-01~2026-01-03"] }),
        "/api/v1/datasets/{dataset}/data" => {
            return Body::Bytes("line_name,stop_name\n1路,人民广场\n".as_bytes());
        }
        "/api/v1/applications" | "/api/v1/applications/{application}" => json!({ "form": {} }),
        "/api/v1/applications/{application}/materials" => {
            json!({ "material": "security_pledge", "upload": "not-an-upload" })
        }
        "/api/v1/applications/{application}/return" => json!({ "reasons": ["单位介绍信未盖章"] }),
        // Signing the wrong text: the route answers for itself (409), and nothing is signed.
        "/api/v1/agreements/{agreement}/sign" => {
            json!({ "password": PASSWORD, "sha256": "0".repeat(64) })
        }
        "/api/v1/agreements/{agreement}/revise" => json!({ "reason": "调整调用量" }),
        "/api/v1/agreements/{agreement}/sandbox" => json!({ "sql": "SELECT count(*) FROM t" }),
        "/api/v1/agreements/{agreement}/offline-deliveries" => json!({
            "reason": "接收方内网无法访问平台", "recipient": "张三（某研究院）",
            "sha256": "a".repeat(64),
        }),
        "/api/v1/agreements/{agreement}/delivery" => {
            json!({ "step": "suspend", "reason": "核查使用情况" })
        }
        "/api/v1/orgs/{org}/agreement-template" => {
            json!({ "text": template_text() })
        }
        "/api/v1/work-orders/{order}/experts" => json!({
            "experts": [x.expert], "due_on": x.today, "question": "请评估多源融合风险",
        }),
        "/api/v1/assignments/{assignment}/opinion" => json!({
            "recommendation": "approve", "opinion": "场景明确，风险可控",
        }),
        "/api/v1/work-orders/{order}/decision" => json!({
            "outcome": "refuse", "reasons": ["应用场景与数据用途不符"],
            "criteria": {
                "fairness": "与同类申请同等对待", "scenario_value": "场景价值有限",
                "combination_risk": "与其他数据融合风险较低",
            },
        }),
        _ => json!({}),
    })
}

/// An agreement template with every required placeholder.
fn template_text() -> String {
    "数据：{{grants}}\n场景：{{scenarios}}\n期限：{{period_start}}至{{period_end}}\n安全：{{security_measures}}"
        .to_owned()
}

/// The fields a page's form sends (besides `_csrf`), valid for the form.
fn form_fields(path: &str, subject: Subject, n: usize, x: &Walk) -> Vec<(String, String)> {
    let f = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    match path {
        "/register" => {
            let email = format!("page{n}@example.cn");
            f(&[
                ("kind", "natural_person"),
                ("email", &email),
                ("password", "Huangpu-river-ferry-2026"),
                ("display_name", "新用户"),
            ])
        }
        "/login" => f(&[
            ("email", "resident@example.cn"),
            ("password", "not-the-password-1"),
        ]),
        "/account/password" => f(&[
            ("current_password", PASSWORD),
            ("new_password", "Another-harbour-ferry-2027"),
            ("confirm_password", "Another-harbour-ferry-2027"),
        ]),
        "/password/forgot" => f(&[("email", "resident@example.cn")]),
        "/console/calendar" => f(&[("year", "2026"), ("holidays", "2026-01-01~2026-01-03")]),
        "/password/reset" => f(&[
            ("token", "not-a-link-that-was-sent"),
            ("new_password", "Another-harbour-ferry-2027"),
            ("confirm_password", "Another-harbour-ferry-2027"),
        ]),
        "/account/tokens" => f(&[
            ("name", &format!("page token {n}")),
            ("expires_in_days", "30"),
        ]),
        "/console/orgs/{org}/members" => f(&[("email", "dummy@example.cn"), ("role", "reviewer")]),
        "/console/orgs/{org}/catalogue" => f(&[(
            "csv",
            &format!(
                "code,name,description,source_system\nPAGE-{n},公交线路,线路基础信息,公交信息系统\n"
            ),
        )]),
        "/console/vocabularies/glossary" => f(&[
            ("term", "XYZ"),
            ("explanation_zh", "测试缩写"),
            ("explanation_en", "A test abbreviation"),
        ]),
        "/console/vocabularies/formats" => f(&[
            ("code", "en"),
            ("name", "EN"),
            ("media_type", "text/plain"),
            ("openness", "3"),
        ]),
        "/console/guide" => f(&[("toml", &x.guide)]),
        "/console/tickets/{ticket}/return" => f(&[
            ("reasons", "incomplete_information"),
            ("text", "请补充数据项说明。"),
        ]),
        "/console/articles" => f(&[
            ("kind", "news"),
            ("title", &format!("通知{n}")),
            ("body", "正文"),
        ]),
        // The article keeps its status: the other callers still find it as set up.
        "/console/articles/{id}" => {
            let mut fields = f(&[("kind", "news"), ("title", "通知"), ("body", "正文")]);
            if matches!(subject, Subject::Article { published: true }) {
                fields.push(("publish".into(), "1".into()));
            }
            fields
        }
        "/console/orgs/{org}/datasets" | "/console/datasets/{dataset}" => {
            let name = format!("上海市测试表单数据集{n}");
            f(&[
                ("name", &name),
                ("summary", "本市公交线路及站点的基础信息，按月更新。"),
                ("domain", "transport"),
                ("keywords", "公交"),
                ("formats", "csv"),
                ("open_type", "unconditional"),
                ("update_frequency", "monthly"),
                ("spatial.areas", "shanghai"),
                ("contact.name", "数据管理处"),
                ("contact.phone", "021-00000000"),
                ("license", "本平台数据使用协议"),
                ("source", "information_system"),
            ])
        }
        "/console/datasets/{dataset}/publish" => f(&[("ticket_reason", "按年度开放计划发布")]),
        "/applications/{application}/return" => f(&[("reasons", "单位介绍信未盖章")]),
        "/console/orgs/{org}/agreement-template" => {
            let text = template_text();
            f(&[("text", &text)])
        }
        "/console/work-orders/{order}/experts" => f(&[
            ("experts", &x.expert),
            ("due_on", &x.today),
            ("question", "请评估多源融合风险"),
        ]),
        "/console/expert/assignments/{assignment}/opinion" => f(&[
            ("recommendation", "approve"),
            ("opinion", "场景明确，风险可控"),
        ]),
        "/console/work-orders/{order}/decision" => f(&[
            ("outcome", "refuse"),
            ("reasons", "应用场景与数据用途不符"),
            ("fairness", "与同类申请同等对待"),
            ("scenario_value", "场景价值有限"),
            ("combination_risk", "融合风险较低"),
        ]),
        // Signing the wrong text: the page answers for itself (409), and nothing is signed.
        "/agreements/{agreement}/sign" => f(&[("password", PASSWORD), ("sha256", "0")]),
        "/agreements/{agreement}/revise" => f(&[("reason", "调整调用量")]),
        "/agreements/{agreement}/sandbox" => f(&[("sql", "SELECT count(*) FROM t")]),
        "/agreements/{agreement}/offline-deliveries" => f(&[
            ("reason", "接收方内网无法访问平台"),
            ("recipient", "张三（某研究院）"),
            ("sha256", &"a".repeat(64)),
        ]),
        "/console/datasets/{dataset}/remove" => f(&[("remove_reason", "数据已停止采集")]),
        "/console/datasets/{dataset}/privacy" => f(&[
            ("row_version", "0"),
            ("rule.line_name", "mask"),
            ("a.line_name", "1"),
            ("b.line_name", "0"),
            ("action", "save"),
        ]),
        "/console/datasets/{dataset}/privacy/exceptions" => f(&[
            ("item", "line_name"),
            ("kind", "person_name"),
            ("reason", "线路以人名命名，属公开信息"),
        ]),
        "/console/datasets/{dataset}/sample" => f(&[("amount", "10"), ("unit", "percent")]),
        "/console/people/roles" => f(&[("email", "dummy@example.cn"), ("role", "regulator")]),
        "/console/orgs/{org}/review-cycles/{year}/submit" => f(&[("note", "已逐项复核")]),
        "/console/orgs/{org}/review-cycles/{year}/return" => f(&[("note", "请补充复核说明")]),
        _ => Vec::new(),
    }
}

struct Caller {
    name: &'static str,
    email: Option<&'static str>,
    session: Option<Session>,
    who: Who,
}
fn anon_csrf(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix("kf_csrf=")
                .map(|v| v.split(';').next().unwrap().to_owned())
        })
        .expect("a visitor gets a CSRF cookie")
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_rules_say() {
    let app = spawn_app().await;
    app.create_org("org-a").await;
    app.create_org("org-b").await;
    let mut fixtures = Fixtures {
        app: &app,
        items: HashMap::from([
            ("org-a", app.catalogue_items("org-a").await),
            ("org-b", app.catalogue_items("org-b").await),
        ]),
        made: 0,
        conditional: HashMap::from([
            (
                "org-a",
                crate::access::conditional_entry(&app, "org-a", "上海市测试条件数据集甲").await,
            ),
            (
                "org-b",
                crate::access::conditional_entry(&app, "org-b", "上海市测试条件数据集乙").await,
            ),
        ]),
        kinds: HashMap::new(),
    };
    let draft_a = fixtures
        .make(Fixture::Entry("org-a", DatasetStatus::Draft))
        .await;
    let draft_b = fixtures
        .make(Fixture::Entry("org-b", DatasetStatus::Draft))
        .await;
    let published_b = fixtures
        .make(Fixture::Entry("org-b", DatasetStatus::Published))
        .await;
    let withdrawn_a = fixtures
        .make(Fixture::Entry("org-a", DatasetStatus::Withdrawn))
        .await;
    let ticket_a = fixtures.make(Fixture::Ticket("org-a")).await;
    let ticket_b = fixtures.make(Fixture::Ticket("org-b")).await;
    let article = |status| {
        let app = &app;
        async move {
            let now = app.clock_now();
            let a = store::articles::ArticleRecord {
                id: domain::ids::ArticleId::new(),
                kind: domain::articles::ArticleKind::News,
                status,
                title: "通知".into(),
                body: "正文".into(),
                published_at: (status == ArticleStatus::Published).then_some(now),
                created_by: "test".into(),
                created_at: now,
                updated_at: now,
                row_version: 1,
                site_page: None,
            };
            let mut tx = app.store.begin_write().await.unwrap();
            store::articles::insert(&mut tx, &a).await.unwrap();
            tx.audit(test_event("test.setup", a.id.to_string(), now))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            a.id.to_string()
        }
    };
    let published_article = article(ArticleStatus::Published).await;
    let draft_article = article(ArticleStatus::Draft).await;

    let roles: [(&str, &str, Option<PlatformRole>, Option<OrgRole>); 10] = [
        ("resident", "resident@example.cn", None, None),
        (
            "provider_admin",
            "admin-a@example.cn",
            None,
            Some(OrgRole::ProviderAdmin),
        ),
        ("editor", "editor-a@example.cn", None, Some(OrgRole::Editor)),
        (
            "reviewer",
            "reviewer-a@example.cn",
            None,
            Some(OrgRole::Reviewer),
        ),
        (
            "operator",
            "operator@example.cn",
            Some(PlatformRole::Operator),
            None,
        ),
        // An operator who also works for organization A: separation of duties.
        (
            "operator_in_a",
            "operator-a@example.cn",
            Some(PlatformRole::Operator),
            Some(OrgRole::Editor),
        ),
        (
            "regulator",
            "regulator@example.cn",
            Some(PlatformRole::Regulator),
            None,
        ),
        (
            "security_auditor",
            "security@example.cn",
            Some(PlatformRole::SecurityAuditor),
            None,
        ),
        (
            "sysadmin",
            "sysadmin@example.cn",
            Some(PlatformRole::Sysadmin),
            None,
        ),
        (
            "expert",
            "expert@example.cn",
            Some(PlatformRole::Expert),
            None,
        ),
    ];
    let anon = client();
    let csrf = anon_csrf(&anon.get(app.at("/login")).send().await.unwrap());
    let mut callers = vec![Caller {
        name: "anonymous",
        email: None,
        session: Some(Session {
            client: anon,
            csrf,
            user_id: String::new(),
        }),
        who: Who {
            signed_in: false,
            platform: None,
            in_org_a: None,
        },
    }];
    for (name, email, platform, org_role) in roles {
        let s = app
            .user_with(email, platform, org_role.map(|r| ("org-a", r)))
            .await;
        callers.push(Caller {
            name,
            email: Some(email),
            session: Some(s),
            who: Who {
                signed_in: true,
                platform,
                in_org_a: org_role,
            },
        });
    }
    let some_user = callers[1].session.as_ref().unwrap().user_id.clone();
    // Someone to add as a member and grant roles to, who is none of the callers.
    let dummy = app.user_with("dummy@example.cn", None, None).await.user_id;
    let guide: serde_json::Value = client()
        .get(app.at("/api/v1/classification-guide"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guide = guide["toml"].as_str().unwrap().to_owned();
    // Submitted applications of the resident (one of the callers) and of someone else, and
    // work orders of each organization, accepted by the operator.
    let resident_application = fixtures
        .make(Fixture::Application {
            applicant: "resident@example.cn",
            org: "org-b",
        })
        .await;
    let others_application = fixtures
        .make(Fixture::Application {
            applicant: "dummy@example.cn",
            org: "org-a",
        })
        .await;
    let order_of = |applicant: &'static str, org: &'static str| {
        let app = &app;
        let entry = fixtures.conditional[org].clone();
        async move {
            let user = app.store.user_by_email(applicant).await.unwrap();
            let id = app
                .submitted_application(&user.id.to_string(), &[&entry])
                .await;
            let operator = app
                .store
                .user_by_email("operator@example.cn")
                .await
                .unwrap();
            let operator = app.caller(&operator.id.to_string()).await;
            let a = app.store.application(&id).await.unwrap();
            let (_, orders) = app::access::accept(&app.use_cases(), &operator, a)
                .await
                .unwrap();
            orders[0].id.to_string()
        }
    };
    let others_order_a = order_of("dummy@example.cn", "org-a").await;
    let residents_order_b = order_of("resident@example.cn", "org-b").await;
    // Agreements awaiting signatures, from approvals by each provider's reviewer.
    let reviewer_b = app
        .user_with(
            "reviewer-b@example.cn",
            None,
            Some(("org-b", OrgRole::Reviewer)),
        )
        .await;
    let agreement_of = |reviewer: String, applicant: &'static str, org: &'static str| {
        let app = &app;
        let order = order_of(applicant, org);
        async move {
            let order = app.store.work_order(&order.await).await.unwrap();
            let reviewer = app.caller(&reviewer).await;
            let decision: app::access::DecisionInput = serde_json::from_value(serde_json::json!({
                "outcome": "approve",
                "criteria": { "fairness": "同等对待", "scenario_value": "有价值", "combination_risk": "低" },
            }))
            .unwrap();
            let w = app::access::decide(&app.use_cases(), &reviewer, order, decision)
                .await
                .unwrap();
            app.store.agreements_of(w.id).await.unwrap()[0]
                .id
                .to_string()
        }
    };
    let reviewer_a = app
        .store
        .user_by_email("reviewer-a@example.cn")
        .await
        .unwrap();
    let others_agreement_a =
        agreement_of(reviewer_a.id.to_string(), "dummy@example.cn", "org-a").await;
    let residents_agreement_b =
        agreement_of(reviewer_b.user_id.clone(), "resident@example.cn", "org-b").await;

    // Assignments of a work order of each organization: A's to the expert among the callers,
    // B's to another expert.
    let expert_b = app
        .user_with("expert-b@example.cn", Some(PlatformRole::Expert), None)
        .await;
    let expert = app.store.user_by_email("expert@example.cn").await.unwrap();
    let today = app.clock_now().to_cst().date_naive();
    let assignment_of = |reviewer: String, expert: String, org: &'static str| {
        let app = &app;
        let order = order_of("dummy@example.cn", org);
        async move {
            let order = app.store.work_order(&order.await).await.unwrap();
            let reviewer = app.caller(&reviewer).await;
            let input = app::experts::ReferralInput {
                experts: vec![expert.parse().unwrap()],
                due_on: today,
                question: "请评估多源融合风险".into(),
            };
            let (_, list) = app::experts::refer(&app.use_cases(), &reviewer, order, input)
                .await
                .unwrap();
            list[0].id.to_string()
        }
    };
    let assignment_a =
        assignment_of(reviewer_a.id.to_string(), expert.id.to_string(), "org-a").await;
    let assignment_b = assignment_of(
        reviewer_b.user_id.clone(),
        expert_b.user_id.clone(),
        "org-b",
    )
    .await;
    let walk = Walk {
        guide,
        expert: expert.id.to_string(),
        today: today.to_string(),
    };

    // Sign-outs last, so they do not end the sessions the other routes use.
    let mut routes: Vec<_> = ROUTES.to_vec();
    routes.sort_by_key(|r| r.2 == Action::LogOut);

    let mut checked = 0;
    let mut wrong: Vec<String> = Vec::new();
    for caller in &mut callers {
        for &(method, path, action, target) in &routes {
            // (path segment, what it is)
            let subjects: Vec<(&str, Subject)> = match target {
                Target::OrgInPath => vec![
                    ("org-a", Subject::Org { own: true }),
                    ("org-b", Subject::Org { own: false }),
                ],
                Target::DatasetInPath => vec![
                    (
                        draft_a.as_str(),
                        Subject::Dataset {
                            own: true,
                            public: false,
                        },
                    ),
                    (
                        draft_b.as_str(),
                        Subject::Dataset {
                            own: false,
                            public: false,
                        },
                    ),
                    (
                        published_b.as_str(),
                        Subject::Dataset {
                            own: false,
                            public: true,
                        },
                    ),
                    (
                        withdrawn_a.as_str(),
                        Subject::Dataset {
                            own: true,
                            public: false,
                        },
                    ),
                ],
                Target::TicketInPath => vec![
                    (ticket_a.as_str(), Subject::Ticket { own: true }),
                    (ticket_b.as_str(), Subject::Ticket { own: false }),
                ],
                Target::ArticleInPath => vec![
                    (
                        published_article.as_str(),
                        Subject::Article { published: true },
                    ),
                    (
                        draft_article.as_str(),
                        Subject::Article { published: false },
                    ),
                ],
                Target::ApplicationInPath => vec![
                    (
                        resident_application.as_str(),
                        Subject::Application {
                            mine: caller.name == "resident",
                        },
                    ),
                    (
                        others_application.as_str(),
                        Subject::Application { mine: false },
                    ),
                ],
                Target::WorkOrderInPath => vec![
                    (
                        others_order_a.as_str(),
                        Subject::WorkOrder {
                            own: true,
                            mine: false,
                        },
                    ),
                    (
                        residents_order_b.as_str(),
                        Subject::WorkOrder {
                            own: false,
                            mine: caller.name == "resident",
                        },
                    ),
                ],
                Target::AgreementInPath => vec![
                    (
                        others_agreement_a.as_str(),
                        Subject::Agreement {
                            own: true,
                            mine: false,
                        },
                    ),
                    (
                        residents_agreement_b.as_str(),
                        Subject::Agreement {
                            own: false,
                            mine: caller.name == "resident",
                        },
                    ),
                ],
                Target::AssignmentInPath => vec![
                    (
                        assignment_a.as_str(),
                        Subject::Assignment {
                            own: true,
                            assigned: caller.name == "expert",
                        },
                    ),
                    (
                        assignment_b.as_str(),
                        Subject::Assignment {
                            own: false,
                            assigned: false,
                        },
                    ),
                ],
                Target::Platform | Target::OwnAccount => vec![("", Subject::None)],
            };
            for (segment, subject) in subjects {
                let expect = expected(caller.who, action, subject);
                // A step that changes an entry or a ticket acts on a new one just like it, so
                // that no caller finds what an earlier caller's step left behind.
                let segment = match method {
                    "GET" => segment.to_owned(),
                    _ => fixtures.again(segment).await,
                };
                let segment = segment.as_str();
                let id = match target {
                    Target::ArticleInPath => segment.to_owned(),
                    _ => domain::ids::TokenId::new().to_string(),
                };
                let url = app.at(&path
                    .replace("{org}", segment)
                    .replace("{dataset}", segment)
                    .replace("{ticket}", segment)
                    .replace("{application}", segment)
                    .replace("{order}", segment)
                    .replace("{agreement}", segment)
                    .replace("{assignment}", segment)
                    .replace("{material}", &domain::ids::TicketId::new().to_string())
                    .replace("{attachment}", &domain::ids::TicketId::new().to_string())
                    .replace("{item}", &domain::ids::CatalogueItemId::new().to_string())
                    .replace("{version}", "1")
                    .replace("{id}", &id)
                    .replace(
                        "{user}",
                        if path.ends_with("/roles") {
                            &dummy
                        } else {
                            &some_user
                        },
                    )
                    .replace(
                        "{code}",
                        if path.starts_with("/domains/") {
                            "transport"
                        } else {
                            "en"
                        },
                    )
                    .replace("{page}", "about")
                    .replace("{action}", "status_show")
                    .replace("{mode}", "elder")
                    .replace("{year}", "2026")
                    .replace("{term}", "XYZ")
                    .replace("{version}", "9999")
                    .replace("{job}", &domain::ids::JobId::new().to_string()));
                let s = caller.session.as_ref().unwrap();
                let api = path.starts_with("/api/v1/");
                let form = !path.starts_with("/api/");
                let body = if api {
                    api_body(method, path, subject, checked, &walk)
                } else {
                    Body::None
                };
                let url = if path == "/api/v1/sql" && method == "GET" {
                    format!("{url}?sql=SELECT+1")
                } else if matches!(body, Body::Bytes(_)) {
                    let name = if path.ends_with("/data") {
                        "a.csv"
                    } else {
                        "a.pdf"
                    };
                    format!("{url}?name={name}")
                } else {
                    url
                };
                let mut req = s
                    .client
                    .request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
                if method != "GET" {
                    req = if path.starts_with("/api/") {
                        let req = req.header("x-csrf-token", &s.csrf);
                        match &body {
                            Body::Json(v) => req.json(v),
                            Body::Bytes(b) => req.body(*b),
                            Body::None => req.json(&serde_json::json!({})),
                        }
                    } else if path == "/console/datasets/{dataset}/data"
                        || path == "/console/orgs/{org}/datasets/from-file"
                    {
                        // These forms carry a file, after the form's token.
                        let file = reqwest::multipart::Part::bytes(
                            "line_name,stop_name\n1路,人民广场\n".as_bytes(),
                        )
                        .file_name("a.csv");
                        req.multipart(
                            reqwest::multipart::Form::new()
                                .text("_csrf", s.csrf.clone())
                                .part("file", file),
                        )
                    } else {
                        let mut fields = vec![("_csrf".to_owned(), s.csrf.clone())];
                        fields.extend(form_fields(path, subject, checked, &walk));
                        req.form(&fields)
                    };
                }
                let res = req.send().await.unwrap();
                let status = res.status();
                let code = error_code(&res);
                assert_ne!(status.as_u16(), 500, "{} {method} {url}", caller.name);
                // A route that also names a made-up sub-object (an attachment, a catalogue
                // item, a token) answers 404 for that object when the caller was let in.
                let names_made_up = [
                    "{attachment}",
                    "{item}",
                    "/members/{user}",
                    "{job}",
                    "{version}",
                    "{material}",
                ]
                .iter()
                .any(|p| path.contains(p))
                    || (path.contains("{id}") && target != Target::ArticleInPath);
                let answered = match code.as_str() {
                    "not_signed_in" => Outcome::SignIn,
                    "forbidden" => Outcome::Forbidden,
                    "not_found" if names_made_up && expect == Outcome::Allowed => Outcome::Allowed,
                    "not_found" => Outcome::Hidden,
                    // The CKAN actions answer in CKAN's own shape.
                    _ if !api && !form => Outcome::Allowed,
                    // Every body is valid and every entry sound: a caller let in gets the
                    // route's own answer — success (or the page it leads to), or 409 when the
                    // object's state refuses the step. A 422 is a wrong answer.
                    _ if status.is_success()
                        || status.is_redirection()
                        || status.as_u16() == 409 =>
                    {
                        Outcome::Allowed
                    }
                    // Signing in with a wrong password, or setting one with a link that was
                    // never sent, is the route answering for itself.
                    _ if matches!(status.as_u16(), 401 | 429) && path.ends_with("/login") => {
                        Outcome::Allowed
                    }
                    _ if status.as_u16() == 400 && code == "reset_link_invalid" => Outcome::Allowed,
                    // A sandbox asked under an agreement not in force, or one that grants
                    // nothing there, answers so for itself.
                    _ if status.as_u16() == 403
                        && matches!(code.as_str(), "agreement_not_active" | "not_granted") =>
                    {
                        Outcome::Allowed
                    }
                    // An entry with no data published yet answers so for itself.
                    _ if status.as_u16() == 404 && code == "no_data" => Outcome::Allowed,
                    _ => Outcome::Broken,
                };
                if answered != expect {
                    wrong.push(format!(
                        "{} {method} {path} ({subject:?}): expected {expect:?}, answered {status} ({code})",
                        caller.name,
                    ));
                }
                checked += 1;
            }
            if action == Action::LogOut
                && let Some(email) = caller.email
            {
                caller.session = Some(app.login(email).await);
            }
            // A password changed by the walk is set back, so the caller signs in as before.
            if action == Action::ChangeOwnPassword
                && let Some(email) = caller.email
            {
                app.restore_password(email).await;
            }
        }
    }
    let per_caller: usize = ROUTES
        .iter()
        .map(|r| match r.3 {
            Target::OrgInPath
            | Target::TicketInPath
            | Target::ArticleInPath
            | Target::ApplicationInPath
            | Target::WorkOrderInPath
            | Target::AgreementInPath
            | Target::AssignmentInPath => 2,
            Target::DatasetInPath => 4,
            Target::Platform | Target::OwnAccount => 1,
        })
        .sum();
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(checked, callers.len() * per_caller);
}
