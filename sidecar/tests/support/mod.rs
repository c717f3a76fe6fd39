//! A real app to put behind the sidecar, the sidecar binary itself, and an HTTP client.
#![allow(dead_code)] // each test file uses a different part of this module

pub mod front;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{self, any};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sha2::{Digest, Sha256};

pub const KUSTOMER_SECRET: &str = "kustomer-knowledge-base-secret-0123456789abcdef";
pub const AHA_SECRET: &str = "aha-shared-secret-from-the-jwt-screen-0123456789";
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
        }))
        .into_response()
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
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

/// A port nothing listens on (bound, then released).
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A directory of its own under the system's temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "portal-sso-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const BIN: &str = env!("CARGO_BIN_EXE_portal-sso");

/// The environment the sidecar reads its secrets from.
pub fn secret_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("KUSTOMER_SSO_SECRET", KUSTOMER_SECRET),
        ("AHA_SSO_SECRET", AHA_SECRET),
    ]
}

/// A config for `upstream` with both portals, introspection on `/api/me`, and an admin
/// listener; `extra` is appended at the top level (before the tables).
pub fn config(upstream: &str, introspect_url: &str, top: &str, server: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{upstream}"
admin_listen = "127.0.0.1:0"
{top}

[server]
{server}

[session]
cookie = "sid"
introspect = {{ url = "{introspect_url}", cache_ttl_secs = 30, timeout_ms = 1000 }}

[session.claims]
email = "/email"
first_name = "/first_name"
last_name = "/last_name"

[login]
url = "/login"
return_param = "next"

[[portal]]
kind = "kustomer"
secret = {{ env = "KUSTOMER_SSO_SECRET" }}
redirect_origins = ["https://acme.kustomer.help"]
default_redirect = "https://acme.kustomer.help/login"

[[portal]]
kind = "aha"
secret = {{ env = "AHA_SSO_SECRET" }}
callback_url = "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456"
"#
    )
}

/// The sidecar binary, running.
pub struct Sidecar {
    child: Child,
    pub addr: SocketAddr,
    pub admin: Option<SocketAddr>,
    log: Arc<Mutex<String>>,
    dir: TempDir,
}

impl Sidecar {
    /// Starts `portal-sso serve` with `config` and the secrets in its environment, and
    /// waits for its start line.
    pub fn start(config: &str) -> Self {
        Self::start_with_env(config, &[])
    }

    /// Starts the sidecar with more environment variables.
    pub fn start_with_env(config: &str, env: &[(&str, &str)]) -> Self {
        let dir = TempDir::new();
        let path = dir.write("portal-sso.toml", config);
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--config")
            .arg(&path)
            .envs(secret_env())
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .env_remove("PORTAL_SSO_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("portal-sso started")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(line.clone());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the sidecar did not start; its log:\n{}",
                log.lock().unwrap()
            );
        };
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|token| token.strip_prefix(name))
                .map(|v| v.trim_matches(|c| c == '"' || c == ','))
                .map(str::to_owned)
        };
        let addr = field("listen=").unwrap().parse().unwrap();
        let admin = field("admin_listen=").and_then(|a| a.parse().ok());
        Self {
            child,
            addr,
            admin,
            log,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin.expect("an admin listener"))
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it contains `needle`, or as it is after `limit`: the line is written
    /// before the response leaves, but the pipe reader may not have taken it in yet.
    pub fn log_once_it_has(&self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let log = self.log();
            if log.contains(needle) || Instant::now() >= deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM to the sidecar process.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends the signal `name` (`HUP`, `TERM`) to the sidecar process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The config file the sidecar was started with, to be rewritten before a reload.
    pub fn config_path(&self) -> PathBuf {
        self.dir.0.join("portal-sso.toml")
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the sidecar did not exit"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the binary with `args` to completion.
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("PORTAL_SSO_CONFIG")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub type TestBody = BoxBody<Bytes, Infallible>;

/// A plain HTTP/1.1 client that does not follow redirects.
pub fn client() -> Client<HttpConnector, TestBody> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub fn empty() -> TestBody {
    Full::new(Bytes::new()).boxed()
}

pub fn full(data: impl Into<Bytes>) -> TestBody {
    Full::new(data.into()).boxed()
}

/// `data` as a stream of `chunk`-byte frames, with no length known in advance.
pub fn streamed(data: &[u8], chunk: usize) -> TestBody {
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = data
        .chunks(chunk)
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames)).boxed()
}

/// Sends a GET with optional `Cookie` and returns status, headers and body.
pub async fn get(url: &str, cookie: Option<&str>) -> (StatusCode, HeaderMap, Bytes) {
    let mut request = http::Request::get(url);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(request.body(empty()).unwrap()).await
}

pub async fn send(request: http::Request<TestBody>) -> (StatusCode, HeaderMap, Bytes) {
    let response = client().request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, body)
}

/// The `Location` header.
/// One HTTP/1.1 connection to `addr`, for what happens to the requests of a single
/// browser connection. `closed` finishes, with the time, when the connection closes.
pub struct OneConnection {
    sender: hyper::client::conn::http1::SendRequest<TestBody>,
    pub closed: tokio::task::JoinHandle<Instant>,
}

impl OneConnection {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        let closed = tokio::spawn(async move {
            let _ = connection.await;
            Instant::now()
        });
        Self { sender, closed }
    }

    /// `GET path` on this connection: the status and the whole body.
    pub async fn get(&mut self, path: &str) -> (StatusCode, Bytes) {
        let request = http::Request::get(path)
            .header(header::HOST, "app.example")
            .body(empty())
            .unwrap();
        self.sender.ready().await.unwrap();
        let response = self
            .sender
            .send_request(request)
            .await
            .unwrap_or_else(|err| panic!("{path}: {err:?}"));
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, body)
    }
}

pub fn location(headers: &HeaderMap) -> String {
    headers[header::LOCATION].to_str().unwrap().to_owned()
}

/// Decodes an HS256 token with `secret`, checking the signature and header.
pub fn decode(token: &str, secret: &str) -> serde_json::Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims
}

/// The value of query parameter `name` in `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Opens a WebSocket through the sidecar (the app's `/ws` is a byte echo): the response
/// head, lower-cased, and the stream after it.
pub async fn open_websocket(sidecar: &Sidecar) -> (String, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("the response head within 5 s")
            .unwrap();
        assert_eq!(read, 1, "closed during the head");
        head.push(byte[0]);
    }
    (
        String::from_utf8(head).unwrap().to_ascii_lowercase(),
        stream,
    )
}

/// Sends `message` down a tunnel and reads it back from the app's echo.
pub async fn echo_through(stream: &mut tokio::net::TcpStream, message: &[u8]) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    stream.write_all(message).await.unwrap();
    let mut echoed = vec![0u8; message.len()];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut echoed))
        .await
        .expect("echo within 5 s")
        .unwrap();
    assert_eq!(echoed, message);
}

/// The path of a test-only key under the repository's `tests/keys/`.
pub fn key_path(name: &str) -> String {
    format!("{}/../tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Asserts that `claims` (a JSON object) has exactly the names `names`, in any order;
/// `label` says which token failed.
pub fn assert_claim_names(label: &str, claims: &serde_json::Value, names: &[&str]) {
    let mut found: Vec<&str> = claims
        .as_object()
        .unwrap_or_else(|| panic!("{label}: claims are not an object: {claims}"))
        .keys()
        .map(String::as_str)
        .collect();
    found.sort_unstable();
    let mut names = names.to_vec();
    names.sort_unstable();
    assert_eq!(found, names, "{label}: {claims}");
}
