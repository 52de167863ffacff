//! The provider console's entry form over plain HTTP: what a browser without JavaScript sends.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::openlist::{create, good_meta, provider_with_catalogue, publish};
use crate::support::*;

#[tokio::test]
async fn the_entry_form_shows_every_error_at_its_field_keeps_input_and_saves_nothing() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let form = editor
        .client
        .get(app.at("/console/orgs/sh-transport/datasets/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);

    let url = app.at("/console/orgs/sh-transport/datasets");
    let bad = [
        ("name", "上海市公共自行车租赁点位"),
        ("open_type", "sometimes"),
        ("time_range.start", "2024-13-45"),
        ("data_items[0].name", "site_name"),
        ("data_items[0].field_type", "colour"),
        ("domain", "weather"),
    ];
    let before = app.count("datasets").await;
    let audit = app.audit_count().await;
    let res = editor.post_form(url.clone(), &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    for id in [
        "open_type-error",
        "update_frequency-error",
        "time_range-start-error",
        "data_items-0--field_type-error",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(
        html.contains("value=\"上海市公共自行车租赁点位\"") && html.contains("value=\"site_name\"")
    );
    assert_eq!(app.count("datasets").await, before);
    assert_eq!(app.audit_count().await, audit);

    // Readable, but refused by the open-list checks: an unknown domain, shown at its field.
    let unknown_domain = [
        ("name", "上海市公共自行车租赁点位"),
        ("open_type", "unconditional"),
        ("update_frequency", "monthly"),
        ("domain", "weather"),
    ];
    let res = editor.post_form(url.clone(), &unknown_domain).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"domain-error\""));
    assert_eq!(app.count("datasets").await, before);

    // A good draft is saved and the form of the stored entry comes back.
    let good = [
        ("name", "上海市公共自行车租赁点位"),
        ("open_type", "unconditional"),
        ("update_frequency", "monthly"),
        ("domain", "transport"),
        ("data_items[0].name", "site_name"),
        ("data_items[0].label", "点位名称"),
        ("data_items[0].field_type", "text"),
        ("data_items[0].catalogue_item", items[0].as_str()),
        ("data_items[1].field_type", "text"),
    ];
    let res = editor.post_form(url.clone(), &good).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let edit = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(app.count("datasets").await, before + 1);
    let page = editor.client.get(app.at(&edit)).send().await.unwrap();
    let html = page.text().await.unwrap();
    // Saved, and what still stops publishing is said at the fields.
    assert!(html.contains("已保存") && html.contains("id=\"data_items-0--description-error\""));

    // Without the CSRF token nothing happens.
    let res = editor.client.post(url).form(&good).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("datasets").await, before + 1);

    // Someone outside the organization cannot use its console.
    let other = app
        .user_with("op@example.cn", Some(PlatformRole::Regulator), None)
        .await;
    let res = other
        .client
        .get(app.at("/console/orgs/sh-transport/datasets/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_catalogue_imports_from_pasted_csv_all_or_nothing() {
    let app = spawn_app().await;
    let (editor, _) = provider_with_catalogue(&app, "sh-transport").await;
    let url = app.at("/console/orgs/sh-transport/catalogue");
    let page = editor.client.get(url.clone()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("BUS-LINE"));

    // A row without a name and a duplicate code: nothing is imported, the text stays.
    let bad = "code,name,description,source_system\nTAXI,出租车,,\nTAXI,出租车2,,\nSHIP,,,\n";
    let audit = app.audit_count().await;
    let res = editor.post_form(url.clone(), &[("csv", bad)]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("items[1].code") && html.contains("items[2].name"));
    assert!(html.contains("TAXI,出租车2"));
    assert_eq!(app.audit_count().await, audit);

    let good = "\u{feff}code,name,description,source_system\nTAXI,出租车,巡游出租车,营运系统\nBUS-LINE,公交线路（更名）,,\n";
    let res = editor.post_form(url.clone(), &[("csv", good)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let next = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(next.ends_with("added=1&updated=1"), "{next}");
    let html = editor
        .client
        .get(app.at(&next))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("巡游出租车") && html.contains("公交线路（更名）"));
}

/// The fields of the entry form for `good_meta`, downgraded to conditional.
fn conditional_form(items: &[String]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("name", "上海市公交线路站点"),
        ("summary", "本市公交线路及站点的基础信息，按月更新。"),
        ("domain", "transport"),
        ("keywords", "公交，线路"),
        ("formats", "csv"),
        ("formats", "json"),
        ("open_type", "conditional"),
        ("update_frequency", "monthly"),
        ("spatial.areas", "shanghai"),
        ("contact.name", "数据管理处"),
        ("contact.phone", "021-00000000"),
        ("license", "本平台数据使用协议"),
        ("conditions[0].kind", "scenario"),
        ("conditions[0].text", "用于出行服务。"),
        ("materials[0].name", "应用场景说明"),
        ("data_items[0].name", "line_name"),
        ("data_items[0].label", "线路名称"),
        ("data_items[0].field_type", "text"),
        ("data_items[0].description", "公交线路的对外名称。"),
        ("data_items[1].name", "stop_name"),
        ("data_items[1].label", "站点名称"),
        ("data_items[1].field_type", "text"),
        (
            "data_items[1].description",
            "站点的对外名称，坐标系为 WGS84。",
        ),
        ("ticket_reason", "涉及实时位置，改为有条件开放。"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (dimension, level) in [
        ("security_level", "general"),
        ("personal_information", "none"),
        ("trade_secret", "none"),
        ("legal_restriction", "none"),
        ("processing_demand", "ordinary"),
        ("access_pattern", "continuous"),
    ] {
        fields.push((format!("grading.{dimension}"), level.to_owned()));
    }
    fields.push(("data_items[0].catalogue_item".into(), items[0].clone()));
    fields.push(("data_items[1].catalogue_item".into(), items[1].clone()));
    fields
}

fn multipart(csrf: &str, fields: &[(String, String)], file: Option<(&str, &str)>) -> Form {
    let mut form = Form::new().text("_csrf", csrf.to_owned());
    for (k, v) in fields {
        form = form.text(k.clone(), v.clone());
    }
    match file {
        Some((field, name)) => {
            let part = Part::bytes(b"%PDF-1.4 explanation".to_vec())
                .file_name(name.to_owned())
                .mime_str("application/pdf")
                .unwrap();
            form.part(field.to_owned(), part)
        }
        // What a browser sends for a file field left empty.
        None => form.part("document", Part::bytes(Vec::new()).file_name("")),
    }
}

#[tokio::test]
async fn downgrades_and_removals_from_the_form_need_an_uploaded_document() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let id = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let tickets = app.count("tickets").await;
    let fields = conditional_form(&items);
    let send = |path: String, form: Form| {
        let req = editor.client.post(app.at(&path)).multipart(form);
        async move { req.send().await.unwrap() }
    };

    // A downgrade without a document: refused at the file field, nothing submitted.
    let res = send(
        format!("/console/datasets/{id}"),
        multipart(&editor.csrf, &fields, None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"document-error\""));
    // A removal without one: the same, at the removal form's file field.
    let reason = vec![("remove_reason".to_owned(), "数据源系统下线。".to_owned())];
    let res = send(
        format!("/console/datasets/{id}/remove"),
        multipart(&editor.csrf, &reason, None),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"remove_document-error\"") && html.contains("数据源系统下线。"));
    assert_eq!(app.count("tickets").await, tickets);

    // With the document the change is submitted as a ticket, with the file attached.
    let form = multipart(&editor.csrf, &fields, Some(("document", "说明.pdf")));
    let res = send(format!("/console/datasets/{id}"), form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let ticket = res.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let shown: serde_json::Value = op
        .client
        .get(app.at(&format!("/api/v1/tickets/{ticket}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["attachments"][0]["name"], "说明.pdf");
    assert_eq!(app.count("tickets").await, tickets + 1);

    // Without the CSRF token, nothing.
    let form = Form::new().text("remove_reason", "x");
    let res = send(format!("/console/datasets/{id}/remove"), form).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_administrator_adds_members_from_the_page_and_others_cannot() {
    let app = spawn_app().await;
    let (editor, _) = provider_with_catalogue(&app, "sh-transport").await;
    let admin = app
        .user_with(
            "admin@sh-transport.cn",
            None,
            Some(("sh-transport", domain::roles::OrgRole::ProviderAdmin)),
        )
        .await;
    app.register("new@example.cn").await;
    let url = app.at("/console/orgs/sh-transport/members");

    let html = admin
        .client
        .get(url.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("admin@sh-transport.cn") && html.contains("editor@sh-transport.cn"),
        "{}",
        &html[html.find("<main").unwrap_or(0)..]
    );

    // Both problems at once, what was typed kept, nothing changed.
    let audit = app.audit_count().await;
    let res = admin
        .post_form(
            url.clone(),
            &[("email", "nobody@example.cn"), ("role", "owner")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"email-error\"") && html.contains("id=\"role-error\""));
    assert!(html.contains("value=\"nobody@example.cn\""));
    assert_eq!(app.audit_count().await, audit);

    let res = admin
        .post_form(
            url.clone(),
            &[("email", "New@Example.cn"), ("role", "reviewer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = admin
        .client
        .get(url.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("new@example.cn") && html.contains("审核员"));

    // An editor sees the members but cannot change them.
    let res = editor
        .post_form(
            url,
            &[("email", "new@example.cn"), ("role", "provider_admin")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_dashboard_counts_the_entries_by_open_type_and_domain_in_lists_and_charts() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let dashboard = "/console/orgs/sh-transport";
    // Nothing to count yet: no empty charts.
    assert!(
        !app.page(&editor.client, dashboard)
            .await
            .1
            .contains("id=\"by-type\"")
    );
    for name in ["上海市公交线路站点", "上海市公共停车场泊位"] {
        let res = create(&app, &editor, "sh-transport", &good_meta(name, &items)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let (_, html) = app.page(&editor.client, dashboard).await;
    let section = |id: &str| {
        let start = html.find(&format!("id=\"{id}\"")).unwrap();
        html[start..start + html[start..].find("</section>").unwrap()].to_owned()
    };
    let types = section("by-type");
    assert!(
        types.contains("<svg") && types.contains("无条件开放 <span class=\"count\">2</span>"),
        "{types}"
    );
    let domains = section("by-domain");
    assert!(
        domains.contains("<svg") && domains.contains("交通 <span class=\"count\">2</span>"),
        "{domains}"
    );
}

#[tokio::test]
async fn unopened_catalogue_items_are_prepared_into_a_de_identified_draft() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let res = create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市公交线路站点", &items),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // A third item that no entry uses: unopened data.
    let res = editor
        .client
        .post(app.at("/api/v1/orgs/sh-transport/catalogue"))
        .header("x-csrf-token", &editor.csrf)
        .json(&serde_json::json!([{ "code": "BUS-GPS_POINT", "name": "车辆定位点", "description": "车载终端上报的位置", "source_system": "公交调度系统" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, list) = app
        .page(&editor.client, "/api/v1/orgs/sh-transport/catalogue")
        .await;
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let unopened = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "BUS-GPS_POINT")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The catalogue page tells opened from unopened items; only unopened ones can be picked.
    let (_, html) = app
        .page(&editor.client, "/console/orgs/sh-transport/catalogue")
        .await;
    let row = |code: &str| {
        html.split("<tr>")
            .find(|r| r.contains(code))
            .unwrap()
            .to_owned()
    };
    assert!(row("BUS-LINE").contains("用于 1 个条目") && !row("BUS-LINE").contains("checkbox"));
    assert!(row("BUS-GPS_POINT").contains("尚未开放"));
    assert!(row("BUS-GPS_POINT").contains(&format!("name=\"items\" value=\"{unopened}\"")));

    // Preparing: one data item per unopened item, linked, and the source de-identified data.
    // An item already opened and an unknown id are left out.
    let before = app.count("datasets").await;
    let path = format!(
        "/console/orgs/sh-transport/datasets/new?items={unopened}&items={}&items=nonsense",
        items[0]
    );
    let (status, form) = app.page(&editor.client, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("已根据 1 个尚未开放的目录项准备"), "{form}");
    assert!(form.contains("value=\"gps_point\"") && form.contains("value=\"车辆定位点\""));
    assert!(
        form.contains(&format!("<option value=\"{unopened}\" selected")),
        "{form}"
    );
    assert!(!form.contains(&format!("<option value=\"{}\" selected", items[0])));
    assert!(
        form.contains("value=\"deidentified\" checked")
            || form.contains("value=\"deidentified\" selected")
    );
    // Nothing is stored until the provider saves the form.
    assert_eq!(app.count("datasets").await, before);
}

#[tokio::test]
async fn the_dashboard_lists_entries_late_for_their_update_frequency_until_updated() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    // A monthly entry, published now.
    let id = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let dashboard = "/console/orgs/sh-transport";
    let late_row = |html: &str| {
        html.split("<tr>")
            .find(|r| r.contains(&format!("/console/datasets/{id}/data-update")))
            .map(str::to_owned)
    };
    let (_, html) = app.page(&editor.client, dashboard).await;
    assert!(late_row(&html).is_none() && html.contains("都按声明的更新频率更新"));

    // Forty days later (signed in again: sessions do not last that long) it is nine days late
    // for its 31-day rhythm.
    app.clock.advance_seconds(40 * 86_400);
    let editor = app.login("editor@sh-transport.cn").await;
    let (_, html) = app.page(&editor.client, dashboard).await;
    let row = late_row(&html).expect("listed as late");
    assert!(row.contains("每月") && row.contains("<td>9</td>"), "{row}");

    // Recording the update is audited and takes it off the list.
    let audit = app.audit_count().await;
    let res = editor
        .post_form(app.at(&format!("/console/datasets/{id}/data-update")), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count().await, audit + 1);
    let (_, html) = app.page(&editor.client, dashboard).await;
    assert!(late_row(&html).is_none());

    // Another month and more: late again, and a script records the update through the API.
    app.clock.advance_seconds(35 * 86_400);
    let editor = app.login("editor@sh-transport.cn").await;
    assert!(late_row(&app.page(&editor.client, dashboard).await.1).is_some());
    let audit = app.audit_count().await;
    let res = editor
        .client
        .post(app.at(&format!("/api/v1/datasets/{id}/data-updates")))
        .header("x-csrf-token", &editor.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.audit_count().await, audit + 1);
    assert!(late_row(&app.page(&editor.client, dashboard).await.1).is_none());

    // A draft has no data to update.
    let res = create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市出租车服务点", &items),
    )
    .await;
    let draft: serde_json::Value = res.json().await.unwrap();
    let audit = app.audit_count().await;
    let res = editor
        .post_form(
            app.at(&format!(
                "/console/datasets/{}/data-update",
                draft["id"].as_str().unwrap()
            )),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(app.audit_count().await, audit);
}

/// Issue 10: the regulator, who may read a provider's entries but not change them, was shown
/// the entry form with buttons that answered 403. Pages ask the policy the routes ask.
#[tokio::test]
async fn who_may_read_but_not_edit_an_entry_reads_it_instead_of_a_form() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let regulator = app
        .user_with("reg@example.cn", Some(PlatformRole::Regulator), None)
        .await;
    let id = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let edit = format!("/console/datasets/{id}/edit");
    for reader in [&regulator, &op] {
        let res = reader.client.get(app.at(&edit)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(to, format!("/datasets/{id}"));
        let html = reader
            .client
            .get(app.at(&to))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("上海市公交线路站点"));
        for action in ["提交变更工单", "保存草稿", "申请发布", "/remove"] {
            assert!(!html.contains(action), "{action} offered");
        }
    }
    // The editor still gets the form.
    let res = editor.client.get(app.at(&edit)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("提交变更工单"));
}
