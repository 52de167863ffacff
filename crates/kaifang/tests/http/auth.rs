use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_natural_person_registers_logs_in_and_out() {
    let app = spawn_app().await;
    let user = app.register("li.lei@example.cn").await;
    assert_eq!(user["kind"], "natural_person");
    assert!(user.get("password_hash").is_none());

    let s = app.login("LI.LEI@example.cn").await;
    let me: serde_json::Value = s
        .client
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "li.lei@example.cn");

    let res = s
        .client
        .post(app.at("/api/v1/auth/logout"))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s.client.get(app.at("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn an_organization_registers_with_a_valid_credit_code() {
    let app = spawn_app().await;
    let body = app.register_company("data@company.cn").await;
    assert_eq!(body["uscc"], "91350100M000100Y43");
    assert_eq!(body["kind"], "organization");

    // Issue 10: the account page shows the company's name and code.
    let session = app.login("data@company.cn").await;
    let (status, html) = app.page(&session.client, "/account").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "示范数据科技有限公司",
        "91350100M000100Y43",
        "统一社会信用代码",
        "王经理",
    ] {
        assert!(html.contains(shown), "{shown} missing");
    }
}

#[tokio::test]
async fn an_invalid_credit_code_is_refused_with_every_problem_and_nothing_changes() {
    let app = spawn_app().await;
    let (users, audit) = (app.count("users").await, app.audit_count().await);
    let res = client()
        .post(app.at("/api/v1/auth/register"))
        .json(&json!({
            "kind": "organization", "email": "not-an-email", "password": "short",
            "display_name": "王经理", "legal_name": "示范数据科技有限公司", "uscc": "91350100M000100Y44",
        }))
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "validation_failed");
    let codes: Vec<(&str, &str)> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            ("email", "invalid_email"),
            ("password", "password_too_short"),
            ("uscc", "invalid_uscc")
        ]
    );
    assert!(
        err["fields"][2]["message"]
            .as_str()
            .unwrap()
            .contains("统一社会信用代码")
    );
    assert_eq!(app.count("users").await, users);
    assert_eq!(app.audit_count().await, audit);
}

#[tokio::test]
async fn a_duplicate_email_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    app.register("dup@example.cn").await;
    let (users, audit) = (app.count("users").await, app.audit_count().await);
    let res = client()
        .post(app.at("/api/v1/auth/register"))
        .header("accept-language", "en")
        .json(&json!({
            "kind": "natural_person", "email": "DUP@example.cn", "password": PASSWORD, "display_name": "x",
        }))
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "email_taken");
    assert_eq!(err["message"], "This e-mail address is already registered.");
    assert_eq!(app.count("users").await, users);
    assert_eq!(app.audit_count().await, audit);
}

#[tokio::test]
async fn wrong_passwords_are_throttled_and_the_pause_ends() {
    let app = spawn_app().await;
    app.register("throttle@example.cn").await;
    let attempt = |password: &'static str| {
        let url = app.at("/api/v1/auth/login");
        async move {
            client()
                .post(url)
                .json(&json!({ "email": "throttle@example.cn", "password": password }))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        let res = attempt("wrong-password-1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(&res), "invalid_credentials");
    }
    // Even the right password is refused during the pause, and the refusal says how long.
    let res = attempt(PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&res), "too_many_attempts");
    let retry: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    let (_, err) = json_error(res).await;
    assert!(
        err["message"].as_str().unwrap().contains("15 分钟"),
        "{err}"
    );

    app.clock.advance_seconds(15 * 60 + 1);
    assert_eq!(attempt(PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_account_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    let res = client()
        .post(app.at("/api/v1/auth/login"))
        .json(&json!({ "email": "nobody@example.cn", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res), "invalid_credentials");
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app().await;
    app.register("expiry@example.cn").await;
    let s = app.login("expiry@example.cn").await;
    app.clock
        .advance_seconds(web::WebConfig::default().session_ttl_secs + 1);
    let res = s.client.get(app.at("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res), "not_signed_in");
}

#[tokio::test]
async fn a_cookie_authenticated_write_without_the_csrf_header_is_refused() {
    let app = spawn_app().await;
    app.register("csrf@example.cn").await;
    let s = app.login("csrf@example.cn").await;
    let res = s
        .client
        .post(app.at("/api/v1/me/tokens"))
        .json(&json!({ "name": "script" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "csrf_failed");
    let res = s
        .client
        .post(app.at("/api/v1/me/tokens"))
        .header("x-csrf-token", "forged")
        .json(&json!({ "name": "script" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&res), "csrf_failed");
    assert_eq!(app.count("api_tokens").await, 0);
}
