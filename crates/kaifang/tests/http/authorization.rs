//! Walks every route with every role and an anonymous visitor, and checks that what the route
//! does is what the one authorization policy says.

use std::collections::BTreeSet;

use domain::policy::{Action, Denial, Resource, authorize};
use domain::roles::{Actor, OrgRole, PlatformRole};
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
    ("GET", "/news/{id}", Action::ViewPublic, Target::Platform),
    ("GET", "/news/{id}/attachments/{attachment}", Action::ViewPublic, Target::Platform),
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
    ("GET", "/console/articles/{id}/edit", Action::PublishArticles, Target::Platform),
    ("POST", "/console/articles/{id}", Action::PublishArticles, Target::Platform),
    ("GET", "/api/v1/articles", Action::ViewPublic, Target::Platform),
    ("GET", "/api/v1/articles/{id}", Action::ViewPublic, Target::Platform),
    ("POST", "/api/v1/articles", Action::PublishArticles, Target::Platform),
    ("PUT", "/api/v1/articles/{id}", Action::PublishArticles, Target::Platform),
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

struct Caller {
    name: &'static str,
    email: Option<&'static str>,
    session: Option<Session>,
    actor: Actor,
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
async fn every_route_answers_every_role_as_the_policy_says() {
    let app = spawn_app().await;
    let org_a = app.create_org("org-a").await;
    let org_b = app.create_org("org-b").await;
    let dataset_a = app.create_draft("org-a", "上海市测试数据集甲").await;
    let dataset_b = app.create_draft("org-b", "上海市测试数据集乙").await;
    let ticket_a = app.create_ticket(&dataset_a).await;
    let ticket_b = app.create_ticket(&dataset_b).await;

    let roles: [(&str, &str, Option<PlatformRole>, Option<OrgRole>); 8] = [
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
        actor: Actor::Anonymous,
    }];
    for (name, email, platform, org_role) in roles {
        let s = app
            .user_with(email, platform, org_role.map(|r| ("org-a", r)))
            .await;
        let actor = Actor::User(app.store.actor(s.user_id.parse().unwrap()).await.unwrap());
        callers.push(Caller {
            name,
            email: Some(email),
            session: Some(s),
            actor,
        });
    }
    let some_user = callers[1].session.as_ref().unwrap().user_id.clone();

    // Sign-outs last, so they do not end the sessions the other routes use.
    let mut routes: Vec<_> = ROUTES.to_vec();
    routes.sort_by_key(|r| r.2 == Action::LogOut);

    let mut checked = 0;
    for caller in &mut callers {
        for &(method, path, action, target) in &routes {
            // (path segment for {org} or {dataset}, the organization it stands for)
            let subjects: Vec<(&str, Option<&str>)> = match target {
                Target::OrgInPath => vec![
                    ("org-a", Some(org_a.as_str())),
                    ("org-b", Some(org_b.as_str())),
                ],
                Target::DatasetInPath => {
                    vec![
                        (dataset_a.as_str(), Some(org_a.as_str())),
                        (dataset_b.as_str(), Some(org_b.as_str())),
                    ]
                }
                Target::TicketInPath => {
                    vec![
                        (ticket_a.as_str(), Some(org_a.as_str())),
                        (ticket_b.as_str(), Some(org_b.as_str())),
                    ]
                }
                _ => vec![("", None)],
            };
            for (segment, org_id) in subjects {
                let resource = match target {
                    Target::Platform => Resource::Platform,
                    Target::OwnAccount => Resource::OwnAccount,
                    Target::OrgInPath | Target::DatasetInPath | Target::TicketInPath => {
                        Resource::Organization(org_id.unwrap().parse().unwrap())
                    }
                };
                let expected = authorize(&caller.actor, action, resource);
                let url = app.at(&path
                    .replace("{org}", segment)
                    .replace("{dataset}", segment)
                    .replace("{ticket}", segment)
                    .replace("{attachment}", &domain::ids::TicketId::new().to_string())
                    .replace("{item}", &domain::ids::CatalogueItemId::new().to_string())
                    .replace("{version}", "1")
                    .replace("{id}", &domain::ids::TokenId::new().to_string())
                    .replace("{user}", &some_user)
                    .replace("{code}", "en")
                    .replace("{action}", "status_show")
                    .replace("{term}", "XYZ"));
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
                let code = error_code(&res);
                // An entry or ticket the caller may not see is answered 404, as if it did not
                // exist: that is the refusal. Public views are also hidden per object (a
                // draft is no public page), which the route's policy does not know of.
                // A route that also names a made-up attachment answers 404 for the attachment
                // too, so there a 404 tells nothing.
                let hides = matches!(target, Target::DatasetInPath | Target::TicketInPath);
                let ambiguous = action == Action::ViewPublic || path.contains("{attachment}");
                let denied = match code.as_str() {
                    "not_signed_in" => Err(Denial::NotSignedIn),
                    "forbidden" => Err(Denial::Forbidden),
                    "not_found" if hides && ambiguous => expected,
                    "not_found" if hides => Err(Denial::Forbidden),
                    _ => Ok(()),
                };
                assert_eq!(
                    denied,
                    expected,
                    "{} {method} {url} answered {} ({code}) but the policy says {expected:?}",
                    caller.name,
                    res.status()
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
    let doubled = ROUTES
        .iter()
        .filter(|r| !matches!(r.3, Target::Platform | Target::OwnAccount))
        .count();
    assert_eq!(checked, callers.len() * (ROUTES.len() + doubled));
}
