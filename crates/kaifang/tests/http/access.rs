//! Applying for conditional data (A18) and the completeness review (A19.1) through the API:
//! a draft, the materials each entry lists and the security pledge, submission with every
//! problem named at once, a returned round fixed and resubmitted, acceptance into one work
//! order per provider with its deadline counted on the statutory calendar (A19.2), and what
//! each party may see. Deadlines are worked out here by hand from the State Council's notices.

use domain::roles::{OrgRole, PlatformRole};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// A published conditional entry of `org`, with a scenario it allows and a material its list
/// requires (A15, A18.1). Returns its id.
pub async fn conditional_entry(app: &TestApp, org: &str, name: &str) -> String {
    let items = app.catalogue_items(org).await;
    let mut meta = crate::openlist::good_meta(name, &items);
    meta["open_type"] = json!("conditional");
    meta["conditions"] = json!([
        { "kind": "scenario", "text": "交通规划研究" },
        { "kind": "security_capability", "text": "具备数据安全管理制度" },
    ]);
    meta["materials"] = json!([{ "name": "单位介绍信", "description": "加盖公章" }]);
    app.create_entry_with(org, meta, domain::openlist::vocab::DatasetStatus::Published)
        .await
}

/// A PDF as a scanner makes one: enough of the format for its kind to be recognised.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// Uploads `bytes` as `name`; the upload's id.
pub async fn upload(app: &TestApp, s: &Session, name: &str, bytes: &[u8]) -> String {
    s.attachment(app, name, bytes).await["upload"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Moves the app's clock to 09:00 China Standard Time on `date` (YYYY-MM-DD).
pub fn set_date(app: &TestApp, date: &str) {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let at = d.and_hms_opt(1, 0, 0).unwrap().and_utc().timestamp_millis();
    app.clock.advance_seconds((at - app.clock_now().0) / 1000);
}

/// A form asking for `entries` over 2027.
pub fn form(entries: &[&str]) -> Value {
    json!({
        "entries": entries.iter().map(|e| json!({
            "dataset": e, "items": ["line_name"], "scenario": "交通规划研究",
        })).collect::<Vec<_>>(),
        "purpose": "研究公交线网与客流的关系，用于交通规划课题。",
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
        "calls_per_day": 1000,
        "security_measures": "专人专机处理，访问留痕，结果不含个人信息。",
    })
}

/// `s` applies for `entries` with every material there and submits; the application.
pub async fn submitted(app: &TestApp, s: &Session, entries: &[&str]) -> Value {
    let a = s
        .post_json(
            app.at("/api/v1/applications"),
            json!({ "form": form(entries) }),
        )
        .await;
    assert_eq!(a.status(), StatusCode::CREATED);
    let a: Value = a.json().await.unwrap();
    let id = a["id"].as_str().unwrap();
    let pledge = upload(app, s, "安全承诺书.pdf", PDF).await;
    attach(app, s, id, None, "security_pledge", &pledge).await;
    for e in entries {
        let letter = upload(app, s, "介绍信.pdf", PDF).await;
        attach(app, s, id, Some(e), "单位介绍信", &letter).await;
    }
    let res = s
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/submit")),
            json!({}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    res.json().await.unwrap()
}

async fn attach(
    app: &TestApp,
    s: &Session,
    id: &str,
    dataset: Option<&str>,
    material: &str,
    upload: &str,
) -> Value {
    let res = s
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/materials")),
            json!({ "dataset": dataset, "material": material, "upload": upload }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{material}");
    res.json().await.unwrap()
}

pub fn fields(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").to_owned(),
                        e["code"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub struct World {
    pub app: TestApp,
    pub resident: Session,
    pub operator: Session,
    pub reviewer_a: Session,
    pub reviewer_b: Session,
    pub entry_a: String,
    pub entry_b: String,
}

/// Two providers with a conditional entry each and the parties, on `date`.
pub async fn world(date: &str) -> World {
    world_with(date, test_config()).await
}

async fn world_with(date: &str, config: web::WebConfig) -> World {
    let app = spawn_app_with(config).await;
    set_date(&app, date);
    app.create_org("sh-a").await;
    app.create_org("sh-b").await;
    let entry_a = conditional_entry(&app, "sh-a", "上海市公交客流明细").await;
    let entry_b = conditional_entry(&app, "sh-b", "上海市出租车运营记录").await;
    let resident = app.user_with("resident@example.cn", None, None).await;
    let operator = app
        .user_with("operator@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let reviewer_a = app
        .user_with(
            "reviewer-a@example.cn",
            None,
            Some(("sh-a", OrgRole::Reviewer)),
        )
        .await;
    let reviewer_b = app
        .user_with(
            "reviewer-b@example.cn",
            None,
            Some(("sh-b", OrgRole::Reviewer)),
        )
        .await;
    World {
        app,
        resident,
        operator,
        reviewer_a,
        reviewer_b,
        entry_a,
        entry_b,
    }
}

#[tokio::test]
async fn an_application_is_returned_fixed_and_accepted_into_one_work_order_per_provider() {
    let w = world("2026-09-28").await;
    let app = &w.app;
    let r = &w.resident;

    // A draft may be empty; submitting it names everything missing at once.
    let res = r
        .post_json(app.at("/api/v1/applications"), json!({ "form": {} }))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["state"], "draft");
    assert_eq!(a["applicant"], r.user_id.as_str());
    let id = a["id"].as_str().unwrap().to_owned();
    let url = |p: &str| app.at(&format!("/api/v1/applications/{id}{p}"));
    let res = r.post_json(url("/submit"), json!({})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let got = fields(&res.json().await.unwrap());
    for want in [
        ("entries", "required"),
        ("security_pledge", "required"),
        ("purpose", "required"),
        ("security_measures", "required"),
        ("period_start", "required"),
        ("calls_per_day", "required"),
    ] {
        assert!(
            got.contains(&(want.0.into(), want.1.into())),
            "{want:?} in {got:?}"
        );
    }

    // The form filled in, one material still missing.
    let res = r
        .send_json(
            Method::PUT,
            url(""),
            &json!({ "form": form(&[&w.entry_a, &w.entry_b]), "row_version": 0 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let pledge = upload(app, r, "安全承诺书.pdf", PDF).await;
    attach(app, r, &id, None, "security_pledge", &pledge).await;
    let letter = upload(app, r, "介绍信.pdf", PDF).await;
    let m = attach(app, r, &id, Some(&w.entry_a), "单位介绍信", &letter).await;
    let res = r.post_json(url("/submit"), json!({})).await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [(
            "entries[1].materials".to_owned(),
            "material_missing".to_owned()
        )]
    );
    let letter = upload(app, r, "介绍信.pdf", PDF).await;
    attach(app, r, &id, Some(&w.entry_b), "单位介绍信", &letter).await;
    let res = r.post_json(url("/submit"), json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["state"], "submitted");
    assert_eq!(a["round"], 1);

    // Submitted: no second submission, no edit, no material changed.
    let res = r.post_json(url("/submit"), json!({})).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "invalid_transition");
    let res = r
        .send_json(Method::PUT, url(""), &json!({ "form": {} }))
        .await;
    assert_eq!(error_code(&res), "invalid_transition");
    let res = r
        .delete(url(&format!("/materials/{}", m["id"].as_str().unwrap())))
        .await;
    assert_eq!(error_code(&res), "invalid_transition");

    // The operator's queue has it; a return needs reasons, all at once.
    let q = w
        .operator
        .get_json(app.at("/api/v1/completeness-queue"))
        .await;
    assert_eq!(q["applications"][0]["id"], id.as_str());
    let res = w
        .operator
        .post_json(url("/return"), json!({ "reasons": ["  "] }))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = w
        .operator
        .post_json(
            url("/return"),
            json!({ "reasons": ["单位介绍信未加盖公章", "安全承诺书未签字"] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["state"], "returned");
    assert_eq!(a["rounds"][0]["outcome"], "returned");
    assert_eq!(
        a["rounds"][0]["reasons"],
        json!(["单位介绍信未加盖公章", "安全承诺书未签字"])
    );

    // Fixed and resubmitted: a second round.
    let letter = upload(app, r, "介绍信-盖章.pdf", PDF).await;
    let res = r
        .delete(url(&format!("/materials/{}", m["id"].as_str().unwrap())))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    attach(app, r, &id, Some(&w.entry_a), "单位介绍信", &letter).await;
    let a: Value = r
        .post_json(url("/submit"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["state"], "submitted");
    assert_eq!(a["round"], 2);

    // Accepted on Monday 2026-09-28: 10 working days are 9/29, 9/30, 10/8, 10/9, Saturday
    // 10/10 (a make-up workday), 10/12–10/16 — National Day (10/1–10/7) off.
    let res = w.operator.post_json(url("/accept"), json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["state"], "accepted");
    assert_eq!(a["rounds"][1]["outcome"], "accepted");
    let orders = a["work_orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2, "one per provider");
    for o in orders {
        assert_eq!(o["due_on"], "2026-10-16");
        assert_eq!(o["due_provisional"], false);
        assert_eq!(o["state"], "in_review");
    }
    let res = w.operator.post_json(url("/accept"), json!({})).await;
    assert_eq!(error_code(&res), "invalid_transition");

    // Each provider sees its own order, with who asked for what and its entry's materials.
    let inbox = w
        .reviewer_a
        .get_json(app.at("/api/v1/orgs/sh-a/work-orders"))
        .await;
    let list = inbox["work_orders"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let order = &list[0];
    assert_eq!(order["entries"][0]["dataset"], w.entry_a.as_str());
    assert_eq!(order["entries"][0]["name"], "上海市公交客流明细");
    assert_eq!(order["entries"][0]["items"], json!(["line_name"]));
    assert_eq!(order["applicant"]["id"], r.user_id.as_str());
    assert_eq!(order["working_days_left"], 10);
    assert_eq!(order["overdue"], false);
    let names: Vec<&str> = order["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["material"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "the pledge and its own entry's letter: {names:?}"
    );
    let res = w
        .reviewer_a
        .client
        .get(app.at(order["materials"][1]["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let order_id = order["id"].as_str().unwrap();

    // Another provider's reviewer knows nothing of it, nor of the application.
    let res = w
        .reviewer_b
        .client
        .get(app.at(&format!("/api/v1/work-orders/{order_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = w.reviewer_b.client.get(url("")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let inbox = w
        .reviewer_b
        .get_json(app.at("/api/v1/orgs/sh-a/work-orders"))
        .await;
    assert_eq!(inbox["error"]["code"], "forbidden");
    // Nor does another resident; a material of org B's entry is not org A's to read.
    let other = app.user_with("other@example.cn", None, None).await;
    let res = other.client.get(url("")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let b_letter = a["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["dataset"] == w.entry_b.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = w
        .reviewer_a
        .client
        .get(app.at(&format!(
            "/api/v1/work-orders/{order_id}/materials/{b_letter}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Two days later the countdown has moved; every step is in the audit trail.
    set_date(app, "2026-09-30");
    let order = app
        .login("reviewer-a@example.cn")
        .await
        .get_json(app.at(&format!("/api/v1/work-orders/{order_id}")))
        .await;
    assert_eq!(order["working_days_left"], 8);
    for action in [
        "application.create",
        "application.submit",
        "application.return",
        "application.resubmit",
        "application.accept",
        "work_order.create",
    ] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert!(n >= 1, "{action}");
    }
}

/// Accepts an application made on the world's day; its work order's deadline.
async fn deadline_of(w: &World) -> (String, bool, String) {
    let a = submitted(&w.app, &w.resident, &[&w.entry_a]).await;
    let id = a["id"].as_str().unwrap();
    let a: Value = w
        .operator
        .post_json(
            w.app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let o = &a["work_orders"][0];
    (
        o["due_on"].as_str().unwrap().to_owned(),
        o["due_provisional"].as_bool().unwrap(),
        o["id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn deadlines_count_working_days_across_holidays_and_into_a_year_not_yet_loaded() {
    // Tuesday 2026-02-10: 2/11, 2/12, 2/13, Saturday 2/14 (worked), the Spring Festival
    // 2/15–2/23 off, 2/24–2/27, Saturday 2/28 (worked), Monday 3/2.
    let (due, provisional, _) = deadline_of(&world("2026-02-10").await).await;
    assert_eq!((due.as_str(), provisional), ("2026-03-02", false));
    // Thursday 2026-04-30: Labour Day 5/1–5/5 off, 5/6–5/8, Saturday 5/9 (worked), 5/11–5/15,
    // 5/18: the tenth.
    let (due, provisional, _) = deadline_of(&world("2026-04-30").await).await;
    assert_eq!((due.as_str(), provisional), ("2026-05-18", false));

    // Thursday 2026-12-24, before 2027's notice: counted on weekends alone into 2027 — 12/25,
    // 12/28–12/31, then 1/1 (a Friday, not yet known as a holiday), 1/4–1/7.
    let w = world("2026-12-24").await;
    let (due, provisional, order) = deadline_of(&w).await;
    assert_eq!((due.as_str(), provisional), ("2027-01-07", true));
    let o = w
        .reviewer_a
        .get_json(w.app.at(&format!("/api/v1/work-orders/{order}")))
        .await;
    assert_eq!(o["due_provisional"], true);
    // The operator is told to load the year.
    let told = w
        .operator
        .get_json(w.app.at("/api/v1/me/notifications"))
        .await;
    let alert = told["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "deadline_provisional")
        .cloned()
        .unwrap_or_else(|| panic!("{told}"));
    assert_eq!(alert["link"], "/console/calendar");
    assert!(
        alert["text"].as_str().unwrap_or("").contains("2027"),
        "{alert}"
    );

    // The operator loads 2027 (New Year's Day off): the deadline is counted again, final.
    let res = w
        .operator
        .send_json(
            Method::PUT,
            w.app.at("/api/v1/calendar/2027"),
            &json!({ "holidays": ["2027-01-01"] }),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let o = w
        .reviewer_a
        .get_json(w.app.at(&format!("/api/v1/work-orders/{order}")))
        .await;
    assert_eq!(o["due_on"], "2027-01-08");
    assert_eq!(o["due_provisional"], false);
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'work_order.recount_deadline' AND target_id = $1",
    )
    .bind(&order)
    .fetch_one(w.app.store.pool())
    .await
    .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn bad_applications_are_refused_with_their_field_and_change_nothing() {
    let w = world("2026-11-02").await;
    let app = &w.app;
    let r = &w.resident;
    let open = app
        .create_entry_with(
            "sh-a",
            crate::openlist::good_meta("上海市公交站点", &app.catalogue_items("sh-a").await),
            domain::openlist::vocab::DatasetStatus::Published,
        )
        .await;
    let before = app.count("access_applications").await;

    // Only conditional entries on the open list; no entry twice; bounded text and lists.
    let cases = [
        (
            json!({ "entries": [{ "dataset": open }] }),
            "entries[0].dataset",
            "not_conditional",
        ),
        (
            json!({ "entries": [{ "dataset": domain::ids::DatasetId::new() }] }),
            "entries[0].dataset",
            "not_conditional",
        ),
        (
            json!({ "entries": [{ "dataset": w.entry_a }, { "dataset": w.entry_a }] }),
            "entries[1].dataset",
            "duplicate",
        ),
        (
            json!({ "purpose": "很".repeat(2001) }),
            "purpose",
            "too_long",
        ),
        (
            json!({ "purpose": "用途\u{202e}" }),
            "purpose",
            "control_character",
        ),
        (
            json!({ "period_start": "2027-02-01", "period_end": "2027-01-01" }),
            "period_end",
            "before_start",
        ),
        (
            json!({ "calls_per_day": 100_000_000u64 }),
            "calls_per_day",
            "too_large",
        ),
    ];
    for (form, field, code) in cases {
        let res = r
            .post_json(app.at("/api/v1/applications"), json!({ "form": form }))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let got = fields(&res.json().await.unwrap());
        assert!(
            got.contains(&(field.to_owned(), code.to_owned())),
            "{field} {code}: {got:?}"
        );
    }
    // An unknown field, an applicant named on the form, a negative volume: refused as such.
    for body in [
        json!({ "form": { "applicant": "someone-else" } }),
        json!({ "form": {}, "applicant_id": "x" }),
        json!({ "form": { "calls_per_day": -1 } }),
    ] {
        let res = r.post_json(app.at("/api/v1/applications"), body).await;
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    assert_eq!(app.count("access_applications").await, before);

    // Materials: only those listed, only one's own uploads, only real documents.
    let a: Value = r
        .post_json(
            app.at("/api/v1/applications"),
            json!({ "form": form(&[&w.entry_a]) }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = a["id"].as_str().unwrap();
    let materials = app.at(&format!("/api/v1/applications/{id}/materials"));
    let mine = upload(app, r, "介绍信.pdf", PDF).await;
    for (body, field, code) in [
        (
            json!({ "dataset": w.entry_a, "material": "营业执照", "upload": mine }),
            "material",
            "not_required",
        ),
        (
            json!({ "dataset": w.entry_b, "material": "单位介绍信", "upload": mine }),
            "dataset",
            "not_in_application",
        ),
        (
            json!({ "material": "单位介绍信", "upload": mine }),
            "material",
            "not_required",
        ),
    ] {
        let res = r.post_json(materials.clone(), body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            fields(&res.json().await.unwrap()),
            [(field.to_owned(), code.to_owned())]
        );
    }
    let theirs = upload(app, &w.operator, "介绍信.pdf", PDF).await;
    let res = r
        .post_json(
            materials.clone(),
            json!({ "dataset": w.entry_a, "material": "单位介绍信", "upload": theirs }),
        )
        .await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [("upload".to_owned(), "not_found".to_owned())]
    );
    // A program renamed to .pdf is not a document.
    let res = r
        .upload_raw(
            app,
            "介绍信.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.count("access_materials").await, 0);

    // Someone else may not change, submit or withdraw it, nor attach to it.
    let other = app.user_with("other@example.cn", None, None).await;
    for (method, path) in [
        (Method::PUT, ""),
        (Method::POST, "/submit"),
        (Method::POST, "/withdraw"),
        (Method::POST, "/materials"),
    ] {
        let res = other
            .send_json(
                method,
                app.at(&format!("/api/v1/applications/{id}{path}")),
                &json!({ "form": {} }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The operator may not accept a draft, nor decide their own application.
    let res = w
        .operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&res), "invalid_transition");
    let own = submitted(app, &w.operator, &[&w.entry_a]).await;
    let res = w
        .operator
        .post_json(
            app.at(&format!(
                "/api/v1/applications/{}/accept",
                own["id"].as_str().unwrap()
            )),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn drafts_per_account_are_bounded_and_a_withdrawn_application_stays_withdrawn() {
    let w = world("2026-11-02").await;
    let app = &w.app;
    let r = &w.resident;
    for _ in 0..app::access::MAX_DRAFTS {
        let res = r
            .post_json(app.at("/api/v1/applications"), json!({ "form": {} }))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = r
        .post_json(app.at("/api/v1/applications"), json!({ "form": {} }))
        .await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [("application".to_owned(), "too_many_drafts".to_owned())]
    );
    let list = r.get_json(app.at("/api/v1/applications?limit=5")).await;
    assert_eq!(list["applications"].as_array().unwrap().len(), 5);
    assert!(list["next"].is_string());

    let a = submitted(app, &w.operator, &[&w.entry_b]).await;
    let id = a["id"].as_str().unwrap();
    let res = w
        .operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/withdraw")),
            json!({}),
        )
        .await;
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["state"], "withdrawn");
    assert_eq!(a["rounds"][0]["outcome"], "withdrawn");
    for step in ["/submit", "/withdraw"] {
        let res = w
            .operator
            .post_json(
                app.at(&format!("/api/v1/applications/{id}{step}")),
                json!({}),
            )
            .await;
        assert_eq!(error_code(&res), "invalid_transition", "{step}");
    }
}

#[tokio::test]
async fn a_provider_approves_within_what_was_asked_or_refuses_with_every_reason() {
    let w = world("2026-11-02").await;
    let app = &w.app;
    let a = submitted(app, &w.resident, &[&w.entry_a, &w.entry_b]).await;
    let id = a["id"].as_str().unwrap();
    let a: Value = w
        .operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order_of = |org: &str| {
        a["work_orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["organization"] == org)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let orgs: Vec<Value> = {
        let mut v = Vec::new();
        for slug in ["sh-a", "sh-b"] {
            v.push(
                w.operator
                    .get_json(app.at(&format!("/api/v1/orgs/{slug}")))
                    .await,
            );
        }
        v
    };
    let order_a = order_of(orgs[0]["id"].as_str().unwrap());
    let order_b = order_of(orgs[1]["id"].as_str().unwrap());
    let decide = |s: &Session, order: &str, body: Value| {
        let (s, url) = (
            s.clone(),
            app.at(&format!("/api/v1/work-orders/{order}/decision")),
        );
        async move { s.post_json(url, body).await }
    };
    let criteria = json!({
        "fairness": "与同类申请同等对待",
        "scenario_value": "交通规划研究，公共价值高",
        "combination_risk": "仅线路名称，融合风险低",
    });

    // Criteria are required; a grant never gives more than was asked.
    let res = decide(&w.reviewer_a, &order_a, json!({ "outcome": "approve" })).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let got = fields(&res.json().await.unwrap());
    for f in [
        "criteria.fairness",
        "criteria.scenario_value",
        "criteria.combination_risk",
    ] {
        assert!(got.contains(&(f.to_owned(), "required".to_owned())), "{f}");
    }
    for (grant, field, code) in [
        (
            json!({ "items": ["line_name", "stop_name"] }),
            "grants[0].items",
            "item_not_applied",
        ),
        (json!({ "items": [] }), "grants[0].items", "no_items"),
        (
            json!({ "calls_per_day": 2000 }),
            "grants[0].calls_per_day",
            "quota_higher",
        ),
        (
            json!({ "period_end": "2028-01-01" }),
            "grants[0].period_end",
            "period_wider",
        ),
        (
            json!({ "period_start": "2026-12-01" }),
            "grants[0].period_end",
            "period_wider",
        ),
    ] {
        let mut g = grant.clone();
        g["dataset"] = json!(w.entry_a);
        let res = decide(
            &w.reviewer_a,
            &order_a,
            json!({ "outcome": "approve", "criteria": criteria, "grants": [g] }),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{grant}");
        assert_eq!(
            fields(&res.json().await.unwrap()),
            [(field.to_owned(), code.to_owned())],
            "{grant}"
        );
    }
    let res = decide(
        &w.reviewer_a,
        &order_a,
        json!({ "outcome": "approve", "criteria": criteria, "grants": [{ "dataset": w.entry_b }] }),
    )
    .await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [(
            "grants[0].dataset".to_owned(),
            "not_in_work_order".to_owned()
        )]
    );
    let res = decide(
        &w.reviewer_a,
        &order_a,
        json!({ "outcome": "maybe", "criteria": criteria }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Neither the applicant nor an editor of the provider decides; nor the other provider.
    let editor = app
        .user_with("editor-a@example.cn", None, Some(("sh-a", OrgRole::Editor)))
        .await;
    let body = json!({ "outcome": "approve", "criteria": criteria });
    assert_eq!(
        decide(&editor, &order_a, body.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(&w.resident, &order_a, body.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(&w.reviewer_b, &order_a, body.clone()).await.status(),
        StatusCode::NOT_FOUND
    );

    // Approved, narrower: fewer calls a day and a shorter period.
    let res = decide(
        &w.reviewer_a,
        &order_a,
        json!({ "outcome": "approve", "criteria": criteria, "grants": [{
            "dataset": w.entry_a, "calls_per_day": 500, "period_end": "2027-06-30",
        }] }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let o: Value = res.json().await.unwrap();
    assert_eq!(o["state"], "approved");
    assert_eq!(o["decision"]["grants"][0]["calls_per_day"], 500);
    assert_eq!(o["decision"]["grants"][0]["items"], json!(["line_name"]));
    assert_eq!(o["decision"]["grants"][0]["period_start"], "2027-01-01");
    assert_eq!(o["decision"]["grants"][0]["period_end"], "2027-06-30");
    let res = decide(&w.reviewer_a, &order_a, body.clone()).await;
    assert_eq!(error_code(&res), "invalid_transition");

    // Refused: reasons required, all at once.
    let refuse =
        |reasons: Value| json!({ "outcome": "refuse", "criteria": criteria, "reasons": reasons });
    let res = decide(&w.reviewer_b, &order_b, refuse(json!([]))).await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [("reasons".to_owned(), "required".to_owned())]
    );
    let res = decide(
        &w.reviewer_b,
        &order_b,
        refuse(json!([
            "运营记录含乘客出行轨迹，不宜用于该场景",
            "安全措施未说明存储位置"
        ])),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // The applicant sees both decisions with the application, without the criteria.
    let a = w
        .resident
        .get_json(app.at(&format!("/api/v1/applications/{id}")))
        .await;
    let published: Vec<&Value> = a["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["decision"])
        .collect();
    assert!(published.iter().all(|d| d.get("criteria").is_none()));
    let approved = published
        .iter()
        .find(|d| d["outcome"] == "approved")
        .unwrap();
    assert_eq!(approved["grants"][0]["calls_per_day"], 500);
    let refused = published
        .iter()
        .find(|d| d["outcome"] == "refused")
        .unwrap();
    assert_eq!(refused["reasons"].as_array().unwrap().len(), 2);
    for action in ["work_order.approve", "work_order.refuse"] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert_eq!(n, 1, "{action}");
    }
}

/// The entry's data as its provider publishes it: three stops of two lines.
async fn publish_stops(app: &TestApp, org: &str, entry: &str) {
    let editor = app
        .user_with(
            &format!("editor@{org}.example.cn"),
            None,
            Some((org, OrgRole::Editor)),
        )
        .await;
    let res = editor
        .client
        .post(app.at(&format!("/api/v1/datasets/{entry}/data?name=stops.csv")))
        .header("x-csrf-token", &editor.csrf)
        .body("line_name,stop_name\n1路,人民广场\n1路,外滩\n2路,静安寺\n")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "{}",
        res.text().await.unwrap()
    );
    app.run_jobs().await;
}

#[tokio::test]
async fn both_sides_sign_and_the_credential_reads_only_what_was_granted() {
    let w = world("2026-12-30").await;
    let app = &w.app;
    publish_stops(app, "sh-a", &w.entry_a).await;
    publish_stops(app, "sh-b", &w.entry_b).await;
    let a = submitted(app, &w.resident, &[&w.entry_a, &w.entry_b]).await;
    let id = a["id"].as_str().unwrap();
    let a: Value = w
        .operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let sh_a = w.operator.get_json(app.at("/api/v1/orgs/sh-a")).await;
    let order = a["work_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["organization"] == sh_a["id"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = w
        .reviewer_a
        .post_json(
            app.at(&format!("/api/v1/work-orders/{order}/decision")),
            json!({ "outcome": "approve", "grants": [{ "dataset": w.entry_a, "calls_per_day": 5 }],
                    "criteria": { "fairness": "同等对待", "scenario_value": "规划研究",
                                  "combination_risk": "仅线路名称" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let o: Value = res.json().await.unwrap();
    let agreement_url = app.at(o["agreements"][0]["url"].as_str().unwrap());
    let ag = w.resident.get_json(agreement_url.clone()).await;
    assert_eq!(ag["state"], "awaiting_signatures");
    let text = ag["text"].as_str().unwrap();
    for part in [
        "上海市公交客流明细",
        "line_name",
        "每日调用不超过 5 次",
        "2027-01-01",
        "2027-12-31",
    ] {
        assert!(text.contains(part), "{part} in the agreement");
    }
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    assert_eq!(ag["sha256"], sha.as_str());
    let sign = |s: &Session, password: &str, sha: &str| {
        let (s, url, body) = (
            s.clone(),
            format!("{agreement_url}/sign"),
            json!({ "password": password, "sha256": sha }),
        );
        async move { s.post_json(url, body).await }
    };

    // The agreement downloads as a PDF: its text in the standard Chinese font, addressed
    // in UTF-16 (the agreement's name, as hexadecimal code units), with the text's SHA-256.
    let pdf = w
        .resident
        .client
        .get(format!(
            "{}/pdf",
            app.at(&format!("/agreements/{}", ag["id"].as_str().unwrap()))
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-1.4"));
    let utf16 = |s: &str| {
        s.encode_utf16()
            .map(|u| format!("{u:04X}"))
            .collect::<String>()
    };
    let body = String::from_utf8_lossy(&pdf);
    assert!(body.contains("/Encoding /UniGB-UTF16-H"));
    assert!(
        body.contains(&utf16("上海市公交客流明细")),
        "the entry's name"
    );
    assert!(body.contains(&utf16(&sha)), "the SHA-256 signed");
    assert!(body.trim_end().ends_with("%%EOF"));

    // The provider signs: a wrong password or another text is refused, a second time too.
    let res = sign(&w.reviewer_a, "not-my-password-1", &sha).await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [("password".to_owned(), "wrong_password".to_owned())]
    );
    let res = sign(&w.reviewer_a, PASSWORD, &"0".repeat(64)).await;
    assert_eq!(error_code(&res), "agreement_text_changed");
    let res = sign(&w.reviewer_a, PASSWORD, &sha).await;
    assert_eq!(res.status(), StatusCode::OK);
    let signed: Value = res.json().await.unwrap();
    assert_eq!(signed["agreement"]["state"], "awaiting_signatures");
    assert!(signed["credential"].is_null());
    let res = sign(&w.reviewer_a, PASSWORD, &sha).await;
    assert_eq!(error_code(&res), "already_signed");

    // The applicant signs last: active, with a credential shown this once.
    let res = sign(&w.resident, PASSWORD, &sha).await;
    assert_eq!(res.status(), StatusCode::OK);
    let signed: Value = res.json().await.unwrap();
    assert_eq!(signed["agreement"]["state"], "active");
    let token = signed["credential"]["token"].as_str().unwrap().to_owned();
    // Each signature's record in the audit chain commits to the text's SHA-256: its digest
    // is that of the canonical JSON (sorted keys) naming it, worked out here.
    let digests: Vec<String> = sqlx::query_scalar(
        "SELECT after_digest FROM audit_log WHERE action = 'agreement.sign' AND target_id = $1 \
         ORDER BY seq",
    )
    .bind(ag["id"].as_str().unwrap())
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    let expected = |party: &str, state: &str| {
        let canonical =
            format!(r#"{{"party":"{party}","sha256":"{sha}","state":"{state}","version":1}}"#);
        hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
    };
    assert_eq!(
        digests,
        [
            expected("provider", "awaiting_signatures"),
            expected("applicant", "active")
        ]
    );

    let records = |entry: &str, query: &str| {
        let url = app.at(&format!("/api/v1/datasets/{entry}/records?{query}"));
        let token = token.clone();
        async move { client().get(url).bearer_auth(token).send().await.unwrap() }
    };
    // Before the period of use begins: refused.
    let res = records(&w.entry_a, "").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "outside_agreement_period");

    set_date(app, "2027-01-04");
    let res = records(&w.entry_a, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["total"], 3);
    assert_eq!(
        body["records"][0],
        json!({ "line_name": "1路" }),
        "granted items only"
    );
    for query in [
        "fields=stop_name",
        "stop_name=外滩",
        "sort=stop_name",
        "q=外滩",
    ] {
        let res = records(&w.entry_a, query).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{query}");
        assert_eq!(error_code(&res), "field_not_granted", "{query}");
    }
    // Today's 5 calls are used up (refused calls count too): 429 until midnight.
    let res = records(&w.entry_a, "fields=line_name").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    set_date(app, "2027-01-05");
    assert_eq!(records(&w.entry_a, "").await.status(), StatusCode::OK);

    // Both sides see the calls per day under the agreement (A29.1): on 2027-01-04 one answered
    // with the granted item, five refused; the call before the period began, refused.
    let reviewer = app.login("reviewer-a@example.cn").await;
    let mut days = Value::Null;
    for _ in 0..100 {
        days = reviewer.get_json(format!("{agreement_url}/usage")).await["days"].clone();
        let total: i64 = days
            .as_array()
            .map(|d| {
                d.iter()
                    .map(|d| d["calls"].as_i64().unwrap() + d["refused"].as_i64().unwrap())
                    .sum()
            })
            .unwrap_or(0);
        if total >= 8 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let day = |date: &str| {
        days.as_array()
            .unwrap()
            .iter()
            .find(|d| d["day"] == date)
            .cloned()
            .unwrap_or_else(|| panic!("{date} in {days}"))
    };
    let jan4 = day("2027-01-04");
    assert_eq!(
        (jan4["calls"].as_i64(), jan4["refused"].as_i64()),
        (Some(1), Some(5)),
        "{jan4}"
    );
    assert_eq!(jan4["records"], 3);
    assert_eq!(jan4["items"], json!(["line_name"]));
    assert_eq!(day("2026-12-30")["refused"], 1);
    assert_eq!(day("2027-01-05")["calls"], 1);
    let resident = app.login("resident@example.cn").await;
    let mine = resident.get_json(format!("{agreement_url}/usage")).await;
    assert_eq!(mine["days"], days, "the applicant sees the same");

    // Downloads and SQL read the granted items only; another entry and the console, nothing.
    assert_eq!(error_code(&records(&w.entry_b, "").await), "not_granted");
    let res = client()
        .get(app.at(&format!("/datasets/{}/download?format=csv", w.entry_a)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.text().await.unwrap(),
        "\u{feff}line_name\n1路\n1路\n2路\n"
    );
    let res = client()
        .get(app.at(&format!("/datasets/{}/download?format=parquet", w.entry_a)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status(), error_code(&res)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed".to_owned()
        ),
        "a stored file holds every item"
    );
    assert!(res.text().await.unwrap().contains("CSV、JSON 或 NDJSON"));
    let res = client()
        .post(app.at("/api/v1/sql"))
        .bearer_auth(&token)
        .json(&json!({ "sql": format!("SELECT stop_name FROM \"{}\"", w.entry_a) }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "field_not_granted");
    let res = client()
        .get(app.at("/api/v1/applications"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The provider suspends delivery at once, resumes it, then revokes it.
    let control = |step: &str| {
        let (s, url, body) = (
            reviewer.clone(),
            format!("{agreement_url}/delivery"),
            json!({ "step": step, "reason": "核查使用情况" }),
        );
        async move { s.post_json(url, body).await }
    };
    assert_eq!(control("suspend").await.status(), StatusCode::OK);
    assert_eq!(
        error_code(&records(&w.entry_a, "").await),
        "agreement_not_active"
    );
    assert_eq!(control("resume").await.status(), StatusCode::OK);
    assert_eq!(records(&w.entry_a, "").await.status(), StatusCode::OK);
    assert_eq!(control("revoke").await.status(), StatusCode::OK);
    assert_eq!(error_code(&records(&w.entry_a, "").await), "token_revoked");
    assert_eq!(error_code(&control("resume").await), "invalid_transition");
}

#[tokio::test]
async fn each_party_is_told_of_each_step_in_the_inbox_and_by_mail() {
    let mut mailbox = crate::mailbox::Mailbox::start().await;
    let mut config = test_config();
    config.smtp = Some(app::mail::SmtpSettings {
        host: "127.0.0.1".into(),
        port: Some(mailbox.port),
        security: app::mail::SmtpSecurity::None,
        username: None,
        password: None,
        from: "开放平台 <noreply@kaifang.example>".into(),
    });
    let w = world_with("2026-11-02", config).await;
    let app = &w.app;
    let mut next_two = async || {
        let (a, b) = (mailbox.next().await, mailbox.next().await);
        let to = |m: &crate::mailbox::Mail, who: &str| m.to.iter().any(|t| t == who);
        if to(&a, "resident@example.cn") {
            (a, b)
        } else {
            (b, a)
        }
    };

    // Submitted: the applicant gets a confirmation of what they sent, the operator a task.
    let a = submitted(app, &w.resident, &[&w.entry_a]).await;
    let id = a["id"].as_str().unwrap();
    let (mine, operators) = next_two().await;
    assert!(
        mine.text.contains("上海市公交客流明细") && mine.text.contains("第 1 次提交"),
        "{}",
        mine.text
    );
    assert!(
        mine.text.contains(&format!("/applications/{id}")),
        "the link: {}",
        mine.text
    );
    assert_eq!(operators.to, ["operator@example.cn"]);
    assert!(operators.text.contains("上海市公交客流明细"));

    // Accepted on Monday 2026-11-02: the applicant hears the deadline, the provider's reviewer
    // who asked for what and by when (the 10th working day: Monday 2026-11-16).
    w.operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await;
    let (mine, provider) = next_two().await;
    assert!(mine.text.contains("2026-11-16"), "{}", mine.text);
    assert_eq!(provider.to, ["reviewer-a@example.cn"]);
    assert!(provider.text.contains("上海市公交客流明细") && provider.text.contains("2026-11-16"));

    // Refused: every reason reaches the applicant.
    let order = w
        .reviewer_a
        .get_json(app.at("/api/v1/orgs/sh-a/work-orders"))
        .await["work_orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.reviewer_a
        .post_json(
            app.at(&format!("/api/v1/work-orders/{order}/decision")),
            json!({ "outcome": "refuse", "reasons": ["用途超出允许场景"],
                    "criteria": { "fairness": "同等", "scenario_value": "有限", "combination_risk": "低" } }),
        )
        .await;
    let refused = mailbox.next().await;
    assert_eq!(refused.to, ["resident@example.cn"]);
    assert!(
        refused.text.contains("用途超出允许场景"),
        "{}",
        refused.text
    );

    // The same notices wait in the inbox, newest first, until it is opened.
    let inbox = w
        .resident
        .get_json(app.at("/api/v1/me/notifications"))
        .await;
    assert_eq!(inbox["unread"], 3);
    let kinds: Vec<&str> = inbox["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "work_order_refused",
            "application_accepted",
            "application_submitted"
        ]
    );
    let page = w
        .resident
        .client
        .get(app.at("/inbox"))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("用途超出允许场景"));
    let inbox = w
        .resident
        .get_json(app.at("/api/v1/me/notifications"))
        .await;
    assert_eq!(inbox["unread"], 0);
    // Nobody else reads them.
    let other = app.user_with("other@example.cn", None, None).await;
    let theirs = other.get_json(app.at("/api/v1/me/notifications")).await;
    assert_eq!(theirs["notifications"], json!([]));
}

#[tokio::test]
async fn a_providers_own_template_shapes_its_next_agreements_and_a_bad_one_is_refused() {
    let w = world("2026-11-02").await;
    let app = &w.app;
    let admin = app
        .user_with(
            "admin-a@example.cn",
            None,
            Some(("sh-a", OrgRole::ProviderAdmin)),
        )
        .await;
    let url = app.at("/api/v1/orgs/sh-a/agreement-template");
    let shipped = w.reviewer_a.get_json(url.clone()).await;
    assert_eq!(shipped["default"], true);
    assert!(shipped["text"].as_str().unwrap().contains("{{grants}}"));

    // Every required placeholder must be there, and no unknown one.
    for (text, code, detail) in [
        ("协议：{{grants}}", "missing_placeholder", "scenarios"),
        (
            "{{grants}}{{scenarios}}{{period_start}}{{period_end}}{{security_measures}}{{salary}}",
            "unknown_placeholder",
            "salary",
        ),
    ] {
        let res = admin
            .send_json(Method::PUT, url.clone(), &json!({ "text": text }))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = res.json().await.unwrap();
        let found = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == code && f["detail"] == detail);
        assert!(found, "{code} {detail}: {body}");
    }
    // A reviewer or another organization's admin may not write it; the operator may.
    let own = "## 交通委数据利用协议\n\n第一条 数据：{{grants}}\n\n第二条 场景：{{scenarios}}\n\n\
               第三条 期限：{{period_start}} 至 {{period_end}}\n\n第四条 安全：{{security_measures}}\n\n\
               第五条 每季度报送利用情况。";
    let res = w
        .reviewer_a
        .send_json(Method::PUT, url.clone(), &json!({ "text": own }))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = admin
        .send_json(Method::PUT, url.clone(), &json!({ "text": own }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(w.reviewer_a.get_json(url.clone()).await["default"], false);

    // The next approval's agreement is written from it.
    let a = submitted(app, &w.resident, &[&w.entry_a]).await;
    let id = a["id"].as_str().unwrap();
    let a: Value = w
        .operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order = a["work_orders"][0]["id"].as_str().unwrap();
    let o: Value = w
        .reviewer_a
        .post_json(
            app.at(&format!("/api/v1/work-orders/{order}/decision")),
            json!({ "outcome": "approve",
                    "criteria": { "fairness": "同等", "scenario_value": "高", "combination_risk": "低" } }),
        )
        .await
        .json()
        .await
        .unwrap();
    let ag = w
        .resident
        .get_json(app.at(o["agreements"][0]["url"].as_str().unwrap()))
        .await;
    let text = ag["text"].as_str().unwrap();
    assert!(text.starts_with("## 交通委数据利用协议"), "{text}");
    assert!(text.contains("第五条 每季度报送利用情况。"));
    assert!(text.contains("线路名称（line_name）"));
    assert!(text.contains("第三条 期限：2027-01-01 至 2027-12-31"));
}

#[tokio::test]
async fn overdue_work_orders_reach_the_operators_and_the_regulators_desk() {
    let w = world("2026-11-02").await;
    let app = &w.app;
    let accept = async |entries: &[&str]| {
        let a = submitted(app, &w.resident, entries).await;
        let id = a["id"].as_str().unwrap().to_owned();
        let a: Value = w
            .operator
            .post_json(
                app.at(&format!("/api/v1/applications/{id}/accept")),
                json!({}),
            )
            .await
            .json()
            .await
            .unwrap();
        a["work_orders"][0]["id"].as_str().unwrap().to_owned()
    };
    // Two orders of provider A, accepted on Monday 2026-11-02 (due Monday 2026-11-16); one
    // decided the same day, one left open.
    let decided = accept(&[&w.entry_a]).await;
    let open = accept(&[&w.entry_a]).await;
    w.reviewer_a
        .post_json(
            app.at(&format!("/api/v1/work-orders/{decided}/decision")),
            json!({ "outcome": "approve",
                    "criteria": { "fairness": "同等", "scenario_value": "高", "combination_risk": "低" } }),
        )
        .await;

    // Friday 2026-11-20: the open one is four working days late (11/17–11/20).
    set_date(app, "2026-11-20");
    let regulator = app
        .user_with("regulator@example.cn", Some(PlatformRole::Regulator), None)
        .await;
    let s = regulator.get_json(app.at("/api/v1/oversight")).await;
    assert_eq!(s["overdue"][0]["id"], open.as_str(), "{s}");
    assert_eq!(s["overdue"][0]["due_on"], "2026-11-16");
    assert_eq!(s["overdue"][0]["working_days_late"], 4);
    let a = &s["providers"][0];
    assert_eq!(
        (&a["decided"], &a["on_time"], &a["open"], &a["overdue"]),
        (&json!(1), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(a["median_working_days"], 0);
    let page = regulator
        .client
        .get(app.at("/console/oversight"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(&format!("/console/work-orders/{open}"))
    );
    // Nobody else supervises.
    let reviewer = app.login("reviewer-a@example.cn").await;
    let res = reviewer
        .client
        .get(app.at("/api/v1/oversight"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn deciders_are_reminded_once_when_two_working_days_are_left() {
    let w = world("2026-11-02").await;
    let app = &w.app;
    let a = submitted(app, &w.resident, &[&w.entry_a]).await;
    let id = a["id"].as_str().unwrap();
    w.operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await;
    let remind = async || app::access::remind(&app.use_cases()).await.unwrap();
    // Due Monday 2026-11-16: on the day of acceptance ten working days are left.
    assert_eq!(remind().await, 0);
    // Wednesday 11-11: three left (11/12, 11/13, 11/16); Thursday 11-12: two.
    set_date(app, "2026-11-11");
    assert_eq!(remind().await, 0);
    set_date(app, "2026-11-12");
    assert_eq!(remind().await, 1);
    assert_eq!(remind().await, 0, "once");
    let reviewer = app.login("reviewer-a@example.cn").await;
    let inbox = reviewer.get_json(app.at("/api/v1/me/notifications")).await;
    let near = inbox["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "deadline_near")
        .cloned()
        .expect("a reminder");
    assert!(
        near["text"].as_str().unwrap().contains("2026-11-16"),
        "{near}"
    );
    assert!(near["text"].as_str().unwrap().contains('2'), "{near}");
}

/// `w.resident` applies for entry A, its provider approves with `grants`, both sign: the
/// credential and the agreement. The period of use starts on 2027-01-01.
/// The resident applies for entry A, the operator accepts: the work order's id.
pub async fn accepted_order(w: &World) -> String {
    let app = &w.app;
    let a = submitted(app, &w.resident, &[&w.entry_a]).await;
    let id = a["id"].as_str().unwrap();
    let a: Value = w
        .operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    a["work_orders"][0]["id"].as_str().unwrap().to_owned()
}

pub async fn credential_for(w: &World, grants: Value) -> (String, Value) {
    let app = &w.app;
    let order = accepted_order(w).await;
    let res = w
        .reviewer_a
        .post_json(
            app.at(&format!("/api/v1/work-orders/{order}/decision")),
            json!({ "outcome": "approve", "grants": grants,
                    "criteria": { "fairness": "同等对待", "scenario_value": "规划研究",
                                  "combination_risk": "仅部分站点" } }),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let o: Value = res.json().await.unwrap();
    let url = app.at(o["agreements"][0]["url"].as_str().unwrap());
    let agreement = w.resident.get_json(url.clone()).await;
    let sha = agreement["sha256"].as_str().unwrap().to_owned();
    let mut token = String::new();
    for s in [&w.reviewer_a, &w.resident] {
        let res = s
            .post_json(
                format!("{url}/sign"),
                json!({ "password": PASSWORD, "sha256": sha }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let signed: Value = res.json().await.unwrap();
        token = signed["credential"]["token"]
            .as_str()
            .unwrap_or("")
            .to_owned();
    }
    (token, agreement)
}

#[tokio::test]
async fn rows_outside_a_grants_filter_are_never_delivered_by_records_downloads_or_sql() {
    let w = world("2026-12-30").await;
    let app = &w.app;
    publish_stops(app, "sh-a", &w.entry_a).await;

    // A filter must name a data item of the entry and give its values sensibly.
    let order = accepted_order(&w).await;
    let res = w
        .reviewer_a
        .post_json(
            app.at(&format!("/api/v1/work-orders/{order}/decision")),
            json!({ "outcome": "approve",
                    "criteria": { "fairness": "同等", "scenario_value": "研究",
                                  "combination_risk": "低" },
                    "grants": [{ "dataset": w.entry_a, "rows": [
                        { "field": "passenger_id", "op": "eq", "values": ["1"] },
                        { "field": "line_name", "op": "eq", "values": ["1路", "2路"] },
                        { "field": "line_name", "op": "in", "values": [] },
                        { "field": "stop_name", "op": "in", "values": ["外滩\u{0}"] },
                    ] }] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [
            ("grants[0].rows[0].field", "unknown_field"),
            ("grants[0].rows[1].values", "row_filter_values"),
            ("grants[0].rows[2].values", "row_filter_values"),
            ("grants[0].rows[3].values", "row_filter_value"),
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let still = w
        .reviewer_a
        .get_json(app.at(&format!("/api/v1/work-orders/{order}")))
        .await;
    assert_eq!(still["state"], "in_review", "nothing changed");

    // Granted: line names, of the stops 人民广场 and 静安寺 only — the filter may name an item
    // that is not itself granted.
    let (token, agreement) = credential_for(
        &w,
        json!([{ "dataset": w.entry_a, "rows": [
            { "field": "stop_name", "op": "in", "values": ["人民广场", "静安寺"] }
        ] }]),
    )
    .await;
    set_date(app, "2027-01-04");
    let text = agreement["text"].as_str().unwrap();
    assert!(
        text.contains("仅限 stop_name 属于 人民广场、静安寺 的记录"),
        "the agreement states the rows: {text}"
    );
    let get = |path: String| {
        let (url, token) = (app.at(&path), token.clone());
        async move { client().get(url).bearer_auth(token).send().await.unwrap() }
    };
    let res = get(format!("/api/v1/datasets/{}/records", w.entry_a)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["total"], 2);
    assert_eq!(
        body["records"],
        json!([{ "line_name": "1路" }, { "line_name": "2路" }])
    );
    // The caller's own filters narrow further, never wider.
    let res = get(format!(
        "/api/v1/datasets/{}/records?line_name=1路&format=ndjson",
        w.entry_a
    ))
    .await;
    assert_eq!(res.text().await.unwrap(), "{\"line_name\":\"1路\"}\n");
    // The filtered column cannot be probed.
    let res = get(format!(
        "/api/v1/datasets/{}/records?stop_name=外滩",
        w.entry_a
    ))
    .await;
    assert_eq!(error_code(&res), "field_not_granted");

    let res = get(format!("/datasets/{}/download?format=json", w.entry_a)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let rows: Value = res.json().await.unwrap();
    assert_eq!(
        rows,
        json!([{ "line_name": "1路" }, { "line_name": "2路" }])
    );

    let sql = |text: String| {
        let (url, token) = (app.at("/api/v1/sql"), token.clone());
        async move {
            client()
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "sql": text }))
                .send()
                .await
                .unwrap()
        }
    };
    let res = sql(format!(
        "SELECT line_name, count(*) AS n FROM \"{}\" GROUP BY line_name ORDER BY line_name",
        w.entry_a
    ))
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["rows"], json!([["1路", 1], ["2路", 1]]));
    for hidden in [
        format!(
            "SELECT count(*) FROM \"{}\" WHERE stop_name = '外滩'",
            w.entry_a
        ),
        format!("SELECT t.stop_name FROM \"{}\" t", w.entry_a),
    ] {
        let res = sql(hidden.clone()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{hidden}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "field_not_granted", "{hidden}");
        assert_eq!(
            body["error"]["fields"][0]["detail"], "stop_name",
            "{hidden}"
        );
    }
    // `SELECT *` sees the view, not the file.
    let res = sql(format!("SELECT * FROM \"{}\"", w.entry_a)).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["columns"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["row_count"], 2);
}

#[tokio::test]
async fn a_work_order_sent_to_experts_returns_to_its_provider_with_their_opinions() {
    let w = world("2026-10-12").await;
    let app = &w.app;
    let expert = |email: &'static str| app.user_with(email, Some(PlatformRole::Expert), None);
    let e1 = expert("expert-1@example.cn").await;
    let e2 = expert("expert-2@example.cn").await;
    let a = submitted(app, &w.resident, &[&w.entry_a]).await;
    let id = a["id"].as_str().unwrap();
    let a: Value = w
        .operator
        .post_json(
            app.at(&format!("/api/v1/applications/{id}/accept")),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let order = a["work_orders"][0]["id"].as_str().unwrap().to_owned();
    // 10 working days after Monday 2026-10-12: Monday 2026-10-26.
    assert_eq!(a["work_orders"][0]["due_on"], "2026-10-26");
    let refer_url = app.at(&format!("/api/v1/work-orders/{order}/experts"));
    let refer = |s: &Session, body: Value| {
        let (s, url) = (s.clone(), refer_url.clone());
        async move { s.post_json(url, body).await }
    };

    // Every problem at once, and nothing changes.
    let res = refer(
        &w.reviewer_a,
        json!({ "experts": [e1.user_id, e1.user_id, w.reviewer_b.user_id, w.resident.user_id],
                "due_on": "2026-10-27", "question": " " }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [
            ("question", "required"),
            ("due_on", "after_deadline"),
            ("experts[1]", "duplicate"),
            ("experts[2]", "not_an_expert"),
            ("experts[3]", "not_an_expert"),
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let res = refer(
        &w.reviewer_a,
        json!({ "experts": [], "due_on": "2026-10-09", "question": "融合风险如何" }),
    )
    .await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [("due_on", "date_past"), ("experts", "required")]
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    // Only the provider's deciders send it: the applicant is refused, another provider does
    // not know it exists.
    let body = json!({ "experts": [e1.user_id, e2.user_id], "due_on": "2026-10-20",
                       "question": "一次性申请全年客流数据，请评估多源融合风险。" });
    assert_eq!(
        refer(&w.resident, body.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        refer(&w.reviewer_b, body.clone()).await.status(),
        StatusCode::NOT_FOUND
    );
    let still = w
        .reviewer_a
        .get_json(app.at(&format!("/api/v1/work-orders/{order}")))
        .await;
    assert_eq!(still["state"], "in_review");

    let res = refer(&w.reviewer_a, body.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["state"], "expert_review");
    assert_eq!(sent["assignments"].as_array().unwrap().len(), 2);
    assert_eq!(
        error_code(&refer(&w.reviewer_a, body).await),
        "invalid_transition",
        "sent once"
    );

    // Each expert sees their own assignment and the request it is about; nobody else's.
    let mine = e1.get_json(app.at("/api/v1/me/assignments")).await;
    let list = mine["assignments"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let first = list[0]["id"].as_str().unwrap().to_owned();
    let second = e2.get_json(app.at("/api/v1/me/assignments")).await["assignments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let detail = e1
        .get_json(app.at(&format!("/api/v1/assignments/{first}")))
        .await;
    assert_eq!(detail["due_on"], "2026-10-20");
    assert_eq!(
        detail["request"]["entries"][0]["name"],
        "上海市公交客流明细"
    );
    assert_eq!(detail["request"]["purpose"], form(&[])["purpose"]);
    for (s, status) in [
        (&e2, StatusCode::NOT_FOUND),
        (&w.resident, StatusCode::NOT_FOUND),
        (&w.reviewer_b, StatusCode::NOT_FOUND),
    ] {
        let res = s
            .client
            .get(app.at(&format!("/api/v1/assignments/{first}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
    }
    let file = |s: &Session, assignment: &str, body: Value| {
        let (s, url) = (
            s.clone(),
            app.at(&format!("/api/v1/assignments/{assignment}/opinion")),
        );
        async move { s.post_json(url, body).await }
    };
    let res = file(
        &e1,
        &first,
        json!({ "recommendation": "maybe", "opinion": "" }),
    )
    .await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [("recommendation", "invalid_value"), ("opinion", "required")]
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    // The provider reads the assignments but files no opinion; one expert not another's.
    let good =
        json!({ "recommendation": "narrow", "opinion": "建议仅开放线路名称，期限缩短至半年。" });
    assert_eq!(
        w.reviewer_a
            .client
            .get(app.at(&format!("/api/v1/assignments/{first}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        file(&w.reviewer_a, &first, good.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        file(&e2, &first, good.clone()).await.status(),
        StatusCode::NOT_FOUND
    );

    let res = file(&e1, &first, good.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let filed: Value = res.json().await.unwrap();
    assert_eq!(filed["opinion"]["recommendation"], "narrow");
    assert_eq!(
        filed["work_order_state"], "expert_review",
        "one awaited still"
    );
    assert_eq!(error_code(&file(&e1, &first, good).await), "opinion_filed");
    let res = file(
        &e2,
        &second,
        json!({ "recommendation": "approve", "opinion": "场景明确，风险可控。" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let back: Value = res.json().await.unwrap();
    assert_eq!(
        back["work_order_state"], "in_review",
        "the last opinion returns it"
    );

    // The provider reads the opinions on the work order's page and decides.
    let page = w
        .reviewer_a
        .client
        .get(app.at(&format!("/console/work-orders/{order}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("建议仅开放线路名称，期限缩短至半年。"),
        "{page}"
    );
    assert!(page.contains("场景明确，风险可控。"));
    // The applicant is told the order went to experts, but does not read their opinions.
    let kinds: Vec<String> = w
        .resident
        .get_json(app.at("/api/v1/me/notifications"))
        .await["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"sent_to_experts".to_owned()), "{kinds:?}");
    let theirs = w
        .resident
        .client
        .get(app.at(&format!("/applications/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!theirs.contains("期限缩短至半年"));
    let told = e1.get_json(app.at("/api/v1/me/notifications")).await;
    assert_eq!(told["notifications"][0]["kind"], "expert_assigned");
    let reviewer_told = w
        .reviewer_a
        .get_json(app.at("/api/v1/me/notifications"))
        .await;
    let opinions = reviewer_told["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "opinion_filed")
        .count();
    assert_eq!(opinions, 2);
    let trail: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE target_id IN ($1, $2, $3) ORDER BY seq",
    )
    .bind(&order)
    .bind(&first)
    .bind(&second)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        trail,
        [
            "work_order.create",
            "work_order.refer",
            "assignment.opinion",
            "assignment.opinion",
            "work_order.back_from_experts"
        ]
    );
    let res = w
        .reviewer_a
        .post_json(
            app.at(&format!("/api/v1/work-orders/{order}/decision")),
            json!({ "outcome": "approve", "grants": [{ "dataset": w.entry_a, "calls_per_day": 100 }],
                    "criteria": { "fairness": "同等对待", "scenario_value": "规划研究",
                                  "combination_risk": "专家评审认为可控" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn unusual_use_is_raised_to_the_provider_and_the_operators_once_a_day_each() {
    let w = world("2026-12-30").await;
    let app = &w.app;
    publish_stops(app, "sh-a", &w.entry_a).await;
    let (token, _) = credential_for(&w, json!([{ "dataset": w.entry_a }])).await;
    let before_the_period = client()
        .get(app.at(&format!("/api/v1/datasets/{}/records", w.entry_a)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&before_the_period), "outside_agreement_period");
    set_date(app, "2027-01-04");
    let get = |query: String| {
        let (url, token) = (
            app.at(&format!("/api/v1/datasets/{}/records?{query}", w.entry_a)),
            token.clone(),
        );
        async move { client().get(url).bearer_auth(token).send().await.unwrap() }
    };
    let alerts = |email: &'static str| async move {
        let s = app.login(email).await;
        let mut kinds: Vec<String> =
            s.get_json(app.at("/api/v1/me/notifications")).await["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["kind"].as_str().unwrap().to_owned())
                .filter(|k| k.starts_with("usage_"))
                .collect();
        kinds.sort();
        kinds
    };
    // A call before the period of use was refused, and raised.
    assert_eq!(
        alerts("reviewer-a@example.cn").await,
        ["usage_outside_period"]
    );
    // One page of everything is what a grant is for: no alert.
    assert_eq!(get("limit=100".into()).await.status(), StatusCode::OK);
    assert_eq!(
        alerts("reviewer-a@example.cn").await,
        ["usage_outside_period"]
    );

    // The table paged through a row at a time: scraping, once.
    let mut next = Some("limit=1".to_owned());
    let mut pages = 0;
    while let Some(q) = next {
        let body: Value = get(q).await.json().await.unwrap();
        pages += 1;
        next = body["next_cursor"]
            .as_str()
            .map(|c| format!("limit=1&cursor={c}"));
    }
    assert_eq!(pages, 3);
    assert_eq!(
        alerts("reviewer-a@example.cn").await,
        ["usage_outside_period", "usage_scraping"]
    );

    // 1,000 calls a day declared: twenty times that rate is 14 calls a minute. The app's
    // clock stands still, so every call here falls in one minute.
    for _ in 0..12 {
        assert_eq!(get("limit=1".into()).await.status(), StatusCode::OK);
    }
    // Raised once a day: more of the same is not raised again.
    for _ in 0..3 {
        get("limit=1".into()).await;
    }
    let expected = ["usage_burst", "usage_outside_period", "usage_scraping"];
    assert_eq!(alerts("reviewer-a@example.cn").await, expected);
    assert_eq!(alerts("operator@example.cn").await, expected);
    assert!(
        alerts("resident@example.cn").await.is_empty(),
        "the applicant is not alerted about themselves"
    );
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT actor_role FROM audit_log WHERE action = 'agreement.anomaly' ORDER BY seq",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        recorded,
        ["system", "system", "system"],
        "in the audit trail"
    );
}

#[tokio::test]
async fn a_delivery_off_the_platform_is_filed_with_its_digest_and_the_regulator_sees_it() {
    let w = world("2026-12-30").await;
    let app = &w.app;
    let (_, agreement) = credential_for(&w, json!([{ "dataset": w.entry_a }])).await;
    let id = agreement["id"].as_str().unwrap().to_owned();
    let regulator = app
        .user_with("regulator@example.cn", Some(PlatformRole::Regulator), None)
        .await;
    let url = app.at(&format!("/api/v1/agreements/{id}/offline-deliveries"));
    let good = json!({ "reason": "接收方内网无法访问平台", "recipient": "张三（某研究院）",
                       "sha256": "AB".repeat(32) });
    // The applicant does not file deliveries to themselves.
    assert_eq!(
        w.resident
            .post_json(url.clone(), good.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = w
        .reviewer_a
        .post_json(
            url.clone(),
            json!({ "reason": "", "recipient": "张三\u{7}", "sha256": "not-a-digest" }),
        )
        .await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [
            ("reason", "required"),
            ("recipient", "control_character"),
            ("sha256", "invalid_sha256"),
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let res = w.reviewer_a.post_json(url.clone(), good).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let filed: Value = res.json().await.unwrap();
    assert_eq!(filed["sha256"], "ab".repeat(32));

    // From the agreement's page, the file handed over gives its own digest.
    let bytes = b"line_name\n1\xe8\xb7\xaf\n".to_vec();
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(&bytes));
    let form = reqwest::multipart::Form::new()
        .text("_csrf", w.reviewer_a.csrf.clone())
        .text("reason", "数据量大，以加密硬盘交付")
        .text("recipient", "李四（某大学）")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("stops.csv"),
        );
    let res = w
        .reviewer_a
        .client
        .post(app.at(&format!("/agreements/{id}/offline-deliveries")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "back to the agreement");

    let desk = regulator.get_json(app.at("/api/v1/oversight")).await;
    let filings = desk["offline"].as_array().unwrap();
    assert_eq!(filings.len(), 2, "{desk}");
    assert_eq!(filings[0]["sha256"], digest.as_str());
    assert_eq!(filings[0]["file_name"], "stops.csv");
    assert_eq!(filings[0]["recipient"], "李四（某大学）");
    let page = regulator
        .client
        .get(app.at("/console/oversight"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&digest), "the regulator's desk lists it");
    let told = regulator.get_json(app.at("/api/v1/me/notifications")).await;
    assert_eq!(told["notifications"][0]["kind"], "offline_delivery");
    // Both sides see the filings on the agreement.
    let theirs = w
        .resident
        .client
        .get(app.at(&format!("/agreements/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(theirs.contains("李四（某大学）"));

    // Once delivery is revoked, nothing more is filed under it.
    let res = w
        .reviewer_a
        .post_json(
            app.at(&format!("/api/v1/agreements/{id}/delivery")),
            json!({ "step": "revoke", "reason": "协议终止" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again = json!({ "reason": "补交", "recipient": "王五", "sha256": "c".repeat(64) });
    assert_eq!(
        error_code(&w.reviewer_a.post_json(url, again).await),
        "invalid_transition"
    );
}

#[tokio::test]
async fn a_change_is_a_new_version_signed_again_that_replaces_the_old_one_and_its_credential() {
    let w = world("2026-12-30").await;
    let app = &w.app;
    publish_stops(app, "sh-a", &w.entry_a).await;
    let (old_token, v1) =
        credential_for(&w, json!([{ "dataset": w.entry_a, "calls_per_day": 100 }])).await;
    set_date(app, "2027-01-04");
    let reviewer = app.login("reviewer-a@example.cn").await;
    let resident = app.login("resident@example.cn").await;
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    let revise_url = app.at(&format!("/api/v1/agreements/{v1_id}/revise"));
    let records = |token: String| {
        let url = app.at(&format!("/api/v1/datasets/{}/records", w.entry_a));
        async move { client().get(url).bearer_auth(token).send().await.unwrap() }
    };
    assert_eq!(records(old_token.clone()).await.status(), StatusCode::OK);

    // Never wider than the application; always with a reason; only the provider.
    let res = reviewer
        .post_json(
            revise_url.clone(),
            json!({ "reason": "", "grants": [{ "dataset": w.entry_a, "calls_per_day": 5000 }] }),
        )
        .await;
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [
            ("reason", "required"),
            ("grants[0].calls_per_day", "quota_higher")
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let change = json!({ "reason": "申请人调整调用频率",
                         "grants": [{ "dataset": w.entry_a, "calls_per_day": 50 }] });
    assert_eq!(
        resident
            .post_json(revise_url.clone(), change.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = reviewer.post_json(revise_url.clone(), change.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let v2: Value = res.json().await.unwrap();
    assert_eq!(
        (v2["version"].as_i64(), v2["state"].as_str()),
        (Some(2), Some("awaiting_signatures"))
    );
    assert!(
        v2["text"]
            .as_str()
            .unwrap()
            .contains("每日调用不超过 50 次")
    );
    assert_eq!(
        error_code(&reviewer.post_json(revise_url, change).await),
        "invalid_transition",
        "one change at a time"
    );
    // Until the new version is signed, the old one delivers.
    assert_eq!(records(old_token.clone()).await.status(), StatusCode::OK);

    let v2_url = app.at(&format!(
        "/api/v1/agreements/{}",
        v2["id"].as_str().unwrap()
    ));
    let sha = v2["sha256"].as_str().unwrap();
    let mut new_token = String::new();
    for s in [&reviewer, &resident] {
        let res = s
            .post_json(
                format!("{v2_url}/sign"),
                json!({ "password": PASSWORD, "sha256": sha }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let signed: Value = res.json().await.unwrap();
        new_token = signed["credential"]["token"]
            .as_str()
            .unwrap_or("")
            .to_owned();
    }
    let old = resident
        .get_json(app.at(&format!("/api/v1/agreements/{v1_id}")))
        .await;
    assert_eq!(old["state"], "superseded");
    assert_eq!(error_code(&records(old_token).await), "token_revoked");
    assert_eq!(records(new_token).await.status(), StatusCode::OK);
    let trail: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action IN ('agreement.revise', 'agreement.supersede') \
         ORDER BY seq",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(trail, ["agreement.revise", "agreement.supersede"]);
}
