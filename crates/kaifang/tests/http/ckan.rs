//! The CKAN-compatible API, over HTTP and through the official `ckanapi` client.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::openlist::{create, good_meta, provider_with_catalogue, publish};
use crate::support::*;

/// An app with two public entries, one draft and one non-open entry.
async fn world() -> (TestApp, String) {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let bus = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    let mut parking = good_meta("上海市公共停车场泊位", &items);
    parking["summary"] = json!("全市公共停车场的泊位数量与位置。");
    parking["keywords"] = json!(["停车"]);
    publish(&app, &editor, &op, parking).await;
    create(
        &app,
        &editor,
        "sh-transport",
        &good_meta("上海市出租车服务点", &items),
    )
    .await;
    let mut closed = good_meta("上海市公交卡刷卡明细", &items);
    closed["open_type"] = json!("not_open");
    closed["grading"]["personal_information"] = json!("identifiable");
    publish(&app, &editor, &op, closed).await;
    (app, bus)
}

async fn action(app: &TestApp, query: &str) -> (StatusCode, Value) {
    let res = client()
        .get(app.at(&format!("/api/3/action/{query}")))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn package_search_answers_in_ckans_shape_with_public_entries_only() {
    let (app, bus) = world().await;
    let (status, body) = action(
        &app,
        "package_search?q=公交&facet.field=[\"organization\",\"res_format\"]&rows=10",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    assert!(body["help"].as_str().unwrap().contains("package_search"));
    let r = &body["result"];
    assert_eq!(
        r["count"], 1,
        "the non-open entry and the draft never appear"
    );
    let p = &r["results"][0];
    assert_eq!(p["name"], bus.as_str());
    assert_eq!(p["title"], "上海市公交线路站点");
    assert_eq!(p["organization"]["name"], "sh-transport");
    assert_eq!(p["resources"][0]["format"], "CSV");
    let extras: Vec<&str> = p["extras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    for key in [
        "open_type",
        "update_frequency",
        "data_items",
        "citation",
        "spatial_range",
        "time_range",
    ] {
        assert!(extras.contains(&key), "{key}");
    }
    assert_eq!(r["search_facets"]["res_format"]["items"][0]["name"], "CSV");
    assert_eq!(r["facets"]["organization"]["sh-transport"], 1);

    let (_, all) = action(&app, "package_search?q=*:*&rows=0").await;
    assert_eq!(all["result"]["count"], 2);
    let (_, filtered) = action(&app, "package_search?fq=tags:停车&rows=5").await;
    assert_eq!(
        filtered["result"]["results"][0]["title"],
        "上海市公共停车场泊位"
    );
    let (_, formats) = action(
        &app,
        "package_search?fq=%2Bres_format:CSV%20organization:sh-transport",
    )
    .await;
    assert_eq!(formats["result"]["count"], 2);
    let (_, list) = action(&app, "package_list").await;
    assert_eq!(list["result"].as_array().unwrap().len(), 2);

    // Whole packages with their resources, most recently changed first, paged as CKAN pages.
    let (s, current) = action(&app, "current_package_list_with_resources").await;
    assert_eq!(s, StatusCode::OK);
    let current = current["result"].as_array().unwrap();
    assert_eq!(current.len(), 2);
    assert!(
        current
            .iter()
            .all(|p| !p["resources"].as_array().unwrap().is_empty())
    );
    let modified: Vec<&str> = current
        .iter()
        .map(|p| p["metadata_modified"].as_str().unwrap())
        .collect();
    assert!(modified[0] >= modified[1], "{modified:?}");
    let (_, first) = action(&app, "current_package_list_with_resources?limit=1").await;
    let (_, second) = action(&app, "current_package_list_with_resources?limit=1&page=2").await;
    let (_, third) = action(&app, "current_package_list_with_resources?limit=1&page=3").await;
    assert_eq!(first["result"][0]["id"], current[0]["id"]);
    assert_eq!(second["result"][0]["id"], current[1]["id"]);
    assert_eq!(third["result"], serde_json::json!([]));
    let (s, body) = action(&app, "current_package_list_with_resources?limit=100000").await;
    assert_eq!((s, body["success"].clone()), (StatusCode::OK, true.into()));
}

#[tokio::test]
async fn malformed_parameters_get_ckan_errors() {
    let (app, _) = world().await;
    // Asking for more than a page holds is clamped, as CKAN does; it is no error.
    for query in ["package_search?rows=1001", "package_list?limit=100000"] {
        let (s, body) = action(&app, query).await;
        assert_eq!(s, StatusCode::OK, "{query}");
        assert_eq!(body["success"], true, "{query}");
    }
    let (_, body) = action(&app, "package_search?rows=100000").await;
    assert!(body["result"]["results"].as_array().unwrap().len() <= 1000);
    for (query, status, kind) in [
        (
            "package_search?rows=ten",
            StatusCode::CONFLICT,
            "Validation Error",
        ),
        (
            "package_search?start=-1",
            StatusCode::CONFLICT,
            "Validation Error",
        ),
        (
            "package_search?fq=colour:red",
            StatusCode::CONFLICT,
            "Search Query Error",
        ),
        (
            "package_search?fq=tags",
            StatusCode::CONFLICT,
            "Search Query Error",
        ),
        (
            "package_search?facet.field=colour",
            StatusCode::CONFLICT,
            "Validation Error",
        ),
        (
            "package_search?sort=name%20asc",
            StatusCode::CONFLICT,
            "Validation Error",
        ),
        (
            "package_show?id=nope",
            StatusCode::NOT_FOUND,
            "Not Found Error",
        ),
        ("package_show", StatusCode::CONFLICT, "Validation Error"),
        (
            "organization_show?id=nope",
            StatusCode::NOT_FOUND,
            "Not Found Error",
        ),
        ("no_such_action", StatusCode::BAD_REQUEST, "Bad Request"),
    ] {
        let (s, body) = action(&app, query).await;
        assert_eq!(s, status, "{query}");
        assert_eq!(body["success"], false, "{query}");
        assert_eq!(body["error"]["__type"], kind, "{query}");
    }
    // A draft is not found, not hidden behind a different error.
    let drafts: Value = app
        .store
        .datasets_of(
            app.store.org("sh-transport").await.unwrap().id,
            Some(domain::openlist::vocab::DatasetStatus::Draft),
            &store::paging::Page::first(10),
        )
        .await
        .unwrap()
        .items
        .iter()
        .map(|d| json!(d.id))
        .collect();
    let (s, _) = action(
        &app,
        &format!("package_show?id={}", drafts[0].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn organizations_tags_and_status() {
    let (app, _) = world().await;
    let (_, orgs) = action(&app, "organization_list").await;
    assert_eq!(orgs["result"], json!(["sh-transport"]));
    let (_, org) = action(
        &app,
        "organization_show?id=sh-transport&include_datasets=true",
    )
    .await;
    assert_eq!(org["result"]["package_count"], 2);
    assert_eq!(org["result"]["packages"].as_array().unwrap().len(), 2);
    let (_, tags) = action(&app, "tag_list").await;
    let tags: Vec<&str> = tags["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"停车") && tags.contains(&"公交"), "{tags:?}");
    let (_, status) = action(&app, "status_show").await;
    assert!(
        status["result"]["ckan_version"]
            .as_str()
            .unwrap()
            .starts_with("2.")
    );
}

/// The Python interpreter with `ckanapi` installed: `KAIFANG_TEST_PYTHON`, or the virtual
/// environment `scripts/test.sh` prepares.
fn python() -> String {
    if let Ok(p) = std::env::var("KAIFANG_TEST_PYTHON") {
        return p;
    }
    let venv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../build-output/test-venv/bin/python"
    );
    assert!(
        std::path::Path::new(venv).exists(),
        "the ckanapi client is needed: run scripts/test.sh once, or set KAIFANG_TEST_PYTHON to a python with ckanapi"
    );
    venv.to_owned()
}

#[tokio::test]
async fn the_official_ckanapi_client_works() {
    let (app, _) = world().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ckanapi_client.py");
    let out = tokio::process::Command::new(python())
        .arg(script)
        .arg(&app.url)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["search"]["count"], 1);
    assert_eq!(r["search"]["titles"], json!(["上海市公交线路站点"]));
    assert_eq!(
        r["search"]["facets"],
        json!(["open_type", "organization", "res_format", "tags"])
    );
    assert_eq!(r["package_list"].as_array().unwrap().len(), 2);
    assert!(r["package_show"].as_str().unwrap().starts_with("上海市"));
    assert_eq!(r["organizations"], json!(["sh-transport"]));
    assert_eq!(r["organization_show"], 2);
    assert_eq!(r["not_found"], "NotFound");
    assert_eq!(r["rows_clamped"], true);
    assert_eq!(r["bad_fq"], "SearchQueryError");
}
