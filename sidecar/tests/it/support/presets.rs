//! What the vendor preset tests share: the presets' secrets, alice's session, a config
//! reading her from the test app with the portals under test, and checks of a signed
//! token (its header, signature, `jti` and times).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::{ALICE_SESSION, Upstream, key_path};

// The portals' secrets, in the environment under the names `env` gives them.
pub const ZENDESK_SECRET: &str = "zendesk-jwt-shared-secret-0123456789abcdef";
pub const CANNY_SECRET: &str = "canny-private-sso-key-0123456789abcdefghij";
pub const HELPJUICE_SECRET: &str = "helpjuice-jwt-shared-secret-0123456789abcd";
pub const CUSTOM_SECRET: &str = "custom-portal-hs384-secret-0123456789abcdefgh";

/// The bytes of the test-only key `name` under `tests/keys/`.
pub fn key_bytes(name: &str) -> Vec<u8> {
    std::fs::read(key_path(name)).unwrap()
}

/// The `Cookie` header of alice's browser: the app's session.
pub fn alice() -> String {
    format!("sid={ALICE_SESSION}")
}

/// The current time in seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A config reading alice from the test app, with `[session.claims]` `claims` and the
/// `[[portal]]` entries `portals`.
pub fn preset_config(upstream: &Upstream, claims: &str, portals: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{url}"

[session]
cookie = "sid"
introspect = {{ url = "{url}/api/me", timeout_ms = 1000 }}

[session.claims]
{claims}

{portals}
"#,
        url = upstream.url()
    )
}

/// The environment holding the secrets the preset configs name.
pub fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ZENDESK_JWT_SECRET", ZENDESK_SECRET),
        ("CANNY_SSO_KEY", CANNY_SECRET),
        ("HELPJUICE_JWT_SECRET", HELPJUICE_SECRET),
        ("CUSTOM_JWT_SECRET", CUSTOM_SECRET),
    ]
}

/// The token's claims, its signature checked with `key` under `alg`, and its header
/// exactly `{"alg":…,"typ":"JWT"}`.
pub fn verify(token: &str, alg: Algorithm, key: &DecodingKey) -> Value {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    let name = serde_json::to_value(alg).unwrap();
    assert_eq!(header, json!({"alg": name, "typ": "JWT"}));
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, key, &validation)
        .unwrap()
        .claims
}

/// The key that verifies an HS token signed with `secret`.
pub fn hs(secret: &str) -> DecodingKey {
    DecodingKey::from_secret(secret.as_bytes())
}

/// Asserts that `value` is a `jti` as the presets make it: 32 hex digits.
pub fn assert_is_jti(value: &Value) {
    let jti = value.as_str().unwrap();
    assert_eq!(jti.len(), 32, "{jti}");
    assert!(jti.bytes().all(|b| b.is_ascii_hexdigit()), "{jti}");
}

/// An integer claim within a few seconds of `expected` (in `scale` units per second).
pub fn assert_near(value: &Value, expected: u64, scale: u64) {
    let got = value
        .as_u64()
        .unwrap_or_else(|| panic!("{value} is not an integer"));
    assert!(
        got.abs_diff(expected * scale) <= 5 * scale,
        "{got} is not near {}",
        expected * scale
    );
}
