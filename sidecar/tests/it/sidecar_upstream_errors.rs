//! The sidecar binary when the app fails it: an app that is down is a 502 page until it
//! is back, a slow answer is a 504, and a response body that stalls is cut at the
//! timeout.

use crate::support;

use std::time::{Duration, Instant};

use http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use support::stack::setup_with;
use support::*;

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
