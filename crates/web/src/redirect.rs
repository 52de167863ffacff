//! Redirect targets taken from a request (`next` after sign-in, the language switch): only a
//! path on this site is followed; anything else sends the visitor home.

/// The longest target followed; a longer one is no page of ours.
const MAX_LEN: usize = 2048;

/// `target` when it is a same-site relative path, otherwise `/`.
///
/// Refused: anything not starting with a single `/`; scheme-relative (`//host`) and
/// backslash forms (`/\host`, which browsers read as `//host`); control characters anywhere
/// (browsers drop tab and newline, turning `/\t/host` into `//host`); non-ASCII text; and any of
/// these hidden behind percent-encoding, however many times encoded.
pub fn local_target(target: Option<&str>) -> String {
    match target {
        Some(t) if is_local(t) => t.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local(target: &str) -> bool {
    if target.len() > MAX_LEN || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    let mut text = target.to_owned();
    // Decoding stops when the text no longer changes; a few rounds cover every real path.
    for _ in 0..4 {
        if !plain_local(&text) {
            return false;
        }
        let decoded = percent_encoding::percent_decode_str(&text)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == text {
            return true;
        }
        text = decoded;
    }
    false
}

fn plain_local(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !text.contains('\\')
        && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::local_target;

    #[test]
    fn same_site_paths_are_kept() {
        for ok in [
            "/",
            "/datasets?q=%E7%A9%BA%E6%B0%94&page=2",
            "/console/orgs/sh-transport",
            "/news/1#top",
        ] {
            assert_eq!(local_target(Some(ok)), ok);
        }
    }

    #[test]
    fn everything_else_goes_home() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%252F%252Fevil.example",
            "/%09/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/空气",
        ] {
            assert_eq!(local_target(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_target(None), "/");
        assert_eq!(local_target(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }
}
