//! Searching the open list over HTTP.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::openlist::{create, good_meta, provider_with_catalogue, publish};
use crate::support::*;

async fn search(app: &TestApp, query: &str) -> Value {
    let res = client()
        .get(app.at(&format!("/api/v1/datasets?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

fn names(r: &Value) -> Vec<&str> {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect()
}

async fn world() -> (TestApp, Session, Session, Vec<String>) {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    (app, editor, op, items)
}

#[tokio::test]
async fn published_entries_are_found_with_facets_and_drafts_are_not() {
    let (app, editor, op, items) = world().await;
    publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
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

    let r = search(&app, "q=公交").await;
    assert_eq!(names(&r), ["上海市公交线路站点"]);
    assert_eq!(r["results"][0]["provider"]["slug"], "sh-transport");

    let all = search(&app, "").await;
    assert_eq!(all["count"], 2);
    let domains: Vec<(&str, i64)> = all["facets"]["domain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["value"].as_str().unwrap(), f["count"].as_i64().unwrap()))
        .collect();
    assert!(
        domains.contains(&("transport", 1)) && domains.contains(&("urban", 1)),
        "{domains:?}"
    );
    assert_eq!(all["facets"]["format"][0]["count"], 2);

    assert_eq!(
        names(&search(&app, "domain=urban").await),
        ["上海市公共停车场泊位"]
    );
    assert_eq!(
        names(&search(&app, "sort=newest").await),
        ["上海市公共停车场泊位", "上海市公交线路站点"]
    );
    assert_eq!(search(&app, "q=草稿").await["count"], 0);
    assert_eq!(
        search(&app, "per_page=1&page=2").await["results"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn any_search_text_gets_an_answer_and_bad_parameters_a_clear_error() {
    let (app, editor, op, items) = world().await;
    publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    // About 10 KB of text.
    let long = "公交".repeat(850);
    for text in [
        "",
        "name:x AND (",
        "' OR 1=1; DROP TABLE datasets; --",
        "🚌🚏",
        "*:*",
        long.as_str(),
    ] {
        let url =
            reqwest::Url::parse_with_params(&app.at("/api/v1/datasets"), &[("q", text)]).unwrap();
        let res = client().get(url).send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            &text[..text.len().min(40)]
        );
    }
    for bad in [
        "per_page=0",
        "per_page=1000",
        "page=0",
        "sort=random",
        "facets=colour",
    ] {
        let res = client()
            .get(app.at(&format!("/api/v1/datasets?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // A parameter the API does not know is ignored, as on every route.
    let res = client()
        .get(app.at("/api/v1/datasets?colour=red"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_lost_index_is_rebuilt_from_the_database_at_restart() {
    let (mut app, editor, op, items) = world().await;
    publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    assert_eq!(search(&app, "q=公交").await["count"], 1);
    app.restart(true).await;
    assert_eq!(search(&app, "q=公交").await["count"], 1);
    // And changes made while a node was down are caught up at its start.
    app.restart(false).await;
    assert_eq!(search(&app, "").await["count"], 1);
}

#[tokio::test]
async fn withdrawn_entries_leave_the_index() {
    let (app, editor, op, items) = world().await;
    let id = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let doc = editor.attachment(&app, "说明.pdf", b"%PDF-1.4").await;
    let t: Value = editor
        .client
        .post(app.at(&format!("/api/v1/datasets/{id}/tickets")))
        .header("x-csrf-token", &editor.csrf)
        .json(&json!({ "kind": "remove", "reason": "停止更新", "attachments": [doc] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    op.client
        .post(app.at(&format!(
            "/api/v1/tickets/{}/accept",
            t["id"].as_str().unwrap()
        )))
        .header("x-csrf-token", &op.csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(search(&app, "q=公交").await["count"], 0);
}

#[tokio::test]
async fn a_node_is_not_ready_until_its_index_has_caught_up() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let index = search::SearchIndex::open_or_create(dir.path()).unwrap();
    let state = web::AppState::new(
        app.store.clone(),
        app.blobs.clone(),
        app.clock.clone(),
        test_config(),
        std::sync::Arc::new(index),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/readyz", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve(listener, state.clone(), async {
        let _ = rx.await;
    }));
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "index_catching_up");
    web::indexer::catch_up(&state).await.unwrap();
    assert_eq!(
        client().get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let _ = tx.send(());
    let _ = server.await;
}

#[tokio::test]
async fn most_used_ranks_by_reads_rolled_up_from_the_usage_log() {
    let (mut app, editor, op, items) = world().await;
    let quiet = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let busy = publish(
        &app,
        &editor,
        &op,
        good_meta("上海市公共停车场泊位", &items),
    )
    .await;
    // Reads through the portal, the API and CKAN all count; the busy entry is read more.
    let visitor = client();
    for (id, times) in [(&busy, 3), (&quiet, 1)] {
        for _ in 0..times {
            for path in [
                format!("/datasets/{id}"),
                format!("/api/v1/datasets/{id}"),
                format!("/api/3/action/package_show?id={id}"),
            ] {
                let res = visitor.get(app.at(&path)).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::OK, "{path}");
            }
        }
    }
    // The counts reach the log in the background, in batches.
    let mut written = 0;
    for _ in 0..100 {
        written = sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM usage_events",
        )
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        if written == 12 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(written, 12, "four reads of each kind");
    let a = app::App::new(
        app.store.clone(),
        app.blobs.clone(),
        app.clock.clone(),
        app::Config::default(),
    );
    assert_eq!(app::usage::roll_up(&a).await.unwrap(), 2);
    // A node that starts catches up with what the roll-up changed.
    app.restart(false).await;
    let r = search(&app, "sort=most_used").await;
    assert_eq!(
        names(&r),
        ["上海市公共停车场泊位", "上海市公交线路站点"],
        "the entry read nine times before the one read three times"
    );
    let r = search(&app, "sort=newest").await;
    assert_eq!(r["count"], 2, "the roll-up changed no entry's metadata");
}

/// Issue 10: English and pinyin reach the Chinese catalogue; the English pages show the
/// English name where the provider gave one, marked as English.
#[tokio::test]
async fn english_names_and_pinyin_find_entries_and_english_pages_show_them() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let mut stops = good_meta("上海市公交站点位置", &items);
    stops["name_en"] = json!("Shanghai bus stop locations");
    stops["summary_en"] = json!("Names and coordinates of every bus stop.");
    let id = publish(&app, &editor, &op, stops).await;
    let mut parking = good_meta("上海市公共停车场泊位", &items);
    parking["domain"] = json!("urban");
    publish(&app, &editor, &op, parking).await;

    for query in [
        "q=bus+stops",
        "q=coordinates",
        "q=gongjiao",
        "q=gjzd",
        "q=gongjiao+zhandian",
    ] {
        assert_eq!(
            names(&search(&app, query).await),
            ["上海市公交站点位置"],
            "{query}"
        );
    }
    assert_eq!(
        names(&search(&app, "q=tingche").await),
        ["上海市公共停车场泊位"]
    );

    let page = |path: String, lang: &'static str| {
        let app = &app;
        async move { app.page_in(&path, lang).await.1 }
    };
    let en = page(format!("/datasets/{id}"), "en").await;
    assert!(
        en.contains("<h1 lang=\"en\">Shanghai bus stop locations</h1>"),
        "{en}"
    );
    assert!(en.contains("lang=\"zh-CN\">上海市公交站点位置</p>"));
    let zh = page(format!("/datasets/{id}"), "zh-CN").await;
    assert!(zh.contains("<h1 lang=\"zh-CN\">上海市公交站点位置</h1>"));
    let list = page("/datasets?q=bus".to_owned(), "en").await;
    assert!(list.contains("Shanghai bus stop locations"), "{list}");
}
