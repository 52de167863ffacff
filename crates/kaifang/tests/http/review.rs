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
    // Published this year, so reviewed this year: not due (an entry changed today is never
    // listed as overdue). A draft is not on the list yet, so it is never due.
    create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市出租车服务点", &items),
    )
    .await;
    assert_eq!(due(&editor).await, 0);
    // The next year it is due (and the editor signs in again: sessions expire), until the
    // provider confirms it.
    app.clock.advance_seconds(366 * 86_400);
    let editor = app.login("editor@sh-transport.cn").await;
    assert_eq!(due(&editor).await, 1);
    let res = editor
        .post_json(
            app.at(&format!("/api/v1/datasets/{id}/review")),
            json!({ "note": "内容与系统一致，继续开放" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(due(&editor).await, 0);
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
    let page = |s: &Session| {
        let req = s.client.get(app.at("/console/orgs/sh-transport/reviews"));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    // Published this year: nothing to confirm, and the page and the dashboard agree.
    let html = page(&editor).await;
    assert!(!html.contains(&format!("/console/datasets/{id}/review")));
    assert!(
        html.contains("没有需要复核的条目") && html.contains("1 / 1"),
        "{html}"
    );
    let dashboard = editor
        .client
        .get(app.at("/console/orgs/sh-transport"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!dashboard.contains("未复核"));

    // The next year it is to confirm (signed in afresh: the old session has expired).
    app.clock.advance_seconds(366 * 86_400);
    let editor = app.login("editor@sh-transport.cn").await;
    let html = page(&editor).await;
    assert!(
        html.contains(&format!("action=\"/console/datasets/{id}/review\""))
            && html.contains("0 / 1")
    );
    let dashboard = editor
        .client
        .get(app.at("/console/orgs/sh-transport"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dashboard.contains("本年度还有 1 个条目未复核"));
    // Submitting before confirming names the entry; confirming, then submitting, works.
    let res = editor
        .post_form(
            app.at("/console/orgs/sh-transport/review-cycles/2027/submit"),
            &[("note", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("本年度尚未复核此条目"));
    let res = editor
        .post_form(app.at(&format!("/console/datasets/{id}/review")), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(&editor).await;
    assert!(
        !html.contains(&format!("/console/datasets/{id}/review"))
            && html.contains("没有需要复核的条目")
    );
    let res = editor
        .post_form(
            app.at("/console/orgs/sh-transport/review-cycles/2027/submit"),
            &[("note", "已逐项复核")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(&editor).await;
    assert!(html.contains("data-state=\"submitted\"") && !html.contains("id=\"submit-cycle\""));
    // The operator decides from the same page.
    let op = app.login("op@example.cn").await;
    assert!(page(&op).await.contains("id=\"accept-cycle\""));
    let res = op
        .post_form(
            app.at("/console/orgs/sh-transport/review-cycles/2027/accept"),
            &[("note", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(page(&op).await.contains("data-state=\"accepted\""));
}

#[tokio::test]
async fn the_annual_review_is_a_yearly_cycle_submitted_by_the_provider_and_decided_by_the_operator()
{
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let bus = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let mut closed = good_meta("上海市公交卡刷卡明细", &items);
    closed["open_type"] = json!("not_open");
    closed["grading"]["personal_information"] = json!("identifiable");
    let cards = publish(&app, &editor, &op, closed).await;
    // An operator who also works for the provider, and a stranger to it.
    app.user_with(
        "insider@example.cn",
        Some(PlatformRole::Operator),
        Some(("sh-transport", domain::roles::OrgRole::Editor)),
    )
    .await;

    // From 2026-09-21 to 2027-03-01: both entries changed in 2026 and not since.
    let editor_email = editor.get_json(app.at("/api/v1/me")).await["email"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance_seconds(161 * 86_400);
    let editor = app.login(&editor_email).await;
    let op = app.login("op@example.cn").await;
    let insider = app.login("insider@example.cn").await;
    let cycle = |s: &Session, year: &str| {
        let req = s
            .client
            .get(app.at(&format!("/api/v1/orgs/sh-transport/review-cycles/{year}")));
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let step = |s: &Session, year: &str, step: &str, note: &str| {
        let req = s
            .client
            .post(app.at(&format!(
                "/api/v1/orgs/sh-transport/review-cycles/{year}/{step}"
            )))
            .header("x-csrf-token", &s.csrf)
            .json(&json!({ "note": note }));
        async move { req.send().await.unwrap() }
    };

    // Last year's review was never submitted: overdue, though every entry changed that year.
    let (_, last) = cycle(&editor, "2026").await;
    assert_eq!(last["state"], "open");
    assert_eq!(last["overdue"], true);
    assert_eq!(last["due_on"], "2026-12-31");
    assert_eq!(
        (
            last["entries_reviewed"].clone(),
            last["entries_total"].clone()
        ),
        (json!(2), json!(2))
    );

    // This year's covers both entries, the non-open one too, and neither is reviewed yet.
    let (status, this) = cycle(&editor, "2027").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (this["state"].clone(), this["overdue"].clone()),
        (json!("open"), json!(false))
    );
    assert_eq!(
        (
            this["entries_reviewed"].clone(),
            this["entries_total"].clone()
        ),
        (json!(0), json!(2))
    );

    // Submitting names every entry still to review, and changes nothing.
    let (status, err) = json_error(step(&editor, "2027", "submit", "").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let pending: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert!(
        pending.iter().any(|p| p.starts_with(&bus))
            && pending.iter().any(|p| p.starts_with(&cards))
    );
    for id in [&bus, &cards] {
        let res = editor
            .post_json(
                app.at(&format!("/api/v1/datasets/{id}/review")),
                json!({ "note": "已复核，继续保持" }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let res = step(&editor, "2027", "submit", "全部条目已复核").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["state"], "submitted");
    assert_eq!(body["entries_reviewed"], 2);
    // Twice is a conflict of state, not a second submission.
    assert_eq!(
        step(&editor, "2027", "submit", "").await.status(),
        StatusCode::CONFLICT
    );

    // The provider does not decide its own review, nor an operator who works for it.
    assert_eq!(
        step(&editor, "2027", "accept", "").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        step(&insider, "2027", "accept", "").await.status(),
        StatusCode::FORBIDDEN
    );
    // Giving it back needs the reason; then the provider submits again and it is accepted.
    let (status, err) = json_error(step(&op, "2027", "return", " ").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["fields"][0]["field"], "note");
    let res = step(&op, "2027", "return", "请说明非开放数据的复核依据").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "open");
    assert_eq!(
        step(&editor, "2027", "submit", "已补充说明").await.status(),
        StatusCode::OK
    );
    let res = step(&op, "2027", "accept", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, done) = cycle(&op, "2027").await;
    assert_eq!(done["state"], "accepted");
    assert!(done["decided_at"].is_string());
    assert_eq!(
        step(&op, "2027", "accept", "").await.status(),
        StatusCode::CONFLICT
    );

    // Last year's may still be submitted, late; other years are out of range.
    assert_eq!(
        step(&editor, "2026", "submit", "补交").await.status(),
        StatusCode::OK
    );
    let (status, _) = cycle(&editor, "2020").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = cycle(&editor, "twenty").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Outsiders do not see a provider's review at all.
    let resident = app.user_with("resident@example.cn", None, None).await;
    assert_eq!(cycle(&resident, "2027").await.0, StatusCode::FORBIDDEN);
    // Every step is in the audit trail.
    let steps: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'review_cycle.%'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(steps, 5);
}

#[tokio::test]
async fn the_operator_sees_every_providers_annual_review_submitted_ones_first() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    app.create_org("sh-ecology").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let res = editor
        .post_json(
            app.at("/api/v1/orgs/sh-transport/review-cycles/2026/submit"),
            json!({ "note": "" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, html) = app.page(&op.client, "/console/review-cycles").await;
    assert_eq!(status, StatusCode::OK);
    let transport = html.find("data-org=\"sh-transport\" data-state=\"submitted\"");
    let ecology = html.find("data-org=\"sh-ecology\" data-state=\"open\"");
    assert!(transport.is_some() && ecology.is_some(), "{html}");
    assert!(transport < ecology, "the submitted review is listed first");
    assert!(html.contains("1 / 1") && html.contains("0 / 0"));
    // Both joined this year: there is no review of last year to be overdue, nor to submit.
    assert!(
        !html.contains("已逾期") && html.contains("当年尚未加入平台"),
        "{html}"
    );
    let res = editor
        .post_json(
            app.at("/api/v1/orgs/sh-transport/review-cycles/2025/submit"),
            json!({ "note": "" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The desk is linked from the operator's workspace, and not from a provider's.
    assert!(
        app.page(&op.client, "/console")
            .await
            .1
            .contains("/console/review-cycles")
    );
    assert!(
        !app.page(&editor.client, "/console")
            .await
            .1
            .contains("/console/review-cycles")
    );
}
