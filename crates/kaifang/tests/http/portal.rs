//! The public pages of the open list: search and dataset pages, as a visitor's browser gets them.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::json;

use crate::openlist::{create, good_meta, provider_with_catalogue, publish};
use crate::support::*;

#[tokio::test]
async fn the_search_page_filters_sorts_and_pages_with_everything_in_the_url() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let bus = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    app.clock.advance_seconds(60);
    let mut parking = good_meta("上海市公共停车场泊位", &items);
    parking["domain"] = json!("urban");
    parking["keywords"] = json!(["停车", "泊位"]);
    parking["summary"] = json!("全市公共停车场（库）的泊位数量与位置。");
    publish(&app, &editor, &op, parking).await;
    create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市出租车服务点草稿", &items),
    )
    .await;

    let (status, html) = app.page_in("/datasets?q=公交", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("共找到 1 个数据集"), "{html}");
    assert!(html.contains(&format!("href=\"/datasets/{bus}\"")));
    assert!(!html.contains("上海市公共停车场泊位") && !html.contains("草稿"));
    // The query stays in the search box and in every facet link.
    assert!(html.contains("value=\"公交\""));
    assert!(html.contains("href=\"/datasets?q=%E5%85%AC%E4%BA%A4&#38;domain=transport\""));

    let (_, all) = app.page_in("/datasets?sort=newest", "zh-CN").await;
    assert!(all.contains("共找到 2 个数据集"));
    let newest = all.find("上海市公共停车场泊位").unwrap();
    assert!(newest < all.find("上海市公交线路站点").unwrap());
    assert!(all.contains("<option value=\"newest\" selected>"));

    // A filter is shown as a chip that takes it away, and kept in the form.
    let (_, urban) = app
        .page_in("/datasets?domain=urban&utm_source=x", "zh-CN")
        .await;
    assert!(urban.contains("共找到 1 个数据集") && urban.contains("上海市公共停车场泊位"));
    assert!(urban.contains("<input type=\"hidden\" name=\"domain\" value=\"urban\">"));
    assert!(urban.contains("aria-current=\"true\""));

    // The provider's and the domain's pages count and list what they open.
    let (status, provider) = app.page_in("/orgs/sh-transport", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(provider.contains("共 2 个公开数据集") && provider.contains("上海市公共停车场泊位"));
    let (status, urban) = app.page_in("/domains/urban", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(urban.contains("共 1 个公开数据集") && !urban.contains("上海市公交线路站点"));
    assert_eq!(
        app.page_in("/domains/atlantis", "zh-CN").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.page_in("/orgs/nobody", "en").await.0,
        StatusCode::NOT_FOUND
    );

    // In English, names of vocabularies come from the catalogue.
    let (_, en) = app.page_in("/datasets", "en").await;
    assert!(
        en.contains("2 datasets found") && en.contains("Open to all"),
        "{en}"
    );

    // Nothing found is said plainly; a wrong parameter is a clear 4xx page.
    let (_, none) = app.page_in("/datasets?q=火箭发射", "zh-CN").await;
    assert!(none.contains("没有找到符合条件的数据集"));
    let (status, bad) = app.page_in("/datasets?sort=colour", "zh-CN").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("<html lang=\"zh-CN\">"));
    for text in ["<script>alert(1)</script>", "' OR 1=1 --", "🚌"] {
        let url = reqwest::Url::parse_with_params(&app.at("/datasets"), &[("q", text)]).unwrap();
        let res = client().get(url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{text}");
        assert!(!res.text().await.unwrap().contains("<script>alert(1)"));
    }
}

#[tokio::test]
async fn the_dataset_page_shows_the_whole_entry_its_conditions_and_its_citation() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let bus = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let mut realtime = good_meta("上海市公交车辆实时位置", &items);
    realtime["open_type"] = json!("conditional");
    realtime["grading"]["access_pattern"] = json!("continuous");
    realtime["conditions"] = json!([{ "kind": "scenario", "text": "用于出行服务类应用。" }]);
    realtime["materials"] =
        json!([{ "name": "应用场景说明", "description": "说明数据用途和范围。" }]);
    realtime["relations"] = json!([{ "kind": "same_subject", "dataset": bus }]);
    realtime["source"] = json!("deidentified");
    realtime["source_note"] = json!("车辆编号替换为随机编号，位置按十秒汇总。");
    let live = publish(&app, &editor, &op, realtime).await;

    let (status, html) = app.page_in(&format!("/datasets/{live}"), "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "<h1 lang=\"zh-CN\">上海市公交车辆实时位置</h1>",
        "有条件开放",
        "应用场景",
        "用于出行服务类应用。",
        "应用场景说明",
        "线路名称",
        "公交线路的对外名称。",
        "每月",
        "首次发布",
        "脱敏处理后的未开放数据",
        "车辆编号替换为随机编号，位置按十秒汇总。",
    ] {
        assert!(html.contains(text), "{text} missing");
    }
    // Relations link to the related entry; the citation is there to copy.
    assert!(html.contains(&format!(
        "<a href=\"/datasets/{bus}\">上海市公交线路站点</a>"
    )));
    assert!(html.contains("<textarea id=\"citation\""));
    assert!(html.contains("[DS]. 上海: 上海市公共数据开放平台"));
    assert!(html.contains(&format!("/datasets/{live}</textarea>")));

    let (_, en) = app.page_in(&format!("/datasets/{live}"), "en").await;
    assert!(en.contains("Open on conditions") && en.contains("Materials to submit"));

    // Drafts are not public: a 404 page for visitors, in their language.
    let draft: serde_json::Value = create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市出租车服务点", &items),
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/datasets/{}", draft["id"].as_str().unwrap());
    let (status, html) = app.page_in(&path, "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<html lang=\"en\">") && !html.contains("上海市出租车服务点"));
    let res = editor.client.get(app.at(&path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.page_in("/datasets/no-such-entry", "zh-CN").await.0,
        StatusCode::NOT_FOUND
    );
}

/// Issue 10: a page past the last one said "共找到 N 个数据集" above an empty list. It says
/// that the page is past the end and leads to the last page.
#[tokio::test]
async fn a_page_past_the_end_says_so_and_leads_to_the_last_page() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let (status, html) = app.page_in("/datasets?page=999", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("第 999 页没有结果，共 1 个数据集。"),
        "{html}"
    );
    assert!(
        html.contains("href=\"/datasets?page=1\"") || html.contains("href=\"/datasets\""),
        "{html}"
    );
    assert!(!html.contains("没有找到符合条件的数据集"));
    let (_, html) = app.page_in("/datasets?page=999", "en").await;
    assert!(html.contains("Page 999 has no results: there are 1 datasets in all."));
    // A search that finds nothing still says so.
    let (_, html) = app.page_in("/datasets?q=zzqqxx", "zh-CN").await;
    assert!(html.contains("没有找到符合条件的数据集"), "{html}");
}

/// Issue 10: a provider or a domain with nothing published showed headings over empty lists.
#[tokio::test]
async fn a_provider_or_domain_with_nothing_published_says_so() {
    let app = spawn_app().await;
    app.create_org("sh-empty").await;
    for path in ["/orgs/sh-empty", "/domains/transport"] {
        let (status, html) = app.page_in(path, "zh-CN").await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("这里还没有开放的数据集。"), "{path}: {html}");
        assert!(!html.contains("id=\"newest\""), "{path}: empty headings");
        let (_, html) = app.page_in(path, "en").await;
        assert!(
            html.contains("Nothing has been published here yet."),
            "{path}"
        );
    }
}

/// Issue 10: an index of providers and of domains, with counts, linked from every page.
#[tokio::test]
async fn providers_and_domains_have_indexes_with_counts_linked_from_every_page() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    app.create_org("sh-empty").await;

    let (status, html) = app.page_in("/orgs", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    let transport = html
        .find("href=\"/orgs/sh-transport\"")
        .expect("the provider is listed");
    let empty = html
        .find("href=\"/orgs/sh-empty\"")
        .expect("one with nothing is listed too");
    assert!(transport < empty, "most published first");
    assert!(html[transport..empty].contains("1 个数据集"), "{html}");
    assert!(html[empty..].contains("0 个数据集"), "{html}");

    let (status, html) = app.page_in("/domains", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    let at = html
        .find("href=\"/domains/transport\"")
        .expect("the domain is listed");
    assert!(html[at..].contains("1 个数据集"), "{html}");
    for group in ["经济发展", "民生服务", "城市治理"] {
        assert!(html.contains(group), "{group}");
    }

    // Linked from the navigation and the footer of every page.
    for path in ["/", "/datasets", "/news", "/orgs/sh-transport"] {
        let (_, html) = app.page_in(path, "zh-CN").await;
        assert_eq!(html.matches("href=\"/orgs\"").count(), 2, "{path}");
        assert_eq!(html.matches("href=\"/domains\"").count(), 2, "{path}");
    }
}
