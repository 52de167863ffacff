use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn malformed_json_gets_a_stable_code_in_the_callers_language() {
    let app = spawn_app().await;
    let send = |lang: &'static str| {
        client()
            .post(app.at("/api/v1/auth/register"))
            .header("content-type", "application/json")
            .header("accept-language", lang)
            .body("{\"email\": ")
            .send()
    };
    let (status, err) = json_error(send("zh-CN,zh;q=0.9").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["code"], "malformed_json");
    assert!(err["message"].as_str().unwrap().contains("JSON"));
    assert!(err["message"].as_str().unwrap().contains("请求体"));
    let (_, err) = json_error(send("en-GB").await.unwrap()).await;
    assert_eq!(err["code"], "malformed_json");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("The request body")
    );
    // Wrong types count as malformed too.
    let res = client()
        .post(app.at("/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": 5, "password": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&res), "malformed_json");
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn json_endpoints_require_json() {
    let app = spawn_app().await;
    let res = client()
        .post(app.at("/api/v1/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a%40b.cn&password=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&res), "unsupported_media_type");
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_they_are_read() {
    let app = spawn_app().await;
    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let res = client()
        .post(app.at("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["code"], "payload_too_large");
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn unknown_addresses_get_404_as_json_or_as_a_page_in_both_languages() {
    let app = spawn_app().await;
    let (status, err) = json_error(
        client()
            .get(app.at("/api/v1/no-such-thing"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["code"], "not_found");

    let zh = client().get(app.at("/no-such-page")).send().await.unwrap();
    assert_eq!(zh.status(), StatusCode::NOT_FOUND);
    assert!(
        zh.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = zh.text().await.unwrap();
    assert!(
        html.contains("lang=\"zh-CN\"") && html.contains("找不到您要的页面"),
        "{html}"
    );

    let en = client()
        .get(app.at("/no-such-page"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let html = en.text().await.unwrap();
    assert!(
        html.contains("lang=\"en\"") && html.contains("does not exist"),
        "{html}"
    );
}

#[tokio::test]
async fn a_wrong_method_gets_405_with_a_code() {
    let app = spawn_app().await;
    let res = client()
        .delete(app.at("/api/v1/orgs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let (_, err) = json_error(res).await;
    assert_eq!(err["code"], "method_not_allowed");
}

#[tokio::test]
async fn database_failures_never_show_database_text() {
    let app = spawn_app().await;
    sqlx::query("ALTER TABLE organizations RENAME TO organizations_gone")
        .execute(app.store.pool())
        .await
        .unwrap();
    let res = client().get(app.at("/api/v1/orgs")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = res.text().await.unwrap();
    assert!(body.contains("\"internal\""), "{body}");
    for leak in [
        "organizations",
        "no such table",
        "relation",
        "sqlx",
        "SELECT",
    ] {
        assert!(!body.contains(leak), "{leak} leaked in {body}");
    }
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let res = client().get(app.at("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client().get(app.at("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Readiness depends on the migrations being applied.
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(app.store.pool())
        .await
        .unwrap();
    let res = client().get(app.at("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn an_unaudited_write_never_lands() {
    let app = spawn_app().await;
    let mut tx = app.store.begin_write().await.unwrap();
    sqlx::query("INSERT INTO organizations (id, slug, name_zh, name_en, kind, created_at) VALUES ('x', 'x', 'x', 'x', 'bureau', 0)")
        .execute(tx.conn())
        .await
        .unwrap();
    assert!(matches!(
        tx.commit().await,
        Err(store::StoreError::Unaudited)
    ));
    assert_eq!(app.count("organizations").await, 0);
}
