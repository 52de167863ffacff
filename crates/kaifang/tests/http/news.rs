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

/// The article form as a browser sends it: multipart, with a file or an empty file field.
fn article_form(
    csrf: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> reqwest::multipart::Form {
    use reqwest::multipart::{Form, Part};
    let mut form = Form::new().text("_csrf", csrf.to_owned());
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let part = match file {
        Some((name, bytes)) => Part::bytes(bytes.to_vec())
            .file_name(name.to_owned())
            .mime_str("application/pdf")
            .unwrap(),
        None => Part::bytes(Vec::new()).file_name(""),
    };
    form.part("attachment", part)
}

#[tokio::test]
async fn articles_carry_attachments_that_readers_download() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let post = |path: &str, form| {
        let req = op.client.post(app.at(path)).multipart(form);
        async move { req.send().await.unwrap() }
    };
    let fields = [
        ("kind", "policy"),
        ("title", "上海市公共数据开放实施细则"),
        ("body", "全文见附件。"),
    ];
    // A draft with its file: nobody else sees either.
    let res = post(
        "/console/articles",
        article_form(&op.csrf, &fields, Some(("实施细则.pdf", b"%PDF-1.4 rules"))),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = res.headers()["location"].to_str().unwrap().to_owned();
    let id = page.trim_start_matches("/news/").to_owned();
    let html = op
        .client
        .get(app.at(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let href = html
        .split("href=\"")
        .find(|s| s.starts_with(&format!("/news/{id}/attachments/")))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    assert!(html.contains("实施细则.pdf"));
    let visitor = client();
    assert_eq!(app.page(&visitor, &href).await.0, StatusCode::NOT_FOUND);

    // Published: anyone downloads the file as it was sent.
    let mut published = fields.to_vec();
    published.push(("publish", "1"));
    let res = post(
        &format!("/console/articles/{id}"),
        article_form(&op.csrf, &published, None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let file = visitor.get(app.at(&href)).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert!(
        file.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"%PDF-1.4 rules");

    // Removing an attachment the article does not have changes nothing, the title included.
    let audit = app.audit_count().await;
    let mut wrong = published.clone();
    wrong[1] = ("title", "改过的标题");
    wrong.push(("remove_attachment", "not-an-attachment"));
    let res = post(
        &format!("/console/articles/{id}"),
        article_form(&op.csrf, &wrong, None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("id=\"remove_attachment-error\"")
    );
    assert_eq!(app.audit_count().await, audit);
    let html = visitor
        .get(app.at(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("上海市公共数据开放实施细则") && html.contains("实施细则.pdf"));

    // Removed: gone from the page and from its address.
    let attachment_id = href.rsplit('/').next().unwrap().to_owned();
    let mut remove = published.clone();
    remove.push(("remove_attachment", &attachment_id));
    let res = post(
        &format!("/console/articles/{id}"),
        article_form(&op.csrf, &remove, None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count().await, audit + 1);
    let html = visitor
        .get(app.at(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("实施细则.pdf"));
    assert_eq!(app.page(&visitor, &href).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_file_too_big_is_said_at_its_field_and_the_article_is_kept_as_typed() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let fields = [
        ("kind", "policy"),
        ("title", "上海市公共数据开放实施细则"),
        ("body", "全文见附件。"),
    ];
    let audit = app.audit_count().await;
    // Over the 5 MB a file may have, within what a form may carry: an error at the field.
    let post_file = |bytes: Vec<u8>| {
        let form = article_form(&op.csrf, &fields, Some(("全文.pdf", &bytes)));
        let req = op.client.post(app.at("/console/articles")).multipart(form);
        async move { req.send().await.unwrap() }
    };
    let res = post_file(vec![b'x'; 6 * 1024 * 1024]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"attachment-error\""), "{html}");
    assert!(html.contains("value=\"上海市公共数据开放实施细则\"") && html.contains("全文见附件。"));
    // Over what a form may carry: refused whole, with a page that says why.
    let res = post_file(vec![b'x'; 9 * 1024 * 1024]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("附件文件太大"));
    assert_eq!(app.audit_count().await, audit);
    assert_eq!(app.count("articles").await, 0);
}
