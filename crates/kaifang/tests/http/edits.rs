//! Editable rows (entries, articles, catalogue items, the classification guide) carry a row
//! version: an edit made from an older version, or the loser of two edits at once, gets 409
//! `edit_conflict` and the first edit stays as it was saved.

use domain::roles::PlatformRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::openlist::{create, good_meta, provider_with_catalogue};
use crate::support::*;

fn tally(statuses: &[StatusCode]) -> (usize, usize) {
    for s in statuses {
        assert!(
            matches!(
                *s,
                StatusCode::OK | StatusCode::CREATED | StatusCode::CONFLICT
            ),
            "{statuses:?}"
        );
    }
    let won = statuses.iter().filter(|s| s.is_success()).count();
    (won, statuses.len() - won)
}

#[tokio::test]
async fn a_draft_edited_from_an_older_version_is_refused_and_parallel_edits_have_one_winner() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let res = create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市公交线路站点信息", &items),
    )
    .await;
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = app.at(&format!("/api/v1/datasets/{id}"));
    let res = editor.client.get(&url).send().await.unwrap();
    assert_eq!(res.headers()["etag"], "\"1\"");

    // Six editors start from version 1 and save at once: one wins, the others are told.
    let attempts = (0..6).map(|i| {
        let (editor, url) = (editor.clone(), url.clone());
        let meta = good_meta(&format!("上海市公交线路站点信息第{i}版"), &items);
        async move {
            editor
                .client
                .put(url)
                .header("x-csrf-token", &editor.csrf)
                .header("if-match", "\"1\"")
                .json(&meta)
                .send()
                .await
                .unwrap()
        }
    });
    let answers = join_all_spawned(attempts).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
    assert_eq!(tally(&statuses), (1, 5));
    let mut winner = None;
    for res in answers {
        if res.status() == StatusCode::OK {
            assert_eq!(res.headers()["etag"], "\"2\"");
            let body: Value = res.json().await.unwrap();
            winner = Some(body["metadata"]["name"].clone());
        } else {
            assert_eq!(error_code(&res), "edit_conflict");
            let (_, err) = json_error(res).await;
            assert!(!err["message"].as_str().unwrap().is_empty());
        }
    }
    let now: Value = editor.get_json(url.clone()).await;
    assert_eq!(Some(now["metadata"]["name"].clone()), winner);

    // Without If-Match, parallel saves still never pass each other silently: every save that
    // succeeded made a version of its own.
    let attempts = (0..6).map(|i| {
        let (editor, url) = (editor.clone(), url.clone());
        let meta = good_meta(&format!("上海市公交站点信息第{i}稿"), &items);
        async move { editor.send_json(Method::PUT, url, &meta).await.status() }
    });
    let (won, _) = tally(&join_all_spawned(attempts).await);
    let res = editor.client.get(&url).send().await.unwrap();
    assert_eq!(res.headers()["etag"], format!("\"{}\"", 2 + won));

    // A malformed If-Match is a clear 400-class refusal, not a silent overwrite.
    let res = editor
        .client
        .put(&url)
        .header("x-csrf-token", &editor.csrf)
        .header("if-match", "\"yesterday\"")
        .json(&good_meta("上海市公交线路站点", &items))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_console_form_refuses_to_save_over_a_newer_version() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
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
    let (status, page) = app
        .page(&editor.client, &format!("/console/datasets/{id}/edit"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="row_version" value="1""#), "{page}");

    // Someone else saves first (through the API) ...
    let res = editor
        .send_json(
            Method::PUT,
            app.at(&format!("/api/v1/datasets/{id}")),
            &good_meta("上海市公交线路站点信息（修订）", &items),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // ... then the form filled in from version 1 is sent.
    let res = editor
        .post_form(
            app.at(&format!("/console/datasets/{id}")),
            &[
                ("row_version", "1"),
                ("name", "上海市公交线路站点信息（旧表单）"),
                ("domain", "transport"),
                ("open_type", "unconditional"),
                ("update_frequency", "monthly"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = res.text().await.unwrap();
    assert!(body.contains("他人已修改"), "{body}");
    let now: Value = editor
        .get_json(app.at(&format!("/api/v1/datasets/{id}")))
        .await;
    assert_eq!(now["metadata"]["name"], "上海市公交线路站点信息（修订）");
}

#[tokio::test]
async fn articles_the_guide_and_catalogue_items_refuse_stale_edits() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;

    // Articles.
    let a: Value = op
        .post_json(
            app.at("/api/v1/articles"),
            json!({ "kind": "news", "title": "平台上线", "body": "正文" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["row_version"], 1);
    let url = app.at(&format!("/api/v1/articles/{}", a["id"].as_str().unwrap()));
    let attempts = (0..4).map(|i| {
        let (op, url) = (op.clone(), url.clone());
        async move {
            op.send_json(
                Method::PUT,
                url,
                &json!({ "kind": "news", "title": format!("平台上线（第{i}稿）"), "body": "正文",
                         "row_version": 1 }),
            )
            .await
            .status()
        }
    });
    assert_eq!(tally(&join_all_spawned(attempts).await), (1, 3));

    // The classification guide: each edit names the version it started from.
    let guide: Value = client()
        .get(app.at("/api/v1/classification-guide"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (text, base) = (guide["toml"].clone(), guide["version"].as_i64().unwrap());
    let attempts = (0..4).map(|_| {
        let (op, url, text) = (
            op.clone(),
            app.at("/api/v1/classification-guide"),
            text.clone(),
        );
        async move {
            op.send_json(
                Method::PUT,
                url,
                &json!({ "toml": text, "base_version": base }),
            )
            .await
            .status()
        }
    });
    assert_eq!(tally(&join_all_spawned(attempts).await), (1, 3));
    let res = op
        .send_json(
            Method::PUT,
            app.at("/api/v1/classification-guide"),
            &json!({ "toml": text, "base_version": base }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "edit_conflict");

    // Catalogue items: an import may name the version each item was exported at.
    let (editor, _) = provider_with_catalogue(&app, "sh-transport").await;
    let url = app.at("/api/v1/orgs/sh-transport/catalogue");
    let listed = |editor: Session, url: String| async move {
        let list: Value = editor.get_json(url).await;
        list["items"][0].clone()
    };
    let item = listed(editor.clone(), url.clone()).await;
    assert_eq!(item["row_version"], 1);
    let edit = |name: &str, version: i64| json!([{ "code": item["code"], "name": name, "row_version": version }]);
    assert_eq!(
        editor
            .post_json(url.clone(), edit("公交线路（新）", 1))
            .await
            .status(),
        StatusCode::OK
    );
    let res = editor
        .post_json(url.clone(), edit("公交线路（旧）", 1))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "edit_conflict");
    let item = listed(editor.clone(), url.clone()).await;
    assert_eq!(
        (item["name"].clone(), item["row_version"].clone()),
        (json!("公交线路（新）"), json!(2))
    );
}
