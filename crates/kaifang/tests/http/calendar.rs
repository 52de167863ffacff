//! The working-day calendar review deadlines are counted on (A19.2): the 2026 arrangement the
//! platform knows, checked against an independent source; deadlines across holidays and into a
//! year not yet loaded; the operator loading a year, by API and by form; bad input refused.

use domain::roles::PlatformRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// 2026's weekday holidays and weekend workdays as the `chinesecalendar` Python package
/// (1.11.0, maintained apart from this code) gives them.
fn independent_2026() -> Value {
    let script = r#"
import json, datetime as dt, chinese_calendar as cc
d = dt.date(2026, 1, 1); off = []; work = []
while d.year == 2026:
    weekend = d.weekday() >= 5
    if cc.is_holiday(d) and not weekend: off.append(str(d))
    if cc.is_workday(d) and weekend: work.append(str(d))
    d += dt.timedelta(days=1)
print(json.dumps({"off": off, "work": work}))
"#;
    let out = std::process::Command::new(crate::ckan::python())
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chinesecalendar is needed (scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn weekday(date: &str) -> bool {
    use chrono::Datelike;
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    d.weekday().num_days_from_monday() < 5
}

#[tokio::test]
async fn the_2026_arrangement_agrees_with_an_independent_source() {
    let app = spawn_app().await;
    let res = client()
        .get(app.at("/api/v1/calendar?year=2026"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let year = &body["years"][0];
    assert_eq!(year["year"], 2026);
    let holidays: Vec<&str> = year["holidays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .filter(|d| weekday(d))
        .collect();
    let other = independent_2026();
    assert_eq!(json!(holidays), other["off"]);
    assert_eq!(year["make_up_workdays"], other["work"]);
}

#[tokio::test]
async fn deadlines_skip_holidays_count_make_up_days_and_are_provisional_into_an_unknown_year() {
    let app = spawn_app().await;
    let due = |from: &'static str| {
        let url = app.at(&format!("/api/v1/calendar?from={from}"));
        async move {
            let body: Value = client()
                .get(url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["deadline"].clone()
        }
    };
    // Across the Spring Festival (2/15–2/23 off, 2/14 and 2/28 worked), counted by hand.
    let d = due("2026-02-11").await;
    assert_eq!(d["due"], "2026-03-03");
    assert_eq!(d["provisional"], false);
    // Across National Day (10/1–10/7 off, 9/20 and 10/10 worked).
    assert_eq!(due("2026-09-18").await["due"], "2026-10-09");
    assert_eq!(due("2026-09-20").await["due"], "2026-10-10");
    // Into 2027, whose notice is not out: weekends alone, marked so.
    let d = due("2026-12-21").await;
    assert_eq!(d["due"], "2027-01-04");
    assert_eq!(d["provisional"], true);
    assert_eq!(d["unknown_years"], json!([2027]));

    // The operator loads 2027 (here a made-up arrangement): the same count moves and is firm.
    let operator = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let res = operator
        .send_json(
            Method::PUT,
            app.at("/api/v1/calendar/2027"),
            &json!({ "holidays": ["2027-01-01"], "make_up_workdays": [] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let year: Value = res.json().await.unwrap();
    assert_eq!(year["source"], "operator");
    let d = due("2026-12-21").await;
    assert_eq!(d["due"], "2027-01-05");
    assert_eq!(d["provisional"], false);
    // Two loads of the same new year at once both succeed; the year is stored once.
    let load = async |day: &'static str| {
        let body = json!({ "holidays": [day] });
        operator
            .send_json(Method::PUT, app.at("/api/v1/calendar/2028"), &body)
            .await
    };
    let (a, b) = tokio::join!(load("2028-01-01"), load("2028-01-03"));
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM calendar_years WHERE year = 2028")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);
    // Loading is a change of state: in the audit trail.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'calendar.load_year' AND target_id = '2027'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_wrong_year_is_refused_with_its_reason_and_nothing_is_loaded() {
    let app = spawn_app().await;
    let operator = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    for (year, body, field, code) in [
        (
            "2027",
            json!({ "holidays": ["2027-01-01"], "make_up_workdays": ["2027-01-06"] }),
            "workdays",
            "calendar_workday_on_weekday",
        ),
        (
            "2027",
            json!({ "holidays": ["2027-01-02"], "make_up_workdays": ["2027-01-02"] }),
            "holidays",
            "calendar_day_twice",
        ),
        (
            "2027",
            json!({ "holidays": ["2028-01-01"] }),
            "holidays",
            "calendar_other_year",
        ),
        (
            "2027",
            json!({ "holidays": [] }),
            "holidays",
            "calendar_no_holidays",
        ),
        (
            "2027",
            json!({ "holidays": ["2027-02-30"] }),
            "holidays",
            "invalid_date",
        ),
        (
            "2027",
            json!({ "holidays": ["2027-02-10~2027-02-01"] }),
            "holidays",
            "invalid_range",
        ),
        (
            "2027",
            json!({ "holidays": ["2027-01-01~2027-12-31", "2027-01-01~2027-12-31"] }),
            "holidays",
            "too_many",
        ),
        (
            "20227",
            json!({ "holidays": ["2027-01-01"] }),
            "year",
            "calendar_year_out_of_range",
        ),
    ] {
        let res = operator
            .send_json(
                Method::PUT,
                app.at(&format!("/api/v1/calendar/{year}")),
                &body,
            )
            .await;
        let (status, err) = json_error(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(err["fields"][0]["field"], field, "{body}: {err}");
        assert_eq!(err["fields"][0]["code"], code, "{body}: {err}");
    }
    // A body of another shape, or a year that is not a number, is refused in the API's shape.
    for (path, body) in [
        ("/api/v1/calendar/2027", json!([null, null])),
        (
            "/api/v1/calendar/二〇二七",
            json!({ "holidays": ["2027-01-01"] }),
        ),
    ] {
        let res = operator.send_json(Method::PUT, app.at(path), &body).await;
        assert!(res.status().is_client_error(), "{path}");
        assert_eq!(res.headers()["content-type"], "application/json", "{path}");
    }
    // Someone other than the operator may not load a year.
    let resident = app.user_with("someone@example.cn", None, None).await;
    let res = resident
        .send_json(
            Method::PUT,
            app.at("/api/v1/calendar/2027"),
            &json!({ "holidays": ["2027-01-01"] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let loaded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM calendar_years")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(loaded, 0);
    // A count from a date that is not one is refused.
    let res = client()
        .get(app.at("/api/v1/calendar?from=2026-13-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_operator_loads_a_year_on_the_console_page_with_holiday_ranges() {
    let app = spawn_app().await;
    let operator = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let (status, html) = app
        .page(&operator.client, "/console/calendar?from=2026-12-21")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("截止于 2027-01-04 24 时"), "{html}");
    assert!(html.contains("暂定"));
    // A mistake is shown at its field, with what was typed kept.
    let res = operator
        .post_form(
            app.at("/console/calendar"),
            &[
                ("year", "2027"),
                ("holidays", "2027-01-01"),
                ("workdays", "2027-01-06"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("2027-01-06 是工作日：调休上班日只能是周六或周日。"),
        "{html}"
    );
    assert!(html.contains(">2027-01-01</textarea>"));
    // Ranges and new lines, as a notice lists holidays.
    let res = operator
        .post_form(
            app.at("/console/calendar"),
            &[
                ("year", "2027"),
                ("holidays", "2027-01-01~2027-01-03\n2027-02-06~2027-02-14"),
                ("workdays", "2027-02-20"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/console/calendar?saved=2027");
    let (_, html) = app.page(&operator.client, &to).await;
    assert!(html.contains("2027 年的节假日安排已录入"), "{html}");
    assert!(html.contains("运营方录入"));
    let body: Value = client()
        .get(app.at("/api/v1/calendar?year=2027"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["years"][0]["holidays"].as_array().unwrap().len(), 12);
    assert_eq!(body["years"][0]["make_up_workdays"], json!(["2027-02-20"]));
}
