//! Files attached to tickets and to articles: what is known of one, and its rows.

use domain::clock::Timestamp;

#[derive(Debug, Clone, serde::Serialize)]
pub struct AttachmentInfo {
    pub id: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

pub struct NewAttachment {
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub content_base64: String,
}

/// `SELECT id, name, media_type, size, sha256, created_at`.
pub(crate) type InfoRow = (String, String, String, i64, String, i64);

/// The same and `content` (base64).
pub(crate) type ContentRow = (String, String, String, i64, String, i64, String);

impl From<InfoRow> for AttachmentInfo {
    fn from((id, name, media_type, size, sha256, at): InfoRow) -> Self {
        Self {
            id,
            name,
            media_type,
            size,
            sha256,
            created_at: Timestamp(at),
        }
    }
}

/// (info, base64 content).
pub(crate) fn with_content(
    (id, name, media_type, size, sha256, at, content): ContentRow,
) -> (AttachmentInfo, String) {
    (
        AttachmentInfo::from((id, name, media_type, size, sha256, at)),
        content,
    )
}
