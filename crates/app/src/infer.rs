//! New entries made from a file: the data items of a CSV or TSV file suggested from every row
//! (not a sample), for the provider to confirm in the entry form — or, for `kaifang generate
//! --from-file`, taken as they are. Only a suggestion: once declared, the data items are the
//! schema every upload is read against.

use std::path::Path;

use domain::bounded::MAX_DATA_ITEMS;
use domain::openlist::dataset::DataItem;

use crate::Error;

/// The file formats inference reads: the delimiter of the text file `name` names.
pub fn delimiter_of(name: &str) -> Result<u8, Error> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") | Some("txt") => Ok(b','),
        Some("tsv") | Some("tab") => Ok(b'\t'),
        _ => Err(Error::field("file", "csv_only")),
    }
}

/// Reads the text file at `path` (its encoding as `encoding` names, or detected) to its end and
/// suggests a data item per column: names from ASCII headers, labels from Chinese ones, each
/// column's type over every row, codes with leading zeros kept as text.
pub fn items_from_file(
    path: &Path,
    delimiter: u8,
    encoding: Option<&str>,
) -> Result<Vec<DataItem>, Error> {
    let unreadable = || Error::field("file", "unreadable_text");
    let file = std::fs::File::open(path).map_err(|_| unreadable())?;
    let (_, text) = data::decoded(std::io::BufReader::new(file), encoding)
        .map_err(|_| unreadable())?
        .map_err(|_| Error::field("file", "encoding_undetermined"))?;
    let suggested = data::infer_items(text, delimiter).map_err(|e| match e {
        data::ReadError::Empty => Error::field("file", "empty_file"),
        _ => unreadable(),
    })?;
    if suggested.is_empty() || suggested.iter().all(|s| s.header.is_empty()) {
        return Err(Error::field("file", "empty_file"));
    }
    if suggested.len() > MAX_DATA_ITEMS {
        return Err(Error::field("file", "too_many_columns"));
    }
    Ok(suggested
        .into_iter()
        .map(data::Suggested::into_item)
        .collect())
}

/// Suggests the data items of a file that arrives as `chunks` (a provider's upload named
/// `name`), for an entry of `org` the caller may edit: the file is kept in the scratch folder
/// only while it is read, and refused past [`crate::data_versions::MAX_DATA_BYTES`].
pub async fn items_from_upload<E: std::fmt::Display>(
    app: &crate::App,
    caller: &crate::Caller,
    org: domain::ids::OrgId,
    name: &str,
    encoding: Option<&str>,
    chunks: impl futures_util::Stream<Item = Result<bytes::Bytes, E>>,
) -> Result<Vec<DataItem>, Error> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    caller.authorize(
        domain::policy::Action::EditOpenList,
        domain::policy::Resource::Organization(org),
    )?;
    let delimiter = delimiter_of(name)?;
    if let Some(enc) = encoding
        && data::encoding::detect(b"", Some(enc)).is_err()
    {
        return Err(Error::field("encoding", "unknown_encoding"));
    }
    let internal = |_| Error::new(crate::ErrorCode::Internal);
    std::fs::create_dir_all(&app.config.data.scratch_dir).map_err(internal)?;
    let dir = tempfile::tempdir_in(&app.config.data.scratch_dir).map_err(internal)?;
    let path = dir.path().join("file");
    let mut file = tokio::fs::File::create(&path).await.map_err(internal)?;
    let mut size = 0u64;
    let mut chunks = std::pin::pin!(chunks);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| Error::new(crate::ErrorCode::MalformedRequest))?;
        size += chunk.len() as u64;
        if size > crate::data_versions::MAX_DATA_BYTES {
            return Err(Error::new(crate::ErrorCode::PayloadTooLarge));
        }
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    drop(file);
    let encoding = encoding.map(str::to_owned);
    // The folder (and the file) go when `dir` is dropped, after the reading.
    tokio::task::spawn_blocking(move || {
        let items = items_from_file(&path, delimiter, encoding.as_deref());
        drop(dir);
        items
    })
    .await
    .map_err(|_| Error::new(crate::ErrorCode::Internal))?
}
