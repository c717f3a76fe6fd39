//! "Every other request is [passed to the app], unchanged", around an axum `Router` in
//! process: requests and responses untouched, look-alike paths left to the app, the
//! inner service's readiness and errors passed on.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use common::*;
use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::{Layer as _, Service, ServiceExt as _};

/// An app that answers with what it received: method, URI, headers (in order), body length.
fn echo_app() -> Router {
    Router::new().fallback(|request: Request<Body>| async move {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let headers: Vec<_> = parts
            .headers
            .iter()
            .map(|(name, value)| json!([name.as_str(), value.to_str().unwrap()]))
            .collect();
        axum::Json(json!({
            "method": parts.method.as_str(),
            "uri": parts.uri.to_string(),
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
            "marked": parts.extensions.get::<Marker>().is_some(),
        }))
    })
}

#[derive(Clone)]
struct Marker;

#[tokio::test]
async fn other_requests_reach_the_app_with_method_uri_headers_and_body_unchanged() {
    let app = layer().layer(echo_app());
    for (method, uri) in [
        (Method::GET, "/"),
        (Method::GET, "/kb/articles?id=42&sort=desc&q=a%20b%2Bc"),
        (Method::POST, "/api/orders?dry_run=1"),
        (Method::PUT, "/api/orders/7"),
        (Method::DELETE, "/api/orders/7?force=true"),
        (Method::PATCH, "/sso"),
        (Method::OPTIONS, "*"),
    ] {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header("x-request-id", "r-1")
            .header(COOKIE, format!("sid={ALICE_SID}"))
            .header("accept", "text/html")
            .header("accept", "application/json")
            .header("x-forwarded-for", "203.0.113.9")
            .body(Body::from("payload \u{1F600}"))
            .unwrap();
        request.extensions_mut().insert(Marker);
        let sent: Vec<_> = request
            .headers()
            .iter()
            .map(|(n, v)| json!([n.as_str(), v.to_str().unwrap()]))
            .collect();
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::OK, "{method} {uri}");
        let seen: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(seen["method"], method.as_str());
        assert_eq!(seen["uri"], uri);
        assert_eq!(seen["headers"], Value::Array(sent), "{method} {uri}");
        assert_eq!(seen["body"], "payload \u{1F600}");
        assert_eq!(seen["marked"], true, "extensions reach the app");
    }
}

fn teapot_app() -> Router {
    Router::new().route(
        "/teapot",
        get(|| async {
            let mut headers = HeaderMap::new();
            headers.insert("x-app", HeaderValue::from_static("1"));
            headers.append("x-multi", HeaderValue::from_static("a"));
            headers.append("x-multi", HeaderValue::from_static("b"));
            headers.append(
                SET_COOKIE,
                HeaderValue::from_static("sid=abc; Path=/; HttpOnly"),
            );
            headers.append(SET_COOKIE, HeaderValue::from_static("theme=dark"));
            headers.insert(LOCATION, HeaderValue::from_static("/elsewhere"));
            headers.insert(
                "cache-control",
                HeaderValue::from_static("public, max-age=60"),
            );
            (StatusCode::IM_A_TEAPOT, headers, "short and stout")
        }),
    )
}

#[tokio::test]
async fn the_apps_responses_come_back_unchanged() {
    let bare = send(&teapot_app(), get_req("/teapot")).await;
    let wrapped = send(&layer().layer(teapot_app()), get_req("/teapot")).await;
    assert_eq!(wrapped.status, StatusCode::IM_A_TEAPOT);
    assert_eq!(wrapped.status, bare.status);
    assert_eq!(wrapped.headers, bare.headers);
    assert_eq!(wrapped.body, bare.body);
    assert_eq!(wrapped.body, "short and stout");
    assert!(!wrapped.headers[LOCATION].is_sensitive());
    assert_eq!(wrapped.headers.get_all(SET_COOKIE).iter().count(), 2);
}

#[tokio::test]
async fn without_a_fallback_the_apps_404_is_unchanged() {
    let bare = send(&teapot_app(), get_req("/missing?x=1")).await;
    let wrapped = send(&layer().layer(teapot_app()), get_req("/missing?x=1")).await;
    assert_eq!(bare.status, StatusCode::NOT_FOUND);
    assert_eq!(wrapped.status, bare.status);
    assert_eq!(wrapped.headers, bare.headers);
    assert_eq!(wrapped.body, bare.body);
}

// Only the exact routes are the layer's: look-alikes are the app's.
#[tokio::test]
async fn paths_that_only_look_like_sso_routes_reach_the_app() {
    let users = Users::default();
    let app = default_app(&users);
    for uri in [
        "/sso/kustomer/extra",
        "/sso/kustomerx",
        "/SSO/kustomer",
        "/sso/Kustomer",
        "/sso/kustomer/",
        "/sso/kustomer%2F",
        "/sso/%6Bustomer",
        "/sso//kustomer",
        "//sso/kustomer",
        "/sso/aha/",
        "/sso/aha/logout/x",
        "/sso/ahax?state=1",
        "/sso",
        "/prefix/sso/kustomer?kustomerRedirectUri=https://evil.com",
    ] {
        let reply = send(&app, get_as(uri, ALICE_SID)).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        assert_eq!(reply.headers["x-app"], "reached", "{uri}");
        assert_eq!(reply.text(), format!("app saw {uri}"));
    }
    assert_eq!(users.calls(), 0, "nobody looked up for the app's own pages");
}

#[tokio::test]
async fn sso_routes_never_reach_the_app() {
    let users = Users::default();
    let app = default_app(&users);
    for uri in [
        "/sso/kustomer",
        "/sso/kustomer?kustomerRedirectUri=https://evil.com",
        "/sso/aha?state=1",
        "/sso/aha/logout",
    ] {
        let reply = send(&app, get_as(uri, ALICE_SID)).await;
        assert!(!reply.headers.contains_key("x-app"), "{uri}");
        assert!(!reply.text().contains("app saw"), "{uri}");
    }
}

// The usual axum idiom: `Router::layer(sso)`.
#[tokio::test]
async fn it_works_as_an_axum_router_layer() {
    let users = Users::default();
    let app = Router::new()
        .route("/", get(|| async { "home" }))
        .route("/echo", post(|body: String| async move { body }))
        .layer(builder(&users).build().unwrap());
    let reply = send(&app, get_req("/")).await;
    assert_eq!(reply.text(), "home");
    let request = Request::post("/echo").body(Body::from("hello")).unwrap();
    assert_eq!(send(&app, request).await.text(), "hello");
    let reply = send(&app, get_as("/sso/aha", ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.location().starts_with(AHA_CALLBACK));
    let reply = send(&app, get_req("/nope")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// A service whose readiness the test controls.
#[derive(Clone)]
struct Gate {
    open: Arc<AtomicBool>,
    broken: bool,
}

impl Service<Request<Body>> for Gate {
    type Response = Response<Body>;
    type Error = &'static str;
    type Future = std::future::Ready<Result<Response<Body>, &'static str>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.broken {
            Poll::Ready(Err("inner service broke"))
        } else if self.open.load(Ordering::SeqCst) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        std::future::ready(if request.uri().path() == "/fail" {
            Err("inner call failed")
        } else {
            Ok(Response::new(Body::from("gate")))
        })
    }
}

#[test]
fn poll_ready_is_the_inner_services() {
    let open = Arc::new(AtomicBool::new(false));
    let mut sso = layer().layer(Gate {
        open: Arc::clone(&open),
        broken: false,
    });
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        sso.poll_ready(&mut cx).is_pending(),
        "inner not ready: layer not ready"
    );
    open.store(true, Ordering::SeqCst);
    assert_eq!(sso.poll_ready(&mut cx), Poll::Ready(Ok(())));

    let mut broken = layer().layer(Gate { open, broken: true });
    assert_eq!(
        broken.poll_ready(&mut cx),
        Poll::Ready(Err("inner service broke"))
    );
}

#[tokio::test]
async fn the_apps_errors_are_the_layers_errors() {
    let sso = layer().layer(Gate {
        open: Arc::new(AtomicBool::new(true)),
        broken: false,
    });
    let result = sso.clone().oneshot(get_req("/fail")).await;
    assert_eq!(result.err(), Some("inner call failed"));
    // The layer's own routes answer with a response even around a failing app.
    let response = sso.oneshot(get_req("/sso/aha")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
}
