//! Regression tests for what hostile or careless callers did to the platform: sign-in
//! throttling, forged addresses, unbounded input, open redirects, cookies, tokens, the
//! existence of what one may not see, and the error shape of malformed requests.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// A server that believes the loopback proxy, so each request can say which address it
/// comes from through `X-Forwarded-For`.
async fn behind_proxy() -> TestApp {
    spawn_app_with(web::WebConfig {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..test_config()
    })
    .await
}

async fn sign_in_from(app: &TestApp, addr: &str, email: &str, password: &str) -> StatusCode {
    client()
        .post(app.at("/api/v1/auth/login"))
        .header("x-forwarded-for", addr)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

async fn audit_rows(app: &TestApp, action: &str) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT target_id, client_addr FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_strangers_failures_never_lock_the_owner_out_from_their_own_address() {
    let app = behind_proxy().await;
    app.register("owner@example.cn").await;
    for _ in 0..12 {
        let status = sign_in_from(&app, "198.51.100.66", "owner@example.cn", "wrong-guess-1").await;
        assert!(matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
        ));
    }
    // The stranger is paused ...
    assert_eq!(
        sign_in_from(&app, "198.51.100.66", "owner@example.cn", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ... the owner, from the owner's address, is not.
    assert_eq!(
        sign_in_from(&app, "203.0.113.8", "owner@example.cn", PASSWORD).await,
        StatusCode::OK
    );
    // The pause ends with its window.
    app.clock.advance_seconds(15 * 60 + 1);
    assert_eq!(
        sign_in_from(&app, "198.51.100.66", "owner@example.cn", PASSWORD).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn one_password_sprayed_over_many_accounts_is_slowed() {
    let app = behind_proxy().await;
    let limit = web::WebConfig::default().login_max_failures_per_addr;
    let mut refused = 0;
    for i in 0..limit + 5 {
        let email = format!("victim{i}@example.cn");
        match sign_in_from(&app, "198.51.100.7", &email, "Spring2026!").await {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused, 5, "only {limit} failures per address and window");
    // Another address is not slowed by it.
    assert_eq!(
        sign_in_from(&app, "203.0.113.9", "victim0@example.cn", "Spring2026!").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn parallel_guesses_cannot_exceed_the_limit() {
    let app = behind_proxy().await;
    app.register("target@example.cn").await;
    let limit = web::WebConfig::default().login_max_failures as usize;
    let guesses = (0..16).map(|i| {
        let url = app.at("/api/v1/auth/login");
        async move {
            client()
                .post(url)
                .header("x-forwarded-for", "198.51.100.20")
                .json(&json!({ "email": "target@example.cn", "password": format!("guess-{i}-x") }))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = join_all_spawned(guesses).await;
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let paused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((tried, paused), (limit, 16 - limit), "{statuses:?}");
    assert_eq!(audit_rows(&app, "auth.login_failed").await.len(), limit);
}

#[tokio::test]
async fn a_failed_sign_in_records_a_digest_of_what_was_typed_never_the_text() {
    let app = spawn_app().await;
    let huge = format!("{}@example.cn", "x".repeat(500_000));
    let res = client()
        .post(app.at("/api/v1/auth/login"))
        .json(&json!({ "email": huge, "password": "whatever-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let rows = audit_rows(&app, "auth.login_failed").await;
    assert_eq!(rows.len(), 1);
    let (target, _) = &rows[0];
    assert_eq!(target.len(), 64, "a SHA-256 digest in hex");
    assert!(target.chars().all(|c| c.is_ascii_hexdigit()));
    // Nothing anywhere in the database holds the typed text.
    let longest: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(LENGTH(target_id) + COALESCE(LENGTH(client_addr), 0)) FROM audit_log",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(longest.unwrap_or(0) < 200);
    let counters: i64 = sqlx::query_scalar("SELECT MAX(LENGTH(key)) FROM throttle_counters")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(counters < 200);
}

#[tokio::test]
async fn the_client_address_is_the_sockets_unless_a_trusted_proxy_forwards_it() {
    // No trusted proxy: a forged header changes nothing.
    let app = spawn_app().await;
    sign_in_from(&app, "6.6.6.6", "nobody@example.cn", "wrong-guess-1").await;
    let rows = audit_rows(&app, "auth.login_failed").await;
    assert_eq!(rows[0].1.as_deref(), Some("127.0.0.1"));

    // Behind the trusted proxy: the right-most address that is not the proxy.
    let app = behind_proxy().await;
    sign_in_from(
        &app,
        "6.6.6.6, 198.51.100.23, 127.0.0.1",
        "nobody@example.cn",
        "wrong-guess-1",
    )
    .await;
    let rows = audit_rows(&app, "auth.login_failed").await;
    assert_eq!(rows[0].1.as_deref(), Some("198.51.100.23"));
}

#[tokio::test]
async fn registrations_from_one_address_are_bounded() {
    let app = spawn_app_with(web::WebConfig {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        registrations_per_addr_hour: 3,
        ..web::WebConfig::default()
    })
    .await;
    let register = |i: usize, addr: &'static str| {
        client()
            .post(app.at("/api/v1/auth/register"))
            .header("x-forwarded-for", addr)
            .json(&json!({
                "kind": "natural_person", "email": format!("bulk{i}@example.cn"),
                "password": PASSWORD, "display_name": "批量",
            }))
            .send()
    };
    for i in 0..3 {
        assert_eq!(
            register(i, "198.51.100.3").await.unwrap().status(),
            StatusCode::CREATED
        );
    }
    let res = register(3, "198.51.100.3").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after") || error_code(&res) == "too_many_attempts");
    assert_eq!(app.count("users").await, 3);
    assert_eq!(
        register(4, "203.0.113.4").await.unwrap().status(),
        StatusCode::CREATED
    );
}

async fn register_org(app: &TestApp, email: &str, uscc: &str, password: &str) -> reqwest::Response {
    client()
        .post(app.at("/api/v1/auth/register"))
        .json(&json!({
            "kind": "organization", "email": email, "password": password,
            "display_name": "王经理", "legal_name": "示范数据科技有限公司", "uscc": uscc,
        }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_organization_has_one_account_and_its_code_must_be_well_formed() {
    let app = spawn_app().await;
    // All zeros passes the check character but names no registration authority.
    let (status, err) =
        json_error(register_org(&app, "zeros@example.cn", "000000000000000000", PASSWORD).await)
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["fields"][0]["field"], "uscc");
    assert_eq!(err["fields"][0]["code"], "invalid_uscc");

    let first = register_org(&app, "first@company.cn", "91350100M000100Y43", PASSWORD).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let (status, err) =
        json_error(register_org(&app, "second@company.cn", "91350100M000100Y43", PASSWORD).await)
            .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "uscc_taken");
    assert_eq!(err["fields"][0]["field"], "uscc");
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn guessable_passwords_are_refused_at_registration() {
    let app = spawn_app().await;
    for (email, password) in [
        ("weak1@example.cn", "password123"),
        ("zhao.ming@example.cn", "zhao.ming@example.cn"),
        ("zhao.ming2@example.cn", "zhao.ming2026"),
    ] {
        let res = client()
            .post(app.at("/api/v1/auth/register"))
            .json(&json!({
                "kind": "natural_person", "email": email, "password": password,
                "display_name": "赵明",
            }))
            .send()
            .await
            .unwrap();
        let (status, err) = json_error(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert_eq!(
            err["fields"][0]["code"], "password_too_guessable",
            "{password}"
        );
    }
    assert_eq!(app.count("users").await, 0);
}

/// Payloads from open-redirect corpora: each must land on the home page.
const REDIRECT_PAYLOADS: &[&str] = &[
    "https://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/%2F%2Fevil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%252F%252Fevil.example",
    "%2F%2Fevil.example",
    "/\r\n/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:evil.example",
    "evil.example",
    "@evil.example",
    " //evil.example",
];

#[tokio::test]
async fn redirect_targets_from_requests_stay_on_this_site() {
    let app = spawn_app().await;
    app.register("redirect@example.cn").await;
    for payload in REDIRECT_PAYLOADS {
        let encoded: String = url_encode(payload);
        // The language switch.
        let res = client()
            .get(app.at(&format!("/lang/en?next={encoded}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{payload:?}");
        assert_eq!(res.headers()["location"], "/", "lang switch {payload:?}");

        // Signing in through the form.
        let browser = client();
        let (_, page) = app.page(&browser, "/login").await;
        let csrf = form_csrf(&page);
        let res = browser
            .post(app.at("/login"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", "redirect@example.cn"),
                ("password", PASSWORD),
                ("next", payload),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{payload:?}");
        assert_eq!(res.headers()["location"], "/", "sign-in {payload:?}");
    }
    // A real path is kept.
    let res = client()
        .get(app.at("/lang/en?next=%2Fdatasets%3Fq%3Dbus"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/datasets?q=bus");
}

fn url_encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn cookies_are_secure_whenever_the_platform_is_reached_over_https() {
    let over_https = spawn_app_with(web::WebConfig {
        public_url: "https://data.example.gov.cn".into(),
        ..test_config()
    })
    .await;
    over_https.register("https@example.cn").await;
    let res = client()
        .post(over_https.at("/api/v1/auth/login"))
        .json(&json!({ "email": "https@example.cn", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&res);
    assert!(!cookies.is_empty());
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");

    // Plain http, directly: not Secure (the browser would drop it).
    let plain = behind_proxy().await;
    let res = client().get(plain.at("/login")).send().await.unwrap();
    assert!(
        set_cookies(&res).iter().all(|c| !c.contains("Secure")),
        "{:?}",
        set_cookies(&res)
    );
    // Through the trusted proxy that received https: Secure.
    let res = client()
        .get(plain.at("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&res);
    assert!(!cookies.is_empty() && cookies.iter().all(|c| c.contains("Secure")));
    // The same header from an untrusted caller is not believed.
    let direct = spawn_app().await;
    let res = client()
        .get(direct.at("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(set_cookies(&res).iter().all(|c| !c.contains("Secure")));
}

#[tokio::test]
async fn malformed_query_strings_get_the_json_error_shape() {
    let app = spawn_app().await;
    let auditor = app
        .user_with(
            "auditor@example.cn",
            Some(domain::roles::PlatformRole::SecurityAuditor),
            None,
        )
        .await;
    let operator = app
        .user_with(
            "operator@example.cn",
            Some(domain::roles::PlatformRole::Operator),
            None,
        )
        .await;
    for (who, path) in [
        (&operator.client, "/api/v1/users?limit=abc"),
        (&operator.client, "/api/v1/users?offset=-1x"),
        (&auditor.client, "/api/v1/audit?limit=%FF"),
        (&auditor.client, "/api/v1/audit?limit=12abc"),
        (&auditor.client, "/api/v1/audit?before=1e3"),
    ] {
        let res = who.get(app.at(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "malformed_request", "{path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // Unknown parameters are ignored on every route alike.
    for path in [
        "/api/v1/orgs?bogus=1",
        "/api/v1/datasets?bogus=1",
        "/api/v1/articles?bogus=1",
    ] {
        let res = client().get(app.at(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn tokens_expire_by_default_and_an_account_holds_a_bounded_number() {
    let app = spawn_app().await;
    app.register("many@example.cn").await;
    let s = app.login("many@example.cn").await;
    let max = web::WebConfig::default().max_tokens_per_account;
    let mut first: Option<Value> = None;
    for i in 0..max {
        let res = s
            .post_json(
                app.at("/api/v1/me/tokens"),
                json!({ "name": format!("脚本 {i}") }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        first.get_or_insert(body);
    }
    let first = first.unwrap();
    let expires = first["expires_at"].as_str().expect("an expiry by default");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    let days = (expires.timestamp_millis() - app.clock_now().0) / 86_400_000;
    assert_eq!(days, web::WebConfig::default().token_default_days);

    let res = s
        .post_json(
            app.at("/api/v1/me/tokens"),
            json!({ "name": "one too many" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "token_limit");
    assert_eq!(app.count("api_tokens").await, max);

    // Revoking one makes room.
    let id = first["id"].as_str().unwrap();
    s.delete(app.at(&format!("/api/v1/me/tokens/{id}"))).await;
    let res = s
        .post_json(
            app.at("/api/v1/me/tokens"),
            json!({ "name": "replacement" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn what_one_may_not_see_answers_as_if_it_did_not_exist() {
    let app = spawn_app().await;
    app.create_org("bureau-a").await;
    app.create_org("bureau-b").await;
    let draft = app.create_draft("bureau-a", "甲局内部草稿数据").await;
    let ticket = app.create_ticket(&draft).await;
    let outsider = app
        .user_with(
            "outsider@example.cn",
            None,
            Some(("bureau-b", domain::roles::OrgRole::ProviderAdmin)),
        )
        .await;
    let made_up = domain::ids::TicketId::new().to_string();
    let made_up_dataset = domain::ids::DatasetId::new().to_string();
    let pairs = [
        (
            format!("/api/v1/tickets/{ticket}"),
            format!("/api/v1/tickets/{made_up}"),
        ),
        (
            format!("/api/v1/datasets/{draft}"),
            format!("/api/v1/datasets/{made_up_dataset}"),
        ),
        (
            format!("/api/v1/datasets/{draft}/check"),
            format!("/api/v1/datasets/{made_up_dataset}/check"),
        ),
        (
            format!("/api/v1/datasets/{draft}/tickets"),
            format!("/api/v1/datasets/{made_up_dataset}/tickets"),
        ),
    ];
    for (real, fake) in &pairs {
        // Another organization's account: 404 for both.
        let a = outsider.client.get(app.at(real)).send().await.unwrap();
        let b = outsider.client.get(app.at(fake)).send().await.unwrap();
        assert_eq!(a.status(), StatusCode::NOT_FOUND, "{real}");
        assert_eq!(b.status(), StatusCode::NOT_FOUND, "{fake}");
        // A visitor: the same answer for both.
        let a = client().get(app.at(real)).send().await.unwrap().status();
        let b = client().get(app.at(fake)).send().await.unwrap().status();
        assert_eq!(a, b, "{real} vs {fake}");
    }
    // A write to another organization's ticket is not told it exists either.
    let res = outsider
        .post_json(
            app.at(&format!("/api/v1/tickets/{ticket}/cancel")),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Console pages: the visitor is asked to sign in whether or not the ticket exists.
    for path in [
        format!("/console/tickets/{ticket}"),
        format!("/console/tickets/{made_up}"),
    ] {
        let res = client().get(app.at(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
    }
}

#[tokio::test]
async fn the_last_administrator_of_an_organization_cannot_leave_it() {
    let app = spawn_app().await;
    app.create_org("bureau-c").await;
    let admin = app
        .user_with(
            "admin-c@example.cn",
            None,
            Some(("bureau-c", domain::roles::OrgRole::ProviderAdmin)),
        )
        .await;
    let members = app.at("/api/v1/orgs/bureau-c/members");
    let leave = app.at(&format!("/api/v1/orgs/bureau-c/members/{}", admin.user_id));
    let res = admin.delete(leave.clone()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "last_admin");
    // Nor step down to editor.
    let res = admin
        .send_json(
            reqwest::Method::PUT,
            members.clone(),
            &json!({ "email": "admin-c@example.cn", "role": "editor" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "last_admin");
    // On the members page, the form comes back with the problem at the role.
    let res = admin
        .post_form(
            app.at("/console/orgs/bureau-c/members"),
            &[("email", "admin-c@example.cn"), ("role", "editor")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let page = res.text().await.unwrap();
    assert!(page.contains("最后一名管理员"), "{page}");
    assert!(page.contains("admin-c@example.cn"));
    let (_, body) = app
        .page(&admin.client, "/api/v1/orgs/bureau-c/members")
        .await;
    assert!(body.contains("provider_admin"), "{body}");

    // With a second administrator, the first may go.
    app.register("admin-c2@example.cn").await;
    let res = admin
        .send_json(
            reqwest::Method::PUT,
            members.clone(),
            &json!({ "email": "admin-c2@example.cn", "role": "provider_admin" }),
        )
        .await;
    assert!(res.status().is_success());
    let res = admin.delete(leave.clone()).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn expired_sessions_tokens_and_counters_are_purged() {
    let app = spawn_app().await;
    app.register("purge@example.cn").await;
    let s = app.login("purge@example.cn").await;
    let res = s
        .post_json(
            app.at("/api/v1/me/tokens"),
            json!({ "name": "短期", "expires_in_days": 1 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    client()
        .post(app.at("/api/v1/auth/login"))
        .json(&json!({ "email": "purge@example.cn", "password": "wrong-guess-1" }))
        .send()
        .await
        .unwrap();
    let counters = |app: &TestApp| {
        let pool = app.store.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM throttle_counters")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert!(counters(&app).await > 0);

    // Nothing has run out yet: nothing goes.
    let now = app.clock_now();
    let purged = app
        .store
        .purge_expired(now, 30 * 86_400, 86_400)
        .await
        .unwrap();
    assert_eq!((purged.sessions, purged.tokens, purged.counters), (0, 0, 0));

    // Forty days on, the session, the token (expired for more than 30 days) and the counters go.
    app.clock.advance_seconds(40 * 86_400);
    let purged = app
        .store
        .purge_expired(app.clock_now(), 30 * 86_400, 86_400)
        .await
        .unwrap();
    assert_eq!((purged.sessions, purged.tokens), (1, 1));
    assert!(purged.counters > 0);
    assert_eq!(app.count("sessions").await, 0);
    assert_eq!(app.count("api_tokens").await, 0);
    assert_eq!(counters(&app).await, 0);
}
