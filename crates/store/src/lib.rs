//! Kaifang's database. One SQL codebase over SQLite and PostgreSQL through sqlx's `Any`
//! driver: queries use `$n` placeholders and portable types only, so both backends run the very
//! same statements and the same migration history (see docs/decisions/0001-store-any-driver.md).

pub mod access;
pub mod agreements;
pub mod articles;
pub mod attachments;
pub mod audit;
pub mod blobs;
pub mod calendar;
pub mod catalogue;
pub mod checkpoints;
pub mod data_versions;
pub mod datasets;
mod error;
pub mod experts;
mod filters;
pub mod guides;
pub mod housekeeping;
pub mod jobs;
pub mod notifications;
pub mod orgs;
pub mod paging;
pub mod password_resets;
pub mod privacy;
pub mod review_cycles;
pub mod samples;
pub mod sandbox;
pub mod sessions;
pub mod throttle;
pub mod tickets;
pub mod tokens;
pub mod uploads;
pub mod usage;
pub mod users;
pub mod vocab;
mod write;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions};

pub use error::StoreError;
pub use write::{AuditEvent, WriteTx};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Parses a stored name or id; a value that does not parse means the data is corrupt.
pub(crate) fn parse<T: FromStr>(s: &str, what: &str) -> Result<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what}: {s:?}")))
}

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names; anything else is a configuration error.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::UnsupportedUrl(scheme.to_owned())),
        }
    }
}

/// Handles to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// Reads go here.
    pool: AnyPool,
    /// Writes go here. On SQLite this pool has one connection, so writers queue in the
    /// application instead of failing on the database lock; on PostgreSQL it is `pool`.
    writer: AnyPool,
    /// Transactions this process committed that changed an open-list entry (see
    /// [`Store::entry_changes`]).
    entry_changes: Arc<AtomicU64>,
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://...`). A SQLite file is created if
    /// missing. Does not migrate; call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .disable_statement_logging();
        let base = || {
            AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
                            // Every connection: WAL for concurrent readers, foreign keys on
                            // (SQLite's default is off), and wait rather than fail on a lock.
                            sqlx::raw_sql(
                                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                            )
                            .execute(&mut *conn)
                            .await?;
                        }
                        Ok(())
                    })
                })
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let writer = base()
                    .max_connections(1)
                    .connect_with(options.clone())
                    .await?;
                let pool = base().max_connections(8).connect_with(options).await?;
                (pool, writer)
            }
            Backend::Postgres => {
                let pool = base().max_connections(16).connect_with(options).await?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            backend,
            pool,
            writer,
            entry_changes: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool writes outside an audited transaction go to (throttling counters).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Applies the embedded migrations that are not yet applied.
    /// Applies the embedded migrations that are not yet applied, then seeds what a platform
    /// cannot start without (the default classification guide), audited as the system's act.
    pub async fn migrate(&self, at: domain::clock::Timestamp) -> Result<()> {
        MIGRATOR.run(&self.writer).await?;
        let guides: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM classification_guides")
            .fetch_one(&self.writer)
            .await?;
        if guides == 0 {
            let mut tx = self.begin_write().await?;
            let version = guides::insert(
                &mut tx,
                domain::openlist::classification::DEFAULT_GUIDE_TOML,
                None,
                None,
                at,
            )
            .await?;
            tx.audit(AuditEvent::system(
                at,
                "system",
                "guide.seed",
                "classification_guide",
                version.to_string(),
            ))
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// True when the database answers and every embedded migration is applied.
    pub async fn ready(&self) -> Result<bool> {
        let applied: std::result::Result<i64, sqlx::Error> =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await;
        match applied {
            Ok(n) => Ok(n as usize >= MIGRATOR.iter().count()),
            // No migration table yet: reachable but not migrated.
            Err(sqlx::Error::Database(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Begins a write transaction. It commits only after at least one audit record was
    /// appended to it: every change of state is audited in the same transaction.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        let tx = match self.backend {
            // Take the write lock up front, so a transaction never fails half-way when it
            // upgrades from reading to writing while another process writes.
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(WriteTx::new(tx, self.entry_changes.clone()))
    }

    /// How many transactions this process has committed that changed an open-list entry (its
    /// metadata, status or current data version). What is held in memory about an entry is
    /// good while this number stays the same; other processes' changes it does not count.
    pub fn entry_changes(&self) -> u64 {
        self.entry_changes.load(Ordering::Acquire)
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}
