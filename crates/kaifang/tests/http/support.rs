use std::sync::Arc;

use domain::clock::{Clock, ManualClock, Timestamp};
use domain::ids::UserId;
use domain::roles::{OrgRole, PlatformRole};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::migrate::MigrateDatabase;
use store::{AuditEvent, Store};

pub const PASSWORD: &str = "correct-horse-42";

pub struct TestApp {
    pub url: String,
    pub store: Store,
    pub blobs: store::blobs::Blobs,
    pub clock: Arc<ManualClock>,
    pub database_url: String,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    config: web::WebConfig,
}

/// The PostgreSQL server to test against, if the environment names one.
fn postgres_server() -> Option<String> {
    std::env::var("KAIFANG_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

/// The defaults, except that every test's accounts register from the loopback address: the
/// per-address registration bound is raised (tests of that bound set their own).
pub fn test_config() -> web::WebConfig {
    web::WebConfig {
        registrations_per_addr_hour: 1000,
        ..web::WebConfig::default()
    }
}

pub async fn spawn_app_with(config: web::WebConfig) -> TestApp {
    spawn_app_with_files(config, None).await
}

/// An app whose file store is `files` (by default a directory of the test's own).
pub async fn spawn_app_with_files(
    config: web::WebConfig,
    files: Option<store::blobs::BlobConfig>,
) -> TestApp {
    // Two TLS back ends meet in the tests (the WebDriver client's and the S3 client's).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let files = files.unwrap_or_else(|| store::blobs::BlobConfig::Local(dir.path().join("files")));
    let blobs = store::blobs::Blobs::open(&files).expect("file store");
    let (database_url, pg_database) = match postgres_server() {
        Some(server) => {
            sqlx::any::install_default_drivers();
            let name = format!("kf_test_{}", uuid_simple());
            let base = server
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&server)
                .to_owned();
            let url = format!("{base}/{name}");
            sqlx::Any::create_database(&url)
                .await
                .expect("create test database");
            (url, Some(name))
        }
        None => (
            format!("sqlite://{}", dir.path().join("kaifang.db").display()),
            None,
        ),
    };
    let store = Store::connect(&database_url).await.expect("connect");
    let clock = Arc::new(ManualClock::new(Timestamp(1_790_000_000_000)));
    store.migrate(clock.now()).await.expect("migrate");
    let (url, tx, server) = start_server(
        &store,
        &blobs,
        &clock,
        &dir.path().join("search-index"),
        config.clone(),
    )
    .await;
    TestApp {
        url,
        store,
        blobs,
        clock,
        database_url,
        _dir: dir,
        pg_database,
        shutdown: Some(tx),
        server: Some(server),
        config,
    }
}

/// Starts a server on port 0 over `store`, with its search index in `index_dir` caught up.
async fn start_server(
    store: &Store,
    blobs: &store::blobs::Blobs,
    clock: &Arc<ManualClock>,
    index_dir: &std::path::Path,
    config: web::WebConfig,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let index = search::SearchIndex::open_or_create(index_dir).expect("index");
    let state = web::AppState::new(
        store.clone(),
        blobs.clone(),
        clock.clone(),
        config,
        Arc::new(index),
    );
    web::indexer::catch_up(&state)
        .await
        .expect("index catch-up");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve(listener, state, async {
        let _ = rx.await;
    }));
    (url, tx, server)
}

fn uuid_simple() -> String {
    domain::ids::UserId::new().to_string().replace('-', "")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if self.pg_database.is_some() {
            let url = self.database_url.clone();
            // Drop the database from a thread of its own, as Drop cannot await. The app's pool
            // lives on the test's runtime, which is blocked here, so the drop is forced.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let _ = sqlx::Any::force_drop_database(&url).await;
                });
            })
            .join();
        }
    }
}

/// The CSRF token a page's form carries in its hidden `_csrf` field.
pub fn form_csrf(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("the form has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Opens the form at `path` as a visitor with `browser` and posts `fields` with its CSRF token.
pub async fn post_visitor_form(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (_, html) = app.page(browser, path).await;
    let csrf = form_csrf(&html);
    let mut form: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    browser.post(app.at(path)).form(&form).send().await.unwrap()
}

pub fn client() -> reqwest::Client {
    // reqwest's TLS (built for `kaifang publish`) needs a crypto provider before a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A signed-in browser-like client and the CSRF token of its session.
#[derive(Clone)]
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub user_id: String,
}

impl Session {
    /// Uploads `bytes` as a file named `name` (streamed as the request body, the way an API
    /// client sends a file) and returns the answer: 201 with the upload, or an error.
    pub async fn upload_raw(&self, app: &TestApp, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        let mut url = reqwest::Url::parse(&app.at("/api/v1/uploads")).unwrap();
        url.query_pairs_mut().append_pair("name", name);
        self.client
            .post(url)
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a file and returns how a ticket or an article attaches it: `{"upload": id}`.
    pub async fn attachment(&self, app: &TestApp, name: &str, bytes: &[u8]) -> Value {
        let res = self.upload_raw(app, name, bytes.to_vec()).await;
        assert_eq!(
            res.status(),
            reqwest::StatusCode::CREATED,
            "upload of {name}"
        );
        let u: Value = res.json().await.unwrap();
        serde_json::json!({ "upload": u["id"] })
    }

    /// Posts a form as the browser would, with the session's CSRF token.
    pub async fn post_form(&self, url: String, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client.post(url).form(&form).send().await.unwrap()
    }

    /// Sends a JSON body as a signed-in page script would, with the session's CSRF header.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        url: String,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .request(method, url)
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// GETs `url` and reads the answer as JSON.
    pub async fn get_json(&self, url: String) -> Value {
        self.client
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, url: String, body: Value) -> reqwest::Response {
        self.send_json(reqwest::Method::POST, url, &body).await
    }

    /// A DELETE with the session's CSRF header.
    pub async fn delete(&self, url: String) -> reqwest::Response {
        self.client
            .delete(url)
            .header("x-csrf-token", &self.csrf)
            .send()
            .await
            .unwrap()
    }
}

/// Runs the futures at once, each on a task of its own, and waits for all of them in order.
pub async fn join_all_spawned<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

impl TestApp {
    /// Stops the server and starts another over the same database, as a restart would;
    /// with `wipe_index`, the node's search index is deleted first.
    pub async fn restart(&mut self, wipe_index: bool) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Wait for the old server to let go of its index.
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let index_dir = self._dir.path().join("search-index");
        if wipe_index {
            std::fs::remove_dir_all(&index_dir).expect("remove index");
        }
        let (url, tx, server) = start_server(
            &self.store,
            &self.blobs,
            &self.clock,
            &index_dir,
            self.config.clone(),
        )
        .await;
        self.url = url;
        self.shutdown = Some(tx);
        self.server = Some(server);
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// Opens `path` with `client` (a session's, or `client()` for a visitor): status and text.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> (StatusCode, String) {
        let res = client.get(self.at(path)).send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    }

    /// Opens `path` as a visitor whose browser asks for `lang`: status and text.
    pub async fn page_in(&self, path: &str, lang: &str) -> (StatusCode, String) {
        let res = client()
            .get(self.at(path))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }

    pub async fn register(&self, email: &str) -> Value {
        let res = client()
            .post(self.at("/api/v1/auth/register"))
            .json(&json!({
                "kind": "natural_person", "email": email, "password": PASSWORD,
                "display_name": "测试用户",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        res.json().await.unwrap()
    }

    /// Registers a company (示范数据科技有限公司, with a valid 统一社会信用代码) at `email`.
    pub async fn register_company(&self, email: &str) -> Value {
        let res = client()
            .post(self.at("/api/v1/auth/register"))
            .json(&json!({
                "kind": "organization", "email": email, "password": PASSWORD,
                "display_name": "王经理", "legal_name": "示范数据科技有限公司",
                "uscc": "91350100M000100Y43",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        res.json().await.unwrap()
    }

    pub async fn login(&self, email: &str) -> Session {
        self.login_with(email, PASSWORD).await
    }

    pub async fn login_with(&self, email: &str, password: &str) -> Session {
        let client = client();
        let res = client
            .post(self.at("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "login {email}");
        let body: Value = res.json().await.unwrap();
        Session {
            client,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Registers `email` and gives it the platform role and membership asked for.
    pub async fn user_with(
        &self,
        email: &str,
        platform: Option<PlatformRole>,
        membership: Option<(&str, OrgRole)>,
    ) -> Session {
        let user = self.register(email).await;
        let id: UserId = user["id"].as_str().unwrap().parse().unwrap();
        let now = self.clock_now();
        let mut tx = self.store.begin_write().await.unwrap();
        if let Some(role) = platform {
            store::users::grant_platform_role(&mut tx, id, role, now)
                .await
                .unwrap();
        }
        if let Some((slug, role)) = membership {
            let org = self.store.org(slug).await.unwrap();
            store::orgs::set_member(&mut tx, org.id, id, role, now)
                .await
                .unwrap();
        }
        tx.audit(test_event("test.setup", id.to_string(), now))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        self.login(email).await
    }

    pub async fn create_org(&self, slug: &str) -> String {
        let now = self.clock_now();
        let org = store::orgs::OrgRecord {
            id: domain::ids::OrgId::new(),
            slug: slug.to_owned(),
            name_zh: format!("测试机构 {slug}"),
            name_en: format!("Test organization {slug}"),
            kind: domain::roles::OrgKind::Bureau,
            uscc: None,
            created_at: now,
        };
        let mut tx = self.store.begin_write().await.unwrap();
        store::orgs::insert(&mut tx, &org).await.unwrap();
        tx.audit(test_event("test.setup", org.id.to_string(), now))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        org.id.to_string()
    }

    /// The use cases over this app's store, files and clock, as the server runs them.
    pub fn use_cases(&self) -> app::App {
        app::App::new(
            self.store.clone(),
            self.blobs.clone(),
            self.clock.clone(),
            self.config.app_config(),
        )
    }

    /// The account `user_id` as a caller of the use cases (at the machine, not over HTTP).
    pub async fn caller(&self, user_id: &str) -> app::Caller {
        let actor = self.store.actor(user_id.parse().unwrap()).await.unwrap();
        app::Caller::cli(domain::roles::Actor::User(actor))
    }

    /// An application of `applicant` for `entries` (conditional entries whose list requires
    /// 单位介绍信, as `access::conditional_entry` makes them), with every material, submitted;
    /// its id. Made through the use cases, so no session of the applicant is needed.
    pub async fn submitted_application(&self, applicant: &str, entries: &[&str]) -> String {
        let app = self.use_cases();
        let caller = self.caller(applicant).await;
        let form: domain::application::ApplicationForm =
            serde_json::from_value(crate::access::form(entries)).unwrap();
        let a = app::access::create(&app, &caller, form).await.unwrap();
        let upload = |name: &'static str| {
            let (app, caller) = (&app, &caller);
            async move {
                let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(
                    bytes::Bytes::from_static(crate::access::PDF),
                )]);
                app::uploads::upload(app, caller, name, chunks)
                    .await
                    .unwrap()
                    .id
            }
        };
        let pledge = upload("安全承诺书.pdf").await;
        app::access::attach(&app, &caller, &a, None, "security_pledge", &pledge)
            .await
            .unwrap();
        for e in entries {
            let letter = upload("介绍信.pdf").await;
            app::access::attach(
                &app,
                &caller,
                &a,
                Some(e.parse().unwrap()),
                "单位介绍信",
                &letter,
            )
            .await
            .unwrap();
        }
        app::access::submit(&app, &caller, a)
            .await
            .unwrap()
            .id
            .to_string()
    }

    /// Runs the background jobs that are due, as a worker would, until none is left; returns
    /// how many ran.
    pub async fn run_jobs(&self) -> usize {
        let app = app::App::new(
            self.store.clone(),
            self.blobs.clone(),
            self.clock.clone(),
            self.config.app_config(),
        );
        let runner = app::jobs::runner(app, "test-worker");
        let mut ran = 0;
        while runner.run_once().await.unwrap().is_some() {
            ran += 1;
        }
        ran
    }

    /// A draft entry of `org` with minimal metadata, written straight to the store.
    pub async fn create_draft(&self, org: &str, name: &str) -> String {
        self.create_entry(org, name, domain::openlist::vocab::DatasetStatus::Draft)
            .await
    }

    /// An entry of `org` in `status` with minimal metadata, written straight to the store.
    pub async fn create_entry(
        &self,
        org: &str,
        name: &str,
        status: domain::openlist::vocab::DatasetStatus,
    ) -> String {
        let meta = json!({
            "name": name, "domain": "transport", "open_type": "unconditional", "update_frequency": "monthly",
        });
        self.create_entry_with(org, meta, status).await
    }

    /// An entry of `org` in `status` with the metadata `meta`, written straight to the store.
    pub async fn create_entry_with(
        &self,
        org: &str,
        meta: serde_json::Value,
        status: domain::openlist::vocab::DatasetStatus,
    ) -> String {
        let org = self.store.org(org).await.unwrap();
        let now = self.clock_now();
        let meta: domain::openlist::dataset::DatasetMeta = serde_json::from_value(meta).unwrap();
        let d = store::datasets::DatasetRecord {
            id: domain::ids::DatasetId::new(),
            org_id: org.id,
            status,
            meta,
            guide_version: 1,
            published_version: None,
            created_at: now,
            updated_at: now,
            last_reviewed_at: None,
            row_version: 1,
            data: None,
        };
        let mut tx = self.store.begin_write().await.unwrap();
        store::datasets::insert(&mut tx, &d).await.unwrap();
        tx.audit(test_event("test.setup", d.id.to_string(), now))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        d.id.to_string()
    }

    /// Two items of `org`'s data catalogue (A9.5), for entries' fields to link to; their ids.
    pub async fn catalogue_items(&self, org: &str) -> Vec<String> {
        let org = self.store.org(org).await.unwrap();
        let now = self.clock_now();
        let item = |code: &str, name: &str| store::catalogue::ImportItem {
            code: code.into(),
            name: name.into(),
            description: "基础信息".into(),
            source_system: "业务系统".into(),
            row_version: None,
        };
        let mut tx = self.store.begin_write().await.unwrap();
        store::catalogue::import(
            &mut tx,
            org.id,
            &[item("LINE", "线路"), item("STOP", "站点")],
            now,
        )
        .await
        .unwrap();
        tx.audit(test_event("test.setup", org.id.to_string(), now))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        self.store
            .catalogue(org.id)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id.to_string())
            .collect()
    }

    /// A submitted "add" ticket for the draft `dataset`, written straight to the store.
    pub async fn create_ticket(&self, dataset: &str) -> String {
        let d = self.store.dataset(dataset).await.unwrap();
        let now = self.clock_now();
        let t = store::tickets::TicketRecord {
            id: domain::ids::TicketId::new(),
            dataset_id: d.id,
            org_id: d.org_id,
            kind: domain::openlist::ticket::TicketKind::Add,
            state: domain::openlist::ticket::TicketState::Submitted,
            proposed: Some(d.meta.clone()),
            base_version: None,
            reason: "测试".into(),
            created_by: "test".into(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin_write().await.unwrap();
        store::tickets::insert(&mut tx, &t).await.unwrap();
        tx.audit(test_event("test.setup", t.id.to_string(), now))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        t.id.to_string()
    }

    /// Sets the account's password back to [`PASSWORD`], as a test step.
    pub async fn restore_password(&self, email: &str) {
        let user = self.store.user_by_email(email).await.unwrap();
        let hash = app::passwords::hash(PASSWORD.to_owned()).await.unwrap();
        let mut tx = self.store.begin_write().await.unwrap();
        store::users::set_password_hash(&mut tx, user.id, &hash)
            .await
            .unwrap();
        tx.audit(test_event(
            "test.setup",
            user.id.to_string(),
            self.clock_now(),
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    pub fn clock_now(&self) -> Timestamp {
        self.clock.now()
    }

    pub async fn audit_count(&self) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log")
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }

    pub async fn count(&self, table: &'static str) -> i64 {
        let sql = match table {
            "users" => "SELECT COUNT(*) FROM users",
            "api_tokens" => "SELECT COUNT(*) FROM api_tokens",
            "organizations" => "SELECT COUNT(*) FROM organizations",
            "sessions" => "SELECT COUNT(*) FROM sessions",
            "datasets" => "SELECT COUNT(*) FROM datasets",
            "tickets" => "SELECT COUNT(*) FROM tickets",
            "articles" => "SELECT COUNT(*) FROM articles",
            "uploads" => "SELECT COUNT(*) FROM uploads",
            "ticket_attachments" => "SELECT COUNT(*) FROM ticket_attachments",
            "data_versions" => "SELECT COUNT(*) FROM data_versions",
            "access_applications" => "SELECT COUNT(*) FROM access_applications",
            "access_materials" => "SELECT COUNT(*) FROM access_materials",
            other => panic!("no count for {other}"),
        };
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }
}

pub fn test_event(action: &'static str, target: String, at: Timestamp) -> AuditEvent {
    AuditEvent::system(at, "test", action, "test", target)
}

/// The stable error code of a response.
pub fn error_code(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

pub async fn json_error(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let body: Value = res.json().await.expect("error body is JSON");
    (status, body["error"].clone())
}
