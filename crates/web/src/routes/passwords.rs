//! Password pages: changing one's password (`/account/password`), asking for a reset link by
//! e-mail (`/password/forgot`) and setting a new password with it (`/password/reset`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::ctx::{CsrfField, CsrfForm, Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::page::{PageCtx, html};
use crate::state::AppState;
use app::password_changes::{self, PasswordChange, ResetMail};

/// A field of a password form.
pub struct Field {
    name: &'static str,
    label: String,
    input_type: &'static str,
    autocomplete: &'static str,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    page: PageCtx<'a>,
    title: String,
    lead: String,
    /// Where the form posts; none when there is nothing to fill in.
    action: Option<&'static str>,
    /// Carried through the form unchanged (the reset link's secret).
    hidden: Vec<(&'static str, String)>,
    fields: Vec<Field>,
    submit: String,
    notice: Option<String>,
    error: Option<String>,
    /// (href, text) links under the form.
    links: Vec<(&'static str, String)>,
}

impl<'a> PasswordPage<'a> {
    fn new(page: PageCtx<'a>, key: &str) -> Self {
        Self {
            title: page.t(&format!("password.{key}.title")),
            lead: page.t(&format!("password.{key}.lead")),
            submit: page.t(&format!("password.{key}.submit")),
            page,
            action: None,
            hidden: Vec::new(),
            fields: Vec::new(),
            notice: None,
            error: None,
            links: Vec::new(),
        }
    }

    fn field(&mut self, name: &'static str, input_type: &'static str, autocomplete: &'static str) {
        self.fields.push(Field {
            name,
            label: self.page.t(&format!("password.field.{name}")),
            input_type,
            autocomplete,
            value: String::new(),
            error: None,
        });
    }

    /// Shows each of the error's field problems at its field, or the error above the form.
    fn show(&mut self, e: AppError) {
        if e.fields.is_empty() {
            self.error = Some(self.page.error(&e));
            return;
        }
        for problem in &e.fields {
            let message = self.page.field_message(problem);
            match self.fields.iter_mut().find(|f| f.name == problem.field) {
                Some(f) => f.error = Some(message),
                None => self.error = Some(message),
            }
        }
    }

    fn new_password_fields(&mut self) {
        self.field("new_password", "password", "new-password");
        self.field("confirm_password", "password", "new-password");
    }
}

/// The problem of a new password typed twice differently, or none.
fn mismatch(new: &str, confirm: &str) -> Option<AppError> {
    (new != confirm).then(|| {
        AppError::from(app::Error::invalid(vec![app::FieldError::new(
            "confirm_password",
            "password_mismatch",
        )]))
    })
}

fn change_page<'a>(state: &'a AppState, ctx: &Ctx) -> PasswordPage<'a> {
    let mut p = PasswordPage::new(PageCtx::new(state, ctx, "/account/password"), "change");
    p.action = Some("/account/password");
    p.field("current_password", "password", "current-password");
    p.new_password_fields();
    p.links = vec![("/account", p.page.t("account.title"))];
    p
}

pub async fn change_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    html(StatusCode::OK, change_page(&state, &ctx))
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

impl CsrfField for ChangeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn change_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> AppResult<Response> {
    let outcome = match mismatch(&form.new_password, &form.confirm_password) {
        Some(e) => Err(e),
        None => {
            let input = PasswordChange {
                current_password: form.current_password,
                new_password: form.new_password,
            };
            password_changes::change(&state.app, &ctx.caller, input)
                .await
                .map_err(AppError::from)
        }
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/account?password_changed=1").into_response()),
        Err(e) if e.code == ErrorCode::ValidationFailed || e.code == ErrorCode::TooManyAttempts => {
            let status = crate::error::status(e.code);
            let mut page = change_page(&state, &ctx);
            page.show(e);
            html(status, page)
        }
        Err(e) => Err(e),
    }
}

fn forgot_page<'a>(state: &'a AppState, ctx: &Ctx) -> PasswordPage<'a> {
    let mut p = PasswordPage::new(PageCtx::new(state, ctx, "/password/forgot"), "forgot");
    if state.app.mailer.is_some() {
        p.action = Some("/password/forgot");
        p.field("email", "email", "username");
    } else {
        // Without mail, say so plainly and where to turn instead.
        p.lead = p.page.t("error.mail_unavailable");
    }
    p.links = vec![
        ("/login", p.page.t("login.title")),
        ("/pages/contact", p.page.t("site_page.contact.title")),
    ];
    p
}

pub async fn forgot_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    html(StatusCode::OK, forgot_page(&state, &ctx))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

impl CsrfField for ForgotForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> AppResult<Response> {
    let mut page = forgot_page(&state, &ctx);
    if state.app.mailer.is_none() {
        return html(StatusCode::OK, page);
    }
    let mail = ResetMail {
        subject: page.page.t("password.mail.subject"),
        body: page.page.tfs(
            "password.mail.body",
            &[
                ("site_name", page.page.t("site.name")),
                (
                    "minutes",
                    (password_changes::RESET_LINK_SECS / 60).to_string(),
                ),
            ],
        ),
        public_url: state.config.public_url.clone(),
    };
    let status = match password_changes::request_reset(&state.app, &ctx.caller, &form.email, mail)
        .await
    {
        Ok(()) => {
            page.notice = Some(page.page.tf(
                "password.forgot.sent",
                "minutes",
                &(password_changes::RESET_LINK_SECS / 60).to_string(),
            ));
            page.action = None;
            page.fields.clear();
            StatusCode::OK
        }
        Err(e) if e.code == ErrorCode::ValidationFailed || e.code == ErrorCode::TooManyAttempts => {
            let e = AppError::from(e);
            let status = crate::error::status(e.code);
            if let Some(f) = page.fields.first_mut() {
                f.value = form.email;
            }
            page.show(e);
            status
        }
        Err(e) => return Err(e.into()),
    };
    html(status, page)
}

#[derive(Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    token: String,
}

fn reset_page<'a>(state: &'a AppState, ctx: &Ctx, token: String) -> PasswordPage<'a> {
    let mut p = PasswordPage::new(PageCtx::new(state, ctx, "/password/reset"), "reset");
    p.action = Some("/password/reset");
    p.hidden = vec![("token", token)];
    p.new_password_fields();
    p
}

/// The page a link that cannot be used leads to: why, and where to ask for a new one.
fn dead_link_page<'a>(state: &'a AppState, ctx: &Ctx) -> PasswordPage<'a> {
    let mut p = PasswordPage::new(PageCtx::new(state, ctx, "/password/reset"), "reset");
    p.error = Some(p.page.t("error.reset_link_invalid"));
    p.links = vec![("/password/forgot", p.page.t("password.forgot.title"))];
    p
}

/// The dead-link page, with the error's stable code as every error answer carries it.
fn dead_link(state: &AppState, ctx: &Ctx, error: Option<&app::Error>) -> AppResult<Response> {
    let mut page = dead_link_page(state, ctx);
    if let Some(e) = error {
        page.error = Some(page.page.error(e));
    }
    let mut response = html(StatusCode::BAD_REQUEST, page)?;
    response.headers_mut().insert(
        crate::render::ERROR_CODE_HEADER,
        axum::http::HeaderValue::from_static(ErrorCode::ResetLinkInvalid.as_str()),
    );
    Ok(response)
}

pub async fn reset_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<ResetQuery>,
) -> AppResult<Response> {
    if password_changes::reset_link_live(&state.app, &q.token).await? {
        html(StatusCode::OK, reset_page(&state, &ctx, q.token))
    } else {
        dead_link(&state, &ctx, None)
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

impl CsrfField for ResetForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn reset_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> AppResult<Response> {
    let outcome = match mismatch(&form.new_password, &form.confirm_password) {
        Some(e) => Err(e),
        None => password_changes::reset(&state.app, &ctx.caller, &form.token, form.new_password)
            .await
            .map_err(AppError::from),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/login?reset=1").into_response()),
        Err(e) if e.code == ErrorCode::ValidationFailed => {
            let mut page = reset_page(&state, &ctx, form.token);
            page.show(e);
            html(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
        Err(e) if e.code == ErrorCode::ResetLinkInvalid => dead_link(&state, &ctx, Some(&e)),
        Err(e) => Err(e),
    }
}
