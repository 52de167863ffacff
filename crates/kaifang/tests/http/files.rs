//! Files live in the object store, content-addressed: attachments are written there, streamed
//! back, moved out of the database when an older version kept them there, and the same code
//! works against a real S3-compatible server (`s3s-fs`, which `scripts/test.sh` installs).

use base64::Engine;
use domain::roles::PlatformRole;
use futures_util::TryStreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::*;

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Publishes an article with `PDF` attached; returns (article id, attachment id).
async fn article_with_file(app: &TestApp) -> (String, String) {
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let file = op.attachment(app, "细则.pdf", PDF).await;
    let res = op
        .post_json(
            app.at("/api/v1/articles"),
            json!({
                "kind": "policy", "title": "上海市公共数据开放实施细则", "body": "全文见附件。",
                "publish": true, "attachments": [file],
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    let article = app.store.article(&id).await.expect("the article is stored");
    let files = app
        .store
        .attachments(store::attachments::Owner::Article(article.id))
        .await
        .unwrap();
    (id, files[0].id.clone())
}

async fn download(app: &TestApp, article: &str, file: &str) -> (StatusCode, Vec<u8>) {
    let res = client()
        .get(app.at(&format!("/news/{article}/attachments/{file}")))
        .send()
        .await
        .unwrap();
    let status = res.status();
    if status == StatusCode::OK {
        assert_eq!(
            res.headers()["content-length"],
            PDF.len().to_string().as_str()
        );
    }
    (status, res.bytes().await.unwrap().to_vec())
}

async fn content_in_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM article_attachments WHERE content IS NOT NULL")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn attachments_are_kept_in_the_file_store_by_content_and_streamed_back() {
    let app = spawn_app().await;
    let (article, file) = article_with_file(&app).await;
    assert_eq!(
        content_in_rows(&app).await,
        0,
        "no file content in the database"
    );
    let sha = hex::encode(Sha256::digest(PDF));
    assert!(app.blobs.exists(&sha).await.unwrap());
    assert_eq!(
        download(&app, &article, &file).await,
        (StatusCode::OK, PDF.to_vec())
    );
}

#[tokio::test]
async fn attachments_an_older_version_kept_in_the_database_move_to_the_file_store() {
    let app = spawn_app().await;
    let (article, file) = article_with_file(&app).await;
    // As an older version wrote it: the content base64 in the row, nothing in the file store.
    let other = b"%PDF-1.4\n% an older file\n%%EOF\n";
    let sha = hex::encode(Sha256::digest(other));
    sqlx::query(
        "UPDATE article_attachments SET content = $1, sha256 = $2, size = $3 WHERE id = $4",
    )
    .bind(base64::engine::general_purpose::STANDARD.encode(other))
    .bind(&sha)
    .bind(other.len() as i64)
    .bind(&file)
    .execute(app.store.pool())
    .await
    .unwrap();
    assert!(!app.blobs.exists(&sha).await.unwrap());
    assert_eq!(app.store.move_attachments_to(&app.blobs).await.unwrap(), 1);
    assert_eq!(content_in_rows(&app).await, 0);
    assert!(app.blobs.exists(&sha).await.unwrap());
    let (status, bytes) = {
        let res = client()
            .get(app.at(&format!("/news/{article}/attachments/{file}")))
            .send()
            .await
            .unwrap();
        (res.status(), res.bytes().await.unwrap().to_vec())
    };
    assert_eq!((status, bytes), (StatusCode::OK, other.to_vec()));
    // Running it again finds nothing left to move.
    assert_eq!(app.store.move_attachments_to(&app.blobs).await.unwrap(), 0);
}

/// An `s3s-fs` server on a free port over a temporary directory, stopped when dropped.
pub(crate) struct S3Server {
    child: std::process::Child,
    pub(crate) endpoint: String,
    /// The server's directory: a bucket is a folder in it, an object a file.
    pub(crate) root: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s3s_fs() -> std::path::PathBuf {
    let path = std::env::var_os("KAIFANG_TEST_S3S_FS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../build-output/tools/bin/s3s-fs")
        });
    assert!(
        path.exists(),
        "the S3-compatible test server is needed: run scripts/test.sh once, or set \
         KAIFANG_TEST_S3S_FS to an s3s-fs binary"
    );
    path
}

pub(crate) async fn start_s3() -> S3Server {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("kaifang")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(s3s_fs())
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--access-key",
            "kaifang-test",
            "--secret-key",
            "kaifang-test-secret",
        ])
        .arg(root.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start s3s-fs");
    let endpoint = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    S3Server {
        child,
        endpoint,
        root,
    }
}

#[tokio::test]
async fn attachments_are_streamed_from_a_real_s3_compatible_store() {
    let s3 = start_s3().await;
    let files = store::blobs::BlobConfig::S3 {
        endpoint: s3.endpoint.clone(),
        bucket: "kaifang".into(),
        region: "us-east-1".into(),
        access_key_id: "kaifang-test".into(),
        secret_access_key: "kaifang-test-secret".into(),
    };
    let app = spawn_app_with_files(test_config(), Some(files)).await;
    let (article, file) = article_with_file(&app).await;
    assert_eq!(content_in_rows(&app).await, 0);
    assert_eq!(
        download(&app, &article, &file).await,
        (StatusCode::OK, PDF.to_vec())
    );

    // Larger than one part of a multipart upload, streamed in and out.
    let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let chunks = futures_util::stream::iter(
        big.chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let stored = app.blobs.put(chunks, 64 * 1024 * 1024).await.unwrap();
    assert_eq!(stored.size, big.len() as u64);
    let back: Vec<bytes::Bytes> = app
        .blobs
        .get(&stored.sha256)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(back.concat(), big);
    // Wrong credentials are an error, not an empty answer.
    let wrong = store::blobs::Blobs::open(&store::blobs::BlobConfig::S3 {
        endpoint: s3.endpoint.clone(),
        bucket: "kaifang".into(),
        region: "us-east-1".into(),
        access_key_id: "kaifang-test".into(),
        secret_access_key: "not-the-secret".into(),
    })
    .unwrap();
    assert!(wrong.get(&stored.sha256).await.is_err());
}

/// A text file of `len` bytes that is good UTF-8 to its end.
fn text_of(len: usize) -> Vec<u8> {
    let line = "区,人口\n".as_bytes();
    line.iter()
        .copied()
        .cycle()
        .take(len / line.len() * line.len())
        .collect()
}

#[tokio::test]
async fn uploads_stream_in_bounded_and_checked_to_their_last_byte() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;

    // Past the size limit (5 MB), refused while streaming: nothing stored, nothing staged.
    let res = op
        .upload_raw(&app, "大表.csv", text_of(6 * 1024 * 1024))
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&res), "payload_too_large");
    // A NUL, or a GBK character, a megabyte into a text file refuses it as surely as at its start.
    for bad in [&b"x\0y\n"[..], &[0xD6, 0xD0, b'\n'][..]] {
        let mut text = text_of(1024 * 1024);
        text.extend_from_slice(bad);
        text.extend_from_slice(&text_of(1024));
        let sha = hex::encode(Sha256::digest(&text));
        let res = op.upload_raw(&app, "表.csv", text).await;
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(error_code(&res), "file_type_not_allowed");
        assert!(
            !app.blobs.exists(&sha).await.unwrap(),
            "no file of a refused upload is left in the store"
        );
    }
    assert_eq!(app.count("uploads").await, 0);

    // Empty files, missing and absurd names are refused too.
    let res = op.upload_raw(&app, "空.txt", Vec::new()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = op
        .upload_raw(&app, &"名".repeat(201), b"%PDF-1.4".to_vec())
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = op
        .client
        .post(app.at("/api/v1/uploads"))
        .header("x-csrf-token", &op.csrf)
        .body("%PDF-1.4")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "the name is required"
    );

    // A good file: its kind from its content, its size and address as stored.
    let text = text_of(3 * 1024 * 1024);
    let res = op.upload_raw(&app, "区县人口.csv", text.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let u: Value = res.json().await.unwrap();
    assert_eq!(u["media_type"], "text/csv; charset=utf-8");
    assert_eq!(u["size"], text.len());
    assert_eq!(u["sha256"], hex::encode(Sha256::digest(&text)));
    assert_eq!(u["name"], "区县人口.csv");
    assert!(
        app.blobs
            .exists(u["sha256"].as_str().unwrap())
            .await
            .unwrap()
    );

    // Nobody signed in may upload, nor may a read-only token, nor a session without its
    // CSRF token.
    let res = client()
        .post(app.at("/api/v1/uploads?name=a.pdf"))
        .body("%PDF-1.4")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let token: Value = op
        .post_json(
            app.at("/api/v1/me/tokens"),
            json!({ "name": "read", "access": "read" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = client()
        .post(app.at("/api/v1/uploads?name=a.pdf"))
        .bearer_auth(token["token"].as_str().unwrap())
        .body("%PDF-1.4")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = op
        .client
        .post(app.at("/api/v1/uploads?name=a.pdf"))
        .body("%PDF-1.4")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&res), "csrf_failed");
    assert_eq!(app.count("uploads").await, 1);
}

#[tokio::test]
async fn an_upload_is_attached_once_by_its_owner_and_purged_when_left() {
    let app = spawn_app().await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let other = app
        .user_with("op2@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let article = |attachments: Value| json!({ "kind": "news", "title": "通知", "body": "见附件。", "attachments": attachments });
    let mine = op.attachment(&app, "说明.pdf", PDF).await;

    // Another account cannot attach my upload: 422 at the field, and nothing is written.
    let res = other
        .post_json(app.at("/api/v1/articles"), article(json!([mine.clone()])))
        .await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["fields"][0]["field"], "attachments[0].upload");
    assert_eq!(err["fields"][0]["code"], "not_found");
    assert_eq!(app.count("articles").await, 0);
    assert_eq!(
        app.count("uploads").await,
        1,
        "the refusal consumed nothing"
    );

    // Named twice in one request, or made up: refused before anything is written.
    let res = op
        .post_json(
            app.at("/api/v1/articles"),
            article(json!([mine.clone(), mine.clone()])),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = op
        .post_json(
            app.at("/api/v1/articles"),
            article(json!([{ "upload": "no-such-upload" }])),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The old inline form is gone: files never travel as base64.
    let res = op
        .post_json(
            app.at("/api/v1/articles"),
            article(json!([{ "name": "a.pdf", "content_base64": "JVBERi0xLjQ=" }])),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("articles").await, 0);

    // The owner attaches it, once.
    let res = op
        .post_json(app.at("/api/v1/articles"), article(json!([mine.clone()])))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        app.count("uploads").await,
        0,
        "attaching consumes the upload"
    );
    let res = op
        .post_json(app.at("/api/v1/articles"), article(json!([mine])))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // An upload left a day unattached cannot be attached, and housekeeping removes it and
    // its file, but not a file an attachment still names.
    let left = op
        .attachment(&app, "草稿.txt", "未用的文件".as_bytes())
        .await;
    // The same content as the attached PDF, uploaded again and left.
    op.attachment(&app, "说明副本.pdf", PDF).await;
    assert_eq!(app.count("uploads").await, 2);
    app.clock.advance_seconds(25 * 3600);
    let op = app.login("op@example.cn").await;
    let res = op
        .post_json(app.at("/api/v1/articles"), article(json!([left])))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let a = app::App::new(
        app.store.clone(),
        app.blobs.clone(),
        app.clock.clone(),
        app::Config::default(),
    );
    let deleted = app::uploads::purge(&a).await.unwrap();
    assert_eq!(
        deleted, 1,
        "only the text file: the PDF is attached to the article"
    );
    assert_eq!(app.count("uploads").await, 0);
    let unused = hex::encode(Sha256::digest("未用的文件".as_bytes()));
    assert!(!app.blobs.exists(&unused).await.unwrap());
    assert!(
        app.blobs
            .exists(&hex::encode(Sha256::digest(PDF)))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn json_bodies_with_unknown_fields_are_refused_and_name_them() {
    let app = spawn_app().await;
    app.register("token@example.cn").await;
    let s = app.login("token@example.cn").await;
    // A mistyped scope must not quietly give a read-write token.
    let res = s
        .post_json(
            app.at("/api/v1/me/tokens"),
            json!({ "name": "script", "read_only": true }),
        )
        .await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["code"], "malformed_json");
    assert_eq!(err["fields"][0]["field"], "read_only");
    assert_eq!(err["fields"][0]["code"], "unknown_field");
    assert_eq!(app.count("api_tokens").await, 0);
    // A value of the wrong type is named too.
    let res = s
        .post_json(app.at("/api/v1/me/tokens"), json!({ "name": ["script"] }))
        .await;
    let (status, err) = json_error(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["fields"][0]["field"], "name");
}

#[tokio::test]
async fn an_account_uploads_a_bounded_number_of_files_a_day() {
    let app = spawn_app().await;
    app.register("many@example.cn").await;
    let s = app.login("many@example.cn").await;
    for i in 0..app::uploads::MAX_UPLOADS_PER_DAY {
        let res = s
            .upload_raw(&app, "说明.txt", format!("第{i}份").into_bytes())
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "upload {i}");
    }
    let res = s.upload_raw(&app, "说明.txt", b"one more".to_vec()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&res), "upload_limit");
    assert_eq!(
        app.count("uploads").await,
        app::uploads::MAX_UPLOADS_PER_DAY
    );
    // A day later the account may upload again.
    app.clock.advance_seconds(86_401);
    let s = app.login("many@example.cn").await;
    let res = s.upload_raw(&app, "说明.txt", b"next day".to_vec()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}
