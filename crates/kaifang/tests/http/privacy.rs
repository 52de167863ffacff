//! The privacy guard over HTTP (A10.3, A12.1, A14.1): personal information in an upload of
//! unconditional data stops it with the findings; the provider's de-identification rules, or
//! an operator's exception with a reason, let it through; what is opened holds no original
//! value; the raw upload stays where no open path reads.

use domain::openlist::vocab::DatasetStatus;
use domain::roles::{OrgRole, PlatformRole};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// An unconditional entry about people: the kind of data the guard exists for.
fn residents() -> Value {
    json!({
        "name": "上海市社区志愿者名录",
        "domain": "livelihood",
        "open_type": "unconditional",
        "update_frequency": "monthly",
        "data_items": [
            { "name": "id_number", "label": "身份证号", "field_type": "code" },
            { "name": "full_name", "label": "姓名", "field_type": "text" },
            { "name": "phone", "label": "联系电话", "field_type": "code" },
            { "name": "born", "label": "出生日期", "field_type": "date" },
            { "name": "district", "label": "所属区", "field_type": "text" },
        ],
    })
}

/// GB 11643: the check character of 17 digits (weights 2^(17-i) mod 11).
fn id_check(first17: &str) -> char {
    let sum: u32 = first17
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * ((1u32 << (17 - i)) % 11))
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

struct Person {
    id: String,
    name: String,
    phone: String,
    born: String,
}

fn people(n: usize) -> Vec<Person> {
    let surnames = ['王', '李', '张', '刘', '陈', '杨'];
    let given = ['伟', '芳', '娜', '敏', '静', '磊', '强'];
    (0..n)
        .map(|i| {
            let born = format!("19{:02}-{:02}-{:02}", 50 + i % 40, 1 + i % 12, 1 + i % 28);
            let first = format!("310104{}{:03}", born.replace('-', ""), i);
            Person {
                id: format!("{first}{}", id_check(&first)),
                name: format!("{}{}{}", surnames[i % 6], given[i % 7], given[(i / 7) % 7]),
                phone: format!("139{:08}", 10_000_000 + i * 7919),
                born,
            }
        })
        .collect()
}

fn csv(people: &[Person]) -> Vec<u8> {
    let mut out = String::from("身份证号,姓名,联系电话,出生日期,所属区\n");
    for p in people {
        out.push_str(&format!(
            "{},{},{},{},徐汇区\n",
            p.id, p.name, p.phone, p.born
        ));
    }
    out.into_bytes()
}

async fn anonymous_json(url: String) -> Value {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

struct Setup {
    app: TestApp,
    editor: Session,
    dataset: String,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    app.create_org("civil").await;
    let editor = app
        .user_with(
            "editor@civil.example.cn",
            None,
            Some(("civil", OrgRole::Editor)),
        )
        .await;
    let dataset = app
        .create_entry_with("civil", residents(), DatasetStatus::Published)
        .await;
    Setup {
        app,
        editor,
        dataset,
    }
}

impl Setup {
    fn at(&self, path: &str) -> String {
        self.app
            .at(&format!("/api/v1/datasets/{}{path}", self.dataset))
    }

    /// Uploads `bytes` as `志愿者.csv`, runs the ingestion, and returns the version as its
    /// provider sees it.
    async fn upload(&self, bytes: Vec<u8>) -> Value {
        let res = self
            .editor
            .client
            .post(format!("{}?name=志愿者.csv", self.at("/data")))
            .header("x-csrf-token", &self.editor.csrf)
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let v: Value = res.json().await.unwrap();
        assert!(self.app.run_jobs().await >= 1);
        let id = v["id"].as_str().unwrap();
        self.editor
            .get_json(self.at(&format!("/data/versions/{id}")))
            .await
    }

    async fn plan(&self, who: &Session, body: Value) -> reqwest::Response {
        who.send_json(Method::PUT, self.at("/privacy"), &body).await
    }
}

#[tokio::test]
async fn personal_information_stops_unconditional_data_until_rules_deal_with_it() {
    let s = setup().await;
    let folks = people(40);
    let refused = s.upload(csv(&folks)).await;
    assert_eq!(refused["state"], "refused", "{refused}");
    let personal = &refused["report"]["personal"];
    assert_eq!(personal["unhandled"], 3, "{personal}");
    let flagged: Vec<(&str, &str)> = personal["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["item"].as_str().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        flagged,
        [
            ("id_number", "resident_id"),
            ("full_name", "person_name"),
            ("phone", "mobile")
        ]
    );
    // The findings name rows but never show a value whole.
    let text = refused.to_string();
    for p in &folks {
        assert!(!text.contains(&p.id) && !text.contains(&p.phone));
    }
    let privacy = s.editor.get_json(s.at("/privacy")).await;
    assert_eq!(privacy["row_version"], 0);
    assert_eq!(privacy["scan"]["unhandled"], 3);
    assert_eq!(privacy["scan"]["findings"][0]["examples"][0]["line"], 2);

    // Rules for two of the three: still refused, for the third.
    let res = s
        .plan(
            &s.editor,
            json!({
                "rules": {
                    "id_number": { "rule": "mask", "keep_start": 6, "keep_end": 0 },
                    "phone": { "rule": "pseudonym" },
                },
                "row_version": 0,
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["row_version"], 1);
    let still = s.upload(csv(&folks)).await;
    assert_eq!(still["state"], "refused");
    assert_eq!(still["report"]["personal"]["unhandled"], 1);
    let codes: Vec<&str> = still["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["detail"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(codes, ["person_name"]);

    let res = s
        .plan(
            &s.editor,
            json!({
                "rules": {
                    "id_number": { "rule": "mask", "keep_start": 6, "keep_end": 0 },
                    "phone": { "rule": "pseudonym" },
                    "full_name": { "rule": "suppress" },
                    "born": { "rule": "date_to", "unit": "year" },
                },
                "row_version": 1,
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let published = s.upload(csv(&folks)).await;
    assert_eq!(published["state"], "published", "{published}");

    // What anyone reads holds no original value of a masked, pseudonymised or suppressed
    // item, and the dates only their year.
    let records = anonymous_json(s.at("/records?limit=100")).await;
    let rows = records["records"].as_array().unwrap();
    assert_eq!(rows.len(), 40);
    let text = records.to_string();
    for p in &folks {
        assert!(!text.contains(&p.id), "{}", p.id);
        assert!(!text.contains(&p.phone), "{}", p.phone);
        assert!(!text.contains(&p.name), "{}", p.name);
        assert!(!text.contains(&p.born), "{}", p.born);
    }
    assert_eq!(rows[0]["id_number"], "310104************");
    assert!(rows[0]["full_name"].is_null());
    assert_eq!(rows[0]["born"], "1950");
    let pseudonym = rows[0]["phone"].as_str().unwrap();
    assert_eq!(pseudonym.len(), 32);
    // The same phone gets the same pseudonym in the next version.
    let again = s.upload(csv(&folks)).await;
    assert_eq!(again["state"], "published");
    let records = anonymous_json(s.at("/records?limit=1")).await;
    assert_eq!(records["records"][0]["phone"], pseudonym);
    // The public CSV download likewise.
    let download = client()
        .get(
            s.app
                .at(&format!("/datasets/{}/download?format=csv", s.dataset)),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!folks.iter().any(|p| download.contains(&p.phone)));
}

#[tokio::test]
async fn bad_plans_are_refused_naming_the_item_and_change_nothing() {
    let s = setup().await;
    let cases = [
        (
            json!({ "rules": { "ghost": { "rule": "suppress" } }, "row_version": 0 }),
            "rules.ghost",
            "unknown_item",
        ),
        (
            json!({ "rules": { "full_name": { "rule": "round", "step": 10 } }, "row_version": 0 }),
            "rules.full_name",
            "rule_does_not_fit_type",
        ),
        (
            json!({ "rules": { "born": { "rule": "noise", "amplitude": -1 } }, "row_version": 0 }),
            "rules.born",
            "out_of_range",
        ),
        (
            json!({ "rules": { "id_number": { "rule": "mask", "keep_start": 200, "keep_end": 0 } }, "row_version": 0 }),
            "rules.id_number",
            "mask_too_wide",
        ),
        (
            json!({ "rules": {}, "quasi_identifiers": ["born", "born"], "row_version": 0 }),
            "quasi_identifiers.born",
            "duplicate",
        ),
        (
            json!({ "rules": {}, "quasi_identifiers": ["born"], "sensitive": "born", "row_version": 0 }),
            "sensitive",
            "also_quasi_identifier",
        ),
    ];
    for (body, field, code) in cases {
        let res = s.plan(&s.editor, body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: Value = res.json().await.unwrap();
        let fields = err["error"]["fields"].as_array().unwrap();
        assert!(
            fields
                .iter()
                .any(|f| f["field"] == field && f["code"] == code),
            "{err}"
        );
    }
    // Rules that are not rules, and unknown fields, are malformed.
    for body in [
        json!({ "rules": { "full_name": { "rule": "explode" } }, "row_version": 0 }),
        json!({ "rules": {}, "row_version": 0, "secret": "x" }),
    ] {
        let res = s.plan(&s.editor, body).await;
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let privacy = s.editor.get_json(s.at("/privacy")).await;
    assert_eq!(privacy["row_version"], 0);
    assert_eq!(privacy["rules"], json!({}));

    // A version that cannot be is a stale one, never an error of the server.
    for base in [i64::MAX, -1] {
        let res = s
            .plan(&s.editor, json!({ "rules": {}, "row_version": base }))
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{base}");
    }
    // Two editors from the same version: the second is told, and the first stays.
    let first = json!({ "rules": { "full_name": { "rule": "suppress" } }, "row_version": 0 });
    assert_eq!(s.plan(&s.editor, first).await.status(), StatusCode::OK);
    let second = json!({ "rules": {}, "row_version": 0 });
    let res = s.plan(&s.editor, second).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let privacy = s.editor.get_json(s.at("/privacy")).await;
    assert_eq!(privacy["rules"]["full_name"]["rule"], "suppress");
}

#[tokio::test]
async fn an_operator_exception_lets_one_kind_through_with_its_reason() {
    let s = setup().await;
    let operator = s
        .app
        .user_with("operator@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let folks = people(30);
    s.plan(
        &s.editor,
        json!({
            "rules": {
                "id_number": { "rule": "suppress" },
                "phone": { "rule": "suppress" },
            },
            "row_version": 0,
        }),
    )
    .await;
    let refused = s.upload(csv(&folks)).await;
    assert_eq!(refused["report"]["personal"]["unhandled"], 1);

    // The provider cannot let its own data through.
    let grant = json!({ "item": "full_name", "kind": "person_name",
                        "reason": "志愿者同意公开姓名（见授权书）" });
    let res = s
        .editor
        .post_json(s.at("/privacy/exceptions"), grant.clone())
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Bad exceptions are refused naming what is wrong.
    for (body, field) in [
        (
            json!({ "item": "full_name", "kind": "dna", "reason": "x" }),
            "kind",
        ),
        (
            json!({ "item": "nobody", "kind": "person_name", "reason": "x" }),
            "item",
        ),
        (
            json!({ "item": "full_name", "kind": "person_name", "reason": "  " }),
            "reason",
        ),
        (
            json!({ "item": "full_name", "kind": "person_name", "reason": "a".repeat(3000) }),
            "reason",
        ),
    ] {
        let res = operator.post_json(s.at("/privacy/exceptions"), body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["fields"][0]["field"], field, "{err}");
    }
    let res = operator
        .post_json(s.at("/privacy/exceptions"), grant.clone())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let exception: Value = res.json().await.unwrap();
    let res = operator.post_json(s.at("/privacy/exceptions"), grant).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    let published = s.upload(csv(&folks)).await;
    assert_eq!(published["state"], "published", "{published}");
    let privacy = s.editor.get_json(s.at("/privacy")).await;
    assert_eq!(
        privacy["exceptions"][0]["reason"],
        "志愿者同意公开姓名（见授权书）"
    );
    let handled: Vec<&str> = privacy["scan"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["handled_by"].as_str().unwrap())
        .collect();
    assert_eq!(handled, ["rule", "exception", "rule"]);

    // Withdrawn, the next upload is held to the rules again.
    let id = exception["id"].as_str().unwrap();
    let res = operator
        .delete(s.at(&format!("/privacy/exceptions/{id}")))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let refused = s.upload(csv(&folks)).await;
    assert_eq!(refused["state"], "refused");
}

#[tokio::test]
async fn conditional_data_is_scanned_but_not_stopped_and_raw_uploads_stay_restricted() {
    let s = setup().await;
    let mut meta = residents();
    meta["name"] = json!("上海市社区志愿者联系名录");
    meta["open_type"] = json!("conditional");
    meta["conditions"] = json!([{ "kind": "scenario", "text": "社区服务研究" }]);
    let conditional = s
        .app
        .create_entry_with("civil", meta, DatasetStatus::Published)
        .await;
    let t = Setup {
        app: s.app,
        editor: s.editor,
        dataset: conditional,
    };
    let folks = people(20);
    let bytes = csv(&folks);
    let v = t.upload(bytes.clone()).await;
    assert_eq!(v["state"], "published", "{v}");
    assert_eq!(v["report"]["personal"]["unhandled"], 3);
    assert_eq!(v["report"]["personal"]["blocks"], false);
    // Its rows cannot be shown to anyone as a sample while they hold it.
    let operator = t
        .app
        .user_with("operator@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let res = operator
        .post_json(t.at("/sample"), json!({ "percent": 50 }))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["fields"][0]["code"], "personal_information");
    // Nor can the entry be opened to anyone while its data holds it.
    let entry = t
        .editor
        .get_json(t.app.at(&format!("/api/v1/datasets/{}", t.dataset)))
        .await;
    let mut open = entry["metadata"].clone();
    open["open_type"] = json!("unconditional");
    open["conditions"] = json!([]);
    let res = t
        .editor
        .post_json(
            t.at("/tickets"),
            json!({ "kind": "modify", "reason": "改为无条件开放", "proposed": open }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    let fields: Vec<(&str, &str)> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert!(
        fields.contains(&("proposed.open_type", "personal_information_in_data")),
        "{fields:?}"
    );
    // The raw file is in the restricted area of the file store, not the open one.
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    assert!(t.app.blobs.restricted().exists(&sha).await.unwrap());
    assert!(!t.app.blobs.exists(&sha).await.unwrap());
}

#[tokio::test]
async fn rows_that_single_someone_out_are_not_opened_and_the_report_says_what_helps() {
    let s = setup().await;
    let folks = people(40);
    let rules = json!({
        "id_number": { "rule": "suppress" },
        "full_name": { "rule": "suppress" },
        "phone": { "rule": "suppress" },
        "born": { "rule": "date_to", "unit": "year" },
    });
    let res = s
        .plan(
            &s.editor,
            json!({ "rules": rules, "quasi_identifiers": ["born", "district"], "row_version": 0 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Each birth year is someone's alone: groups of one.
    let refused = s.upload(csv(&folks)).await;
    assert_eq!(refused["state"], "refused", "{refused}");
    let risk = &refused["report"]["risk"];
    assert_eq!(risk["k"], 1, "{risk}");
    assert_eq!(risk["threshold"], 5);
    assert_eq!(risk["groups"], 40);
    assert_eq!(risk["rows_below"], 40);
    assert_eq!(risk["smallest"][0]["size"], 1);
    assert_eq!(risk["suggestions"][0]["item"], "born");
    assert_eq!(risk["suggestions"][0]["k"], 40);
    let k_finding = refused["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "k_anonymity")
        .expect("the refusal names k");
    assert_eq!(k_finding["detail"], "1/5");

    // Taking the birth year out leaves one group of forty.
    let mut rules = rules;
    rules["born"] = json!({ "rule": "suppress" });
    s.plan(
        &s.editor,
        json!({ "rules": rules, "quasi_identifiers": ["born", "district"], "row_version": 1 }),
    )
    .await;
    let published = s.upload(csv(&folks)).await;
    assert_eq!(published["state"], "published", "{published}");
    assert_eq!(published["report"]["risk"]["k"], 40);
}

#[tokio::test]
async fn the_operator_publishes_a_faithful_sample_of_conditional_data_that_anyone_downloads() {
    let s = setup().await;
    let operator = s
        .app
        .user_with("operator@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let unconditional = s.dataset.clone();
    let mut meta = residents();
    meta["name"] = json!("上海市社区志愿者服务记录");
    meta["open_type"] = json!("conditional");
    meta["conditions"] = json!([{ "kind": "scenario", "text": "社区服务研究" }]);
    let dataset = s
        .app
        .create_entry_with("civil", meta, DatasetStatus::Published)
        .await;
    let t = Setup {
        app: s.app,
        editor: s.editor,
        dataset,
    };
    t.plan(
        &t.editor,
        json!({
            "rules": {
                "id_number": { "rule": "mask", "keep_start": 6, "keep_end": 0 },
                "full_name": { "rule": "suppress" },
                "phone": { "rule": "pseudonym" },
            },
            "row_version": 0,
        }),
    )
    .await;
    let folks = people(400);
    assert_eq!(t.upload(csv(&folks)).await["state"], "published");

    // Only the operator defines a sample, of conditional data, sized one way.
    let res = t
        .editor
        .post_json(t.at("/sample"), json!({ "percent": 10 }))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for (body, field) in [
        (json!({ "percent": 10, "rows": 5 }), "size"),
        (json!({}), "size"),
        (json!({ "rows": 0 }), "size.rows"),
        (json!({ "percent": 150 }), "size.percent"),
        (json!({ "percent": 10, "strata": ["ghost"] }), "strata"),
    ] {
        let res = operator.post_json(t.at("/sample"), body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["fields"][0]["field"], field, "{err}");
    }
    let res = operator
        .post_json(
            t.at("/sample"),
            json!({ "percent": 10, "strata": ["born"], "seed": 7 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let drawn: Value = res.json().await.unwrap();
    assert_eq!(drawn["state"], "building");
    assert_eq!(drawn["seed"], 7);
    assert_eq!(t.app.run_jobs().await, 1);

    // Anyone reads the fidelity report and downloads the sample without applying.
    let sample = anonymous_json(t.at("/sample")).await;
    let current = &sample["current"];
    assert_eq!(current["state"], "published", "{sample}");
    assert_eq!(current["rows"], 40);
    assert_eq!(current["fidelity"]["faithful"], true);
    assert!(sample["newest"].is_null(), "internal only");
    let res = client()
        .get(
            t.app
                .at(&format!("/datasets/{}/sample?format=csv", t.dataset)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert_eq!(text.lines().count(), 41, "{text}");
    for p in &folks {
        assert!(!text.contains(&p.id) && !text.contains(&p.phone) && !text.contains(&p.name));
    }
    // The download is in the usage log (A25.5): a download of the entry, of version 1, its
    // 40 records.
    let mut logged: Option<(Option<i64>, i64)> = None;
    for _ in 0..100 {
        logged = sqlx::query_as(
            "SELECT version_number, row_count FROM usage_events \
             WHERE dataset_id = $1 AND kind = 'download' AND status_code = 200",
        )
        .bind(&t.dataset)
        .fetch_optional(t.app.store.pool())
        .await
        .unwrap();
        if logged.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(logged, Some((Some(1), 40)));
    // The public page offers it with its fidelity, as a resource of the entry.
    let page = client()
        .get(t.app.at(&format!("/datasets/{}", t.dataset)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"sample-section\""), "{page}");
    assert!(page.contains(&format!("/datasets/{}/sample?format=csv", t.dataset)));
    // And to CKAN clients, a resource of the package that downloads for real.
    let package = anonymous_json(
        t.app
            .at(&format!("/api/3/action/package_show?id={}", t.dataset)),
    )
    .await;
    let resources = package["result"]["resources"].as_array().unwrap();
    let sample = resources
        .iter()
        .find(|r| r["id"] == format!("{}-sample", t.dataset))
        .unwrap_or_else(|| panic!("{package}"));
    assert_eq!(sample["format"], "CSV");
    let url = sample["url"].as_str().unwrap();
    let path = &url[url.find("/datasets/").unwrap()..];
    let res = client().get(t.app.at(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap().lines().count(), 41);
    let shown = anonymous_json(t.app.at(&format!(
        "/api/3/action/resource_show?id={}-sample",
        t.dataset
    )))
    .await;
    assert_eq!(shown["result"]["id"], sample["id"]);
    // The data itself stays behind its agreement.
    let records = client()
        .get(t.at("/records"))
        .send()
        .await
        .unwrap()
        .status();
    assert!(records.is_client_error(), "{records}");

    // A sample too small to reflect the data is kept unpublished; the published one stays.
    operator
        .post_json(t.at("/sample"), json!({ "rows": 1 }))
        .await;
    t.app.run_jobs().await;
    let sample = t.editor.get_json(t.at("/sample")).await;
    assert_eq!(sample["newest"]["state"], "refused", "{sample}");
    assert_eq!(sample["current"]["id"], current["id"]);

    // Each new version draws the sample again, by the last definition.
    operator
        .post_json(t.at("/sample"), json!({ "percent": 10 }))
        .await;
    t.app.run_jobs().await;
    let before = anonymous_json(t.at("/sample")).await["current"]["id"].clone();
    assert_eq!(t.upload(csv(&folks)).await["state"], "published");
    t.app.run_jobs().await;
    let after = anonymous_json(t.at("/sample")).await;
    let newest = t.editor.get_json(t.at("/sample")).await;
    assert_ne!(after["current"]["id"], before, "{newest}");
    assert_eq!(after["current"]["rows"], 40);

    // Unconditional data is open whole: it has no sample to define.
    let res = operator
        .post_json(
            t.app
                .at(&format!("/api/v1/datasets/{unconditional}/sample")),
            json!({ "percent": 10 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_provider_sets_rules_on_the_privacy_page_after_previewing_them() {
    let s = setup().await;
    let folks = people(30);
    assert_eq!(s.upload(csv(&folks)).await["state"], "refused");
    let path = format!("/console/datasets/{}/privacy", s.dataset);
    let (status, html) = s.app.page(&s.editor.client, &path).await;
    assert_eq!(status, StatusCode::OK);
    // The findings sit next to their items, masked.
    assert!(
        html.contains("居民身份证号码") && html.contains("未处理"),
        "{html}"
    );
    assert!(!folks.iter().any(|p| html.contains(&p.id)));

    let rules: &[(&str, &str)] = &[
        ("row_version", "0"),
        ("rule.id_number", "mask"),
        ("a.id_number", "6"),
        ("b.id_number", "4"),
        ("rule.full_name", "suppress"),
        ("rule.phone", "pseudonym"),
    ];
    // The preview shows the first rows as uploaded and as they would be opened.
    let mut preview = rules.to_vec();
    preview.push(("action", "preview"));
    let res = s.editor.post_form(s.app.at(&path), &preview).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let first = &folks[0].id;
    let masked = format!("{}********{}", &first[..6], &first[14..]);
    assert!(html.contains(&format!("<del>{first}</del>")), "{html}");
    assert!(html.contains(&format!("<ins>{masked}</ins>")), "{html}");
    // Nothing was saved by previewing.
    let privacy = s.editor.get_json(s.at("/privacy")).await;
    assert_eq!(privacy["row_version"], 0);

    // A setting that is not a number is named at its item, and nothing is saved.
    let res = s
        .editor
        .post_form(
            s.app.at(&path),
            &[
                ("row_version", "0"),
                ("rule.id_number", "mask"),
                ("a.id_number", "six"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let mut save = rules.to_vec();
    save.push(("action", "save"));
    let res = s.editor.post_form(s.app.at(&path), &save).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let privacy = s.editor.get_json(s.at("/privacy")).await;
    assert_eq!(privacy["rules"]["id_number"]["keep_end"], 4);
    assert_eq!(s.upload(csv(&folks)).await["state"], "published");
}
