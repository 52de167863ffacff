//! The web layer's error: the use cases' one error type (`app::Error`), mapped once to HTTP —
//! the code's status, a message in the visitor's language. Handlers return [`AppError`]; the
//! `render_errors` middleware turns it into JSON under `/api/` and into an HTML page elsewhere,
//! knowing the request's language.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub use app::error::{ErrorCode, FieldError};
use schemars::JsonSchema;
use serde::Serialize;
use store::StoreError;

/// The HTTP status of an error code.
pub fn status(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `app::Error` as a response. A wrapper only because a response is built here: it reads and
/// changes as the error it holds.
#[derive(Debug, Clone)]
pub struct AppError(pub app::Error);

impl std::ops::Deref for AppError {
    type Target = app::Error;
    fn deref(&self) -> &app::Error {
        &self.0
    }
}

impl std::ops::DerefMut for AppError {
    fn deref_mut(&mut self) -> &mut app::Error {
        &mut self.0
    }
}

impl AppError {
    pub fn new(code: ErrorCode) -> Self {
        Self(app::Error::new(code))
    }

    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self(app::Error::invalid(fields))
    }

    pub fn field(field: &'static str, code: &'static str) -> Self {
        Self(app::Error::field(field, code))
    }

    /// The problems of a refused form, to show next to its fields; any other error is passed
    /// on as it is.
    pub fn into_field_errors(self) -> Result<Vec<FieldError>, AppError> {
        self.0.into_field_errors().map_err(Self)
    }

    /// The error's message in `lang`.
    pub fn message(&self, messages: &crate::i18n::Messages, lang: crate::i18n::Lang) -> String {
        message(&self.0, messages, lang)
    }
}

/// An error's message in `lang`, with the minutes to wait when there are some.
pub fn message(
    e: &app::Error,
    messages: &crate::i18n::Messages,
    lang: crate::i18n::Lang,
) -> String {
    let minutes = e
        .retry_after
        .map(|s| ((s + 59) / 60).max(1).to_string())
        .unwrap_or_default();
    messages.format(lang, &e.code.message_key(), &[("minutes", minutes)])
}

impl From<app::Error> for AppError {
    fn from(e: app::Error) -> Self {
        Self(e)
    }
}

impl From<ErrorCode> for AppError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        Self(err.into())
    }
}

impl From<domain::policy::Denial> for AppError {
    fn from(d: domain::policy::Denial) -> Self {
        Self(d.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // The body is written by `render_errors`, which knows the path and the language.
        let mut response = status(self.code).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// The one shape of an error under `/api/v1`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Error")]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorDetail {
    /// Stable: the same as the `X-Error-Code` header.
    pub code: ErrorCode,
    /// In the language of `Accept-Language`.
    pub message: String,
    /// Quote it when asking for help: the server's log lines of the request carry it.
    pub request_id: String,
    /// Each field that was wrong, when the request had any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(default)]
    pub fields: Vec<FieldProblem>,
}

/// What was wrong with one field of a request.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FieldProblem {
    /// Where: `email`, `data_items[2].label`...
    pub field: String,
    /// Stable, e.g. `too_long`.
    pub code: &'static str,
    pub message: String,
    /// What exactly: a limit, the value that was not known...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
