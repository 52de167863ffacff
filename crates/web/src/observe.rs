//! Observability: a request id on every request (its log lines, its error answer and page, an
//! `x-request-id` header), and Prometheus metrics kept in the app's own registry — requests and
//! latency per route, and, read when scraped, the search index's lag, the audit chain's length
//! and the job queue's depth and age.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tracing::Instrument;

use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The route (as declared in the route table) a response came from, for the metrics' labels:
/// the declared pattern, never the path itself, so labels stay few.
#[derive(Debug, Clone, Copy)]
pub struct RouteName(pub &'static str);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// The app's metrics. One registry per app: no global state, so tests that run several apps
/// in one process count apart.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    index_lag: Gauge,
    audit_records: Gauge,
    jobs_queued: Gauge,
    oldest_job_age: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kaifang");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by method, route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route",
            latency.clone(),
        );
        let index_lag = Gauge::default();
        registry.register(
            "search_index_lag",
            "Changes of the open list this node's search index has not applied yet",
            index_lag.clone(),
        );
        let audit_records = Gauge::default();
        registry.register(
            "audit_chain_records",
            "Records in the audit hash chain",
            audit_records.clone(),
        );
        let jobs_queued = Gauge::default();
        registry.register(
            "jobs_queued",
            "Background jobs waiting or running",
            jobs_queued.clone(),
        );
        let oldest_job_age = Gauge::default();
        registry.register(
            "jobs_oldest_age_seconds",
            "Age of the oldest job waiting or running",
            oldest_job_age.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            index_lag,
            audit_records,
            jobs_queued,
            oldest_job_age,
        }
    }
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }
}

/// The outermost layer: gives the request its id, runs it inside a span carrying the id (so
/// every log line of the request names it), and counts it.
pub async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::now_v7().simple().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("request", id = %id, method = %method);
    let mut response = next.run(req).instrument(span).await;
    let route = response
        .extensions()
        .get::<RouteName>()
        .map(|r| r.0)
        .unwrap_or("unmatched");
    state.metrics.observe(
        &method,
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

/// The metrics in Prometheus' text format, with the gauges read now.
pub async fn render(state: &AppState) -> Result<String, crate::error::AppError> {
    let m = &state.metrics;
    let applied = state
        .search
        .applied_seq()
        .map_err(|_| crate::error::AppError::new(crate::error::ErrorCode::Internal))?;
    let last = state.store.last_dataset_change().await?;
    m.index_lag.set((last - applied).max(0));
    let (records, _) = state.store.audit_head().await?;
    m.audit_records.set(records);
    let queue = state.store.job_queue_stats(state.clock.now()).await?;
    m.jobs_queued.set(queue.depth);
    m.oldest_job_age.set(queue.oldest_age_secs);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &m.registry)
        .map_err(|_| crate::error::AppError::new(crate::error::ErrorCode::Internal))?;
    Ok(out)
}
