//! The open list over HTTP: vocabularies, the classification guide, catalogues, draft entries.

use domain::roles::{OrgRole, PlatformRole};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// A provider with an editor and two catalogue items; returns the editor and the item ids.
pub async fn provider_with_catalogue(app: &TestApp, slug: &str) -> (Session, Vec<String>) {
    app.create_org(slug).await;
    let editor = app
        .user_with(
            &format!("editor@{slug}.cn"),
            None,
            Some((slug, OrgRole::Editor)),
        )
        .await;
    let res = editor
        .client
        .post(app.at(&format!("/api/v1/orgs/{slug}/catalogue")))
        .header("x-csrf-token", &editor.csrf)
        .json(&json!([
            { "code": "BUS-LINE", "name": "公交线路", "description": "线路基础信息", "source_system": "公交信息系统" },
            { "code": "BUS-STOP", "name": "公交站点", "description": "站点位置", "source_system": "公交信息系统" },
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list: Value = editor
        .client
        .get(app.at(&format!("/api/v1/orgs/{slug}/catalogue")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    (editor, ids)
}

/// Metadata that passes every publish check, linked to `items`.
pub fn good_meta(name: &str, items: &[String]) -> Value {
    json!({
        "name": name,
        "summary": "本市公交线路及站点的基础信息，按月更新。",
        "domain": "transport",
        "keywords": ["公交", "线路"],
        "data_items": [
            { "name": "line_name", "label": "线路名称", "field_type": "text",
              "description": "公交线路的对外名称。", "catalogue_item": items[0] },
            { "name": "stop_name", "label": "站点名称", "field_type": "text",
              "description": "站点的对外名称，坐标系为 WGS84。", "catalogue_item": items[1] },
        ],
        "formats": ["csv", "json"],
        "open_type": "unconditional",
        "grading": {
            "security_level": "general", "personal_information": "none", "trade_secret": "none",
            "legal_restriction": "none", "processing_demand": "ordinary", "access_pattern": "one_off",
        },
        "update_frequency": "monthly",
        "spatial": { "areas": ["shanghai"] },
        "contact": { "name": "数据管理处", "phone": "021-00000000" },
        "license": "本平台数据使用协议",
    })
}

pub async fn create(app: &TestApp, s: &Session, org: &str, meta: &Value) -> reqwest::Response {
    s.client
        .post(app.at(&format!("/api/v1/orgs/{org}/datasets")))
        .header("x-csrf-token", &s.csrf)
        .json(meta)
        .send()
        .await
        .unwrap()
}

/// Creates a draft and publishes it through an accepted "add" ticket; returns its id.
pub async fn publish(app: &TestApp, editor: &Session, op: &Session, meta: Value) -> String {
    let d: Value = create(app, editor, "sh-transport", &meta)
        .await
        .json()
        .await
        .unwrap();
    let id = d["id"].as_str().unwrap().to_owned();
    let t: Value = editor
        .client
        .post(app.at(&format!("/api/v1/datasets/{id}/tickets")))
        .header("x-csrf-token", &editor.csrf)
        .json(&json!({ "kind": "add", "reason": "新增" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = op
        .client
        .post(app.at(&format!(
            "/api/v1/tickets/{}/accept",
            t["id"].as_str().unwrap()
        )))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    id
}

fn field_codes(err: &Value) -> Vec<String> {
    err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn vocabularies_and_the_guide_are_public() {
    let app = spawn_app().await;
    let v: Value = client()
        .get(app.at("/api/v1/vocabularies"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["domains"].as_array().unwrap().len() >= 10);
    let csv = v["formats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "csv")
        .unwrap();
    assert_eq!(csv["proprietary"], 0);
    assert_eq!(v["areas"].as_array().unwrap().len(), 17);

    let g: Value = client()
        .get(app.at("/api/v1/classification-guide"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(g["version"], 1);
    assert!(g["guide"]["dimensions"].as_array().unwrap().len() >= 5);

    let eval = client()
        .post(app.at("/api/v1/classification-guide/evaluate"))
        .json(&json!({ "grading": good_meta("x", &["a".into(), "b".into()])["grading"].clone() }))
        .send()
        .await
        .unwrap();
    let eval: Value = eval.json().await.unwrap();
    assert_eq!(eval["open_type"], "unconditional");

    let bad = client()
        .post(app.at("/api/v1/classification-guide/evaluate"))
        .json(&json!({ "grading": { "security_level": "secret" } }))
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_codes(&err).iter().all(|c| c == "invalid_grading"));
}

#[tokio::test]
async fn the_operator_versions_the_guide_and_a_broken_guide_changes_nothing() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let current: Value = client()
        .get(app.at("/api/v1/classification-guide"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let toml = current["toml"].as_str().unwrap();

    // An example that contradicts the rule is refused, and the version in force stays.
    let broken = toml.replacen(
        "open_type = \"conditional\"\nexplanation_zh",
        "open_type = \"unconditional\"\nexplanation_zh",
        1,
    );
    let res = op
        .client
        .put(app.at("/api/v1/classification-guide"))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "toml": broken }))
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&err), ["invalid_guide"]);
    assert!(
        err["fields"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("公交车辆实时位置")
    );

    let edited = toml.replace(
        "公共数据开放分级分类指南（默认版）",
        "公共数据开放分级分类指南（2026 年修订）",
    );
    let res = op
        .client
        .put(app.at("/api/v1/classification-guide"))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "toml": edited }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let versions: Value = client()
        .get(app.at("/api/v1/classification-guide/versions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let numbers: Vec<i64> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let v1: Value = client()
        .get(app.at("/api/v1/classification-guide/versions/1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v1["guide"]["title_zh"].as_str().unwrap().contains("默认版"));
    let now: Value = client()
        .get(app.at("/api/v1/classification-guide"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(now["guide"]["title_zh"].as_str().unwrap().contains("2026"));
    assert_eq!(
        client()
            .get(app.at("/api/v1/classification-guide/versions/9"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn catalogues_import_as_json_or_csv_and_bad_rows_change_nothing() {
    let app = spawn_app().await;
    let (editor, ids) = provider_with_catalogue(&app, "sh-transport").await;
    assert_eq!(ids.len(), 2);

    // CSV with a byte-order mark, as spreadsheet programs save it; a known code updates in place.
    let csv = "\u{feff}code,name,description,source_system\nBUS-STOP,公交站点（更新）,站点位置与名称,公交信息系统\nBUS-GPS,车辆定位,车辆实时定位,智能调度系统\n";
    let res = editor
        .client
        .post(app.at("/api/v1/orgs/sh-transport/catalogue"))
        .header("x-csrf-token", &editor.csrf)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({ "added": 1, "updated": 1 }));

    let before = app.audit_count().await;
    let res = editor
        .client
        .post(app.at("/api/v1/orgs/sh-transport/catalogue"))
        .header("x-csrf-token", &editor.csrf)
        .json(&json!([{ "code": "X", "name": "甲" }, { "code": "X", "name": "乙" }, { "code": "", "name": "" }]))
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_codes(&err),
        ["duplicate_code", "invalid_code", "invalid_name"]
    );
    assert_eq!(app.audit_count().await, before);
    let list: Value = editor
        .client
        .get(app.at("/api/v1/orgs/sh-transport/catalogue"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_linked_catalogue_item_cannot_be_deleted() {
    let app = spawn_app().await;
    let (editor, ids) = provider_with_catalogue(&app, "sh-transport").await;
    let res = create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市公交线路站点", &ids),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let dataset: Value = res.json().await.unwrap();

    let res = editor
        .client
        .delete(app.at(&format!("/api/v1/orgs/sh-transport/catalogue/{}", ids[0])))
        .header("x-csrf-token", &editor.csrf)
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "catalogue_item_in_use");
    assert_eq!(err["fields"][0]["detail"], dataset["id"]);

    // Unlink the field, and the item may go.
    let mut meta = good_meta("上海市公交线路站点", &ids);
    meta["data_items"][0]["catalogue_item"] = Value::Null;
    let res = editor
        .client
        .put(app.at(&format!(
            "/api/v1/datasets/{}",
            dataset["id"].as_str().unwrap()
        )))
        .header("x-csrf-token", &editor.csrf)
        .json(&meta)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = editor
        .client
        .delete(app.at(&format!("/api/v1/orgs/sh-transport/catalogue/{}", ids[0])))
        .header("x-csrf-token", &editor.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn unsound_entries_are_refused_with_every_reason_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (editor, ids) = provider_with_catalogue(&app, "sh-transport").await;
    app.create_org("sh-health").await;
    let other = app
        .user_with(
            "editor@health.cn",
            None,
            Some(("sh-health", OrgRole::Editor)),
        )
        .await;
    let before = (app.audit_count().await, app.count("organizations").await);

    let mut meta = good_meta("上海市公交线路站点", &ids);
    meta["domain"] = json!("weather");
    meta["formats"] = json!(["csv", "wps"]);
    meta["spatial"]["areas"] = json!(["atlantis"]);
    meta["open_type"] = json!("unconditional");
    meta["grading"]["access_pattern"] = json!("continuous");
    let res = create(&app, &editor, "sh-transport", &meta).await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_codes(&err),
        [
            "unknown_domain",
            "unknown_format",
            "unknown_area",
            "open_type_not_permitted"
        ]
    );
    let permitted = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "open_type_not_permitted")
        .unwrap();
    assert_eq!(permitted["detail"], "conditional");

    // Another provider's catalogue items are not ours to link.
    let res = create(
        &app,
        &other,
        "sh-health",
        &good_meta("上海市医疗机构名录", &ids),
    )
    .await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_codes(&err),
        ["unknown_catalogue_item", "unknown_catalogue_item"]
    );

    // An unknown open type does not even parse.
    let mut meta = good_meta("上海市公交线路站点", &ids);
    meta["open_type"] = json!("semi_open");
    let res = create(&app, &editor, "sh-transport", &meta).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    assert_eq!(
        (app.audit_count().await, app.count("organizations").await),
        before
    );
    let list: Value = editor
        .client
        .get(app.at("/api/v1/orgs/sh-transport/datasets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list["datasets"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_check_lists_what_blocks_publishing() {
    let app = spawn_app().await;
    let (editor, ids) = provider_with_catalogue(&app, "sh-transport").await;
    let mut meta = good_meta("公交线路站点", &ids);
    meta["data_items"][0]["description"] = json!("");
    meta["data_items"][1]["label"] = json!("BRT站点名称");
    meta["data_items"][1]["catalogue_item"] = Value::Null;
    meta["source"] = json!("deidentified");
    let created: Value = create(&app, &editor, "sh-transport", &meta)
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["status"], "draft");

    let check: Value = editor
        .client
        .get(app.at(&format!("/api/v1/datasets/{id}/check")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check["publishable"], false);
    let problems: Vec<(String, String)> = check["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("name_missing_place", "name"),
        ("item_missing_description", "data_items[0].description"),
        ("unexplained_abbreviation", "data_items[1].label"),
        ("item_unlinked", "data_items[1].catalogue_item"),
        ("required", "source_note"),
    ] {
        assert!(
            problems.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} not in {problems:?}"
        );
    }
    assert!(
        check["problems"][0]["message"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    );

    // Fixed, it passes.
    let res = editor
        .client
        .put(app.at(&format!("/api/v1/datasets/{id}")))
        .header("x-csrf-token", &editor.csrf)
        .json(&good_meta("上海市公交线路站点", &ids))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let check: Value = editor
        .client
        .get(app.at(&format!("/api/v1/datasets/{id}/check")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check["publishable"], true, "{check}");

    // A second entry with nearly the same name is a near-duplicate.
    let twin: Value = create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市公交线路站点信息", &ids),
    )
    .await
    .json()
    .await
    .unwrap();
    let check: Value = editor
        .client
        .get(app.at(&format!(
            "/api/v1/datasets/{}/check",
            twin["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let similar = check["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "name_too_similar")
        .unwrap();
    assert!(similar["detail"].as_str().unwrap().contains(id));
}

#[tokio::test]
async fn drafts_are_seen_only_inside() {
    let app = spawn_app().await;
    let (editor, ids) = provider_with_catalogue(&app, "sh-transport").await;
    let created: Value = create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市公交线路站点", &ids),
    )
    .await
    .json()
    .await
    .unwrap();
    let url = app.at(&format!(
        "/api/v1/datasets/{}",
        created["id"].as_str().unwrap()
    ));
    assert!(
        created["citation"]
            .as_str()
            .unwrap()
            .contains("上海市公交线路站点[DS]")
    );

    assert_eq!(
        client().get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        editor.client.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    assert_eq!(
        op.client.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let regulator = app
        .user_with("reg@example.cn", Some(PlatformRole::Regulator), None)
        .await;
    assert_eq!(
        regulator.client.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    app.create_org("sh-health").await;
    let stranger = app
        .user_with(
            "editor@health.cn",
            None,
            Some(("sh-health", OrgRole::Editor)),
        )
        .await;
    assert_eq!(
        stranger.client.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}
