//! Which text encoding a file is in, and reading it as UTF-8 while it streams.

use std::io::{self, Chain, Cursor, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, GB18030, GBK, UTF_8, UTF_16BE, UTF_16LE};

/// How much of a file is looked at to tell its encoding.
pub const SAMPLE_BYTES: usize = 64 * 1024;

/// How the encoding was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectedBy {
    /// A byte order mark at the start of the file.
    Bom,
    /// The provider named it.
    Declared,
    /// The bytes are valid UTF-8.
    ValidUtf8,
    /// Guessed from the bytes (Chinese multi-byte encodings only).
    Sniffed,
}

/// A file's encoding, as shown to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub encoding: &'static Encoding,
    pub by: DetectedBy,
}

impl Detected {
    /// The encoding's name as people know it (`UTF-8`, `GBK`, `UTF-16LE`).
    pub fn name(&self) -> &'static str {
        self.encoding.name()
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EncodingError {
    #[error("the encoding {0:?} is not one Kaifang reads")]
    UnknownLabel(String),
    #[error("the encoding cannot be told with confidence: name it (UTF-8, GBK, GB18030, UTF-16)")]
    Undetermined,
    #[error("the file is not valid {encoding} at byte {offset}")]
    Malformed { encoding: &'static str, offset: u64 },
}

/// Encodings a provider may name or the sniffer may settle on: Unicode and the Chinese
/// national ones. A single-byte legacy encoding is never assumed.
fn readable(e: &'static Encoding) -> bool {
    [UTF_8, UTF_16LE, UTF_16BE, GBK, GB18030].contains(&e)
}

/// The encoding of a file that starts with `sample`, or the one `declared` names.
pub fn detect(sample: &[u8], declared: Option<&str>) -> Result<Detected, EncodingError> {
    if let Some(label) = declared.map(str::trim).filter(|l| !l.is_empty()) {
        let encoding = Encoding::for_label(label.as_bytes())
            .filter(|e| readable(e))
            .ok_or_else(|| EncodingError::UnknownLabel(label.to_owned()))?;
        return Ok(Detected {
            encoding,
            by: DetectedBy::Declared,
        });
    }
    if let Some((encoding, _)) = Encoding::for_bom(sample) {
        return Ok(Detected {
            encoding,
            by: DetectedBy::Bom,
        });
    }
    // A sample cut in the middle of a character is still UTF-8 if only its tail is short.
    let valid = match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && sample.len() >= SAMPLE_BYTES,
    };
    if valid {
        return Ok(Detected {
            encoding: UTF_8,
            by: DetectedBy::ValidUtf8,
        });
    }
    let mut sniffer = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    sniffer.feed(sample, sample.len() < SAMPLE_BYTES);
    let guess = sniffer.guess(Some(b"cn"), chardetng::Utf8Detection::Allow);
    if guess == GBK || guess == GB18030 {
        // GB18030 reads everything GBK does, and more.
        Ok(Detected {
            encoding: GB18030,
            by: DetectedBy::Sniffed,
        })
    } else {
        Err(EncodingError::Undetermined)
    }
}

/// Reads `inner` as UTF-8, decoding it from `encoding` as it streams. Malformed input is an
/// error naming its byte offset, never a replacement character.
pub struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    encoding: &'static Encoding,
    input: Vec<u8>,
    /// Bytes of `input` already decoded.
    start: usize,
    /// Bytes of the file consumed before `input`.
    consumed: u64,
    output: Vec<u8>,
    out_start: usize,
    /// The inner reader has ended.
    done: bool,
    /// The decoder has been given the end and has flushed: it may not be used again.
    finished: bool,
    /// A malformed sequence was met: every later read says so again.
    failed: Option<EncodingError>,
}

impl<R: Read> DecodingReader<R> {
    pub fn new(inner: R, encoding: &'static Encoding) -> Self {
        Self {
            inner,
            // A BOM is the encoding's own and not part of the text.
            decoder: encoding.new_decoder_with_bom_removal(),
            encoding,
            input: Vec::with_capacity(16 * 1024),
            start: 0,
            consumed: 0,
            output: Vec::with_capacity(48 * 1024),
            out_start: 0,
            done: false,
            finished: false,
            failed: None,
        }
    }

    /// Decodes more of the input into `output`; false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        loop {
            if let Some(e) = &self.failed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, e.clone()));
            }
            if self.finished {
                return Ok(false);
            }
            if self.start == self.input.len() && !self.done {
                self.consumed += self.input.len() as u64;
                self.input.clear();
                self.start = 0;
                self.input.resize(16 * 1024, 0);
                let n = self.inner.read(&mut self.input)?;
                self.input.truncate(n);
                self.done = n == 0;
            }
            self.output.clear();
            self.out_start = 0;
            let room = self
                .decoder
                .max_utf8_buffer_length_without_replacement(self.input.len() - self.start)
                .unwrap_or(64 * 1024)
                .max(16);
            self.output.resize(room, 0);
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.start..],
                &mut self.output,
                self.done,
            );
            self.output.truncate(written);
            let at = self.consumed + (self.start + read) as u64;
            self.start += read;
            match result {
                DecoderResult::Malformed(bad, after) => {
                    // The bad sequence ends `after` bytes before where the decoder stopped.
                    self.failed = Some(EncodingError::Malformed {
                        encoding: self.encoding.name(),
                        offset: at - u64::from(bad) - u64::from(after),
                    });
                    // Nothing after a malformed sequence is handed out, not even the text
                    // decoded just before it in this round.
                    self.output.clear();
                    continue;
                }
                DecoderResult::InputEmpty if self.done => self.finished = true,
                _ => {}
            }
            if !self.output.is_empty() {
                return Ok(true);
            }
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_start == self.output.len() && !self.fill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.output.len() - self.out_start);
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

/// A file read as UTF-8: its first [`SAMPLE_BYTES`] again, then the rest.
pub type Decoded<R> = DecodingReader<Chain<Cursor<Vec<u8>>, R>>;

/// A file's encoding, told from its first [`SAMPLE_BYTES`] (or as declared), and the file read
/// as UTF-8. The outer error is the file's own (it could not be read); the inner one says the
/// encoding could not be told.
pub fn decoded<R: Read>(
    mut inner: R,
    declared: Option<&str>,
) -> io::Result<Result<(Detected, Decoded<R>), EncodingError>> {
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    (&mut inner)
        .take(SAMPLE_BYTES as u64)
        .read_to_end(&mut sample)?;
    Ok(detect(&sample, declared).map(|d| {
        let reader = DecodingReader::new(Cursor::new(sample).chain(inner), d.encoding);
        (d, reader)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads to the end, then once more: the end (or the error) again, never a panic.
    fn twice(bytes: &[u8], encoding: &'static Encoding) -> (io::Result<String>, io::Result<usize>) {
        let mut r = DecodingReader::new(bytes, encoding);
        let mut text = String::new();
        let first = r.read_to_string(&mut text).map(|_| text);
        let again = r.read(&mut [0u8; 16]);
        (first, again)
    }

    #[test]
    fn a_finished_or_failed_reader_says_so_again() {
        let (text, again) = twice("公交,站点\n".as_bytes(), UTF_8);
        assert_eq!(text.unwrap(), "公交,站点\n");
        assert_eq!(again.unwrap(), 0);
        let (text, again) = twice(b"ab\xff", UTF_8);
        assert!(text.is_err() && again.is_err());
        let (text, again) = twice(b"", GB18030);
        assert_eq!((text.unwrap(), again.unwrap()), (String::new(), 0));
        // A character cut at the very end is malformed, not dropped.
        let (text, _) = twice(&[0xB9], GB18030);
        assert!(text.is_err());
    }
}
