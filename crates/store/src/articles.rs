//! Policies, rules and news (A25.4).

use domain::articles::{ArticleKind, ArticleStatus, SitePage};
use domain::clock::Timestamp;
use domain::ids::ArticleId;

use crate::{Result, Store, StoreError, WriteTx, parse};

#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRecord {
    pub id: ArticleId,
    pub kind: ArticleKind,
    pub status: ArticleStatus,
    pub title: String,
    /// Markdown.
    pub body: String,
    /// When it was first published; drafts have none.
    pub published_at: Option<Timestamp>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Raised by every update; an update names the version it was made from.
    pub row_version: i64,
    /// The fixed page of the portal this article stands for, if any.
    pub site_page: Option<SitePage>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    kind: String,
    status: String,
    title: String,
    body: String,
    published_at: Option<i64>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
    row_version: i64,
    site_page: Option<String>,
}

impl TryFrom<Row> for ArticleRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(ArticleRecord {
            id: parse(&r.id, "article id")?,
            kind: parse(&r.kind, "article kind")?,
            status: parse(&r.status, "article status")?,
            title: r.title,
            body: r.body,
            published_at: r.published_at.map(Timestamp),
            created_by: r.created_by,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            row_version: r.row_version,
            site_page: r
                .site_page
                .as_deref()
                .map(|p| parse(p, "site page"))
                .transpose()?,
        })
    }
}

pub async fn insert(tx: &mut WriteTx, a: &ArticleRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO articles (id, kind, status, title, body, published_at, created_by, created_at, \
         updated_at, site_page) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(a.id.to_string())
    .bind(a.kind.as_str())
    .bind(a.status.as_str())
    .bind(&a.title)
    .bind(&a.body)
    .bind(a.published_at.map(|t| t.0))
    .bind(&a.created_by)
    .bind(a.created_at.0)
    .bind(a.updated_at.0)
    .bind(a.site_page.map(|p| p.as_str()))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves `a` if the article is still at `a.row_version`, else fails with
/// [`StoreError::Conflict`]`("row_version")`. Returns the new row version.
pub async fn update(tx: &mut WriteTx, a: &ArticleRecord) -> Result<i64> {
    let done = sqlx::query(
        "UPDATE articles SET kind = $2, status = $3, title = $4, body = $5, published_at = $6, \
         updated_at = $7, site_page = $9, row_version = row_version + 1 \
         WHERE id = $1 AND row_version = $8",
    )
    .bind(a.id.to_string())
    .bind(a.kind.as_str())
    .bind(a.status.as_str())
    .bind(&a.title)
    .bind(&a.body)
    .bind(a.published_at.map(|t| t.0))
    .bind(a.updated_at.0)
    .bind(a.row_version)
    .bind(a.site_page.map(|p| p.as_str()))
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("row_version"));
    }
    Ok(a.row_version + 1)
}

impl Store {
    pub async fn article(&self, id: &str) -> Result<ArticleRecord> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, kind, status, title, body, published_at, created_by, created_at, row_version, \
                 updated_at, site_page FROM articles WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Articles newest first: only published ones unless `drafts`, of one kind if given.
    pub async fn articles(
        &self,
        kind: Option<ArticleKind>,
        drafts: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ArticleRecord>> {
        let w = article_filters(kind, drafts);
        let sql = w.sql(
            "SELECT id, kind, status, title, body, published_at, created_by, created_at, \
             row_version, updated_at, site_page FROM articles",
            "ORDER BY COALESCE(published_at, updated_at) DESC, id DESC LIMIT $? OFFSET $?",
        );
        let rows: Vec<Row> = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The newest published article that stands for `page`, if the operator wrote one.
    pub async fn site_page(&self, page: SitePage) -> Result<Option<ArticleRecord>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, kind, status, title, body, published_at, created_by, created_at, row_version, \
                 updated_at, site_page FROM articles \
             WHERE site_page = $1 AND status = 'published' \
             ORDER BY published_at DESC, id DESC LIMIT 1",
        )
        .bind(page.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn count_articles(&self, kind: Option<ArticleKind>, drafts: bool) -> Result<i64> {
        let w = article_filters(kind, drafts);
        let sql = w.sql("SELECT COUNT(*) FROM articles", "");
        let (n,): (i64,) = w
            .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}

/// Articles of `kind` if given, published ones only unless `drafts`.
fn article_filters(kind: Option<ArticleKind>, drafts: bool) -> crate::filters::Filters {
    let mut w = crate::filters::Filters::default();
    w.text("kind", "=", kind.map(|k| k.as_str())).text(
        "status",
        "=",
        (!drafts).then_some("published"),
    );
    w
}
