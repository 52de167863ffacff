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
    // The parking entry changes an hour later: sorting by time has something to tell apart.
    app.clock.advance_seconds(3600);
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

/// The names of a `package_search` answer, in order.
async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let (status, body) = action(app, query).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body["result"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
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
            "package_search?sort=colour%20asc",
            StatusCode::CONFLICT,
            "Validation Error",
        ),
        (
            "package_search?fq=tags:a%20OR%20-tags:b",
            StatusCode::CONFLICT,
            "Search Query Error",
        ),
        (
            "package_search?fq=(tags:a",
            StatusCode::CONFLICT,
            "Search Query Error",
        ),
        (
            "help_show?name=nope",
            StatusCode::NOT_FOUND,
            "Not Found Error",
        ),
        ("help_show", StatusCode::CONFLICT, "Validation Error"),
        (
            "resource_show?id=nope",
            StatusCode::NOT_FOUND,
            "Not Found Error",
        ),
        (
            "group_show?id=nope",
            StatusCode::NOT_FOUND,
            "Not Found Error",
        ),
        ("tag_show?id=nope", StatusCode::NOT_FOUND, "Not Found Error"),
        (
            "group_list?sort=colour",
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
pub(crate) fn python() -> String {
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
    assert_eq!(r["help_show"], true);
    assert_eq!(r["site_read"], true);
    assert_eq!(r["resource_show"], true);
    assert!(
        r["groups"]
            .as_array()
            .unwrap()
            .contains(&json!("transport"))
    );
    assert_eq!(r["group_show"], 2);
    assert_eq!(r["tag_show"], 1);
    assert_eq!(r["licences"], json!(["本平台数据使用协议"]));
    assert_eq!(r["package_autocomplete"], json!(["上海市公共停车场泊位"]));
    assert_eq!(r["organization_autocomplete"], json!(["sh-transport"]));
    assert_eq!(
        r["sorted_titles"],
        json!(["上海市公共停车场泊位", "上海市公交线路站点"])
    );
    assert_eq!(r["negated"], 1);
    assert_eq!(r["alternatives"], 2);
}

#[tokio::test]
async fn search_filters_sorts_and_reads_bodies_as_ckan_clients_send_them() {
    let (app, bus) = world().await;
    let all = names(&app, "package_search?rows=10").await;
    assert_eq!(all.len(), 2);
    let parking = all.iter().find(|n| **n != bus).unwrap().clone();

    // fq: OR, negation in its three spellings, groups of values, AND.
    let both = [bus.clone(), parking.clone()];
    for fq in [
        "tags:停车 OR tags:公交",
        "tags:(停车 OR 公交)",
        "res_format:(CSV OR XLSX) AND groups:transport",
        "+dataset_type:dataset +capacity:public",
    ] {
        let mut got = names(&app, &format!("package_search?sort=name%20asc&fq={fq}")).await;
        got.sort();
        let mut want = both.to_vec();
        want.sort();
        assert_eq!(got, want, "{fq}");
    }
    for fq in [
        "-tags:停车",
        "NOT tags:停车",
        "!tags:停车",
        "tags:公交 -organization:nobody",
    ] {
        assert_eq!(
            names(&app, &format!("package_search?fq={fq}")).await,
            std::slice::from_ref(&bus),
            "{fq}"
        );
    }
    assert!(
        names(&app, "package_search?fq=tags:停车 AND tags:公交")
            .await
            .is_empty()
    );
    assert!(
        names(&app, "package_search?fq=-groups:transport")
            .await
            .is_empty()
    );

    // q: field:value clauses filter; the rest are words.
    assert_eq!(
        names(&app, "package_search?q=tags:停车").await,
        std::slice::from_ref(&parking)
    );
    assert_eq!(
        names(&app, &format!("package_search?q=name:{bus}")).await,
        std::slice::from_ref(&bus)
    );
    assert_eq!(
        names(&app, "package_search?q=停车 tags:停车").await,
        std::slice::from_ref(&parking)
    );
    assert!(
        names(&app, "package_search?q=tags:停车 tags:公交")
            .await
            .is_empty()
    );

    // sort: each key both ways, each the other's reverse. Titles by code point:
    // 公交 (U+4EA4) before 公共 (U+5171).
    let mut by_name = both.to_vec();
    by_name.sort();
    assert_eq!(names(&app, "package_search?sort=name%20asc").await, by_name);
    by_name.reverse();
    assert_eq!(
        names(&app, "package_search?sort=name%20desc").await,
        by_name
    );
    assert_eq!(
        names(&app, "package_search?sort=title_string%20asc").await,
        [bus.clone(), parking.clone()]
    );
    assert_eq!(
        names(&app, "package_search?sort=title_string%20desc").await,
        [parking.clone(), bus.clone()]
    );
    // By the time each entry last changed (the bus entry an hour earlier), as the answers
    // show it.
    assert_eq!(
        names(&app, "package_search?sort=metadata_modified%20asc").await,
        [bus.clone(), parking.clone()]
    );
    for (sort, ascending) in [("asc", true), ("desc", false)] {
        let (_, body) = action(
            &app,
            &format!("package_search?sort=metadata_modified%20{sort}"),
        )
        .await;
        let times: Vec<&str> = body["result"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["metadata_modified"].as_str().unwrap())
            .collect();
        assert_eq!(times.len(), 2);
        assert!(times[0] != times[1], "{times:?}");
        assert_eq!(times[0] < times[1], ascending, "{sort}: {times:?}");
    }

    // The same parameters in a form body and in a JSON body.
    let form = client()
        .post(app.at("/api/3/action/package_search"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("rows=1&sort=title_string+desc&fq=groups%3Atransport")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let form: Value = form.json().await.unwrap();
    assert_eq!(form["result"]["count"], 2);
    assert_eq!(form["result"]["results"][0]["name"], parking.as_str());
    assert_eq!(form["result"]["results"].as_array().unwrap().len(), 1);
    let json_body = client()
        .post(app.at("/api/3/action/package_search"))
        .json(&json!({ "rows": 1, "sort": "title_string asc", "fq": "-tags:nothing" }))
        .send()
        .await
        .unwrap();
    let json_body: Value = json_body.json().await.unwrap();
    assert_eq!(json_body["result"]["results"][0]["name"], bus.as_str());
}

#[tokio::test]
async fn help_resources_groups_tags_licences_and_autocomplete() {
    let (app, bus) = world().await;

    // Every answer's help link answers, with the action's help.
    let (_, search) = action(&app, "package_search?q=公交").await;
    let help = search["help"].as_str().unwrap();
    let path = "/api/3/action/help_show?name=package_search";
    assert!(help.ends_with(path), "{help}");
    let help: Value = client()
        .get(app.at(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(help["result"].as_str().unwrap().contains("fq"), "{help}");
    let (_, site) = action(&app, "site_read").await;
    assert_eq!(site["result"], true);

    // A resource is one format of a public entry.
    let (_, package) = action(&app, &format!("package_show?id={bus}")).await;
    let first = &package["result"]["resources"][0];
    let (s, resource) = action(
        &app,
        &format!("resource_show?id={}", first["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(&resource["result"], first);
    assert_eq!(resource["result"]["package_id"], bus.as_str());
    let (s, _) = action(&app, &format!("resource_show?id={bus}-pdf")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a format the entry does not have");

    // Domains are groups, with their public entries.
    let (_, groups) = action(&app, "group_list").await;
    assert!(
        groups["result"]
            .as_array()
            .unwrap()
            .contains(&json!("transport")),
        "{groups}"
    );
    let (_, groups) = action(&app, "group_list?all_fields=true&sort=package_count%20desc").await;
    assert_eq!(groups["result"][0]["name"], "transport");
    assert_eq!(groups["result"][0]["package_count"], 2);
    assert_eq!(groups["result"][0]["is_organization"], false);
    let (_, group) = action(&app, "group_show?id=transport&include_datasets=true").await;
    assert_eq!(group["result"]["package_count"], 2);
    assert_eq!(group["result"]["packages"].as_array().unwrap().len(), 2);
    let (_, limited) = action(&app, "group_list?limit=1&offset=1&sort=name").await;
    assert_eq!(limited["result"].as_array().unwrap().len(), 1);

    // Tags of public entries only.
    let (s, tag) = action(&app, "tag_show?id=停车&include_datasets=true").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(tag["result"]["name"], "停车");
    assert_eq!(tag["result"]["packages"].as_array().unwrap().len(), 1);

    let (_, licences) = action(&app, "license_list").await;
    assert_eq!(licences["result"][0]["id"], "本平台数据使用协议");
    assert_eq!(licences["result"].as_array().unwrap().len(), 1);

    let (_, found) = action(&app, "package_autocomplete?q=公交&limit=5").await;
    assert_eq!(found["result"][0]["name"], bus.as_str());
    assert_eq!(found["result"][0]["title"], "上海市公交线路站点");
    let (_, none) = action(&app, "package_autocomplete?q=刷卡明细").await;
    assert_eq!(
        none["result"],
        json!([]),
        "the non-open entry is never suggested"
    );
    let (_, orgs) = action(&app, "organization_autocomplete?q=TRANSPORT").await;
    assert_eq!(orgs["result"][0]["name"], "sh-transport");
    let (_, orgs) = action(&app, "organization_autocomplete?q=nothing-like-it").await;
    assert_eq!(orgs["result"], json!([]));
}

/// Runs `ckanapi dump THING --all` against the app and returns the dumped records.
async fn dump(app: &TestApp, thing: &str) -> Vec<Value> {
    let python = python();
    let bin = std::path::Path::new(&python).parent().unwrap().to_owned();
    // The dump's worker processes are started as `ckanapi`, found on the PATH.
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = tokio::process::Command::new(bin.join("ckanapi"))
        .args(["dump", thing, "--all", "-q", "-r", &app.url])
        .env("PATH", path)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "ckanapi dump {thing}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn ckanapi_dumps_datasets_groups_and_organizations() {
    let (app, bus) = world().await;
    let datasets = dump(&app, "datasets").await;
    assert_eq!(
        datasets.len(),
        2,
        "the public entries, no draft and no non-open entry"
    );
    assert!(datasets.iter().any(|d| d["name"] == bus.as_str()));
    assert!(
        datasets
            .iter()
            .all(|d| d["resources"].as_array().is_some_and(|r| !r.is_empty()))
    );
    let groups = dump(&app, "groups").await;
    let transport = groups.iter().find(|g| g["name"] == "transport").unwrap();
    assert_eq!(transport["package_count"], 2);
    let organizations = dump(&app, "organizations").await;
    assert_eq!(organizations.len(), 1);
    assert_eq!(organizations[0]["name"], "sh-transport");
}
