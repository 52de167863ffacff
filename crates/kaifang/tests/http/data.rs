//! The data plane over HTTP: a provider uploads a file, the ingestion job reads it against the
//! entry's data items and publishes it or refuses it with a report; anyone reads the open data
//! of unconditional entries (records API, downloads); conditional data is served to nobody.

use domain::openlist::vocab::DatasetStatus;
use domain::roles::OrgRole;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// An unconditional published entry of licensed enterprises, with rules on its items.
fn enterprises(open_type: &str) -> Value {
    json!({
        "name": "上海市持证企业名录",
        "domain": "economy",
        "open_type": open_type,
        "update_frequency": "monthly",
        "data_items": [
            { "name": "uscc", "label": "统一社会信用代码", "field_type": "code",
              "rules": { "required": true, "key": true, "check": "credit_code" } },
            { "name": "name", "label": "企业名称", "field_type": "text" },
            { "name": "district", "label": "所属区", "field_type": "text",
              "rules": { "allowed": ["黄浦区", "浦东新区", "徐汇区"] } },
            { "name": "capital", "label": "注册资本", "field_type": "decimal",
              "rules": { "min": 0 } },
            { "name": "licensed_on", "label": "发证日期", "field_type": "date" },
        ],
    })
}

struct Setup {
    app: TestApp,
    editor: Session,
    dataset: String,
}

async fn setup(open_type: &str) -> Setup {
    setup_with(test_config(), open_type).await
}

/// [`setup`] on an app configured with `config`.
async fn setup_with(config: web::WebConfig, open_type: &str) -> Setup {
    let app = spawn_app_with(config).await;
    app.create_org("market").await;
    let editor = app
        .user_with(
            "editor@market.example.cn",
            None,
            Some(("market", OrgRole::Editor)),
        )
        .await;
    let dataset = app
        .create_entry_with("market", enterprises(open_type), DatasetStatus::Published)
        .await;
    Setup {
        app,
        editor,
        dataset,
    }
}

/// GBK bytes of `text` (the test writes them out from a table of code points it knows).
fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

async fn upload(
    s: &Setup,
    name: &str,
    body: impl Into<reqwest::Body>,
    query: &[(&str, &str)],
) -> reqwest::Response {
    let mut url =
        reqwest::Url::parse(&s.app.at(&format!("/api/v1/datasets/{}/data", s.dataset))).unwrap();
    url.query_pairs_mut().append_pair("name", name);
    for (k, v) in query {
        url.query_pairs_mut().append_pair(k, v);
    }
    s.editor
        .client
        .post(url)
        .header("x-csrf-token", &s.editor.csrf)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads the three good rows (UTF-8) as `企业.csv`, replacing the entry's data.
async fn upload_good(s: &Setup) -> reqwest::Response {
    upload(
        s,
        "企业.csv",
        format!("{HEADER}{GOOD_ROWS}").into_bytes(),
        &[],
    )
    .await
}

/// The upload `v` (as the upload answered) as its provider now sees it.
async fn version_of(s: &Setup, v: &Value) -> Value {
    let id = v["id"].as_str().expect("an upload's id");
    s.editor
        .get_json(s.app.at(&format!(
            "/api/v1/datasets/{}/data/versions/{id}",
            s.dataset
        )))
        .await
}

const HEADER: &str = "统一社会信用代码,企业名称,所属区,注册资本,发证日期\n";
/// Check characters computed by hand from GB 32100's weights.
const GOOD_ROWS: &str = "91350100M000100Y43,上海示范数据科技有限公司,黄浦区,100.5,2024-03-01\n\
    91310000MA1FL0XY4N,浦东新区测试餐饮店,浦东新区,20,2023/12/31\n\
    91310115MA1H7XXX1B,徐汇区便民超市,徐汇区,,20240102\n";

#[tokio::test]
async fn a_gbk_file_with_mistakes_is_refused_with_its_report_then_the_fixed_file_is_published() {
    let s = setup("unconditional").await;
    // Line 3 repeats line 2's credit code, line 4 names a district outside the list.
    let bad = format!(
        "{HEADER}91350100M000100Y43,甲,黄浦区,1,2024-03-01\n\
         91350100M000100Y43,乙,黄浦区,1,2024-03-01\n\
         91310000MA1FL0XY4N,丙,静安区,1,2024-03-01\n"
    );
    let res = upload(&s, "企业.csv", gbk(&bad), &[]).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["state"], "ingesting");
    assert_eq!(s.app.run_jobs().await, 1);
    let refused = version_of(&s, &v).await;
    assert_eq!(refused["state"], "refused", "{refused}");
    // GB18030 is GBK's superset, and reads it alike.
    let encoding = refused["encoding"].as_str().unwrap().to_ascii_lowercase();
    assert!(
        ["gbk", "gb18030"].contains(&encoding.as_str()),
        "{encoding}"
    );
    let findings = refused["report"]["findings"].as_array().unwrap();
    let at = |code: &str| -> Vec<i64> {
        findings
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| f["line"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(at("duplicate_key"), [3]);
    assert_eq!(at("not_allowed"), [4]);
    // The failing rows download as a list, as read.
    let failures = s
        .editor
        .client
        .get(s.app.at(refused["failures_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        failures.contains("静安区") && failures.lines().count() == 3,
        "{failures}"
    );
    // Nothing was published: anyone asking for records hears there is no data yet.
    let res = client()
        .get(s.app.at(&format!("/api/v1/datasets/{}/records", s.dataset)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(&res), "no_data");

    // The fixed file.
    let res = upload(&s, "企业.csv", gbk(&format!("{HEADER}{GOOD_ROWS}")), &[]).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    s.app.run_jobs().await;
    let versions = s
        .editor
        .get_json(
            s.app
                .at(&format!("/api/v1/datasets/{}/data/versions", s.dataset)),
        )
        .await;
    let list = versions["versions"].as_array().unwrap();
    assert_eq!(
        list.len(),
        2,
        "the refused upload stays in the provider's history"
    );
    assert_eq!(list[0]["state"], "published");
    assert_eq!(list[0]["number"], 1);
    assert_eq!(list[0]["rows"], 3);
    assert_eq!(list[0]["score"], 100.0);
    // The public sees only what was published.
    let public: Value = client()
        .get(
            s.app
                .at(&format!("/api/v1/datasets/{}/data/versions", s.dataset)),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["versions"].as_array().unwrap().len(), 1);
    assert!(public["versions"][0]["report"].is_null());
    // The entry's data update was recorded by the publication (A9.4), at the clock's time.
    let entry = s.app.store.dataset(&s.dataset).await.unwrap();
    let updates = s.app.store.data_updates(entry.org_id).await.unwrap();
    assert_eq!(updates.get(&entry.id), Some(&s.app.clock_now()));
}

async fn published(open_type: &str) -> Setup {
    let s = setup(open_type).await;
    upload_and_run(&s, format!("{HEADER}{GOOD_ROWS}")).await;
    s
}

/// Uploads `csv` as `企业.csv`, replacing the entry's data, and runs the ingestion it queued.
async fn upload_and_run(s: &Setup, csv: String) {
    let res = upload(s, "企业.csv", csv.into_bytes(), &[]).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    s.app.run_jobs().await;
}

/// The current version of the setup's entry, downloaded anonymously in `format`.
async fn download(s: &Setup, format: &str) -> reqwest::Response {
    client()
        .get(
            s.app
                .at(&format!("/datasets/{}/download?format={format}", s.dataset)),
        )
        .send()
        .await
        .unwrap()
}

async fn records(s: &Setup, query: &str) -> (StatusCode, Value) {
    let res = client()
        .get(
            s.app
                .at(&format!("/api/v1/datasets/{}/records?{query}", s.dataset)),
        )
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn anyone_filters_sorts_and_pages_the_records_of_unconditional_data() {
    let s = published("unconditional").await;
    let (status, all) = records(&s, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["total"], 3);
    assert_eq!(all["records"][0]["uscc"], "91350100M000100Y43");
    assert_eq!(all["records"][0]["capital"], 100.5);
    assert_eq!(all["records"][1]["licensed_on"], "2023-12-31");
    assert_eq!(all["fields"][1]["label"], "企业名称");

    let (_, r) = records(&s, "district=%E6%B5%A6%E4%B8%9C%E6%96%B0%E5%8C%BA").await;
    assert_eq!(r["total"], 1);
    assert_eq!(r["records"][0]["name"], "浦东新区测试餐饮店");
    let (_, r) = records(&s, "capital__gte=50&fields=name").await;
    assert_eq!(r["records"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["records"][0],
        json!({ "name": "上海示范数据科技有限公司" })
    );
    let (_, r) = records(&s, "licensed_on__lt=2024-01-01").await;
    assert_eq!(r["total"], 1);
    let (_, r) = records(&s, "q=%E4%BE%BF%E6%B0%91").await;
    assert_eq!(r["records"][0]["name"], "徐汇区便民超市");
    // A capital left empty is null.
    let (_, r) = records(&s, "capital__isnull=true").await;
    assert_eq!(r["total"], 1);
    let (_, r) = records(&s, "sort=-licensed_on&fields=licensed_on").await;
    let dates: Vec<&str> = r["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["licensed_on"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2024-03-01", "2024-01-02", "2023-12-31"]);

    // Pages by cursor, through the whole set, each row once.
    let (_, first) = records(&s, "limit=2&sort=name").await;
    assert_eq!(first["records"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap();
    let second: Value = client()
        .get(s.app.at(next))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["records"].as_array().unwrap().len(), 1);
    assert!(second["next"].is_null());
    let mut names: Vec<String> = first["records"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["records"].as_array().unwrap())
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect();
    let sorted = {
        let mut n = names.clone();
        n.sort();
        n
    };
    assert_eq!(names, sorted);
    names.dedup();
    assert_eq!(names.len(), 3);
}

/// Reads of open data are answered from entries held in memory (`app::held::Entries`): what
/// this server changes is read at the next call, what another server changes within a second.
#[tokio::test]
async fn reads_of_open_data_follow_changes_to_their_entry_at_once_and_other_servers_within_a_second()
 {
    let s = published("unconditional").await;
    let (status, r) = records(&s, "").await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!((&r["version"], &r["total"]), (&json!(1), &json!(3)));

    // A new version, published by this server's workers: the next call reads it.
    let two_rows: String = GOOD_ROWS
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    upload_and_run(&s, format!("{HEADER}{two_rows}")).await;
    let (_, r) = records(&s, "").await;
    assert_eq!((&r["version"], &r["total"]), (&json!(2), &json!(2)));
    let res = download(&s, "csv").await;
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.ends_with("-v2.csv\""), "{disposition}");
    assert_eq!(res.text().await.unwrap().lines().count(), 3);

    // Another server withdraws the entry: within a second this one stops serving it.
    let other = store::Store::connect(&s.app.database_url).await.unwrap();
    let set_status = |store: store::Store, status: DatasetStatus| {
        let (id, now) = (s.dataset.clone(), s.app.clock_now());
        async move {
            let mut d = store.dataset(&id).await.unwrap();
            d.status = status;
            let mut tx = store.begin_write().await.unwrap();
            store::datasets::update(&mut tx, &d).await.unwrap();
            tx.audit(test_event("test.status", id, now)).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    set_status(other.clone(), DatasetStatus::Withdrawn).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, r) = records(&s, "").await;
    assert!(status.is_client_error(), "{status} {r}");
    // This server opens it again: the next call serves it, though what was held is fresh.
    set_status(s.app.store.clone(), DatasetStatus::Published).await;
    let (status, r) = records(&s, "").await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["total"], 2);
    other.close().await;
}

#[tokio::test]
async fn bad_queries_get_a_clear_error_naming_the_parameter() {
    let s = published("unconditional").await;
    for (query, code) in [
        ("nosuch=1", "unknown_field"),
        ("capital__gte=abc", "invalid_value"),
        ("capital__like=1", "unknown_operator"),
        ("limit=100000", "invalid_limit"),
        ("limit=0", "invalid_limit"),
        ("offset=99999999", "invalid_offset"),
        ("capital__contains=1", "operator_needs_text"),
        ("cursor=5.deadbeef0000", "invalid_cursor"),
        ("cursor=garbage", "invalid_cursor"),
        ("sort=nosuch", "unknown_field"),
        ("format=xml", "invalid_format"),
        ("q=a+b+c+d+e+f&q=g+h+i+j+k", "too_many_words"),
    ] {
        let (status, body) = records(&s, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{query}");
        assert_eq!(body["error"]["fields"][0]["code"], code, "{query}: {body}");
    }
    // A cursor of one query does not continue another.
    let (_, first) = records(&s, "limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (status, _) = records(&s, &format!("limit=1&district=x&cursor={cursor}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn downloads_stream_csv_for_excel_with_formulas_neutralised_and_parquet_with_an_etag() {
    let s = published("unconditional").await;
    let res = download(&s, "csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("uscc,name,district,capital,licensed_on")
    );
    assert_eq!(text.lines().count(), 4);
    assert!(text.contains("91310000MA1FL0XY4N,浦东新区测试餐饮店,浦东新区,20,2023-12-31"));
    let again = client()
        .get(
            s.app
                .at(&format!("/datasets/{}/download?format=csv", s.dataset)),
        )
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let parquet = client()
        .get(s.app.at(&format!(
            "/datasets/{}/download?format=parquet&version=1",
            s.dataset
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(parquet.status(), StatusCode::OK);
    let bytes = parquet.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));

    let ndjson = download(&s, "ndjson").await.text().await.unwrap();
    let rows: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["name"], "徐汇区便民超市");
}

#[tokio::test]
async fn text_that_a_spreadsheet_would_run_is_neutralised_in_csv() {
    let s = setup("unconditional").await;
    let rows = format!("{HEADER}91350100M000100Y43,=HYPERLINK(\"x\"),黄浦区,1,2024-03-01\n");
    upload(&s, "a.csv", rows.into_bytes(), &[]).await;
    s.app.run_jobs().await;
    let text = download(&s, "csv").await.text().await.unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    // The records API gives the value as it is.
    let (_, r) = records(&s, "").await;
    assert_eq!(r["records"][0]["name"], "=HYPERLINK(\"x\")");
}

#[tokio::test]
async fn conditional_data_is_served_to_nobody_by_these_routes() {
    let s = published("conditional").await;
    let versions = s
        .editor
        .get_json(
            s.app
                .at(&format!("/api/v1/datasets/{}/data/versions", s.dataset)),
        )
        .await;
    assert_eq!(versions["versions"][0]["state"], "published", "{versions}");
    for who in [client(), s.editor.client.clone()] {
        for path in [
            format!("/api/v1/datasets/{}/records", s.dataset),
            format!("/datasets/{}/download?format=csv", s.dataset),
        ] {
            let res = who.get(s.app.at(&path)).send().await.unwrap();
            assert!(
                matches!(
                    res.status(),
                    StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
                ),
                "{path}: {}",
                res.status()
            );
        }
    }
}

#[tokio::test]
async fn uploads_of_the_wrong_kind_or_encoding_change_nothing() {
    let s = setup("unconditional").await;
    let before = s.app.count("data_versions").await;
    // An archive named .csv.
    let res = upload(&s, "a.csv", b"PK\x03\x04rest of a zip".to_vec(), &[]).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&res), "format_mismatch");
    // A format the name says is not data.
    let res = upload(&s, "a.pdf", b"%PDF-1.4".to_vec(), &[]).await;
    assert_eq!(error_code(&res), "data_format_not_supported");
    // An encoding nobody reads.
    let res = upload(&s, "a.csv", b"a\n1\n".to_vec(), &[("encoding", "ebcdic")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = upload(&s, "a.csv", Vec::new(), &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Anonymous callers and other organizations' members upload nothing.
    let other = s.app.user_with("stranger@example.cn", None, None).await;
    let res = other
        .client
        .post(
            s.app
                .at(&format!("/api/v1/datasets/{}/data?name=a.csv", s.dataset)),
        )
        .header("x-csrf-token", &other.csrf)
        .body("a\n1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.app.count("data_versions").await, before);

    // A GBK file declared as UTF-8 is refused at the byte that is not UTF-8, never read with
    // replacement characters.
    let res = upload(
        &s,
        "a.csv",
        gbk(&format!("{HEADER}{GOOD_ROWS}")),
        &[("encoding", "utf-8")],
    )
    .await;
    let v: Value = res.json().await.unwrap();
    s.app.run_jobs().await;
    let v = version_of(&s, &v).await;
    assert_eq!(v["state"], "refused");
    assert!(
        v["error"].as_str().unwrap().starts_with("unreadable_text:"),
        "{v}"
    );
}

#[tokio::test]
async fn an_upload_can_be_cancelled_before_it_is_read() {
    let s = setup("unconditional").await;
    let v: Value = upload(
        &s,
        "a.csv",
        format!("{HEADER}{GOOD_ROWS}").into_bytes(),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    // While it waits, a second upload is refused.
    let res = upload(
        &s,
        "b.csv",
        format!("{HEADER}{GOOD_ROWS}").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "ingestion_running");
    let res = s
        .editor
        .post_json(
            s.app.at(&format!(
                "/api/v1/datasets/{}/data/versions/{}/cancel",
                s.dataset,
                v["id"].as_str().unwrap()
            )),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["state"], "cancelled");
    s.app.run_jobs().await;
    let (status, body) = records(&s, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn of_uploads_sent_to_one_entry_at_the_same_moment_one_is_read_and_the_others_refused() {
    let s = setup("unconditional").await;
    // Each request's headers go out at once, so each upload is past the server's first look
    // for a running ingestion before any of the files has arrived; the rest of each file
    // follows a moment later.
    let sends = (0..3).map(|_| {
        let body =
            futures_util::stream::iter([Ok::<_, std::io::Error>(HEADER.as_bytes().to_vec())])
                .chain(futures_util::stream::once(async {
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    Ok(GOOD_ROWS.as_bytes().to_vec())
                }));
        upload(&s, "企业.csv", reqwest::Body::wrap_stream(body), &[])
    });
    let responses = futures_util::future::join_all(sends).await;
    let mut accepted = 0;
    for res in responses {
        if res.status() == StatusCode::ACCEPTED {
            accepted += 1;
        } else {
            assert_eq!(res.status(), StatusCode::CONFLICT);
            assert_eq!(error_code(&res), "ingestion_running");
        }
    }
    assert_eq!(accepted, 1);
    s.app.run_jobs().await;
    let versions: Value = s
        .editor
        .get_json(
            s.app
                .at(&format!("/api/v1/datasets/{}/data/versions", s.dataset)),
        )
        .await;
    let versions = versions["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(versions[0]["state"], "published");
}

#[tokio::test]
async fn a_caller_waiting_on_an_upload_is_answered_as_soon_as_it_is_published() {
    let s = setup("unconditional").await;
    let v: Value = upload_good(&s).await.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    let url = |query: &str| {
        s.app.at(&format!(
            "/api/v1/datasets/{}/data/versions/{id}{query}",
            s.dataset
        ))
    };
    for bad in ["?wait=61", "?wait=-1", "?wait=soon"] {
        let res = s.editor.client.get(url(bad)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(&res), "malformed_request", "{bad}");
    }
    // No job has run: a wait of a second ends with the upload still being read.
    let v = s.editor.get_json(url("?wait=1")).await;
    assert_eq!(v["state"], "ingesting");
    // A wait of a minute is answered once the job has published it, long before the minute.
    let waiting = s.editor.get_json(url("?wait=60"));
    let run = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        s.app.run_jobs().await;
    };
    let (v, ()) = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        tokio::join!(waiting, run)
    })
    .await
    .expect("answered when the upload was published");
    assert_eq!(v["state"], "published");
    assert_eq!(v["number"], 1);
    // An ended upload is answered at once whatever the wait.
    let v = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        s.editor.get_json(url("?wait=60")),
    )
    .await
    .expect("answered at once");
    assert_eq!(v["state"], "published");
}

#[tokio::test]
async fn the_official_ckanapi_client_searches_the_datastore() {
    let s = published("unconditional").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ckanapi_datastore.py");
    let out = tokio::process::Command::new(crate::ckan::python())
        .arg(script)
        .arg(&s.app.url)
        .arg(&s.dataset)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let csv = &r["csv_resource"];
    assert_eq!(csv["datastore_active"], true);
    // The deployment's public address, then the download itself.
    let url = csv["url"].as_str().unwrap();
    assert!(
        url.ends_with(&format!(
            "/datasets/{}/download?format=csv&version=1",
            s.dataset
        )),
        "{url}"
    );
    assert_eq!(r["resource_show"], true);
    assert_eq!(
        r["by_district"],
        json!({ "total": 1, "names": ["浦东新区测试餐饮店"] })
    );
    assert_eq!(
        r["ranged"],
        json!([{ "_id": 2, "name": "浦东新区测试餐饮店", "capital": 20.0 }])
    );
    // Names descending by code point: 浦 (U+6D66), 徐 (U+5F90), 上 (U+4E0A); the second and third.
    assert_eq!(
        r["lists"]["fields"],
        json!(["_id", "uscc", "name", "district", "capital", "licensed_on"])
    );
    let names: Vec<&str> = r["lists"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[2].as_str().unwrap())
        .collect();
    assert_eq!(names, ["徐汇区便民超市", "上海示范数据科技有限公司"]);
    assert_eq!(r["words"], 1);
    assert!(
        r["csv"]
            .as_str()
            .unwrap()
            .starts_with("1,91350100M000100Y43,"),
        "{}",
        r["csv"]
    );
    assert_eq!(r["unknown_field"], "ValidationError");
    assert_eq!(r["info"]["count"], 3);
    // One row per district; the first by count, then by code point (徐 U+5F90 first).
    assert_eq!(r["sql"], json!([{ "district": "徐汇区", "n": 1 }]));
    assert_eq!(r["sql_write"], "ValidationError");
}

#[tokio::test]
async fn a_provider_uploads_in_the_console_watches_it_read_and_reads_the_report() {
    let s = setup("unconditional").await;
    let page = format!("/console/datasets/{}/data", s.dataset);
    let res = s.editor.client.get(s.app.at(&page)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("enctype=\"multipart/form-data\"")
    );

    let bad = format!("{HEADER}91350100M000100Y43,甲,静安区,1,2024-03-01\n");
    let form = |csrf: Option<&str>| {
        let mut f = reqwest::multipart::Form::new();
        if let Some(c) = csrf {
            f = f.text("_csrf", c.to_owned());
        }
        f.text("mode", "replace").text("encoding", "GBK").part(
            "file",
            reqwest::multipart::Part::bytes(gbk(&bad)).file_name("企业名录.csv"),
        )
    };
    // Without the form's token first, the file is not taken.
    let res = s
        .editor
        .client
        .post(s.app.at(&page))
        .multipart(form(None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.app.count("data_versions").await, 0);

    let res = s
        .editor
        .client
        .post(s.app.at(&page))
        .multipart(form(Some(&s.editor.csrf)))
        .send()
        .await
        .unwrap();
    // On to the page of the upload, which is being read: a progress bar that refreshes.
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with(&format!("{page}?version=")), "{to}");
    let html = s
        .editor
        .client
        .get(s.app.at(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<progress"), "{html}");
    assert!(html.contains("http-equiv=\"refresh\""));

    s.app.run_jobs().await;
    let html = s
        .editor
        .client
        .get(s.app.at(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<progress"));
    assert!(html.contains("未通过"), "{html}");
    assert!(html.contains("取值不在允许范围内") && html.contains("静安区"));
    assert!(html.contains("failures.csv"));
    assert!(html.contains("按 GBK 读取"));
}

#[tokio::test]
async fn rows_appended_follow_the_current_version_and_may_not_repeat_its_keys() {
    let s = published("unconditional").await;
    let more = format!("{HEADER}91310000MA1FL0XY4N,重复的企业,浦东新区,1,2024-05-01\n");
    let v: Value = upload(&s, "more.csv", more.into_bytes(), &[("mode", "append")])
        .await
        .json()
        .await
        .unwrap();
    s.app.run_jobs().await;
    let refused = version_of(&s, &v).await;
    assert_eq!(refused["state"], "refused");
    let dup = &refused["report"]["findings"][0];
    assert_eq!(dup["code"], "duplicate_key");
    assert_eq!(dup["detail"], "previous_version");

    // A code whose check character is computed by hand from GB 32100's weights.
    let more = format!("{HEADER}91310101MA1FPX6J2X,新开的企业,黄浦区,5,2024-06-01\n");
    upload(&s, "more.csv", more.into_bytes(), &[("mode", "append")]).await;
    s.app.run_jobs().await;
    let (_, r) = records(&s, "").await;
    assert_eq!(r["version"], 2);
    assert_eq!(r["total"], 4);
    assert_eq!(r["records"][3]["name"], "新开的企业");
    assert_eq!(r["records"][0]["name"], "上海示范数据科技有限公司");
    // The profile counts every row of the new version.
    let v2 = s
        .editor
        .get_json(
            s.app
                .at(&format!("/api/v1/datasets/{}/data/versions/2", s.dataset)),
        )
        .await;
    assert_eq!(v2["rows"], 4);
    let names = v2["profile"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "name")
        .unwrap();
    assert_eq!(names["values"], 4);
}

/// An app (configured so) with a published entry of bus stops: two in Shanghai, one (a
/// mistake) in Beijing. Returns the app and the entry's id.
async fn stops(config: web::WebConfig) -> (TestApp, String) {
    let app = spawn_app_with(config).await;
    app.create_org("transport").await;
    let editor = app
        .user_with(
            "editor@transport.example.cn",
            None,
            Some(("transport", OrgRole::Editor)),
        )
        .await;
    let meta = json!({
        "name": "公交站点位置", "domain": "transport", "open_type": "unconditional",
        "update_frequency": "monthly",
        "data_items": [
            { "name": "stop_name", "label": "站点名称", "field_type": "text" },
            { "name": "lng", "label": "经度", "field_type": "decimal" },
            { "name": "lat", "label": "纬度", "field_type": "decimal" },
        ],
    });
    let dataset = app
        .create_entry_with("transport", meta, DatasetStatus::Published)
        .await;
    // Two stops in Shanghai, one (a mistake) in Beijing: drawn are the two.
    let file = "站点名称,经度,纬度\n人民广场站,121.475,31.228\n世纪大道站,121.527,31.229\n错站,116.40,39.90\n";
    let res = editor
        .client
        .post(app.at(&format!("/api/v1/datasets/{dataset}/data?name=stops.csv")))
        .header("x-csrf-token", &editor.csrf)
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // One row of three is wrong only by meaning (no rule declared): the file passes.
    app.run_jobs().await;
    (app, dataset)
}

#[tokio::test]
async fn data_with_coordinates_is_drawn_as_a_map_on_the_public_page() {
    let (app, dataset) = stops(test_config()).await;
    let (status, html) = app.page(&client(), &format!("/datasets/{dataset}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<circle").count(), 2, "{html}");
    // Every download the data has, Excel's included.
    for format in ["csv", "xlsx", "json", "ndjson", "parquet", "geojson"] {
        assert!(html.contains(&format!("format={format}\"")), "{format}");
    }
    assert!(html.contains("以点标出 3 行中的 2 行"));

    // As GeoJSON: every row a feature, its point in longitude-latitude order, its values as
    // properties (the row outside the area too: the file is the data as published).
    let res = client()
        .get(app.at(&format!("/datasets/{dataset}/download?format=geojson")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/geo+json");
    let geo: Value = res.json().await.unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    assert_eq!(features[0]["geometry"]["type"], "Point");
    assert_eq!(
        features[0]["geometry"]["coordinates"],
        json!([121.475, 31.228])
    );
    assert_eq!(features[2]["geometry"]["coordinates"], json!([116.4, 39.9]));
    assert_eq!(features[1]["properties"]["stop_name"], "世纪大道站");
}

#[tokio::test]
async fn with_a_tile_server_configured_the_map_is_drawn_over_its_tiles() {
    let mut config = test_config();
    config.map_tiles = Some(
        web::map::Tiles::parse(
            "https://tiles.example.org/{z}/{x}/{y}.png",
            "© 示例测绘 (Example Mapping)",
        )
        .unwrap(),
    );
    let (app, dataset) = stops(config).await;
    let res = client()
        .get(app.at(&format!("/datasets/{dataset}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The browser may fetch the tiles, and nothing else from elsewhere.
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("img-src 'self' data: https://tiles.example.org;"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let html = res.text().await.unwrap();
    // Shanghai fits 640 pixels at zoom 9; People's Square is on tile 9/428/209 (worked out by
    // hand from the Web Mercator formulas).
    assert!(
        html.contains("href=\"https://tiles.example.org/9/428/209.png\""),
        "{html}"
    );
    assert_eq!(html.matches("<circle").count(), 2);
    assert!(html.contains("© 示例测绘 (Example Mapping)"));
    assert!(html.contains("以点标出 3 行中的 2 行"));

    // Without a tile server the pages fetch no image from elsewhere.
    let (plain, dataset) = stops(test_config()).await;
    let res = client()
        .get(plain.at(&format!("/datasets/{dataset}")))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    assert!(!res.text().await.unwrap().contains("<image "));
}

#[tokio::test]
async fn geojson_is_refused_for_data_without_coordinates() {
    let s = published("unconditional").await;
    let res = client()
        .get(
            s.app
                .at(&format!("/datasets/{}/download?format=geojson", s.dataset)),
        )
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("GeoJSON is offered only"), "{body}");
}

/// The bytes of `path` on the app, asking with `headers`: the status, the headers and the body.
async fn fetch_with(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = client().get(app.at(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn stored_files_answer_range_requests_and_a_resumed_download_counts_once() {
    let s = published("unconditional").await;
    for format in ["parquet", "xlsx"] {
        let path = format!("/datasets/{}/download?format={format}", s.dataset);
        let (status, headers, whole) = fetch_with(&s.app, &path, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["accept-ranges"], "bytes");
        let etag = headers["etag"].to_str().unwrap().to_owned();
        let n = whole.len();
        assert!(n > 100, "{format}: {n} bytes");

        let (status, headers, part) = fetch_with(&s.app, &path, &[("range", "bytes=0-9")]).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{format}");
        assert_eq!(headers["content-range"], format!("bytes 0-9/{n}").as_str());
        assert_eq!(part, whole[..10]);
        // The rest, resumed with the validator the first answer gave.
        let (status, _, rest) = fetch_with(
            &s.app,
            &path,
            &[("range", "bytes=10-"), ("if-range", etag.as_str())],
        )
        .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(rest, whole[10..]);
        // The last bytes, by suffix.
        let (status, _, tail) = fetch_with(&s.app, &path, &[("range", "bytes=-4")]).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(tail, whole[n - 4..]);
        // A validator of another version: the whole file.
        let (status, _, again) = fetch_with(
            &s.app,
            &path,
            &[("range", "bytes=10-"), ("if-range", "\"other\"")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again, whole);
        // Another unit, several ranges, a range ending before it starts: the whole file.
        for careless in ["items=0-5", "bytes=0-1,5-6", "bytes=5-2", "bytes=abc"] {
            let (status, _, body) = fetch_with(&s.app, &path, &[("range", careless)]).await;
            assert_eq!(status, StatusCode::OK, "{careless}");
            assert_eq!(body, whole, "{careless}");
        }
        // Past the end.
        let past = format!("bytes={}-", n + 10);
        let (status, headers, _) = fetch_with(&s.app, &path, &[("range", past.as_str())]).await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(headers["content-range"], format!("bytes */{n}").as_str());
    }
    // Counted: per format the whole file six times (twice asked so, four times for ranges
    // ignored) and the first range once; the resumed parts, suffixes and refused ranges not.
    assert_eq!(settled_usage(&s, "download", 14).await, 14);
}

/// The usage log's count of `kind` (answered calls), once it reaches `want` (the counts arrive in the background,
/// in batches) and then stays put for longer than a batch takes.
async fn settled_usage(s: &Setup, kind: &str, want: i64) -> i64 {
    let count = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM usage_events \
             WHERE kind = $1 AND status_code < 400",
        )
        .bind(kind)
        .fetch_one(s.app.store.pool())
        .await
        .unwrap()
    };
    for _ in 0..100 {
        if count().await >= want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    count().await
}

#[tokio::test]
async fn a_version_left_ingesting_by_a_dead_worker_is_ended_by_housekeeping() {
    let s = setup("unconditional").await;
    let res = upload_good(&s).await;
    let v: Value = res.json().await.unwrap();
    // The worker died on the job's last attempt: the queue gave up on it, the version stayed.
    let version = s
        .app
        .store
        .data_version(v["id"].as_str().unwrap())
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET state = 'failed', attempts = max_attempts WHERE id = $1")
        .bind(version.job_id.as_deref().unwrap())
        .execute(s.app.store.pool())
        .await
        .unwrap();
    let again = upload(&s, "企业.csv", b"x".to_vec(), &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let now = s.app.clock_now();
    let job = store::jobs::NewJob {
        kind: app::jobs::HOUSEKEEPING.into(),
        payload: json!({}),
        max_attempts: 1,
        run_at: now,
        created_by: None,
    };
    s.app.store.enqueue_system_job(&job, now).await.unwrap();
    assert_eq!(s.app.run_jobs().await, 1);
    let ended = version_of(&s, &v).await;
    assert_eq!(ended["state"], "failed", "{ended}");
    let res = upload_good(&s).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

const BIN: &str = env!("CARGO_BIN_EXE_kaifang");

/// Runs `kaifang publish` against the app, running the app's jobs while it waits.
async fn publish_cli(
    s: &Setup,
    token: &str,
    file: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let child = tokio::process::Command::new(BIN)
        .args([
            "publish",
            "--server",
            &s.app.url,
            "--token",
            token,
            "--dataset",
            &s.dataset,
        ])
        .args(extra)
        .arg(file)
        .env_remove("KAIFANG_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = tokio::spawn(child.wait_with_output());
    for _ in 0..200 {
        if waiting.is_finished() {
            break;
        }
        s.app.run_jobs().await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    waiting.await.unwrap().unwrap()
}

#[tokio::test]
async fn an_agency_system_publishes_with_the_cli_and_hears_why_a_file_is_refused() {
    let s = setup("unconditional").await;
    let res = s
        .editor
        .post_json(
            s.app.at("/api/v1/me/tokens"),
            json!({ "name": "nightly push" }),
        )
        .await;
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("企业.csv");
    std::fs::write(&good, gbk(&format!("{HEADER}{GOOD_ROWS}"))).unwrap();
    let out = publish_cli(&s, &token, &good, &["--encoding", "GBK"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("{HEADER}91350100M000100Y44,甲,黄浦区,1,2024-03-01\n"),
    )
    .unwrap();
    let out = publish_cli(&s, &token, &bad, &["--append"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("check_credit_code") && err.contains("统一社会信用代码"),
        "{err}"
    );

    // A token that is not one: refused before anything is sent, exit 1.
    let out = publish_cli(&s, "kf_not-a-token", &good, &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("token_invalid"));
}

#[tokio::test]
async fn generate_from_a_file_adds_a_published_entry_with_the_file_as_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("platform");
    let data_dir = data_dir.to_str().unwrap();
    let seeded = std::process::Command::new(BIN)
        .args(["generate", "--data-dir", data_dir, "--entries", "1"])
        .env_remove("KAIFANG_CONFIG")
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let file = dir.path().join("licensed.csv");
    std::fs::write(
        &file,
        "企业名称,行政区划代码,注册资本\n甲公司,310101,100.5\n乙公司,310115,20\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args([
            "generate",
            "--data-dir",
            data_dir,
            "--org",
            "sh-transport",
            "--from-file",
        ])
        .arg(&file)
        .env_remove("KAIFANG_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let store = store::Store::connect(&format!("sqlite://{data_dir}/kaifang.db"))
        .await
        .unwrap();
    let d = store.dataset(&id).await.unwrap();
    assert_eq!(d.status, DatasetStatus::Published);
    assert_eq!(d.meta.name, "licensed");
    let items: Vec<(&str, &str)> = d
        .meta
        .data_items
        .iter()
        .map(|i| (i.label.as_str(), i.field_type.as_str()))
        .collect();
    // The district code keeps its digits as a code.
    assert_eq!(
        items,
        [
            ("企业名称", "text"),
            ("行政区划代码", "code"),
            ("注册资本", "decimal")
        ]
    );
    let data = d.data.expect("published data");
    assert_eq!((data.number, data.rows), (1, 2));
}

#[tokio::test]
async fn a_version_downloads_as_a_workbook_that_uploads_again_and_a_zip_bomb_is_refused() {
    let s = published("unconditional").await;
    let res = download(&s, "xlsx").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let workbook = res.bytes().await.unwrap().to_vec();
    assert!(workbook.starts_with(b"PK\x03\x04"));
    // The workbook, uploaded as the next version, reads as the same rows.
    let v: Value = upload(&s, "企业.xlsx", workbook, &[])
        .await
        .json()
        .await
        .unwrap();
    s.app.run_jobs().await;
    let v = version_of(&s, &v).await;
    assert_eq!(v["state"], "published", "{v}");
    let (_, r) = records(&s, "sort=uscc").await;
    assert_eq!(r["version"], 2);
    assert_eq!(r["records"][2]["uscc"], "91350100M000100Y43");
    assert_eq!(r["records"][2]["capital"], 100.5);
    assert_eq!(r["records"][0]["licensed_on"], "2023-12-31");

    // A zip bomb named .xlsx: 200 MB of zeros packed small.
    let bomb = std::process::Command::new("python3")
        .args([
            "-c",
            "import io,sys,zipfile\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w',zipfile.ZIP_DEFLATED)\nz.writestr('xl/worksheets/sheet1.xml', b'\\0'*(200<<20))\nz.close()\nsys.stdout.buffer.write(b.getvalue())",
        ])
        .output()
        .unwrap()
        .stdout;
    assert!(bomb.len() < 1 << 20);
    let v: Value = upload(&s, "bomb.xlsx", bomb, &[])
        .await
        .json()
        .await
        .unwrap();
    s.app.run_jobs().await;
    let v = version_of(&s, &v).await;
    assert_eq!(v["state"], "refused");
    assert!(v["error"].as_str().unwrap().contains("zip bomb"), "{v}");
    // A text file named .xlsx is not taken.
    let res = upload(&s, "fake.xlsx", b"a,b\n1,2\n".to_vec(), &[]).await;
    assert_eq!(error_code(&res), "format_mismatch");
}

#[tokio::test]
async fn geojson_features_upload_with_their_points() {
    let app = spawn_app().await;
    app.create_org("health").await;
    let editor = app
        .user_with(
            "editor@health.example.cn",
            None,
            Some(("health", OrgRole::Editor)),
        )
        .await;
    let meta = json!({
        "name": "医疗机构", "domain": "health", "open_type": "unconditional",
        "update_frequency": "monthly",
        "data_items": [
            { "name": "name", "label": "机构名称", "field_type": "text" },
            { "name": "beds", "label": "床位数", "field_type": "integer" },
            { "name": "location", "label": "位置", "field_type": "geometry",
              "rules": { "check": "in_area" } },
        ],
    });
    let dataset = app
        .create_entry_with("health", meta, DatasetStatus::Published)
        .await;
    let geo = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"name":"瑞金医院","beds":2000},"geometry":{"type":"Point","coordinates":[121.468,31.211]}},
        {"type":"Feature","properties":{"name":"华山医院","beds":1300},"geometry":{"type":"Point","coordinates":[121.441,31.216]}}]}"#;
    let res = editor
        .client
        .post(app.at(&format!(
            "/api/v1/datasets/{dataset}/data?name=hospitals.geojson"
        )))
        .header("x-csrf-token", &editor.csrf)
        .body(geo)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    app.run_jobs().await;
    let r: Value = client()
        .get(app.at(&format!("/api/v1/datasets/{dataset}/records?sort=-beds")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"], 2, "{r}");
    assert_eq!(r["records"][0]["location"], "POINT (121.468 31.211)");
    let (_, html) = app.page(&client(), &format!("/datasets/{dataset}")).await;
    assert_eq!(html.matches("<circle").count(), 2);
}

async fn sql(s: &Setup, body: Value) -> (StatusCode, Value) {
    let res = client()
        .post(s.app.at("/api/v1/sql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn anyone_queries_open_data_with_one_read_only_select() {
    let s = published("unconditional").await;
    let (status, r) = sql(
        &s,
        json!({ "sql": "SELECT district, count(*) AS n, sum(capital) AS capital FROM \"上海市持证企业名录\" GROUP BY district ORDER BY district" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        r["columns"],
        json!([{ "name": "district", "type": "text" }, { "name": "n", "type": "integer" }, { "name": "capital", "type": "decimal" }])
    );
    // Districts by code point: 徐 (U+5F90) before 浦 (U+6D66) before 黄 (U+9EC4).
    assert_eq!(
        r["rows"],
        json!([
            ["徐汇区", 1, null],
            ["浦东新区", 1, 20.0],
            ["黄浦区", 1, 100.5]
        ])
    );
    assert_eq!(r["tables"], json!([s.dataset]));
    // By the entry's id, as CSV.
    let res = client()
        .get(s.app.at(&format!(
            "/api/v1/sql?format=csv&sql=SELECT%20count(*)%20AS%20n%20FROM%20%22{}%22",
            s.dataset
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "\u{feff}n\n3\n");

    for (query, code) in [
        ("DELETE FROM \"上海市持证企业名录\"", "sql_not_select"),
        ("CREATE TABLE x AS SELECT 1", "sql_not_select"),
        ("COPY (SELECT 1) TO '/tmp/out.csv'", "sql_not_select"),
        (
            "SELECT * FROM generate_series(1, 1000000000000)",
            "sql_function",
        ),
        ("SELECT * FROM no_such_entry", "sql_unknown_table"),
        ("SELECT nonsense FROM \"上海市持证企业名录\"", "sql_plan"),
        ("SELEKT 1", "sql_syntax"),
        ("SELECT 1; SELECT 2", "sql_not_select"),
    ] {
        let (status, r) = sql(&s, json!({ "sql": query })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {r}");
        assert_eq!(r["error"]["fields"][0]["code"], code, "{query}: {r}");
    }
}

#[tokio::test]
async fn conditional_data_is_no_table_and_limits_are_named_when_passed() {
    let s = published("conditional").await;
    let (status, r) = sql(
        &s,
        json!({ "sql": format!("SELECT * FROM \"{}\"", s.dataset) }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["fields"][0]["code"], "sql_unknown_table");

    let mut config = test_config();
    config.data.sql = data::sql::Limits {
        time: std::time::Duration::from_secs(30),
        memory_bytes: 64 << 20,
        rows: 2,
    };
    let limited = setup_with(config, "unconditional").await;
    upload_good(&limited).await;
    limited.app.run_jobs().await;
    let (status, r) = sql(
        &limited,
        json!({ "sql": "SELECT * FROM \"上海市持证企业名录\"" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["fields"][0]["code"], "sql_row_limit", "{r}");
    assert!(
        r["error"]["fields"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("2 rows")
    );
}

#[tokio::test]
async fn downloads_and_queries_of_data_are_logged_with_what_they_answered() {
    let s = published("unconditional").await;
    let visitor = client();
    let mut sent = Vec::new();
    for path in [
        format!("/datasets/{}/download?format=csv", s.dataset),
        format!(
            "/api/v1/datasets/{}/records?limit=1&fields=name,district",
            s.dataset
        ),
        format!("/api/v1/datasets/{}/records?district=x", s.dataset),
    ] {
        let res = visitor.get(s.app.at(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        sent.push(res.bytes().await.unwrap().len() as i64);
    }
    // A refused query is logged with its status, and is not a read.
    let res = visitor
        .get(s.app.at(&format!(
            "/api/v1/datasets/{}/records?nosuchfield__gt=1",
            s.dataset
        )))
        .send()
        .await
        .unwrap();
    let refused = res.status().as_u16() as i32;
    assert!(res.status().is_client_error(), "{refused}");
    res.bytes().await.unwrap();
    assert_eq!(settled_usage(&s, "download", 1).await, 1, "one download");
    assert_eq!(settled_usage(&s, "records", 2).await, 2, "two queries");
    /// kind, version, fields, status, calls, records, bytes.
    type Logged = (String, Option<i64>, String, i32, i64, i64, i64);
    let mut logged: Vec<Logged> = sqlx::query_as(
        "SELECT kind, version_number, field_list, status_code, count, row_count, byte_count \
         FROM usage_events WHERE dataset_id = $1",
    )
    .bind(&s.dataset)
    .fetch_all(s.app.store.pool())
    .await
    .unwrap();
    logged.sort();
    assert_eq!(
        logged,
        [
            // The whole file: its three records, as many bytes as the visitor received.
            (
                "download".to_owned(),
                Some(1),
                String::new(),
                200,
                1,
                3,
                sent[0]
            ),
            (
                "records".to_owned(),
                Some(1),
                String::new(),
                200,
                1,
                0,
                sent[2]
            ),
            (
                "records".to_owned(),
                Some(1),
                String::new(),
                refused,
                1,
                0,
                0
            ),
            (
                "records".to_owned(),
                Some(1),
                "district,name".to_owned(),
                200,
                1,
                1,
                sent[1]
            ),
        ]
    );
}

#[tokio::test]
async fn purging_unattached_uploads_leaves_a_data_file_of_the_same_content() {
    let s = published("unconditional").await;
    let bytes = format!("{HEADER}{GOOD_ROWS}");
    // The same file, also sent as an upload that is never attached.
    let res = s
        .editor
        .upload_raw(&s.app, "企业.csv", bytes.clone().into_bytes())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    s.app.clock.advance_seconds(25 * 3600);
    let a = app::App::new(
        s.app.store.clone(),
        s.app.blobs.clone(),
        s.app.clock.clone(),
        app::Config::default(),
    );
    assert_eq!(app::uploads::purge(&a).await.unwrap(), 0);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes.as_bytes()))
    };
    assert!(
        s.app.blobs.exists(&sha).await.unwrap(),
        "the version's source stays"
    );
}

#[tokio::test]
async fn the_operator_sees_each_providers_upload_quality_by_month() {
    let s = setup("unconditional").await;
    // Refused: of three rows only the first is clean (33.3); then the fixed file (100.0).
    let bad = format!(
        "{HEADER}91350100M000100Y43,甲,黄浦区,1,2024-03-01\n\
         91350100M000100Y43,乙,黄浦区,1,2024-03-01\n\
         91310000MA1FL0XY4N,丙,静安区,1,2024-03-01\n"
    );
    upload(&s, "企业.csv", bad.into_bytes(), &[]).await;
    s.app.run_jobs().await;
    upload_good(&s).await;
    s.app.run_jobs().await;

    let op = s
        .app
        .user_with(
            "op@example.cn",
            Some(domain::roles::PlatformRole::Operator),
            None,
        )
        .await;
    let q: Value = op.get_json(s.app.at("/api/v1/quality?months=2")).await;
    let providers = q["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 1, "{q}");
    let market = &providers[0];
    assert_eq!(market["org"], "market");
    let months = market["months"].as_array().unwrap();
    assert_eq!(months.len(), 3, "this month and the two before");
    let now = &months[2];
    assert_eq!(
        (
            now["uploads"].clone(),
            now["published"].clone(),
            now["refused"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    // (33.3 + 100.0) / 2, to one decimal.
    assert_eq!(now["mean_score"], 66.7);
    assert_eq!(now["lowest_score"], 33.3);
    assert_eq!(months[0]["uploads"], 0);

    let (status, page) = s.app.page(&op.client, "/console/quality").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("66.7") && page.contains("退回 1 次"),
        "{page}"
    );
    let (_, console) = s.app.page(&op.client, "/console").await;
    assert!(console.contains("/console/quality"));
    // Beyond two years is refused, naming the parameter.
    let res = op
        .client
        .get(s.app.at("/api/v1/quality?months=25"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Posts `bytes` as the file `name` to the console's "new entry from a file" form of `org`.
async fn from_file(
    app: &TestApp,
    who: &Session,
    org: &str,
    name: &str,
    bytes: Vec<u8>,
    csrf: &str,
) -> (StatusCode, String) {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.to_owned())
        .text("encoding", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    let res = who
        .client
        .post(app.at(&format!("/console/orgs/{org}/datasets/from-file")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_provider_starts_a_new_entry_from_a_file_and_confirms_its_suggested_items() {
    // A scratch folder of the test's own, to see that the file is not kept.
    let scratch = tempfile::tempdir().unwrap();
    let mut config = test_config();
    config.data.scratch_dir = scratch.path().to_owned();
    let s = setup_with(config, "unconditional").await;
    let (status, page) = s.app.page(&s.editor.client, "/console/orgs/market").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/console/orgs/market/datasets/from-file"));
    let (status, form) = s
        .app
        .page(&s.editor.client, "/console/orgs/market/datasets/from-file")
        .await;
    assert_eq!(status, StatusCode::OK);
    let csrf = form_csrf(&form);

    // GBK, a code column with leading zeros, a number deep in the file that is not an integer.
    let mut text = String::from("行政区划代码,站点名称,客流量,开通日期\n");
    for i in 0..3000 {
        text.push_str(&format!("0310{i:02},人民广场{i},{i},2024-03-01\n"));
    }
    text.push_str("031099,末站,12.5,2024-03-02\n");
    let (status, page) =
        from_file(&s.app, &s.editor, "market", "站点.csv", gbk(&text), &csrf).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("建议了 4 个数据项"), "{page}");
    // The entry form, its items filled: Chinese headers are labels, fields named by column;
    // the code stays text (code), the last row makes the count a decimal.
    for (i, label, field_type) in [
        (0, "行政区划代码", "code"),
        (1, "站点名称", "text"),
        (2, "客流量", "decimal"),
        (3, "开通日期", "date"),
    ] {
        assert!(
            page.contains(&format!("name=\"data_items[{i}].label\" value=\"{label}\"")),
            "{label}: {page}"
        );
        assert!(
            page.contains(&format!("<option value=\"{field_type}\" selected>")),
            "{field_type}"
        );
    }
    assert!(page.contains("action=\"/console/orgs/market/datasets\""));

    // Not a text file, a file without a header row, a forged form: refused, nothing kept.
    let (status, page) = from_file(
        &s.app,
        &s.editor,
        "market",
        "站点.xlsx",
        b"PK".to_vec(),
        &csrf,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("CSV 或 TSV"), "{page}");
    let (status, page) = from_file(&s.app, &s.editor, "market", "空.csv", Vec::new(), &csrf).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("没有表头行"), "{page}");
    let (status, _) = from_file(
        &s.app,
        &s.editor,
        "market",
        "站点.csv",
        gbk(&text),
        "forged",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let kept = std::fs::read_dir(scratch.path()).unwrap().count();
    assert_eq!(kept, 0, "the files read are not kept");
}
