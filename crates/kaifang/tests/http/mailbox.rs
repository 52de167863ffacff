//! A local SMTP server that keeps what it receives, for tests that read the platform's mail.
//! It speaks just enough SMTP for a client that sends plain messages without TLS.

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A message as it arrived.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    /// The decoded text of the body.
    pub text: String,
}

pub struct Mailbox {
    pub port: u16,
    rx: mpsc::UnboundedReceiver<Mail>,
}

impl Mailbox {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 mailbox ESMTP\r\n").await;
                    let mut to = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-mailbox\r\n250 8BITMIME\r\n",
                            "RCPT" => {
                                to.push(address(&line));
                                b"250 OK\r\n"
                            }
                            "DATA" => {
                                let _ = write.write_all(b"354 go on\r\n").await;
                                let mut raw = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    raw.push_str(l.strip_prefix('.').unwrap_or(&l));
                                    raw.push('\n');
                                }
                                let _ = tx.send(parse(std::mem::take(&mut to), &raw));
                                b"250 OK\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 OK\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self { port, rx }
    }

    /// The next message, waiting for it a while.
    pub async fn next(&mut self) -> Mail {
        tokio::time::timeout(std::time::Duration::from_secs(20), self.rx.recv())
            .await
            .expect("a message arrives")
            .expect("the mailbox runs")
    }

    /// Whether a message arrives within a short while.
    pub async fn nothing_arrives(&mut self) -> bool {
        tokio::time::timeout(std::time::Duration::from_millis(1500), self.rx.recv())
            .await
            .is_err()
    }
}

fn address(line: &str) -> String {
    let start = line.find('<').map(|i| i + 1).unwrap_or(0);
    let end = line.rfind('>').unwrap_or(line.len());
    line[start..end].to_owned()
}

/// Headers and the decoded body of a single-part message.
fn parse(to: Vec<String>, raw: &str) -> Mail {
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    // Folded header lines continue with white space.
    let head = head.replace("\n ", " ").replace("\n\t", " ");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let text = match header("Content-Transfer-Encoding")
        .to_ascii_lowercase()
        .as_str()
    {
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .unwrap(),
            )
            .unwrap()
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.to_owned(),
    };
    Mail {
        to,
        subject: decode_words(&header("Subject")),
        text,
    }
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// RFC 2047 encoded words (`=?utf-8?b?...?=`) of a header, decoded.
fn decode_words(value: &str) -> String {
    let words: Vec<(bool, String)> = value
        .split_whitespace()
        .map(|word| {
            let Some(inner) = word.strip_prefix("=?").and_then(|w| w.strip_suffix("?=")) else {
                return (false, word.to_owned());
            };
            let mut parts = inner.splitn(3, '?');
            let (_charset, encoding, text) = (parts.next(), parts.next(), parts.next());
            let text = match (encoding.map(|e| e.to_ascii_lowercase()), text) {
                (Some(e), Some(t)) if e == "b" => {
                    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(t).unwrap())
                        .unwrap()
                }
                (Some(e), Some(t)) if e == "q" => quoted_printable(&t.replace('_', " ")),
                _ => word.to_owned(),
            };
            (true, text)
        })
        .collect();
    // White space between two encoded words is not part of the text.
    let mut out = String::new();
    for (i, (encoded, text)) in words.iter().enumerate() {
        if i > 0 && !(*encoded && words[i - 1].0) {
            out.push(' ');
        }
        out.push_str(text);
    }
    out
}
