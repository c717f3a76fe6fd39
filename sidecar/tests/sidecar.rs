//! The sidecar binary in front of a real app: the SSO flows read the app's session by
//! introspection, and everything else passes through unchanged.

mod support;

use std::time::{Duration, Instant};

use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KUSTOMER_LOGIN: &str = "/sso/kustomer?trackingToken=eyJhbGciOiJub25lIn0.eyJ0cmFjayI6MX0.&kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen_us";

async fn setup() -> (Upstream, Sidecar) {
    setup_with("", "").await
}

/// The app and a sidecar in front of it, with `top` and `server` lines added to the
/// config's top level and `[server]` table.
async fn setup_with(top: &str, server: &str) -> (Upstream, Sidecar) {
    let upstream = Upstream::start().await;
    let me = format!("{}/api/me", upstream.url());
    let sidecar = Sidecar::start(&config(&upstream.url(), &me, top, server));
    (upstream, sidecar)
}

/// The sidecar's exit status, once it has exited (within 10 s).
async fn exit_status(mut sidecar: Sidecar) -> std::process::ExitStatus {
    tokio::task::spawn_blocking(move || sidecar.wait(Duration::from_secs(10)))
        .await
        .unwrap()
}

fn alice() -> String {
    format!("theme=dark; sid={ALICE_SESSION}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kustomer_signs_the_email_read_from_the_apps_session() {
    let (_upstream, sidecar) = setup().await;
    let (status, headers, _) = get(&sidecar.url(KUSTOMER_LOGIN), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    let target = location(&headers);
    let (base, token) = target.split_once("&externalToken=").unwrap();
    assert_eq!(
        base,
        "https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen_us"
    );
    let claims = decode(token, KUSTOMER_SECRET);
    assert_eq!(claims["email"], "alice@example.com");
    let iat = claims["iat"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(iat.abs_diff(now) < 60);
    assert_eq!(claims.as_object().unwrap().len(), 2, "{claims}");
    // Without kustomerRedirectUri: the configured default.
    let (status, headers, _) = get(&sidecar.url("/sso/kustomer"), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location(&headers).starts_with("https://acme.kustomer.help/login?externalToken="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aha_signs_names_and_passes_state_and_return_to() {
    let (_upstream, sidecar) = setup().await;
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha?state=xyz%20123&return_to=%2Fideas%2FAPP-I-469"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    assert!(
        target.starts_with(
            "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456?jwt="
        ),
        "{target}"
    );
    assert_eq!(query_param(&target, "state").unwrap(), "xyz 123");
    assert_eq!(
        query_param(&target, "return_to").unwrap(),
        "/ideas/APP-I-469"
    );
    let claims = decode(&query_param(&target, "jwt").unwrap(), AHA_SECRET);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["first_name"], "Alice");
    assert_eq!(claims["last_name"], "Liddell");
    assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
    assert!(claims["iat"].is_u64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_goes_to_the_apps_login_and_comes_back_signed() {
    let (upstream, sidecar) = setup().await;
    let (status, headers, _) = get(&sidecar.url(KUSTOMER_LOGIN), None).await;
    assert_eq!(status, StatusCode::FOUND);
    let login = location(&headers);
    assert!(login.starts_with("/login?next="), "{login}");
    let next = query_param(&format!("http://x{login}"), "next").unwrap();
    assert_eq!(next, KUSTOMER_LOGIN);
    // No cookie: the app was never asked.
    assert_eq!(
        upstream.me_calls.load(std::sync::atomic::Ordering::SeqCst),
        0
    );

    // The login page is the app's, reached through the sidecar.
    let (status, _, body) = get(&sidecar.url(&login), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"login page");

    // The user signs in; the app sends the browser back to `next`.
    let (status, headers, _) = get(&sidecar.url(&format!("{login}&as=alice")), None).await;
    assert_eq!(status, StatusCode::FOUND);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with(&format!("sid={ALICE_SESSION}")));
    let back = location(&headers);
    assert_eq!(back, KUSTOMER_LOGIN);

    let (status, headers, _) = get(&sidecar.url(&back), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    let token = query_param(&location(&headers), "externalToken").unwrap();
    assert_eq!(
        decode(&token, KUSTOMER_SECRET)["email"],
        "alice@example.com"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_outside_the_origins_is_refused_and_nothing_signed() {
    let (_upstream, sidecar) = setup().await;
    let (status, headers, body) = get(
        &sidecar.url("/sso/kustomer?kustomerRedirectUri=https://evil.example/login"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get(header::LOCATION).is_none());
    assert!(!String::from_utf8_lossy(&body).contains("externalToken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_is_cached_by_session() {
    let (upstream, sidecar) = setup().await;
    for _ in 0..3 {
        let (status, _, _) = get(&sidecar.url("/sso/aha"), Some(&alice())).await;
        assert_eq!(status, StatusCode::FOUND);
    }
    assert_eq!(
        upstream.me_calls.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_sends_only_the_cookie_header() {
    // The app's `/api/me` answers 500 when it sees `x-should-not-pass`.
    let (_upstream, sidecar) = setup().await;
    let request = |path: &str| {
        Request::get(sidecar.url(path))
            .header(header::COOKIE, alice())
            .header("x-should-not-pass", "1")
            .body(empty())
            .unwrap()
    };
    // Proxied as is, the header reaches the app.
    let (status, _, _) = send(request("/api/me")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    // The sidecar's own call carries only the cookie: the app answers, a token is signed.
    let (status, headers, _) = send(request("/sso/aha")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(query_param(&location(&headers), "jwt").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_paths_queries_and_headers_pass_through() {
    let (_upstream, sidecar) = setup().await;
    for method in [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(sidecar.url("/echo/a/b%20c?x=1&y=%2F&x=2"))
            .header(header::HOST, "app.example:8443")
            .header("x-custom", "one")
            .header("x-custom", "two")
            .header(header::COOKIE, "a=1; b=2")
            .header(header::CONNECTION, "keep-alive, x-hop")
            .header("x-hop", "must not pass")
            .header("keep-alive", "timeout=5")
            .body(full("hello"))
            .unwrap();
        let (status, _, body) = send(request).await;
        assert_eq!(status, StatusCode::OK, "{method}");
        let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(echo["method"], method.as_str());
        assert_eq!(echo["uri"], "/echo/a/b%20c?x=1&y=%2F&x=2");
        assert_eq!(echo["body"], "hello");
        let h = &echo["headers"];
        assert_eq!(h["host"], serde_json::json!(["app.example:8443"]));
        assert_eq!(h["x-custom"], serde_json::json!(["one", "two"]));
        assert_eq!(h["cookie"], serde_json::json!(["a=1; b=2"]));
        assert!(h.get("x-hop").is_none(), "{h}");
        assert!(h.get("keep-alive").is_none(), "{h}");
        assert_eq!(
            h["x-forwarded-host"],
            serde_json::json!(["app.example:8443"])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_replace_what_an_untrusted_client_sent() {
    let (_upstream, sidecar) = setup().await;
    let request = Request::get(sidecar.url("/echo"))
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "evil.example")
        .header("x_forwarded_for", "6.6.6.6")
        .header("forwarded", "for=6.6.6.6;proto=https")
        .header("x-real-ip", "6.6.6.6")
        .header("x-portal-sso-email", "mallory@example.com")
        .header("x_portal_sso_email", "mallory@example.com")
        .body(empty())
        .unwrap();
    let (status, _, body) = send(request).await;
    assert_eq!(status, StatusCode::OK);
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let h = &echo["headers"];
    assert_eq!(h["x-forwarded-for"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(h["x-forwarded-proto"], serde_json::json!(["http"]));
    assert_eq!(
        h["x-forwarded-host"],
        serde_json::json!([sidecar.addr.to_string()])
    );
    for name in [
        "x_forwarded_for",
        "forwarded",
        "x-real-ip",
        "x-portal-sso-email",
        "x_portal_sso_email",
    ] {
        assert!(h.get(name).is_none(), "{name} passed: {h}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_extended_for_a_trusted_proxy() {
    let upstream = Upstream::start().await;
    let me = format!("{}/api/me", upstream.url());
    let sidecar = Sidecar::start(&config(
        &upstream.url(),
        &me,
        r#"trusted_proxies = ["127.0.0.0/8"]"#,
        "",
    ));
    let request = Request::get(sidecar.url("/echo"))
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-forwarded-proto", "https")
        .body(empty())
        .unwrap();
    let (_, _, body) = send(request).await;
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        echo["headers"]["x-forwarded-for"],
        serde_json::json!(["203.0.113.7, 127.0.0.1"])
    );
    assert_eq!(
        echo["headers"]["x-forwarded-proto"],
        serde_json::json!(["https"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_stream_both_ways() {
    let (_upstream, sidecar) = setup().await;
    let size = 12 * 1024 * 1024 + 7;
    let data = pattern(size);
    let expected = {
        use sha2::Digest as _;
        hex(&sha2::Sha256::digest(&data))
    };

    // Upload without a length (chunked), in 256 KiB frames.
    let request = Request::post(sidecar.url("/upload"))
        .body(streamed(&data, 256 * 1024))
        .unwrap();
    let (status, _, body) = send(request).await;
    assert_eq!(status, StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["len"], size);
    assert_eq!(answer["sha256"], expected);
    // Streamed, not buffered into one piece on the way.
    assert!(answer["frames"].as_u64().unwrap() > 1);

    // Upload with a length.
    let request = Request::put(sidecar.url("/upload"))
        .header(header::CONTENT_LENGTH, size)
        .body(full(data))
        .unwrap();
    let (_, _, body) = send(request).await;
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["len"], size);
    assert_eq!(answer["sha256"], expected);

    // Download.
    let (status, headers, body) = get(&sidecar.url(&format!("/download?size={size}")), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::TRANSFER_ENCODING], "chunked");
    assert_eq!(body.len(), size);
    assert_eq!(
        hex(&<sha2::Sha256 as sha2::Digest>::digest(&body)),
        expected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_responses_arrive_in_order() {
    let (_upstream, sidecar) = setup().await;
    let (status, headers, body) = get(&sidecar.url("/chunked"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::TRANSFER_ENCODING], "chunked");
    assert_eq!(&body[..], b"part0;part1;part2;");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrade_is_passed_through() {
    let (_upstream, sidecar) = setup().await;
    let (head, mut stream) = open_websocket(&sidecar).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    assert!(head.contains("connection: upgrade"), "{head}");
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    for message in [&b"hello"[..], &b"second message, longer"[..]] {
        echo_through(&mut stream, message).await;
    }
}

/// On SIGTERM an open WebSocket is drained like a request: it keeps working within the
/// grace period, and the process exits (0) once it has closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_open_websocket_finish_then_exits_0() {
    let (_upstream, sidecar) = setup_with("", "shutdown_grace_secs = 20").await;
    let (head, mut stream) = open_websocket(&sidecar).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    echo_through(&mut stream, b"before").await;
    sidecar.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    echo_through(&mut stream, b"while draining").await;
    let closed = Instant::now();
    drop(stream);
    assert_eq!(exit_status(sidecar).await.code(), Some(0));
    // Well before the 20 s grace period: it was waiting for the tunnel, not the clock.
    assert!(
        closed.elapsed() < Duration::from_secs(5),
        "{:?}",
        closed.elapsed()
    );
}

/// On SIGTERM a kept-alive connection with no request in flight is closed at once: the
/// process exits without waiting out the grace period for browsers to hang up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_idle_kept_alive_connections_and_exits_0() {
    let (_upstream, sidecar) = setup_with("", "shutdown_grace_secs = 20").await;
    let mut streams = Vec::new();
    for _ in 0..4 {
        let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
        stream
            .write_all(b"GET /echo HTTP/1.1\r\nHost: app.example\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
        streams.push(stream);
    }
    let stopped = Instant::now();
    sidecar.terminate();
    for stream in &mut streams {
        let mut buf = [0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "still open after SIGTERM: {read:?}"
        );
    }
    assert_eq!(exit_status(sidecar).await.code(), Some(0));
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "{:?}: waited for the grace period",
        stopped.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_is_a_502_page_then_recovers() {
    let upstream_addr = free_addr();
    let upstream_url = format!("http://{upstream_addr}");
    let sidecar = Sidecar::start(&config(
        &upstream_url,
        &format!("{upstream_url}/api/me"),
        "",
        "",
    ));
    let started = Instant::now();
    let (status, headers, body) = get(&sidecar.url("/echo"), None).await;
    let elapsed = started.elapsed();
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(String::from_utf8_lossy(&body).contains("The application is unavailable"));
    eprintln!("502 with the upstream down took {elapsed:?}");

    let _upstream = Upstream::start_on(upstream_addr).await;
    let (status, _, _) = get(&sidecar.url("/echo"), None).await;
    assert_eq!(status, StatusCode::OK);

    let (_, _, metrics) = get(&sidecar.admin_url("/metrics"), None).await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("portal_sso_upstream_errors_total{kind=\"connect\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_is_a_504() {
    let (_upstream, sidecar) = setup_with("upstream_timeout_secs = 1", "").await;
    let (status, _, body) = get(&sidecar.url("/slow?ms=3000"), None).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert!(String::from_utf8_lossy(&body).contains("did not answer in time"));

    // On one browser connection, whose timer serves all its requests: quick answers
    // pass, and each slow one is cut at the timeout, again and again.
    let mut connection = OneConnection::open(sidecar.addr).await;
    for path in [
        "/echo",
        "/slow?ms=3000",
        "/slow?ms=200",
        "/slow?ms=3000",
        "/echo",
    ] {
        let started = Instant::now();
        let (status, _) = connection.get(path).await;
        let took = started.elapsed();
        if path == "/slow?ms=3000" {
            assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{path}");
            assert!(took >= Duration::from_millis(900), "{path}: {took:?}");
            assert!(took < Duration::from_millis(2500), "{path}: {took:?}");
        } else {
            assert_eq!(status, StatusCode::OK, "{path}");
        }
    }
}

/// A body the app stops sending is cut once nothing has come for the response timeout;
/// one that keeps coming, however long in all, is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_response_body_is_cut_at_the_timeout() {
    let (_upstream, sidecar) = setup_with("upstream_timeout_secs = 1", "").await;
    // Parts 400 ms apart, 1.2 s in all: longer than the timeout, never idle that long.
    let (status, _, body) = get(&sidecar.url("/chunked?gap_ms=400"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"part0;part1;part2;");

    // The head at once, then nothing for 3 s.
    let started = Instant::now();
    let response = client()
        .request(
            Request::get(sidecar.url("/chunked?gap_ms=3000"))
                .body(empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cut = response.into_body().collect().await;
    let took = started.elapsed();
    assert!(cut.is_err(), "the stalled body was passed on as complete");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");

    let (_, _, metrics) = get(&sidecar.admin_url("/metrics"), None).await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("portal_sso_upstream_errors_total{kind=\"body_timeout\"} 1"),
        "{metrics}"
    );
    // Written just after the count, through a pipe the test reads on its own thread.
    let log = sidecar.log_once_it_has("upstream response body stalled", Duration::from_secs(5));
    assert!(log.contains("upstream response body stalled"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_down_is_a_503_not_a_login_loop() {
    let upstream = Upstream::start().await;
    let dead = format!("http://{}/api/me", free_addr());
    let sidecar = Sidecar::start(&config(&upstream.url(), &dead, "", ""));
    let (status, headers, body) = get(&sidecar.url(KUSTOMER_LOGIN), Some(&alice())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::LOCATION).is_none());
    let body = String::from_utf8_lossy(&body);
    assert!(!body.contains(ALICE_SESSION));

    // An endpoint answering 200 with a body that is not JSON (the login page) is
    // unavailable too, not "signed out".
    let sidecar = Sidecar::start(&config(
        &upstream.url(),
        &format!("{}/login", upstream.url()),
        "",
        "",
    ));
    let (status, headers, _) = get(&sidecar.url("/sso/aha"), Some(&alice())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::LOCATION).is_none());
    let log = sidecar.log_once_it_has("identity_error", Duration::from_secs(5));
    assert!(log.contains("identity_error"), "{log}");
    assert!(!log.contains(ALICE_SESSION), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_events_follow_the_flows() {
    let (_upstream, sidecar) = setup().await;
    let (status, _, _) = get(&sidecar.admin_url("/healthz"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = get(&sidecar.admin_url("/readyz"), None).await;
    assert_eq!(status, StatusCode::OK);

    // login required, then a token, then a refused redirect, then a proxied request.
    get(&sidecar.url(KUSTOMER_LOGIN), None).await;
    let (_, headers, _) = get(&sidecar.url(KUSTOMER_LOGIN), Some(&alice())).await;
    let token = query_param(&location(&headers), "externalToken").unwrap();
    get(
        &sidecar.url("/sso/kustomer?kustomerRedirectUri=https://evil.example/"),
        Some(&alice()),
    )
    .await;
    get(&sidecar.url("/echo"), None).await;

    let (status, headers, metrics) = get(&sidecar.admin_url("/metrics"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let metrics = String::from_utf8_lossy(&metrics);
    for line in [
        "portal_sso_tokens_issued_total{portal=\"kustomer\"} 1",
        "portal_sso_login_redirects_total{portal=\"kustomer\"} 1",
        "portal_sso_redirects_rejected_total{portal=\"kustomer\"} 1",
        "portal_sso_http_requests_total{route=\"sso\",status=\"3xx\"} 2",
        "portal_sso_http_requests_total{route=\"sso\",status=\"4xx\"} 1",
        "portal_sso_http_requests_total{route=\"proxy\",status=\"2xx\"} 1",
        "portal_sso_events_total{event=\"token_issued\",portal=\"kustomer\"} 1",
        "portal_sso_identity_duration_seconds_count 2",
        "portal_sso_upstream_duration_seconds_count 1",
        "portal_sso_upstream_duration_seconds_bucket{le=\"+Inf\"} 1",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    assert!(metrics.contains("portal_sso_upstream_duration_seconds_bucket"));

    let (status, _, events) = get(&sidecar.admin_url("/events"), None).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8_lossy(&events).into_owned();
    let events: serde_json::Value = serde_json::from_str(&text).unwrap();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["redirect_rejected", "token_issued", "login_required"]
    );
    let issued = &events[1];
    assert_eq!(issued["portal"], "kustomer");
    assert_eq!(issued["path"], "/sso/kustomer");
    assert_eq!(issued["email"], "a***@example.com");
    assert_eq!(issued["target_origin"], "https://acme.kustomer.help");
    assert!(issued["time"].as_str().unwrap().ends_with('Z'));
    // The last decision's line read from the pipe: every earlier line is in too.
    let log = sidecar.log_once_it_has("redirect_rejected", Duration::from_secs(5));
    assert!(log.contains("redirect_rejected"), "{log}");
    for secret in [
        token.as_str(),
        ALICE_SESSION,
        KUSTOMER_SECRET,
        "eyJhbGciOiJub25lIn0",
        "alice@example.com",
    ] {
        assert!(!text.contains(secret), "/events leaks {secret}");
        assert!(!log.contains(secret), "the log leaks {secret}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let (_upstream, sidecar) = setup().await;
    let url = sidecar.url("/slow?ms=1500");
    let in_flight = tokio::spawn(async move { get(&url, None).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    sidecar.terminate();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _, _) = get(&sidecar.admin_url("/readyz"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"slow done");
    assert_eq!(exit_status(sidecar).await.code(), Some(0));
}

/// A browser that asks for a large response and reads none of it (a slow-read attack)
/// has its connection closed once its socket has been full for the send timeout: the
/// response ends short instead of holding the connection for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_stops_reading_is_closed_at_the_send_timeout() {
    const SIZE: usize = 48 * 1024 * 1024;
    let (_upstream, sidecar) = setup_with("", "send_timeout_secs = 1").await;
    let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
    stream
        .write_all(
            format!("GET /download?size={SIZE} HTTP/1.1\r\nHost: app.example\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    // Read nothing while the kernel's buffers fill and the timeout runs out.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut received = 0;
    let mut buf = vec![0u8; 256 * 1024];
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received += n,
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the connection was still open after 20 s");
    assert!(
        received < SIZE,
        "{received} bytes: the whole response arrived, the connection was not cut"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_connection_is_closed_at_the_header_timeout() {
    let (_upstream, sidecar) = setup_with("", "header_read_timeout_secs = 2").await;
    let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
    let head = b"GET /echo HTTP/1.1\r\nHost: app.example\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut closed_after = None;
    for byte in head {
        if stream.write_all(&[*byte]).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 256];
        // Still open means a timeout or some bytes (an error response such as 408 may
        // come before the close).
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await
        {
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("the connection was never closed");
    eprintln!("slowloris connection closed after {closed_after:?}");
    // Closed at the timeout, long before the whole head (about 80 bytes, one a second)
    // was sent.
    assert!(
        closed_after >= Duration::from_millis(1800),
        "{closed_after:?}"
    );
    assert!(closed_after < Duration::from_secs(4), "{closed_after:?}");
}

/// The header read timeout counts only while the connection waits for a request head:
/// from the end of one response to the next head. A slow answer from the app, or a
/// response body that streams for longer than the timeout, is not cut short, and a
/// kept-alive connection left idle is closed once the timeout has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_timeout_runs_only_between_requests() {
    let (_upstream, sidecar) = setup_with("", "header_read_timeout_secs = 1").await;
    let mut connection = OneConnection::open(sidecar.addr).await;

    // The app takes 1.5 s to answer: longer than the header timeout.
    let started = Instant::now();
    let (status, body) = connection.get("/slow?ms=1500").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"slow done");
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // A body streaming for about 1.5 s on the same connection.
    let started = Instant::now();
    let (status, body) = connection.get("/chunked?gap_ms=500").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"part0;part1;part2;");
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // Within the timeout, the connection still takes a request.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, _) = connection.get("/echo").await;
    assert_eq!(status, StatusCode::OK);
    let answered = Instant::now();
    assert!(
        !connection.closed.is_finished(),
        "closed while a request was expected"
    );

    // Then nothing: the sidecar closes the connection after about a second.
    let closed_at = tokio::time::timeout(Duration::from_secs(10), connection.closed)
        .await
        .expect("the idle connection was never closed")
        .unwrap();
    let idle = closed_at.duration_since(answered);
    eprintln!("idle connection closed after {idle:?}");
    assert!(idle >= Duration::from_millis(800), "{idle:?}");
    assert!(idle < Duration::from_secs(3), "{idle:?}");
}

/// The config with the `introspect` line replaced by `source`.
fn config_with_source(upstream: &Upstream, source: &str) -> String {
    let me = format!("{}/api/me", upstream.url());
    let text = config(&upstream.url(), &me, "", "");
    let line = text
        .lines()
        .find(|l| l.starts_with("introspect = "))
        .unwrap()
        .to_owned();
    text.replace(&line, source)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_session_cookie_is_verified_and_read() {
    const APP_KEY: &str = "the-apps-own-session-signing-key-0123456789";
    let upstream = Upstream::start().await;
    let config = config_with_source(
        &upstream,
        r#"jwt = { secret = { env = "APP_JWT_SECRET" }, algorithm = "HS256" }"#,
    );
    let sidecar = Sidecar::start_with_env(&config, &[("APP_JWT_SECRET", APP_KEY)]);
    let session = |key: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"email": "bob@example.com", "first_name": "Bob"}),
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    };
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha"),
        Some(&format!("sid={}", session(APP_KEY))),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let claims = decode(
        &query_param(&location(&headers), "jwt").unwrap(),
        AHA_SECRET,
    );
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["first_name"], "Bob");
    assert_eq!(claims["last_name"], "");
    // A cookie signed with another key is no session: off to the login page.
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha"),
        Some(&format!(
            "sid={}",
            session("a-forged-key-a-forged-key-a-forged-key")
        )),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location(&headers).starts_with("/login?next="));
}

/// An app whose session tokens carry `aud` and `iss` names them in the config; a token
/// for another audience or from another issuer is no session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_session_cookie_with_audience_and_issuer_is_checked_against_the_config() {
    const APP_KEY: &str = "the-apps-own-session-signing-key-0123456789";
    let upstream = Upstream::start().await;
    let session = |aud: &str, iss: &str| {
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"email": "dave@example.com", "aud": aud, "iss": iss}),
            &jsonwebtoken::EncodingKey::from_secret(APP_KEY.as_bytes()),
        )
        .unwrap();
        format!("sid={token}")
    };
    let signs_in = |status: StatusCode, headers: &http::HeaderMap| {
        status == StatusCode::FOUND && location(headers).contains("jwt=")
    };

    // Without `audience`, a token carrying `aud` is refused (RFC 7519).
    let plain = config_with_source(
        &upstream,
        r#"jwt = { secret = { env = "APP_JWT_SECRET" } }"#,
    );
    let sidecar = Sidecar::start_with_env(&plain, &[("APP_JWT_SECRET", APP_KEY)]);
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha"),
        Some(&session("portal-sso", "https://app.example")),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location(&headers).starts_with("/login?next="),
        "{headers:?}"
    );

    let named = config_with_source(
        &upstream,
        r#"jwt = { secret = { env = "APP_JWT_SECRET" }, audience = ["web", "portal-sso"], issuer = "https://app.example" }"#,
    );
    let sidecar = Sidecar::start_with_env(&named, &[("APP_JWT_SECRET", APP_KEY)]);
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha"),
        Some(&session("portal-sso", "https://app.example")),
    )
    .await;
    assert!(signs_in(status, &headers), "{status} {headers:?}");
    let claims = decode(
        &query_param(&location(&headers), "jwt").unwrap(),
        AHA_SECRET,
    );
    assert_eq!(claims["email"], "dave@example.com");
    for (aud, iss) in [
        ("billing", "https://app.example"),
        ("portal-sso", "https://evil.example"),
    ] {
        let (status, headers, _) = get(&sidecar.url("/sso/aha"), Some(&session(aud, iss))).await;
        assert_eq!(status, StatusCode::FOUND, "{aud} {iss}");
        assert!(
            location(&headers).starts_with("/login?next="),
            "{aud} {iss}: {headers:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_session_cookie_is_verified_and_read() {
    use base64::Engine as _;
    let master = [42u8; 64];
    let encoded = base64::engine::general_purpose::STANDARD.encode(master);
    let upstream = Upstream::start().await;
    let config = config_with_source(
        &upstream,
        r#"signed = { key = { env = "APP_COOKIE_KEY" }, mode = "signed" }"#,
    );
    let sidecar = Sidecar::start_with_env(&config, &[("APP_COOKIE_KEY", &encoded)]);
    let mut jar = cookie::CookieJar::new();
    jar.signed_mut(&cookie::Key::from(&master))
        .add(cookie::Cookie::new(
            "sid",
            r#"{"email":"carol@example.com"}"#,
        ));
    let value = jar.get("sid").unwrap().value().to_owned();
    let (status, headers, _) =
        get(&sidecar.url("/sso/kustomer"), Some(&format!("sid={value}"))).await;
    assert_eq!(status, StatusCode::FOUND);
    let token = query_param(&location(&headers), "externalToken").unwrap();
    assert_eq!(
        decode(&token, KUSTOMER_SECRET)["email"],
        "carol@example.com"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_are_refused_with_431() {
    let (_upstream, sidecar) = setup_with("", "max_header_bytes = 16384").await;
    let request = Request::get(sidecar.url("/echo"))
        .header("x-big", "a".repeat(20 * 1024))
        .body(empty())
        .unwrap();
    let (status, _, _) = send(request).await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let request = Request::get(sidecar.url("/echo"))
        .header("x-big", "a".repeat(8 * 1024))
        .body(empty())
        .unwrap();
    let (status, _, _) = send(request).await;
    assert_eq!(status, StatusCode::OK);
}
