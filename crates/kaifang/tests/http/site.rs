//! The pages every portal carries (issue 10): about, the data use agreement, privacy, contact,
//! accessibility and the API documentation, linked from every page's footer.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::openlist::{good_meta, provider_with_catalogue, publish};
use crate::support::*;

const SITE_PAGES: [&str; 5] = ["about", "terms", "privacy", "contact", "accessibility"];

/// The `<h1>` of a page, without its markup.
fn heading(html: &str) -> String {
    let start = html.find("<h1").expect("a heading");
    let start = start + html[start..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</h1>").unwrap();
    html[start..end].to_owned()
}

#[tokio::test]
async fn every_page_links_to_the_site_pages_which_speak_both_languages_and_name_the_deployment() {
    let mut config = test_config();
    config.site.contact = Some("021-12345678".into());
    config.site.sponsor = Some("上海市示范数据局".into());
    let app = spawn_app_with(config).await;

    for path in ["/", "/datasets", "/orgs", "/news", "/login"] {
        let (_, html) = app.page_in(path, "zh-CN").await;
        for p in SITE_PAGES {
            assert!(
                html.contains(&format!("href=\"/pages/{p}\"")),
                "{path} → {p}"
            );
        }
        assert!(html.contains("href=\"/developers\""), "{path}");
        assert!(html.contains("href=\"/news?kind=rule\""), "{path}");
    }

    let titles_zh = [
        "关于平台",
        "数据使用协议",
        "隐私政策",
        "联系我们",
        "无障碍声明",
    ];
    let titles_en = [
        "About",
        "Data use agreement",
        "Privacy",
        "Contact",
        "Accessibility",
    ];
    for (i, p) in SITE_PAGES.iter().enumerate() {
        let (status, zh) = app.page_in(&format!("/pages/{p}"), "zh-CN").await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert_eq!(heading(&zh), titles_zh[i]);
        let (_, en) = app.page_in(&format!("/pages/{p}"), "en").await;
        assert_eq!(heading(&en), titles_en[i]);
        // The default text is rendered Markdown with its placeholders filled, never raw.
        assert!(
            !zh.contains("{site_name}") && !zh.contains("{contact}"),
            "{p}"
        );
        assert!(!zh.contains("<pre>") && !zh.contains("## "), "{p}");
    }
    let (_, contact) = app.page_in("/pages/contact", "zh-CN").await;
    assert!(contact.contains("021-12345678") && contact.contains("上海市示范数据局"));
    // A setting the deployment left out is said to be unset, not left blank.
    assert!(contact.contains("承办单位：（尚未设置）"), "{contact}");

    for bad in ["/pages/secret", "/pages/ABOUT", "/pages/about%00"] {
        assert_eq!(
            app.page_in(bad, "zh-CN").await.0,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_operators_published_article_replaces_a_site_pages_default_text() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;

    // Bad input changes nothing.
    let audit = app.audit_count().await;
    let res = op
        .post_json(
            app.at("/api/v1/articles"),
            json!({ "kind": "rule", "title": "协议", "body": "正文", "site_page": "homepage" }),
        )
        .await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["fields"][0]["field"], "site_page");
    assert_eq!(err["fields"][0]["code"], "invalid_site_page");
    assert_eq!(app.audit_count().await, audit);

    // A draft does not replace the default text; publishing it does.
    let res = op
        .post_json(
            app.at("/api/v1/articles"),
            json!({ "kind": "rule", "title": "本市公共数据使用协议", "body": "## 第一条\n\n注明来源。",
                    "site_page": "terms" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft: Value = res.json().await.unwrap();
    assert_eq!(draft["site_page"], "terms");
    let (_, html) = app.page_in("/pages/terms", "zh-CN").await;
    assert_eq!(heading(&html), "数据使用协议");

    let res = op
        .send_json(
            reqwest::Method::PUT,
            app.at(&format!("/api/v1/articles/{}", draft["id"].as_str().unwrap())),
            &json!({ "kind": "rule", "title": "本市公共数据使用协议", "body": "## 第一条\n\n注明来源。",
                    "site_page": "terms", "publish": true, "row_version": draft["row_version"] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, html) = app.page_in("/pages/terms", "zh-CN").await;
    assert_eq!(heading(&html), "本市公共数据使用协议");
    assert!(html.contains("<h2>第一条</h2>"));

    // A dataset's terms of use lead to that agreement.
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let id = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let (_, dataset) = app.page_in(&format!("/datasets/{id}"), "zh-CN").await;
    let terms = dataset.find("<dt>使用条款</dt>").expect("terms of use");
    let dd = &dataset[terms..terms + dataset[terms..].find("</dd>").unwrap()];
    assert!(dd.contains("href=\"/pages/terms\""), "{dd}");

    // The console form offers the choice and keeps it.
    let (_, form) = app
        .page(
            &op.client,
            &format!("/console/articles/{}/edit", draft["id"].as_str().unwrap()),
        )
        .await;
    assert!(form.contains("<option value=\"terms\" selected>"), "{form}");
}

/// The code blocks of a page, as their text.
fn code_blocks(html: &str) -> Vec<String> {
    html.split("<code")
        .skip(1)
        .map(|rest| {
            let body = &rest[rest.find('>').unwrap() + 1..rest.find("</code>").unwrap()];
            body.replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&#x27;", "'")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
        })
        .collect()
}

#[tokio::test]
async fn the_api_page_examples_work_when_pasted() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let mut meta = good_meta("上海市公交线路站点", &items);
    meta["open_type"] = json!("unconditional");
    let id = publish(&app, &editor, &op, meta).await;

    let (status, html) = app.page_in("/developers", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    // The page shows the deployment's address; here the test's server stands in for it.
    let base = web::WebConfig::default().public_url;
    let blocks: Vec<String> = code_blocks(&html)
        .into_iter()
        .map(|b| b.replace(&base, &app.url))
        .collect();
    assert!(
        blocks.iter().any(|b| b.contains(&id)),
        "examples name a real dataset"
    );

    // Every curl line without a token answers 200 with JSON that finds the dataset.
    let mut calls = 0;
    for line in blocks.iter().flat_map(|b| b.lines()) {
        let Some(rest) = line.strip_prefix("curl ") else {
            continue;
        };
        if rest.contains("Authorization") {
            continue;
        }
        let url = rest.trim().trim_matches('\'');
        let res = client().get(url).send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        if url.contains("per_page=1000") {
            // The example of an error is the error this call gets.
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
            let shown = blocks.iter().find(|b| b.contains("per_page=1000")).unwrap();
            for part in [
                body["error"]["code"].as_str().unwrap(),
                body["error"]["fields"][0]["field"].as_str().unwrap(),
                body["error"]["fields"][0]["code"].as_str().unwrap(),
            ] {
                assert!(
                    shown.contains(&format!("\"{part}\"")),
                    "{part} not in {shown}"
                );
            }
            continue;
        }
        assert_eq!(status, StatusCode::OK, "{url}");
        assert!(body.to_string().contains(&id), "{url}: {body}");
        calls += 1;
    }
    assert!(calls >= 4, "{calls} examples");

    // The Python examples run as they are and print the dataset.
    let python = crate::ckan::python();
    let scripts: Vec<&String> = blocks.iter().filter(|b| b.contains("import ")).collect();
    assert_eq!(scripts.len(), 2);
    for script in scripts {
        let out = tokio::process::Command::new(&python)
            .args(["-c", script])
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("上海市公交线路站点"),
            "{script}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
