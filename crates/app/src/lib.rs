//! Kaifang's use cases. Each takes the [`App`] (the store, the clock, the settings), a
//! [`Caller`] and its input, checks what the rules ask, writes through the store in one audited
//! transaction, and answers with a record or an [`Error`] that has a stable code. The web
//! routes, the CLI, background jobs and tests all call these; none of them writes to the store
//! itself.

pub mod access;
pub mod accounts;
pub mod agreements;
pub mod anomaly;
pub mod articles;
pub mod calendar;
pub mod caller;
pub mod catalogue;
pub mod counters;
pub mod data_versions;
pub mod delivery;
pub mod error;
pub mod experts;
pub mod filetype;
pub mod held;
pub mod infer;
pub mod jobs;
pub mod mail;
pub mod notify;
pub mod open_data;
pub mod openlist;
pub mod orgs;
pub mod oversight;
pub mod password_changes;
pub mod passwords;
pub mod privacy;
pub mod review_cycles;
pub mod samples;
pub mod sandbox;
pub mod secrets;
pub mod tickets;
pub mod uploads;
pub mod usage;
pub mod vocab;

use std::sync::Arc;

use domain::clock::Clock;
use domain::openlist::text::Segmenter;
use store::Store;
use tokio::sync::OnceCell;

pub use caller::{Caller, Via};
pub use error::{Error, ErrorCode, FieldError, Result};

/// The settings the use cases read.
#[derive(Debug, Clone)]
pub struct Config {
    /// Failed sign-ins to one account from one address allowed within `login_window_secs`.
    pub login_max_failures: i64,
    /// Failed sign-ins from one address, whatever the account, allowed within the window.
    pub login_max_failures_per_addr: i64,
    pub login_window_secs: i64,
    /// Accounts one address may register per hour.
    pub registrations_per_addr_hour: i64,
    pub session_ttl_secs: i64,
    /// Days an API token lives when its creator names no expiry.
    pub token_default_days: i64,
    /// Live tokens one account may hold.
    pub max_tokens_per_account: i64,
    /// Names of open-list entries at least this similar (0..1) are refused as near-duplicates.
    pub name_similarity_threshold: f64,
    /// The data plane's settings.
    pub data: DataSettings,
}

/// Where the data plane works and the bar its quality gate sets.
#[derive(Debug, Clone)]
pub struct DataSettings {
    /// Where ingestion writes its working files (a directory of this machine).
    pub scratch_dir: std::path::PathBuf,
    /// Where versions' Parquet files are kept once fetched from the file store.
    pub cache_dir: std::path::PathBuf,
    /// Memory the rows of versions held for queries may take.
    pub max_table_bytes: u64,
    /// The quality gate's bar (`[quality]`).
    pub quality: data::gate::Thresholds,
    /// Where coordinates must lie.
    pub area: data::rules::Area,
    /// What one SQL query may take.
    pub sql: data::sql::Limits,
    /// The privacy guard's bars (`[privacy]`).
    pub privacy: privacy::Settings,
}

impl Default for DataSettings {
    fn default() -> Self {
        Self {
            scratch_dir: std::env::temp_dir().join("kaifang-scratch"),
            cache_dir: std::env::temp_dir().join("kaifang-cache"),
            max_table_bytes: 1 << 30,
            quality: data::gate::Thresholds::default(),
            area: data::rules::SHANGHAI,
            sql: data::sql::Limits::default(),
            privacy: privacy::Settings::default(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            login_max_failures: 5,
            login_max_failures_per_addr: 30,
            login_window_secs: 15 * 60,
            registrations_per_addr_hour: 10,
            session_ttl_secs: 8 * 3600,
            token_default_days: 90,
            max_tokens_per_account: 20,
            name_similarity_threshold: 0.8,
            data: DataSettings::default(),
        }
    }
}

/// What every use case works with. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    /// The file store: attachments now, data files next.
    pub blobs: store::blobs::Blobs,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Where reads of entries are counted (off the request path).
    pub usage: usage::UsageLog,
    /// Chinese word segmentation, loaded on first use so that start-up stays fast.
    segmenter: Arc<OnceCell<Arc<Segmenter>>>,
    /// Sends e-mail, when the deployment names an SMTP server.
    pub mailer: Option<mail::Mailer>,
    /// The words of the notices mailed to the parties (the web layer's message catalogue).
    pub notice_texts: Option<notify::Texts>,
    /// Versions' rows held for queries.
    pub tables: open_data::Tables,
    /// The working-day calendar's built-in years, read from the holiday data on first use.
    built_in_calendar: Arc<std::sync::OnceLock<calendar::BuiltIn>>,
    /// Calls under agreements, counted here and shared once a second.
    pub counters: counters::Counters,
    /// Agreements in force, held for the calls made under them.
    pub agreements: held::Agreements,
    /// Open-list entries held for the reads of their open data.
    pub entries: held::Entries,
    /// Rung when this process queues a job its workers should start on at once (other
    /// processes' jobs are found when the workers next look at the queue).
    pub jobs_due: Arc<tokio::sync::Notify>,
    /// Rung when this process ends an upload's ingestion (published, refused, failed or
    /// cancelled), for callers waiting on it ([`data_versions::ended`]).
    pub versions_ended: Arc<tokio::sync::Notify>,
}

impl App {
    pub fn new(
        store: Store,
        blobs: store::blobs::Blobs,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Self {
        let tables =
            open_data::Tables::new(config.data.cache_dir.clone(), config.data.max_table_bytes);
        Self {
            usage: usage::UsageLog::start(store.clone()),
            store,
            blobs,
            clock,
            config: Arc::new(config),
            segmenter: Arc::new(OnceCell::new()),
            mailer: None,
            notice_texts: None,
            tables,
            built_in_calendar: Arc::default(),
            counters: counters::Counters::default(),
            agreements: held::Agreements::default(),
            entries: held::Entries::default(),
            jobs_due: Arc::default(),
            versions_ended: Arc::default(),
        }
    }

    /// The app, sending mail through `mailer`.
    pub fn with_mailer(self, mailer: Option<mail::Mailer>) -> Self {
        Self { mailer, ..self }
    }

    /// The app, wording the notices it mails with `texts`.
    pub fn with_notice_texts(self, texts: notify::Texts) -> Self {
        Self {
            notice_texts: Some(texts),
            ..self
        }
    }

    pub async fn segmenter(&self) -> Arc<Segmenter> {
        self.segmenter
            .get_or_init(|| async {
                let loaded = tokio::task::spawn_blocking(Segmenter::new).await;
                Arc::new(loaded.unwrap_or_else(|_| Segmenter::new()))
            })
            .await
            .clone()
    }
}
