//! The stateless login-loop breaker: a signed cookie counts trips to the app's login page,
//! and after the configured number the layer explains instead of redirecting again.
//!
//! The tests carry `Set-Cookie` back like a browser does.

use crate::common;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::browser::{Answer, Browser};
use http::StatusCode;
use portal_sso::{Identity, JwtPortal, Secret, SessionCookie, SsoLayer};

const AHA_SECRET: &str = "aha-secret-aha-secret-aha-secret-0123456789";
const KUSTOMER_SECRET: &str = "kustomer-secret-kustomer-secret-0123456789";
const LOOP_COOKIE: &str = "portal_sso_login_trips";
const SESSION: &str = "app_session";
const AHA: &str = "/sso/aha?state=s";
/// The layer's cookie key, so a test can write the trips cookie a browser would carry
/// from an earlier time.
const COOKIE_KEY: &str = "the-login-loop-tests-cookie-key-0123456789";

fn app(limit: Option<(u32, Duration)>) -> Router {
    app_keyed(limit, None)
}

/// [`app`], its cookies signed with `key` when given (else a key of its own).
fn app_keyed(limit: Option<(u32, Duration)>, key: Option<&str>) -> Router {
    let mut builder = SsoLayer::builder()
        .with_identity(|parts: &http::request::Parts| {
            let signed_in = portal_sso::find_cookie(&parts.headers, SESSION) == Some("ok");
            async move {
                Ok(if signed_in {
                    Some(Identity::new("alice@example.com")?)
                } else {
                    None
                })
            }
        })
        .with_session_cookie(SessionCookie::new(SESSION))
        .with_portal(JwtPortal::aha(
            Secret::new(AHA_SECRET),
            "https://acme.aha.site/auth/jwt/callback",
        ))
        .with_portal(
            JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
                .with_redirect_origins(["https://acme.kustomer.help"]),
        );
    if let Some((limit, window)) = limit {
        builder = builder.with_login_loop_limit(limit, window);
    }
    if let Some(key) = key {
        builder = builder.with_cookie_key(Secret::new(key));
    }
    Router::new()
        .route("/", get(|| async { "home" }))
        .layer(builder.build().unwrap())
}

fn assert_sent_to_login(answer: &Answer, trip: u32) {
    assert_eq!(
        answer.status,
        StatusCode::FOUND,
        "trip {trip}: {}",
        answer.body
    );
    let location = answer.location.as_deref().unwrap();
    assert!(
        location.starts_with("/login?next="),
        "trip {trip}: {location}"
    );
    let trips = answer
        .set_cookies
        .iter()
        .find(|c| c.name() == LOOP_COOKIE)
        .unwrap_or_else(|| panic!("trip {trip}: no trips cookie"));
    assert_eq!(trips.http_only(), Some(true));
    assert_eq!(trips.same_site(), Some(cookie::SameSite::Lax));
    // Signed: the count is not the whole value, so it cannot be written by hand.
    assert!(
        !trips.value().starts_with(&format!("{trip}.")),
        "{}",
        trips.value()
    );
    assert!(
        trips.value().contains(&format!("{trip}.")),
        "trip {trip}: {}",
        trips.value()
    );
}

fn assert_explains(answer: &Answer, trips: u32) {
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(answer.location.is_none());
    assert!(
        answer
            .body
            .contains(&format!("sent to sign in {trips} times")),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("could not read"), "{}", answer.body);
    assert!(
        answer.body.contains(&format!("session cookie `{SESSION}`")),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn after_the_default_three_trips_the_page_explains() {
    let app = app(None);
    let mut browser = Browser::default();
    for trip in 1..=3 {
        let answer = browser.get(&app, AHA).await;
        assert_sent_to_login(&answer, trip);
    }
    let answer = browser.get(&app, AHA).await;
    assert_explains(&answer, 3);
    // And it stays explained while the window lasts.
    let answer = browser.get(&app, AHA).await;
    assert_explains(&answer, 3);
}

#[tokio::test]
async fn the_kustomer_route_is_guarded_too() {
    let app = app(Some((2, Duration::from_secs(60))));
    let mut browser = Browser::default();
    let uri = "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2F";
    for trip in 1..=2 {
        assert_sent_to_login(&browser.get(&app, uri).await, trip);
    }
    assert_explains(&browser.get(&app, uri).await, 2);
}

#[tokio::test]
async fn with_login_loop_limit_changes_the_limit() {
    for limit in [1, 5] {
        let app = app(Some((limit, Duration::from_secs(60))));
        let mut browser = Browser::default();
        for trip in 1..=limit {
            assert_sent_to_login(&browser.get(&app, AHA).await, trip);
        }
        assert_explains(&browser.get(&app, AHA).await, limit);
    }
}

#[tokio::test]
async fn forged_or_tampered_trip_cookies_count_from_zero() {
    let app = app(None);
    // Written by hand with a current time, so only the missing signature can refuse them.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let forged = [
        format!("99.{now}"),
        format!("3.{now}"),
        format!("{}99.{now}", "A".repeat(44)),
        format!("{}=99.{now}", "A".repeat(43)),
        String::new(),
        "garbage".to_owned(),
    ];
    for forged in forged {
        let mut browser = Browser::default();
        browser
            .cookies
            .insert(LOOP_COOKIE.to_owned(), forged.clone());
        let answer = browser.get(&app, AHA).await;
        assert_sent_to_login(&answer, 1);
    }
    // A real cookie with its count changed.
    let mut browser = Browser::default();
    for trip in 1..=2 {
        assert_sent_to_login(&browser.get(&app, AHA).await, trip);
    }
    let real = browser.cookies[LOOP_COOKIE].clone();
    let tampered = real.replacen("2.", "9.", 1);
    assert_ne!(tampered, real);
    browser.cookies.insert(LOOP_COOKIE.to_owned(), tampered);
    assert_sent_to_login(&browser.get(&app, AHA).await, 1);
    // A real cookie from another layer (another key) is not honoured either.
    let other = app_with_real_cookie_at_limit().await;
    let mut browser = Browser::default();
    browser.cookies.insert(LOOP_COOKIE.to_owned(), other);
    assert_sent_to_login(&browser.get(&app, AHA).await, 1);
}

async fn app_with_real_cookie_at_limit() -> String {
    let other = app(None);
    let mut browser = Browser::default();
    for trip in 1..=3 {
        assert_sent_to_login(&browser.get(&other, AHA).await, trip);
    }
    browser.cookies[LOOP_COOKIE].clone()
}

#[tokio::test]
async fn success_clears_the_trips_cookie() {
    let app = app(None);
    let mut browser = Browser::default();
    for trip in 1..=2 {
        assert_sent_to_login(&browser.get(&app, AHA).await, trip);
    }
    browser.cookies.insert(SESSION.to_owned(), "ok".to_owned());
    let answer = browser.get(&app, AHA).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert!(
        answer
            .location
            .as_deref()
            .unwrap()
            .starts_with("https://acme.aha.site/auth/jwt/callback?jwt=")
    );
    let removal = answer
        .set_cookies
        .iter()
        .find(|c| c.name() == LOOP_COOKIE)
        .expect("the trips cookie is cleared");
    assert_eq!(removal.max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(removal.path(), Some("/sso/aha"));
    assert!(!browser.cookies.contains_key(LOOP_COOKIE));

    // Signed out again later: counting starts over.
    browser.cookies.remove(SESSION);
    assert_sent_to_login(&browser.get(&app, AHA).await, 1);
}

#[tokio::test]
async fn a_success_without_earlier_trips_sets_no_cookie() {
    let app = app(None);
    let mut browser = Browser::default();
    browser.cookies.insert(SESSION.to_owned(), "ok".to_owned());
    let answer = browser.get(&app, AHA).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert!(answer.set_cookies.is_empty());
}

#[tokio::test]
async fn trips_older_than_the_window_are_forgotten() {
    let app = app_keyed(Some((1, Duration::from_secs(60))), Some(COOKIE_KEY));
    let mut browser = Browser::default();
    assert_sent_to_login(&browser.get(&app, AHA).await, 1);
    assert_explains(&browser.get(&app, AHA).await, 1);
    // The same count, begun 61 s ago (as the cookie says, signed with the layer's key):
    // the window has passed, and counting starts over.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut jar = cookie::CookieJar::new();
    jar.signed_mut(&cookie::Key::derive_from(COOKIE_KEY.as_bytes()))
        .add(cookie::Cookie::new(LOOP_COOKIE, format!("1.{}", now - 61)));
    let aged = jar.get(LOOP_COOKIE).unwrap().value().to_owned();
    browser.cookies.insert(LOOP_COOKIE.to_owned(), aged);
    assert_sent_to_login(&browser.get(&app, AHA).await, 1);
}
