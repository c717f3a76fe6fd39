//! Several instances of the layer serving the same users (replicas behind a load balancer)
//! count one login loop when they are given the same `with_cookie_key`, and each
//! counts its own when they are not.
//!
//! The browser here carries `Set-Cookie` back like a real one and alternates between two
//! layers on every request, as a round-robin balancer does.

use crate::common;

use axum::Router;
use axum::routing::get;
use common::browser::Browser;
use http::StatusCode;
use portal_sso::{JwtPortal, Secret, SessionCookie, SsoLayer, SsoLayerBuilder};

const AHA_SECRET: &str = "aha-secret-aha-secret-aha-secret-0123456789";
const LOOP_COOKIE: &str = "portal_sso_login_trips";
const AHA: &str = "/sso/aha?state=s";
const LIMIT: u32 = 3;

/// A layer that never finds a session, as when the app's cookie cannot be read.
fn builder() -> SsoLayerBuilder {
    SsoLayer::builder()
        .with_identity(|_: &http::request::Parts| async { Ok(None) })
        .with_session_cookie(SessionCookie::new("app_session"))
        .with_portal(JwtPortal::aha(
            Secret::new(AHA_SECRET),
            "https://acme.aha.site/auth/jwt/callback",
        ))
}

fn app(layer: SsoLayer) -> Router {
    Router::new()
        .route("/", get(|| async { "home" }))
        .layer(layer)
}

fn with_key(key: &str) -> Router {
    app(builder().with_cookie_key(Secret::new(key)).build().unwrap())
}

/// The statuses of `visits` visits to the Aha! route by `browser`, alternating between
/// `apps` as a round-robin balancer does.
async fn alternate(browser: &mut Browser, apps: [&Router; 2], visits: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::with_capacity(visits);
    for visit in 0..visits {
        statuses.push(browser.get(apps[visit % 2], AHA).await.status);
    }
    statuses
}

/// `LIMIT` redirects to the login page, then the explanation, and the explanation again.
fn breaker_fired() -> Vec<StatusCode> {
    let mut expected = vec![StatusCode::FOUND; LIMIT as usize];
    expected.extend([StatusCode::INTERNAL_SERVER_ERROR; 2]);
    expected
}

#[tokio::test]
async fn two_layers_with_the_same_key_count_one_loop() {
    let key = "login-loop-key-shared-by-every-replica-0123";
    let (first, second) = (with_key(key), with_key(key));
    let mut browser = Browser::default();
    let statuses = alternate(&mut browser, [&first, &second], LIMIT as usize + 2).await;
    assert_eq!(statuses, breaker_fired());
}

#[tokio::test]
async fn a_cookie_from_one_layer_counts_on_the_other() {
    let key = "login-loop-key-shared-by-every-replica-0123";
    let (first, second) = (with_key(key), with_key(key));
    let mut browser = Browser::default();
    for _ in 0..LIMIT {
        assert_eq!(browser.get(&first, AHA).await.status, StatusCode::FOUND);
    }
    assert!(browser.cookies[LOOP_COOKIE].contains(&format!("{LIMIT}.")));
    assert_eq!(
        browser.get(&second, AHA).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn layers_with_different_keys_each_count_their_own() {
    let first = with_key("login-loop-key-of-the-first-replica-01234");
    let second = with_key("login-loop-key-of-the-second-replica-0123");
    let mut browser = Browser::default();
    // Each layer refuses the other's cookie and starts counting again: the browser is
    // sent to the login page every time.
    let statuses = alternate(&mut browser, [&first, &second], 2 * LIMIT as usize + 2).await;
    assert_eq!(statuses, vec![StatusCode::FOUND; 2 * LIMIT as usize + 2]);
}

#[tokio::test]
async fn layers_without_a_key_each_count_their_own() {
    let first = app(builder().build().unwrap());
    let second = app(builder().build().unwrap());
    let mut browser = Browser::default();
    let statuses = alternate(&mut browser, [&first, &second], 2 * LIMIT as usize + 2).await;
    assert_eq!(statuses, vec![StatusCode::FOUND; 2 * LIMIT as usize + 2]);
}

#[test]
fn a_key_shorter_than_32_bytes_is_refused() {
    let err = builder()
        .with_cookie_key(Secret::new("k".repeat(31)))
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "cookie_key");
    assert_eq!(err.problem(), "is 31 bytes; at least 32 are required");
    assert!(
        builder()
            .with_cookie_key(Secret::new("k".repeat(32)))
            .build()
            .is_ok()
    );
}
