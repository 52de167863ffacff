//! Who is asking, in which language, from where: resolved once per request by [`resolve`] and
//! read by handlers through the [`Ctx`] extractor.

use std::net::SocketAddr;

use app::{Caller, Via};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::Cookie;
use domain::policy::{Action, Resource};
use domain::roles::{Actor, UserActor};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::state::AppState;
use app::secrets::{API_TOKEN_PREFIX, hash_secret, random_secret, same_secret};

pub const SESSION_COOKIE: &str = "kf_session";
pub const CSRF_COOKIE: &str = "kf_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

/// The display the visitor chose, remembered for a year: `elder`, or the standard one.
pub const DISPLAY_COOKIE: &str = "kf_display";
pub const ELDER: &str = "elder";

#[derive(Debug, Clone)]
pub struct Ctx {
    /// Who calls, how and from where: what the use cases and the policy are given.
    pub caller: Caller,
    pub lang: Lang,
    /// The visitor chose the elder-friendly display (适老化): larger type, higher contrast, a
    /// simpler layout.
    pub elder: bool,
    /// The caller reached the platform over HTTPS: cookies set for it are `Secure`.
    pub secure: bool,
    /// The token forms must carry: the session's, or for visitors the `kf_csrf` cookie's.
    pub csrf_token: String,
    /// A fresh visitor CSRF token that the response must set as a cookie.
    new_csrf_cookie: bool,
    /// The uses of entries this request makes, for the usage log.
    pub meter: crate::meter::Meter,
}

impl Ctx {
    /// A `Set-Cookie` value for this caller (`Secure` when they came over HTTPS).
    pub fn cookie(&self, name: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
        set_cookie_header(name, value, max_age_secs, self.secure)
    }

    pub fn authorize(&self, action: Action, resource: Resource) -> AppResult<()> {
        Ok(self.caller.authorize(action, resource)?)
    }

    /// The signed-in account; callers have been authorized for an action that needs one.
    pub fn user(&self) -> AppResult<&UserActor> {
        Ok(self.caller.user()?)
    }

    /// Whoever acts, anonymous or signed in.
    pub fn actor(&self) -> &Actor {
        &self.caller.actor
    }

    /// An audit record of a change made by this request's actor at `now`.
    pub fn event(
        &self,
        now: domain::clock::Timestamp,
        action: &'static str,
        target_type: &'static str,
        target_id: String,
    ) -> store::AuditEvent {
        self.caller.event(now, action, target_type, target_id)
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse_encoded(v.to_owned()).flatten())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

pub fn set_cookie_header(
    name: &str,
    value: &str,
    max_age_secs: Option<i64>,
    secure: bool,
) -> HeaderValue {
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure);
    if let Some(secs) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(secs));
    }
    HeaderValue::from_str(&c.build().encoded().to_string()).expect("cookie is valid header text")
}

fn client_info(state: &AppState, req: &Request) -> Option<crate::client::ClientInfo> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip());
    crate::client::resolve(
        peer,
        req.headers(),
        &state.config.trusted_proxies,
        state.config.public_url.starts_with("https://"),
    )
}

/// Paths answered for programs, not people: errors in the JSON shape, no sign-in redirect.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/metrics"
}

/// Resolves the [`Ctx`] of every request, enforces CSRF for cookie-authenticated API writes,
/// and hands a visitor a CSRF cookie when they have none.
pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let client = client_info(&state, &req);
    match build_ctx(&state, req.headers(), req.uri().path(), client).await {
        Ok(ctx) => {
            if let Err(e) = check_api_csrf(&ctx, &req) {
                return e.into_response();
            }
            let set_csrf = ctx.new_csrf_cookie.then(|| ctx.csrf_token.clone());
            let secure = ctx.secure;
            req.extensions_mut().insert(ctx);
            let mut response = next.run(req).await;
            if let Some(token) = set_csrf {
                response.headers_mut().append(
                    header::SET_COOKIE,
                    set_cookie_header(CSRF_COOKIE, &token, None, secure),
                );
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn build_ctx(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    client: Option<crate::client::ClientInfo>,
) -> AppResult<Ctx> {
    let lang = Lang::negotiate(headers, cookie_value(headers, LANG_COOKIE).as_deref());
    let elder = cookie_value(headers, DISPLAY_COOKIE).as_deref() == Some(ELDER);
    let now = state.clock.now();

    // `Authorization: Bearer kf_...`; CKAN clients send the bare key, in `Authorization` or in
    // `X-CKAN-API-Key`.
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let bearer = match authorization {
        Some(v) if v.starts_with("Bearer ") => Some(v["Bearer ".len()..].trim()),
        Some(v) if v.starts_with(API_TOKEN_PREFIX) => Some(v),
        // Any other scheme (Basic, a mistyped key) is an invalid token, not an anonymous call.
        Some(_) => Some(""),
        None => headers
            .get("x-ckan-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim),
    };

    let base = |actor, via, csrf_token: String, new_csrf_cookie| Ctx {
        caller: Caller {
            actor,
            via,
            client_addr: client.as_ref().map(|c| c.addr.to_string()),
        },
        lang,
        elder,
        secure: client.as_ref().is_some_and(|c| c.https),
        csrf_token,
        new_csrf_cookie,
        meter: Default::default(),
    };

    if let Some(token) = bearer {
        if !token.starts_with(API_TOKEN_PREFIX) {
            return Err(ErrorCode::TokenInvalid.into());
        }
        let record = state
            .store
            .token_by_hash(&hash_secret(token))
            .await?
            .ok_or(ErrorCode::TokenInvalid)?;
        if record.revoked_at.is_some() {
            return Err(ErrorCode::TokenRevoked.into());
        }
        if record.expires_at.is_some_and(|exp| exp <= now) {
            return Err(ErrorCode::TokenExpired.into());
        }
        let mut actor = state.store.actor(record.user_id).await?;
        actor.scope = Some(record.scope);
        return Ok(base(
            Actor::User(actor),
            Via::ApiToken,
            String::new(),
            false,
        ));
    }

    if let Some(session_token) = cookie_value(headers, SESSION_COOKIE) {
        let token_hash = hash_secret(&session_token);
        if let Some(session) = state.store.session(&token_hash, now).await? {
            let actor = state.store.actor(session.user_id).await?;
            return Ok(base(
                Actor::User(actor),
                Via::Session { token_hash },
                session.csrf_token,
                false,
            ));
        }
        // An expired or unknown session is simply no session.
    }

    let (csrf, fresh) = match cookie_value(headers, CSRF_COOKIE) {
        Some(c) if c.len() >= 32 => (c, false),
        _ if is_api(path) || path == "/healthz" || path == "/readyz" => (String::new(), false),
        _ => (random_secret(), true),
    };
    Ok(base(Actor::Anonymous, Via::Anonymous, csrf, fresh))
}

/// JSON writes authenticated by the session cookie must echo the session's CSRF token in a
/// header. Bearer-token calls need none; anonymous JSON writes are protected by requiring
/// `application/json`, which a cross-site form cannot send.
fn check_api_csrf(ctx: &Ctx, req: &Request) -> AppResult<()> {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !(writes && is_api(req.uri().path()) && matches!(ctx.caller.via, Via::Session { .. })) {
        return Ok(());
    }
    let sent = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if same_secret(sent, &ctx.csrf_token) {
        Ok(())
    } else {
        Err(ErrorCode::CsrfFailed.into())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| {
            tracing::error!("Ctx missing: the resolve middleware is not installed");
            AppError::new(ErrorCode::Internal)
        })
    }
}

/// Query-string parameters whose rejections become our error shape: the parameter that did
/// not parse is named, in JSON under `/api/` and on the error page elsewhere. Parameters a
/// route does not know are ignored, on every route alike.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Params)
            .map_err(|e| {
                let field = e.path().to_string();
                let field = if field == "." {
                    "query".to_owned()
                } else {
                    field
                };
                let mut err = AppError::new(ErrorCode::MalformedRequest);
                err.fields.push(FieldError::new(field, "invalid_value"));
                err
            })
    }
}

/// A JSON body whose rejections become our error codes. A body that does not fit names the
/// field that did not (an unknown field included: bodies are refused rather than half read,
/// so a mistyped `access` never quietly makes a read-write token).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !json {
            return Err(ErrorCode::UnsupportedMediaType.into());
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| bad_body(r.status()))?;
        let de = &mut serde_json::Deserializer::from_slice(&body);
        serde_path_to_error::deserialize(de)
            .map(ApiJson)
            .map_err(|e| {
                let mut err = AppError::new(ErrorCode::MalformedJson);
                let path = e.path().to_string();
                if path != "." {
                    let code = if e.inner().to_string().starts_with("unknown field") {
                        "unknown_field"
                    } else {
                        "invalid_value"
                    };
                    err.fields.push(FieldError::new(path, code));
                }
                err
            })
    }
}

/// A form post that must carry the CSRF token in the `_csrf` field.
pub trait CsrfField {
    fn csrf(&self) -> &str;
}

pub struct CsrfForm<T>(pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + CsrfField,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = req
            .extensions()
            .get::<Ctx>()
            .cloned()
            .ok_or(ErrorCode::Internal)?;
        let form = match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => v,
            Err(r) if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ErrorCode::PayloadTooLarge.into());
            }
            // A form missing its fields altogether is as good as forged.
            Err(_) => return Err(ErrorCode::MalformedRequest.into()),
        };
        if ctx.csrf_token.is_empty() || !same_secret(form.csrf(), &ctx.csrf_token) {
            return Err(ErrorCode::CsrfFailed.into());
        }
        Ok(CsrfForm(form))
    }
}

/// A file sent with a form, streamed into the file store as the caller's upload while the
/// form was read (or the reason it was refused).
#[derive(Debug)]
pub struct FormFile {
    pub field: String,
    pub upload: Result<store::uploads::UploadRecord, app::Error>,
}

/// Whether a request is a form that carries files.
fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// Bounds request bodies: forms that carry files (multipart) may be as large as
/// `max_upload_bytes`, anything else `max_body_bytes`. A body that says it is larger is refused
/// at once; one that turns out larger fails when read, and its extractor answers 413.
pub async fn limit_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let data_upload = ((path.starts_with("/api/v1/datasets/")
        || path.starts_with("/console/datasets/"))
        && path.ends_with("/data"))
        || (path.starts_with("/console/orgs/") && path.ends_with("/datasets/from-file"));
    let limit = if data_upload {
        app::data_versions::MAX_DATA_BYTES as usize
    } else if is_multipart(req.headers()) || path == "/api/v1/uploads" {
        state.config.max_upload_bytes
    } else {
        state.config.max_body_bytes
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return AppError::from(ErrorCode::PayloadTooLarge).into_response();
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// The files a page's form sent in `field`, as attachments for a use case; or, when one of
/// them was refused, why, at `attachments` (where the use case reports its attachments'
/// problems, and where the pages show them).
pub fn attachments(
    files: &[FormFile],
    field: &str,
) -> Result<Vec<app::tickets::AttachmentInput>, Vec<app::FieldError>> {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for f in files.iter().filter(|f| f.field == field) {
        match &f.upload {
            Ok(u) => inputs.push(app::tickets::AttachmentInput {
                upload: u.id.clone(),
            }),
            Err(e) => errors.push(app::FieldError::new(
                "attachments",
                match e.code {
                    ErrorCode::PayloadTooLarge => "file_too_large",
                    ErrorCode::UploadLimit => "upload_limit",
                    ErrorCode::ValidationFailed => "required",
                    // FileTypeNotAllowed: the form kept no other kind of error (see FormPost).
                    _ => "file_type_not_allowed",
                },
            )),
        }
    }
    if errors.is_empty() {
        Ok(inputs)
    } else {
        Err(errors)
    }
}

/// A form post whose fields may repeat and be numbered (the entry form), sent either as
/// `application/x-www-form-urlencoded` or, when it carries files, as `multipart/form-data`. It
/// must carry the CSRF token in `_csrf`, and a form with files must carry it before them (the
/// platform's forms do): a file is streamed into the file store as it is read, so it is only
/// taken from a form already known to be genuine. A file field left empty is no file.
pub struct FormPost {
    pub values: crate::dataset_form::FormValues,
    pub files: Vec<FormFile>,
}

fn bad_body(status: axum::http::StatusCode) -> AppError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ErrorCode::PayloadTooLarge.into()
    } else {
        ErrorCode::MalformedRequest.into()
    }
}

/// Reads a multipart form whose file is streamed where it goes (a data upload, a file to infer
/// data items from): its text fields up to its one file, then hands `then` those fields and the
/// file's name and stream. The form's token must come before the file, as the platform's forms
/// put it: a file is only read from a form known to be genuine. No file, or an empty file
/// input, is `file: required`.
pub async fn with_file_after_token<R>(
    ctx: &Ctx,
    form: &mut axum::extract::Multipart,
    then: impl AsyncFnOnce(
        std::collections::HashMap<String, String>,
        String,
        axum::extract::multipart::Field<'_>,
    ) -> AppResult<R>,
) -> AppResult<R> {
    let mut fields = std::collections::HashMap::new();
    let mut genuine = false;
    while let Some(field) = form.next_field().await.map_err(|e| bad_body(e.status()))? {
        if let Some(name) = field.file_name().map(str::to_owned) {
            if !genuine {
                return Err(ErrorCode::CsrfFailed.into());
            }
            if name.is_empty() {
                return Err(AppError::field("file", "required"));
            }
            return then(fields, name, field).await;
        }
        let key = field.name().unwrap_or_default().to_owned();
        let text = field.text().await.map_err(|e| bad_body(e.status()))?;
        if key == "_csrf" {
            genuine = !ctx.csrf_token.is_empty() && same_secret(&text, &ctx.csrf_token);
        }
        fields.insert(key, text);
    }
    if !genuine {
        return Err(ErrorCode::CsrfFailed.into());
    }
    Err(AppError::field("file", "required"))
}

impl FromRequest<AppState> for FormPost {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = req
            .extensions()
            .get::<Ctx>()
            .cloned()
            .ok_or(ErrorCode::Internal)?;
        let multipart = is_multipart(req.headers());
        let mut pairs = Vec::new();
        let mut files = Vec::new();
        if multipart {
            let mut form = axum::extract::Multipart::from_request(req, state)
                .await
                .map_err(|r| bad_body(r.status()))?;
            let mut genuine = false;
            while let Some(field) = form.next_field().await.map_err(|e| bad_body(e.status()))? {
                let key = field.name().unwrap_or_default().to_owned();
                match field.file_name().map(str::to_owned) {
                    // An empty file input: no file.
                    Some(name) if name.is_empty() => {}
                    Some(_) if !genuine => return Err(ErrorCode::CsrfFailed.into()),
                    Some(name) => {
                        let upload =
                            match app::uploads::upload(&state.app, &ctx.caller, &name, field).await
                            {
                                // What is wrong with the file itself is said at its field, with
                                // the rest of the form kept; anything else (a body that broke
                                // off, a caller who may not upload, a store that failed) is the
                                // answer to the whole request.
                                Err(e)
                                    if !matches!(
                                        e.code,
                                        ErrorCode::PayloadTooLarge
                                            | ErrorCode::FileTypeNotAllowed
                                            | ErrorCode::UploadLimit
                                            | ErrorCode::ValidationFailed
                                    ) =>
                                {
                                    return Err(e.into());
                                }
                                other => other,
                            };
                        files.push(FormFile { field: key, upload });
                    }
                    None => {
                        let text = field.text().await.map_err(|e| bad_body(e.status()))?;
                        if key == "_csrf" {
                            genuine =
                                !ctx.csrf_token.is_empty() && same_secret(&text, &ctx.csrf_token);
                        }
                        pairs.push((key, text));
                    }
                }
            }
        } else {
            let body = axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|r| bad_body(r.status()))?;
            pairs = form_urlencoded::parse(&body).into_owned().collect();
        }
        let values = crate::dataset_form::FormValues::from_pairs(pairs);
        if ctx.csrf_token.is_empty() || !same_secret(values.get("_csrf"), &ctx.csrf_token) {
            return Err(ErrorCode::CsrfFailed.into());
        }
        Ok(FormPost { values, files })
    }
}
