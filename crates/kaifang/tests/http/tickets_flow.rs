//! Open-list change tickets (A11) end to end.

use domain::roles::{OrgRole, PlatformRole};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::openlist::{create, good_meta, provider_with_catalogue};
use crate::support::*;

async fn get(s: &Session, url: String) -> Value {
    s.client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

struct World {
    app: TestApp,
    editor: Session,
    operator: Session,
    items: Vec<String>,
}

async fn world() -> World {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let operator = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    World {
        app,
        editor,
        operator,
        items,
    }
}

/// Creates a draft and has it published through an accepted "add" ticket; returns its id.
async fn published(w: &World, name: &str) -> String {
    crate::openlist::publish(&w.app, &w.editor, &w.operator, good_meta(name, &w.items)).await
}

/// Has the editor propose that the published entry `id` ("上海市公交线路站点") be updated weekly;
/// returns the ticket's id.
async fn weekly_ticket(w: &World, id: &str) -> String {
    let mut proposed = good_meta("上海市公交线路站点", &w.items);
    proposed["update_frequency"] = json!("weekly");
    let res = w
        .editor
        .post_json(
            w.app.at(&format!("/api/v1/datasets/{id}/tickets")),
            json!({ "kind": "modify", "reason": "改为每周更新", "proposed": proposed }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Uploads a small PDF as `who` and returns how a ticket attaches it.
async fn pdf(w: &World) -> Value {
    w.editor
        .attachment(&w.app, "降级说明.pdf", b"%PDF-1.4 explanation")
        .await
}

#[tokio::test]
async fn a_new_entry_is_returned_revised_resubmitted_accepted_and_public() {
    let w = world().await;
    let d: Value = create(
        &w.app,
        &w.editor,
        "sh-transport",
        &good_meta("上海市公交线路站点", &w.items),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = d["id"].as_str().unwrap();
    let res = w
        .editor
        .post_json(
            w.app.at(&format!("/api/v1/datasets/{id}/tickets")),
            json!({ "kind": "add", "reason": "社会需求较大，新增开放" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    let tid = t["id"].as_str().unwrap();
    assert_eq!(t["state"], "submitted");
    assert!(
        t["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["path"] == "name")
    );

    // Issue 10: the operator reads a new entry's proposal as a summary of its fields by their
    // labels, not as changes from nothing nor as JSON.
    let (_, html) = w
        .app
        .page(&w.operator.client, &format!("/console/tickets/{tid}"))
        .await;
    assert!(!html.contains("<table class=\"diff\""));
    let card = &html[html
        .find("<dl class=\"facts proposal\">")
        .expect("a summary")..];
    let card = &card[..card.find("</dl>").unwrap()];
    for shown in [
        "<dt>名称</dt><dd>上海市公交线路站点</dd>",
        "<dt>更新频率</dt><dd>每月</dd>",
    ] {
        assert!(card.contains(shown), "{shown} missing in {card}");
    }
    assert!(!card.contains('{') && !card.contains("monthly"), "{card}");

    // The operator sees it in the queue and returns it, giving reasons all at once.
    let queue = get(&w.operator, w.app.at("/api/v1/tickets")).await;
    assert_eq!(queue["tickets"].as_array().unwrap().len(), 1);
    let res = w.operator.post_json(w.app.at(&format!("/api/v1/tickets/{tid}/return")), json!({
        "reasons": ["incomplete_information", "other"], "text": "请补充数据项说明中的坐标系信息。",
    })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let returned: Value = res.json().await.unwrap();
    assert_eq!(returned["state"], "returned");
    assert_eq!(
        returned["history"][1]["reasons"],
        json!(["incomplete_information", "other"])
    );

    // A returned ticket cannot be accepted; the provider revises and resubmits.
    let res = w
        .operator
        .post_json(
            w.app.at(&format!("/api/v1/tickets/{tid}/accept")),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "invalid_transition");
    let mut revised = good_meta("上海市公交线路站点", &w.items);
    revised["data_items"][0]["description"] = json!("公交线路的对外名称，与站牌一致。");
    let res = w
        .editor
        .post_json(
            w.app.at(&format!("/api/v1/tickets/{tid}/resubmit")),
            json!({ "proposed": revised, "reason": "已补充说明" }),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );

    // Still a draft until accepted: not public.
    let public_url = w.app.at(&format!("/api/v1/datasets/{id}"));
    assert_eq!(
        client().get(&public_url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let res = w
        .operator
        .post_json(
            w.app.at(&format!("/api/v1/tickets/{tid}/accept")),
            json!({ "text": "同意" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let accepted: Value = res.json().await.unwrap();
    let events: Vec<&str> = accepted["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["submitted", "returned", "resubmitted", "accepted"]);

    let public: Value = client()
        .get(&public_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["status"], "published");
    assert_eq!(public["version"], 1);
    assert_eq!(
        public["metadata"]["data_items"][0]["description"],
        "公交线路的对外名称，与站牌一致。"
    );
    let versions: Value = client()
        .get(format!("{public_url}/versions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);

    // Published entries change only through tickets.
    let res = w
        .editor
        .client
        .put(&public_url)
        .header("x-csrf-token", &w.editor.csrf)
        .json(&revised)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "needs_ticket");
}

#[tokio::test]
async fn an_unpublishable_draft_cannot_be_submitted() {
    let w = world().await;
    let mut meta = good_meta("公交线路站点", &w.items);
    meta["data_items"][1]["catalogue_item"] = Value::Null;
    let d: Value = create(&w.app, &w.editor, "sh-transport", &meta)
        .await
        .json()
        .await
        .unwrap();
    let before = w.app.audit_count().await;
    let res = w
        .editor
        .post_json(
            w.app.at(&format!(
                "/api/v1/datasets/{}/tickets",
                d["id"].as_str().unwrap()
            )),
            json!({ "kind": "add", "reason": "" }),
        )
        .await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for c in ["required", "name_missing_place", "item_unlinked"] {
        assert!(codes.contains(&c), "{c} not in {codes:?}");
    }
    assert_eq!(w.app.audit_count().await, before);
    assert!(
        get(&w.operator, w.app.at("/api/v1/tickets")).await["tickets"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_downgrade_needs_a_document_and_becomes_a_new_version() {
    let w = world().await;
    let id = published(&w, "上海市公交线路站点").await;
    let mut conditional = good_meta("上海市公交线路站点", &w.items);
    conditional["open_type"] = json!("conditional");
    conditional["grading"]["access_pattern"] = json!("continuous");
    conditional["conditions"] =
        json!([{ "kind": "technical_capability", "text": "具备接口持续获取能力。" }]);
    conditional["materials"] = json!([{ "name": "应用场景说明" }]);
    let url = w.app.at(&format!("/api/v1/datasets/{id}/tickets"));

    let res = w
        .editor
        .post_json(
            url.clone(),
            json!({ "kind": "modify", "reason": "改为接口持续供数", "proposed": conditional }),
        )
        .await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["fields"][0]["code"], "document_required");

    let res = w.editor.post_json(url.clone(), json!({ "kind": "modify", "reason": "改为接口持续供数", "proposed": conditional, "attachments": [pdf(&w).await] })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["kind"], "retype");
    assert!(
        t["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["path"] == "open_type"
                && c["before"] == "unconditional"
                && c["after"] == "conditional")
    );

    // One open ticket per entry at a time.
    let res = w
        .editor
        .post_json(
            url.clone(),
            json!({ "kind": "remove", "reason": "x", "attachments": [pdf(&w).await] }),
        )
        .await;
    assert_eq!(error_code(&res), "ticket_open");

    // The document is there for the operator.
    let doc = &t["attachments"][0];
    let bytes = w
        .operator
        .client
        .get(w.app.at(doc["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"%PDF-1.4 explanation");

    let res = w
        .operator
        .post_json(
            w.app.at(&format!(
                "/api/v1/tickets/{}/accept",
                t["id"].as_str().unwrap()
            )),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let d: Value = client()
        .get(w.app.at(&format!("/api/v1/datasets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["version"], 2);
    assert_eq!(d["metadata"]["open_type"], "conditional");
    assert_eq!(
        d["metadata"]["conditions"][0]["kind"],
        "technical_capability"
    );
    let versions: Value = client()
        .get(w.app.at(&format!("/api/v1/datasets/{id}/versions")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kept: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["metadata"]["open_type"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["conditional", "unconditional"]);
}

#[tokio::test]
async fn removal_needs_a_document_and_hides_the_entry() {
    let w = world().await;
    let id = published(&w, "上海市公交线路站点").await;
    let url = w.app.at(&format!("/api/v1/datasets/{id}/tickets"));
    let res = w
        .editor
        .post_json(
            url.clone(),
            json!({ "kind": "remove", "reason": "系统停用" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let t: Value = w
        .editor
        .post_json(
            url,
            json!({ "kind": "remove", "reason": "系统停用", "attachments": [pdf(&w).await] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = w
        .operator
        .post_json(
            w.app.at(&format!(
                "/api/v1/tickets/{}/accept",
                t["id"].as_str().unwrap()
            )),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let public = client()
        .get(w.app.at(&format!("/api/v1/datasets/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let inside = get(&w.editor, w.app.at(&format!("/api/v1/datasets/{id}"))).await;
    assert_eq!(inside["status"], "withdrawn");
}

#[tokio::test]
async fn returns_need_reasons_and_text_and_tickets_stay_with_their_provider() {
    let w = world().await;
    let d: Value = create(
        &w.app,
        &w.editor,
        "sh-transport",
        &good_meta("上海市公交线路站点", &w.items),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = d["id"].as_str().unwrap();
    let t: Value = w
        .editor
        .post_json(
            w.app.at(&format!("/api/v1/datasets/{id}/tickets")),
            json!({ "kind": "add", "reason": "新增" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let ret = w.app.at(&format!(
        "/api/v1/tickets/{}/return",
        t["id"].as_str().unwrap()
    ));

    let (status, err) = json_error(
        w.operator
            .post_json(ret.clone(), json!({ "reasons": [], "text": "" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["reasons", "text"]);
    let (_, err) = json_error(
        w.operator
            .post_json(ret.clone(), json!({ "reasons": ["too_ugly"], "text": "x" }))
            .await,
    )
    .await;
    assert_eq!(err["fields"][0]["code"], "invalid_reason");

    // Another provider's editor can neither file tickets on this entry nor see them.
    w.app.create_org("sh-health").await;
    let other = w
        .app
        .user_with("e@health.cn", None, Some(("sh-health", OrgRole::Editor)))
        .await;
    let res = other
        .post_json(
            w.app.at(&format!("/api/v1/datasets/{id}/tickets")),
            json!({ "kind": "add", "reason": "x" }),
        )
        .await;
    // Another provider's draft is not theirs to know of.
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = other
        .client
        .get(
            w.app
                .at(&format!("/api/v1/tickets/{}", t["id"].as_str().unwrap())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Nor may a provider accept its own ticket.
    let res = w
        .editor
        .post_json(
            w.app.at(&format!(
                "/api/v1/tickets/{}/accept",
                t["id"].as_str().unwrap()
            )),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn non_open_entries_stay_in_the_list_but_never_appear_publicly() {
    let w = world().await;
    let mut meta = good_meta("上海市公交卡刷卡明细", &w.items);
    meta["open_type"] = json!("not_open");
    meta["grading"]["personal_information"] = json!("identifiable");
    let d: Value = create(&w.app, &w.editor, "sh-transport", &meta)
        .await
        .json()
        .await
        .unwrap();
    let id = d["id"].as_str().unwrap();
    let t: Value = w
        .editor
        .post_json(
            w.app.at(&format!("/api/v1/datasets/{id}/tickets")),
            json!({ "kind": "add", "reason": "纳入清单管理" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = w
        .operator
        .post_json(
            w.app.at(&format!(
                "/api/v1/tickets/{}/accept",
                t["id"].as_str().unwrap()
            )),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let url = w.app.at(&format!("/api/v1/datasets/{id}"));
    assert_eq!(
        client().get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.operator.client.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let regulator = w
        .app
        .user_with("reg@example.cn", Some(PlatformRole::Regulator), None)
        .await;
    assert_eq!(
        get(&regulator, url).await["metadata"]["open_type"],
        "not_open"
    );
}

#[tokio::test]
async fn two_providers_submitting_at_once_open_one_ticket() {
    let w = world().await;
    let d: Value = create(
        &w.app,
        &w.editor,
        "sh-transport",
        &good_meta("上海市出租车营运信息", &w.items),
    )
    .await
    .json()
    .await
    .unwrap();
    let url = w.app.at(&format!(
        "/api/v1/datasets/{}/tickets",
        d["id"].as_str().unwrap()
    ));
    let attempts = (0..6).map(|_| {
        let (editor, url) = (w.editor.clone(), url.clone());
        async move {
            editor
                .post_json(url, json!({ "kind": "add", "reason": "新增开放" }))
                .await
                .status()
        }
    });
    let statuses = join_all_spawned(attempts).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, refused), (1, 5), "{statuses:?}");
    assert_eq!(w.app.count("tickets").await, 1);
}

#[tokio::test]
async fn attachment_types_come_from_their_content_not_from_the_client() {
    let w = world().await;
    let id = published(&w, "上海市轨道交通客流统计").await;
    let url = w.app.at(&format!("/api/v1/datasets/{id}/tickets"));
    // An executable named as a PDF is refused as it streams in, and nothing is stored.
    let res = w
        .editor
        .client
        .post(w.app.at("/api/v1/uploads?name=说明.pdf"))
        .header("x-csrf-token", &w.editor.csrf)
        .header("content-type", "application/pdf")
        .body(&b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"[..])
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(err["code"], "file_type_not_allowed");
    assert_eq!(w.app.count("uploads").await, 0);

    // A PNG sent as a PDF with a control character in its declared type is kept as what it
    // is, and the operator can open it.
    let png =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";
    let res = w
        .editor
        .client
        .post(w.app.at("/api/v1/uploads?name=说明.pdf"))
        .header("x-csrf-token", &w.editor.csrf)
        .header(
            "content-type",
            reqwest::header::HeaderValue::from_bytes(b"application/pdf;\tx=\xff\xfe").unwrap(),
        )
        .body(&png[..])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let upload: Value = res.json().await.unwrap();
    assert_eq!(upload["media_type"], "image/png");
    let res = w
        .editor
        .post_json(
            url,
            json!({
                "kind": "remove", "reason": "停止开放",
                "attachments": [{ "upload": upload["id"] }],
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    let attachment = &t["attachments"][0];
    assert_eq!(attachment["media_type"], "image/png");
    let res = w
        .operator
        .client
        .get(w.app.at(&format!(
            "/api/v1/tickets/{}/attachments/{}",
            t["id"].as_str().unwrap(),
            attachment["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.headers().get("x-evil").is_none());
    assert_eq!(&res.bytes().await.unwrap()[..], png);
}

/// Issue 10: a ticket that reorders the formats and changes the update frequency and the start
/// date showed three phantom changes of 格式, raw codes, and "没有字段变化" once accepted.
#[tokio::test]
async fn a_tickets_changes_are_exact_readable_and_kept_after_acceptance() {
    let w = world().await;
    let id = published(&w, "上海市公交线路站点").await;
    let mut proposed = good_meta("上海市公交线路站点", &w.items);
    proposed["formats"] = json!(["json", "csv"]);
    proposed["keywords"] = json!(["线路", "公交"]);
    proposed["update_frequency"] = json!("weekly");
    proposed["time_range"] = json!({ "start": "2020-01-01" });
    let res = w
        .editor
        .post_json(
            w.app.at(&format!("/api/v1/datasets/{id}/tickets")),
            json!({ "kind": "modify", "reason": "改为每周更新", "proposed": proposed }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    let tid = t["id"].as_str().unwrap().to_owned();
    let expected = json!([
        { "path": "update_frequency", "before": "monthly", "after": "weekly" },
        { "path": "time_range.start", "before": null, "after": "2020-01-01" },
    ]);
    assert_eq!(t["changes"], expected);

    // The operator's page names the field and the values by their labels.
    let page = |s: &Session| {
        let url = w.app.at(&format!("/console/tickets/{tid}"));
        let client = s.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = page(&w.operator).await;
    let table = &html[html
        .find("<table class=\"diff\"")
        .expect("a table of changes")..];
    let table = &table[..table.find("</table>").unwrap()];
    for shown in ["更新频率", "每月", "每周", "开始日期", "2020-01-01"] {
        assert!(table.contains(shown), "{shown} missing in {table}");
    }
    for hidden in ["monthly", "weekly", "格式", "csv"] {
        assert!(!table.contains(hidden), "{hidden} shown in {table}");
    }

    // Accepted, the ticket still shows what was reviewed.
    let res = w
        .operator
        .post_json(
            w.app.at(&format!("/api/v1/tickets/{tid}/accept")),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let accepted: Value = res.json().await.unwrap();
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(accepted["changes"], expected);
    let html = page(&w.operator).await;
    assert!(
        html.contains("每周") && !html.contains("没有字段变化"),
        "{html}"
    );
}

/// Issue 10: after one accepted change the dataset page paired version 1 with the change and
/// version 2 with 首次发布, while the API had them right. The page must agree with the API.
#[tokio::test]
async fn the_version_history_on_the_page_pairs_each_version_with_its_own_change() {
    let w = world().await;
    let id = published(&w, "上海市公交线路站点").await;
    let tid = weekly_ticket(&w, &id).await;
    let url = w.app.at(&format!("/api/v1/tickets/{tid}/accept"));
    assert_eq!(
        w.operator.post_json(url, json!({})).await.status(),
        StatusCode::OK
    );

    let api = get(
        &w.editor,
        w.app.at(&format!("/api/v1/datasets/{id}/versions")),
    )
    .await;
    let versions = api["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    let (_, html) = w.app.page(&client(), &format!("/datasets/{id}")).await;
    let history = &html[html.find("id=\"history\"").unwrap()..];
    let rows: Vec<&str> = history
        .split("<tr>")
        .skip(2)
        .map(|r| r.split("</tr>").next().unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{history}");
    for row in rows {
        let cells: Vec<&str> = row
            .split("<td>")
            .skip(1)
            .map(|c| c.split("</td>").next().unwrap())
            .collect();
        let v: i64 = cells[0].parse().unwrap();
        let in_api = versions.iter().find(|x| x["version"] == v).unwrap();
        match in_api["ticket"].as_str() {
            Some(t) if t == tid => assert!(cells[2].contains("更新频率"), "{row}"),
            _ => {
                assert_eq!(v, 1, "{row}");
                assert_eq!(cells[2], "首次发布", "{row}");
            }
        }
    }
}

/// Issue 10: the citation gave the year the entry was created, not that of the version shown
/// with its 更新日期.
#[tokio::test]
async fn the_citation_cites_the_year_of_the_version_shown() {
    let w = world().await;
    let id = published(&w, "上海市公交线路站点").await;
    let first = get(&w.editor, w.app.at(&format!("/api/v1/datasets/{id}"))).await;
    let created_year = &first["created_at"].as_str().unwrap()[..4];
    let tid = weekly_ticket(&w, &id).await;
    // Accepted the next year (signed in again: sessions do not last that long).
    w.app.clock.advance_seconds(200 * 24 * 3600);
    let operator = w.app.login("op@example.cn").await;
    let url = w.app.at(&format!("/api/v1/tickets/{tid}/accept"));
    assert_eq!(
        operator.post_json(url, json!({})).await.status(),
        StatusCode::OK
    );
    let now: Value = client()
        .get(w.app.at(&format!("/api/v1/datasets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let updated = now["updated_at"].as_str().unwrap();
    let year = &updated[..4];
    assert_ne!(year, created_year, "the clock moved into another year");
    let citation = now["citation"].as_str().unwrap();
    assert!(citation.contains(&format!(", {year}. ")), "{citation}");
    let (_, html) = w.app.page(&client(), &format!("/datasets/{id}")).await;
    assert!(
        html.contains(&updated[..10]),
        "the page shows 更新日期 {}",
        &updated[..10]
    );
    assert!(html.contains(&format!(", {year}. ")), "the page's citation");
}

/// Issue 10: the operator's queue is filtered by provider, kind and state, shows how long each
/// ticket has waited, and the API's queue takes the same filters.
#[tokio::test]
async fn the_queue_filters_by_provider_kind_and_state_and_shows_waiting_time() {
    let w = world().await;
    let published_id = published(&w, "上海市公交线路站点").await;
    let draft: Value = create(
        &w.app,
        &w.editor,
        "sh-transport",
        &good_meta("上海市出租车服务点", &w.items),
    )
    .await
    .json()
    .await
    .unwrap();
    let ticket = |url: String, body: Value| {
        let editor = &w.editor;
        async move {
            editor
                .post_json(url, body)
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let add = ticket(
        w.app.at(&format!(
            "/api/v1/datasets/{}/tickets",
            draft["id"].as_str().unwrap()
        )),
        json!({ "kind": "add", "reason": "新增" }),
    )
    .await;
    let mut proposed = good_meta("上海市公交线路站点", &w.items);
    proposed["update_frequency"] = json!("weekly");
    let modify = ticket(
        w.app
            .at(&format!("/api/v1/datasets/{published_id}/tickets")),
        json!({ "kind": "modify", "reason": "改为每周", "proposed": proposed }),
    )
    .await;
    w.app.clock.advance_seconds(3 * 86_400);
    let operator = w.app.login("op@example.cn").await;

    let page = |q: &'static str| {
        let client = operator.client.clone();
        let url = w.app.at(&format!("/console/tickets{q}"));
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let all = page("").await;
    assert!(
        all.contains(add["id"].as_str().unwrap()) && all.contains(modify["id"].as_str().unwrap())
    );
    assert!(all.contains("3 天"), "the waiting time");
    let adds = page("?kind=add").await;
    assert!(adds.contains(add["id"].as_str().unwrap()));
    assert!(!adds.contains(modify["id"].as_str().unwrap()));
    assert!(adds.contains("共 1 个工单符合条件"));
    let elsewhere = page("?provider=sh-other").await;
    assert!(!elsewhere.contains(add["id"].as_str().unwrap()));
    let accepted = page("?state=accepted").await;
    assert!(!accepted.contains(modify["id"].as_str().unwrap()));

    let api = get(
        &operator,
        w.app
            .at("/api/v1/tickets?kind=modify&provider=sh-transport"),
    )
    .await;
    let ids: Vec<&str> = api["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [modify["id"].as_str().unwrap()]);
    let res = operator
        .client
        .get(w.app.at("/api/v1/tickets?kind=rename&provider=nobody"))
        .send()
        .await
        .unwrap();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["fields"][0]["field"], "kind");
}
