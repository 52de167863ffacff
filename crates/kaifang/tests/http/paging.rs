//! Lists are read a page at a time by keyset: every row once, in order, whatever the page size;
//! a page size beyond the maximum is clamped and a malformed cursor refused.

use domain::roles::{OrgRole, PlatformRole};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

/// Follows `next` from `first` to the end; returns the ids seen, page by page.
async fn walk(s: &Session, first: String, key: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = first;
    loop {
        let body: Value = s.get_json(url.clone()).await;
        let ids: Vec<String> = body[key]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect();
        pages.push(ids);
        match body["next"].as_str() {
            Some(next) => {
                let base = url.split("&after=").next().unwrap().to_owned();
                url = format!("{base}&after={next}");
            }
            None => return pages,
        }
    }
}

#[tokio::test]
async fn an_organizations_entries_and_the_ticket_queue_page_by_keyset() {
    let app = spawn_app().await;
    app.create_org("sh-transport").await;
    let editor = app
        .user_with(
            "editor@example.cn",
            None,
            Some(("sh-transport", OrgRole::Editor)),
        )
        .await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let mut ids = Vec::new();
    for i in 0..7 {
        app.clock.advance_seconds(1);
        let id = app
            .create_draft("sh-transport", &format!("上海市测试数据{i}"))
            .await;
        app.create_ticket(&id).await;
        ids.push(id);
    }

    // Newest change first, three at a time: every entry once.
    let pages = walk(
        &editor,
        app.at("/api/v1/orgs/sh-transport/datasets?limit=3"),
        "datasets",
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    let seen: Vec<String> = pages.concat();
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    // The operator's queue: oldest first, two at a time.
    let pages = walk(
        &op,
        app.at("/api/v1/tickets?state=submitted&limit=2"),
        "tickets",
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2, 1]);
    assert_eq!(pages.concat().len(), 7);

    // Too large a page is clamped, not refused; a forged cursor is refused.
    let res = editor
        .client
        .get(app.at("/api/v1/orgs/sh-transport/datasets?limit=100000"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for bad in ["yesterday", "1.a%27%20OR%201%3D1", "."] {
        let res = editor
            .client
            .get(app.at(&format!("/api/v1/orgs/sh-transport/datasets?after={bad}")))
            .send()
            .await
            .unwrap();
        let (status, err) = json_error(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(err["fields"][0]["code"], "invalid_cursor");
    }
}

#[tokio::test]
async fn the_console_lists_a_hundred_entries_a_page_and_links_the_next() {
    let app = spawn_app().await;
    app.create_org("sh-transport").await;
    let editor = app
        .user_with(
            "editor@example.cn",
            None,
            Some(("sh-transport", OrgRole::Editor)),
        )
        .await;
    for i in 0..105 {
        app.create_draft("sh-transport", &format!("上海市测试数据{i:03}"))
            .await;
    }
    let (status, page) = app.page(&editor.client, "/console/orgs/sh-transport").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("/console/datasets/").count(), 100);
    // The counts cover every entry, not only those listed.
    assert!(page.contains("(105)"), "{page}");
    let next = page
        .split("rel=\"next\"")
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .and_then(|tail| tail.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert!(next.starts_with("/console/orgs/sh-transport?"), "{next}");
    let (status, page) = app.page(&editor.client, &next).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("/console/datasets/").count(), 5);
    assert!(!page.contains("rel=\"next\""));
}
