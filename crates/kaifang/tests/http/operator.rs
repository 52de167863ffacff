//! The operator's and supervisors' pages: audit trail, classification guide, formats and
//! glossary, accounts and organizations.

use domain::roles::PlatformRole;
use reqwest::StatusCode;

use crate::support::*;

async fn get(s: &Session, app: &TestApp, path: &str) -> (StatusCode, String) {
    app.page(&s.client, path).await
}

async fn post_form(
    s: &Session,
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let res = s.post_form(app.at(path), fields).await;
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_audit_trail_page_is_for_supervisors_and_filters_by_day() {
    let app = spawn_app().await;
    let auditor = app
        .user_with(
            "audit@example.cn",
            Some(PlatformRole::SecurityAuditor),
            None,
        )
        .await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let (status, html) = get(&auditor, &app, "/console/audit").await;
    assert_eq!(status, StatusCode::OK);
    // Actions and roles by their labels, not their codes.
    assert!(
        html.contains("<td>登录</td>") && html.contains("<td>注册账户</td>"),
        "{html}"
    );
    assert!(!html.contains("<code>auth.login</code>"));
    let (status, html) = get(&auditor, &app, "/console/audit?from=2026-13-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"2026-13-01\""));
    // Actors are shown by name and email, and may be asked for by email.
    let (_, html) = get(&auditor, &app, "/console/audit").await;
    assert!(html.contains("测试用户 (op@example.cn)"), "{html}");
    let (status, html) = get(&auditor, &app, "/console/audit?actor=op%40example.cn").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("op@example.cn") && !html.contains("(audit@example.cn)"));
    let (status, html) = get(&auditor, &app, "/console/audit?actor=nobody%40example.cn").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"nobody@example.cn\""));
    // A day long before anything happened finds nothing.
    let (_, html) = get(&auditor, &app, "/console/audit?to=2000-01-01").await;
    assert!(!html.contains("<td>登录</td>"));
    assert_eq!(
        get(&op, &app, "/console/audit").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_operator_edits_the_guide_formats_and_glossary_from_pages() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;

    // The guide: a broken text comes back as typed with the reason; nothing is saved.
    let (status, html) = get(&op, &app, "/console/guide").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("第 1 版"));
    let audit = app.audit_count().await;
    let (status, html) = post_form(&op, &app, "/console/guide", &[("toml", "title_zh = [")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("title_zh = [") && html.contains("分级分类指南无效"));
    assert_eq!(app.audit_count().await, audit);
    let current = app.store.guide_version(None).await.unwrap().body;
    let renamed = current.replacen("title_zh = \"", "title_zh = \"（修订）", 1);
    assert_ne!(renamed, current);
    let res = op
        .client
        .post(app.at("/console/guide"))
        .form(&[("_csrf", op.csrf.as_str()), ("toml", renamed.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&op, &app, "/console/guide").await;
    assert!(html.contains("第 2 版"));
    let (status, old) = get(&op, &app, "/console/guide/versions/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(old.contains("<pre class=\"source\">") && !old.contains("（修订）"));

    // Formats: every problem at once, what was typed kept; then a good one is listed.
    let bad = [("code", "Bad Code"), ("name", ""), ("openness", "9")];
    let (status, html) = post_form(&op, &app, "/console/vocabularies/formats", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("value=\"Bad Code\"") && html.matches("class=\"field-error\"").count() == 3
    );
    let good = [
        ("code", "ofd"),
        ("name", "OFD"),
        ("openness", "2"),
        ("proprietary", "1"),
    ];
    let res = op
        .client
        .post(app.at("/console/vocabularies/formats"))
        .form(&[[("_csrf", op.csrf.as_str())].as_slice(), good.as_slice()].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&op, &app, "/console/vocabularies").await;
    assert!(html.contains("<code>ofd</code>"));

    // The glossary.
    let (status, html) = post_form(
        &op,
        &app,
        "/console/vocabularies/glossary",
        &[("term", "gps"), ("explanation_zh", "")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"term-error\"") && html.contains("id=\"explanation_zh-error\""));

    // Accounts and organizations.
    let (status, html) = get(&op, &app, "/console/people").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("op@example.cn"));
    // Only the system administrator may give platform roles: the operator sees no form.
    assert!(!html.contains("action=\"/console/people/roles\""));
}

#[tokio::test]
async fn the_system_administrator_gives_platform_roles_from_the_people_page() {
    let app = spawn_app().await;
    let admin = app
        .user_with("admin@example.cn", Some(PlatformRole::Sysadmin), None)
        .await;
    app.register("watcher@example.cn").await;
    let (_, html) = get(&admin, &app, "/console/people").await;
    assert!(html.contains("action=\"/console/people/roles\""));

    // An unknown account and an unknown role: both said at their fields, nothing changed.
    let audit = app.audit_count().await;
    let (status, html) = post_form(
        &admin,
        &app,
        "/console/people/roles",
        &[("email", "nobody@example.cn"), ("role", "king")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"email-error\"") && html.contains("id=\"role-error\""));
    assert!(html.contains("value=\"nobody@example.cn\""));
    assert_eq!(app.audit_count().await, audit);

    let (status, _) = post_form(
        &admin,
        &app,
        "/console/people/roles",
        &[("email", "Watcher@example.cn"), ("role", "regulator")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count().await, audit + 1);
    let (_, html) = get(&admin, &app, "/console/people").await;
    let row = html
        .split("<tr>")
        .find(|r| r.contains("watcher@example.cn"))
        .unwrap();
    assert!(row.contains("主管部门"), "{row}");
    // The new regulator now reads the audit trail.
    let watcher = app.login("watcher@example.cn").await;
    assert_eq!(
        get(&watcher, &app, "/console/audit").await.0,
        StatusCode::OK
    );
}

/// Issue 10: the audit page offers its filters as choices, separates sign-ins from changes,
/// shows where the chain is anchored, and exports what it shows as CSV.
#[tokio::test]
async fn the_audit_page_separates_sign_ins_and_exports_the_filtered_trail() {
    let app = spawn_app().await;
    let regulator = app
        .user_with("reg@example.cn", Some(PlatformRole::Regulator), None)
        .await;
    let bad = client()
        .post(app.at("/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": "reg@example.cn", "password": "wrong-password-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    let (status, html) = get(&regulator, &app, "/console/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<option value=\"auth.login_failed\">登录失败</option>"),
        "{html}"
    );
    assert!(html.contains("<option value=\"sign_ins\">仅登录和退出</option>"));
    assert!(
        html.contains("审计链尚无签名检查点"),
        "no checkpoint yet in a new app"
    );

    let (_, signins) = get(&regulator, &app, "/console/audit?kind=sign_ins").await;
    assert!(signins.contains("<td>登录失败</td>") && !signins.contains("<td>注册账户</td>"));
    let (_, changes) = get(&regulator, &app, "/console/audit?kind=changes").await;
    assert!(!changes.contains("<td>登录失败</td>") && changes.contains("<td>注册账户</td>"));
    assert!(changes.contains("href=\"/console/audit/export.csv?kind=changes\""));

    let res = regulator
        .client
        .get(app.at("/console/audit/export.csv?kind=sign_ins"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(
        &bytes[..3],
        b"\xEF\xBB\xBF",
        "a BOM for spreadsheet programs"
    );
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("seq,at,actor_id,actor_role,action,")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.contains(",auth.")),
        "{text}"
    );
    assert!(rows.iter().any(|r| r.contains(",auth.login_failed,")));
    // A wrong kind is refused, here and in the API.
    let res = regulator
        .client
        .get(app.at("/console/audit/export.csv?kind=everything"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let api = regulator
        .client
        .get(app.at("/api/v1/audit?kind=sign_ins"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let records = api["records"].as_array().unwrap();
    assert!(!records.is_empty());
    assert!(
        records
            .iter()
            .all(|r| r["action"].as_str().unwrap().starts_with("auth."))
    );
    // Only the supervisors read it.
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let res = op
        .client
        .get(app.at("/console/audit/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// The audit page says where the newest signed checkpoint anchors the chain, and says so when
/// that checkpoint cannot be read rather than passing over it.
#[tokio::test]
async fn the_audit_page_shows_the_newest_checkpoint_or_that_it_is_damaged() {
    let files = tempfile::tempdir().unwrap();
    let app = spawn_app_with_files(
        test_config(),
        Some(store::blobs::BlobConfig::Local(files.path().to_owned())),
    )
    .await;
    let auditor = app
        .user_with(
            "audit@example.cn",
            Some(PlatformRole::SecurityAuditor),
            None,
        )
        .await;
    let key = domain::checkpoint::AuditSigningKey::from_bytes(&[7; 32]);
    let checkpoints = store::checkpoints::CheckpointFiles::new(&app.blobs);
    let made = app
        .store
        .checkpoint_audit(&key, &checkpoints, app.clock_now())
        .await
        .unwrap()
        .expect("a checkpoint of the head");
    let (_, html) = get(&auditor, &app, "/console/audit").await;
    assert!(
        html.contains(&format!("覆盖至第 {} 条记录", made.seq)),
        "{html}"
    );
    std::fs::write(
        files
            .path()
            .join("audit-checkpoints/99999999999999999999.json"),
        b"not a checkpoint",
    )
    .unwrap();
    let (status, html) = get(&auditor, &app, "/console/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("最新的审计检查点无法读取"), "{html}");
}

/// Issue 10: the guide reads as tables of levels, and an edit is previewed as it would read
/// before it is saved; a preview saves nothing.
#[tokio::test]
async fn the_guide_reads_as_tables_and_an_edit_is_previewed_before_it_is_saved() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let (_, html) = get(&op, &app, "/console/guide").await;
    let view = &html[html
        .find("class=\"guide-view\"")
        .expect("the guide as tables")..];
    for shown in [
        "数据安全级别（GB/T 43697-2024）",
        "<th scope=\"row\">重要数据</th><td>有条件开放</td>",
        "<th scope=\"row\">核心数据</th><td>非开放</td>",
    ] {
        assert!(view.contains(shown), "{shown}");
    }

    let current = app.store.guide_version(None).await.unwrap().body;
    let renamed = current.replacen(
        "name_zh = \"重要数据\"",
        "name_zh = \"重要数据（修订）\"",
        1,
    );
    assert_ne!(renamed, current);
    let audit = app.audit_count().await;
    let (status, html) = post_form(
        &op,
        &app,
        "/console/guide",
        &[("toml", renamed.as_str()), ("preview", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("预览（尚未保存）"));
    assert!(html.contains("<th scope=\"row\">重要数据（修订）</th>"));
    // The text stays in the editor to be saved.
    let editor = &html[html.find("<textarea id=\"toml\"").unwrap()..];
    assert!(editor[..editor.find("</textarea>").unwrap()].contains("重要数据（修订）"));
    assert_eq!(app.audit_count().await, audit);
    assert_eq!(app.store.guide_versions().await.unwrap().len(), 1);

    // A broken text is refused in the preview as at saving.
    let (status, html) = post_form(
        &op,
        &app,
        "/console/guide",
        &[("toml", "title_zh = ["), ("preview", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("分级分类指南无效") && !html.contains("class=\"guide-view\""));
    assert_eq!(app.audit_count().await, audit);
}

/// What a browser would send for the form named by its `action`: every input, text area and
/// chosen option, unescaped.
fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .expect("the form");
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| {
        let key = format!(" {name}=\"");
        tag.find(&key).map(|i| {
            let rest = &tag[i + key.len()..];
            unescape(&rest[..rest.find('"').unwrap()])
        })
    };
    let mut out = Vec::new();
    for (i, _) in form.match_indices('<') {
        let tag = &form[i..i + form[i..].find('>').unwrap() + 1];
        let Some(name) = attr(tag, "name") else {
            continue;
        };
        if tag.starts_with("<input") {
            if tag.contains("type=\"submit\"") {
                continue;
            }
            out.push((name, attr(tag, "value").unwrap_or_default()));
        } else if tag.starts_with("<textarea") {
            let body = &form[i + tag.len()..];
            out.push((name, unescape(&body[..body.find("</textarea>").unwrap()])));
        } else if tag.starts_with("<select") {
            let body = &form[i..i + form[i..].find("</select>").unwrap()];
            let chosen = body
                .split("<option")
                .find(|o| o.contains(" selected"))
                .and_then(|o| attr(o, "value"))
                .unwrap_or_default();
            out.push((name, chosen));
        }
    }
    out
}

/// Issue 10: the guide is edited in a form over its structure, and the preview says what the
/// edit changes before it is saved.
#[tokio::test]
async fn the_guide_is_edited_in_a_form_and_the_preview_lists_what_changes() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let guide_json = || async {
        let res = client()
            .get(app.at("/api/v1/classification-guide"))
            .send()
            .await
            .unwrap();
        res.json::<serde_json::Value>().await.unwrap()["guide"].clone()
    };
    let original = guide_json().await;
    assert_eq!(original["dimensions"][0]["code"], "security_level");
    let (_, html) = get(&op, &app, "/console/guide").await;
    let mut fields = form_fields(&html, "/console/guide");
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "dimensions[0].code" && v == "security_level")
    );
    let set = |fields: &mut Vec<(String, String)>, key: &str, value: &str| {
        let f = fields.iter_mut().find(|(k, _)| k == key).expect(key);
        f.1 = value.to_owned();
    };
    // 重要数据 becomes 重要数据（修订） and allows no opening at all; its example follows.
    assert!(fields.contains(&("dimensions[0].levels[1].name_zh".into(), "重要数据".into())));
    set(
        &mut fields,
        "dimensions[0].levels[1].name_zh",
        "重要数据（修订）",
    );
    set(&mut fields, "dimensions[0].levels[1].open_type", "not_open");
    let post = |fields: Vec<(String, String)>, preview: bool| {
        let op = op.clone();
        let url = app.at("/console/guide");
        async move {
            let mut form = fields;
            form.push(("_csrf".into(), op.csrf.clone()));
            if preview {
                form.push(("preview".into(), "1".into()));
            }
            let res = op.client.post(url).form(&form).send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    // Nothing else changed: the example of 门诊就诊明细记录 already says not open.
    let audit = app.audit_count().await;
    let (status, html) = post(fields.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let table = &html[html.find("<table class=\"diff\"").expect("the changes")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(
        table.contains("<td>维度“数据安全级别（GB/T 43697-2024）” › 级别“重要数据（修订）”</td><td>名称</td><td><del>重要数据</del></td><td><ins>重要数据（修订）</ins></td>"),
        "{table}"
    );
    assert!(table.contains("<td><del>有条件开放</del></td><td><ins>非开放</ins></td>"));
    assert_eq!(
        table.matches("<tr>").count(),
        3,
        "a header and two changes: {table}"
    );
    assert_eq!(app.audit_count().await, audit);

    // A level without an open type, and a condition of no known kind: refused at their fields.
    let mut bad = fields.clone();
    set(&mut bad, "dimensions[0].levels[0].open_type", "");
    set(
        &mut bad,
        "dimensions[0].levels[1].conditions",
        "随便：写点什么",
    );
    let (status, html) = post(bad, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in [
        "dimensions-0--levels-0--open_type-error",
        "dimensions-0--levels-1--conditions-error",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(html.contains("随便：写点什么"), "what was typed stays");
    assert_eq!(app.audit_count().await, audit);

    // Saved, it is the guide in force.
    let (status, _) = post(fields, false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = get(&op, &app, "/console/guide").await;
    assert!(html.contains("第 2 版"));
    assert!(html.contains("<th scope=\"row\">重要数据（修订）</th><td>非开放</td>"));
    // Everything else came through the form as it was: conditions, measures, examples.
    let mut expected = original;
    expected["dimensions"][0]["levels"][1]["name_zh"] = "重要数据（修订）".into();
    expected["dimensions"][0]["levels"][1]["open_type"] = "not_open".into();
    assert_eq!(guide_json().await, expected);
}
