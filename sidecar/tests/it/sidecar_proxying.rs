//! The sidecar binary in front of a real app, passing everything else through: methods,
//! paths, queries and headers unchanged but for hop-by-hop ones, `X-Forwarded-*` set by
//! the sidecar (extended only for a trusted proxy), large and chunked bodies streamed,
//! WebSocket upgrades tunnelled, and oversized request heads refused with 431.

use crate::support;

use http::{Method, Request, StatusCode, header};
use support::stack::{setup, setup_with};
use support::*;

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
