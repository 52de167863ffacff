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

fn in_dir(app: &TestApp, dir: &std::path::Path, command: &str) -> (i32, String) {
    let out = kaifang(&[
        "audit",
        command,
        "--database-url",
        &app.database_url,
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Rewrites the chain from record `from` on as someone with write access to the database
/// would: each record's content changed, every hash after it recomputed, the head moved along.
async fn rewrite_chain_from(app: &TestApp, from: i64) {
    use domain::audit::AuditRecord;
    type Row = (
        i64,
        i64,
        Option<String>,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, at, actor_id, actor_role, action, target_type, target_id, before_digest, \
         after_digest, client_addr, prev_hash, hash FROM audit_log ORDER BY seq",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    let mut prev = String::new();
    for r in rows {
        let mut rec = AuditRecord {
            seq: r.0,
            at: r.1,
            actor_id: r.2,
            actor_role: r.3,
            action: r.4,
            target_type: r.5,
            target_id: r.6,
            before_digest: r.7,
            after_digest: r.8,
            client_addr: r.9,
            prev_hash: r.10,
            hash: r.11,
        };
        if rec.seq < from {
            prev = rec.hash.clone();
            continue;
        }
        if rec.seq == from {
            rec.action = "user.deleted_quietly".into();
        }
        rec.prev_hash = prev.clone();
        rec.hash = rec.compute_hash();
        prev = rec.hash.clone();
        sqlx::query("UPDATE audit_log SET action = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&rec.action)
            .bind(&rec.prev_hash)
            .bind(&rec.hash)
            .bind(rec.seq)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(app.store.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_chain_rewritten_inside_the_database_is_caught_by_its_signed_checkpoint() {
    let app = app_with_history().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = in_dir(&app, dir.path(), "checkpoint");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checkpoint at record 5"), "{out}");
    assert!(out.contains("public key: "), "{out}");
    // The key stays out of the database, readable by its owner only.
    let key = dir.path().join("audit-signing.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    app.register("e@example.cn").await;
    let (code, out) = in_dir(&app, dir.path(), "verify");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("intact: 6 records, matching the signed checkpoint at record 5"),
        "{out}"
    );

    rewrite_chain_from(&app, 3).await;
    // Without the checkpoint, the rewrite is consistent in itself ...
    let elsewhere = tempfile::tempdir().unwrap();
    let (code, out) = in_dir(&app, elsewhere.path(), "verify");
    assert_eq!(code, 0, "{out}");
    // ... with it, it is caught at the checkpointed record.
    let (code, out) = in_dir(&app, dir.path(), "verify");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken at record 5"), "{out}");
    assert!(out.contains("checkpoint"), "{out}");
}

#[tokio::test]
async fn checkpoints_are_written_to_an_s3_file_store_when_the_files_are_there() {
    let app = app_with_history().await;
    let s3 = crate::files::start_s3().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = |command: &str| {
        let out = Command::new(BIN)
            .args(["audit", command, "--database-url", &app.database_url])
            .args(["--data-dir", dir.path().to_str().unwrap()])
            .args(["--s3-endpoint", &s3.endpoint, "--s3-bucket", "kaifang"])
            .env("KAIFANG_S3_ACCESS_KEY_ID", "kaifang-test")
            .env("KAIFANG_S3_SECRET_ACCESS_KEY", "kaifang-test-secret")
            .env_remove("KAIFANG_CONFIG")
            .output()
            .expect("run kaifang");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = audit("checkpoint");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checkpoint at record 5"), "{out}");
    // In the bucket, not in the data dir.
    let object = s3
        .root
        .path()
        .join("kaifang/audit-checkpoints/00000000000000000005.json");
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&object).unwrap()).unwrap();
    assert_eq!(stored["seq"], 5);
    assert!(!dir.path().join("files").exists());

    let (code, out) = audit("verify");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("matching the signed checkpoint at record 5"),
        "{out}"
    );
    rewrite_chain_from(&app, 3).await;
    let (code, out) = audit("verify");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken at record 5"), "{out}");
}

#[tokio::test]
async fn a_chain_cut_back_before_its_checkpoint_or_a_forged_checkpoint_is_caught() {
    let app = app_with_history().await;
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(in_dir(&app, dir.path(), "checkpoint").0, 0);
    // Nothing new: a second checkpoint is not needed.
    let (code, out) = in_dir(&app, dir.path(), "checkpoint");
    assert_eq!(code, 0);
    assert!(out.contains("already covers"), "{out}");

    // Records 4 and 5 removed, the head set back to record 3.
    exec(&app, "DELETE FROM audit_log WHERE seq > 3").await;
    sqlx::query("UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3) WHERE id = 1")
        .execute(app.store.pool())
        .await
        .unwrap();
    let (code, out) = in_dir(&app, dir.path(), "verify");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken at record 4"), "{out}");

    // A checkpoint file with another key's signature, claiming a later head.
    let forged = domain::checkpoint::Checkpoint::sign(
        &domain::checkpoint::AuditSigningKey::from_bytes(&[9; 32]),
        99,
        "00",
        0,
    );
    let files = dir.path().join("files").join("audit-checkpoints");
    std::fs::write(
        files.join(format!("{:020}.json", 99)),
        serde_json::to_vec(&forged).unwrap(),
    )
    .unwrap();
    let (code, out) = in_dir(&app, dir.path(), "verify");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not verify"), "{out}");
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
    // Ready once its search index has caught up, as a load balancer would wait for it.
    let mut ready = false;
    for _ in 0..100 {
        let res = http.get(format!("{url}/readyz")).send().await.unwrap();
        if res.status() == StatusCode::OK {
            ready = true;
            break;
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the demo never became ready");

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

#[tokio::test]
async fn a_running_server_anchors_its_chain_with_signed_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let mut child = tokio::process::Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir", &data])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let files = dir.path().join("files").join("audit-checkpoints");
    let mut written = Vec::new();
    for _ in 0..100 {
        written = std::fs::read_dir(&files)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if !written.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(written.len(), 1, "{written:?}");
    child.kill().await.unwrap();
    let out = kaifang(&["audit", "verify", "--data-dir", &data]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("matching the signed checkpoint"), "{text}");
}
