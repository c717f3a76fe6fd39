//! The app put behind the sidecar: its own login and session cookie, a "who am I"
//! endpoint, a page that fetches a widget's value, and routes that echo, stream, stall
//! and upgrade.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{self, any};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

pub const ALICE_SESSION: &str = "alice-session-7f3a9c";

/// The app behind the sidecar: its own login, a session cookie, a "who am I" endpoint,
/// an echo endpoint, large and chunked bodies, a slow endpoint and an Upgrade echo.
pub struct Upstream {
    pub addr: SocketAddr,
    pub me_calls: Arc<AtomicUsize>,
    /// Every request the app received, whatever its route.
    pub requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener)
    }

    pub async fn start_on(addr: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        Self::serve(listener)
    }

    fn serve(listener: tokio::net::TcpListener) -> Self {
        let addr = listener.local_addr().unwrap();
        let me_calls = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        let app = Router::new()
            .route("/login", routing::get(login))
            .route("/logout", routing::get(logout).post(logout))
            .route("/api/me", routing::get(me))
            .route("/widget-page", routing::get(widget_page))
            .route("/echo", any(echo))
            .route("/echo/{*rest}", any(echo))
            .route("/upload", any(upload))
            .route("/download", routing::get(download))
            .route("/chunked", routing::get(chunked))
            .route("/slow", routing::get(slow))
            .route("/ws", routing::get(ws_echo))
            .route("/trailers", any(trailers))
            .with_state(Arc::clone(&me_calls))
            .layer(axum::middleware::from_fn(
                move |request: Request, next: axum::middleware::Next| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    next.run(request)
                },
            ));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            me_calls,
            requests,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// `GET /login?next=X`: a login page; with `as=alice` the user "signs in": the session
/// cookie is set and the browser sent back to `next`.
async fn login(Query(query): Query<BTreeMap<String, String>>) -> Response {
    match (query.get("as").map(String::as_str), query.get("next")) {
        (Some("alice"), Some(next)) => Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, next)
            .header(
                header::SET_COOKIE,
                format!("sid={ALICE_SESSION}; Path=/; HttpOnly"),
            )
            .body(Body::empty())
            .unwrap(),
        _ => (StatusCode::OK, "login page").into_response(),
    }
}

/// `GET|POST /logout`: the app's own logout: ends the session and goes home.
async fn logout() -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, "/")
        .header(header::SET_COOKIE, "sid=; Path=/; Max-Age=0; HttpOnly")
        .body(Body::empty())
        .unwrap()
}

async fn me(State(calls): State<Arc<AtomicUsize>>, headers: HeaderMap) -> Response {
    calls.fetch_add(1, Ordering::SeqCst);
    if headers.contains_key("x-should-not-pass") {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    // Only the Cookie header should arrive from the sidecar's introspection.
    let cookies = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let signed_in = cookies
        .split(';')
        .any(|c| c.trim() == format!("sid={ALICE_SESSION}"));
    if signed_in {
        axum::Json(serde_json::json!({
            "email": "alice@example.com",
            "first_name": "Alice",
            "last_name": "Liddell",
            "id": 42,
            "email_verified": true,
            "avatar_url": "https://cdn.acme.example/alice.png",
        }))
        .into_response()
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

/// `GET /widget-page?url=URL`: the app's page as a widget's script runs it: it fetches
/// `URL` with the browser's cookies and shows what came back in `<main>`.
async fn widget_page(Query(query): Query<BTreeMap<String, String>>) -> Response {
    let url = query.get("url").map_or("/", String::as_str);
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        fetching_page(url),
    )
        .into_response()
}

/// A page whose script fetches `url` with `credentials: 'include'` and writes into
/// `<main>` either `status S BODY` or `failed: ERROR` (a network or CORS error).
pub fn fetching_page(url: &str) -> String {
    let url = serde_json::to_string(url).unwrap().replace("</", "<\\/");
    format!(
        "<!doctype html><html><body><main>waiting</main><script>\n\
         fetch({url}, {{ credentials: 'include' }})\n\
           .then((r) => r.text().then((t) => {{ document.querySelector('main').textContent = 'status ' + r.status + ' ' + t; }}))\n\
           .catch((e) => {{ document.querySelector('main').textContent = 'failed: ' + e.name; }});\n\
         </script></body></html>"
    )
}

async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &parts.headers {
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    axum::Json(serde_json::json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "version": format!("{:?}", parts.version),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
    .into_response()
}

/// Reads the body frame by frame and answers its length and SHA-256.
async fn upload(request: Request) -> Response {
    let mut body = request.into_body();
    let mut hasher = Sha256::new();
    let mut len = 0usize;
    let mut frames = 0usize;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            len += data.len();
            frames += 1;
            hasher.update(&data);
        }
    }
    axum::Json(serde_json::json!({
        "len": len,
        "frames": frames,
        "sha256": hex(&hasher.finalize()),
    }))
    .into_response()
}

/// Reads the body frame by frame and answers the data, the trailers that came after it,
/// and the request's `Trailer` header.
async fn trailers(request: Request) -> Response {
    let declared = request
        .headers()
        .get(header::TRAILER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut body = request.into_body();
    let mut data = Vec::new();
    let mut trailers: BTreeMap<String, String> = BTreeMap::new();
    while let Some(frame) = body.frame().await {
        match frame.unwrap().into_data() {
            Ok(chunk) => data.extend_from_slice(&chunk),
            Err(frame) => {
                for (name, value) in frame.into_trailers().into_iter().flatten() {
                    if let Some(name) = name {
                        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                        trailers.insert(name.as_str().to_owned(), value);
                    }
                }
            }
        }
    }
    axum::Json(serde_json::json!({
        "body": String::from_utf8_lossy(&data),
        "trailers": trailers,
        "trailer_header": declared,
    }))
    .into_response()
}

/// `size` bytes of a repeating pattern, streamed in 64 KiB chunks without a length.
async fn download(Query(query): Query<BTreeMap<String, String>>) -> Response {
    let size: usize = query["size"].parse().unwrap();
    let chunks = pattern(size)
        .chunks(64 * 1024)
        .map(|c| Ok::<_, Infallible>(Bytes::copy_from_slice(c)))
        .collect::<Vec<_>>();
    Body::from_stream(futures_util::stream::iter(chunks)).into_response()
}

/// Three parts, `gap_ms` apart (20 by default).
async fn chunked(Query(query): Query<BTreeMap<String, String>>) -> Response {
    let gap = Duration::from_millis(query.get("gap_ms").map_or(20, |v| v.parse().unwrap()));
    let stream = futures_util::stream::unfold(0, move |i| async move {
        if i == 3 {
            return None;
        }
        tokio::time::sleep(gap).await;
        Some((Ok::<_, Infallible>(Bytes::from(format!("part{i};"))), i + 1))
    });
    Body::from_stream(stream).into_response()
}

async fn slow(Query(query): Query<BTreeMap<String, String>>) -> Response {
    let ms: u64 = query.get("ms").map_or(1000, |v| v.parse().unwrap());
    tokio::time::sleep(Duration::from_millis(ms)).await;
    (StatusCode::OK, "slow done").into_response()
}

/// Switches to a raw byte echo (a stand-in for a WebSocket server).
async fn ws_echo(mut request: Request) -> Response {
    let wants = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !wants {
        return (StatusCode::BAD_REQUEST, "upgrade required").into_response();
    }
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let (mut read, mut write) = tokio::io::split(TokioIo::new(upgraded));
        let _ = tokio::io::copy(&mut read, &mut write).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        .body(Body::empty())
        .unwrap()
}

pub fn pattern(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| u8::try_from(i % 251).expect("below 251"))
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
