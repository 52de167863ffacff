//! Turns errors into responses, once, for the whole app: JSON under `/api/`, an HTML page
//! elsewhere, in the visitor's language. Also answers bare error statuses produced by layers
//! below the handlers (body limit, unknown method) the same way.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::ctx::cookie_value;
use crate::error::{AppError, ErrorBody, ErrorCode, ErrorDetail, FieldProblem};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::page::PageCtx;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: PageCtx<'a>,
    status: u16,
    message: String,
    fields: Vec<String>,
    /// Quoted when the visitor reports the problem, to find it in the logs.
    request_id: String,
}

pub const ERROR_CODE_HEADER: &str = "x-error-code";

/// Marks a response whose error body is already written in a protocol's own shape (CKAN's
/// envelope), so it is passed through as it is.
#[derive(Clone, Copy)]
pub struct OwnErrorShape;

pub async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = Lang::negotiate(
        req.headers(),
        cookie_value(req.headers(), LANG_COOKIE).as_deref(),
    );
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let request_id = req
        .extensions()
        .get::<crate::observe::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let mut response = next.run(req).await;

    let error = match response.extensions_mut().remove::<AppError>() {
        Some(e) => e,
        // A route that answered with its own page and named the error's code is believed.
        None if response.extensions().get::<OwnErrorShape>().is_some()
            || response.headers().contains_key(ERROR_CODE_HEADER) =>
        {
            return response;
        }
        None => match bare_status_code(&response) {
            Some(code) => AppError::new(code),
            None => return response,
        },
    };
    let route = response
        .extensions()
        .get::<crate::observe::RouteName>()
        .copied();
    let mut rendered = render(&state, error, lang, &path, query.as_deref(), &request_id);
    if let Some(route) = route {
        rendered.extensions_mut().insert(route);
    }
    rendered
}

/// Error statuses that reach here without an [`AppError`] come from layers that write their
/// own plain-text bodies; they are rewritten so clients always get the same shape.
fn bare_status_code(response: &Response) -> Option<ErrorCode> {
    match response.status() {
        StatusCode::BAD_REQUEST => Some(ErrorCode::MalformedRequest),
        StatusCode::PAYLOAD_TOO_LARGE => Some(ErrorCode::PayloadTooLarge),
        StatusCode::METHOD_NOT_ALLOWED => Some(ErrorCode::MethodNotAllowed),
        StatusCode::NOT_FOUND => Some(ErrorCode::NotFound),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(ErrorCode::UnsupportedMediaType),
        StatusCode::INTERNAL_SERVER_ERROR => Some(ErrorCode::Internal),
        _ => None,
    }
}

fn render(
    state: &AppState,
    error: AppError,
    lang: Lang,
    path: &str,
    query: Option<&str>,
    request_id: &str,
) -> Response {
    let m = &state.messages;
    let message = error.message(m, lang);
    let status = crate::error::status(error.code);

    let mut response = if crate::ctx::is_api(path) {
        let fields = error
            .fields
            .iter()
            .map(|f| FieldProblem {
                field: f.field.clone(),
                code: f.code,
                message: m.field(lang, f.code, f.detail.as_deref()),
                detail: f.detail.clone(),
            })
            .collect();
        let body = ErrorBody {
            error: ErrorDetail {
                code: error.code,
                message,
                request_id: request_id.to_owned(),
                fields,
            },
        };
        (status, axum::Json(body)).into_response()
    } else if error.code == ErrorCode::NotSignedIn {
        // A page that needs an account sends the visitor to sign in, then back.
        let back = match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        let target = format!("/login?next={}", urlencode(&back));
        let mut redirect = Redirect::to(&target).into_response();
        redirect.headers_mut().insert(
            ERROR_CODE_HEADER,
            HeaderValue::from_static(error.code.as_str()),
        );
        return redirect;
    } else {
        let page = ErrorPage {
            page: PageCtx::bare(state, lang, path),
            status: status.as_u16(),
            message,
            request_id: request_id.to_owned(),
            fields: error
                .fields
                .iter()
                .map(|f| m.field(lang, f.code, f.detail.as_deref()))
                .collect(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                status.into_response()
            }
        }
    };
    // The stable code, also as a header, so clients can branch on it without the body.
    response.headers_mut().insert(
        ERROR_CODE_HEADER,
        HeaderValue::from_static(error.code.as_str()),
    );
    if let Some(secs) = error.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Percent-encodes text for a header parameter (RFC 8187) or a query value.
pub fn percent_encode(s: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// Percent-encodes a same-site path for use as a query value.
fn urlencode(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(s, KEEP).to_string()
}

/// Turns a panic into a plain 500 whose body `render_errors` then writes; the panic text is
/// logged, never sent.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "handler panicked");
    AppError::new(ErrorCode::Internal).into_response()
}

/// A stored attachment as a file to save, streamed from the file store.
pub fn download(
    info: store::attachments::AttachmentInfo,
    content: futures_util::stream::BoxStream<
        'static,
        Result<bytes::Bytes, store::blobs::BlobError>,
    >,
) -> crate::error::AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        percent_encode(&info.name)
    );
    // Types are checked when a file is stored; a row written before that check (or damaged)
    // is still served, as bytes to save, never as an error.
    let media_type = axum::http::HeaderValue::from_str(&info.media_type).unwrap_or(
        axum::http::HeaderValue::from_static("application/octet-stream"),
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, media_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_str(&disposition)
                    .unwrap_or(axum::http::HeaderValue::from_static("attachment")),
            ),
            (
                axum::http::header::CONTENT_LENGTH,
                axum::http::HeaderValue::from(info.size.max(0) as u64),
            ),
        ],
        axum::body::Body::from_stream(content),
    )
        .into_response())
}
