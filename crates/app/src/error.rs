//! The one error type of the use cases: a stable code, the fields that failed, and for
//! throttling the seconds to wait. The web layer maps it once to HTTP (the code's status and
//! the JSON or page shape), the CLI to a message and an exit code.

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
        FileTypeNotAllowed => "file_type_not_allowed",
        UploadLimit => "upload_limit",
        ResetLinkInvalid => "reset_link_invalid",
        MailUnavailable => "mail_unavailable",
        DataFormatNotSupported => "data_format_not_supported",
        FormatMismatch => "format_mismatch",
        IngestionRunning => "ingestion_running",
        NoData => "no_data",
        InvalidQuery => "invalid_query",
        AgreementTextChanged => "agreement_text_changed",
        AlreadySigned => "already_signed",
        NotGranted => "not_granted",
        FieldNotGranted => "field_not_granted",
        RowFilterUnavailable => "row_filter_unavailable",
        AgreementNotActive => "agreement_not_active",
        OutsideAgreementPeriod => "outside_agreement_period",
        QuotaExceeded => "quota_exceeded",
        OpinionFiled => "opinion_filed",
        ExceptionExists => "exception_exists",
        SandboxOnly => "sandbox_only",
        PrivacyBudgetSpent => "privacy_budget_spent",
        Internal => "internal",
        Unavailable => "unavailable",
    }
);

impl ErrorCode {
    /// The HTTP status class of the code: part of the API contract, like the code itself.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            MalformedJson | MalformedRequest | ResetLinkInvalid | InvalidQuery => 400,
            UnsupportedMediaType | FileTypeNotAllowed | DataFormatNotSupported | FormatMismatch => {
                415
            }
            PayloadTooLarge => 413,
            NotFound | NoData => 404,
            MethodNotAllowed => 405,
            ValidationFailed => 422,
            EmailTaken | UsccTaken | SlugTaken | TokenLimit | LastAdmin | CatalogueItemInUse
            | NeedsTicket | TicketOpen | StaleTicket | WrongStatus | InvalidTransition
            | EditConflict | IngestionRunning | AgreementTextChanged | AlreadySigned
            | OpinionFiled | ExceptionExists => 409,
            InvalidCredentials | NotSignedIn | TokenInvalid | TokenExpired | TokenRevoked => 401,
            TooManyAttempts | UploadLimit | QuotaExceeded => 429,
            Forbidden
            | CsrfFailed
            | SessionRequired
            | NotGranted
            | FieldNotGranted
            | RowFilterUnavailable
            | AgreementNotActive
            | OutsideAgreementPeriod
            | SandboxOnly
            | PrivacyBudgetSpent => 403,
            Internal => 500,
            Unavailable | MailUnavailable => 503,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    /// For `ValidationFailed`: every field that failed, all at once.
    pub fields: Vec<FieldError>,
    /// For `TooManyAttempts`: seconds until another try is allowed.
    pub retry_after: Option<i64>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code.as_str())?;
        for e in &self.fields {
            write!(f, "; {}: {}", e.field, e.code)?;
            if let Some(d) = &e.detail {
                write!(f, " ({d})")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl Error {
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

    pub fn field(field: &'static str, code: &'static str) -> Self {
        Self::invalid(vec![FieldError::new(field, code)])
    }

    /// The problems of a refused form, to show next to its fields; any other error is passed
    /// on as it is.
    pub fn into_field_errors(self) -> Result<Vec<FieldError>, Error> {
        if self.code == ErrorCode::ValidationFailed {
            Ok(self.fields)
        } else {
            Err(self)
        }
    }
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ErrorCode::NotFound.into(),
            StoreError::Conflict("email") => ErrorCode::EmailTaken.into(),
            StoreError::Conflict("uscc") => {
                let mut err = Error::new(ErrorCode::UsccTaken);
                err.fields.push(FieldError::new("uscc", "uscc_taken"));
                err
            }
            StoreError::Conflict("slug") => ErrorCode::SlugTaken.into(),
            StoreError::Conflict("open_ticket") => ErrorCode::TicketOpen.into(),
            StoreError::Conflict("ingesting") => ErrorCode::IngestionRunning.into(),
            StoreError::Conflict("row_version") => ErrorCode::EditConflict.into(),
            StoreError::Conflict("ticket_state") => ErrorCode::InvalidTransition.into(),
            StoreError::Conflict("exception_exists") => ErrorCode::ExceptionExists.into(),
            other => {
                // The detail goes to the log, never to the caller.
                tracing::error!(error = %other, "store error");
                ErrorCode::Internal.into()
            }
        }
    }
}

impl From<domain::policy::Denial> for Error {
    fn from(d: domain::policy::Denial) -> Self {
        match d {
            domain::policy::Denial::NotSignedIn => ErrorCode::NotSignedIn.into(),
            domain::policy::Denial::Forbidden => ErrorCode::Forbidden.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
