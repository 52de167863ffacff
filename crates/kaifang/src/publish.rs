//! `kaifang publish`: the client an agency's system runs to push new data on schedule (A23).
//! It streams the file to `/api/v1/datasets/{id}/data` with a progress bar, follows the
//! ingestion, and ends with exit status 0 and the new version's number on standard output once
//! published, 2 with the quality report's summary when the file is refused, 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

pub struct PublishArgs {
    pub server: String,
    pub token: String,
    pub dataset: String,
    pub file: PathBuf,
    pub append: bool,
    pub encoding: Option<String>,
}

/// Exit status for a file the quality gate refused.
const REFUSED: u8 = 2;

pub async fn publish(a: PublishArgs) -> anyhow::Result<ExitCode> {
    // One TLS provider for the whole process (the platform's own choice).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .user_agent(concat!("kaifang-publish/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let server = a.server.trim_end_matches('/');
    let size = tokio::fs::metadata(&a.file)
        .await
        .with_context(|| format!("cannot read {}", a.file.display()))?
        .len();
    let name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the file has no name")?;
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {percent:>3}% {bytes}/{total_bytes}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message("上传 upload");
    let file = tokio::fs::File::open(&a.file).await?;
    let counted = bar.clone();
    let chunks =
        futures_util::TryStreamExt::inspect_ok(store::blobs::file_chunks(file), move |c| {
            counted.inc(c.len() as u64)
        });
    let mut url = reqwest::Url::parse(&format!("{server}/api/v1/datasets/{}/data", a.dataset))
        .context("--server is not an address")?;
    url.query_pairs_mut()
        .append_pair("name", &name)
        .append_pair("mode", if a.append { "append" } else { "replace" });
    if let Some(e) = &a.encoding {
        url.query_pairs_mut().append_pair("encoding", e);
    }
    let res = client
        .post(url)
        .bearer_auth(&a.token)
        .header("content-type", "application/octet-stream")
        .header("content-length", size)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .context("the server cannot be reached")?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status != reqwest::StatusCode::ACCEPTED {
        bar.abandon();
        eprintln!("{}", refusal(status.as_u16(), &body));
        return Ok(ExitCode::FAILURE);
    }
    let id = body["id"].as_str().context("the answer names no version")?;
    bar.set_position(0);
    bar.set_length(100);
    bar.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {percent:>3}%")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message("读取 reading");
    // Each look waits up to a second on the server for the reading to end, so the result is
    // known the moment it is and the bar still moves every second.
    let version_url = format!(
        "{server}/api/v1/datasets/{}/data/versions/{id}?wait=1",
        a.dataset
    );
    loop {
        let asked = std::time::Instant::now();
        let v: Value = client
            .get(&version_url)
            .bearer_auth(&a.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        match v["state"].as_str() {
            Some("ingesting") => {
                if let Some(p) = v["progress"]["percent"].as_u64() {
                    bar.set_position(p);
                }
                // A server that does not know `wait` answers at once: look again no sooner
                // than every 100 ms.
                tokio::time::sleep(Duration::from_millis(100).saturating_sub(asked.elapsed()))
                    .await;
            }
            Some("published") => {
                bar.finish_with_message("已发布 published");
                println!("{}", v["number"]);
                return Ok(ExitCode::SUCCESS);
            }
            Some("refused") => {
                bar.abandon_with_message("未通过 refused");
                eprintln!("{}", summary(&v));
                return Ok(ExitCode::from(REFUSED));
            }
            other => {
                bar.abandon();
                eprintln!(
                    "the upload ended {}: {}",
                    other.unwrap_or("unknown"),
                    v["error"].as_str().unwrap_or("")
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
}

fn refusal(status: u16, body: &Value) -> String {
    let e = &body["error"];
    let mut out = format!(
        "refused ({status} {}): {}",
        e["code"].as_str().unwrap_or("?"),
        e["message"].as_str().unwrap_or("")
    );
    for f in e["fields"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\n  {}: {}",
            f["field"].as_str().unwrap_or(""),
            f["code"].as_str().unwrap_or("")
        ));
    }
    out
}

/// The quality report in a few lines: the verdict, the score, and the problems by column.
fn summary(v: &Value) -> String {
    let r = &v["report"];
    let mut out = String::new();
    if let Some(error) = v["error"].as_str() {
        out.push_str(&format!("the file cannot be read: {error}\n"));
    }
    if r.is_object() {
        out.push_str(&format!(
            "refused: score {} (published from {}), {} of {} rows with a problem\n",
            r["score"], r["thresholds"]["min_score"], r["bad_rows"], r["rows"]
        ));
        for c in r["counts"].as_array().into_iter().flatten().take(20) {
            let column = c["column"].as_str().unwrap_or("");
            out.push_str(&format!(
                "  {:<24} {:<20} {}\n",
                if column.is_empty() { "(file)" } else { column },
                c["code"].as_str().unwrap_or(""),
                c["count"]
            ));
        }
        if let Some(f) = v["failures_url"].as_str() {
            out.push_str(&format!("the rows with a problem: {f}\n"));
        }
    }
    out.trim_end().to_owned()
}
