//! The provider console's entry form over plain HTTP: what a browser without JavaScript sends.

use domain::roles::PlatformRole;
use reqwest::StatusCode;

use crate::openlist::provider_with_catalogue;
use crate::support::*;

async fn post_form(s: &Session, url: String, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("_csrf", s.csrf.as_str())];
    form.extend_from_slice(fields);
    s.client.post(url).form(&form).send().await.unwrap()
}

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
    let res = post_form(&editor, url.clone(), &bad).await;
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
    let res = post_form(&editor, url.clone(), &unknown_domain).await;
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
    let res = post_form(&editor, url.clone(), &good).await;
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
    let res = post_form(&editor, url.clone(), &[("csv", bad)]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("items[1].code") && html.contains("items[2].name"));
    assert!(html.contains("TAXI,出租车2"));
    assert_eq!(app.audit_count().await, audit);

    let good = "\u{feff}code,name,description,source_system\nTAXI,出租车,巡游出租车,营运系统\nBUS-LINE,公交线路（更名）,,\n";
    let res = post_form(&editor, url.clone(), &[("csv", good)]).await;
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
