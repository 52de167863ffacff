//! The privacy guard's two in-process benchmarks, over a version's Parquet file (the data
//! plane's licensed enterprises): a 1 % sample stratified on the district with its fidelity
//! report, and a group-by asked in the sandbox beside the same query through the SQL endpoint's
//! engine (`data::sql::run`, what `/api/v1/sql` calls). Prints one line per figure:
//! `name seconds [detail]`, the median of `RUNS` runs.
//!
//!     cargo run --release -p kaifang-data --example privacy_bench -- FILE.parquet [RUNS]

use std::path::PathBuf;
use std::time::Instant;

use kaifang_data::privacy::sample::{Fidelity, SampleSize, build};
use kaifang_data::sandbox::{Mode, Rules};
use kaifang_data::sql::{Limits, Source};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(args.next().expect("a Parquet file"));
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);

    let out = std::env::temp_dir().join("privacy-bench-sample.parquet");
    let mut times = Vec::new();
    let mut detail = String::new();
    for _ in 0..runs {
        let started = Instant::now();
        let report = build(
            &file,
            SampleSize::Percent(1.0),
            &["district".to_owned()],
            2026,
            Fidelity::default(),
            std::fs::File::create(&out).expect("a scratch file"),
        )
        .expect("a sample");
        times.push(started.elapsed().as_secs_f64());
        detail = format!(
            "rows={} of {} faithful={}",
            report.rows_sample, report.rows_full, report.faithful
        );
    }
    println!("sample {:.3} {detail}", median(times));
    let _ = std::fs::remove_file(&out);

    let table = Source::file("t", file.clone());
    let limits = Limits::default();
    for (name, sql) in [
        (
            "groupby",
            "SELECT district, count(*) AS n, avg(registered_capital) AS capital FROM t GROUP BY district ORDER BY district",
        ),
        (
            "groupby_where",
            "SELECT district, count(*) AS n, avg(registered_capital) AS capital FROM t WHERE status = '存续' AND kind <> '个体工商户' GROUP BY district ORDER BY district",
        ),
    ] {
        let mut plain = Vec::new();
        let mut sandboxed = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let a = kaifang_data::sql::run(sql, std::slice::from_ref(&table), limits)
                .await
                .expect("the SQL endpoint's answer");
            plain.push(started.elapsed().as_secs_f64());
            assert_eq!(a.rows, 16);
            let started = Instant::now();
            let s = kaifang_data::sandbox::run(
                sql,
                &table,
                Rules {
                    threshold: 10,
                    limits,
                },
                Mode::Exact,
            )
            .await
            .expect("the sandbox's answer");
            sandboxed.push(started.elapsed().as_secs_f64());
            assert_eq!(s.rows.len(), 16);
        }
        println!("sql_{name} {:.3}", median(plain));
        println!("sandbox_{name} {:.3}", median(sandboxed));
    }
}
