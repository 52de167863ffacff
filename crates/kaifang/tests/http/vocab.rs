//! Managed vocabularies and format exceptions (A9.3).

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::openlist::{create, good_meta, provider_with_catalogue};
use crate::support::*;

async fn put(s: &Session, url: String, body: Value) -> reqwest::Response {
    s.client
        .put(url)
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_operator_manages_formats_glossary_and_domains() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let res = put(&op, app.at("/api/v1/vocabularies/formats/ods"), json!({ "name": "ODS", "media_type": "application/vnd.oasis.opendocument.spreadsheet", "openness": 3 })).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = put(
        &op,
        app.at("/api/v1/vocabularies/glossary/BRT"),
        json!({ "explanation_zh": "快速公交系统", "explanation_en": "Bus rapid transit" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = put(
        &op,
        app.at("/api/v1/vocabularies/domains/agriculture"),
        json!({ "name_zh": "农业农村", "name_en": "Agriculture", "group": "economy" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let v: Value = client()
        .get(app.at("/api/v1/vocabularies"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["formats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "ods")
    );
    assert!(
        v["glossary"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["term"] == "BRT")
    );
    assert!(
        v["domains"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "agriculture")
    );

    let before = app.audit_count().await;
    let (status, err) = json_error(
        put(
            &op,
            app.at("/api/v1/vocabularies/formats/Bad%20Code"),
            json!({ "name": "", "openness": 9 }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["invalid_code", "required", "invalid_openness"]);
    assert_eq!(app.audit_count().await, before);
}

#[tokio::test]
async fn a_proprietary_format_passes_only_with_an_exception() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let mut meta = good_meta("上海市公交线路站点", &items);
    meta["formats"] = json!(["csv", "shp"]);
    let d: Value = create(&app, &editor, "sh-transport", &meta)
        .await
        .json()
        .await
        .unwrap();
    let id = d["id"].as_str().unwrap();
    let check = |s: &Session| {
        let req = s
            .client
            .get(app.at(&format!("/api/v1/datasets/{id}/check")));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert!(
        check(&editor).await["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "proprietary_format")
    );

    // The provider cannot grant itself the exception; the operator can, with a reason.
    let url = app.at(&format!("/api/v1/datasets/{id}/format-exceptions"));
    let res = editor
        .client
        .post(&url)
        .header("x-csrf-token", &editor.csrf)
        .json(&json!({ "format": "shp", "reason": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = op
        .client
        .post(&url)
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "format": "csv", "reason": "" }))
        .send()
        .await
        .unwrap();
    let (_, err) = json_error(res).await;
    let codes: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["not_proprietary", "required"]);
    let res = op.client.post(&url).header("x-csrf-token", &op.csrf).json(&json!({ "format": "shp", "reason": "测绘成果原始格式，另提供 GeoJSON 转换版本前的过渡安排" })).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(check(&editor).await["publishable"], true);
}
