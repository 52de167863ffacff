//! A fresh database for each test: SQLite in a temporary directory, or, when
//! `KAIFANG_TEST_POSTGRES_URL` names a server, a database of its own there (dropped after).

use store::Store;

pub struct TestDb {
    pub store: Store,
    pub blobs: store::blobs::Blobs,
    url: String,
    postgres: bool,
    _dir: tempfile::TempDir,
}

pub async fn database(now: domain::clock::Timestamp) -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let server = std::env::var("KAIFANG_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let (url, postgres) = match server {
        Some(server) => {
            sqlx::any::install_default_drivers();
            let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
            let url = format!("{base}/kf_app_{}", uuid::Uuid::now_v7().simple());
            <sqlx::Any as sqlx::migrate::MigrateDatabase>::create_database(&url)
                .await
                .unwrap();
            (url, true)
        }
        None => (
            format!("sqlite://{}", dir.path().join("kaifang.db").display()),
            false,
        ),
    };
    let store = Store::connect(&url).await.unwrap();
    store.migrate(now).await.unwrap();
    let blobs =
        store::blobs::Blobs::open(&store::blobs::BlobConfig::Local(dir.path().join("files")))
            .unwrap();
    TestDb {
        store,
        blobs,
        url,
        postgres,
        _dir: dir,
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.postgres {
            let url = self.url.clone();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let _ =
                        <sqlx::Any as sqlx::migrate::MigrateDatabase>::force_drop_database(&url)
                            .await;
                });
            })
            .join();
        }
    }
}
