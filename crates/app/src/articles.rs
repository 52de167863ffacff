//! Policies, rules and news (A25.4): the operator writes them in Markdown, the portal shows
//! them rendered and cleaned of anything that could run in a visitor's browser.

use domain::articles::{ArticleKind, ArticleStatus, ArticleText, SitePage};
use domain::ids::ArticleId;
use domain::policy::{Action, Resource};
use serde::Deserialize;
use serde_json::{Value, json};
use store::articles::{self, ArticleRecord};
use store::attachments::{self, NewAttachment, Owner};

use crate::App;
use crate::caller::Caller;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::tickets::{AttachmentInput, check_attachments, take_uploads};

/// An article as a form or the API sends it.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Published at once, or kept as a draft.
    #[serde(default)]
    pub publish: bool,
    /// The fixed page of the portal this article stands for (`about`, `terms`, `privacy`,
    /// `contact`, `accessibility`); none or empty for an ordinary article.
    #[serde(default)]
    pub site_page: Option<String>,
    /// Files to attach.
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    /// Attachments (by id) to remove.
    #[serde(default)]
    pub remove_attachments: Vec<String>,
    /// The row version the edit was made from (as the article's JSON gives it): an edit of an
    /// older version is refused rather than overwriting what someone saved meanwhile.
    #[serde(default)]
    pub row_version: Option<i64>,
}

struct Checked {
    kind: ArticleKind,
    text: ArticleText,
    status: ArticleStatus,
    site_page: Option<SitePage>,
}

fn check(input: &ArticleInput) -> Result<Checked> {
    let kind = input.kind.parse::<ArticleKind>();
    let text = ArticleText::parse(&input.title, &input.body);
    let site_page = match input.site_page.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => p.parse::<SitePage>().map(Some),
    };
    let mut errors = Vec::new();
    if kind.is_err() {
        errors.push(FieldError::new("kind", "invalid_kind"));
    }
    if site_page.is_err() {
        errors.push(FieldError::new("site_page", "invalid_site_page"));
    }
    if let Err(problems) = &text {
        errors.extend(problems.iter().map(|p| FieldError::new(p.field, p.code)));
    }
    errors.extend(check_attachments(&input.attachments));
    match (kind, text, site_page) {
        (Ok(kind), Ok(text), Ok(site_page)) if errors.is_empty() => Ok(Checked {
            kind,
            text,
            site_page,
            status: if input.publish {
                ArticleStatus::Published
            } else {
                ArticleStatus::Draft
            },
        }),
        _ => Err(Error::invalid(errors)),
    }
}

pub async fn create(app: &App, caller: &Caller, input: &ArticleInput) -> Result<ArticleRecord> {
    caller.authorize(Action::PublishArticles, Resource::Platform)?;
    let c = check(input)?;
    let now = app.clock.now();
    let a = ArticleRecord {
        id: ArticleId::new(),
        kind: c.kind,
        status: c.status,
        title: c.text.title,
        body: c.text.body,
        published_at: (c.status == ArticleStatus::Published).then_some(now),
        created_by: caller.user()?.id.to_string(),
        created_at: now,
        updated_at: now,
        row_version: 1,
        site_page: c.site_page,
    };
    let mut tx = app.store.begin_write().await?;
    let files = take_uploads(&mut tx, caller, &input.attachments, now).await?;
    articles::insert(&mut tx, &a).await?;
    let added = attach(&mut tx, a.id, &files, now).await?;
    let mut ev = caller.event(now, "article.create", "article", a.id.to_string());
    ev.after = Some(
        json!({ "kind": a.kind, "status": a.status, "title": a.title, "site_page": a.site_page,
               "attachments_added": added }),
    );
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(a)
}

pub async fn update(
    app: &App,
    caller: &Caller,
    before: ArticleRecord,
    input: &ArticleInput,
) -> Result<ArticleRecord> {
    caller.authorize(Action::PublishArticles, Resource::Article(before.status))?;
    let c = check(input)?;
    if input.row_version.is_some_and(|v| v != before.row_version) {
        return Err(ErrorCode::EditConflict.into());
    }
    let now = app.clock.now();
    let published_at = match c.status {
        ArticleStatus::Published => before.published_at.or(Some(now)),
        ArticleStatus::Draft => None,
    };
    let a = ArticleRecord {
        kind: c.kind,
        status: c.status,
        title: c.text.title,
        body: c.text.body,
        published_at,
        updated_at: now,
        site_page: c.site_page,
        ..before.clone()
    };
    let mut tx = app.store.begin_write().await?;
    let files = take_uploads(&mut tx, caller, &input.attachments, now).await?;
    let row_version = articles::update(&mut tx, &a).await?;
    let a = ArticleRecord { row_version, ..a };
    let mut unknown = Vec::new();
    for (i, id) in input.remove_attachments.iter().enumerate() {
        match attachments::remove(&mut tx, Owner::Article(a.id), id).await {
            Ok(()) => {}
            Err(store::StoreError::NotFound) => unknown.push(FieldError::new(
                format!("remove_attachments[{i}]"),
                "unknown_attachment",
            )),
            Err(e) => return Err(e.into()),
        }
    }
    if !unknown.is_empty() {
        // Dropping the transaction rolls back the update: nothing changes.
        return Err(Error::invalid(unknown));
    }
    let added = attach(&mut tx, a.id, &files, now).await?;
    let mut ev = caller.event(now, "article.update", "article", a.id.to_string());
    ev.before = Some(
        json!({ "kind": before.kind, "status": before.status, "title": before.title,
                     "site_page": before.site_page }),
    );
    ev.after = Some(json!({
        "kind": a.kind, "status": a.status, "title": a.title, "site_page": a.site_page,
        "attachments_added": added, "attachments_removed": input.remove_attachments,
    }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(a)
}

/// Stores `files` as attachments of `article`; returns (id, name) of each.
async fn attach(
    tx: &mut store::WriteTx,
    article: ArticleId,
    files: &[NewAttachment],
    now: domain::clock::Timestamp,
) -> Result<Vec<Value>> {
    let mut added = Vec::with_capacity(files.len());
    for f in files {
        let id = attachments::add(tx, Owner::Article(article), f, now).await?;
        added.push(json!({ "id": id, "name": f.name, "sha256": f.sha256 }));
    }
    Ok(added)
}
