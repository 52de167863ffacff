//! A text document as a PDF, for the agreement's download (A20.1): A4 pages of wrapped lines
//! in the standard Chinese font every PDF reader supplies (Adobe's STSong-Light, addressed in
//! UTF-16 through the predefined `UniGB-UTF16-H` CMap), so nothing is embedded and the file
//! stays a few kilobytes. Headings (`# `) are set larger and `**` emphasis marks dropped;
//! other Markdown marks are kept as the text shows them. See docs/decisions/0023-agreement-pdf.md.

use std::fmt::Write as _;

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY_SIZE: f32 = 11.0;
const HEADING_SIZE: f32 = 15.0;

/// One line as set: its text and size.
struct Line {
    text: String,
    size: f32,
}

/// How wide `c` is, in ems: the font's Roman range is half-width, the rest full.
fn em(c: char) -> f32 {
    if (' '..='~').contains(&c) { 0.5 } else { 1.0 }
}

/// `text` broken into lines no wider than `ems`.
fn wrap(text: &str, ems: f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    let mut width = 0.0;
    for c in text.chars() {
        let w = em(c);
        if width + w > ems && !line.is_empty() {
            out.push(std::mem::take(&mut line));
            width = 0.0;
        }
        line.push(c);
        width += w;
    }
    out.push(line);
    out
}

fn lines(markdown: &str) -> Vec<Line> {
    let usable = PAGE_WIDTH - 2.0 * MARGIN;
    let mut out = Vec::new();
    for raw in markdown.lines() {
        let raw = raw.trim_end();
        let (text, size) = match raw.trim_start_matches('#') {
            rest if rest.len() < raw.len() && rest.starts_with(' ') => (rest.trim(), HEADING_SIZE),
            _ => (raw, BODY_SIZE),
        };
        // Strong emphasis marks are the page's bold, not text to print.
        let text: String = text
            .replace("**", "")
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        for part in wrap(&text, usable / size) {
            out.push(Line { text: part, size });
        }
    }
    out
}

/// `s` as a PDF hexadecimal string of UTF-16BE code units.
fn utf16_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 4 + 2);
    out.push('<');
    for unit in s.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// The pages' content streams.
fn pages(lines: &[Line]) -> Vec<String> {
    let mut pages = Vec::new();
    let mut content = String::new();
    let mut y = PAGE_HEIGHT - MARGIN;
    for line in lines {
        let step = line.size * 1.6;
        if y - step < MARGIN && !content.is_empty() {
            pages.push(std::mem::take(&mut content));
            y = PAGE_HEIGHT - MARGIN;
        }
        y -= step;
        let _ = writeln!(
            content,
            "BT /F1 {} Tf {} {} Td {} Tj ET",
            line.size,
            MARGIN,
            y,
            utf16_hex(&line.text)
        );
    }
    pages.push(content);
    pages
}

/// `markdown` as a PDF titled `title`.
pub fn document(title: &str, markdown: &str) -> Vec<u8> {
    let pages = pages(&lines(markdown));
    // Objects: 1 catalog, 2 page tree, 3 font, 4 CID font, 5 descriptor, 6 info, then a page
    // and its content stream per page.
    let first_page = 7;
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H \
          /DescendantFonts [4 0 R] >>"
            .to_vec(),
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
          /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> \
          /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>"
            .to_vec(),
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 \
          /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 \
          /CapHeight 880 /StemV 93 >>"
            .to_vec(),
        format!("<< /Title {} /Producer (Kaifang) >>", utf16_hex_bom(title)).into_bytes(),
    ];
    for (i, content) in pages.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                first_page + 2 * i + 1
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        let _ = writeln!(table, "{o:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

/// A text string for the document's information (a title): UTF-16BE with its byte order
/// mark, as PDF text strings outside content streams are written.
fn utf16_hex_bom(s: &str) -> String {
    format!("<FEFF{}", &utf16_hex(s)[1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_by_the_width_of_each_character() {
        // 483 points of line at 11 points: 43.9 ems — 43 Chinese characters, or 87 Roman ones.
        let usable = (PAGE_WIDTH - 2.0 * MARGIN) / BODY_SIZE;
        let wrapped = wrap(&"数".repeat(100), usable);
        assert_eq!(
            wrapped
                .iter()
                .map(|l| l.chars().count())
                .collect::<Vec<_>>(),
            [43, 43, 14]
        );
        assert_eq!(wrap(&"a".repeat(100), usable)[0].len(), 87);
        assert_eq!(utf16_hex("上海A"), "<4E0A6D770041>");
        // Outside the Basic Multilingual Plane: a surrogate pair.
        assert_eq!(utf16_hex("𠀀"), "<D840DC00>");
    }

    #[test]
    fn every_object_is_where_the_cross_reference_table_says() {
        let text = format!("# 数据使用协议\n\n{}", "第一条 内容。\n".repeat(200));
        let pdf = document("协议", &text);
        let find = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
        let at = find(b"startxref\n").unwrap() + b"startxref\n".len();
        let start: usize = String::from_utf8_lossy(&pdf[at..])
            .lines()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(pdf[start..].starts_with(b"xref\n0 "));
        let table = String::from_utf8_lossy(&pdf[start..]).into_owned();
        let entries: Vec<usize> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert!(entries.len() > 8, "several pages");
        for (i, at) in entries.iter().enumerate() {
            let head = format!("{} 0 obj\n", i + 1);
            assert!(pdf[*at..].starts_with(head.as_bytes()), "object {}", i + 1);
        }
        let s = String::from_utf8_lossy(&pdf);
        let count = s.matches("/Type /Page ").count();
        assert!(s.contains(&format!("/Count {count} ")));
    }
}
