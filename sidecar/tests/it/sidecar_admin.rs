//! The sidecar's admin listener: health and readiness, and the metrics and recent events
//! that follow the sign-in flows and the proxied requests, with no token, session or
//! secret in the events or the log.

use crate::support;

use std::time::Duration;

use http::{StatusCode, header};
use support::stack::{KUSTOMER_LOGIN, alice, setup};
use support::*;

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
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let metrics = String::from_utf8_lossy(&metrics);
    // OpenMetrics, as labelled: a counter family is named without `_total`, and the
    // exposition ends with `# EOF`.
    assert!(
        metrics.contains("# TYPE portal_sso_tokens_issued counter\n"),
        "{metrics}"
    );
    assert!(metrics.ends_with("# EOF\n"), "{metrics}");
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
