//! Walks every route with every role and an anonymous visitor, over objects of the caller's
//! own organization and of another, in several states (a draft, a published and a withdrawn
//! entry, open tickets, a published and a draft article), and checks each answer against an
//! expected-answer table written here from the rules, apart from the policy it tests.

use std::collections::BTreeSet;

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
    ("GET", "/console", Action::ViewOwnAccount, Target::OwnAccount),
    ("GET", "/console/tickets", Action::ReviewTickets, Target::Platform),
    ("GET", "/console/orgs/{org}", Action::ViewOrgInternal, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/datasets/new", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/catalogue", Action::ViewOrgInternal, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/catalogue", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/reviews", Action::ViewOrgInternal, Target::OrgInPath),
    ("GET", "/console/orgs/{org}/members", Action::ViewMembers, Target::OrgInPath),
    ("POST", "/console/orgs/{org}/members", Action::ManageMembers, Target::OrgInPath),
    ("POST", "/console/datasets/{dataset}/review", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/data-update", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/console/orgs/{org}/datasets", Action::EditOpenList, Target::OrgInPath),
    ("GET", "/console/datasets/{dataset}/edit", Action::ViewOrgInternal, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/publish", Action::EditOpenList, Target::DatasetInPath),
    ("POST", "/console/datasets/{dataset}/remove", Action::EditOpenList, Target::DatasetInPath),
    ("GET", "/console/tickets/{ticket}", Action::ViewOrgInternal, Target::TicketInPath),
    ("POST", "/console/tickets/{ticket}/accept", Action::ReviewTickets, Target::TicketInPath),
    ("POST", "/console/tickets/{ticket}/return", Action::ReviewTickets, Target::TicketInPath),
    ("POST", "/console/tickets/{ticket}/resubmit", Action::EditOpenList, Target::TicketInPath),
    ("GET", "/datasets", Action::ViewPublic, Target::Platform),
    ("GET", "/datasets/{dataset}", Action::ViewPublic, Target::DatasetInPath),
    ("GET", "/orgs/{org}", Action::ViewPublic, Target::OrgInPath),
    ("GET", "/domains/{code}", Action::ViewPublic, Target::Platform),
    ("GET", "/news", Action::ViewPublic, Target::Platform),
    ("GET", "/news/{id}", Action::ViewPublic, Target::ArticleInPath),
    ("GET", "/news/{id}/attachments/{attachment}", Action::ViewPublic, Target::ArticleInPath),
    ("GET", "/console/audit", Action::ViewAudit, Target::Platform),
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
    ("POST", "/api/v1/auth/register", Action::Register, Target::Platform),
    ("POST", "/api/v1/auth/login", Action::LogIn, Target::Platform),
    ("POST", "/api/v1/auth/logout", Action::LogOut, Target::OwnAccount),
    ("GET", "/api/v1/me", Action::ViewOwnAccount, Target::OwnAccount),
    ("GET", "/api/v1/me/tokens", Action::ManageOwnTokens, Target::OwnAccount),
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
    ("GET", "/api/v1/datasets/{dataset}/versions", Action::ViewPublic, Target::DatasetInPath),
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
    Org { own: bool },
    Dataset { own: bool, public: bool },
    Ticket { own: bool },
    Article { published: bool },
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
        _ => {}
    }
    if !who.signed_in {
        return Outcome::SignIn;
    }
    let own = match subject {
        Subject::Org { own } | Subject::Dataset { own, .. } | Subject::Ticket { own } => own,
        Subject::None | Subject::Article { .. } => false,
    };
    let admin_or_editor = matches!(who.in_org_a, Some(OrgRole::ProviderAdmin | OrgRole::Editor));
    let allowed = match action {
        // Anyone with an account acts on their own account, and may upload files to attach.
        Action::LogOut | Action::ViewOwnAccount | Action::ManageOwnTokens | Action::UploadFiles => {
            true
        }
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
        Action::EditOpenList => own && admin_or_editor,
        Action::EditGuide | Action::PublishArticles => who.is(Operator),
        // Nobody decides on their own organization's ticket or exception.
        Action::ReviewTickets | Action::ManageVocabularies => match subject {
            Subject::Ticket { own } | Subject::Dataset { own, .. } => {
                who.is(Operator) && !member_of(own)
            }
            _ => who.is(Operator),
        },
        // The job queue is the platform's staff's; metrics are for the system administrator's
        // monitoring.
        Action::ManageJobs => who.is(Operator) || who.is(Sysadmin),
        Action::ViewMetrics => who.is(Sysadmin),
        Action::ViewPublic | Action::Register | Action::LogIn => true,
    };
    if allowed {
        Outcome::Allowed
    } else {
        refused(Outcome::Forbidden)
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
    let draft_a = app.create_draft("org-a", "上海市测试数据集甲").await;
    let draft_b = app.create_draft("org-b", "上海市测试数据集乙").await;
    let published_b = app
        .create_entry("org-b", "上海市测试数据集丙", DatasetStatus::Published)
        .await;
    let withdrawn_a = app
        .create_entry("org-a", "上海市测试数据集丁", DatasetStatus::Withdrawn)
        .await;
    let ticket_a = app.create_ticket(&draft_a).await;
    let ticket_b = app.create_ticket(&draft_b).await;
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

    let roles: [(&str, &str, Option<PlatformRole>, Option<OrgRole>); 9] = [
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

    // Sign-outs last, so they do not end the sessions the other routes use.
    let mut routes: Vec<_> = ROUTES.to_vec();
    routes.sort_by_key(|r| r.2 == Action::LogOut);

    let mut checked = 0;
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
                Target::Platform | Target::OwnAccount => vec![("", Subject::None)],
            };
            for (segment, subject) in subjects {
                let expect = expected(caller.who, action, subject);
                let id = match target {
                    Target::ArticleInPath => segment.to_owned(),
                    _ => domain::ids::TokenId::new().to_string(),
                };
                let url = app.at(&path
                    .replace("{org}", segment)
                    .replace("{dataset}", segment)
                    .replace("{ticket}", segment)
                    .replace("{attachment}", &domain::ids::TicketId::new().to_string())
                    .replace("{item}", &domain::ids::CatalogueItemId::new().to_string())
                    .replace("{version}", "1")
                    .replace("{id}", &id)
                    .replace("{user}", &some_user)
                    .replace(
                        "{code}",
                        if path.starts_with("/domains/") {
                            "transport"
                        } else {
                            "en"
                        },
                    )
                    .replace("{action}", "status_show")
                    .replace("{term}", "XYZ")
                    .replace("{job}", &domain::ids::JobId::new().to_string()));
                let s = caller.session.as_ref().unwrap();
                let mut req = s
                    .client
                    .request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
                if method != "GET" {
                    req = if path.starts_with("/api/") {
                        req.header("x-csrf-token", &s.csrf)
                            .json(&serde_json::json!({}))
                    } else {
                        req.form(&[("_csrf", s.csrf.as_str())])
                    };
                }
                let res = req.send().await.unwrap();
                let status = res.status();
                let code = error_code(&res);
                assert_ne!(status.as_u16(), 500, "{} {method} {url}", caller.name);
                // A route that also names a made-up sub-object (an attachment, a catalogue
                // item, a token) answers 404 for that object when the caller was let in.
                let names_made_up = ["{attachment}", "{item}", "/members/{user}", "{job}"]
                    .iter()
                    .any(|p| path.contains(p))
                    || (path.contains("{id}") && target != Target::ArticleInPath);
                let answered = match code.as_str() {
                    "not_signed_in" => Outcome::SignIn,
                    "forbidden" => Outcome::Forbidden,
                    "not_found" if names_made_up && expect == Outcome::Allowed => Outcome::Allowed,
                    "not_found" => Outcome::Hidden,
                    _ => Outcome::Allowed,
                };
                assert_eq!(
                    answered, expect,
                    "{} {method} {url} ({subject:?}) answered {status} ({code})",
                    caller.name,
                );
                checked += 1;
            }
            if action == Action::LogOut
                && let Some(email) = caller.email
            {
                caller.session = Some(app.login(email).await);
            }
        }
    }
    let per_caller: usize = ROUTES
        .iter()
        .map(|r| match r.3 {
            Target::OrgInPath | Target::TicketInPath | Target::ArticleInPath => 2,
            Target::DatasetInPath => 4,
            Target::Platform | Target::OwnAccount => 1,
        })
        .sum();
    assert_eq!(checked, callers.len() * per_caller);
}
