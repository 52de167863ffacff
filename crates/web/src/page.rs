//! What every HTML page shares: language, messages, the visitor, the CSRF token for forms.

use crate::ctx::Ctx;
use crate::i18n::{Lang, Messages};
use crate::state::AppState;

/// Message lookup for templates: `{{ page.t("login.title") }}`.
pub struct PageCtx<'a> {
    pub lang: Lang,
    messages: &'a Messages,
    pub signed_in: bool,
    pub csrf: String,
    pub demo: bool,
    /// The elder-friendly display (适老化) is on.
    pub elder: bool,
    /// The deployment's identification, for the foot of the page.
    pub site: &'a crate::state::SiteInfo,
    /// The current path, so the language switch can come back to it.
    pub path: String,
}

impl<'a> PageCtx<'a> {
    pub fn new(state: &'a AppState, ctx: &Ctx, path: &str) -> Self {
        Self {
            lang: ctx.lang,
            messages: &state.messages,
            signed_in: ctx.actor().user().is_some(),
            csrf: ctx.csrf_token.clone(),
            demo: state.config.demo,
            elder: ctx.elder,
            site: &state.config.site,
            path: path.to_owned(),
        }
    }

    /// For pages rendered without a resolved context (errors before or outside routing).
    pub fn bare(state: &'a AppState, lang: Lang, path: &str) -> Self {
        Self {
            lang,
            messages: &state.messages,
            signed_in: false,
            csrf: String::new(),
            demo: state.config.demo,
            elder: false,
            site: &state.config.site,
            path: path.to_owned(),
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.messages.get(self.lang, key).to_owned()
    }

    /// The message of a form field's problem.
    pub fn field_message(&self, e: &crate::error::FieldError) -> String {
        self.messages.field(self.lang, e.code, e.detail.as_deref())
    }

    /// An error's message in the page's language.
    pub fn error(&self, error: &app::Error) -> String {
        crate::error::message(error, self.messages, self.lang)
    }

    /// A message with several parameters.
    pub fn tfs(&self, key: &str, params: &[(&str, String)]) -> String {
        self.messages.format(self.lang, key, params)
    }

    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        self.messages
            .format(self.lang, key, &[(name, value.to_owned())])
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn other_lang_code(&self) -> &'static str {
        self.lang.other().code()
    }
}

/// The message shown at `field` among a form's (field, message) problems, if any.
pub fn message_at<'e>(errors: &'e [(String, String)], field: &str) -> Option<&'e str> {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
}

/// A page rendered with `status`; a template that fails is logged and answered as an internal
/// error.
pub fn html<T: askama::Template>(
    status: axum::http::StatusCode,
    page: T,
) -> crate::error::AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let body = page.render().map_err(|e| {
        tracing::error!(error = %e, "template failed");
        crate::error::AppError::new(crate::error::ErrorCode::Internal)
    })?;
    Ok((status, axum::response::Html(body)).into_response())
}

/// An instant as pages show it: to the second, in China Standard Time.
pub fn when(t: domain::clock::Timestamp) -> String {
    t.to_cst().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An option of a filter's list.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}
