//! Kaifang's HTTP face: HTML pages, `/api/v1`, and the middleware every request passes
//! (context, authorization, CSRF, error rendering, security headers, body limits).

pub mod articles;
mod changes;
mod charts;
pub mod client;
pub mod contract;
pub mod ctx;
mod data_view;
mod dataset_form;
pub mod error;
mod guide_form;
pub mod i18n;
pub mod indexer;
mod labels;
pub mod map;
pub mod meter;
mod notices;
pub mod observe;
pub mod openlist;
mod page;
pub mod paging;
pub mod pdf;
pub mod redirect;
pub mod render;
pub mod routes;
pub mod state;

use std::net::SocketAddr;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::from_fn_with_state;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use state::{AppState, SiteInfo, WebConfig};

/// The pages' Content-Security-Policy: nothing from elsewhere but the map tiles, when the
/// operator named a tile server.
fn content_security_policy(tiles: Option<&map::Tiles>) -> HeaderValue {
    let tile_origin = tiles
        .map(|t| format!(" {}", t.origin()))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tile_origin}; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    // The origin was checked to hold no character a header may not carry (`map::Tiles::parse`).
    HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

/// The whole application as one router.
pub fn app(state: AppState) -> Router {
    let header_layer = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    routes::router(state.clone())
        // Innermost first: context for every route, then error rendering around it, so even
        // errors raised while resolving the context are rendered the same way.
        .layer(from_fn_with_state(state.clone(), ctx::resolve))
        .layer(CatchPanicLayer::custom(render::panic_response))
        .layer(from_fn_with_state(state.clone(), ctx::limit_body))
        // The bound is ours (above); axum's own default would cut uploads at 2 MB.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(from_fn_with_state(state.clone(), render::render_errors))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(state.config.map_tiles.as_ref()),
        ))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ))
        .layer(CompressionLayer::new())
        .layer(from_fn_with_state(state.clone(), observe::track))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
