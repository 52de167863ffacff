//! How articles are shown: their Markdown made safe to put in a page, and their JSON.

use serde_json::{Value, json};
use store::articles::ArticleRecord;

/// Markdown to HTML that is safe to put in a page: no scripts, no event handlers, no
/// `javascript:` links, whatever the text holds.
pub fn render_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut out = String::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    ammonia::clean(&out)
}

pub fn article_json(a: &ArticleRecord) -> Value {
    json!({
        "id": a.id,
        "kind": a.kind,
        "status": a.status,
        "title": a.title,
        "body": a.body,
        "body_html": render_markdown(&a.body),
        "published_at": a.published_at.map(|t| t.to_rfc3339()),
        "updated_at": a.updated_at.to_rfc3339(),
        "row_version": a.row_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_nothing_can_run() {
        let html = render_markdown(
            "# 通知\n\n**重要**：见[细则](/news/1)。\n\n<script>alert(1)</script>\n\n\
             <img src=x onerror=alert(1)> [x](javascript:alert(1))",
        );
        assert!(html.contains("<h1>通知</h1>") && html.contains("<strong>重要</strong>"));
        assert!(html.contains("href=\"/news/1\""));
        assert!(
            !html.contains("<script") && !html.contains("onerror") && !html.contains("javascript:")
        );
    }
}
