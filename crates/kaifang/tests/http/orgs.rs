use domain::roles::{OrgRole, PlatformRole};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn the_operator_creates_a_provider_and_its_admin_manages_members() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let res = op
        .client
        .post(app.at("/api/v1/orgs"))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "slug": "sh-transport", "name_zh": "上海市交通委员会", "name_en": "Transport", "kind": "bureau" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let dup = op
        .client
        .post(app.at("/api/v1/orgs"))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "slug": "sh-transport", "name_zh": "重复", "name_en": "Dup", "kind": "bureau" }))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&dup), "slug_taken");

    app.register("staff@example.cn").await;
    let admin = app
        .user_with(
            "admin@example.cn",
            None,
            Some(("sh-transport", OrgRole::ProviderAdmin)),
        )
        .await;
    let res = admin
        .client
        .put(app.at("/api/v1/orgs/sh-transport/members"))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({ "email": "staff@example.cn", "role": "editor" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let members: Value = admin
        .client
        .get(app.at("/api/v1/orgs/sh-transport/members"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let roles: Vec<(&str, &str)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("admin@example.cn", "provider_admin"),
            ("staff@example.cn", "editor")
        ]
    );

    // The new editor now acts for the organization, and may not manage its members.
    let staff = app.login("staff@example.cn").await;
    let res = staff
        .client
        .put(app.at("/api/v1/orgs/sh-transport/members"))
        .header("x-csrf-token", &staff.csrf)
        .json(&json!({ "email": "staff@example.cn", "role": "provider_admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_organization_input_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let before = (app.count("organizations").await, app.audit_count().await);
    let res = op
        .client
        .post(app.at("/api/v1/orgs"))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "slug": "Bad Slug", "name_zh": "", "name_en": "x", "kind": "ministry", "uscc": "123" }))
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "invalid_slug",
            "invalid_name",
            "invalid_kind",
            "invalid_uscc"
        ]
    );
    assert_eq!(
        (app.count("organizations").await, app.audit_count().await),
        before
    );

    let res = op
        .client
        .put(app.at("/api/v1/orgs/no-such-org/members"))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "email": "x@example.cn", "role": "editor" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_sysadmin_grants_platform_roles() {
    let app = spawn_app().await;
    let resident = app.register("resident@example.cn").await;
    let id = resident["id"].as_str().unwrap();
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let res = op
        .client
        .post(app.at(&format!("/api/v1/users/{id}/roles")))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "role": "regulator" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let admin = app
        .user_with("root@example.cn", Some(PlatformRole::Sysadmin), None)
        .await;
    let res = admin
        .client
        .post(app.at(&format!("/api/v1/users/{id}/roles")))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({ "role": "regulator" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let s = app.login("resident@example.cn").await;
    let me: Value = s
        .client
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["platform_roles"], json!(["regulator"]));
}
