//! Uploading a file: its bytes stream into the file store as they arrive, hashed, counted
//! against the size limit and inspected for their kind on the way (never whole in memory, never
//! base64), and the upload is kept for its owner to attach to a ticket or an article. See
//! docs/decisions/0012-files-in-an-object-store.md.

use bytes::Bytes;
use domain::clock::Timestamp;
use domain::policy::{Action, Resource};
use futures_util::Stream;
use store::blobs::BlobError;
use store::uploads::{self, UploadRecord};

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::filetype::Sniffer;

/// The largest file one upload may hold.
pub const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;
/// Uploads one account may make per day.
pub const MAX_UPLOADS_PER_DAY: i64 = 200;
/// How long an upload waits to be attached before housekeeping removes it.
pub const UPLOAD_TTL_SECS: i64 = 24 * 3600;

/// Streams `chunks` into the file store as `caller`'s upload named `name`. The kind comes from
/// the content; a file of a kind not allowed, larger than [`MAX_FILE_BYTES`] or empty leaves
/// nothing behind.
pub async fn upload<E: std::fmt::Display>(
    app: &App,
    caller: &Caller,
    name: &str,
    chunks: impl Stream<Item = std::result::Result<Bytes, E>>,
) -> Result<UploadRecord> {
    caller.authorize(Action::UploadFiles, Resource::OwnAccount)?;
    let owner = caller.user()?.id;
    let name = name.trim();
    let mut errors: Vec<FieldError> = FieldError::text("name", name, domain::bounded::NAME)
        .into_iter()
        .collect();
    if name.is_empty() {
        errors.push(FieldError::new("name", "required"));
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let now = app.clock.now();
    let day_ago = now.plus_seconds(-24 * 3600);
    // Checked before the bytes come, so a caller over the bound sends nothing for nothing;
    // checked again in the transaction that records the upload.
    if app.store.uploads_since(owner, day_ago).await? >= MAX_UPLOADS_PER_DAY {
        return Err(Error::new(ErrorCode::UploadLimit));
    }
    let mut sniffer = Some(Sniffer::new(name));
    let mut kind = None;
    let stored = app
        .blobs
        .put_inspected(chunks, MAX_FILE_BYTES, |chunk| {
            let s = sniffer.as_mut().ok_or("finished")?;
            match chunk {
                Some(bytes) => s.feed(bytes).map_err(|_| "type".to_owned()),
                None => {
                    let found = sniffer
                        .take()
                        .ok_or("finished")?
                        .finish()
                        .map_err(|_| "type".to_owned())?;
                    kind = Some(found);
                    Ok(())
                }
            }
        })
        .await
        .map_err(|e| match e {
            BlobError::TooLarge(_) => Error::new(ErrorCode::PayloadTooLarge),
            BlobError::Refused(_) => Error::new(ErrorCode::FileTypeNotAllowed),
            BlobError::Source(_) => Error::new(ErrorCode::MalformedRequest),
            other => store::StoreError::from(other).into(),
        })?;
    let media_type = kind.ok_or_else(|| Error::new(ErrorCode::FileTypeNotAllowed))?;
    if stored.size == 0 {
        return Err(Error::invalid(vec![FieldError::new("file", "required")]));
    }
    let record = UploadRecord {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: owner.to_string(),
        name: name.to_owned(),
        media_type: media_type.to_owned(),
        size: stored.size as i64,
        sha256: stored.sha256,
        created_at: now,
    };
    let mut tx = app.store.begin_write().await?;
    if uploads::count_since(&mut tx, owner, day_ago).await? >= MAX_UPLOADS_PER_DAY {
        return Err(Error::new(ErrorCode::UploadLimit));
    }
    uploads::insert(&mut tx, &record).await?;
    let mut ev = caller.event(now, "upload.create", "upload", record.id.clone());
    ev.after = Some(serde_json::json!({
        "name": record.name, "media_type": record.media_type,
        "size": record.size, "sha256": record.sha256,
    }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(record)
}

/// The oldest an upload may be and still be attached at `now`.
pub fn attachable_after(now: Timestamp) -> Timestamp {
    now.plus_seconds(-UPLOAD_TTL_SECS)
}

/// Removes uploads nobody attached in time, and the files only they named. Returns how many
/// files were deleted.
pub async fn purge(app: &App) -> Result<usize> {
    let now = app.clock.now();
    let orphans = app.store.purge_uploads(now, attachable_after(now)).await?;
    for sha256 in &orphans {
        app.blobs
            .delete(sha256)
            .await
            .map_err(store::StoreError::from)?;
    }
    Ok(orphans.len())
}
