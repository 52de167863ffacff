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
    let mut sniffer = Sniffer::new(name);
    sniffer.feed(bytes).ok()?;
    sniffer.finish().ok()
}

/// How many leading bytes decide a file's kind: enough for the signatures `infer` reads,
/// including those of office documents found in the first entries of their zip.
const HEAD: usize = 64 * 1024;

/// Finds the kind of a file shown to it chunk by chunk, as it streams: the first `HEAD` bytes
/// decide between an allowed signature and text, and text is then checked to its last byte
/// (valid UTF-8, no control characters but tab, newlines and form feed), so a NUL or a
/// GBK byte deep in a file refuses it as surely as one at the start.
pub struct Sniffer {
    csv: bool,
    state: State,
}

enum State {
    /// Still reading the head.
    Head(Vec<u8>),
    /// An allowed signature was found: the rest is not looked at.
    Signed(&'static str),
    /// An office document, which is a zip archive: kept whole (it is bounded by the upload's
    /// size limit) to read its directory at the end.
    Archive(&'static str, Vec<u8>),
    /// Text so far; `pending` holds the start of a character cut by a chunk's end.
    Text { pending: Vec<u8>, at_start: bool },
}

/// Why a file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAllowed;

impl Sniffer {
    pub fn new(name: &str) -> Self {
        Self {
            csv: name.to_ascii_lowercase().ends_with(".csv"),
            state: State::Head(Vec::new()),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), NotAllowed> {
        match &mut self.state {
            State::Head(head) => {
                let take = (HEAD - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
                if head.len() == HEAD {
                    let head = std::mem::take(head);
                    self.decide(&head, false)?;
                    self.feed(&chunk[take..])?;
                }
                Ok(())
            }
            State::Signed(_) => Ok(()),
            State::Archive(_, bytes) => {
                bytes.extend_from_slice(chunk);
                Ok(())
            }
            State::Text { .. } => self.text(chunk, false),
        }
    }

    /// The kind, once every byte has been seen.
    pub fn finish(mut self) -> Result<&'static str, NotAllowed> {
        if let State::Head(head) = &mut self.state {
            let head = std::mem::take(head);
            self.decide(&head, true)?;
        }
        match self.state {
            State::Signed(kind) => Ok(kind),
            State::Archive(kind, ref bytes) => {
                archive_is_sound(bytes).then_some(kind).ok_or(NotAllowed)
            }
            State::Text { ref pending, .. } if pending.is_empty() => Ok(if self.csv {
                "text/csv; charset=utf-8"
            } else {
                "text/plain; charset=utf-8"
            }),
            // A character cut off by the end of the file.
            _ => Err(NotAllowed),
        }
    }

    fn decide(&mut self, head: &[u8], last: bool) -> Result<(), NotAllowed> {
        if let Some(kind) = infer::get(head) {
            let allowed = ALLOWED
                .iter()
                .copied()
                .find(|t| *t == kind.mime_type())
                .ok_or(NotAllowed)?;
            self.state = if head.starts_with(b"PK\x03\x04") {
                State::Archive(allowed, head.to_vec())
            } else {
                State::Signed(allowed)
            };
            return Ok(());
        }
        self.state = State::Text {
            pending: Vec::new(),
            at_start: true,
        };
        self.text(head, last)
    }

    fn text(&mut self, chunk: &[u8], last: bool) -> Result<(), NotAllowed> {
        let State::Text { pending, at_start } = &mut self.state else {
            return Ok(());
        };
        let mut bytes = std::mem::take(pending);
        bytes.extend_from_slice(chunk);
        let mut text: &[u8] = &bytes;
        if *at_start && !text.is_empty() {
            if text.len() < 3 && b"\xEF\xBB\xBF".starts_with(text) && !last {
                // Perhaps the start of a byte order mark: wait for more.
                *pending = bytes;
                return Ok(());
            }
            text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            *at_start = false;
        }
        let (valid, rest) = match std::str::from_utf8(text) {
            Ok(all) => (all, &[][..]),
            Err(e) if e.error_len().is_none() => {
                // The chunk ends inside a character: keep its start for the next chunk.
                let cut = e.valid_up_to();
                (
                    std::str::from_utf8(&text[..cut]).map_err(|_| NotAllowed)?,
                    &text[cut..],
                )
            }
            Err(_) => return Err(NotAllowed),
        };
        if valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
        {
            return Err(NotAllowed);
        }
        *pending = rest.to_vec();
        Ok(())
    }
}

/// The most entries an office document may hold.
const MAX_ENTRIES: usize = 5_000;
/// The most its entries may expand to, in all.
const MAX_EXPANDED: u64 = 100 * 1024 * 1024;
/// How many times larger than the file its entries may be in all: office documents compress
/// text some ten times; a zip bomb a thousand and more.
const MAX_RATIO: u64 = 100;

/// Whether an office document's zip directory looks like a document and not a bomb: readable,
/// not too many entries, not expanding to more than [`MAX_EXPANDED`] or [`MAX_RATIO`] times
/// its size, and holding no archive inside. Nothing is decompressed: the sizes are those the
/// directory declares, which is what a reader's program trusts when it opens the file.
fn archive_is_sound(bytes: &[u8]) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return false;
    };
    if zip.len() > MAX_ENTRIES {
        return false;
    }
    let mut expanded: u64 = 0;
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index_raw(i) else {
            return false;
        };
        let Ok(name) = entry.name().map(|n| n.to_ascii_lowercase()) else {
            return false;
        };
        let nested = [
            ".zip", ".rar", ".7z", ".gz", ".bz2", ".xz", ".tar", ".jar", ".cab",
        ]
        .iter()
        .any(|ext| name.ends_with(ext));
        expanded = expanded.saturating_add(entry.size());
        if nested || expanded > MAX_EXPANDED {
            return false;
        }
    }
    expanded <= (bytes.len() as u64).saturating_mul(MAX_RATIO)
}

#[cfg(test)]
mod tests {
    use super::{HEAD, NotAllowed, Sniffer, sniff};

    /// A word-processing document laid out as Word writes one (its parts in a zip, the
    /// document's own after the package's), with `extra` added as a part of its own.
    fn docx(extra: Option<(&str, Vec<u8>)>) -> Vec<u8> {
        use std::io::Write;
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let parts: [(&str, &[u8]); 4] = [
            ("[Content_Types].xml", b"<?xml version=\"1.0\"?><Types/>"),
            ("_rels/.rels", b"<?xml version=\"1.0\"?><Relationships/>"),
            (
                "word/_rels/document.xml.rels",
                b"<?xml version=\"1.0\"?><Relationships/>",
            ),
            (
                "word/document.xml",
                "<?xml version=\"1.0\"?><w:document><w:body><w:p>单位介绍信</w:p></w:body></w:document>"
                    .as_bytes(),
            ),
        ];
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, content) in parts {
            zip.start_file(name, stored).unwrap();
            zip.write_all(content).unwrap();
        }
        if let Some((name, content)) = extra {
            zip.start_file(name, deflated).unwrap();
            zip.write_all(&content).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn an_office_document_passes_and_a_zip_bomb_dressed_as_one_does_not() {
        let kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        assert_eq!(sniff("介绍信.docx", &docx(None)), Some(kind));
        // 20 MB of zeros squeezed into a few kilobytes: a thousand times its size.
        let bomb = docx(Some(("word/media/image1.bin", vec![0; 20 * 1024 * 1024])));
        assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
        assert_eq!(sniff("介绍信.docx", &bomb), None);
        // An archive inside the document.
        let nested = docx(Some(("word/embeddings/more.zip", b"PK\x05\x06".to_vec())));
        assert_eq!(sniff("介绍信.docx", &nested), None);
        // A document cut short: its directory cannot be read.
        let full = docx(None);
        assert_eq!(sniff("介绍信.docx", &full[..full.len() - 30]), None);
    }

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

    /// Feeds `bytes` in chunks of `size` and finishes.
    fn streamed(name: &str, bytes: &[u8], size: usize) -> Result<&'static str, NotAllowed> {
        let mut s = Sniffer::new(name);
        for chunk in bytes.chunks(size.max(1)) {
            s.feed(chunk)?;
        }
        s.finish()
    }

    #[test]
    fn text_is_checked_to_its_last_byte_whatever_the_chunks() {
        // Past the head, in characters cut across chunks.
        let mut text = "区,人口\n".repeat(20_000).into_bytes();
        for size in [1, 2, 7, 4096, HEAD, usize::MAX] {
            assert_eq!(
                streamed("表.csv", &text, size),
                Ok("text/csv; charset=utf-8"),
                "{size}"
            );
        }
        // A byte order mark is no text of its own, even cut in two.
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), "说明".as_bytes()].concat();
        assert_eq!(
            streamed("a.txt", &with_bom, 1),
            Ok("text/plain; charset=utf-8")
        );
        // A NUL, a GBK character or a cut character deep in the file refuses it.
        let mut with_nul = text.clone();
        with_nul.extend_from_slice(b"x\0y");
        let mut with_gbk = text.clone();
        with_gbk.extend_from_slice(&[0xD6, 0xD0, b'\n']);
        text.extend_from_slice(&"区".as_bytes()[..2]);
        for bad in [&with_nul, &with_gbk, &text] {
            for size in [1, 4096, usize::MAX] {
                assert_eq!(streamed("表.csv", bad, size), Err(NotAllowed));
            }
        }
    }

    #[test]
    fn a_signature_decides_and_the_rest_is_not_read_as_text() {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.extend_from_slice(&[0u8; 100_000]);
        assert_eq!(streamed("x.pdf", &pdf, 1000), Ok("application/pdf"));
        let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0".to_vec();
        exe.extend_from_slice(&[b'a'; 100_000]);
        assert_eq!(streamed("x.pdf", &exe, 1000), Err(NotAllowed));
        assert_eq!(
            streamed("empty.txt", b"", 10),
            Ok("text/plain; charset=utf-8")
        );
    }
}
