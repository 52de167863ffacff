//! The usage log: uses are counted in memory and written in batches, one row per minute and
//! key however many requests there were, and rolled up into daily counts by Chinese calendar day.

mod common;

use std::sync::Arc;

use domain::clock::{Clock, ManualClock, Timestamp};
use domain::usage::{FieldList, UsageKind, Use};
use kaifang_app as app;

/// An app whose clock reads 2026-12-02 23:59:30 in Shanghai (15:59:30 UTC).
async fn at_the_end_of_a_day() -> (Arc<ManualClock>, common::TestDb, app::App) {
    let clock = Arc::new(ManualClock::new(Timestamp(1_796_227_170_000)));
    let db = common::database(clock.now()).await;
    let app = app::App::new(
        db.store.clone(),
        db.blobs.clone(),
        clock.clone(),
        app::Config::default(),
    );
    (clock, db, app)
}

#[tokio::test]
async fn uses_are_counted_in_rows_per_minute_and_rolled_up_by_day() {
    let (clock, db, app) = at_the_end_of_a_day().await;
    let visitor = app::Caller::anonymous(Some("192.0.2.7".into()));
    // A flood of page views in one minute is one row, not five thousand.
    for _ in 0..5000 {
        app.usage.record(
            &visitor,
            clock.now(),
            Use::of(UsageKind::PageView, "d1".into()),
        );
    }
    app.usage.record(
        &visitor,
        clock.now(),
        Use::of(UsageKind::ApiRead, "d1".into()),
    );
    // A minute later it is the next day in Shanghai.
    clock.advance_seconds(60);
    for _ in 0..3 {
        app.usage.record(
            &visitor,
            clock.now(),
            Use::of(UsageKind::PageView, "d2".into()),
        );
    }
    app.usage.flush().await;
    let (rows, total): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), CAST(SUM(count) AS BIGINT) FROM usage_events")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(total, 5004);
    // Three keys; a timed write in the middle of the flood may split one key over two rows.
    assert!((3..=6).contains(&rows), "{rows} rows");
    // Nobody's address is kept, only how they came.
    let vias: Vec<String> = sqlx::query_scalar("SELECT DISTINCT via FROM usage_events")
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    assert_eq!(vias, ["anonymous"]);

    for _ in 0..2 {
        // Rolling up twice gives the same counts.
        app::usage::roll_up(&app).await.unwrap();
        let day1 = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(
            db.store.usage_of("d1", day1).await.unwrap(),
            [
                ("2026-12-02".to_owned(), "api_read".to_owned(), 1),
                ("2026-12-02".to_owned(), "page_view".to_owned(), 5000),
            ]
        );
        assert_eq!(
            db.store.usage_of("d2", day1).await.unwrap(),
            [("2026-12-03".to_owned(), "page_view".to_owned(), 3)]
        );
    }
    // Later uses of a day already rolled up are counted at the next roll-up.
    app.usage.record(
        &visitor,
        clock.now(),
        Use::of(UsageKind::PageView, "d2".into()),
    );
    app.usage.flush().await;
    app::usage::roll_up(&app).await.unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    assert_eq!(
        db.store.usage_of("d2", today).await.unwrap(),
        [("2026-12-03".to_owned(), "page_view".to_owned(), 4)]
    );
}

#[tokio::test]
async fn a_row_tallies_records_and_bytes_and_refused_calls_are_not_reads() {
    let (clock, db, app) = at_the_end_of_a_day().await;
    let visitor = app::Caller::anonymous(None);
    let read = |rows, bytes, status| Use {
        version: Some(3),
        fields: FieldList::new(["district", "name"]),
        rows,
        bytes,
        status,
        ..Use::of(UsageKind::Records, "d1".into())
    };
    app.usage
        .record(&visitor, clock.now(), read(100, 9_000, 200));
    app.usage
        .record(&visitor, clock.now(), read(40, 3_500, 200));
    app.usage.record(&visitor, clock.now(), read(0, 0, 422));
    app.usage.flush().await;
    let mut rows: Vec<(i64, String, i32, i64, i64, i64)> = sqlx::query_as(
        "SELECT version_number, field_list, status_code, count, row_count, byte_count \
         FROM usage_events",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    rows.sort();
    assert_eq!(
        rows,
        [
            (3, "district,name".to_owned(), 200, 2, 140, 12_500),
            (3, "district,name".to_owned(), 422, 1, 0, 0),
        ]
    );
    app::usage::roll_up(&app).await.unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    assert_eq!(
        db.store.usage_of("d1", day).await.unwrap(),
        [("2026-12-02".to_owned(), "records".to_owned(), 2)]
    );
}
