//! The web layer's one error type, mapped once to HTTP: a stable code, a status, a message in
//! the visitor's language. Handlers return [`AppError`]; the `render_errors` middleware turns it
//! into JSON under `/api/` and into an HTML page elsewhere, knowing the request's language.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use store::StoreError;

domain::string_enum!(
    /// Stable error codes: part of the API contract, never renamed.
    ErrorCode {
        MalformedJson => "malformed_json",
        UnsupportedMediaType => "unsupported_media_type",
        PayloadTooLarge => "payload_too_large",
        MalformedRequest => "malformed_request",
        NotFound => "not_found",
        MethodNotAllowed => "method_not_allowed",
        ValidationFailed => "validation_failed",
        EmailTaken => "email_taken",
        UsccTaken => "uscc_taken",
        SlugTaken => "slug_taken",
        InvalidCredentials => "invalid_credentials",
        TooManyAttempts => "too_many_attempts",
        NotSignedIn => "not_signed_in",
        Forbidden => "forbidden",
        CsrfFailed => "csrf_failed",
        TokenInvalid => "token_invalid",
        TokenExpired => "token_expired",
        TokenRevoked => "token_revoked",
        SessionRequired => "session_required",
        TokenLimit => "token_limit",
        LastAdmin => "last_admin",
        CatalogueItemInUse => "catalogue_item_in_use",
        NeedsTicket => "needs_ticket",
        TicketOpen => "ticket_open",
        StaleTicket => "stale_ticket",
        WrongStatus => "wrong_status",
        InvalidTransition => "invalid_transition",
        EditConflict => "edit_conflict",
        Internal => "internal",
        Unavailable => "unavailable",
    }
);

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            MalformedJson | MalformedRequest => StatusCode::BAD_REQUEST,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            EmailTaken | UsccTaken | SlugTaken | TokenLimit | LastAdmin | CatalogueItemInUse
            | NeedsTicket | TicketOpen | StaleTicket | WrongStatus | InvalidTransition
            | EditConflict => StatusCode::CONFLICT,
            InvalidCredentials | NotSignedIn | TokenInvalid | TokenExpired | TokenRevoked => {
                StatusCode::UNAUTHORIZED
            }
            TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Forbidden | CsrfFailed | SessionRequired => StatusCode::FORBIDDEN,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn message_key(self) -> String {
        format!("error.{}", self.as_str())
    }
}

/// One field that did not pass, with a stable code (`invalid_uscc`, `required`, ...) and, where
/// it helps, what exactly (the abbreviation, the similar entry, the permitted open type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub detail: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self {
            field: field.into(),
            code,
            detail: None,
        }
    }

    /// The problem of a text beyond its bound (too long, or with control characters), if any.
    pub fn text(field: &str, text: &str, limit: domain::bounded::Limit) -> Option<Self> {
        domain::bounded::check(text, limit).err().map(|e| Self {
            field: field.to_owned(),
            code: e.code(),
            detail: e.detail(),
        })
    }
}

impl From<domain::openlist::checks::Problem> for FieldError {
    fn from(p: domain::openlist::checks::Problem) -> Self {
        Self {
            field: p.field,
            code: p.code,
            detail: p.detail,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub code: ErrorCode,
    /// For `ValidationFailed`: every field that failed, all at once.
    pub fields: Vec<FieldError>,
    /// For `TooManyAttempts`: seconds until another try is allowed.
    pub retry_after: Option<i64>,
}

impl AppError {
    /// The problems of a refused form, to show next to its fields; any other error is passed
    /// on as it is.
    pub fn into_field_errors(self) -> Result<Vec<FieldError>, AppError> {
        if self.code == ErrorCode::ValidationFailed {
            Ok(self.fields)
        } else {
            Err(self)
        }
    }

    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            fields: Vec::new(),
            retry_after: None,
        }
    }

    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self {
            code: ErrorCode::ValidationFailed,
            fields,
            retry_after: None,
        }
    }

    /// The error's message in `lang`, with the minutes to wait when there are some.
    pub fn message(&self, messages: &crate::i18n::Messages, lang: crate::i18n::Lang) -> String {
        let minutes = self
            .retry_after
            .map(|s| ((s + 59) / 60).max(1).to_string())
            .unwrap_or_default();
        messages.format(lang, &self.code.message_key(), &[("minutes", minutes)])
    }

    pub fn field(field: &'static str, code: &'static str) -> Self {
        Self::invalid(vec![FieldError::new(field, code)])
    }
}

impl From<ErrorCode> for AppError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ErrorCode::NotFound.into(),
            StoreError::Conflict("email") => ErrorCode::EmailTaken.into(),
            StoreError::Conflict("uscc") => {
                let mut err = AppError::new(ErrorCode::UsccTaken);
                err.fields.push(FieldError::new("uscc", "uscc_taken"));
                err
            }
            StoreError::Conflict("slug") => ErrorCode::SlugTaken.into(),
            StoreError::Conflict("open_ticket") => ErrorCode::TicketOpen.into(),
            StoreError::Conflict("row_version") => ErrorCode::EditConflict.into(),
            StoreError::Conflict("ticket_state") => ErrorCode::InvalidTransition.into(),
            other => {
                // The detail goes to the log, never to the client.
                tracing::error!(error = %other, "store error");
                ErrorCode::Internal.into()
            }
        }
    }
}

impl From<domain::policy::Denial> for AppError {
    fn from(d: domain::policy::Denial) -> Self {
        match d {
            domain::policy::Denial::NotSignedIn => ErrorCode::NotSignedIn.into(),
            domain::policy::Denial::Forbidden => ErrorCode::Forbidden.into(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // The body is written by `render_errors`, which knows the path and the language.
        let mut response = self.code.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
