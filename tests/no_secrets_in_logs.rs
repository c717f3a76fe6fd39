//! "Tokens, secrets, session cookies and `trackingToken` never appear in logs or errors",
//! nor in `Debug` output. Every flow and error path runs under a TRACE subscriber for all
//! targets, writing into a buffer that is then searched.

#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::get;
use common::*;
use cookie::{Cookie, CookieJar, Key};
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, StatusCode};
use jsonwebtoken::{EncodingKey, Header};
use portal_sso::{
    JwtCookie, JwtPortal, Secret, SessionCookie, SignedCookie, SignedCookieMode, SsoLayer, Widget,
};
use serde_json::json;
use tower::Layer as _;
use tracing::Level;

const TRACKING_TOKEN: &str =
    "eyJhbGciOiJub25lIn0.eyJ0cmFja2luZyI6InRyay04MjkxIn0.trk-8291-unsigned";
const APP_JWT_KEY: &str = "the-apps-session-jwt-key-never-logged-0001";
const APP_LOGOUT_COOKIE: &str = "app-logout-session-value-4c1e";
const CHAT_SECRET: &str = "kustomer-chat-secret-never-logged-0123456789";
const BEACON_SECRET: &str = "helpscout-beacon-secret-never-logged-012345";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Everything that must never be written, gathered while the flows run.
#[derive(Default)]
struct Forbidden(Vec<(String, String)>);

impl Forbidden {
    fn add(&mut self, what: &str, value: &str) {
        assert!(!value.is_empty(), "{what}");
        self.0.push((what.to_owned(), value.to_owned()));
    }

    fn add_token(&mut self, what: &str, token: &str) {
        self.add(what, token);
        let signature = token.rsplit('.').next().unwrap();
        self.add(&format!("{what} signature"), signature);
        let claims = token.split('.').nth(1).unwrap();
        self.add(&format!("{what} claims"), claims);
    }

    fn assert_absent_from(&self, text: &str, place: &str) {
        for (what, value) in &self.0 {
            assert!(
                !text.contains(value.as_str()),
                "{place} contains the {what}"
            );
        }
    }
}

/// A Kustomer login URL carrying the trackingToken.
fn kustomer_uri() -> String {
    format!(
        "/sso/kustomer?trackingToken={TRACKING_TOKEN}&kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help"
    )
}

fn session_jwt() -> String {
    jsonwebtoken::encode(
        &Header::default(),
        &json!({"email": "carol@example.com", "exp": now() + 600}),
        &EncodingKey::from_secret(APP_JWT_KEY.as_bytes()),
    )
    .unwrap()
}

fn signed_session(key: &Key) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(key)
        .add(Cookie::new("session", r#"{"email":"dave@example.com"}"#));
    jar.get("session").unwrap().encoded().to_string()
}

fn cookie_req(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn no_flow_or_error_path_logs_a_secret_token_cookie_or_tracking_token() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut forbidden = Forbidden::default();
    for (what, secret) in [
        ("Kustomer secret", KUSTOMER_SECRET),
        ("Aha! secret", AHA_SECRET),
        ("app JWT key", APP_JWT_KEY),
        ("Kustomer Chat secret", CHAT_SECRET),
        ("Beacon secret", BEACON_SECRET),
    ] {
        forbidden.add(what, secret);
    }
    forbidden.add("trackingToken", TRACKING_TOKEN);
    forbidden.add("trackingToken's unsigned part", "trk-8291-unsigned");
    for (what, sid) in [
        ("Alice's session", ALICE_SID),
        ("Bob's session", BOB_SID),
        ("unavailable session", DOWN_SID),
        ("rejected session", EVIL_SID),
        ("app logout session", APP_LOGOUT_COOKIE),
    ] {
        forbidden.add(what, sid);
    }

    every_layer_flow(&mut forbidden).await;
    every_cookie_source(&mut forbidden).await;

    let log = buffer.text();
    for name in [
        "token_issued",
        "login_required",
        "login_loop",
        "redirect_rejected",
        "bad_request",
        "identity_error",
        "identity_rejected",
        "logout",
        "app_logout",
        "widget_token_issued",
        "widget_refused",
    ] {
        assert!(log.contains(name), "the log has a {name} event:\n{log}");
    }
    assert!(
        log.contains("portal_sso"),
        "events are under the portal_sso target"
    );
    forbidden.assert_absent_from(&log, "the log");
}

/// Runs every decision the layer takes, collecting what was issued.
async fn every_layer_flow(forbidden: &mut Forbidden) {
    let users = Users::default();
    let router = inner_app().route(
        "/logout",
        get(|| async {
            (
                [(SET_COOKIE, format!("sid={APP_LOGOUT_COOKIE}; Max-Age=0"))],
                "bye",
            )
        }),
    );
    let app = SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(kustomer_portal())
        .with_portal(
            aha_portal().with_portal_logout_url("https://acme.aha.site/portal_session/logout"),
        )
        .with_widget(Widget::kustomer_chat(Secret::new(CHAT_SECRET)))
        .with_widget(Widget::helpscout_beacon(Secret::new(BEACON_SECRET)))
        .with_app_logout_path("/logout")
        .with_session_cookie(SessionCookie::new(SESSION_COOKIE))
        .with_max_cookie_bytes(2048)
        .build()
        .unwrap()
        .layer(router);

    let kustomer = kustomer_uri();
    // Issued, on both portals.
    let reply = send(&app, get_as(&kustomer, ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    forbidden.add_token(
        "Kustomer token",
        &token_in(reply.location(), "externalToken"),
    );
    let reply = send(
        &app,
        get_as("/sso/aha?state=st-1&return_to=/ideas/APP-I-469", BOB_SID),
    )
    .await;
    forbidden.add_token("Aha! token", &token_in(reply.location(), "jwt"));
    // Login required, then the loop.
    let mut trips = String::new();
    for _ in 0..4 {
        let reply = send(&app, cookie_req(&kustomer, &trips)).await;
        if let Some(c) = reply.set_cookies().into_iter().next() {
            trips = format!("{}={}", c.name(), c.value());
            forbidden.add("login trip counter", c.value());
        }
    }
    // Rejected redirects and bad requests.
    for uri in [
        format!(
            "/sso/kustomer?trackingToken={TRACKING_TOKEN}&kustomerRedirectUri=https://evil.com/x"
        ),
        format!(
            "/sso/kustomer?trackingToken={TRACKING_TOKEN}&kustomerRedirectUri=https://u@acme.kustomer.help/"
        ),
        format!(
            "/sso/kustomer?trackingToken={TRACKING_TOKEN}&kustomerRedirectUri=a&kustomerRedirectUri=b"
        ),
        format!("/sso/kustomer?trackingToken={TRACKING_TOKEN}&kustomerRedirectUri=%zz"),
        format!("/sso/aha?state={}", "s".repeat(1100)),
    ] {
        let reply = send(&app, get_as(&uri, ALICE_SID)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    let post = Request::post(&kustomer)
        .header(COOKIE, format!("sid={ALICE_SID}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&app, post).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let big = format!("sid={ALICE_SID}; pad={}", "p".repeat(4096));
    assert_eq!(
        send(&app, cookie_req(&kustomer, &big)).await.status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    // Identity errors.
    assert_eq!(
        send(&app, get_as(&kustomer, DOWN_SID)).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        send(&app, get_as(&kustomer, EVIL_SID)).await.status,
        StatusCode::FORBIDDEN
    );
    // Remote logout and the app's own logout.
    assert_eq!(
        send(&app, get_as("/sso/aha/logout", ALICE_SID))
            .await
            .status,
        StatusCode::FOUND
    );
    assert_eq!(
        send(&app, get_as("/logout", ALICE_SID)).await.status,
        StatusCode::FOUND
    );
    // The app's own pages.
    assert_eq!(
        send(&app, get_as("/?q=1", ALICE_SID)).await.status,
        StatusCode::OK
    );
    every_widget_flow(&app, forbidden).await;
}

/// A widget's value issued, refused signed out, cross-site and for a source that is down.
async fn every_widget_flow(app: &portal_sso::Sso<axum::Router>, forbidden: &mut Forbidden) {
    let from_page = |uri: &str, sid: &str| {
        let mut request = get_as(uri, sid);
        request
            .headers_mut()
            .insert("sec-fetch-site", "same-origin".parse().unwrap());
        request
    };
    let reply = send(app, from_page("/sso/widget/kustomer-chat", ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    forbidden.add_token("Kustomer Chat token", answer["token"].as_str().unwrap());
    let reply = send(app, from_page("/sso/widget/helpscout-beacon", BOB_SID)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    forbidden.add("Beacon signature", answer["signature"].as_str().unwrap());
    for (request, status) in [
        (
            from_page("/sso/widget/kustomer-chat", "nobody"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            from_page("/sso/widget/kustomer-chat", DOWN_SID),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            get_as("/sso/widget/helpscout-beacon", ALICE_SID),
            StatusCode::FORBIDDEN,
        ),
    ] {
        assert_eq!(send(app, request).await.status, status);
    }
}

/// The cookie-reading sources, valid and tampered.
async fn every_cookie_source(forbidden: &mut Forbidden) {
    let kustomer = kustomer_uri();
    let jwt = session_jwt();
    forbidden.add_token("session JWT", &jwt);
    let key = Key::generate();
    let signed = signed_session(&key);
    forbidden.add(
        "signed session cookie",
        signed.split_once('=').unwrap().1.split(';').next().unwrap(),
    );
    for source_app in [
        app_with(JwtCookie::hs256("session", &Secret::new(APP_JWT_KEY))),
        app_with(SignedCookie::new(
            "session",
            key.clone(),
            SignedCookieMode::Private,
        )),
    ] {
        for cookie in [
            format!("session={jwt}"),
            format!("session={jwt}x"),
            signed.split(';').next().unwrap().to_owned(),
        ] {
            let reply = send(&source_app, cookie_req(&kustomer, &cookie)).await;
            if reply.status == StatusCode::FOUND && reply.location().contains("externalToken=") {
                forbidden.add_token(
                    "token from a cookie source",
                    &token_in(reply.location(), "externalToken"),
                );
            }
        }
    }
}

fn app_with(source: impl portal_sso::IdentityResolver) -> portal_sso::Sso<axum::Router> {
    app(SsoLayer::builder()
        .with_identity(source)
        .with_portal(kustomer_portal()))
}

#[test]
fn debug_output_shows_no_secret() {
    let cookie_key = Key::generate();
    let kustomer =
        JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET)).with_redirect_origins([KUSTOMER_ORIGIN]);
    let aha = JwtPortal::aha(Secret::new(AHA_SECRET), AHA_CALLBACK);
    let chat = Widget::kustomer_chat(Secret::new(CHAT_SECRET));
    let jwt_source = JwtCookie::hs256("session", &Secret::new(APP_JWT_KEY));
    let signed_source = SignedCookie::new("session", cookie_key.clone(), SignedCookieMode::Signed);
    let builder = SsoLayer::builder()
        .with_identity(Users::default())
        .with_portal(kustomer.clone())
        .with_portal(aha.clone());
    let builder_shown = format!("{builder:?}");
    let layer = builder.build().unwrap();
    let service = layer.layer(inner_app());

    let shown = [
        ("Secret", format!("{:?}", Secret::new(KUSTOMER_SECRET))),
        ("Kustomer portal", format!("{kustomer:?}")),
        ("Aha! portal", format!("{aha:?}")),
        ("builder", builder_shown),
        ("JwtCookie", format!("{jwt_source:?}")),
        ("SignedCookie", format!("{signed_source:?}")),
        ("SsoLayer", format!("{layer:?}")),
        ("SsoLayer (pretty)", format!("{layer:#?}")),
        ("Sso", format!("{service:?}")),
        ("Widget", format!("{chat:?}")),
        (
            "WidgetSigner",
            format!("{:?}", portal_sso::WidgetSigner::new(&chat).unwrap()),
        ),
    ];
    let key_bytes = cookie_key.master();
    let key_hex = key_bytes.iter().fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    });
    for (what, text) in &shown {
        for secret in [KUSTOMER_SECRET, AHA_SECRET, APP_JWT_KEY, CHAT_SECRET] {
            assert!(
                !text.contains(secret),
                "{what} Debug shows a secret: {text}"
            );
        }
        assert!(!text.contains(&key_hex), "{what}");
        assert!(!text.contains(&format!("{key_bytes:?}")), "{what}");
    }
    for (what, text) in shown[..6].iter().chain(&shown[9..]) {
        assert!(text.contains("REDACTED"), "{what}: {text}");
    }
}

#[test]
fn identities_and_identity_errors_show_no_full_email() {
    let alice = portal_sso::Identity::new("alice@example.com").unwrap();
    let shown = format!("{alice:?}");
    assert!(shown.contains("a***@example.com"), "{shown}");
    assert!(!shown.contains("alice@"), "{shown}");
    let err = portal_sso::Identity::new("mallory@evil.com@corp.com").unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("mallory"), "{shown}");
}
