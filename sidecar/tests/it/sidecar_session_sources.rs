//! The sidecar binary reading the app's session from a cookie instead of introspection: a
//! JWT (with `aud` and `iss` when the config names them) or a signed cookie, verified with
//! the configured key.

use crate::support;

use http::StatusCode;
use support::*;

/// The config with the `introspect` line replaced by `source`.
fn config_with_source(upstream: &Upstream, source: &str) -> String {
    let me = format!("{}/api/me", upstream.url());
    let text = config(&upstream.url(), &me, "", "");
    let line = text
        .lines()
        .find(|l| l.starts_with("introspect = "))
        .unwrap()
        .to_owned();
    text.replace(&line, source)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_session_cookie_is_verified_and_read() {
    const APP_KEY: &str = "the-apps-own-session-signing-key-0123456789";
    let upstream = Upstream::start().await;
    let config = config_with_source(
        &upstream,
        r#"jwt = { secret = { env = "APP_JWT_SECRET" }, algorithm = "HS256" }"#,
    );
    let sidecar = Sidecar::start_with_env(&config, &[("APP_JWT_SECRET", APP_KEY)]);
    let session = |key: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"email": "bob@example.com", "first_name": "Bob"}),
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    };
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha"),
        Some(&format!("sid={}", session(APP_KEY))),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let claims = decode(
        &query_param(&location(&headers), "jwt").unwrap(),
        AHA_SECRET,
    );
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["first_name"], "Bob");
    assert_eq!(claims["last_name"], "");
    // A cookie signed with another key is no session: off to the login page.
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha"),
        Some(&format!(
            "sid={}",
            session("a-forged-key-a-forged-key-a-forged-key")
        )),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location(&headers).starts_with("/login?next="));
}

/// An app whose session tokens carry `aud` and `iss` names them in the config; a token
/// for another audience or from another issuer is no session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_session_cookie_with_audience_and_issuer_is_checked_against_the_config() {
    const APP_KEY: &str = "the-apps-own-session-signing-key-0123456789";
    let upstream = Upstream::start().await;
    let session = |aud: &str, iss: &str| {
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"email": "dave@example.com", "aud": aud, "iss": iss}),
            &jsonwebtoken::EncodingKey::from_secret(APP_KEY.as_bytes()),
        )
        .unwrap();
        format!("sid={token}")
    };
    let signs_in = |status: StatusCode, headers: &http::HeaderMap| {
        status == StatusCode::FOUND && location(headers).contains("jwt=")
    };

    // Without `audience`, a token carrying `aud` is refused (RFC 7519).
    let plain = config_with_source(
        &upstream,
        r#"jwt = { secret = { env = "APP_JWT_SECRET" } }"#,
    );
    let sidecar = Sidecar::start_with_env(&plain, &[("APP_JWT_SECRET", APP_KEY)]);
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha"),
        Some(&session("portal-sso", "https://app.example")),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location(&headers).starts_with("/login?next="),
        "{headers:?}"
    );

    let named = config_with_source(
        &upstream,
        r#"jwt = { secret = { env = "APP_JWT_SECRET" }, audience = ["web", "portal-sso"], issuer = "https://app.example" }"#,
    );
    let sidecar = Sidecar::start_with_env(&named, &[("APP_JWT_SECRET", APP_KEY)]);
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha"),
        Some(&session("portal-sso", "https://app.example")),
    )
    .await;
    assert!(signs_in(status, &headers), "{status} {headers:?}");
    let claims = decode(
        &query_param(&location(&headers), "jwt").unwrap(),
        AHA_SECRET,
    );
    assert_eq!(claims["email"], "dave@example.com");
    for (aud, iss) in [
        ("billing", "https://app.example"),
        ("portal-sso", "https://evil.example"),
    ] {
        let (status, headers, _) = get(&sidecar.url("/sso/aha"), Some(&session(aud, iss))).await;
        assert_eq!(status, StatusCode::FOUND, "{aud} {iss}");
        assert!(
            location(&headers).starts_with("/login?next="),
            "{aud} {iss}: {headers:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_session_cookie_is_verified_and_read() {
    use base64::Engine as _;
    let master = [42u8; 64];
    let encoded = base64::engine::general_purpose::STANDARD.encode(master);
    let upstream = Upstream::start().await;
    let config = config_with_source(
        &upstream,
        r#"signed = { key = { env = "APP_COOKIE_KEY" }, mode = "signed" }"#,
    );
    let sidecar = Sidecar::start_with_env(&config, &[("APP_COOKIE_KEY", &encoded)]);
    let mut jar = cookie::CookieJar::new();
    jar.signed_mut(&cookie::Key::from(&master))
        .add(cookie::Cookie::new(
            "sid",
            r#"{"email":"carol@example.com"}"#,
        ));
    let value = jar.get("sid").unwrap().value().to_owned();
    let (status, headers, _) =
        get(&sidecar.url("/sso/kustomer"), Some(&format!("sid={value}"))).await;
    assert_eq!(status, StatusCode::FOUND);
    let token = query_param(&location(&headers), "externalToken").unwrap();
    assert_eq!(
        decode(&token, KUSTOMER_SECRET)["email"],
        "carol@example.com"
    );
}
