//! The built-in identity sources read through the layer as a browser would send their
//! cookies, and how each answer of a source (signed in, signed out, down, unusable) ends.

use crate::common;

use axum::body::Body;
use base64::Engine as _;
use common::*;
use cookie::{Cookie, CookieJar, Key};
use http::header::COOKIE;
use http::{Request, StatusCode};
use jsonwebtoken::{EncodingKey, Header};
use portal_sso::{
    ClaimPointers, IdentityResolver, JwtCookie, Secret, SignedCookie, SignedCookieMode, SsoLayer,
};
use serde_json::json;

/// The app's own key for its session JWTs.
const APP_JWT_KEY: &str = "the-apps-own-session-signing-key-0123456789";

fn with_source(source: impl IdentityResolver) -> portal_sso::Sso<axum::Router> {
    app(SsoLayer::builder()
        .with_identity(source)
        .with_portal(kustomer_portal())
        .with_portal(aha_portal()))
}

fn with_cookie(uri: &str, name: &str, value: &str) -> Request<Body> {
    Request::get(uri)
        .header(COOKIE, format!("theme=dark; {name}={value}"))
        .body(Body::empty())
        .unwrap()
}

fn app_jwt(claims: &serde_json::Value, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

fn jwt_source() -> JwtCookie {
    JwtCookie::hs256("session", &Secret::new(APP_JWT_KEY)).with_claims(
        ClaimPointers::default()
            .with_email("/user/mail")
            .with_first_name("/user/given")
            .with_last_name("/user/family"),
    )
}

// "a JWT session cookie (the cookie's value is a JWT the app signs; verify it, then read
// claims)"
#[tokio::test]
async fn a_valid_jwt_session_cookie_signs_the_user_in_with_their_names() {
    let cookie = app_jwt(
        &json!({
            "sub": "u-1",
            "exp": now() + 3600,
            "user": {"mail": "carol@example.com", "given": "Carol", "family": "Danvers"}
        }),
        APP_JWT_KEY,
    );
    let reply = send(
        &with_source(jwt_source()),
        with_cookie("/sso/aha", "session", &cookie),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let claims = verify(&token_in(reply.location(), "jwt"), AHA_SECRET).unwrap();
    assert_eq!(claims["email"], "carol@example.com");
    assert_eq!(claims["first_name"], "Carol");
    assert_eq!(claims["last_name"], "Danvers");
}

#[tokio::test]
async fn a_jwt_session_cookie_that_cannot_be_trusted_means_signed_out() {
    let good = json!({"user": {"mail": "carol@example.com"}, "exp": now() + 3600});
    let valid = app_jwt(&good, APP_JWT_KEY);
    let (head, rest) = valid.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"user": {"mail": "mallory@example.com"}}).to_string());
    let none_header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let mut flipped = valid.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();

    for (case, value) in [
        (
            "tampered claims",
            format!("{head}.{forged_claims}.{signature}"),
        ),
        ("tampered signature", flipped),
        ("wrong key", app_jwt(&good, OTHER_SECRET)),
        ("malformed", "not-a-jwt".to_owned()),
        ("two segments", format!("{head}.{forged_claims}")),
        ("alg none", format!("{none_header}.{forged_claims}.")),
        (
            "expired",
            app_jwt(
                &json!({"user": {"mail": "carol@example.com"}, "exp": now() - 60}),
                APP_JWT_KEY,
            ),
        ),
        (
            "not yet valid",
            app_jwt(
                &json!({"user": {"mail": "carol@example.com"}, "nbf": now() + 3600}),
                APP_JWT_KEY,
            ),
        ),
        (
            "no email claim",
            app_jwt(&json!({"user": {"given": "Carol"}}), APP_JWT_KEY),
        ),
        (
            "email not a string",
            app_jwt(&json!({"user": {"mail": 42}}), APP_JWT_KEY),
        ),
        ("empty", String::new()),
    ] {
        let reply = send(
            &with_source(jwt_source()),
            with_cookie("/sso/kustomer", "session", &value),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FOUND, "{case}: {}", reply.text());
        assert!(
            reply.location().starts_with("/login?next="),
            "{case}: signed out, sent to log in, got {}",
            reply.location()
        );
    }
}

#[tokio::test]
async fn an_oversized_cookie_header_is_a_431_not_a_500() {
    let cookie = app_jwt(
        &json!({"user": {"mail": "carol@example.com"}, "pad": "x".repeat(9 * 1024)}),
        APP_JWT_KEY,
    );
    let reply = send(
        &with_source(jwt_source()),
        with_cookie("/sso/kustomer", "session", &cookie),
    )
    .await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(!reply.has_location());

    // The limit is configurable, and ordinary pages of the app are not limited by it.
    let users = Users::default();
    let small = app(builder(&users).with_max_cookie_bytes(64));
    let request = Request::get("/sso/kustomer")
        .header(COOKIE, format!("sid={ALICE_SID}; pad={}", "p".repeat(64)))
        .body(Body::empty())
        .unwrap();
    let reply = send(&small, request).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(users.calls(), 0);
    let request = Request::get("/elsewhere")
        .header(COOKIE, format!("pad={}", "p".repeat(64)))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&small, request).await.status, StatusCode::OK);
}

/// Writes `json` into `name` through the `cookie` crate's jar the way an app does, and
/// returns the `name=value` pair a browser sends back from the resulting `Set-Cookie`.
fn app_cookie(name: &str, json: &str, key: &Key, mode: SignedCookieMode) -> String {
    let mut jar = CookieJar::new();
    let cookie = Cookie::build((name.to_owned(), json.to_owned()))
        .path("/")
        .http_only(true)
        .build();
    match mode {
        SignedCookieMode::Signed => jar.signed_mut(key).add(cookie),
        SignedCookieMode::Private => jar.private_mut(key).add(cookie),
    }
    let written = jar.get(name).unwrap();
    // Set-Cookie as frameworks write it (percent-encoded), and what the browser sends back.
    let set_cookie = written.encoded().to_string();
    let sent = set_cookie.split(';').next().unwrap().to_owned();
    assert!(sent.starts_with(&format!("{name}=")));
    sent
}

fn cookie_request(uri: &str, pair: &str) -> Request<Body> {
    Request::get(uri)
        .header(COOKIE, format!("theme=dark; {pair}"))
        .body(Body::empty())
        .unwrap()
}

// "a signed cookie (the cookie crate's signed or private jar) holding JSON"
#[tokio::test]
async fn a_signed_or_private_cookie_signs_the_user_in() {
    for mode in [SignedCookieMode::Signed, SignedCookieMode::Private] {
        let key = Key::generate();
        let pair = app_cookie(
            "session",
            r#"{"email":"dave@example.com","first_name":"Dave","last_name":"Lister"}"#,
            &key,
            mode,
        );
        let source = SignedCookie::new("session", key.clone(), mode);
        let reply = send(&with_source(source), cookie_request("/sso/aha", &pair)).await;
        assert_eq!(
            reply.status,
            StatusCode::FOUND,
            "{mode:?}: {}",
            reply.text()
        );
        let claims = verify(&token_in(reply.location(), "jwt"), AHA_SECRET)
            .unwrap_or_else(|e| panic!("{mode:?}: {e} at {}", reply.location()));
        assert_eq!(claims["email"], "dave@example.com", "{mode:?}");
        assert_eq!(claims["first_name"], "Dave");
        assert_eq!(claims["last_name"], "Lister");
    }
}

#[tokio::test]
async fn a_tampered_or_foreign_signed_cookie_means_signed_out() {
    for mode in [SignedCookieMode::Signed, SignedCookieMode::Private] {
        let key = Key::generate();
        let json = r#"{"email":"dave@example.com"}"#;
        let pair = app_cookie("session", json, &key, mode);
        let (name, value) = pair.split_once('=').unwrap();
        let mut tampered = value.as_bytes().to_vec();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{name}={}", String::from_utf8(tampered).unwrap());
        let forged = format!(
            "{name}={}",
            value.replace("dave%40example.com", "mallory%40example.com")
        );
        let unsigned = format!("{name}={}", json.replace('"', "%22"));
        let foreign = app_cookie("session", json, &Key::generate(), mode);
        let renamed = app_cookie("other", json, &key, mode).replacen("other", "session", 1);
        let not_json = app_cookie("session", "dave@example.com", &key, mode);

        let mut cases = vec![
            ("tampered", tampered),
            ("unsigned", unsigned),
            ("another key", foreign),
            ("not JSON", not_json),
        ];
        // The private jar binds the value to the cookie's name; the signed jar's MAC covers
        // the value only, so there a value moved between cookies of one key still verifies.
        match mode {
            // The signed jar's value is readable: change the email, keep the MAC.
            SignedCookieMode::Signed => {
                assert_ne!(forged, pair);
                cases.push(("forged", forged));
            }
            SignedCookieMode::Private => cases.push(("another cookie's value", renamed)),
        }
        for (case, pair) in cases {
            let source = SignedCookie::new("session", key.clone(), mode);
            let reply = send(&with_source(source), cookie_request("/sso/kustomer", &pair)).await;
            assert_eq!(reply.status, StatusCode::FOUND, "{mode:?} {case}");
            assert!(
                reply.location().starts_with("/login?next="),
                "{mode:?} {case}: {}",
                reply.location()
            );
        }
    }
}

// An email that is not exactly one address, in a validly signed session: 403, no token.
#[tokio::test]
async fn an_email_that_is_not_one_address_is_a_403_and_no_token() {
    let key = Key::generate();
    for email in [
        "a@evil.com@corp.com",
        "alice@example.com\r\nBcc: x@evil.com",
        "alice@example.com\n",
        "",
        "alice@example.com, mallory@evil.com",
        "\"a@evil.com\"@corp.com",
    ] {
        let claims = json!({"user": {"mail": email}});
        let jwt = app_jwt(&claims, APP_JWT_KEY);
        let reply = send(
            &with_source(jwt_source()),
            with_cookie("/sso/aha", "session", &jwt),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "jwt {email:?}");
        assert!(!reply.has_location(), "{email:?}");
        assert!(!reply.text().contains("eyJ"));

        let json = json!({"email": email}).to_string();
        for mode in [SignedCookieMode::Signed, SignedCookieMode::Private] {
            let pair = app_cookie("session", &json, &key, mode);
            let source = SignedCookie::new("session", key.clone(), mode);
            let reply = send(&with_source(source), cookie_request("/sso/kustomer", &pair)).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{mode:?} {email:?}");
            assert!(!reply.has_location());
        }
    }
}

// "a timeout = the source is down (503 page, never a login loop)"
#[tokio::test]
async fn a_source_that_is_down_gets_a_503_page_never_a_redirect() {
    let users = Users::default();
    for uri in ["/sso/kustomer", "/sso/aha?state=x"] {
        let reply = send(&default_app(&users), get_as(uri, DOWN_SID)).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(!reply.has_location(), "{uri}");
        assert!(
            reply.set_cookies().is_empty(),
            "no login-loop counter: {uri}"
        );
        assert!(reply.text().contains("try again"), "{}", reply.text());
    }
}

#[tokio::test]
async fn a_source_that_answers_an_unusable_identity_gets_a_403() {
    let users = Users::default();
    for uri in ["/sso/kustomer", "/sso/aha"] {
        let reply = send(&default_app(&users), get_as(uri, EVIL_SID)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(!reply.has_location());
    }
}

// "A closure / trait impl given by the embedding app": an async source that awaits.
#[tokio::test]
async fn an_async_closure_source_is_awaited() {
    let source = |parts: &http::request::Parts| {
        let user = parts.headers.get("x-test-user").cloned();
        async move {
            tokio::task::yield_now().await;
            match user {
                Some(email) => Ok(Some(portal_sso::Identity::new(
                    email.to_str().unwrap_or_default(),
                )?)),
                None => Ok(None),
            }
        }
    };
    let app = with_source(source);
    let request = Request::get("/sso/aha")
        .header("x-test-user", "erin@example.com")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    let claims = verify(&token_in(reply.location(), "jwt"), AHA_SECRET).unwrap();
    assert_eq!(claims["email"], "erin@example.com");
    assert!(
        send(&app, get_req("/sso/aha"))
            .await
            .location()
            .starts_with("/login")
    );
}
