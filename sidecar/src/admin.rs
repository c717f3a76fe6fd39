//! The admin listener, on its own port: `/healthz`, `/readyz`, `/metrics`, `/events`.
//!
//! - `/healthz`: 200 while the process runs;
//! - `/readyz`: 200, or 503 once shutdown has begun (take it out of the load balancer) or
//!   while an OpenID provider has not been reached, with the reason;
//! - `/metrics`: the metrics in the `OpenMetrics` text format (see [`Metrics`]);
//! - `/events`: the last SSO decisions and refusals as JSON, newest first (see
//!   [`Recent`]).
//!
//! Each answers `GET` and `HEAD`; any other method gets 405, any other path 404. With
//! `admin_token`, `/metrics` and `/events` want `Authorization: Bearer <token>` (401
//! otherwise); on a loopback address, the port answers only requests addressed to a
//! loopback name (421 otherwise), so that no web page can read it through DNS rebinding.

mod access;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use axum::Router;
use axum::extract;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{Method, StatusCode};
use tokio::net::TcpListener;

use crate::metrics::Metrics;
use crate::recent::Recent;
use portal_sso::Secret;

/// What the admin listener reports and checks, shared with the server (and its reloads).
#[derive(Default)]
pub struct State {
    draining: AtomicBool,
    /// The bearer token `/metrics` and `/events` want, if any.
    token: RwLock<Option<Secret>>,
    /// Says why the sidecar cannot serve sign-ins yet, if it cannot.
    readiness: std::sync::OnceLock<Box<dyn Fn() -> Option<String> + Send + Sync>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("draining", &self.is_draining())
            .finish_non_exhaustive()
    }
}

impl State {
    /// Whether the server has begun to shut down (`/readyz` answers 503).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Says the server has begun to shut down.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Sets the bearer token `/metrics` and `/events` want from now on; `None` leaves
    /// them open.
    pub fn set_token(&self, token: Option<Secret>) {
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = token;
    }

    fn token(&self) -> Option<Secret> {
        self.token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sets what `/readyz` asks besides draining: `Some(reason)` while not ready. Only
    /// the first call counts.
    pub fn set_readiness(&self, check: impl Fn() -> Option<String> + Send + Sync + 'static) {
        let _ = self.readiness.set(Box::new(check));
    }

    /// Why the sidecar is not ready, if it is not (draining included).
    pub fn not_ready(&self) -> Option<String> {
        if self.is_draining() {
            return Some("draining".to_owned());
        }
        self.readiness.get().and_then(|check| check())
    }
}

/// What the admin routes read.
#[derive(Clone)]
struct Admin {
    state: Arc<State>,
    metrics: Arc<Metrics>,
    recent: Arc<Recent>,
    /// The address the listener is bound to.
    bound: SocketAddr,
}

/// Serves the admin endpoints on `listener` until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    metrics: Arc<Metrics>,
    recent: Arc<Recent>,
) {
    let bound = match listener.local_addr() {
        Ok(bound) => bound,
        Err(err) => {
            tracing::warn!(target: "portal_sso::admin", %err, "the admin listener has no address");
            return;
        }
    };
    let admin = Admin {
        state,
        metrics,
        recent,
        bound,
    };
    if let Err(err) = axum::serve(listener, router(admin)).await {
        tracing::warn!(target: "portal_sso::admin", %err, "the admin listener stopped");
    }
}

fn router(admin: Admin) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/events", get(events))
        .method_not_allowed_fallback(get_only)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(admin.clone(), access::guard))
        .with_state(admin)
}

async fn healthz() -> Response {
    text(StatusCode::OK, "text/plain", "ok\n".into())
}

async fn readyz(extract::State(admin): extract::State<Admin>) -> Response {
    if let Some(reason) = admin.state.not_ready() {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            format!("{reason}\n"),
        )
    } else {
        text(StatusCode::OK, "text/plain", "ready\n".into())
    }
}

/// What `/metrics` is: prometheus-client writes the `OpenMetrics` text format (counter
/// families named without `_total`, `# EOF` at the end), which Prometheus reads fully
/// typed only when it is labelled so.
const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

async fn metrics(extract::State(admin): extract::State<Admin>) -> Response {
    text(StatusCode::OK, OPENMETRICS_TEXT, admin.metrics.encode())
}

async fn events(extract::State(admin): extract::State<Admin>) -> Response {
    text(StatusCode::OK, "application/json", admin.recent.to_json())
}

async fn get_only() -> Response {
    text(
        StatusCode::METHOD_NOT_ALLOWED,
        "text/plain",
        "GET only\n".into(),
    )
}

/// An unknown path: 404, or 405 for a method other than `GET` and `HEAD`, as on the
/// known paths.
async fn not_found(method: Method) -> Response {
    if method == Method::GET || method == Method::HEAD {
        text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into())
    } else {
        get_only().await
    }
}

/// An answer that no cache keeps: each one is the state of this moment.
fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-store")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::Request;
    use http_body_util::BodyExt as _;
    use tower_service::Service as _;

    async fn ask(router: &mut Router, method: Method, path: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, "localhost:9901")
            .body(Body::empty())
            .unwrap();
        let response = router.call(request).await.unwrap();
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn answers_get_and_head_only_and_404_elsewhere() {
        let mut router = router(Admin {
            state: Arc::new(State::default()),
            metrics: Arc::new(Metrics::new()),
            recent: Arc::new(Recent::default()),
            bound: "127.0.0.1:9901".parse().unwrap(),
        });
        let cases = [
            (Method::GET, "/healthz", StatusCode::OK, "ok\n"),
            (Method::GET, "/readyz", StatusCode::OK, "ready\n"),
            (Method::GET, "/events", StatusCode::OK, "[]"),
            (Method::HEAD, "/healthz", StatusCode::OK, ""),
            (Method::GET, "/nope", StatusCode::NOT_FOUND, "not found\n"),
            (
                Method::POST,
                "/healthz",
                StatusCode::METHOD_NOT_ALLOWED,
                "GET only\n",
            ),
            (
                Method::DELETE,
                "/nope",
                StatusCode::METHOD_NOT_ALLOWED,
                "GET only\n",
            ),
        ];
        for (method, path, status, body) in cases {
            let answer = ask(&mut router, method.clone(), path).await;
            assert_eq!(answer, (status, body.to_owned()), "{method} {path}");
        }
        let (status, text) = ask(&mut router, Method::GET, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            text.contains("# TYPE portal_sso_upstream_duration_seconds histogram"),
            "{text}"
        );
    }
}
