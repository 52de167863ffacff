//! Policies, rules and news (A25.4): public list and detail pages, the operator's pages to
//! write them, and `/api/v1/articles`.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::articles::{ArticleKind, ArticleStatus, SitePage};
use domain::policy::{Action, Resource};
use schemars::JsonSchema;
use serde::Deserialize;
use store::articles::ArticleRecord;
use store::attachments::{AttachmentInfo, Owner};

use crate::articles::{ArticleList, ArticleView, article_json, render_markdown};
use crate::ctx::{ApiJson, Ctx, FormPost, Params};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::page::PageCtx;
use crate::page::html;
use crate::state::AppState;
use app::articles::{self, ArticleInput};

const PER_PAGE: i64 = 20;

fn may_write(ctx: &Ctx) -> bool {
    ctx.authorize(Action::PublishArticles, Resource::Platform)
        .is_ok()
}

/// An article anyone may read, or, for those who write them, any article.
async fn readable(state: &AppState, ctx: &Ctx, id: &str) -> AppResult<ArticleRecord> {
    let a = state.store.article(id).await?;
    if a.status == ArticleStatus::Published || may_write(ctx) {
        Ok(a)
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

#[derive(Deserialize, Default, JsonSchema)]
pub struct ListQuery {
    #[serde(default)]
    #[schemars(with = "Option<ArticleKind>")]
    kind: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<u16>", range(min = 1, max = 10_000))]
    page: Option<String>,
}

struct Listing {
    kind: Option<ArticleKind>,
    page: i64,
}

fn listing(q: &ListQuery) -> AppResult<Listing> {
    let mut errors = Vec::new();
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => match k.parse() {
            Ok(kind) => Some(kind),
            Err(_) => {
                errors.push(FieldError::new("kind", "invalid_kind"));
                None
            }
        },
    };
    let page = match q.page.as_deref() {
        None | Some("") => 1,
        Some(p) => match p.parse::<i64>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => {
                errors.push(FieldError::new("page", "invalid_page"));
                1
            }
        },
    };
    if errors.is_empty() {
        Ok(Listing { kind, page })
    } else {
        Err(AppError::invalid(errors))
    }
}

pub struct ArticleRow {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) kind: String,
    pub(super) date: String,
    pub(super) draft: bool,
}

fn row(page: &PageCtx, a: &ArticleRecord) -> ArticleRow {
    ArticleRow {
        id: a.id.to_string(),
        title: a.title.clone(),
        kind: page.t(&format!("article_kind.{}", a.kind.as_str())),
        date: a
            .published_at
            .unwrap_or(a.updated_at)
            .to_cst()
            .format("%Y-%m-%d")
            .to_string(),
        draft: a.status == ArticleStatus::Draft,
    }
}

/// The newest published articles, for the home page.
pub async fn newest(state: &AppState, page: &PageCtx<'_>, n: i64) -> AppResult<Vec<ArticleRow>> {
    let list = state.store.articles(None, false, n, 0).await?;
    Ok(list.iter().map(|a| row(page, a)).collect())
}

#[derive(Template)]
#[template(path = "news.html")]
struct NewsPage<'a> {
    page: PageCtx<'a>,
    kinds: Vec<(String, String, bool)>,
    articles: Vec<ArticleRow>,
    previous: Option<String>,
    next: Option<String>,
}

fn list_href(kind: Option<ArticleKind>, page: i64) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(k) = kind {
        q.append_pair("kind", k.as_str());
    }
    if page > 1 {
        q.append_pair("page", &page.to_string());
    }
    let q = q.finish();
    if q.is_empty() {
        "/news".to_owned()
    } else {
        format!("/news?{q}")
    }
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<ListQuery>,
) -> AppResult<Response> {
    let l = listing(&q)?;
    let list = state
        .store
        .articles(l.kind, false, PER_PAGE, (l.page - 1) * PER_PAGE)
        .await?;
    let total = state.store.count_articles(l.kind, false).await?;
    let pctx = PageCtx::new(&state, &ctx, &list_href(l.kind, l.page));
    let mut kinds = vec![("/news".to_owned(), pctx.t("news.all"), l.kind.is_none())];
    kinds.extend(ArticleKind::ALL.iter().map(|k| {
        (
            list_href(Some(*k), 1),
            pctx.t(&format!("article_kind.{}", k.as_str())),
            l.kind == Some(*k),
        )
    }));
    let view = NewsPage {
        kinds,
        articles: list.iter().map(|a| row(&pctx, a)).collect(),
        previous: (l.page > 1).then(|| list_href(l.kind, l.page - 1)),
        next: (l.page * PER_PAGE < total).then(|| list_href(l.kind, l.page + 1)),
        page: pctx,
    };
    html(StatusCode::OK, view)
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage<'a> {
    page: PageCtx<'a>,
    article: ArticleRow,
    body_html: String,
    attachments: Vec<AttachmentView>,
    can_edit: bool,
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let a = readable(&state, &ctx, &id).await?;
    let pctx = PageCtx::new(&state, &ctx, &format!("/news/{id}"));
    let view = ArticlePage {
        article: row(&pctx, &a),
        body_html: render_markdown(&a.body),
        attachments: attachment_views(&state, &a).await?,
        can_edit: may_write(&ctx),
        page: pctx,
    };
    html(StatusCode::OK, view)
}

/// A file attached to an article: for anyone when the article is published, otherwise for
/// those who write articles.
pub async fn attachment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, attachment)): Path<(String, String)>,
) -> AppResult<Response> {
    let a = readable(&state, &ctx, &id).await?;
    let info = state
        .store
        .attachment(Owner::Article(a.id), &attachment)
        .await?;
    let content = state
        .app
        .blobs
        .get(&info.sha256)
        .await
        .map_err(store::StoreError::from)?;
    crate::render::download(info, content)
}

#[derive(Template)]
#[template(path = "console/articles.html")]
struct ConsoleList<'a> {
    page: PageCtx<'a>,
    articles: Vec<ArticleRow>,
}

pub async fn console_list(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let list = state.store.articles(None, true, 200, 0).await?;
    let pctx = PageCtx::new(&state, &ctx, "/console/articles");
    let view = ConsoleList {
        articles: list.iter().map(|a| row(&pctx, a)).collect(),
        page: pctx,
    };
    html(StatusCode::OK, view)
}

#[derive(Template)]
#[template(path = "console/article_form.html")]
struct ArticleForm<'a> {
    page: PageCtx<'a>,
    action: String,
    kinds: Vec<(String, String, bool)>,
    /// (code, label, chosen) of each fixed page of the portal, "" for none.
    site_pages: Vec<(String, String, bool)>,
    title: String,
    body: String,
    publish: bool,
    /// The row version the form was filled in from, when editing.
    row_version: Option<i64>,
    /// The article's files, each with whether it is marked for removal.
    existing: Vec<(AttachmentView, bool)>,
    /// (field, message) for every problem.
    errors: Vec<(String, String)>,
}

impl ArticleForm<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        crate::page::message_at(&self.errors, field)
    }

    /// The problem with the file sent, or with the files to remove.
    fn error_under(&self, prefix: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f.starts_with(prefix))
            .map(|(_, m)| m.as_str())
    }
}

/// An attachment as a page lists it.
pub struct AttachmentView {
    id: String,
    name: String,
    size: String,
    href: String,
}

impl AttachmentView {
    fn new(article: &str, a: AttachmentInfo) -> Self {
        Self {
            href: format!("/news/{article}/attachments/{}", a.id),
            size: human_size(a.size),
            id: a.id,
            name: a.name,
        }
    }
}

fn human_size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

async fn attachment_views(state: &AppState, a: &ArticleRecord) -> AppResult<Vec<AttachmentView>> {
    let id = a.id.to_string();
    Ok(state
        .store
        .attachments(Owner::Article(a.id))
        .await?
        .into_iter()
        .map(|f| AttachmentView::new(&id, f))
        .collect())
}

fn form_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    action: String,
    input: &ArticleInput,
    existing: Vec<AttachmentView>,
    errors: &[FieldError],
) -> AppResult<Response> {
    let pctx = PageCtx::new(state, ctx, &action);
    let kinds = ArticleKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_owned(),
                pctx.t(&format!("article_kind.{}", k.as_str())),
                input.kind == k.as_str(),
            )
        })
        .collect();
    let chosen = input.site_page.as_deref().unwrap_or_default();
    let site_pages = std::iter::once(("", pctx.t("site_page.none")))
        .chain(SitePage::ALL.iter().map(|p| {
            (
                p.as_str(),
                pctx.t(&format!("site_page.{}.title", p.as_str())),
            )
        }))
        .map(|(code, label)| (code.to_owned(), label, code == chosen))
        .collect();
    let errors = errors
        .iter()
        .map(|e| (e.field.clone(), pctx.field_message(e)))
        .collect();
    let view = ArticleForm {
        action,
        kinds,
        site_pages,
        title: input.title.clone(),
        body: input.body.clone(),
        publish: input.publish,
        row_version: input.row_version,
        existing: existing
            .into_iter()
            .map(|a| {
                let remove = input.remove_attachments.contains(&a.id);
                (a, remove)
            })
            .collect(),
        errors,
        page: pctx,
    };
    html(status, view)
}

/// The article the form asks for, and what was wrong with its files (they are then left out).
fn form_input(form: &FormPost) -> (ArticleInput, Vec<FieldError>) {
    let values = &form.values;
    let (attachments, file_errors) = match crate::ctx::attachments(&form.files, "attachment") {
        Ok(a) => (a, Vec::new()),
        Err(errors) => (Vec::new(), errors),
    };
    let input = ArticleInput {
        kind: values.get("kind").to_owned(),
        title: values.get("title").to_owned(),
        body: values.get("body").to_owned(),
        publish: values.has("publish", "1"),
        site_page: Some(values.get("site_page").to_owned()),
        attachments,
        remove_attachments: values
            .all("remove_attachment")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        row_version: values.get("row_version").parse().ok(),
    };
    (input, file_errors)
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let input = ArticleInput {
        kind: "news".into(),
        ..Default::default()
    };
    form_page(
        &state,
        &ctx,
        StatusCode::OK,
        "/console/articles".into(),
        &input,
        Vec::new(),
        &[],
    )
}

pub async fn create_form(
    State(state): State<AppState>,
    ctx: Ctx,
    form: FormPost,
) -> AppResult<Response> {
    let (input, file_errors) = form_input(&form);
    let created = if file_errors.is_empty() {
        articles::create(&state.app, &ctx.caller, &input).await
    } else {
        Err(app::Error::invalid(file_errors))
    };
    match created {
        Ok(a) => Ok(Redirect::to(&format!("/news/{}", a.id)).into_response()),
        Err(e) if e.code == ErrorCode::ValidationFailed => form_page(
            &state,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            "/console/articles".into(),
            &input,
            Vec::new(),
            &e.fields,
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let a = state.store.article(&id).await?;
    let existing = attachment_views(&state, &a).await?;
    let input = ArticleInput {
        kind: a.kind.as_str().to_owned(),
        title: a.title,
        body: a.body,
        publish: a.status == ArticleStatus::Published,
        row_version: Some(a.row_version),
        site_page: a.site_page.map(|p| p.as_str().to_owned()),
        ..Default::default()
    };
    form_page(
        &state,
        &ctx,
        StatusCode::OK,
        format!("/console/articles/{id}"),
        &input,
        existing,
        &[],
    )
}

pub async fn update_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: FormPost,
) -> AppResult<Response> {
    let before = state.store.article(&id).await?;
    let existing = attachment_views(&state, &before).await?;
    let (input, file_errors) = form_input(&form);
    let updated = if file_errors.is_empty() {
        articles::update(&state.app, &ctx.caller, before, &input).await
    } else {
        Err(app::Error::invalid(file_errors))
    };
    match updated {
        Ok(a) => Ok(Redirect::to(&format!("/news/{}", a.id)).into_response()),
        Err(e) if e.code == ErrorCode::ValidationFailed => form_page(
            &state,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("/console/articles/{id}"),
            &input,
            existing,
            &e.fields,
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn api_list(
    State(state): State<AppState>,
    Params(q): Params<ListQuery>,
) -> AppResult<Json<ArticleList>> {
    let l = listing(&q)?;
    let list = state
        .store
        .articles(l.kind, false, PER_PAGE, (l.page - 1) * PER_PAGE)
        .await?;
    let total = state.store.count_articles(l.kind, false).await?;
    Ok(Json(ArticleList {
        count: total,
        page: l.page,
        articles: list.iter().map(article_json).collect(),
    }))
}

pub async fn api_show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<ArticleView>> {
    Ok(Json(article_json(&readable(&state, &ctx, &id).await?)))
}

pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<ArticleInput>,
) -> AppResult<Response> {
    let a = articles::create(&state.app, &ctx.caller, &input).await?;
    Ok((StatusCode::CREATED, Json(article_json(&a))).into_response())
}

pub async fn api_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ArticleInput>,
) -> AppResult<Json<ArticleView>> {
    let before = state.store.article(&id).await?;
    Ok(Json(article_json(
        &articles::update(&state.app, &ctx.caller, before, &input).await?,
    )))
}
