//! The remote-logout marker: when a portal's remote logout sends the browser through the
//! app's logout, the marker keeps the app's logout from sending it back to the portal.
//! Only a marker signed with the layer's cookie key, within the last minute, for the
//! session the browser carries, counts: one planted from elsewhere, or taken by another
//! user, must not stop an app logout from ending the portal session.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use cookie::{Cookie, CookieJar};
use http::{Request, StatusCode, header};
use portal_sso::{JwtPortal, Secret, SessionCookie, SsoLayer};
use tower::ServiceExt;

const AHA_SECRET: &str = "aha-secret-aha-secret-aha-secret-0123456789";
const KEY: &str = "the-same-32-bytes-on-every-replica!";
const MARKER: &str = "portal_sso_remote_logout";
const PORTAL_LOGOUT: &str = "https://acme.aha.site/portal_session/logout";
const ALICE: &str = "sid=alice-session";
const BOB: &str = "sid=bob-session";

/// The app behind a layer whose remote logout goes through the app's `/logout`; the app's
/// logout answers with a redirect to `/signed-out`.
fn app(key: Option<&str>) -> Router {
    let mut builder = SsoLayer::builder()
        .with_identity(|_: &http::request::Parts| async { Ok(None) })
        .with_portal(
            JwtPortal::aha(
                Secret::new(AHA_SECRET),
                "https://acme.aha.site/auth/jwt/callback",
            )
            .with_portal_logout_url(PORTAL_LOGOUT),
        )
        .with_session_cookie(SessionCookie::new("sid"))
        .with_app_logout_path("/logout")
        .with_app_logout_url("/logout");
    if let Some(key) = key {
        builder = builder.with_cookie_key(Secret::new(key));
    }
    Router::new()
        .route(
            "/logout",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/signed-out")]) }),
        )
        .layer(builder.build().unwrap())
}

async fn get_with(app: &Router, uri: &str, cookie: Option<&str>) -> http::Response<Body> {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

/// The marker `app`'s remote logout sets for alice's session, as a `Cookie` header pair.
async fn marker_from(app: &Router) -> String {
    let response = get_with(app, "/sso/aha/logout", Some(ALICE)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()[header::LOCATION], "/logout");
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| Cookie::parse(value.to_str().unwrap().to_owned()).unwrap())
        .find(|cookie| cookie.name() == MARKER)
        .map(|cookie| format!("{MARKER}={}", cookie.value()))
        .expect("a marker cookie")
}

/// Where the app's logout sends alice's browser, carrying `marker` too when given.
async fn app_logout_goes_to(app: &Router, marker: Option<&str>) -> String {
    let cookie = match marker {
        Some(marker) => format!("{ALICE}; {marker}"),
        None => ALICE.to_owned(),
    };
    let response = get_with(app, "/logout", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_marker_from_one_layer_counts_on_another_with_the_same_key() {
    let (first, second) = (app(Some(KEY)), app(Some(KEY)));
    let marker = marker_from(&first).await;
    assert_eq!(
        app_logout_goes_to(&second, Some(&marker)).await,
        "/signed-out"
    );
    assert_eq!(
        app_logout_goes_to(&first, Some(&marker)).await,
        "/signed-out"
    );
    // Without a marker, the app's logout goes on to the portal's.
    assert_eq!(app_logout_goes_to(&second, None).await, PORTAL_LOGOUT);
}

#[tokio::test]
async fn a_planted_foreign_or_stale_marker_does_not_keep_the_portal_session() {
    let app = app(Some(KEY));
    let foreign = marker_from(&self::app(Some("another-key-of-32-bytes-or-more!!!"))).await;
    let unkeyed = marker_from(&self::app(None)).await;
    // Signed with the right key, but set an hour ago.
    let stale = {
        let mut jar = CookieJar::new();
        let an_hour_ago = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 3600;
        let binding = session_binding_of_alice(&app).await;
        jar.signed_mut(&cookie::Key::derive_from(KEY.as_bytes()))
            .add(Cookie::new(MARKER, format!("{an_hour_ago}.{binding}")));
        format!("{MARKER}={}", jar.get(MARKER).unwrap().value())
    };
    for planted in [format!("{MARKER}=1"), foreign, unkeyed, stale] {
        assert_eq!(
            app_logout_goes_to(&app, Some(&planted)).await,
            PORTAL_LOGOUT,
            "{planted}"
        );
    }
}

/// The session part of a fresh marker for alice: what follows the time.
async fn session_binding_of_alice(app: &Router) -> String {
    let marker = marker_from(app).await;
    let value = marker.strip_prefix(&format!("{MARKER}=")).unwrap();
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(MARKER, value.to_owned()));
    let verified = jar
        .signed(&cookie::Key::derive_from(KEY.as_bytes()))
        .get(MARKER)
        .unwrap();
    verified.value().split_once('.').unwrap().1.to_owned()
}

#[tokio::test]
async fn remote_logout_marker_is_bound_to_the_session_it_was_set_for() {
    let app = app(Some(KEY));
    let alices = marker_from(&app).await;
    // Alice's own marker counts for alice...
    assert_eq!(app_logout_goes_to(&app, Some(&alices)).await, "/signed-out");
    // ...but planted in bob's browser, bob's app logout still ends his portal session.
    let bobs_browser = format!("{BOB}; {alices}");
    let response = get_with(&app, "/logout", Some(&bobs_browser)).await;
    assert_eq!(response.headers()[header::LOCATION], PORTAL_LOGOUT);
    // And in a browser with no session at all.
    let response = get_with(&app, "/logout", Some(&alices)).await;
    assert_eq!(response.headers()[header::LOCATION], PORTAL_LOGOUT);
}

#[tokio::test]
async fn remote_logout_takes_the_session_through_the_apps_logout_which_ends_it() {
    let app = app(Some(KEY));
    // The trip to the app's logout keeps the session cookie, for the app to end it...
    let response = get_with(&app, "/sso/aha/logout", Some(ALICE)).await;
    assert_eq!(response.headers()[header::LOCATION], "/logout");
    let set: Vec<&str> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert!(
        set.iter().all(|cookie| !cookie.starts_with("sid=")),
        "{set:?}"
    );
    // ...and the app logout's answer expires it, with the marker.
    let marker = marker_from(&app).await;
    let response = get_with(&app, "/logout", Some(&format!("{ALICE}; {marker}"))).await;
    assert_eq!(response.headers()[header::LOCATION], "/signed-out");
    let expired: Vec<String> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| Cookie::parse(value.to_str().unwrap().to_owned()).unwrap())
        .filter(|cookie| cookie.max_age() == Some(cookie::time::Duration::ZERO))
        .map(|cookie| cookie.name().to_owned())
        .collect();
    assert!(expired.contains(&"sid".to_owned()), "{expired:?}");
    assert!(expired.contains(&MARKER.to_owned()), "{expired:?}");
    // Without a session there is nothing for the app to end: straight to the page.
    let response = get_with(&app, "/sso/aha/logout", None).await;
    assert_eq!(response.headers()[header::LOCATION], "/");
}
