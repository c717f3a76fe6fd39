//! Attack classes found by a hostile review of the layer, each named after its class: what
//! the browser is sent (status, `Location`, the decoded claims, cookies) when an attacker
//! plants cookies, pollutes the return address or smuggles look-alike characters.

mod common;

use axum::body::Body;
use common::*;
use cookie::{Cookie, CookieJar, Key};
use http::header::{COOKIE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode};
use jsonwebtoken::{EncodingKey, Header};
use portal_sso::{
    AhaPortal, EventKind, Identity, IdentityResolver, JwtCookie, KustomerPortal, Secret,
    SessionCookie, SignedCookie, SignedCookieMode, SsoLayer,
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

/// Kustomer targets whose query or fragment already holds something a common parser
/// reads as `externalToken`.
const POLLUTED_TARGETS: &[&str] = &[
    "https://acme.kustomer.help/login?externalToken=planted",
    "https://acme.kustomer.help/login?externalToken[]=planted",
    "https://acme.kustomer.help/login?externalToken[0]=planted",
    "https://acme.kustomer.help/login?externalToken%5B%5D=planted",
    "https://acme.kustomer.help/login?ExternalToken=planted",
    "https://acme.kustomer.help/login?a=1;externalToken=planted",
    "https://acme.kustomer.help/login?externalToken%00=planted",
    "https://acme.kustomer.help/login?externalToken%20=planted",
    "https://acme.kustomer.help/login?%65xternalToken=planted",
    "https://acme.kustomer.help/login?r=1#externalToken=planted",
];

// Class 4: the layer adds `externalToken`; a target already carrying one in any spelling
// is refused, so a planted token cannot be the one the portal reads (login CSRF).
#[tokio::test]
async fn class4_a_target_that_already_carries_the_token_parameter_is_refused() {
    let counts = Counts::default();
    let recorder = Recorder::default();
    let app = app(counts
        .builder()
        .with_observer(recorder.observer())
        .with_portal(kustomer_portal()));
    for target in POLLUTED_TARGETS {
        let escaped =
            percent_encoding::utf8_percent_encode(target, percent_encoding::NON_ALPHANUMERIC);
        // Sent unescaped, a `#` would end the request's own query: only escaped there.
        let raw = Some(target.to_string()).filter(|t| !t.contains('#'));
        for sent in raw.into_iter().chain([escaped.to_string()]) {
            let reply = send(
                &app,
                get_req(&format!("/sso/kustomer?kustomerRedirectUri={sent}")),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{sent}: {}",
                reply.text()
            );
            assert!(!reply.has_location(), "{sent}");
            assert!(reply.text().contains("externalToken"), "{}", reply.text());
            let events = recorder.take();
            assert_eq!(events[0].kind, EventKind::RedirectRejected, "{sent}");
            assert_eq!(
                events[0].reason.as_deref(),
                Some("target_carries_externalToken")
            );
        }
    }
    assert_eq!(counts.tokens_issued(), 0);
    assert_eq!(
        counts.identity_calls(),
        0,
        "refused before anyone is looked up"
    );

    // Names that only look alike are not the parameter.
    let reply = send(
        &app,
        get_req(
            "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login?externalTokens=1",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND);
}

#[test]
fn class4_configured_addresses_that_carry_an_added_parameter_are_refused() {
    for callback in [
        "https://acme.aha.site/auth/jwt/callback?jwt=x",
        "https://acme.aha.site/auth/jwt/callback?JWT[]=x",
        "https://acme.aha.site/auth/jwt/callback?state=x",
        "https://acme.aha.site/auth/jwt/callback?return.to=/x",
        "https://acme.aha.site/auth/jwt/callback?a=1;return_to=/x",
    ] {
        let error = SsoLayer::builder()
            .with_identity(|_: &Parts| async { Ok(None) })
            .with_portal(AhaPortal::new(Secret::new(AHA_SECRET), callback))
            .build()
            .expect_err(callback);
        assert_eq!(error.field(), "portals[0].callback_url", "{callback}");
    }
    let error = SsoLayer::builder()
        .with_identity(|_: &Parts| async { Ok(None) })
        .with_portal(
            KustomerPortal::new(Secret::new(KUSTOMER_SECRET))
                .with_redirect_origins([KUSTOMER_ORIGIN])
                .with_default_redirect("https://acme.kustomer.help/login?externalToken[]=x"),
        )
        .build()
        .expect_err("polluted default");
    assert_eq!(error.field(), "portals[0].default_redirect");
}

/// Characters that make one account look like another on the portal.
const INVISIBLE: &[char] = &[
    '\u{200B}',
    '\u{00AD}',
    '\u{202E}',
    '\u{2067}',
    '\u{FEFF}',
    '\u{2060}',
    '\u{E0041}',
];

// Class 5: what the redirect check refuses in a URL is refused in every identity field
// that goes into a claim, and the page and the event say which field.
#[tokio::test]
async fn class5_invisible_characters_in_identity_fields_are_refused() {
    for &c in INVISIBLE {
        assert!(
            Identity::new(format!("alice{c}@example.com")).is_err(),
            "{c:?}"
        );
        for (field, first, last) in [
            ("first_name", format!("Ali{c}ce"), "Liddell".to_owned()),
            ("last_name", "Alice".to_owned(), format!("{c}Liddell")),
        ] {
            let counts = Counts::default();
            let recorder = Recorder::default();
            let app = app(SsoLayer::builder()
                .with_identity(move |_: &Parts| {
                    let (first, last) = (first.clone(), last.clone());
                    async move {
                        Ok(Some(
                            Identity::new("alice@example.com")?
                                .with_first_name(first)
                                .with_last_name(last),
                        ))
                    }
                })
                .with_observer(recorder.observer())
                .with_portal(aha_portal()));
            let reply = send(&app, get_req("/sso/aha")).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{field} {c:?}");
            assert!(!reply.has_location());
            let words = field.replace('_', " ");
            assert!(reply.text().contains(&words), "{}", reply.text());
            let events = recorder.take();
            assert_eq!(events[0].kind, EventKind::IdentityRejected);
            let reason = events[0].reason.as_deref().unwrap();
            assert!(reason.starts_with(field), "{reason}");
            assert_eq!(counts.tokens_issued(), 0);
        }
    }

    // An email from a session source: the page names the email address.
    let recorder = Recorder::default();
    let email_app = app(SsoLayer::builder()
        .with_identity(|_: &Parts| async { Ok(Some(Identity::new("ali\u{200B}ce@example.com")?)) })
        .with_observer(recorder.observer())
        .with_portal(kustomer_portal()));
    let reply = send(&email_app, get_req("/sso/kustomer")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().contains("email address"), "{}", reply.text());
    assert!(
        recorder.take()[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("email")
    );

    // Names with plain spaces and accents are people's names.
    let names_app = app(SsoLayer::builder()
        .with_identity(|_: &Parts| async {
            Ok(Some(
                Identity::new("zoe@example.com")?
                    .with_first_name("Zoë Anne")
                    .with_last_name("O'Brien-Łukasiewicz"),
            ))
        })
        .with_portal(aha_portal()));
    let reply = send(&names_app, get_req("/sso/aha")).await;
    let claims = verify(&token_in(reply.location(), "jwt"), AHA_SECRET).unwrap();
    assert_eq!(claims["first_name"], "Zoë Anne");
}

// Class 6: `return_to` that becomes `//evil.com` once dot segments are removed is dropped.
#[tokio::test]
async fn class6_return_to_with_dot_segments_is_dropped() {
    let users = Users::default();
    let recorder = Recorder::default();
    let app = app(builder(&users).with_observer(recorder.observer()));
    for return_to in [
        "/..//evil.com",
        "/.//evil.com",
        "/%2e%2e//evil.com",
        "/%2E%2E/%2Fevil.com",
        "/ideas/../../evil.com",
        "/ideas/%2e/x",
        "/a//evil.com",
        "/%2F%2Fevil.com",
        "/%5Cevil.com",
        "/ideas/\u{200B}x",
    ] {
        let escaped =
            percent_encoding::utf8_percent_encode(return_to, percent_encoding::NON_ALPHANUMERIC);
        for sent in [
            return_to.replace('\u{200B}', "%E2%80%8B"),
            escaped.to_string(),
        ] {
            let reply = send(
                &app,
                get_as(&format!("/sso/aha?state=s1&return_to={sent}"), ALICE_SID),
            )
            .await;
            assert_eq!(reply.status, StatusCode::FOUND, "{sent}");
            assert!(
                reply.location().starts_with(AHA_CALLBACK),
                "{}",
                reply.location()
            );
            assert!(
                reply.location_params("return_to").is_empty(),
                "{sent}: {}",
                reply.location()
            );
            assert_eq!(reply.location_param("state"), "s1");
            let events = recorder.take();
            assert_eq!(events[0].kind, EventKind::TokenIssued);
            assert_eq!(
                events[0].reason.as_deref(),
                Some("return_to_dropped"),
                "{sent}"
            );
        }
    }
    // A plain path is still passed on.
    let reply = send(
        &app,
        get_as("/sso/aha?return_to=/ideas/APP-I-469", ALICE_SID),
    )
    .await;
    assert_eq!(reply.location_param("return_to"), "/ideas/APP-I-469");
}

// Wildcard origins match whole labels of letters, digits and hyphens only.
#[tokio::test]
async fn wildcard_origins_match_only_labels_of_letters_digits_and_hyphens() {
    let counts = Counts::default();
    let app = app(counts.builder().with_portal(
        KustomerPortal::new(Secret::new(KUSTOMER_SECRET))
            .with_redirect_origins(["https://*.kustomer.help"]),
    ));
    for target in [
        "https://a_b.kustomer.help/login",
        "https://a!b.kustomer.help/login",
        "https://a$b.kustomer.help/login",
        "https://evil.com&.kustomer.help/login",
        "https://evil.com'.kustomer.help/login",
        "https://a=b.kustomer.help/login",
    ] {
        let reply = send(
            &app,
            get_req(&format!("/sso/kustomer?kustomerRedirectUri={target}")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{target}");
    }
    for target in [
        "https://acme.kustomer.help/login",
        "https://eu-1.acme.kustomer.help/",
    ] {
        let reply = send(
            &app,
            get_req(&format!("/sso/kustomer?kustomerRedirectUri={target}")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FOUND, "{target}");
        assert!(reply.location().starts_with(target));
    }
    assert_eq!(counts.tokens_issued(), 2);
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
            .with_portal(AhaPortal::new(Secret::new(AHA_SECRET), AHA_SITE_CALLBACK)));
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
