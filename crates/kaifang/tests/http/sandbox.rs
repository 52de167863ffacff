//! Sandbox delivery (A21.2, A25.6) through the API and the page: a provider grants an entry in
//! the sandbox; its applicant asks aggregates on the platform and gets the groups of at least
//! the threshold (10 here), never the records; queries that single people out are refused;
//! a grant with a privacy budget answers with noise until the budget is spent; every query is
//! logged with what it returned. The expected figures are counted here from the rows uploaded.

use domain::roles::OrgRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::access::{World, credential_for, fields, set_date, world};
use crate::support::*;

/// 30 boardings on 1路, 12 on 2路 and 2 on 3路, each at its own stop (whole rows repeated
/// would not pass the quality gate).
fn boardings() -> String {
    let mut csv = String::from("line_name,stop_name\n");
    let stops = ["人民广场", "外滩", "静安寺", "徐家汇", "五角场"];
    for (line, n) in [("1路", 30), ("2路", 12), ("3路", 2)] {
        for i in 0..n {
            csv.push_str(&format!("{line},{}{i}号\n", stops[i % stops.len()]));
        }
    }
    csv
}

async fn publish(w: &World) -> String {
    let app = &w.app;
    let editor = app
        .user_with(
            "editor@sh-a.example.cn",
            None,
            Some(("sh-a", OrgRole::Editor)),
        )
        .await;
    let res = editor
        .client
        .post(app.at(&format!(
            "/api/v1/datasets/{}/data?name=boardings.csv",
            w.entry_a
        )))
        .header("x-csrf-token", &editor.csrf)
        .body(boardings())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let accepted: Value = res.json().await.unwrap();
    app.run_jobs().await;
    let version = w
        .reviewer_a
        .get_json(app.at(&format!(
            "/api/v1/datasets/{}/data/versions/{}",
            w.entry_a,
            accepted["id"].as_str().unwrap()
        )))
        .await;
    assert_eq!(version["state"], "published", "{version}");
    // The name `world` gives entry A.
    "上海市公交客流明细".to_owned()
}

fn code(body: &Value) -> (String, String) {
    let f = fields(body);
    f.first().cloned().unwrap_or_else(|| {
        (
            "".into(),
            body["error"]["code"].as_str().unwrap_or("").into(),
        )
    })
}

#[tokio::test]
async fn a_sandbox_agreement_answers_an_aggregate_and_refuses_a_singling_out_query() {
    let w = world("2026-12-30").await;
    let app = &w.app;
    let name = publish(&w).await;
    let (token, agreement) =
        credential_for(&w, json!([{ "dataset": w.entry_a, "delivery": "sandbox" }])).await;
    let id = agreement["id"].as_str().unwrap().to_owned();
    let text = agreement["text"].as_str().unwrap();
    assert!(
        text.contains("以数据沙箱方式交付") && text.contains("少于 10 条"),
        "the agreement states the delivery: {text}"
    );
    set_date(app, "2027-01-04");
    // A new day, a new session.
    let resident = app.login("resident@example.cn").await;
    let reviewer = app.login("reviewer-a@example.cn").await;

    // The records never leave: the credential reads no rows, by any route.
    for path in [
        format!("/api/v1/datasets/{}/records", w.entry_a),
        format!(
            "/api/v1/sql?sql=SELECT%20count(*)%20FROM%20%22{}%22",
            w.entry_a
        ),
    ] {
        let res = client()
            .get(app.at(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "sandbox_only", "{path}");
    }

    let sandbox = app.at(&format!("/api/v1/agreements/{id}/sandbox"));
    let ask = |sql: String| {
        let (url, s) = (sandbox.clone(), &resident);
        async move { s.post_json(url, json!({ "sql": sql })).await }
    };

    // An aggregate: 3路's two boardings are suppressed, and 2路 with them — alone, 3路 would
    // be the total less 1路 and 2路.
    let res = ask(format!(
        "SELECT line_name, count(*) AS boardings FROM \"{name}\" GROUP BY line_name ORDER BY line_name"
    ))
    .await;
    let status = res.status();
    let a: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["rows"], json!([["1路", 30]]));
    assert_eq!(a["suppressed_groups"], 2);
    assert_eq!(a["threshold"], 10);
    assert_eq!(
        a["columns"],
        json!([{ "name": "line_name", "type": "text" }, { "name": "boardings", "type": "integer" }])
    );
    // The total, by the credential: 44.
    let res = client()
        .post(sandbox.clone())
        .bearer_auth(&token)
        .json(&json!({ "sql": format!("SELECT count(*) FROM \"{}\"", w.entry_a) }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["rows"], json!([[44]]));

    // Singling out, returning records, reaching past the grant: refused, naming why.
    for (sql, status, expected) in [
        (
            format!("SELECT count(*) FROM \"{name}\" WHERE line_name <> '3路'"),
            StatusCode::BAD_REQUEST,
            ("sql", "sandbox_isolating"),
        ),
        (
            format!("SELECT line_name FROM \"{name}\""),
            StatusCode::BAD_REQUEST,
            ("sql", "sandbox_row_level"),
        ),
        (
            format!(
                "SELECT count(*) FROM \"{name}\" a JOIN \"{name}\" b ON a.line_name = b.line_name"
            ),
            StatusCode::BAD_REQUEST,
            ("sql", "sandbox_join"),
        ),
        (
            format!("SELECT max(line_name) FROM \"{name}\""),
            StatusCode::BAD_REQUEST,
            ("sql", "sandbox_aggregate"),
        ),
        (
            format!("SELECT stop_name, count(*) FROM \"{name}\" GROUP BY stop_name"),
            StatusCode::FORBIDDEN,
            ("fields", "field_not_granted"),
        ),
        (
            "SELECT count(*) FROM \"上海市出租车运营记录\"".to_owned(),
            StatusCode::BAD_REQUEST,
            ("sql", "sql_unknown_table"),
        ),
    ] {
        let res = ask(sql.clone()).await;
        assert_eq!(res.status(), status, "{sql}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            code(&body),
            (expected.0.to_owned(), expected.1.to_owned()),
            "{sql}"
        );
    }

    // Only the applicant asks; the provider and the operator read the log.
    let res = reviewer
        .post_json(sandbox.clone(), json!({ "sql": "SELECT count(*) FROM t" }))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let log = reviewer.get_json(sandbox.clone()).await;
    let queries = log["queries"].as_array().unwrap();
    assert_eq!(
        queries.len(),
        8,
        "every query asked, answered or not: {log}"
    );
    // Newest first: the unknown table first, the first aggregate last, with what it returned.
    assert_eq!(queries[0]["outcome"], "refused");
    assert_eq!(queries[0]["code"], "sql_unknown_table");
    assert_eq!(queries[5]["code"], "sandbox_isolating");
    let first = &queries[7];
    assert_eq!(first["outcome"], "answered");
    assert_eq!(first["groups"], 1);
    assert_eq!(first["suppressed_groups"], 2);
    assert_eq!(first["answer"]["rows"], json!([["1路", 30]]));
    assert_eq!(log["entries"][0]["name"], name);
    assert_eq!(log["entries"][0]["privacy_budget"], Value::Null);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'sandbox.query'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 8);

    // The page: the answer with the suppressed groups marked.
    let page = app.at(&format!("/agreements/{id}/sandbox"));
    let res = resident
        .post_form(
            page.clone(),
            &[(
                "sql",
                &format!("SELECT line_name, count(*) FROM \"{name}\" GROUP BY line_name"),
            )],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("已抑制 2 组"), "{html}");
    assert!(html.contains("<td>1路</td><td>30</td>"), "{html}");
    let res = resident
        .post_form(
            page,
            &[("sql", &format!("SELECT line_name FROM \"{name}\""))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("沙箱只返回聚合结果"));
}

#[tokio::test]
async fn a_privacy_budget_is_spent_query_by_query_and_then_refuses() {
    let w = world("2026-12-30").await;
    let app = &w.app;
    let name = publish(&w).await;

    // A budget goes with the sandbox, within its bounds.
    let order = crate::access::accepted_order(&w).await;
    for (grant, code) in [
        (
            json!({ "dataset": w.entry_a, "privacy_budget": 1.0 }),
            "sandbox_only",
        ),
        (
            json!({ "dataset": w.entry_a, "delivery": "sandbox", "privacy_budget": 1000.0 }),
            "out_of_range",
        ),
        (
            json!({ "dataset": w.entry_a, "delivery": "sandbox", "privacy_budget": 0.0 }),
            "out_of_range",
        ),
    ] {
        let res = w
            .reviewer_a
            .post_json(
                app.at(&format!("/api/v1/work-orders/{order}/decision")),
                json!({ "outcome": "approve", "grants": [grant],
                        "criteria": { "fairness": "同等", "scenario_value": "研究",
                                      "combination_risk": "低" } }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            fields(&res.json().await.unwrap()),
            [("grants[0].privacy_budget".to_owned(), code.to_owned())]
        );
    }

    let (_, agreement) = credential_for(
        &w,
        json!([{ "dataset": w.entry_a, "delivery": "sandbox", "privacy_budget": 0.25 }]),
    )
    .await;
    let id = agreement["id"].as_str().unwrap().to_owned();
    assert!(
        agreement["text"]
            .as_str()
            .unwrap()
            .contains("隐私预算 ε 共 0.25")
    );
    set_date(app, "2027-01-04");
    let resident = app.login("resident@example.cn").await;
    let sandbox = app.at(&format!("/api/v1/agreements/{id}/sandbox"));
    let sql = format!("SELECT line_name, count(*) FROM \"{name}\" GROUP BY line_name");

    // Out of bounds, or ordered by a true figure: refused, nothing spent.
    for (body, expected) in [
        (json!({ "sql": sql, "epsilon": 5.0 }), "out_of_range"),
        (
            json!({ "sql": format!("{sql} ORDER BY 2"), "epsilon": 0.1 }),
            "sandbox_noise_shape",
        ),
    ] {
        let res = resident.post_json(sandbox.clone(), body).await;
        assert!(res.status().is_client_error());
        let body: Value = res.json().await.unwrap();
        assert_eq!(code(&body).1, expected);
    }
    for left in [0.15, 0.05] {
        let res = resident
            .post_json(sandbox.clone(), json!({ "sql": sql, "epsilon": 0.1 }))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let a: Value = res.json().await.unwrap();
        assert_eq!(a["noise"]["epsilon"], 0.1);
        // Two measurements (the count and the groups' sizes): scale 2 / 0.1.
        assert_eq!(
            a["noise"]["scales"],
            json!([{ "column": "count(*)", "scale": 20.0 }])
        );
        assert!((a["budget_left"].as_f64().unwrap() - left).abs() < 1e-9);
    }
    let res = resident
        .post_json(sandbox.clone(), json!({ "sql": sql, "epsilon": 0.1 }))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "privacy_budget_spent");
    let log = resident.get_json(sandbox).await;
    assert_eq!(log["entries"][0]["budget_spent"], 0.2);
    assert_eq!(log["entries"][0]["budget_left"], 0.05);
    let spent: Vec<f64> = log["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["epsilon"].as_f64().unwrap())
        .collect();
    assert_eq!(spent, [0.0, 0.1, 0.1, 0.0]);
}

#[tokio::test]
async fn queries_naming_no_granted_entry_count_against_the_calls_a_day() {
    let w = world("2026-12-30").await;
    let app = &w.app;
    publish(&w).await;
    let (_, agreement) = credential_for(
        &w,
        json!([{ "dataset": w.entry_a, "delivery": "sandbox", "calls_per_day": 2 }]),
    )
    .await;
    let id = agreement["id"].as_str().unwrap().to_owned();
    set_date(app, "2027-01-04");
    let resident = app.login("resident@example.cn").await;
    let sandbox = app.at(&format!("/api/v1/agreements/{id}/sandbox"));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = resident
            .post_json(
                sandbox.clone(),
                json!({ "sql": "SELECT count(*) FROM nowhere" }),
            )
            .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 429, 429]);
    let log = resident.get_json(sandbox).await;
    assert_eq!(log["queries"].as_array().unwrap().len(), 2, "{log}");
}
