//! The remote-logout marker: when a portal's remote logout sends the browser through the
//! app's logout, the marker keeps the app's logout from sending it back to the portal.
//! Only a marker signed with the layer's cookie key, within the last minute, counts: one
//! planted from elsewhere must not stop an app logout from ending the portal session.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use cookie::{Cookie, CookieJar};
use http::{Request, StatusCode, header};
use portal_sso::{JwtPortal, Secret, SsoLayer};
use tower::ServiceExt;

const AHA_SECRET: &str = "aha-secret-aha-secret-aha-secret-0123456789";
const KEY: &str = "the-same-32-bytes-on-every-replica!";
const MARKER: &str = "portal_sso_remote_logout";
const PORTAL_LOGOUT: &str = "https://acme.aha.site/portal_session/logout";

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

/// The marker `app`'s remote logout sets, as a `Cookie` header pair.
async fn marker_from(app: &Router) -> String {
    let response = get_with(app, "/sso/aha/logout", None).await;
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

/// Where the app's logout sends the browser carrying `cookie`.
async fn app_logout_goes_to(app: &Router, cookie: Option<&str>) -> String {
    let response = get_with(app, "/logout", cookie).await;
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
        jar.signed_mut(&cookie::Key::derive_from(KEY.as_bytes()))
            .add(Cookie::new(MARKER, an_hour_ago.to_string()));
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
