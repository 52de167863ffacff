//! What kind of file an upload is, read from its content (magic bytes), never from what the
//! client declared: only the kinds on the allow-list are kept, and the type stored and sent
//! back with every download is the one found here.

/// Document, image and office types accepted as attachments, as `infer` names them.
const ALLOWED: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
];

/// The media type of `bytes` if it is an allowed kind. Text without a signature is accepted
/// as UTF-8 text (CSV when its name says so); anything else is refused.
pub fn sniff(name: &str, bytes: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes) {
        return ALLOWED.iter().copied().find(|t| *t == kind.mime_type());
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let plain = std::str::from_utf8(text).ok()?;
    if plain
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
    {
        return None;
    }
    if name.to_ascii_lowercase().ends_with(".csv") {
        Some("text/csv; charset=utf-8")
    } else {
        Some("text/plain; charset=utf-8")
    }
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn kinds_come_from_the_content() {
        assert_eq!(sniff("x.pdf", b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(
            sniff("photo.pdf", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(
            sniff("表.csv", "区,人口\n黄浦,1\n".as_bytes()),
            Some("text/csv; charset=utf-8")
        );
        assert_eq!(
            sniff("说明.txt", "说明".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn executables_archives_and_binary_junk_are_refused() {
        assert_eq!(sniff("doc.pdf", b"MZ\x90\0\x03\0\0\0\x04\0\0\0"), None);
        assert_eq!(sniff("doc.pdf", b"\x7fELF\x02\x01\x01\0"), None);
        assert_eq!(sniff("a.zip", b"PK\x03\x04\x14\0\0\0\0\0"), None);
        assert_eq!(sniff("a.txt", b"text\0with a NUL"), None);
        assert_eq!(sniff("a.txt", &[0xD6, 0xD0, 0xCE, 0xC4]), None);
    }
}
