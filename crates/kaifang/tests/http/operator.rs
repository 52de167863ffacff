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
    assert!(
        html.contains("<code>auth.login</code>") && html.contains("<code>user.register</code>")
    );
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
    assert!(!html.contains("<td><code>"));
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
