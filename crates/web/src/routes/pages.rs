//! HTML pages for visitors and account holders. Forms post with a CSRF token, show every error
//! next to its field and keep what was typed.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use search::{FacetField, SearchQuery, Sort};
use serde::Deserialize;

use super::api_search::{facet_name, run};
use super::portal::{CountRow, HitView, SearchLink, hit_view};
use crate::charts;
use crate::ctx::{CsrfField, CsrfForm, Ctx, Params, SESSION_COOKIE};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::labels::Labels;
use crate::page::{PageCtx, html};
use crate::redirect::local_target;
use crate::state::AppState;
use app::accounts::{self, NewToken, Registration};

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/site.css"),
    )
}

/// The site's only script: small enhancements to pages that work without it.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/site.js"),
    )
}

/// What only the console's entry form uses, kept out of every other page's weight.
pub async fn console_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/console.js"),
    )
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home<'a> {
    page: PageCtx<'a>,
    total: usize,
    by_open_type: Vec<CountRow>,
    by_domain: Vec<CountRow>,
    /// The same counts as charts (SVG).
    open_type_chart: String,
    domain_chart: String,
    newest: Vec<HitView>,
    most_used: Vec<HitView>,
    orgs: Vec<(String, String)>,
    news: Vec<super::news::ArticleRow>,
}

/// How many entries the home page lists as newest and as most used.
const HOME_LIST: usize = 6;

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let overview = SearchQuery {
        limit: HOME_LIST,
        sort: Sort::Newest,
        facet_fields: vec![
            FacetField::OpenType,
            FacetField::Domain,
            FacetField::Provider,
        ],
        facet_limit: 50,
        ..Default::default()
    };
    let most_used = SearchQuery {
        limit: HOME_LIST,
        sort: Sort::MostUsed,
        ..Default::default()
    };
    let overview = run(&state, overview)?;
    let most_used = run(&state, most_used)?;
    let labels = Labels::load(&state, ctx.lang).await?;
    let counts = |field: FacetField| -> Vec<CountRow> {
        overview
            .facets
            .iter()
            .filter(|(f, _)| *f == field)
            .flat_map(|(_, values)| values.iter())
            .map(|(v, n)| CountRow {
                label: labels.facet_value(field, v),
                count: *n,
                href: SearchLink::only(facet_name(field), v),
            })
            .collect()
    };
    let hits = |r: &search::SearchResults| -> Vec<HitView> {
        r.hits
            .iter()
            .filter_map(|h| hit_view(&labels, &h.payload))
            .collect()
    };
    let orgs = overview
        .facets
        .iter()
        .filter(|(f, _)| *f == FacetField::Provider)
        .flat_map(|(_, values)| values.iter())
        .map(|(slug, _)| (labels.org(slug), format!("/orgs/{slug}")))
        .collect();
    let page = PageCtx::new(&state, &ctx, "/");
    let news = super::news::newest(&state, &page, HOME_LIST as i64).await?;
    let by_open_type = counts(FacetField::OpenType);
    let by_domain = counts(FacetField::Domain);
    let view = Home {
        open_type_chart: charts::bars(&CountRow::pairs(&by_open_type), charts::GREEN),
        domain_chart: charts::bars(&CountRow::pairs(&by_domain), charts::BLUE),
        by_open_type,
        by_domain,
        page,
        news,
        total: overview.total,
        newest: hits(&overview),
        most_used: hits(&most_used),
        orgs,
    };
    html(StatusCode::OK, view)
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
    /// Set by the registration that led here, to say that it worked.
    registered: Option<String>,
    /// Set by the password reset that led here, to say that it worked.
    reset: Option<String>,
}

pub async fn switch_language(
    ctx: Ctx,
    Path(code): Path<String>,
    Params(q): Params<Next>,
) -> AppResult<Response> {
    let lang = Lang::parse(&code).ok_or(ErrorCode::NotFound)?;
    let cookie = ctx.cookie(LANG_COOKIE, lang.code(), Some(365 * 86_400));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&local_target(q.next.as_deref())),
    )
        .into_response())
}

/// Turns the elder-friendly display on (`elder`) or off (`standard`) for this browser.
pub async fn switch_display(
    ctx: Ctx,
    Path(mode): Path<String>,
    Params(q): Params<Next>,
) -> AppResult<Response> {
    let value = match mode.as_str() {
        crate::ctx::ELDER => crate::ctx::ELDER,
        "standard" => "standard",
        _ => return Err(ErrorCode::NotFound.into()),
    };
    let cookie = ctx.cookie(crate::ctx::DISPLAY_COOKIE, value, Some(365 * 86_400));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&local_target(q.next.as_deref())),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    page: PageCtx<'a>,
    email: String,
    next: String,
    error: Option<String>,
    /// A new account was just registered.
    registered: bool,
    /// A new password was just set with a reset link.
    reset: bool,
}

pub async fn login_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<Next>,
) -> AppResult<Response> {
    let page = LoginPage {
        page: PageCtx::new(&state, &ctx, "/login"),
        email: String::new(),
        next: local_target(q.next.as_deref()),
        error: None,
        registered: q.registered.is_some(),
        reset: q.reset.is_some(),
    };
    html(StatusCode::OK, page)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

impl CsrfField for LoginForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn login_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let next = local_target(form.next.as_deref());
    match accounts::login(&state.app, &ctx.caller, &form.email, form.password).await {
        Ok(signed_in) => {
            let cookie = ctx.cookie(
                SESSION_COOKIE,
                &signed_in.session_token,
                Some(state.config.session_ttl_secs),
            );
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
        }
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidCredentials | ErrorCode::TooManyAttempts
            ) =>
        {
            let e = AppError::from(e);
            let message = e.message(&state.messages, ctx.lang);
            let page = LoginPage {
                page: PageCtx::new(&state, &ctx, "/login"),
                email: form.email,
                next,
                error: Some(message),
                registered: false,
                reset: false,
            };
            html(crate::error::status(e.code), page)
        }
        Err(e) => Err(e.into()),
    }
}

pub struct FieldView {
    name: &'static str,
    label: &'static str,
    input_type: &'static str,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage<'a> {
    page: PageCtx<'a>,
    form: Registration,
    fields: Vec<FieldView>,
    error: Option<String>,
}

impl<'a> RegisterPage<'a> {
    fn new(page: PageCtx<'a>, form: Registration, error: Option<&app::Error>) -> Self {
        let field_error = |name: &str| {
            error
                .and_then(|e| e.fields.iter().find(|f| f.field == name))
                .map(|f| page.field_message(f))
        };
        let fields = vec![
            ("email", "login.email", "email", form.email.clone()),
            ("password", "login.password", "password", String::new()),
            (
                "display_name",
                "register.display_name",
                "text",
                form.display_name.clone(),
            ),
            (
                "legal_name",
                "register.legal_name",
                "text",
                form.legal_name.clone().unwrap_or_default(),
            ),
            (
                "uscc",
                "register.uscc",
                "text",
                form.uscc.clone().unwrap_or_default(),
            ),
        ]
        .into_iter()
        .map(|(name, label, input_type, value)| FieldView {
            name,
            label,
            input_type,
            value,
            error: field_error(name),
        })
        .collect();
        let summary = error.map(|e| page.error(e));
        Self {
            page,
            form,
            fields,
            error: summary,
        }
    }
}

pub async fn register_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let page = RegisterPage::new(
        PageCtx::new(&state, &ctx, "/register"),
        Registration::default(),
        None,
    );
    html(StatusCode::OK, page)
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(flatten)]
    registration: Registration,
}

impl CsrfField for RegisterForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn register_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> AppResult<Response> {
    let r = form.registration;
    let kept = Registration {
        kind: r.kind.clone(),
        email: r.email.clone(),
        password: String::new(),
        display_name: r.display_name.clone(),
        legal_name: r.legal_name.clone(),
        uscc: r.uscc.clone(),
    };
    match accounts::register(&state.app, &ctx.caller, r).await {
        Ok(_) => Ok(Redirect::to("/login?registered=1").into_response()),
        Err(e)
            if matches!(
                e.code,
                ErrorCode::ValidationFailed
                    | ErrorCode::EmailTaken
                    | ErrorCode::UsccTaken
                    | ErrorCode::TooManyAttempts
            ) =>
        {
            let status = crate::error::status(e.code);
            let page = RegisterPage::new(PageCtx::new(&state, &ctx, "/register"), kept, Some(&e));
            html(status, page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl CsrfField for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> AppResult<Response> {
    accounts::logout(&state.app, &ctx.caller).await?;
    let clear = ctx.cookie(SESSION_COOKIE, "", Some(0));
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/")).into_response())
}

pub struct TokenView {
    id: String,
    name: String,
    prefix: String,
    created_at: String,
    expires_at: String,
    state_key: &'static str,
    live: bool,
    read_only: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    page: PageCtx<'a>,
    user: store::users::UserRecord,
    kind_key: String,
    roles: Vec<String>,
    memberships: Vec<(String, String)>,
    tokens: Vec<TokenView>,
    /// Days a token lives when its creator names none.
    default_days: String,
    new_token: Option<String>,
    error: Option<String>,
    /// What the step that led here did, e.g. a password change.
    notice: Option<String>,
}

/// What the account page says above its content.
#[derive(Default)]
struct AccountNotes {
    new_token: Option<String>,
    error: Option<String>,
    notice: Option<String>,
}

async fn account_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    notes: AccountNotes,
) -> AppResult<Response> {
    let actor = ctx.user()?;
    let user = state.store.user(actor.id).await?;
    let now = state.clock.now();
    let fmt = |t: domain::clock::Timestamp| t.to_cst().format("%Y-%m-%d %H:%M").to_string();
    let page = PageCtx::new(state, ctx, "/account");
    let never = page.t("account.never");
    let mut memberships = Vec::new();
    for m in &actor.memberships {
        let org = state.store.org(&m.org.to_string()).await?;
        let name = if ctx.lang == Lang::En {
            org.name_en
        } else {
            org.name_zh
        };
        memberships.push((name, format!("role.{}", m.role)));
    }
    let tokens = state
        .store
        .tokens_of(actor.id)
        .await?
        .into_iter()
        .map(|t| {
            let expired = t.expires_at.is_some_and(|e| e <= now);
            let (state_key, live) = match (t.revoked_at, expired) {
                (Some(_), _) => ("account.token_revoked", false),
                (None, true) => ("account.token_expired", false),
                (None, false) => ("account.token_live", true),
            };
            TokenView {
                id: t.id.to_string(),
                name: t.name,
                prefix: t.prefix,
                created_at: fmt(t.created_at),
                expires_at: t.expires_at.map(fmt).unwrap_or_else(|| never.clone()),
                state_key,
                live,
                read_only: t.scope.read_only,
            }
        })
        .collect();
    let view = AccountPage {
        kind_key: format!("kind.{}", user.kind),
        roles: actor
            .platform_roles
            .iter()
            .map(|r| format!("role.{r}"))
            .collect(),
        memberships,
        tokens,
        default_days: state.config.token_default_days.to_string(),
        new_token: notes.new_token,
        error: notes.error,
        notice: notes.notice,
        user,
        page,
    };
    html(status, view)
}

#[derive(Deserialize)]
pub struct AccountQuery {
    /// Set by the password change that led here, to say that it worked.
    password_changed: Option<String>,
}

pub async fn account(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<AccountQuery>,
) -> AppResult<Response> {
    let notice = q.password_changed.is_some().then(|| {
        state
            .messages
            .get(ctx.lang, "password.change.done")
            .to_owned()
    });
    let notes = AccountNotes {
        notice,
        ..Default::default()
    };
    account_page(&state, &ctx, StatusCode::OK, notes).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_in_days: String,
    /// A ticked box: the token only reads.
    #[serde(default)]
    read_only: Option<String>,
}

impl CsrfField for TokenForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> AppResult<Response> {
    let days = form.expires_in_days.trim();
    let expires_in_days = if days.is_empty() {
        None
    } else {
        Some(days.parse::<i64>().unwrap_or(-1))
    };
    match accounts::create_token(
        &state.app,
        &ctx.caller,
        NewToken {
            name: form.name,
            expires_in_days,
            access: form.read_only.map(|_| "read".to_owned()),
            organization: None,
        },
    )
    .await
    {
        Ok(created) => {
            account_page(
                &state,
                &ctx,
                StatusCode::CREATED,
                AccountNotes {
                    new_token: Some(created.secret),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) if e.code == ErrorCode::ValidationFailed => {
            let msg = e
                .fields
                .iter()
                .map(|f| state.messages.field(ctx.lang, f.code, f.detail.as_deref()))
                .collect::<Vec<_>>()
                .join(" ");
            account_page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                AccountNotes {
                    error: Some(msg),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> AppResult<Response> {
    accounts::revoke_token(&state.app, &ctx.caller, &id).await?;
    Ok(Redirect::to("/account").into_response())
}
