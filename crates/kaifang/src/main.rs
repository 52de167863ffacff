//! `kaifang`: the portal, the APIs and the operator's tools in one binary.

mod config;
mod demo;
mod demo_access;
mod demo_data;
mod demo_openlist;
mod from_file;
mod publish;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use domain::clock::{Clock, SystemClock};
use domain::roles::PlatformRole;
use store::Store;
use store::audit::Verification;
use store::checkpoints::Anchored;

/// A search allocates and frees many small strings and lists; mimalloc serves that pattern with
/// less contention between threads than the system allocator (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use config::{FileConfig, ServeArgs, StoreArgs};

#[derive(Parser)]
#[command(
    name = "kaifang",
    version,
    about = "Kaifang (开放): a public data opening platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal and the APIs.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Start a platform seeded with synthetic demo content (in a temporary directory unless
    /// --data-dir is given), print its address and demo accounts, and serve it.
    Demo {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Run background jobs only (no HTTP), for deployments that separate them from the web
    /// nodes; `serve` runs them too.
    Worker {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Add synthetic published entries (for benchmarks) to a platform seeded by `demo`; or,
    /// with --from-file, one published unconditional entry whose data items are inferred from
    /// a CSV file, with the file as its first version (prints the entry's id).
    Generate {
        #[command(flatten)]
        store: StoreArgs,
        /// How many synthetic entries to add.
        #[arg(long, required_unless_present_any = ["from_file", "work_orders"])]
        entries: Option<usize>,
        /// A CSV (or TSV) file to make an entry from.
        #[arg(long, requires = "org", conflicts_with = "entries")]
        from_file: Option<PathBuf>,
        /// The organization (slug) that owns the entry made from the file.
        #[arg(long)]
        org: Option<String>,
        /// The entry's name; the file's name by default.
        #[arg(long)]
        name: Option<String>,
        /// Instead: add this many open work orders to the demo's transport commission (a
        /// benchmark of the provider's inbox).
        #[arg(long, conflicts_with_all = ["entries", "from_file"])]
        work_orders: Option<usize>,
    },
    /// Upload a data file to an entry on a Kaifang server, wait until it is read, and exit 0
    /// printing the new version's number, or non-zero with the quality report's summary.
    Publish {
        /// The server's address, e.g. https://data.example.gov.cn
        #[arg(long, env = "KAIFANG_SERVER")]
        server: String,
        /// An API token of an account that publishes the entry's data.
        #[arg(long, env = "KAIFANG_TOKEN", hide_env_values = true)]
        token: String,
        /// The entry's id.
        #[arg(long)]
        dataset: String,
        /// Add the file's rows to the current version instead of replacing it.
        #[arg(long)]
        append: bool,
        /// The file's text encoding (UTF-8, GBK, GB18030, UTF-16); detected when left out.
        #[arg(long)]
        encoding: Option<String>,
        /// The file (CSV or TSV).
        file: PathBuf,
    },
    /// Work with the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account with a platform role, e.g. the first sysadmin.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// operator, regulator, security_auditor or sysadmin.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input; otherwise one is generated
        /// and printed once.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain against its newest signed checkpoint: exit 0 when intact, 1 naming
    /// the first bad record.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// The checkpoints' public key (hex, as `audit checkpoint` prints it); by default the
        /// public half of the signing key.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Sign the chain's head now and write it to the file store as a checkpoint.
    Checkpoint {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_e` in mimalloc.h, v2 and v3 alike;
/// libmimalloc-sys names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // An ingestion frees each chunk's columns and allocates the next chunk's. Given back to the
    // system 10 ms after they are freed (mimalloc's default), they came back as fresh pages the
    // kernel zeroes, a fifth of an upload's time; a second keeps them for the next chunk. (For
    // the same reason mimalloc is built without transparent huge pages: a page purged from a
    // huge one came back as a whole 2 MB page to zero.)
    // SAFETY: sets an option mimalloc reads when it next purges; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1_000) };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // Parsing and planning a query recurse once per level of its expressions; the SQL gate
    // bounds the levels (data::sql::MAX_DEPTH), and each worker gets room for them even in a
    // debug build, whose frames are many times larger. The stack is reserved, not committed.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 << 20)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// An opened, migrated store, the settings file, and the data dir.
async fn open_store(
    args: &StoreArgs,
    default_dir: PathBuf,
) -> anyhow::Result<(Store, FileConfig, PathBuf)> {
    let file = FileConfig::load(args.config.as_deref())?;
    let data_dir = config::data_dir(args, &file, &default_dir)?;
    let url = config::database_url(args, &file, &data_dir);
    let store = Store::connect(&url)
        .await
        .with_context(|| "cannot open the database")?;
    store
        .migrate(SystemClock.now())
        .await
        .context("cannot migrate the database")?;
    Ok((store, file, data_dir))
}

/// Opens the file store the settings name, and moves into it any attachment an older version
/// kept in the database.
async fn open_files(
    args: &StoreArgs,
    file: &FileConfig,
    data_dir: &std::path::Path,
    db: &Store,
) -> anyhow::Result<store::blobs::Blobs> {
    let blobs = store::blobs::Blobs::open(&config::blob_config(args, file, data_dir)?)
        .context("cannot open the file store")?;
    let moved = db
        .move_attachments_to(&blobs)
        .await
        .context("cannot move attachments to the file store")?;
    if moved > 0 {
        tracing::info!(
            moved,
            "attachments moved from the database to the file store"
        );
    }
    Ok(blobs)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { store, serve } => {
            let (db, file, data_dir) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            let listen = serve
                .listen
                .clone()
                .or(file.listen.clone())
                .unwrap_or_else(|| "127.0.0.1:8080".into());
            let mut web = config::web_config(&serve, &file, &listen, false)?;
            web.data = config::data_settings(&file, &data_dir)?;
            let anchoring = Anchoring::new(&store, &file, &data_dir)?;
            let blobs = open_files(&store, &file, &data_dir, &db).await?;
            serve_until_shutdown(db, blobs, web, &data_dir, &listen, anchoring, None).await?;
        }
        Command::Demo { store, serve } => {
            // Kept alive until the server stops; removed afterwards when it is temporary.
            let temp = match &store.data_dir {
                Some(_) => None,
                None => Some(tempfile::Builder::new().prefix("kaifang-demo-").tempdir()?),
            };
            let default_dir = temp
                .as_ref()
                .map(|t| t.path().to_path_buf())
                .unwrap_or_default();
            let (db, file, data_dir) = open_store(&store, default_dir).await?;
            let hash = app::passwords::hash(demo::DEMO_PASSWORD.to_owned())
                .await
                .map_err(|_| anyhow::anyhow!("cannot hash the demo password"))?;
            demo::seed(&db, &hash, SystemClock.now()).await?;
            let listen = serve
                .listen
                .clone()
                .or(file.listen.clone())
                .unwrap_or_else(|| "127.0.0.1:8080".into());
            let mut web = config::web_config(&serve, &file, &listen, true)?;
            web.data = config::data_settings(&file, &data_dir)?;
            let anchoring = Anchoring::new(&store, &file, &data_dir)?;
            let blobs = open_files(&store, &file, &data_dir, &db).await?;
            // Every open or conditional entry gets its data, read by the server's job runner.
            let seeding = app::App::new(
                db.clone(),
                blobs.clone(),
                Arc::new(SystemClock),
                web.app_config(),
            );
            let files = demo_data::seed(&seeding).await?;
            if files > 0 {
                tracing::info!(files, "demo data uploaded; the job runner reads it now");
            }
            if let Some(credential) = demo_access::seed(&seeding).await? {
                println!("A demo credential under a signed data use agreement (company@):");
                println!("  {credential}");
            }
            serve_until_shutdown(
                db,
                blobs,
                web,
                &data_dir,
                &listen,
                anchoring,
                Some(demo_banner),
            )
            .await?;
        }
        Command::Worker { store } => {
            let (db, file, data_dir) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            let mut web = config::web_config(&ServeArgs::default(), &file, "127.0.0.1:0", false)?;
            web.data = config::data_settings(&file, &data_dir)?;
            let blobs = open_files(&store, &file, &data_dir, &db).await?;
            let app = app::App::new(db.clone(), blobs, Arc::new(SystemClock), web.app_config());
            let (runner, scheduler) = spawn_jobs(&app);
            tracing::info!("kaifang worker is running jobs");
            shutdown_signal().await;
            runner.abort();
            scheduler.abort();
            db.close().await;
        }
        Command::Migrate { store } => {
            let (db, file, data_dir) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            open_files(&store, &file, &data_dir, &db).await?;
            println!("migrations applied");
            db.close().await;
        }
        Command::User {
            command:
                UserCommand::Create {
                    store,
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            let role: PlatformRole = role.parse().map_err(|_| {
                anyhow::anyhow!(
                    "unknown role {role:?}: use operator, regulator, security_auditor or sysadmin"
                )
            })?;
            let (db, file, data_dir) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            let blobs = open_files(&store, &file, &data_dir, &db).await?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (app::secrets::random_secret(), true)
            };
            create_user(&db, blobs, &email, &name, role, password.clone()).await?;
            println!("created {email} with role {role}");
            if generated {
                println!("password (shown once): {password}");
            }
            db.close().await;
        }
        Command::Generate {
            store,
            work_orders: Some(n),
            ..
        } => {
            let (db, file, data_dir) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            let web = config::web_config(&ServeArgs::default(), &file, "127.0.0.1:0", false)?;
            let blobs = open_files(&store, &file, &data_dir, &db).await?;
            let app = app::App::new(db.clone(), blobs, Arc::new(SystemClock), web.app_config());
            let n = demo_access::open_work_orders(&app, n).await?;
            println!("added {n} open work orders");
            db.close().await;
        }
        Command::Generate {
            store,
            from_file: Some(path),
            org,
            name,
            ..
        } => {
            let org = org.context("--from-file needs --org")?;
            let (db, file, data_dir) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            let mut web = config::web_config(&ServeArgs::default(), &file, "127.0.0.1:0", false)?;
            web.data = config::data_settings(&file, &data_dir)?;
            let blobs = open_files(&store, &file, &data_dir, &db).await?;
            let app = app::App::new(db.clone(), blobs, Arc::new(SystemClock), web.app_config());
            let id = from_file::generate(&app, &SystemClock, &path, &org, name).await?;
            println!("{id}");
            db.close().await;
        }
        Command::Publish {
            server,
            token,
            dataset,
            append,
            encoding,
            file,
        } => {
            return publish::publish(publish::PublishArgs {
                server,
                token,
                dataset,
                file,
                append,
                encoding,
            })
            .await;
        }
        Command::Generate { entries: None, .. } => {
            anyhow::bail!("name --entries N or --from-file FILE --org SLUG")
        }
        Command::Generate {
            store,
            entries: Some(entries),
            ..
        } => {
            let (db, _, _) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            if db.list_orgs().await?.is_empty() {
                let hash = app::passwords::hash(demo::DEMO_PASSWORD.to_owned())
                    .await
                    .map_err(|_| anyhow::anyhow!("cannot hash the demo password"))?;
                demo::seed(&db, &hash, SystemClock.now()).await?;
            }
            let n = demo_openlist::generate(&db, entries, SystemClock.now()).await?;
            println!("added {n} synthetic entries");
            db.close().await;
        }
        Command::Audit {
            command: AuditCommand::Verify { store, public_key },
        } => {
            let (db, file, data_dir) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            let trusted = match public_key {
                Some(text) => Some(
                    domain::checkpoint::parse_public_key(&text)
                        .context("--public-key is not an Ed25519 public key in hex")?,
                ),
                None => {
                    let path = config::audit_key_path(&store, &file, &data_dir);
                    match path.exists() {
                        true => {
                            Some(store::checkpoints::load_or_create_key(&path)?.verifying_key())
                        }
                        false => None,
                    }
                }
            };
            let result = match trusted {
                Some(key) => {
                    let files = config::checkpoint_files(&store, &file, &data_dir)?;
                    db.verify_audit_anchored(&files, &key).await?
                }
                None => Anchored::Verified {
                    verification: db.verify_audit(None).await?,
                    checkpoint: None,
                },
            };
            db.close().await;
            return Ok(report_verification(result));
        }
        Command::Audit {
            command: AuditCommand::Checkpoint { store },
        } => {
            let (db, file, data_dir) = open_store(&store, PathBuf::from("kaifang-data")).await?;
            let key = store::checkpoints::load_or_create_key(&config::audit_key_path(
                &store, &file, &data_dir,
            ))?;
            let files = config::checkpoint_files(&store, &file, &data_dir)?;
            let made = db.checkpoint_audit(&key, &files, SystemClock.now()).await?;
            db.close().await;
            match made {
                Some(cp) => println!("audit checkpoint at record {}: {}", cp.seq, cp.hash),
                None => println!("the newest audit checkpoint already covers the chain's head"),
            }
            println!(
                "public key: {}",
                hex::encode(key.verifying_key().as_bytes())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints what verification found; exit 0 only for an intact chain.
fn report_verification(result: Anchored) -> ExitCode {
    match result {
        Anchored::BadCheckpoint { seq, error } => {
            println!("audit checkpoint at record {seq} does not verify: {error}");
            ExitCode::from(1)
        }
        Anchored::Verified {
            verification: Verification::Broken(brk),
            ..
        } => {
            println!("audit chain broken at record {}: {brk}", brk.seq());
            ExitCode::from(1)
        }
        Anchored::Verified {
            verification: Verification::Intact { records },
            checkpoint,
        } => {
            match checkpoint {
                Some(seq) => println!(
                    "audit chain intact: {records} records, matching the signed checkpoint at record {seq}"
                ),
                None => println!(
                    "audit chain intact: {records} records (no signed checkpoint yet: run `kaifang audit checkpoint`)"
                ),
            }
            ExitCode::SUCCESS
        }
    }
}

async fn create_user(
    db: &Store,
    blobs: store::blobs::Blobs,
    email: &str,
    name: &str,
    role: PlatformRole,
    password: String,
) -> anyhow::Result<()> {
    let app = app::App::new(
        db.clone(),
        blobs,
        Arc::new(SystemClock),
        app::Config::default(),
    );
    let caller = app::Caller::cli(domain::roles::Actor::Anonymous);
    let input = app::accounts::StaffAccount {
        email: email.to_owned(),
        name: name.to_owned(),
        role,
        password,
    };
    match app::accounts::create_staff(&app, &caller, input).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == app::ErrorCode::EmailTaken => {
            anyhow::bail!("{email} is already registered")
        }
        Err(e) => {
            let problems: Vec<String> = e
                .fields
                .iter()
                .map(|f| match f.code {
                    "invalid_email" => "not a valid e-mail address".to_owned(),
                    "invalid_name" => "a name has 1 to 100 characters".to_owned(),
                    code => format!("{}: {}", f.field, code.replace('_', " ")),
                })
                .collect();
            if problems.is_empty() {
                anyhow::bail!("cannot create the account: {e}")
            }
            anyhow::bail!("{}", problems.join("; "))
        }
    }
}

fn demo_banner(url: &str) {
    println!();
    println!("Kaifang demo (synthetic data) is running at {url}");
    println!(
        "Demo accounts, all with the password {}:",
        demo::DEMO_PASSWORD
    );
    for a in demo::accounts() {
        println!("  {:<42} {}", a.email, a.role);
    }
    println!("Press Ctrl-C to stop.");
}

/// Signed checkpoints of the audit chain, made periodically by a running server.
struct Anchoring {
    key: domain::checkpoint::AuditSigningKey,
    files: store::checkpoints::CheckpointFiles,
    every: std::time::Duration,
}

impl Anchoring {
    fn new(
        args: &StoreArgs,
        file: &FileConfig,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let path = config::audit_key_path(args, file, data_dir);
        let key = store::checkpoints::load_or_create_key(&path)
            .with_context(|| "cannot load the audit signing key")?;
        Ok(Self {
            key,
            files: config::checkpoint_files(args, file, data_dir)?,
            every: std::time::Duration::from_secs(
                file.audit_checkpoint_secs.unwrap_or(3600).max(60),
            ),
        })
    }

    async fn checkpoint(&self, db: &Store) {
        match db
            .checkpoint_audit(&self.key, &self.files, SystemClock.now())
            .await
        {
            Ok(Some(cp)) => tracing::info!(seq = cp.seq, "audit checkpoint written"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "audit checkpoint failed; will retry"),
        }
    }

    /// Checkpoints every `every` while the server runs.
    fn spawn(self: Arc<Self>, db: Store) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.every);
            loop {
                tick.tick().await;
                self.checkpoint(&db).await;
            }
        })
    }
}

async fn serve_until_shutdown(
    db: Store,
    blobs: store::blobs::Blobs,
    mut web_config: web::WebConfig,
    data_dir: &std::path::Path,
    listen: &str,
    anchoring: Anchoring,
    banner: Option<fn(&str)>,
) -> anyhow::Result<()> {
    // Each node keeps its own search index, derived from the database.
    let index_dir = data_dir.join("search-index");
    let index =
        tokio::task::spawn_blocking(move || search::SearchIndex::open_or_create(&index_dir))
            .await?
            .context("cannot open the search index")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    // Without a public address set, the platform is reached where it listens: on the port the
    // system chose, when it was asked for any (port 0).
    if web_config.public_url == format!("http://{listen}") {
        web_config.public_url = url.clone();
    }
    tracing::info!(%url, backend = ?db.backend(), "kaifang is serving");
    if let Some(banner) = banner {
        banner(&url);
    }
    let state = web::AppState::new(
        db.clone(),
        blobs,
        Arc::new(SystemClock),
        web_config,
        Arc::new(index),
    );
    // Catches up at once (a missing index is rebuilt), then follows other nodes' changes.
    let follower = web::indexer::spawn_follower(state.clone(), std::time::Duration::from_secs(2));
    let (runner, scheduler) = spawn_jobs(&state.app);
    let anchoring = Arc::new(anchoring);
    let checkpoints = anchoring.clone().spawn(db.clone());
    let usage = state.app.usage.clone();
    web::serve(listener, state, shutdown_signal()).await?;
    // Reads counted since the last batch are written before the server goes.
    usage.flush().await;
    follower.abort();
    runner.abort();
    scheduler.abort();
    checkpoints.abort();
    // What was written since the last checkpoint is anchored before the server goes.
    anchoring.checkpoint(&db).await;
    db.close().await;
    Ok(())
}

/// The job runner and the scheduler of periodic jobs, on this node.
fn spawn_jobs(app: &app::App) -> (tokio::task::JoinHandle<()>, tokio::task::JoinHandle<()>) {
    let worker = format!("{}-{}", hostname(), std::process::id());
    let runner = Arc::new(app::jobs::runner(app.clone(), worker));
    (
        runner.spawn(std::time::Duration::from_secs(2)),
        app::jobs::spawn_scheduler(app.clone(), std::time::Duration::from_secs(600)),
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned())
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
