//! Every text a request can carry is bounded and free of control characters before anything is
//! stored: entries, catalogue items, tickets, articles, vocabularies, search filters.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::openlist::{create, good_meta, provider_with_catalogue, publish};
use crate::support::*;

/// The (field, code) pairs of a 422 answer.
async fn refused(res: reqwest::Response) -> Vec<(String, String)> {
    let (status, body) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "validation_failed");
    body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            // Every problem explains itself in words, with the bound filled in.
            let message = f["message"].as_str().unwrap();
            assert!(!message.starts_with("field.") && !message.contains("{max}"));
            (
                f["field"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(found: &[(String, String)], field: &str, code: &str) -> bool {
    found.iter().any(|(f, c)| f == field && c == code)
}

#[tokio::test]
async fn an_entrys_texts_lists_dates_and_contacts_are_bounded_before_anything_is_stored() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let before = (app.count("datasets").await, app.audit_count().await);

    let mut meta = good_meta("上海市公交线路站点信息", &items);
    meta["name"] = json!("公".repeat(201));
    meta["summary"] = json!("摘".repeat(2001));
    meta["keywords"] = json!((0..51).map(|i| format!("词{i}")).collect::<Vec<_>>());
    meta["data_items"][0]["label"] = json!("线路\u{0}名称");
    meta["data_items"][1]["description"] = json!("x".repeat(1_000_000));
    meta["conditions"] = json!([{ "kind": "scenario", "text": "用于\u{202e}科研" }]);
    meta["materials"] = json!([{ "name": "申请书\n附件", "description": "" }]);
    meta["time_range"] = json!({ "start": "0001-01-01", "end": "9999-12-31" });
    meta["spatial"]["note"] = json!("沿江\u{1b}[31m地区");
    meta["contact"] =
        json!({ "name": "数据管理处", "phone": "call me maybe", "email": "not-an-address" });
    meta["license"] = json!("协".repeat(201));
    meta["source_note"] = json!("说明\u{7}");
    let found = refused(create(&app, &editor, "sh-transport", &meta).await).await;
    for (field, code) in [
        ("name", "too_long"),
        ("summary", "too_long"),
        ("keywords", "too_many"),
        ("data_items[0].label", "control_character"),
        ("data_items[1].description", "too_long"),
        ("conditions[0].text", "control_character"),
        ("materials[0].name", "control_character"),
        ("time_range.start", "date_out_of_range"),
        ("time_range.end", "date_out_of_range"),
        ("spatial.note", "control_character"),
        ("contact.phone", "invalid_phone"),
        ("contact.email", "invalid_email"),
        ("license", "too_long"),
        ("source_note", "control_character"),
    ] {
        assert!(has(&found, field, code), "{field} {code} in {found:?}");
    }
    assert_eq!(
        (app.count("datasets").await, app.audit_count().await),
        before
    );

    // An existing draft is edited under the same bounds, and stays as it was.
    let good = good_meta("上海市公交线路站点信息", &items);
    let d: Value = create(&app, &editor, "sh-transport", &good)
        .await
        .json()
        .await
        .unwrap();
    let id = d["id"].as_str().unwrap();
    let mut bad = good.clone();
    bad["data_items"] = json!(
        (0..501)
            .map(|i| json!({ "name": format!("f{i}"), "label": "字段", "field_type": "text" }))
            .collect::<Vec<_>>()
    );
    let res = editor
        .send_json(
            reqwest::Method::PUT,
            app.at(&format!("/api/v1/datasets/{id}")),
            &bad,
        )
        .await;
    assert!(has(&refused(res).await, "data_items", "too_many"));
    let now: Value = editor
        .get_json(app.at(&format!("/api/v1/datasets/{id}")))
        .await;
    assert_eq!(now["metadata"]["data_items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn catalogue_items_tickets_and_reviews_are_bounded() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let res = editor
        .post_json(
            app.at("/api/v1/orgs/sh-transport/catalogue"),
            json!([{ "code": "BUS-X", "name": "线路\t名称", "description": "d".repeat(2001),
                     "source_system": "系统\u{202e}" }]),
        )
        .await;
    let found = refused(res).await;
    for (field, code) in [
        ("items[0].name", "control_character"),
        ("items[0].description", "too_long"),
        ("items[0].source_system", "control_character"),
    ] {
        assert!(has(&found, field, code), "{field} {code} in {found:?}");
    }

    let d: Value = create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市公交线路站点信息", &items),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = d["id"].as_str().unwrap();
    let tickets = app.count("tickets").await;
    let res = editor
        .post_json(
            app.at(&format!("/api/v1/datasets/{id}/tickets")),
            json!({ "kind": "add", "reason": "因".repeat(2001) }),
        )
        .await;
    assert!(has(&refused(res).await, "reason", "too_long"));
    assert_eq!(app.count("tickets").await, tickets);

    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let published = publish(&app, &editor, &op, good_meta("上海市公交站点位置", &items)).await;
    let res = editor
        .post_json(
            app.at(&format!("/api/v1/datasets/{published}/review")),
            json!({ "note": "n".repeat(5000) }),
        )
        .await;
    assert!(has(&refused(res).await, "note", "too_long"));
}

#[tokio::test]
async fn articles_and_vocabularies_refuse_hidden_characters() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let articles = app.count("articles").await;
    let res = op
        .post_json(
            app.at("/api/v1/articles"),
            json!({ "kind": "news", "title": "通知\u{202e}fdp.exe", "body": "正文" }),
        )
        .await;
    assert!(has(&refused(res).await, "title", "control_character"));
    assert_eq!(app.count("articles").await, articles);

    let res = op
        .send_json(
            reqwest::Method::PUT,
            app.at("/api/v1/vocabularies/formats/csv2"),
            &json!({ "name": "C".repeat(101), "media_type": "text/csv\r\nX-Evil: 1", "openness": 3 }),
        )
        .await;
    let found = refused(res).await;
    assert!(has(&found, "name", "too_long"), "{found:?}");
    assert!(has(&found, "media_type", "control_character"), "{found:?}");

    let res = op
        .send_json(
            reqwest::Method::PUT,
            app.at("/api/v1/classification-guide"),
            &json!({ "toml": "#".repeat(300 * 1024) }),
        )
        .await;
    assert!(has(&refused(res).await, "toml", "too_long"));
}

#[tokio::test]
async fn a_search_carries_a_bounded_number_of_filters() {
    let app = spawn_app().await;
    let many: String = (0..51).map(|i| format!("&tag=t{i}")).collect();
    let res = client()
        .get(app.at(&format!("/api/v1/datasets?q=公交{many}")))
        .send()
        .await
        .unwrap();
    assert!(has(&refused(res).await, "filters", "too_many"));
    let few: String = (0..50).map(|i| format!("&tag=t{i}")).collect();
    let res = client()
        .get(app.at(&format!("/api/v1/datasets?q=公交{few}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
