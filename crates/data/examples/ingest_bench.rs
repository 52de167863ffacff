//! Ingestion in process, without the server around it: a CSV file read against data items
//! inferred from its first thousand rows (as `kaifang generate --from-file` makes them), through
//! the quality gate, profile and duplicate check into a Parquet file. Prints the median and the
//! fastest seconds of `RUNS` runs and the rows read, for profiling the ingestion on its own.
//!
//!     cargo run --release -p kaifang-data --example ingest_bench -- FILE.csv [RUNS]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use domain::openlist::dataset::DataItem;
use kaifang_data::ingest::{IngestOptions, Progress, Sinks, Spill, ingest_csv};

// The server's allocator (crates/kaifang/src/main.rs): an ingestion's time depends on how
// freed memory is kept and given back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(args.next().expect("a CSV file"));
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);

    let head: String = BufReader::new(std::fs::File::open(&file).expect("the file"))
        .lines()
        .take(1001)
        .map(|l| l.expect("a line") + "\n")
        .collect();
    let items: Vec<DataItem> = kaifang_data::infer_items(head.as_bytes(), b',')
        .expect("items")
        .into_iter()
        .map(kaifang_data::Suggested::into_item)
        .collect();

    let scratch = tempfile::tempdir().expect("a scratch directory");
    let parquet = scratch.path().join("data.parquet");
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let input = std::fs::File::open(&file).expect("the file");
        let (_, text) = kaifang_data::decoded(BufReader::new(input), None)
            .expect("readable")
            .expect("an encoding");
        let sinks = Sinks {
            parquet: Some(Box::new(std::fs::File::create(&parquet).expect("a sink"))),
            failures: Some(Box::new(std::io::sink())),
        };
        let options = IngestOptions {
            spill: Some(Spill::new(scratch.path().to_owned(), parquet.clone())),
            ..Default::default()
        };
        let (outcome, _) = ingest_csv(text, &items, options, sinks, Arc::new(Progress::default()))
            .expect("an ingestion");
        times.push(started.elapsed().as_secs_f64());
        rows = outcome.report.rows;
    }
    times.sort_by(f64::total_cmp);
    // The fastest run too: on a shared machine it varies least from one session to the next.
    println!(
        "ingest {:.3} (fastest {:.3}) rows={rows}",
        times[times.len() / 2],
        times[0]
    );
}
