use domain::clock::Clock;
use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn every_change_is_audited_and_the_auditor_filters_the_trail() {
    let app = spawn_app().await;
    let user = app.register("citizen@example.cn").await;
    let user_id = user["id"].as_str().unwrap().to_owned();
    let s = app.login("citizen@example.cn").await;
    let token: Value = s
        .client
        .post(app.at("/api/v1/me/tokens"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({ "name": "t" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.clock.advance_seconds(3600);
    let _ = client()
        .post(app.at("/api/v1/auth/login"))
        .json(&json!({ "email": "citizen@example.cn", "password": "wrong-password-9" }))
        .send()
        .await
        .unwrap();

    let auditor = app
        .user_with(
            "auditor@example.cn",
            Some(PlatformRole::SecurityAuditor),
            None,
        )
        .await;
    let list = |query: String| {
        let req = auditor
            .client
            .get(app.at(&format!("/api/v1/audit?{query}")));
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let body: Value = res.json().await.unwrap();
            body["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["action"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(format!("actor={user_id}")).await,
        ["token.create", "auth.login", "user.register"]
    );
    let token_id = token["id"].as_str().unwrap();
    assert_eq!(
        list(format!("target_type=api_token&target_id={token_id}")).await,
        ["token.create"]
    );
    // Time filter: only what happened after the clock moved on.
    let later = app.clock_now().plus_seconds(-60).to_rfc3339();
    let recent = list(format!("from={}", later.replace('+', "%2B"))).await;
    assert!(
        recent.contains(&"auth.login_failed".to_owned()),
        "{recent:?}"
    );
    assert!(!recent.contains(&"token.create".to_owned()), "{recent:?}");

    // The records carry the role, the digest of the new state and the client address.
    let res: Value = auditor
        .client
        .get(app.at(&format!(
            "/api/v1/audit?action=user.register&target_id={user_id}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rec = &res["records"][0];
    assert_eq!(rec["actor_role"], "user");
    assert_eq!(rec["after_digest"].as_str().unwrap().len(), 64);
    assert_eq!(rec["client_addr"], "127.0.0.1");

    let bad = auditor
        .client
        .get(app.at("/api/v1/audit?from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_trail_is_for_auditors_and_regulators_only() {
    let app = spawn_app().await;
    let regulator = app
        .user_with("reg@example.cn", Some(PlatformRole::Regulator), None)
        .await;
    assert_eq!(
        regulator
            .client
            .get(app.at("/api/v1/audit"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    assert_eq!(
        op.client
            .get(app.at("/api/v1/audit"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        client()
            .get(app.at("/api/v1/audit"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn pages_of_the_trail_follow_each_other() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.register(&format!("u{i}@example.cn")).await;
    }
    let auditor = app
        .user_with(
            "auditor@example.cn",
            Some(PlatformRole::SecurityAuditor),
            None,
        )
        .await;
    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let q = match before {
            Some(b) => format!("/api/v1/audit?limit=3&before={b}"),
            None => "/api/v1/audit?limit=3".to_owned(),
        };
        let body: Value = auditor
            .client
            .get(app.at(&q))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(
            body["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["seq"].as_i64().unwrap()),
        );
        match body["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    let total = app.audit_count().await;
    assert_eq!(seen, (1..=total).rev().collect::<Vec<_>>());
}

#[tokio::test]
async fn verifying_while_others_write_never_reports_a_false_break() {
    let app = spawn_app().await;
    let writers: Vec<_> = (0..3)
        .map(|w| (w, app.store.clone(), app.clock.clone()))
        .map(|(w, store, clock)| async move {
            for i in 0..60 {
                let mut tx = store.begin_write().await.unwrap();
                tx.audit(test_event("test.write", format!("{w}-{i}"), clock.now()))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        })
        .collect();
    let writing = tokio::spawn(join_all_spawned(writers));
    let mut runs = 0;
    while !writing.is_finished() || runs == 0 {
        match app.store.verify_audit(None).await.unwrap() {
            store::audit::Verification::Intact { .. } => runs += 1,
            broken => panic!("a false break while others write: {broken:?}"),
        }
    }
    writing.await.unwrap();
    assert!(runs > 0);
    assert_eq!(
        app.store.verify_audit(None).await.unwrap(),
        store::audit::Verification::Intact {
            records: app.audit_count().await
        }
    );
}
