//! The annual review of the open list (A10.1) and static data (A10.2).

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::openlist::{create, good_meta, provider_with_catalogue, publish};
use crate::support::*;

#[tokio::test]
async fn entries_not_reviewed_for_a_year_are_due_and_a_review_clears_them() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let id = &publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;

    let due = |s: &Session| {
        let req = s.client.get(app.at("/api/v1/orgs/sh-transport/reviews"));
        async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()["due"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    // Never reviewed: due at once. A draft is not on the list yet, so it is never due.
    create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市出租车服务点", &items),
    )
    .await;
    assert_eq!(due(&editor).await, 1);
    let res = editor
        .post_json(
            app.at(&format!("/api/v1/datasets/{id}/review")),
            json!({ "note": "内容与系统一致，继续开放" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(due(&editor).await, 0);
    // A year later it is due again (and the editor signs in again: sessions expire).
    app.clock.advance_seconds(366 * 86_400);
    let editor = app.login("editor@sh-transport.cn").await;
    assert_eq!(due(&editor).await, 1);
}

#[tokio::test]
async fn an_entry_that_can_no_longer_be_updated_becomes_static_and_stays_open() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let id = &publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;

    let mut stopped = good_meta("上海市公交线路站点", &items);
    stopped["update_frequency"] = json!("static");
    stopped["time_range"] = json!({ "start": "2015-01-01", "end": "2025-12-31" });
    stopped["name"] = json!("2015—2025年上海市公交线路站点");
    let t: Value = editor.post_json(app.at(&format!("/api/v1/datasets/{id}/tickets")),
        json!({ "kind": "modify", "reason": "业务系统已停用，转为静态数据", "proposed": stopped }),
    )
    .await
    .json()
    .await
    .unwrap();
    let res = op
        .post_json(
            app.at(&format!(
                "/api/v1/tickets/{}/accept",
                t["id"].as_str().unwrap()
            )),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let public: Value = client()
        .get(app.at(&format!("/api/v1/datasets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["status"], "static");
    assert_eq!(public["version"], 2);
    let versions: Value = client()
        .get(app.at(&format!("/api/v1/datasets/{id}/versions")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        2,
        "its history stays open"
    );
    let found: Value = client()
        .get(app.at("/api/v1/datasets?q=公交"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["count"], 1);
}

#[tokio::test]
async fn the_review_page_lists_what_is_due_and_confirms_it_unchanged() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let id = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let page = || async {
        let res = editor
            .client
            .get(app.at("/console/orgs/sh-transport/reviews"))
            .send()
            .await;
        res.unwrap().text().await.unwrap()
    };
    assert!(
        page()
            .await
            .contains(&format!("action=\"/console/datasets/{id}/review\""))
    );
    let res = editor
        .client
        .post(app.at(&format!("/console/datasets/{id}/review")))
        .form(&[("_csrf", editor.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page().await;
    assert!(
        !html.contains(&format!("/console/datasets/{id}/review"))
            && html.contains("没有需要复核的条目")
    );
    // A year later it is due again (signed in afresh: the old session has expired).
    app.clock.advance_seconds(366 * 86_400);
    let again = app.login("editor@sh-transport.cn").await;
    let res = again
        .client
        .get(app.at("/console/orgs/sh-transport/reviews"))
        .send()
        .await;
    let html = res.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("/console/datasets/{id}/review")));
}
