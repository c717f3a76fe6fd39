//! Attack classes on cookies, found by a hostile review of the layer: a session cookie
//! planted beside the real one, a pair that is not plain ASCII beside the session or the
//! login-loop counter, and remote logout expiring a `Secure` session cookie. What the
//! browser is sent (status, `Location`, the decoded claims, cookies) in each case.

use crate::common;

use axum::body::Body;
use common::*;
use cookie::{Cookie, CookieJar, Key};
use http::header::{COOKIE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode};
use jsonwebtoken::{EncodingKey, Header};
use portal_sso::{
    EventKind, IdentityResolver, JwtCookie, JwtPortal, Secret, SessionCookie, SignedCookie,
    SignedCookieMode, SsoLayer,
};
use serde_json::json;

const APP_JWT_KEY: &str = "the-apps-own-session-signing-key-0123456789";

/// The layer around the test app with `source`, both portals and `recorder` listening.
fn layer_with(source: impl IdentityResolver, recorder: &Recorder) -> portal_sso::Sso<axum::Router> {
    app(SsoLayer::builder()
        .with_identity(source)
        .with_observer(recorder.observer())
        .with_portal(kustomer_portal())
        .with_portal(aha_portal()))
}

/// A request to `uri` with each of `cookie_lines` as its own `Cookie` header, as raw bytes.
fn with_cookie_lines(uri: &str, cookie_lines: &[&[u8]]) -> Request<Body> {
    let mut request = Request::get(uri).body(Body::empty()).unwrap();
    for line in cookie_lines {
        request
            .headers_mut()
            .append(COOKIE, HeaderValue::from_bytes(line).unwrap());
    }
    request
}

fn app_jwt(email: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        &json!({"email": email, "exp": now() + 3600}),
        &EncodingKey::from_secret(APP_JWT_KEY.as_bytes()),
    )
    .unwrap()
}

fn signed_value(key: &Key, email: &str) -> String {
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(Cookie::new(
        "session",
        json!({ "email": email }).to_string(),
    ));
    jar.get("session").unwrap().value().to_owned()
}

/// Asserts `reply` is the signed-out redirect to the app's login page, with no token.
fn assert_signed_out(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    assert!(
        reply.location().starts_with("/login?next="),
        "{}",
        reply.location()
    );
    assert!(!reply.location().contains("externalToken"));
}

// Class 1: a cookie sent twice (one planted from a sibling subdomain) must not sign the
// request in as whichever value a source happens to read first.
#[tokio::test]
async fn class1_a_jwt_session_cookie_sent_twice_for_different_users_is_signed_out() {
    let recorder = Recorder::default();
    let source = JwtCookie::hs256("session", &Secret::new(APP_JWT_KEY));
    let app = layer_with(source, &recorder);
    let (planted, victim) = (
        app_jwt("mallory@example.com"),
        app_jwt("victim@example.com"),
    );
    let one_line = format!("session={planted}; session={victim}");
    let two_lines = [format!("session={planted}"), format!("session={victim}")];
    for lines in [
        vec![one_line.as_bytes()],
        vec![two_lines[0].as_bytes(), two_lines[1].as_bytes()],
    ] {
        let reply = send(&app, with_cookie_lines("/sso/kustomer", &lines)).await;
        assert_signed_out(&reply);
        let events = recorder.take();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::LoginRequired);
        let reason = events[0].reason.as_deref().unwrap_or_default();
        assert!(reason.contains("more than once"), "{reason}");
    }

    // The same user twice, or a value that does not verify beside the real one, is fine.
    for line in [
        format!("session={victim}; session={victim}"),
        format!("session=not-a-jwt; session={victim}"),
        format!(
            "session={}; session={victim}",
            app_jwt("x").replace('.', "")
        ),
    ] {
        let reply = send(&app, with_cookie_lines("/sso/kustomer", &[line.as_bytes()])).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
        let claims = verify(
            &token_in(reply.location(), "externalToken"),
            KUSTOMER_SECRET,
        )
        .unwrap();
        assert_eq!(claims["email"], "victim@example.com");
    }
}

#[tokio::test]
async fn class1_a_signed_session_cookie_sent_twice_for_different_users_is_signed_out() {
    let recorder = Recorder::default();
    let key = Key::generate();
    let source = SignedCookie::new("session", key.clone(), SignedCookieMode::Signed);
    let app = layer_with(source, &recorder);
    let planted = signed_value(&key, "mallory@example.com");
    let victim = signed_value(&key, "victim@example.com");
    let line = format!("session={planted}; session={victim}");
    let reply = send(&app, with_cookie_lines("/sso/aha", &[line.as_bytes()])).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(
        reply.location().starts_with("/login?next="),
        "{}",
        reply.location()
    );
    let events = recorder.take();
    assert_eq!(events[0].kind, EventKind::LoginRequired);
    assert!(
        events[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("more than once")
    );

    let line = format!("session={victim}; session={victim}");
    let reply = send(&app, with_cookie_lines("/sso/aha", &[line.as_bytes()])).await;
    let claims = verify(&token_in(reply.location(), "jwt"), AHA_SECRET).unwrap();
    assert_eq!(claims["email"], "victim@example.com");
}

// Class 3: one pair that is not plain ASCII (`pref=café`, planted or the app's own) must
// hide only itself, not the session or the login-loop counter beside it.
#[tokio::test]
async fn class3_a_non_ascii_cookie_pair_does_not_hide_the_session() {
    let users = Users::default();
    let app = default_app(&users);
    let line = format!("pref=caf\u{e9}; sid={ALICE_SID}; junk=\u{1F36A}");
    for lines in [
        vec![line.as_bytes().to_vec()],
        vec![
            b"pref=caf\xe9 latin-1".to_vec(),
            format!("sid={ALICE_SID}").into_bytes(),
        ],
    ] {
        let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let reply = send(&app, with_cookie_lines("/sso/kustomer", &lines)).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
        let claims = verify(
            &token_in(reply.location(), "externalToken"),
            KUSTOMER_SECRET,
        )
        .unwrap();
        assert_eq!(claims["email"], "alice@example.com");
    }
}

#[tokio::test]
async fn class3_a_non_ascii_cookie_pair_does_not_hide_the_login_loop_counter() {
    let app = app(SsoLayer::builder()
        .with_identity(|_: &Parts| async { Ok(None) })
        .with_portal(aha_portal())
        .with_login_loop_limit(2, std::time::Duration::from_secs(60)));
    let mut trips: Option<String> = None;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let mut line = "pref=caf\u{e9}".to_owned();
        if let Some(trips) = &trips {
            line.push_str("; ");
            line.push_str(trips);
        }
        let reply = send(&app, with_cookie_lines("/sso/aha", &[line.as_bytes()])).await;
        statuses.push(reply.status);
        if let Some(cookie) = reply.set_cookie("portal_sso_login_trips") {
            trips = Some(format!("{}={}", cookie.name(), cookie.value()));
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::INTERNAL_SERVER_ERROR
        ],
        "the breaker reads its counter beside the odd pair"
    );
}

// Remote logout's expiring cookie must be `Secure` when the app's is, or the browser
// ignores it and the session survives.
#[tokio::test]
async fn remote_logout_expires_a_secure_session_cookie_with_secure() {
    for (cookie, secure) in [
        (SessionCookie::new("__Host-sid"), true),
        (SessionCookie::new("__Secure-sid"), true),
        (SessionCookie::new("sid").with_secure(true), true),
        (SessionCookie::new("sid"), false),
    ] {
        let name = cookie.name().to_owned();
        let app = app(SsoLayer::builder()
            .with_identity(|_: &Parts| async { Ok(None) })
            .with_session_cookie(cookie)
            .with_portal(JwtPortal::aha(Secret::new(AHA_SECRET), AHA_SITE_CALLBACK)));
        let reply = send(&app, get_req("/sso/aha/logout")).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        let expired = reply
            .set_cookie(&name)
            .expect("the session cookie is expired");
        assert_eq!(expired.value(), "");
        assert_eq!(expired.secure(), Some(true).filter(|_| secure), "{name}");
        let raw: Vec<_> = reply.headers.get_all(SET_COOKIE).iter().collect();
        assert_eq!(
            raw.iter().any(|v| v.to_str().unwrap().contains("Secure")),
            secure,
            "{raw:?}"
        );
    }
    let error = SsoLayer::builder()
        .with_identity(|_: &Parts| async { Ok(None) })
        .with_session_cookie(SessionCookie::new("__Host-sid").with_domain("example.com"))
        .with_portal(aha_portal())
        .build()
        .expect_err("a __Host- cookie cannot have a Domain");
    assert_eq!(error.field(), "session_cookie");
}
