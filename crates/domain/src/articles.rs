//! Policies, rules and news the operator publishes on the portal (A25.4).

use crate::bounded::{self, Limit};
use crate::names::string_enum;

string_enum!(
    /// What an article is: the portal lists them apart.
    ArticleKind {
        /// 政策文件: laws, regulations and policy documents on public data.
        Policy => "policy",
        /// 规则规范: the platform's own rules, agreements and guides.
        Rule => "rule",
        /// 新闻动态: news of the platform.
        News => "news",
    }
);

string_enum!(
    ArticleStatus {
        Draft => "draft",
        Published => "published",
    }
);

string_enum!(
    /// A page every portal carries, linked from the footer of every page. An article the
    /// operator publishes for one of them replaces the platform's default text.
    SitePage {
        /// 关于平台.
        About => "about",
        /// 数据使用协议: what a dataset's "使用条款" links to.
        Terms => "terms",
        /// 隐私政策.
        Privacy => "privacy",
        /// 联系我们.
        Contact => "contact",
        /// 无障碍声明.
        Accessibility => "accessibility",
    }
);

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 100_000;

/// An article as the operator writes it: a title and a Markdown body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleText {
    pub title: String,
    pub body: String,
}

/// What is wrong with an article's text, by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleProblem {
    pub field: &'static str,
    pub code: &'static str,
}

impl ArticleText {
    /// Trims and checks the text; every problem is reported at once.
    pub fn parse(title: &str, body: &str) -> Result<Self, Vec<ArticleProblem>> {
        let (title, body) = (title.trim(), body.trim());
        let mut problems = Vec::new();
        for (field, text, limit) in [
            ("title", title, Limit::line(MAX_TITLE_CHARS)),
            ("body", body, Limit::lines(MAX_BODY_CHARS)),
        ] {
            if text.is_empty() {
                problems.push(ArticleProblem {
                    field,
                    code: "required",
                });
            } else if let Err(e) = bounded::check(text, limit) {
                problems.push(ArticleProblem {
                    field,
                    code: e.code(),
                });
            }
        }
        if problems.is_empty() {
            Ok(Self {
                title: title.to_owned(),
                body: body.to_owned(),
            })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_needs_a_title_and_a_body_of_bounded_length() {
        let ok = ArticleText::parse("  通知  ", " 正文 ").unwrap();
        assert_eq!((ok.title.as_str(), ok.body.as_str()), ("通知", "正文"));
        let fields = |e: Vec<ArticleProblem>| -> Vec<(&str, &str)> {
            e.into_iter().map(|p| (p.field, p.code)).collect()
        };
        assert_eq!(
            fields(ArticleText::parse(" ", "").unwrap_err()),
            [("title", "required"), ("body", "required")]
        );
        let long = "字".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(
            fields(ArticleText::parse(&long, "正文").unwrap_err()),
            [("title", "too_long")]
        );
        let hidden = ArticleText::parse("通知\u{202e}txt.exe", "正文\u{0}").unwrap_err();
        assert_eq!(
            hidden.iter().map(|p| (p.field, p.code)).collect::<Vec<_>>(),
            [
                ("title", "control_character"),
                ("body", "control_character")
            ]
        );
    }
}
