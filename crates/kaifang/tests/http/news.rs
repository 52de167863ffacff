//! Policies, rules and news (A25.4): the operator writes, everyone reads.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn post_article(s: &Session, app: &TestApp, body: Value) -> reqwest::Response {
    s.client
        .post(app.at("/api/v1/articles"))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_operator_publishes_policies_and_news_that_everyone_reads_safely() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;

    // Bad input: every problem at once, nothing stored, nothing audited.
    let audit = app.audit_count().await;
    let res = post_article(
        &op,
        &app,
        json!({ "kind": "gossip", "title": " ", "body": "" }),
    )
    .await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kind", "title", "body"]);
    assert_eq!(app.audit_count().await, audit);

    let body = "# 开放细则\n\n本市发布了**公共数据开放实施细则**。\n\n<script>alert(1)</script>";
    let res = post_article(
        &op,
        &app,
        json!({ "kind": "policy", "title": "上海市公共数据开放实施细则", "body": body, "publish": true }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let policy: Value = res.json().await.unwrap();
    assert_eq!(app.audit_count().await, audit + 1);
    let draft: Value = post_article(
        &op,
        &app,
        json!({ "kind": "news", "title": "平台升级预告（草稿）", "body": "下周升级。" }),
    )
    .await
    .json()
    .await
    .unwrap();

    // Visitors see what is published, rendered, with nothing that can run; drafts stay hidden.
    let list: Value = client()
        .get(app.at("/api/v1/articles"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 1);
    let page = client()
        .get(app.at(&format!("/news/{}", policy["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<strong>公共数据开放实施细则</strong>"));
    assert!(!html.contains("<script>alert"));
    let home = client()
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("上海市公共数据开放实施细则") && !home.contains("平台升级预告"));
    let hidden = client()
        .get(app.at(&format!("/news/{}", draft["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let list = client()
        .get(app.at("/news?kind=news"))
        .send()
        .await
        .unwrap();
    let list = list.text().await.unwrap();
    assert!(list.contains("暂无内容"));
    let bad = client()
        .get(app.at("/news?kind=gossip"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Publishing the draft through the operator's form puts it on the list.
    let id = draft["id"].as_str().unwrap();
    let res = op
        .client
        .post(app.at(&format!("/console/articles/{id}")))
        .form(&[
            ("_csrf", op.csrf.as_str()),
            ("kind", "news"),
            ("title", "平台升级预告"),
            ("body", "下周升级。"),
            ("publish", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = client()
        .get(app.at("/news"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("平台升级预告") && list.contains("上海市公共数据开放实施细则"));

    // The form shows errors at the fields and keeps what was typed.
    let res = op
        .client
        .post(app.at("/console/articles"))
        .form(&[
            ("_csrf", op.csrf.as_str()),
            ("kind", "news"),
            ("title", ""),
            ("body", "正文保留"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"title-error\"") && html.contains("正文保留"));

    // Nobody else writes them.
    app.register("li@example.cn").await;
    let resident = app.login("li@example.cn").await;
    let res = post_article(
        &resident,
        &app,
        json!({ "kind": "news", "title": "x", "body": "y" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
