//! The admin listener, on its own port: `/healthz`, `/readyz`, `/metrics`, `/events`.
//!
//! - `/healthz`: 200 while the process runs;
//! - `/readyz`: 200, or 503 once shutdown has begun (take it out of the load balancer);
//! - `/metrics`: Prometheus text format (see [`Metrics`]);
//! - `/events`: the last SSO decisions as JSON, newest first (see [`Recent`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::metrics::Metrics;
use crate::recent::Recent;
use crate::server::State;

/// Serves the admin endpoints on `listener` until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    metrics: Arc<Metrics>,
    recent: Arc<Recent>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let builder = Arc::new(builder);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                tracing::warn!(target: "portal_sso::admin", %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (state, metrics, recent) = (state.clone(), metrics.clone(), recent.clone());
        let builder = Arc::clone(&builder);
        tokio::spawn(async move {
            let handler = service_fn(move |request: Request<Incoming>| {
                let response = answer(&request, &state, &metrics, &recent);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = builder
                .serve_connection(TokioIo::new(stream), handler)
                .await;
        });
    }
}

fn answer(
    request: &Request<Incoming>,
    state: &State,
    metrics: &Metrics,
    recent: &Recent,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
    }
    match request.uri().path() {
        "/healthz" => text(StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" if state.is_draining() => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "draining\n".into(),
        ),
        "/readyz" => text(StatusCode::OK, "text/plain", "ready\n".into()),
        "/metrics" => text(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.encode(),
        ),
        "/events" => text(StatusCode::OK, "application/json", recent.to_json()),
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
