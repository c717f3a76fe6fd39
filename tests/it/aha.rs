//! Aha! knowledge base JWT single sign-on and single sign-out, sentence by sentence of the
//! vendor's article and DESIGN.md.

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use common::*;
use http::header::{CACHE_CONTROL, COOKIE, LOCATION, REFERRER_POLICY, SET_COOKIE};
use http::{Request, StatusCode};
use portal_sso::{JwtPortal, Secret, SessionCookie, SsoLayer, SsoLayerBuilder};
use tower::Layer as _;

const PORTAL_LOGOUT: &str = "https://acme.aha.site/portal_session/logout";

async fn sign_in(uri: &str) -> (Reply, String) {
    let users = Users::default();
    let reply = send(&default_app(&users), get_as(uri, ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{uri}: {}", reply.text());
    let token = token_in(reply.location(), "jwt");
    (reply, token)
}

// "The response should include a HS256-signed token containing these fields: iat, jti,
// first_name, last_name, email." "Note that the iat is a number and the other fields are
// strings."
#[tokio::test]
async fn the_token_holds_exactly_iat_jti_names_and_email() {
    let (_, token) = sign_in("/sso/aha").await;
    // Exactly these two members; their order does not matter to any verifier.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&header_json(&token)).unwrap(),
        serde_json::json!({"alg": "HS256", "typ": "JWT"})
    );
    let claims = verify(&token, AHA_SECRET).unwrap();
    let mut keys: Vec<_> = claims.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["email", "first_name", "iat", "jti", "last_name"]);
    assert!(claims["iat"].is_u64());
    for field in ["jti", "first_name", "last_name", "email"] {
        assert!(claims[field].is_string(), "{field} is a string");
    }
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["first_name"], "Alice");
    assert_eq!(claims["last_name"], "Liddell");
}

// "iat: The integer time the response was created in seconds since the Unix epoch."
#[tokio::test]
async fn iat_is_the_integer_time_of_the_response() {
    let before = now();
    let (_, token) = sign_in("/sso/aha").await;
    let iat = verify(&token, AHA_SECRET).unwrap()["iat"].as_u64().unwrap();
    assert!(iat + 5 >= before && iat <= now() + 5);
}

#[tokio::test]
async fn the_token_is_signed_with_the_shared_secret_only() {
    let (_, token) = sign_in("/sso/aha").await;
    assert!(verify(&token, AHA_SECRET).is_ok());
    assert!(verify(&token, KUSTOMER_SECRET).is_err());
    assert!(verify(&token, OTHER_SECRET).is_err());
}

// Names "may be empty strings when the app has none".
#[tokio::test]
async fn names_are_empty_strings_when_the_app_has_none() {
    let users = Users::default();
    let reply = send(&default_app(&users), get_as("/sso/aha", BOB_SID)).await;
    let claims = verify(&token_in(reply.location(), "jwt"), AHA_SECRET).unwrap();
    assert_eq!(claims["first_name"], "");
    assert_eq!(claims["last_name"], "");
    assert_eq!(claims["email"], "bob@example.com");
}

// "jti: A randomly created token that uniquely identifies this response." (>= 128 bits)
#[tokio::test]
async fn jti_is_random_enough_and_unique_per_response() {
    let users = Users::default();
    let app = default_app(&users);
    let mut seen = HashSet::new();
    for _ in 0..10_000 {
        let reply = send(&app, get_as("/sso/aha", ALICE_SID)).await;
        let claims = verify(&token_in(reply.location(), "jwt"), AHA_SECRET).unwrap();
        let jti = claims["jti"].as_str().unwrap().to_owned();
        assert!(
            jti.len() >= 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()),
            "at least 128 bits as hex: {jti}"
        );
        assert!(seen.insert(jti), "a jti was repeated");
    }
    assert_eq!(seen.len(), 10_000);
}

// "redirects the user back to knowledge base using the URL .../jwt_callback/123456?jwt=..."
// and ".../auth/jwt/callback?jwt=...".
#[tokio::test]
async fn the_browser_goes_to_the_configured_callback_with_jwt() {
    for callback in [AHA_CALLBACK, AHA_SITE_CALLBACK] {
        let users = Users::default();
        let app = app(SsoLayer::builder()
            .with_identity(users.clone())
            .with_portal(JwtPortal::aha(Secret::new(AHA_SECRET), callback)));
        let reply = send(&app, get_as("/sso/aha", ALICE_SID)).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        let token = token_in(reply.location(), "jwt");
        assert_eq!(reply.location(), format!("{callback}?jwt={token}"));
        assert!(verify(&token, AHA_SECRET).is_ok());
        assert_eq!(reply.headers[CACHE_CONTROL], "no-store");
        assert_eq!(reply.headers[REFERRER_POLICY], "no-referrer");
        assert!(reply.headers[LOCATION].is_sensitive());
    }
}

// "If the request contains state query parameter then the value of that parameter should
// also be included in the redirect."
#[tokio::test]
async fn state_is_passed_on_unchanged() {
    for (sent, value) in [
        ("abc123", "abc123"),
        ("kb%2Fknowledge-base-1", "kb/knowledge-base-1"),
        ("a%20b%26c%3Dd%2B%23e", "a b&c=d+#e"),
        ("%C3%A9t%C3%A9%20%E2%9C%93", "été ✓"),
        ("eyJrYiI6MX0.x-y_z~", "eyJrYiI6MX0.x-y_z~"),
        ("", ""),
    ] {
        let (reply, token) = sign_in(&format!("/sso/aha?state={sent}")).await;
        assert_eq!(reply.location_param("state"), value, "state={sent}");
        assert_eq!(reply.location_param("jwt"), token);
        assert!(
            reply
                .location()
                .starts_with(&format!("{AHA_CALLBACK}?jwt={token}&state=")),
            "{}",
            reply.location()
        );
    }
}

#[tokio::test]
async fn no_state_in_the_request_means_no_state_in_the_redirect() {
    let (reply, _) = sign_in("/sso/aha?other=1").await;
    assert!(reply.location_params("state").is_empty());
    assert!(!reply.location().contains("other"));
}

// "If this parameter [return_to] is included in the JWT response, then the user will be
// redirected to that page": `.../callback?jwt=...&return_to=/ideas/APP-I-469`.
#[tokio::test]
async fn a_same_site_return_to_is_passed_on() {
    for (sent, value) in [
        ("/ideas/APP-I-469", "/ideas/APP-I-469"),
        ("%2Fideas%2FAPP-I-469", "/ideas/APP-I-469"),
        ("%2Fkb%2Fguide%3Fsection%3D2", "/kb/guide?section=2"),
    ] {
        let (reply, _) = sign_in(&format!("/sso/aha?state=s1&return_to={sent}")).await;
        assert_eq!(reply.location_param("return_to"), value, "{sent}");
        assert_eq!(reply.location_param("state"), "s1");
    }
}

#[tokio::test]
async fn a_return_to_that_leaves_the_site_is_dropped() {
    for sent in [
        "//evil.com",
        "//evil.com/ideas",
        "https://evil.com",
        "https%3A%2F%2Fevil.com%2F",
        "/%5Cevil.com",
        "/\\evil.com",
        "%2F%2Fevil.com",
        "ideas/APP-I-469",
        "javascript:alert(1)",
        "/ideas%0D%0ALocation:%20https://evil.com",
        "%09/evil.com",
    ] {
        let (reply, token) = sign_in(&format!("/sso/aha?return_to={sent}")).await;
        assert!(
            reply.location_params("return_to").is_empty(),
            "{sent}: {}",
            reply.location()
        );
        assert_eq!(reply.location(), format!("{AHA_CALLBACK}?jwt={token}"));
        assert!(!reply.location().contains("evil"));
    }
}

#[tokio::test]
async fn a_state_over_one_kib_is_a_400_and_exactly_one_kib_is_fine() {
    let (reply, _) = sign_in(&format!("/sso/aha?state={}", "s".repeat(1024))).await;
    assert_eq!(reply.location_param("state").len(), 1024);

    let users = Users::default();
    let uri = format!("/sso/aha?state={}", "s".repeat(1025));
    let reply = send(&default_app(&users), get_as(&uri, ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(!reply.has_location());
    assert_eq!(users.calls(), 0);
}

#[tokio::test]
async fn a_repeated_state_or_return_to_is_a_400() {
    for query in [
        "state=a&state=b",
        "state=a&%73tate=a",
        "return_to=/a&return_to=//evil.com",
        "state=%zz",
    ] {
        let users = Users::default();
        let uri = format!("/sso/aha?{query}");
        let reply = send(&default_app(&users), get_as(&uri, ALICE_SID)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(!reply.has_location(), "{query}");
        assert_eq!(users.calls(), 0, "{query}");
    }
}

#[tokio::test]
async fn signed_out_goes_to_login_and_keeps_state_and_return_to() {
    let users = Users::default();
    let original = "/sso/aha?state=kb%2F1&return_to=/ideas/APP-I-469";
    let reply = send(&default_app(&users), get_req(original)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location_param("next"), original);
    assert!(reply.location().starts_with("/login?next="));
}

// Single sign-out, part 1: "When the user logs out of the knowledge base they will be
// redirected to this URL. Your application should ... also log the user out."
fn logout_app(builder: SsoLayerBuilder) -> portal_sso::Sso<Router> {
    app(builder.with_session_cookie(
        SessionCookie::new(SESSION_COOKIE)
            .with_path("/app")
            .with_domain("example.com"),
    ))
}

#[tokio::test]
async fn remote_logout_expires_the_session_cookie_and_lands_on_the_configured_page() {
    let users = Users::default();
    let app = logout_app(
        SsoLayer::builder()
            .with_identity(users.clone())
            .with_portal(aha_portal().with_logout_redirect("https://www.example.com/goodbye")),
    );
    let reply = send(&app, get_as("/sso/aha/logout", ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location(), "https://www.example.com/goodbye");
    let expired = reply
        .set_cookie(SESSION_COOKIE)
        .expect("the session cookie expired");
    assert_eq!(expired.value(), "");
    assert_eq!(expired.max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(expired.path(), Some("/app"));
    assert_eq!(expired.domain(), Some("example.com"));
    assert_eq!(reply.headers[CACHE_CONTROL], "no-store");
    assert_eq!(users.calls(), 0, "logging out needs nobody looked up");
}

#[tokio::test]
async fn remote_logout_never_goes_where_the_request_says() {
    let users = Users::default();
    let app = logout_app(
        SsoLayer::builder()
            .with_identity(users.clone())
            .with_portal(aha_portal().with_logout_redirect("/signed-out")),
    );
    for query in [
        "return_to=https://evil.com",
        "redirect=https://evil.com&next=//evil.com",
        "url=https%3A%2F%2Fevil.com&redirect_uri=https://evil.com&returnTo=//evil.com",
        "state=x&return_to=/ideas",
    ] {
        let uri = format!("/sso/aha/logout?{query}");
        let request = Request::get(&uri)
            .header(http::header::REFERER, "https://evil.com/")
            .header(COOKIE, format!("sid={ALICE_SID}"))
            .body(Body::empty())
            .unwrap();
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{query}");
        assert_eq!(reply.location(), "/signed-out", "{query}");
    }
}

#[tokio::test]
async fn remote_logout_defaults_to_the_home_page() {
    let users = Users::default();
    let reply = send(&default_app(&users), get_as("/sso/aha/logout", ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location(), "/");
    // Without a configured session cookie there is nothing to expire by name.
    assert!(reply.set_cookie(SESSION_COOKIE).is_none());
}

#[tokio::test]
async fn the_logout_route_can_be_moved_or_turned_off() {
    let users = Users::default();
    let moved = app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(aha_portal().with_logout_path(Some("/kb/signed-out"))));
    let reply = send(&moved, get_req("/kb/signed-out")).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let reply = send(&moved, get_req("/sso/aha/logout")).await;
    assert_eq!(reply.text(), "app saw /sso/aha/logout");

    let off = app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(aha_portal().with_logout_path(None::<String>)));
    let reply = send(&off, get_req("/sso/aha/logout")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "app saw /sso/aha/logout");
}

/// An app with its own `/logout`, counting how often it runs; `fail` makes it answer 500.
fn app_with_logout(fail: bool) -> (Router, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let router = inner_app().route(
        "/logout",
        get(move || {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                if fail {
                    return (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        [("x-app", "logout-failed")],
                        "db down",
                    )
                        .into_response();
                }
                (
                    [(SET_COOKIE, "sid=; Path=/; Max-Age=0; HttpOnly")],
                    Redirect::to("/signed-out"),
                )
                    .into_response()
            }
        }),
    );
    (router, runs)
}

fn app_logout_layer(users: &Users) -> SsoLayer {
    SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(aha_portal().with_portal_logout_url(PORTAL_LOGOUT))
        .with_app_logout_path("/logout")
        .build()
        .unwrap()
}

// Part 2: "When the user logs out of your application you should redirect them to the
// /portal_session/logout URL of the knowledge base."
#[tokio::test]
async fn the_apps_own_logout_runs_then_the_browser_goes_to_the_portal_logout() {
    let users = Users::default();
    let (router, runs) = app_with_logout(false);
    let app = app_logout_layer(&users).layer(router);
    let reply = send(&app, get_as("/logout", ALICE_SID)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the app's handler ran");
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location(), PORTAL_LOGOUT);
    let expired = reply
        .set_cookie("sid")
        .expect("the app's Set-Cookie is kept");
    assert_eq!(expired.max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(expired.path(), Some("/"));
}

#[tokio::test]
async fn an_app_logout_that_fails_passes_through_untouched() {
    let users = Users::default();
    let (router, runs) = app_with_logout(true);
    let app = app_logout_layer(&users).layer(router);
    let reply = send(&app, get_as("/logout", ALICE_SID)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.headers["x-app"], "logout-failed");
    assert_eq!(reply.text(), "db down");
    assert!(!reply.has_location());
}

// Remote logout through the app's own logout URL does not bounce back to the portal the
// browser just left.
#[tokio::test]
async fn remote_logout_through_the_apps_logout_does_not_loop_back_to_the_portal() {
    let users = Users::default();
    let (router, runs) = app_with_logout(false);
    let layer = SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(aha_portal().with_portal_logout_url(PORTAL_LOGOUT))
        .with_app_logout_path("/logout")
        .with_app_logout_url("/logout")
        .build()
        .unwrap();
    let app = layer.layer(router);
    let reply = send(&app, get_as("/sso/aha/logout", ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location(), "/logout");
    let marker = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.name() != SESSION_COOKIE)
        .expect("a marker cookie");

    let request = Request::get("/logout")
        .header(
            COOKIE,
            format!("sid={ALICE_SID}; {}={}", marker.name(), marker.value()),
        )
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(reply.location(), "/signed-out", "the app's own answer");
    assert!(reply.set_cookie("sid").is_some());
    let cleared = reply.set_cookie(marker.name()).expect("marker cleared");
    assert_eq!(cleared.max_age(), Some(cookie::time::Duration::ZERO));
}

#[tokio::test]
async fn a_callback_that_has_a_query_gets_jwt_after_an_ampersand() {
    let users = Users::default();
    let callback = "https://acme.aha.site/auth/jwt/callback?portal=kb1";
    let app = app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(JwtPortal::aha(Secret::new(AHA_SECRET), callback)));
    let reply = send(&app, get_as("/sso/aha?state=s", ALICE_SID)).await;
    let token = token_in(reply.location(), "jwt");
    assert_eq!(reply.location(), format!("{callback}&jwt={token}&state=s"));
}

// The app's logout page is replaced by the redirect: headers that describe its body are
// not carried over to the empty one.
#[tokio::test]
async fn the_apps_logout_body_headers_do_not_describe_the_redirect() {
    let users = Users::default();
    let router = inner_app().route(
        "/logout",
        get(|| async {
            (
                [
                    (SET_COOKIE, "sid=; Path=/; Max-Age=0"),
                    (http::header::CONTENT_ENCODING, "gzip"),
                    (http::header::CONTENT_TYPE, "text/html"),
                ],
                "compressed page",
            )
        }),
    );
    let app = app_logout_layer(&users).layer(router);
    let reply = send(&app, get_as("/logout", ALICE_SID)).await;
    assert_eq!(reply.location(), PORTAL_LOGOUT);
    assert!(reply.set_cookie("sid").is_some());
    assert!(reply.headers.get(http::header::CONTENT_ENCODING).is_none());
    assert!(reply.body.is_empty());
}

#[tokio::test]
async fn app_logout_keeps_every_value_of_the_apps_headers_but_not_its_cache_policy() {
    let users = Users::default();
    let router = inner_app().route(
        "/logout",
        get(|| async {
            (
                axum::response::AppendHeaders([
                    (SET_COOKIE, "sid=; Path=/; Max-Age=0"),
                    (SET_COOKIE, "csrf=; Path=/; Max-Age=0"),
                    (http::header::VARY, "Cookie"),
                    (http::header::VARY, "Accept-Language"),
                    (http::header::CACHE_CONTROL, "public, max-age=600"),
                ]),
                Redirect::to("/signed-out"),
            )
        }),
    );
    let app = app_logout_layer(&users).layer(router);
    let reply = send(&app, get_as("/logout", ALICE_SID)).await;
    assert_eq!(reply.location(), PORTAL_LOGOUT);
    assert!(reply.set_cookie("sid").is_some());
    assert!(reply.set_cookie("csrf").is_some());
    let vary: Vec<_> = reply.headers.get_all(http::header::VARY).iter().collect();
    assert_eq!(vary, ["Cookie", "Accept-Language"]);
    let cache: Vec<_> = reply
        .headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .collect();
    assert_eq!(cache, ["no-store"]);
}
