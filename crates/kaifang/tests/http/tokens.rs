use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn create(app: &TestApp, s: &Session, body: Value) -> Value {
    let res = s
        .client
        .post(app.at("/api/v1/me/tokens"))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_token_is_shown_once_works_as_bearer_and_stops_when_revoked() {
    let app = spawn_app().await;
    app.register("script@example.cn").await;
    let s = app.login("script@example.cn").await;
    let token = create(&app, &s, json!({ "name": "夜间同步脚本" })).await;
    let secret = token["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("kf_"));
    assert!(secret.starts_with(token["prefix"].as_str().unwrap()));

    // Listing never shows the secret again, and the database holds only its hash.
    let list: Value = s
        .client
        .get(app.at("/api/v1/me/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret));
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&secret)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);

    let bearer = client();
    let me = bearer
        .get(app.at("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // A token cannot mint tokens: only a signed-in session can, so a leaked token, once
    // revoked, leaves nothing behind.
    let again = bearer
        .post(app.at("/api/v1/me/tokens"))
        .bearer_auth(&secret)
        .json(&json!({ "name": "second" }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&again), "session_required");
    assert_eq!(app.count("api_tokens").await, 1);

    let id = token["id"].as_str().unwrap();
    let res = s
        .client
        .delete(app.at(&format!("/api/v1/me/tokens/{id}")))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = bearer
        .get(app.at("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res), "token_revoked");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    app.register("expire@example.cn").await;
    let s = app.login("expire@example.cn").await;
    let token = create(
        &app,
        &s,
        json!({ "name": "short-lived", "expires_in_days": 1 }),
    )
    .await;
    let secret = token["token"].as_str().unwrap();
    assert_eq!(
        client()
            .get(app.at("/api/v1/me"))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    app.clock.advance_seconds(86_400 + 1);
    let res = client()
        .get(app.at("/api/v1/me"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res), "token_expired");
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_refused() {
    let app = spawn_app().await;
    for bad in ["kf_notarealtoken", "Basic abc", "garbage"] {
        let res = client()
            .get(app.at("/api/v1/orgs"))
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(error_code(&res), "token_invalid");
    }
}

#[tokio::test]
async fn nobody_revokes_someone_elses_token() {
    let app = spawn_app().await;
    app.register("owner@example.cn").await;
    app.register("other@example.cn").await;
    let owner = app.login("owner@example.cn").await;
    let other = app.login("other@example.cn").await;
    let token = create(&app, &owner, json!({ "name": "mine" })).await;
    let audit = app.audit_count().await;
    let res = other
        .client
        .delete(app.at(&format!(
            "/api/v1/me/tokens/{}",
            token["id"].as_str().unwrap()
        )))
        .header("x-csrf-token", &other.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.audit_count().await, audit);
    let me = client()
        .get(app.at("/api/v1/me"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_token_requests_get_field_errors() {
    let app = spawn_app().await;
    app.register("fields@example.cn").await;
    let s = app.login("fields@example.cn").await;
    let res = s
        .client
        .post(app.at("/api/v1/me/tokens"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({ "name": "", "expires_in_days": 0 }))
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "expires_in_days"]);
    assert_eq!(app.count("api_tokens").await, 0);
}

/// Creates a token for `s` with `scope` (access, organization); returns its secret.
async fn scoped_token(app: &TestApp, s: &Session, scope: serde_json::Value) -> String {
    let mut body = serde_json::json!({ "name": "脚本" });
    body.as_object_mut()
        .unwrap()
        .extend(scope.as_object().unwrap().clone());
    let res = s.post_json(app.at("/api/v1/me/tokens"), body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let token: serde_json::Value = res.json().await.unwrap();
    token["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_tokens_scope_narrows_what_its_account_may_do_and_never_widens_it() {
    let app = spawn_app().await;
    app.create_org("org-a").await;
    app.create_org("org-b").await;
    let editor = app
        .user_with(
            "editor@example.cn",
            None,
            Some(("org-a", domain::roles::OrgRole::Editor)),
        )
        .await;
    let read = scoped_token(&app, &editor, serde_json::json!({ "access": "read" })).await;
    let bearer = |secret: &str, method: reqwest::Method, path: &str| {
        client()
            .request(method, app.at(path))
            .bearer_auth(secret.to_owned())
            .json(&serde_json::json!({ "name": "上海市测试数据集", "domain": "transport",
                                        "open_type": "unconditional", "update_frequency": "monthly" }))
    };
    let res = bearer(&read, reqwest::Method::GET, "/api/v1/orgs/org-a/datasets")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = bearer(&read, reqwest::Method::POST, "/api/v1/orgs/org-a/datasets")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("datasets").await, 0);
    // The same account with a read-write token writes.
    let write = scoped_token(&app, &editor, serde_json::json!({})).await;
    let res = bearer(&write, reqwest::Method::POST, "/api/v1/orgs/org-a/datasets")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // An operator's token limited to organization A decides A's tickets only, and nothing
    // platform-wide.
    let op = app
        .user_with(
            "op@example.cn",
            Some(domain::roles::PlatformRole::Operator),
            None,
        )
        .await;
    let only_a = scoped_token(&app, &op, serde_json::json!({ "organization": "org-a" })).await;
    let ticket_a = app
        .create_ticket(&app.create_draft("org-a", "上海市测试数据甲").await)
        .await;
    let ticket_b = app
        .create_ticket(&app.create_draft("org-b", "上海市测试数据乙").await)
        .await;
    let accept = |t: &str| format!("/api/v1/tickets/{t}/return");
    let returned = client()
        .post(app.at(&accept(&ticket_b)))
        .bearer_auth(&only_a)
        .json(&serde_json::json!({ "reasons": ["other"], "text": "请补充" }))
        .send()
        .await
        .unwrap();
    assert_eq!(returned.status(), StatusCode::FORBIDDEN);
    let returned = client()
        .post(app.at(&accept(&ticket_a)))
        .bearer_auth(&only_a)
        .json(&serde_json::json!({ "reasons": ["other"], "text": "请补充" }))
        .send()
        .await
        .unwrap();
    assert_eq!(returned.status(), StatusCode::OK);
    let res = client()
        .put(app.at("/api/v1/vocabularies/glossary/AQI"))
        .bearer_auth(&only_a)
        .json(&serde_json::json!({ "explanation_zh": "空气质量指数" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A scope the platform does not know is refused at creation.
    for bad in [
        serde_json::json!({ "name": "x", "access": "admin" }),
        serde_json::json!({ "name": "x", "organization": "no-such-org" }),
    ] {
        let res = editor.post_json(app.at("/api/v1/me/tokens"), bad).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
