//! The `kaifang` binary: demo, migrate, user create, audit verify.

use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_kaifang");

fn kaifang(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("KAIFANG_CONFIG")
        .output()
        .expect("run kaifang")
}

async fn app_with_history() -> TestApp {
    let app = spawn_app().await;
    for email in [
        "a@example.cn",
        "b@example.cn",
        "c@example.cn",
        "d@example.cn",
    ] {
        app.register(email).await;
    }
    app
}

async fn exec(app: &TestApp, sql: &'static str) {
    sqlx::query(sql).execute(app.store.pool()).await.unwrap();
}

fn verify(app: &TestApp) -> (i32, String) {
    let out = kaifang(&["audit", "verify", "--database-url", &app.database_url]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn audit_verify_passes_an_intact_chain() {
    let app = app_with_history().await;
    let (code, out) = verify(&app);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 5 records"), "{out}");
}

#[tokio::test]
async fn audit_verify_names_an_altered_record() {
    let app = app_with_history().await;
    exec(
        &app,
        "UPDATE audit_log SET actor_role = 'operator' WHERE seq = 2",
    )
    .await;
    let (code, out) = verify(&app);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken at record 2"), "{out}");
}

#[tokio::test]
async fn audit_verify_names_a_deleted_record() {
    let app = app_with_history().await;
    exec(&app, "DELETE FROM audit_log WHERE seq = 3").await;
    let (code, out) = verify(&app);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken at record 3"), "{out}");
}

#[tokio::test]
async fn audit_verify_names_reordered_records() {
    let app = app_with_history().await;
    exec(&app, "UPDATE audit_log SET seq = -2 WHERE seq = 2").await;
    exec(&app, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
    exec(&app, "UPDATE audit_log SET seq = 3 WHERE seq = -2").await;
    let (code, out) = verify(&app);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken at record 2"), "{out}");
}

#[tokio::test]
async fn audit_verify_notices_records_cut_off_the_end() {
    let app = app_with_history().await;
    exec(&app, "DELETE FROM audit_log WHERE seq = 5").await;
    let (code, out) = verify(&app);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken at record 5"), "{out}");
}

#[tokio::test]
async fn user_create_bootstraps_a_sysadmin() {
    let app = spawn_app().await;
    let mut child = Command::new(BIN)
        .args([
            "user",
            "create",
            "--database-url",
            &app.database_url,
            "--email",
            "root@example.cn",
        ])
        .args(["--name", "管理员", "--role", "sysadmin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let s = app.login("root@example.cn").await;
    let me: Value = s
        .client
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["platform_roles"], json!(["sysadmin"]));

    let out = kaifang(&[
        "user",
        "create",
        "--database-url",
        &app.database_url,
        "--email",
        "x@example.cn",
        "--name",
        "x",
        "--role",
        "king",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
}

#[test]
fn an_unknown_database_scheme_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = kaifang(&[
        "migrate",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        "mysql://localhost/x",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unsupported database URL scheme \"mysql\""),
        "{err}"
    );
}

#[test]
fn migrate_prepares_a_fresh_data_dir_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for _ in 0..2 {
        let out = kaifang(&["migrate", "--data-dir", data.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(data.join("kaifang.db").exists());
}

#[test]
fn settings_come_from_a_config_file_and_bad_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-config");
    let config = dir.path().join("kaifang.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\n", data.to_str().unwrap()),
    )
    .unwrap();
    let out = kaifang(&["migrate", "--config", config.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("kaifang.db").exists());

    std::fs::write(&config, "listne = \"0.0.0.0:1\"\n").unwrap();
    let out = kaifang(&["migrate", "--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid config file"));
}

#[tokio::test]
async fn the_demo_starts_with_providers_and_an_account_for_every_role() {
    let mut child = tokio::process::Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut printed = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(rest) = line.split("running at ").nth(1) {
            url = Some(rest.trim().to_owned());
        }
        if line.contains("Ctrl-C") {
            break;
        }
        printed.push(line);
    }
    let url = url.expect("the demo prints its address");
    let http = client();
    assert_eq!(
        http.get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let orgs: Value = http
        .get(format!("{url}/api/v1/orgs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let orgs = orgs["organizations"].as_array().unwrap();
    let kinds = |k: &str| orgs.iter().filter(|o| o["kind"] == k).count();
    assert!(orgs.len() >= 12, "{}", orgs.len());
    assert!(kinds("district") >= 3 && kinds("utility") >= 1 && kinds("bureau") >= 6);
    for slug in [
        "sh-transport",
        "sh-health",
        "sh-ecology",
        "sh-market",
        "sh-education",
        "sh-civil-affairs",
    ] {
        assert!(orgs.iter().any(|o| o["slug"] == slug), "{slug}");
    }
    let home = http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("虚构"), "the demo says it is synthetic");

    // Every printed account signs in and holds the role printed beside it.
    let mut roles_seen = std::collections::BTreeSet::new();
    for line in printed
        .iter()
        .filter(|l| l.contains("@demo.kaifang.example"))
    {
        let mut parts = line.split_whitespace();
        let email = parts.next().unwrap();
        let role = parts.next().unwrap();
        let res = http
            .post(format!("{url}/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": "kaifang-demo-2026" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{email}");
        let body: Value = res.json().await.unwrap();
        let me: Value = http
            .get(format!("{url}/api/v1/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let held = me["platform_roles"].to_string() + &me["memberships"].to_string();
        assert!(
            role == "user" || held.contains(role),
            "{email} should hold {role}: {held}"
        );
        roles_seen.insert(role.to_owned());
        http.post(format!("{url}/api/v1/auth/logout"))
            .header("x-csrf-token", body["csrf_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
    }
    for role in [
        "operator",
        "regulator",
        "security_auditor",
        "sysadmin",
        "provider_admin",
        "editor",
        "reviewer",
        "user",
    ] {
        assert!(roles_seen.contains(role), "no demo account for {role}");
    }
    child.kill().await.unwrap();
}
