//! Observability: request ids on every answer and error, Prometheus metrics for the system
//! administrator, and the job queue for the platform's staff.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn every_answer_carries_a_request_id_and_errors_quote_it() {
    let app = spawn_app().await;
    let ok = client().get(app.at("/healthz")).send().await.unwrap();
    let first = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(first.len(), 32);
    let again = client().get(app.at("/healthz")).send().await.unwrap();
    assert_ne!(again.headers()["x-request-id"].to_str().unwrap(), first);

    let res = client()
        .get(app.at("/api/v1/datasets/no-such-entry"))
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["request_id"], id.as_str());

    let res = client().get(app.at("/no-such-page")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let page = res.text().await.unwrap();
    assert!(page.contains(&id), "the error page quotes its request id");
}

#[tokio::test]
async fn the_system_administrator_scrapes_metrics_and_others_cannot() {
    let app = spawn_app().await;
    let admin = app
        .user_with("root@example.cn", Some(PlatformRole::Sysadmin), None)
        .await;
    let token: Value = admin
        .post_json(
            app.at("/api/v1/me/tokens"),
            json!({ "name": "prometheus", "expires_in_days": 365 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = token["token"].as_str().unwrap();
    for _ in 0..3 {
        client()
            .get(app.at("/api/v1/datasets?q=公交"))
            .send()
            .await
            .unwrap();
    }
    let res = client()
        .get(app.at("/metrics"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for needle in [
        r#"kaifang_http_requests_total{method="GET",route="/api/v1/datasets",status="200"} 3"#,
        "kaifang_http_request_duration_seconds_bucket{",
        "kaifang_search_index_lag 0",
        "kaifang_audit_chain_records ",
        "kaifang_jobs_queued 0",
        "kaifang_jobs_oldest_age_seconds 0",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    // Paths are never labels: a made-up address counts under its route, not itself.
    assert!(!text.contains("no-such"));

    assert_eq!(
        client()
            .get(app.at("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    assert_eq!(
        op.client
            .get(app.at("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_operator_sees_the_job_queue_and_cancels_a_waiting_job() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let now = app.clock_now();
    let job = store::jobs::NewJob {
        kind: "housekeeping".into(),
        payload: json!({}),
        max_attempts: 3,
        run_at: now,
        created_by: None,
    };
    let id = app.store.enqueue_system_job(&job, now).await.unwrap();
    let list: Value = op.get_json(app.at("/api/v1/jobs")).await;
    assert_eq!(list["queue"]["depth"], 1);
    assert_eq!(list["jobs"][0]["id"], id.to_string());
    assert_eq!(list["jobs"][0]["state"], "queued");
    let audited = app.audit_count().await;
    let res = op
        .post_json(app.at(&format!("/api/v1/jobs/{id}/cancel")), json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["state"], "cancelled");
    assert_eq!(app.audit_count().await, audited + 1);
    // The console page shows the queue; a waiting job is cancelled from it.
    let waiting = app.store.enqueue_system_job(&job, now).await.unwrap();
    let (status, page) = app.page(&op.client, "/console/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("已取消") && page.contains("等待中"), "{page}");
    assert!(page.contains(&format!("/console/jobs/{waiting}/cancel")));
    let res = op
        .post_form(app.at(&format!("/console/jobs/{waiting}/cancel")), &[])
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    assert_eq!(
        app.store.job(&waiting.to_string()).await.unwrap().state,
        domain::jobs::JobState::Cancelled
    );
    let res = op
        .client
        .get(app.at("/api/v1/jobs?state=sleeping"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
