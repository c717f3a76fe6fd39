//! `portal-sso demo` runs the real sidecar: the app's pages reach the browser through it
//! (its forwarding headers, its request counts on the admin port), its SSO decisions are
//! on `/events`, the app's "who am I" answers through it, a taken sidecar or admin port
//! is named, and stopping the demo frees every port.

use crate::support;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use http::{StatusCode, header};
use support::demo::{Browser, Demo, free_base_port, sign_in_through_kustomer};

/// The value of the counter line starting with `name` in the admin's `/metrics`.
async fn counter(demo: &Demo, name: &str) -> u64 {
    let (status, _, body) = support::get(&demo.admin("/metrics"), None).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = String::from_utf8(body.to_vec()).unwrap();
    let line = metrics
        .lines()
        .find(|line| line.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in\n{metrics}"));
    line[name.len()..].trim().parse().unwrap()
}

const PROXIED_2XX: &str = "portal_sso_http_requests_total{route=\"proxy\",status=\"2xx\"}";
const SSO_3XX: &str = "portal_sso_http_requests_total{route=\"sso\",status=\"3xx\"}";

#[tokio::test]
async fn the_app_is_served_through_the_sidecar() {
    let demo = Demo::start().await;

    // The sidecar replaces what an untrusted client says in X-Forwarded-* with its own.
    let request = http::Request::get(demo.app("/"))
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-forwarded-host", "evil.example")
        .body(support::empty())
        .unwrap();
    let (status, _, body) = support::send(request).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(body.to_vec()).unwrap();
    let expected = format!(
        "through the portal-sso sidecar: X-Forwarded-For <code>127.0.0.1</code>, \
         X-Forwarded-Host <code>127.0.0.1:{}</code>, X-Forwarded-Proto <code>http</code>.",
        demo.port
    );
    assert!(page.contains(&expected), "{page}");
    assert!(!page.contains("203.0.113.9") && !page.contains("evil.example"));

    // Every page of the app is a request the sidecar forwarded and counted.
    let (status, _, _) = support::get(&demo.admin("/healthz"), None).await;
    assert_eq!(status, StatusCode::OK);
    let before = counter(&demo, PROXIED_2XX).await;
    let mut browser = Browser::new();
    for _ in 0..3 {
        assert_eq!(browser.get(&demo.app("/")).await.status, StatusCode::OK);
    }
    assert_eq!(counter(&demo, PROXIED_2XX).await, before + 3);
    demo.stop().await;
}

#[tokio::test]
async fn sign_in_is_answered_by_the_sidecar_from_the_apps_who_am_i() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();

    let signed_out = browser.get(&demo.app("/api/me")).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
    assert_eq!(signed_out.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(signed_out.body, r#"{"error":"signed_out"}"#);

    let sso_before = counter(&demo, SSO_3XX).await;
    let portal = sign_in_through_kustomer(&demo, &mut browser).await;
    assert!(portal.text().contains("Signed in as alice@example.com"));
    // /sso/kustomer twice: to the login form, then to the portal with the token.
    assert_eq!(counter(&demo, SSO_3XX).await, sso_before + 2);
    let issued = "portal_sso_tokens_issued_total{portal=\"kustomer\"}";
    assert_eq!(counter(&demo, issued).await, 1);

    let (status, _, events) = support::get(&demo.admin("/events"), None).await;
    assert_eq!(status, StatusCode::OK);
    let events: serde_json::Value = serde_json::from_slice(&events).unwrap();
    let names: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["token_issued", "login_required"], "{events}");
    assert_eq!(events[0]["portal"], "kustomer");
    assert_eq!(events[0]["email"], "a***@example.com", "masked: {events}");

    let me = browser.get(&demo.app("/api/me")).await;
    assert_eq!(me.status, StatusCode::OK);
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(
        me,
        serde_json::json!({
            "email": "alice@example.com",
            "first_name": "Alice",
            "last_name": "Liddell",
        })
    );
    demo.stop().await;
}

#[tokio::test]
async fn stopping_the_demo_frees_every_port() {
    let demo = Demo::start().await;
    let port = demo.port;
    let mut browser = Browser::new();
    sign_in_through_kustomer(&demo, &mut browser).await;
    demo.stop().await;
    for offset in 0..4 {
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port + offset))
            .unwrap_or_else(|err| panic!("port {} still taken: {err}", port + offset));
    }
}

#[tokio::test]
async fn a_taken_sidecar_or_admin_port_is_named_in_the_error() {
    for (offset, what) in [(0, "the sidecar"), (3, "admin")] {
        named_when_taken(offset, what).await;
    }
}

/// Runs the demo with `port + offset` taken: the error names that port and `what`.
async fn named_when_taken(offset: u16, what: &str) {
    for _ in 0..20 {
        let Some(port) = free_base_port() else {
            continue;
        };
        let Ok(taken) = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port + offset)) else {
            continue;
        };
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let result = portal_sso_sidecar::demo::run(listen, std::future::pending()).await;
        let err = result.expect_err("a port is taken");
        if err.kind() != io::ErrorKind::AddrInUse {
            continue;
        }
        let message = err.to_string();
        assert!(
            message.contains(&format!("port {}", port + offset)),
            "{message}"
        );
        assert!(message.contains(what), "{message}");
        drop(taken);
        return;
    }
    panic!("no free ports to try");
}
