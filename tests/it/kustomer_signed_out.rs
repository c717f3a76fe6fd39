//! Kustomer custom sign-on for a signed-out browser: the app's login page with a return
//! parameter back to the exact URL, and the login-loop breaker that ends on a page naming
//! the session cookie.

use crate::common;

use std::time::Duration;

use common::kustomer::RAW_REQUEST;
use common::*;
use http::StatusCode;
use http::header::{COOKIE, LOCATION};
use portal_sso::SessionCookie;

// Signed out: "redirect to the app's login page with a return parameter that brings the
// browser back to this exact URL (query included) after login."
#[tokio::test]
async fn signed_out_goes_to_login_and_comes_back_to_the_exact_url() {
    let users = Users::default();
    let reply = send(&default_app(&users), get_req(RAW_REQUEST)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let location = reply.location();
    let (login, next) = location.split_once("?next=").unwrap();
    assert_eq!(login, "/login");
    assert!(
        !next.contains(['&', '?', '/', '=']),
        "percent-encoded: {next}"
    );
    assert_eq!(decode_component(next), RAW_REQUEST);
    assert_eq!(reply.location_param("next"), RAW_REQUEST);
    assert!(!location.contains("externalToken"));
    assert!(!reply.headers[LOCATION].is_sensitive());
    assert_eq!(users.calls(), 1);
}

#[tokio::test]
async fn the_login_url_and_return_parameter_are_configurable() {
    for (login_url, param, expected_prefix) in [
        (
            "/account/sign-in",
            "return_to",
            "/account/sign-in?return_to=",
        ),
        (
            "https://app.example.com/signin",
            "continue",
            "https://app.example.com/signin?continue=",
        ),
        // A login URL with a query already gets `&`.
        ("/login?lang=en", "next", "/login?lang=en&next="),
        (
            "https://app.example.com/signin?lang=en&theme=dark",
            "r",
            "https://app.example.com/signin?lang=en&theme=dark&r=",
        ),
    ] {
        let users = Users::default();
        let app = app(builder(&users)
            .with_login_url(login_url)
            .with_return_param(param));
        let reply = send(&app, get_req(RAW_REQUEST)).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        let location = reply.location();
        let encoded = location
            .strip_prefix(expected_prefix)
            .unwrap_or_else(|| panic!("{location} starts with {expected_prefix}"));
        assert_eq!(decode_component(encoded), RAW_REQUEST, "{login_url}");
    }
}

// "After 3 trips within the window, the 4th answers a page naming the session cookie."
#[tokio::test]
async fn a_login_loop_ends_on_a_page_naming_the_session_cookie() {
    let users = Users::default();
    let app = app(builder(&users).with_session_cookie(SessionCookie::new(SESSION_COOKIE)));
    let mut trips_cookie: Option<String> = None;
    for trip in 1..=3 {
        let mut request = get_req(RAW_REQUEST);
        if let Some(cookie) = &trips_cookie {
            request
                .headers_mut()
                .insert(COOKIE, cookie.parse().unwrap());
        }
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::FOUND, "trip {trip}");
        assert!(reply.location().starts_with("/login?next="), "trip {trip}");
        let set = reply
            .set_cookies()
            .into_iter()
            .next()
            .expect("the trip counter cookie");
        assert_eq!(set.path(), Some("/sso/kustomer"));
        assert!(set.http_only().unwrap_or(false));
        trips_cookie = Some(format!("{}={}", set.name(), set.value()));
    }
    let mut request = get_req(RAW_REQUEST);
    request
        .headers_mut()
        .insert(COOKIE, trips_cookie.clone().unwrap().parse().unwrap());
    let reply = send(&app, request).await;
    assert!(reply.status.is_server_error(), "{}", reply.status);
    assert!(!reply.has_location());
    assert!(reply.text().contains("`sid`"), "{}", reply.text());

    // Once the app's session is readable, the sign-in completes and the counter is cleared.
    let request = http::Request::get(RAW_REQUEST)
        .header(
            COOKIE,
            format!("sid={ALICE_SID}; {}", trips_cookie.unwrap()),
        )
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.location().contains("externalToken="));
    let cleared = reply
        .set_cookies()
        .into_iter()
        .next()
        .expect("counter cleared");
    assert_eq!(cleared.max_age(), Some(cookie::time::Duration::ZERO));
}

#[tokio::test]
async fn a_trip_counter_the_layer_did_not_sign_is_ignored() {
    let users = Users::default();
    let app = app(builder(&users).with_login_loop_limit(2, Duration::from_secs(60)));
    // A counter the layer did not sign is ignored: still redirected to log in.
    let request = http::Request::get(RAW_REQUEST)
        .header(COOKIE, format!("portal_sso_login_trips=99.{}", now()))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.location().starts_with("/login?next="));
}
