//! Requests an attacker can send through the sidecar, one class per test, each checked
//! by what the app received (the headers `/echo` saw), the status and the body.
//!
//! Requests that hyper's client will not write (two `Host` lines, trailers, absolute-form
//! targets, header names in mixed case) are written as bytes on a TCP stream.

use crate::support;

use std::time::{Duration, Instant};

use http::{Request, StatusCode, header};
use support::stack::setup_with;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Writes `request` (which asks to close the connection) and reads the whole answer: its
/// status and the body after the head.
async fn raw(sidecar: &Sidecar, request: &str) -> (u16, String) {
    let (head, body) = raw_exchange(sidecar.addr, request).await;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {head:?}"));
    (status, body)
}

/// The headers the app's `/echo` received, from its JSON answer.
fn echoed_headers(body: &str) -> serde_json::Map<String, serde_json::Value> {
    let echo: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not the echo: {body}"));
    echo["headers"].as_object().unwrap().clone()
}

/// The names that carry claims about the request or the user, as an attacker might
/// spell them: mixed case, `-` or `_`.
const FORWARDING_NAMES: &[&str] = &[
    "X-Forwarded-For",
    "x-forwarded-proto",
    "X-FORWARDED-HOST",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "X-Forwarded-Ssl",
    "X-Forwarded-Scheme",
    "X-Forwarded-Server",
    "X-Forwarded-Uri",
    "X-Forwarded-User",
    "X-Forwarded-Email",
    "X-Forwarded-Groups",
    "X-Forwarded-Access-Token",
    "X-Forwarded-Client-Cert",
    "X-Forwarded-Anything-New",
    "X_Forwarded_For",
    "x_forwarded_user",
    "X-Forwarded_Email",
    "X_FORWARDED_PREFIX",
    "Forwarded",
    "X-Original-URL",
    "X_Original_Url",
    "X-Rewrite-URL",
    "x_rewrite_url",
    "X-Real-IP",
    "X_Real_Ip",
    "True-Client-IP",
    "true_client_ip",
    "X-Client-IP",
    "X_Client_IP",
    "X-Cluster-Client-IP",
    "x_cluster_client_ip",
    "CF-Connecting-IP",
    "Cf_Connecting_Ip",
    "Remote-User",
    "REMOTE_USER",
    "X-Auth-Request-User",
    "X-Auth-Request-Email",
    "X-Auth-Request-Groups",
    "X-Auth-Request-Access-Token",
    "x_auth_request_user",
    "X-Auth_Request-Email",
    "X-Portal-Sso-User",
    "x_portal_sso_email",
];

/// A GET for `/echo` from an attacker who sends every name in [`FORWARDING_NAMES`].
fn request_claiming_everything() -> String {
    use std::fmt::Write as _;
    let mut request = String::from("GET /echo HTTP/1.1\r\nHost: app.example\r\n");
    for name in FORWARDING_NAMES {
        let _ = write!(request, "{name}: mallory@evil.example\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    request
}

/// Whether `name` (lower case, as the app saw it) is one of the names sent.
fn was_sent(name: &str) -> bool {
    FORWARDING_NAMES
        .iter()
        .any(|sent| sent.eq_ignore_ascii_case(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class2_untrusted_forwarding_headers_are_stripped() {
    let (_upstream, sidecar) = setup_with("", "").await;
    let (status, body) = raw(&sidecar, &request_claiming_everything()).await;
    assert_eq!(status, 200, "{body}");
    let h = echoed_headers(&body);
    // The three the sidecar sets, with its own values.
    assert_eq!(h["x-forwarded-for"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(h["x-forwarded-proto"], serde_json::json!(["http"]));
    assert_eq!(h["x-forwarded-host"], serde_json::json!(["app.example"]));
    let passed: Vec<&String> = h
        .keys()
        .filter(|name| was_sent(name))
        .filter(|name| {
            !["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"].contains(&name.as_str())
        })
        .collect();
    assert!(passed.is_empty(), "reached the app: {passed:?}\n{h:?}");
    assert!(
        !body.contains("mallory"),
        "an attacker's value reached the app: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class2_a_trusted_proxys_headers_are_kept_but_not_underscore_or_reserved_ones() {
    let (_upstream, sidecar) = setup_with(r#"trusted_proxies = ["127.0.0.1"]"#, "").await;
    let request = "GET /echo HTTP/1.1\r\nHost: app.example\r\n\
                   X-Forwarded-For: 203.0.113.7\r\n\
                   X-Forwarded-Proto: https\r\n\
                   X-Forwarded-User: alice@example.com\r\n\
                   X-Auth-Request-Email: alice@example.com\r\n\
                   X_Forwarded_User: mallory@evil.example\r\n\
                   X-Forwarded_Email: mallory@evil.example\r\n\
                   REMOTE_USER: mallory@evil.example\r\n\
                   X-Portal-Sso-User: mallory@evil.example\r\n\
                   x_portal_sso_email: mallory@evil.example\r\n\
                   Connection: close\r\n\r\n";
    let (status, body) = raw(&sidecar, request).await;
    assert_eq!(status, 200, "{body}");
    let h = echoed_headers(&body);
    assert_eq!(
        h["x-forwarded-for"],
        serde_json::json!(["203.0.113.7, 127.0.0.1"])
    );
    assert_eq!(h["x-forwarded-proto"], serde_json::json!(["https"]));
    assert_eq!(
        h["x-forwarded-user"],
        serde_json::json!(["alice@example.com"])
    );
    assert_eq!(
        h["x-auth-request-email"],
        serde_json::json!(["alice@example.com"])
    );
    for name in [
        "x_forwarded_user",
        "x-forwarded_email",
        "remote_user",
        "x-portal-sso-user",
        "x_portal_sso_email",
    ] {
        assert!(h.get(name).is_none(), "{name} reached the app: {h:?}");
    }
    assert!(!body.contains("mallory"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class7_two_host_headers_are_refused_on_every_route() {
    let (upstream, sidecar) = setup_with("", "").await;
    for path in ["/echo", "/sso/kustomer", "/sso/aha"] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: app.example\r\nHost: evil.example\r\n\
             Cookie: sid={ALICE_SESSION}\r\nConnection: close\r\n\r\n"
        );
        let (status, body) = raw(&sidecar, &request).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("<h1>"), "{path}: not a page: {body}");
        assert!(!body.contains("evil.example"), "{path}: {body}");
    }
    assert_eq!(
        upstream.requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the app was called"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class7_an_absolute_form_target_for_another_host_is_refused() {
    let (upstream, sidecar) = setup_with("", "").await;
    for path in ["/echo", "/sso/kustomer"] {
        let request = format!(
            "GET http://evil.example{path} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n"
        );
        let (status, body) = raw(&sidecar, &request).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
    assert_eq!(
        upstream.requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the app was called"
    );

    // The same authority, in another case: served.
    let request =
        "GET http://APP.example/echo HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n";
    let (status, body) = raw(&sidecar, request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        echoed_headers(&body)["x-forwarded-host"],
        serde_json::json!(["app.example"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class8_request_trailers_are_not_forwarded() {
    let (_upstream, sidecar) = setup_with("", "").await;
    let request = "POST /trailers HTTP/1.1\r\nHost: app.example\r\n\
                   Transfer-Encoding: chunked\r\n\
                   Trailer: X-Forwarded-User, X-Portal-Sso-User, X-Forwarded-For\r\n\
                   Connection: close\r\n\r\n\
                   5\r\nhello\r\n6\r\n world\r\n0\r\n\
                   X-Forwarded-User: admin@example.com\r\n\
                   X-Portal-Sso-User: admin@example.com\r\n\
                   X-Forwarded-For: 10.0.0.1\r\n\r\n";
    let (status, body) = raw(&sidecar, request).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["body"], "hello world");
    assert_eq!(answer["trailers"], serde_json::json!({}), "{answer}");
    assert_eq!(
        answer["trailer_header"],
        serde_json::Value::Null,
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class9_tunnels_count_against_max_connections() {
    let (_upstream, sidecar) = setup_with("", "max_connections = 2").await;
    let mut first = upgraded_websocket(&sidecar).await;
    let mut second = upgraded_websocket(&sidecar).await;
    echo_through(&mut first, b"one").await;
    echo_through(&mut second, b"two").await;

    // Both slots are held by the tunnels: a third connection waits.
    let mut third = TcpStream::connect(sidecar.addr).await.unwrap();
    third
        .write_all(b"GET /echo HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let early = tokio::time::timeout(Duration::from_secs(1), third.read_to_end(&mut answer)).await;
    assert!(
        early.is_err(),
        "served while both tunnels were open: {:?}",
        String::from_utf8_lossy(&answer)
    );

    // One tunnel closes: its slot serves the waiting connection.
    drop(first);
    tokio::time::timeout(Duration::from_secs(5), third.read_to_end(&mut answer))
        .await
        .expect("served once a tunnel closed")
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    echo_through(&mut second, b"still open").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class9_an_idle_tunnel_is_closed_and_a_busy_one_is_kept() {
    let (_upstream, sidecar) = setup_with("", "tunnel_idle_timeout_secs = 1").await;
    let mut idle = upgraded_websocket(&sidecar).await;
    let mut busy = upgraded_websocket(&sidecar).await;
    let opened = Instant::now();

    let closed = tokio::spawn(async move {
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(3), idle.read(&mut buf)).await;
        (read.map(|r| r.map_err(|e| e.kind())), opened.elapsed())
    });
    while opened.elapsed() < Duration::from_millis(2500) {
        echo_through(&mut busy, b"ping").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    echo_through(&mut busy, b"still open").await;

    let (read, after) = closed.await.unwrap();
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "the idle tunnel was not closed within 3 s: {read:?}"
    );
    assert!(
        after >= Duration::from_millis(900),
        "closed too soon: {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2c_upgrade_is_forwarded_as_a_plain_request() {
    let (_upstream, sidecar) = setup_with("", "").await;
    let request = Request::get(sidecar.url("/echo"))
        .header(header::HOST, "app.example")
        .header(header::CONNECTION, "Upgrade, HTTP2-Settings")
        .header(header::UPGRADE, "h2c")
        .header("http2-settings", "AAMAAABkAARAAAAAAAIAAAAA")
        .body(empty())
        .unwrap();
    let (status, headers, body) = send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::UPGRADE).is_none(), "{headers:?}");
    let h = echoed_headers(std::str::from_utf8(&body).unwrap());
    for name in ["upgrade", "http2-settings", "connection"] {
        assert!(h.get(name).is_none(), "{name} reached the app: {h:?}");
    }
}

/// A WebSocket opened through the sidecar, once its 101 head has arrived.
async fn upgraded_websocket(sidecar: &Sidecar) -> TcpStream {
    let (head, stream) = open_websocket(sidecar).await;
    assert!(head.starts_with("http/1.1 101"), "{head:?}");
    stream
}
