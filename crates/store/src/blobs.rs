//! Files in an object store (`object_store`): a directory under the data dir by default, any
//! S3-compatible store by configuration. Files are content-addressed by their SHA-256
//! (`sha256/ab/abcdef…`), written by streaming with the size bound enforced as the bytes come,
//! and read back as a stream: no file is ever whole in memory.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::StoreError;

/// Where files go.
#[derive(Debug, Clone)]
pub enum BlobConfig {
    /// A directory on this machine.
    Local(std::path::PathBuf),
    /// A bucket of an S3-compatible store.
    S3 {
        endpoint: String,
        bucket: String,
        region: String,
        access_key_id: String,
        secret_access_key: String,
    },
}

/// A file as stored: its content address and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    #[error("no such file")]
    NotFound,
    /// The incoming stream failed (the client went away, or sent a broken body).
    #[error("the file did not arrive whole: {0}")]
    Source(String),
    /// The inspector given to [`Blobs::put_inspected`] refused the content.
    #[error("refused: {0}")]
    Refused(String),
    #[error("file store: {0}")]
    Store(String),
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound,
            other => BlobError::Store(other.to_string()),
        }
    }
}

impl From<BlobError> for StoreError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound => StoreError::NotFound,
            other => StoreError::Io(other.to_string()),
        }
    }
}

/// A local file as a stream of chunks of up to a megabyte, for sending it on (into the file
/// store, as an answer's body, to a server) without holding it whole.
pub fn file_chunks(
    file: tokio::fs::File,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 1 << 20];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
}

/// Handles to the file store, in one of its areas. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    area: Area,
    /// The directory of a store on this machine's disk, whose files can be read in place.
    local: Option<Arc<std::path::Path>>,
}

/// The parts of the file store. Providers' raw uploads, which may hold personal information
/// the de-identification rules take out, are kept in the restricted area: a handle to the open
/// area, which every download, preview and sample reads through, cannot reach them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Open,
    Restricted,
}

impl Area {
    fn prefix(self) -> &'static str {
        match self {
            Area::Open => "sha256",
            Area::Restricted => "restricted/sha256",
        }
    }
}

fn content_path(area: Area, sha256: &str) -> Path {
    Path::from(format!(
        "{}/{}/{sha256}",
        area.prefix(),
        &sha256[..2.min(sha256.len())]
    ))
}

fn valid_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl Blobs {
    /// The store itself, for other objects kept beside the files (audit checkpoints).
    pub(crate) fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    pub fn open(config: &BlobConfig) -> Result<Self, BlobError> {
        let (store, local): (Arc<dyn ObjectStore>, _) = match config {
            BlobConfig::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| BlobError::Store(e.to_string()))?;
                let dir =
                    std::fs::canonicalize(dir).map_err(|e| BlobError::Store(e.to_string()))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)?;
                (Arc::new(store), Some(Arc::from(dir.as_path())))
            }
            BlobConfig::S3 {
                endpoint,
                bucket,
                region,
                access_key_id,
                secret_access_key,
            } => (
                Arc::new(
                    object_store::aws::AmazonS3Builder::new()
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_bucket_name(bucket)
                        .with_region(region)
                        .with_access_key_id(access_key_id)
                        .with_secret_access_key(secret_access_key)
                        .with_virtual_hosted_style_request(false)
                        .build()?,
                ),
                None,
            ),
        };
        Ok(Self {
            store,
            area: Area::Open,
            local,
        })
    }

    /// The same store's restricted area, for providers' raw uploads and what repeats them.
    pub fn restricted(&self) -> Blobs {
        Blobs {
            store: self.store.clone(),
            area: Area::Restricted,
            local: self.local.clone(),
        }
    }

    pub fn area(&self) -> Area {
        self.area
    }

    /// Streams `chunks` into the store, hashing and counting them as they come; refuses (and
    /// leaves nothing behind) once more than `max_bytes` have come. The file lands under its
    /// content address only when complete, so a reader never sees part of a file.
    pub async fn put<E: std::fmt::Display>(
        &self,
        chunks: impl Stream<Item = Result<Bytes, E>>,
        max_bytes: u64,
    ) -> Result<BlobRef, BlobError> {
        self.put_inspected(chunks, max_bytes, |_| Ok(())).await
    }

    /// As [`Blobs::put`], showing each chunk to `inspect` before it is written and `None` at
    /// the end: an `Err` from it stops the upload, leaving nothing behind (a file whose type is
    /// found wrong halfway never lands).
    pub async fn put_inspected<E: std::fmt::Display>(
        &self,
        chunks: impl Stream<Item = Result<Bytes, E>>,
        max_bytes: u64,
        mut inspect: impl FnMut(Option<&[u8]>) -> Result<(), String>,
    ) -> Result<BlobRef, BlobError> {
        let staging = Path::from(format!("staging/{}", uuid::Uuid::now_v7()));
        let upload = self.store.put_multipart(&staging).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut chunks = std::pin::pin!(chunks);
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(BlobError::Source(e.to_string()));
                }
            };
            size += chunk.len() as u64;
            if size > max_bytes {
                let _ = writer.abort().await;
                return Err(BlobError::TooLarge(max_bytes));
            }
            if let Err(why) = inspect(Some(&chunk)) {
                let _ = writer.abort().await;
                return Err(BlobError::Refused(why));
            }
            hasher.update(&chunk);
            writer.wait_for_capacity(4).await?;
            writer.put(chunk);
        }
        if let Err(why) = inspect(None) {
            let _ = writer.abort().await;
            return Err(BlobError::Refused(why));
        }
        writer.finish().await?;
        let sha256 = hex::encode(hasher.finalize());
        let target = content_path(self.area, &sha256);
        // The same content may already be there: content addressing makes a move over it
        // harmless. On a disk the move is a rename; an object store copies and deletes.
        if let Err(e) = self.store.rename(&staging, &target).await {
            let _ = self.store.delete(&staging).await;
            return Err(e.into());
        }
        Ok(BlobRef { sha256, size })
    }

    /// Stores `bytes` (already in memory, as a decoded upload is).
    pub async fn put_bytes(&self, bytes: Bytes, max_bytes: u64) -> Result<BlobRef, BlobError> {
        let once =
            futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
        self.put(once, max_bytes).await
    }

    /// The file with content address `sha256`, as a stream of chunks.
    pub async fn get(
        &self,
        sha256: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        if !valid_sha256(sha256) {
            return Err(BlobError::NotFound);
        }
        let found = self.store.get(&content_path(self.area, sha256)).await?;
        Ok(found.into_stream().map_err(BlobError::from).boxed())
    }

    /// Stores the local file at `path`, read in chunks.
    pub async fn put_file(
        &self,
        path: &std::path::Path,
        max_bytes: u64,
    ) -> Result<BlobRef, BlobError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| BlobError::Source(e.to_string()))?;
        self.put(file_chunks(file), max_bytes).await
    }

    /// Where the file with content address `sha256` lies on this machine's disk, when the store
    /// is a directory here and the file is in it: it can be read in place rather than copied.
    /// Stored files are never changed, only removed, which leaves a file already opened readable.
    pub fn local_file(&self, sha256: &str) -> Option<std::path::PathBuf> {
        let dir = self.local.as_ref().filter(|_| valid_sha256(sha256))?;
        let path = dir.join(content_path(self.area, sha256).as_ref());
        path.is_file().then_some(path)
    }

    /// Copies the file with content address `sha256` to the local file `path`, returning its
    /// size.
    pub async fn get_to_file(
        &self,
        sha256: &str,
        path: &std::path::Path,
    ) -> Result<u64, BlobError> {
        use tokio::io::AsyncWriteExt;
        let mut chunks = self.get(sha256).await?;
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| BlobError::Store(e.to_string()))?;
        let mut size = 0u64;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            file.write_all(&chunk)
                .await
                .map_err(|e| BlobError::Store(e.to_string()))?;
        }
        file.flush()
            .await
            .map_err(|e| BlobError::Store(e.to_string()))?;
        Ok(size)
    }

    /// Deletes the file with content address `sha256`; one that is not there is no error.
    pub async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        if !valid_sha256(sha256) {
            return Ok(());
        }
        match self.store.delete(&content_path(self.area, sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the file is there.
    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        if !valid_sha256(sha256) {
            return Ok(false);
        }
        match self.store.head(&content_path(self.area, sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_of_a_store_on_this_disk_is_read_in_place_from_its_own_area_only() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(&BlobConfig::Local(dir.path().to_owned())).unwrap();
        let stored = blobs
            .restricted()
            .put_bytes(Bytes::from("原始上传"), 1024)
            .await
            .unwrap();
        let path = blobs.restricted().local_file(&stored.sha256).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), "原始上传".as_bytes());
        assert!(path.starts_with(std::fs::canonicalize(dir.path()).unwrap()));
        // The open area does not reach a restricted file; nothing answers for a bad address.
        assert_eq!(blobs.local_file(&stored.sha256), None);
        assert_eq!(blobs.restricted().local_file("../../etc/passwd"), None);
        let missing = hex::encode(Sha256::digest("not stored"));
        assert_eq!(blobs.restricted().local_file(&missing), None);
    }

    #[tokio::test]
    async fn files_are_stored_by_content_streamed_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(&BlobConfig::Local(dir.path().to_owned())).unwrap();
        let chunks = futures_util::stream::iter(
            ["公共", "数据", "开放"].map(|s| Ok::<_, std::io::Error>(Bytes::from(s))),
        );
        let stored = blobs.put(chunks, 1024).await.unwrap();
        assert_eq!(stored.size, "公共数据开放".len() as u64);
        assert_eq!(stored.sha256, hex::encode(Sha256::digest("公共数据开放")));
        let back: Vec<Bytes> = blobs
            .get(&stored.sha256)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(back.concat(), "公共数据开放".as_bytes());
        // The same content again lands on the same address.
        let again = blobs
            .put_bytes(Bytes::from("公共数据开放"), 1024)
            .await
            .unwrap();
        assert_eq!(again, stored);

        let big = futures_util::stream::iter(
            (0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![7u8; 100]))),
        );
        assert!(matches!(
            blobs.put(big, 999).await,
            Err(BlobError::TooLarge(999))
        ));
        // A file its inspector refuses at the end (or midway) lands nowhere either.
        let chunks = futures_util::stream::iter(
            ["ok", "bad"].map(|s| Ok::<_, std::io::Error>(Bytes::from(s))),
        );
        let refused = blobs
            .put_inspected(chunks, 1024, |chunk| match chunk {
                Some(b"bad") => Err("bad chunk".into()),
                _ => Ok(()),
            })
            .await;
        assert!(matches!(refused, Err(BlobError::Refused(ref why)) if why == "bad chunk"));
        let at_end = blobs
            .put_inspected(
                futures_util::stream::once(async { Ok::<_, std::io::Error>(Bytes::from("x")) }),
                1024,
                |chunk| chunk.map_or(Err("incomplete".into()), |_| Ok(())),
            )
            .await;
        assert!(matches!(at_end, Err(BlobError::Refused(_))));
        assert!(
            !blobs
                .exists(&hex::encode(Sha256::digest(b"x")))
                .await
                .unwrap()
        );
        // Nothing is left behind by the refused files, not even in staging.
        let staging = dir.path().join("staging");
        let left = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0);

        // A deleted file is gone; deleting it again is no error.
        blobs.delete(&stored.sha256).await.unwrap();
        assert!(!blobs.exists(&stored.sha256).await.unwrap());
        blobs.delete(&stored.sha256).await.unwrap();

        assert!(matches!(
            blobs.get(&"0".repeat(64)).await,
            Err(BlobError::NotFound)
        ));
        assert!(matches!(
            blobs.get("../../etc/passwd").await,
            Err(BlobError::NotFound)
        ));
    }
}
