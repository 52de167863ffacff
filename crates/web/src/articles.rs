//! How articles are shown: their Markdown made safe to put in a page, and their JSON.

use domain::articles::{ArticleKind, ArticleStatus, SitePage};
use domain::ids::ArticleId;
use schemars::JsonSchema;
use serde::Serialize;
use store::articles::ArticleRecord;

use crate::contract::Rfc3339;

/// Markdown to HTML that is safe to put in a page: no scripts, no event handlers, no
/// `javascript:` links, whatever the text holds.
pub fn render_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut out = String::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    ammonia::clean(&out)
}

/// A policy, rule or news article as the API answers it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ArticleView {
    pub id: ArticleId,
    pub kind: ArticleKind,
    pub status: ArticleStatus,
    pub title: String,
    /// Markdown.
    pub body: String,
    /// The body rendered to HTML that is safe to put in a page.
    pub body_html: String,
    /// When it was first published; none for a draft.
    pub published_at: Option<Rfc3339>,
    pub updated_at: Rfc3339,
    /// Name it in the next update, so that an edit made from an older version is refused.
    pub row_version: i64,
    /// The fixed page of the portal the article stands for, if any.
    pub site_page: Option<SitePage>,
}

/// A page of published articles, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ArticleList {
    pub count: i64,
    pub page: i64,
    pub articles: Vec<ArticleView>,
}

pub fn article_json(a: &ArticleRecord) -> ArticleView {
    ArticleView {
        id: a.id,
        kind: a.kind,
        status: a.status,
        title: a.title.clone(),
        body: a.body.clone(),
        body_html: render_markdown(&a.body),
        published_at: Rfc3339::of(a.published_at),
        updated_at: a.updated_at.into(),
        row_version: a.row_version,
        site_page: a.site_page,
    }
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
