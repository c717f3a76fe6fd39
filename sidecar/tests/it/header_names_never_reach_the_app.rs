//! Header names with `_` never reach the app, from any peer: CGI and WSGI-style frameworks
//! read `Transfer_Encoding` as `Transfer-Encoding`, and nginx drops such names by default.
//! A bare `X-Forwarded` from an untrusted peer does not reach it either. An app response
//! framed two ways (`Content-Length` and `Transfer-Encoding`) is the sidecar's 502 page.
//!
//! Requests are written as bytes on a TCP stream, and the app with the ambiguous response
//! is a TCP listener writing bytes, so that neither side is cleaned up by hyper first.

use crate::support;

use http::StatusCode;
use support::stack::setup_with;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The header names the app's `/echo` received, lower case, from its JSON answer.
fn echoed_names(head: &str, body: &str) -> Vec<String> {
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n\n{body}");
    let echo: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not the echo: {body}"));
    echo["headers"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

const UNDERSCORED: &str = "GET /echo HTTP/1.1\r\nHost: app.example\r\n\
    Transfer_Encoding: chunked\r\nContent_Length: 5\r\nX_Custom_Flag: 1\r\n\
    Accept_Language: fr\r\nx-kept: 1\r\nConnection: close\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_names_with_underscores_never_reach_the_app() {
    for trusted in ["", r#"trusted_proxies = ["127.0.0.1"]"#] {
        let (_upstream, sidecar) = setup_with(trusted, "").await;
        let (head, body) = raw_exchange(sidecar.addr, UNDERSCORED).await;
        let names = echoed_names(&head, &body);
        assert!(names.contains(&"x-kept".to_owned()), "{trusted}: {names:?}");
        let underscored: Vec<&String> = names.iter().filter(|n| n.contains('_')).collect();
        assert!(
            underscored.is_empty(),
            "{trusted}: the app got {underscored:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_x_forwarded_header_from_an_untrusted_peer_never_reaches_the_app() {
    let request = "GET /echo HTTP/1.1\r\nHost: app.example\r\nX-Forwarded: for=6.6.6.6\r\n\
                   x-forwarded: by=mallory\r\nConnection: close\r\n\r\n";
    let (_upstream, sidecar) = setup_with("", "").await;
    let (head, body) = raw_exchange(sidecar.addr, request).await;
    let names = echoed_names(&head, &body);
    assert!(!names.contains(&"x-forwarded".to_owned()), "{names:?}");
    assert!(
        !body.contains("6.6.6.6") && !body.contains("mallory"),
        "{body}"
    );
    // The sidecar's own forwarding headers are still there.
    assert!(names.contains(&"x-forwarded-for".to_owned()), "{names:?}");

    // A trusted proxy's is passed on, as its other forwarding headers are.
    let (_upstream, sidecar) = setup_with(r#"trusted_proxies = ["127.0.0.1"]"#, "").await;
    let (head, body) = raw_exchange(sidecar.addr, request).await;
    assert!(
        echoed_names(&head, &body).contains(&"x-forwarded".to_owned()),
        "{body}"
    );
}

/// An app that answers every request with `response`, and reports each request head it
/// read.
async fn app_answering(response: &'static str) -> (String, tokio::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (seen, heads) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let _ = seen.send(String::from_utf8_lossy(&head).into_owned()).await;
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (url, heads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_response_with_content_length_and_transfer_encoding_is_a_502_page() {
    // The length says one thing and the chunks another; then both agree: either way the
    // response is framed two ways, and RFC 9112 §6.3 calls that an error.
    let responses = [
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n\
         6\r\nsmuggl\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n\
         6\r\nsmuggl\r\n0\r\n\r\n",
    ];
    for response in responses {
        let (url, mut heads) = app_answering(response).await;
        let sidecar = Sidecar::start(&config(&url, &format!("{url}/api/me"), "", ""));
        let (head, body) = raw_exchange(
            sidecar.addr,
            "GET /page HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n",
        )
        .await;
        let asked = heads.recv().await.expect("the app was asked");
        assert!(asked.starts_with("GET /page HTTP/1.1\r\n"), "{asked}");
        assert!(
            head.starts_with("HTTP/1.1 502 "),
            "{response:?} gave\n{head}\n\n{body}"
        );
        let head = head.to_ascii_lowercase();
        assert!(head.contains("content-type: text/html"), "{head}");
        assert!(!head.contains("transfer-encoding: chunked\r\ncontent-length"));
        assert!(body.contains("The application failed"), "{body}");
        assert!(!body.contains("smuggl"), "{body}");

        // Through hyper's client too, and counted as an upstream error.
        let (status, _, _) = get(&sidecar.url("/page"), None).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        let (_, _, metrics) = get(&sidecar.admin_url("/metrics"), None).await;
        let metrics = String::from_utf8_lossy(&metrics);
        assert!(
            metrics.contains("portal_sso_upstream_errors_total{kind=\"ambiguous_length\"} 2"),
            "{metrics}"
        );
    }
}
