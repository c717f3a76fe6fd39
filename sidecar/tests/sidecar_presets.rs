//! The vendor presets and `kind = "jwt"` through the real binary: each route called as the
//! vendor's portal calls it, with alice's session, and the answer checked as the vendor
//! reads it (status, where the browser goes, what comes back, the token verified with the
//! configured key); and `check-config` on the examples and on the mistakes it names.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http::{StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use support::*;

const ZENDESK_SECRET: &str = "zendesk-jwt-shared-secret-0123456789abcdef";
const CANNY_SECRET: &str = "canny-private-sso-key-0123456789abcdefghij";
const HELPJUICE_SECRET: &str = "helpjuice-jwt-shared-secret-0123456789abcd";
const CUSTOM_SECRET: &str = "custom-portal-hs384-secret-0123456789abcdefgh";

fn key_bytes(name: &str) -> Vec<u8> {
    std::fs::read(key_path(name)).unwrap()
}

fn alice() -> String {
    format!("sid={ALICE_SESSION}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A config reading alice from the test app, with `[session.claims]` `claims` and the
/// `[[portal]]` entries `portals`.
fn preset_config(upstream: &Upstream, claims: &str, portals: &str) -> String {
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

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ZENDESK_JWT_SECRET", ZENDESK_SECRET),
        ("CANNY_SSO_KEY", CANNY_SECRET),
        ("HELPJUICE_JWT_SECRET", HELPJUICE_SECRET),
        ("CUSTOM_JWT_SECRET", CUSTOM_SECRET),
    ]
}

/// The token's claims, its signature checked with `key` under `alg`, and its header
/// exactly `{"alg":…,"typ":"JWT"}`.
fn verify(token: &str, alg: Algorithm, key: &DecodingKey) -> Value {
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

fn hs(secret: &str) -> DecodingKey {
    DecodingKey::from_secret(secret.as_bytes())
}

fn assert_is_jti(value: &Value) {
    let jti = value.as_str().unwrap();
    assert_eq!(jti.len(), 32, "{jti}");
    assert!(jti.bytes().all(|b| b.is_ascii_hexdigit()), "{jti}");
}

/// An integer claim within a few seconds of `expected` (in `scale` units per second).
fn assert_near(value: &Value, expected: u64, scale: u64) {
    let got = value
        .as_u64()
        .unwrap_or_else(|| panic!("{value} is not an integer"));
    assert!(
        got.abs_diff(expected * scale) <= 5 * scale,
        "{got} is not near {}",
        expected * scale
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zendesk_posts_the_token_in_a_form_or_sends_it_in_the_query() {
    let upstream = Upstream::start().await;
    let config = preset_config(
        &upstream,
        "",
        r#"
[[portal]]
kind = "zendesk"
secret = { env = "ZENDESK_JWT_SECRET" }
callback_url = "https://acme.zendesk.com/access/jwt"

[[portal]]
kind = "zendesk"
path = "/sso/zendesk-query"
name = "zendesk-query"
secret = { env = "ZENDESK_JWT_SECRET" }
callback_url = "https://acme.zendesk.com/access/jwt"
token_in = "query"
logout_path = ""
"#,
    );
    let sidecar = Sidecar::start_with_env(&config, &env());
    let query = "brand_id=360001&locale_id=1176&timestamp=1764590000&return_to=%2Fhc%2Fen-us%2Farticles%2F42";
    let (status, headers, body) = get(
        &sidecar.url(&format!("/sso/zendesk?{query}")),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("form-action https://acme.zendesk.com;"),
        "{policy}"
    );
    let page = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        page.contains(
            r#"<form method="post" action="https://acme.zendesk.com/access/jwt?return_to=%2Fhc%2Fen-us%2Farticles%2F42&amp;brand_id=360001&amp;locale_id=1176&amp;timestamp=1764590000">"#
        ),
        "{page}"
    );
    let (_, rest) = page
        .split_once(r#"<input type="hidden" name="jwt" value=""#)
        .unwrap();
    let token = rest.split('"').next().unwrap();
    let claims = verify(token, Algorithm::HS256, &hs(ZENDESK_SECRET));
    assert_claim_names("token", &claims, &["iat", "jti", "email", "name"]);
    assert_near(&claims["iat"], now(), 1);
    assert_is_jti(&claims["jti"]);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["name"], "Alice Liddell");

    let (status, headers, _) = get(
        &sidecar.url(&format!("/sso/zendesk-query?{query}")),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    let (base, rest) = target.split_once("?jwt=").unwrap();
    assert_eq!(base, "https://acme.zendesk.com/access/jwt");
    let (token, carried) = rest.split_once('&').unwrap();
    assert_eq!(
        carried,
        "return_to=%2Fhc%2Fen-us%2Farticles%2F42&brand_id=360001&locale_id=1176&timestamp=1764590000"
    );
    let claims = verify(token, Algorithm::HS256, &hs(ZENDESK_SECRET));
    assert_eq!(claims["email"], "alice@example.com");

    // Signed out, the route sends the browser to the app's login page first.
    let (status, headers, _) = get(&sidecar.url(&format!("/sso/zendesk?{query}")), None).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location(&headers).starts_with("/login?next="),
        "{headers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canny_sends_the_token_to_canny_with_company_and_an_allowed_redirect() {
    let upstream = Upstream::start().await;
    let config = preset_config(
        &upstream,
        "id = \"/email\"",
        r#"
[[portal]]
kind = "canny"
secret = { env = "CANNY_SSO_KEY" }
redirect_origins = ["https://acme.canny.io"]
"#,
    );
    let sidecar = Sidecar::start_with_env(&config, &env());
    let (status, headers, _) = get(
        &sidecar.url("/sso/canny?companyID=5f0c1a2b&redirect=https%3A%2F%2Facme.canny.io%2Fideas%3Fsort%3Dnew"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    let rest = target
        .strip_prefix("https://canny.io/api/redirects/sso?ssoToken=")
        .unwrap_or_else(|| panic!("{target}"));
    let (token, carried) = rest.split_once('&').unwrap();
    assert_eq!(
        carried,
        "companyID=5f0c1a2b&redirect=https%3A%2F%2Facme.canny.io%2Fideas%3Fsort%3Dnew"
    );
    let claims = verify(token, Algorithm::HS256, &hs(CANNY_SECRET));
    assert_eq!(
        claims,
        json!({"email": "alice@example.com", "id": "alice@example.com", "name": "Alice Liddell"})
    );

    let (status, _, _) = get(
        &sidecar.url("/sso/canny?companyID=5f0c1a2b&redirect=https%3A%2F%2Fevil.example%2F"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshworks_signs_rs256_with_the_nonce_and_returns_to_the_allowed_redirect_uri() {
    let upstream = Upstream::start().await;
    let config = preset_config(
        &upstream,
        "id = \"/email\"",
        &format!(
            r#"
[[portal]]
kind = "freshworks"
private_key = {{ file = "{}" }}
redirect_origins = ["https://acme.freshworks.com"]
"#,
            key_path("test-only-rsa-private.pem")
        ),
    );
    let sidecar = Sidecar::start_with_env(&config, &env());
    let (status, headers, _) = get(
        &sidecar.url(
            "/sso/freshworks?response_type=id_token&client_id=451&scope=openid%20email%20profile\
             &state=st%2F1%3D&redirect_uri=https%3A%2F%2Facme.freshworks.com%2Fsp%2FOIDC%2F7%2Fimplicit&nonce=n-0S6_WzA2Mj",
        ),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    let rest = target
        .strip_prefix("https://acme.freshworks.com/sp/OIDC/7/implicit?id_token=")
        .unwrap_or_else(|| panic!("{target}"));
    let (token, carried) = rest.split_once('&').unwrap();
    assert_eq!(carried, "state=st%2F1%3D");
    let public = DecodingKey::from_rsa_pem(&key_bytes("test-only-rsa-public.pem")).unwrap();
    let claims = verify(token, Algorithm::RS256, &public);
    assert_claim_names(
        "token",
        &claims,
        &["sub", "email", "iat", "nonce", "given_name", "family_name"],
    );
    assert_eq!(claims["sub"], "alice@example.com");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["given_name"], "Alice");
    assert_eq!(claims["family_name"], "Liddell");
    assert_near(&claims["iat"], now(), 1);

    let (status, _, _) = get(
        &sidecar
            .url("/sso/freshworks?state=s&nonce=n&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mintlify_puts_an_eddsa_token_in_the_fragment() {
    let upstream = Upstream::start().await;
    let config = preset_config(
        &upstream,
        "",
        &format!(
            r#"
[[portal]]
kind = "mintlify"
private_key = {{ file = "{}" }}
callback_url = "https://docs.acme.com/login/jwt-callback"
token_ttl_secs = 900
"#,
            key_path("test-only-ed25519-private.pem")
        ),
    );
    let sidecar = Sidecar::start_with_env(&config, &env());
    let (status, headers, _) = get(
        &sidecar.url("/sso/mintlify?redirect=%2Fapi-reference%2Fusers"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    let (base, token) = target.split_once('#').unwrap();
    assert_eq!(
        base,
        "https://docs.acme.com/login/jwt-callback?redirect=%2Fapi-reference%2Fusers"
    );
    let public = DecodingKey::from_ed_pem(&key_bytes("test-only-ed25519-public.pem")).unwrap();
    let claims = verify(token, Algorithm::EdDSA, &public);
    assert_claim_names("token", &claims, &["exp", "expiresAt"]);
    assert_near(&claims["exp"], now() + 10, 1);
    assert_near(&claims["expiresAt"], now() + 900, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpjuice_signs_iat_in_milliseconds_and_passes_an_allowed_fallback_url() {
    let upstream = Upstream::start().await;
    let config = preset_config(
        &upstream,
        "",
        r#"
[[portal]]
kind = "helpjuice"
secret = { env = "HELPJUICE_JWT_SECRET" }
callback_url = "https://helpjuice.com/jwt/acme"
redirect_origins = ["https://help.acme.com"]
"#,
    );
    let sidecar = Sidecar::start_with_env(&config, &env());
    let (status, headers, _) = get(
        &sidecar.url("/sso/helpjuice?service=helpjuice&fallback_url=https%3A%2F%2Fhelp.acme.com%2Fen_US%2Fbilling"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    let rest = target
        .strip_prefix("https://helpjuice.com/jwt/acme?jwt=")
        .unwrap_or_else(|| panic!("{target}"));
    let (token, carried) = rest.split_once('&').unwrap();
    assert_eq!(
        carried,
        "fallback_url=https%3A%2F%2Fhelp.acme.com%2Fen_US%2Fbilling"
    );
    let claims = verify(token, Algorithm::HS256, &hs(HELPJUICE_SECRET));
    assert_claim_names(
        "token",
        &claims,
        &["jti", "iat", "email", "first_name", "last_name"],
    );
    assert_near(&claims["iat"], now(), 1000);
    assert_is_jti(&claims["jti"]);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["first_name"], "Alice");
    assert_eq!(claims["last_name"], "Liddell");
}

/// Two `kind = "jwt"` portals: every claim source, the target in the request and the
/// token in the fragment; and a fixed callback joined with a path, the token posted.
fn jwt_config(upstream: &Upstream) -> String {
    preset_config(
        upstream,
        "uid = \"/email\"",
        r#"
[[portal]]
kind = "jwt"
algorithm = "HS384"
secret = { env = "CUSTOM_JWT_SECRET" }
target_param = "return"
redirect_origins = ["https://help.acme.example"]
token_param = "token"
token_in = "fragment"
pass_params = ["state", "lang"]
token_ttl_secs = 120

[portal.claims]
email = { identity = "email" }
sub = { identity = "uid" }
given = { identity = "first_name" }
pic = { identity = "avatar_url", optional = true }
iat = { time = "seconds" }
iat_ms = { time = "milliseconds" }
nbf = { time = "seconds", add_secs = -30 }
exp = "expiry"
jti = "random"
nonce = { param = "nonce" }
scope = { value = ["read", "comment"] }
tier = { value = 3 }

[[portal]]
kind = "jwt"
path = "/sso/forum"
algorithm = "HS256"
secret = { env = "CUSTOM_JWT_SECRET" }
callback_url = "https://forum.acme.example/session/sso"
path_param = "to"
token_in = "form_post"

[portal.claims]
email = { identity = "email" }
"#,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_portal_signs_each_claim_source_into_the_fragment() {
    let upstream = Upstream::start().await;
    let sidecar = Sidecar::start_with_env(&jwt_config(&upstream), &env());
    let (status, headers, _) = get(
        &sidecar.url(
            "/sso/jwt?lang=en%20GB&nonce=n%2B1&return=https%3A%2F%2Fhelp.acme.example%2Fa%3Fb%3D1&state=x%26y",
        ),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    let (base, token) = target.split_once("#token=").unwrap();
    assert_eq!(
        base,
        "https://help.acme.example/a?b=1&state=x%26y&lang=en%20GB"
    );
    let claims = verify(token, Algorithm::HS384, &hs(CUSTOM_SECRET));
    assert_claim_names(
        "token",
        &claims,
        &[
            "email", "sub", "given", "iat", "iat_ms", "nbf", "exp", "jti", "nonce", "scope", "tier",
        ],
    );
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["sub"], "alice@example.com");
    assert_eq!(claims["given"], "Alice");
    let now = now();
    assert_near(&claims["iat"], now, 1);
    assert_near(&claims["iat_ms"], now, 1000);
    assert_near(&claims["nbf"], now - 30, 1);
    assert_near(&claims["exp"], now + 120, 1);
    assert_is_jti(&claims["jti"]);
    assert_eq!(claims["nonce"], "n+1");
    assert_eq!(claims["scope"], json!(["read", "comment"]));
    assert_eq!(claims["tier"], json!(3));

    let (status, _, _) = get(
        &sidecar.url("/sso/jwt?return=https%3A%2F%2Fevil.example%2F"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_portal_posts_the_token_to_its_callback_joined_with_the_path() {
    let upstream = Upstream::start().await;
    let sidecar = Sidecar::start_with_env(&jwt_config(&upstream), &env());
    let (status, headers, body) = get(
        &sidecar.url("/sso/forum?to=%2Ft%2Fwelcome%2F12"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("form-action https://forum.acme.example;"),
        "{policy}"
    );
    let page = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        page.contains(
            r#"<form method="post" action="https://forum.acme.example/session/sso/t/welcome/12">"#
        ),
        "{page}"
    );
    let (_, rest) = page
        .split_once(r#"<input type="hidden" name="jwt" value=""#)
        .unwrap();
    let claims = verify(
        rest.split('"').next().unwrap(),
        Algorithm::HS256,
        &hs(CUSTOM_SECRET),
    );
    assert_eq!(claims, json!({"email": "alice@example.com"}));
}

/// The browser's target split at the token parameter `param`: what comes before, the
/// token, and what comes after (`&...`, or empty).
fn split_token<'a>(target: &'a str, param: &str) -> (&'a str, &'a str, &'a str) {
    let (base, rest) = target
        .split_once(&format!("?{param}="))
        .unwrap_or_else(|| panic!("no {param} in {target}"));
    let (token, after) = rest.split_once('&').map_or((rest, ""), |(t, a)| (t, a));
    (base, token, after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_sites_and_frill_send_their_tokens_where_their_vendors_read_them() {
    const DOCS_SECRET: &str = "docs-sites-shared-secret-0123456789abcdef";
    let upstream = Upstream::start().await;
    let config = preset_config(
        &upstream,
        "id = \"/email\"",
        r#"
[[portal]]
kind = "gitbook"
secret = { env = "DOCS_SECRET" }
callback_url = "https://docs.acme.com"
token_ttl_secs = 600

[[portal]]
kind = "helpscout"
secret = { env = "DOCS_SECRET" }
callback_url = "https://docs.acme.com/authcallback"

[[portal]]
kind = "readme"
secret = { env = "DOCS_SECRET" }
callback_url = "https://docs.acme.com/"

[[portal]]
kind = "helpdocs"
secret = { env = "DOCS_SECRET" }
callback_url = "https://acme.helpdocs.io/"

[[portal]]
kind = "frill"
secret = { env = "DOCS_SECRET" }
redirect_origins = ["https://acme.frill.co"]
"#,
    );
    let mut env = env();
    env.push(("DOCS_SECRET", DOCS_SECRET));
    let sidecar = Sidecar::start_with_env(&config, &env);
    let key = hs(DOCS_SECRET);
    let now = now();
    let follow = |path: &'static str| {
        let url = sidecar.url(path);
        async move {
            let (status, headers, _) = get(&url, Some(&alice())).await;
            assert_eq!(status, StatusCode::FOUND, "{path}");
            location(&headers)
        }
    };

    let target = follow("/sso/gitbook?location=guides%2Fsetup").await;
    let (base, token, after) = split_token(&target, "jwt_token");
    assert_eq!((base, after), ("https://docs.acme.com/guides/setup", ""));
    let claims = verify(token, Algorithm::HS256, &key);
    assert_claim_names("token", &claims, &["iat", "exp", "email", "name"]);
    assert_near(&claims["exp"], now + 600, 1);

    let target = follow("/sso/helpscout?returnTo=%2Farticle%2F12-billing").await;
    let (base, token, after) = split_token(&target, "token");
    assert_eq!(
        (base, after),
        (
            "https://docs.acme.com/authcallback",
            "returnTo=%2Farticle%2F12-billing"
        )
    );
    let claims = verify(token, Algorithm::HS512, &key);
    assert_claim_names("token", &claims, &["sub", "exp"]);
    assert_eq!(claims["sub"], "alice@example.com");
    assert_near(&claims["exp"], now + 3600, 1);

    let target = follow("/sso/readme?redirect=%2Fdocs%2Fgetting-started").await;
    let (base, token, after) = split_token(&target, "auth_token");
    assert_eq!(
        (base, after),
        (
            "https://docs.acme.com/",
            "redirect=%2Fdocs%2Fgetting-started"
        )
    );
    let claims = verify(token, Algorithm::HS256, &key);
    assert_eq!(
        claims,
        json!({"name": "Alice Liddell", "email": "alice@example.com"})
    );

    let target = follow("/sso/helpdocs").await;
    let (base, token, after) = split_token(&target, "jwt");
    assert_eq!((base, after), ("https://acme.helpdocs.io/", ""));
    let claims = verify(token, Algorithm::HS256, &key);
    assert_claim_names("token", &claims, &["iat", "exp", "aud"]);
    assert_eq!(claims["aud"], "https://acme.helpdocs.io");

    let target = follow("/sso/frill?redirect=https%3A%2F%2Facme.frill.co%2Fb%2Froadmap").await;
    let (base, token, after) = split_token(&target, "ssoToken");
    assert_eq!((base, after), ("https://acme.frill.co/b/roadmap", ""));
    let claims = verify(token, Algorithm::HS256, &key);
    assert_eq!(
        claims,
        json!({"email": "alice@example.com", "id": "alice@example.com", "name": "Alice Liddell"})
    );
}

/// `check-config` on `config`, with the test's secrets and the PEM keys in the
/// environment.
fn check_config(config: &str) -> std::process::Output {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", config);
    check_config_at(path.to_str().unwrap())
}

fn check_config_at(path: &str) -> std::process::Output {
    let ed25519 = String::from_utf8(key_bytes("test-only-ed25519-private.pem")).unwrap();
    let rsa = String::from_utf8(key_bytes("test-only-rsa-private.pem")).unwrap();
    let mut env = env();
    env.extend([
        (
            "GITBOOK_SIGNING_KEY",
            "gitbook-site-private-key-0123456789abcdef",
        ),
        (
            "HELPSCOUT_DOCS_SECRET",
            "helpscout-docs-secret-0123456789abcdefgh",
        ),
        (
            "README_JWT_SECRET",
            "readme-jwt-secret-0123456789abcdefghijkl",
        ),
        (
            "HELPDOCS_JWT_SECRET",
            "helpdocs-jwt-secret-0123456789abcdefghij",
        ),
        ("FRILL_SSO_KEY", "frill-sso-key-0123456789abcdefghijklmnop"),
        ("HELPCENTER_JWT_SECRET", CUSTOM_SECRET),
    ]);
    env.push(("MINTLIFY_PRIVATE_KEY", &ed25519));
    env.push(("FRESHWORKS_PRIVATE_KEY", &rsa));
    run_cli(&["check-config", "--config", path], &env)
}

#[test]
fn every_example_passes_check_config_and_shows_each_portal_without_its_key() {
    for (example, portals) in [
        (
            "zendesk.toml",
            &["zendesk /sso/zendesk -> https://acme.zendesk.com/access/jwt"][..],
        ),
        (
            "docs-sites.toml",
            &[
                "gitbook /sso/gitbook -> https://docs.acme.com, HS256",
                "helpscout /sso/helpscout -> https://docs.acme.com/authcallback, HS512",
                "readme /sso/readme",
                "mintlify /sso/mintlify -> https://docs.acme.com/login/jwt-callback, EdDSA",
                "helpdocs /sso/helpdocs",
            ],
        ),
        (
            "feedback-boards.toml",
            &[
                "canny /sso/canny -> https://canny.io/api/redirects/sso",
                "frill /sso/frill -> redirect on https://acme.frill.co",
            ],
        ),
        (
            "helpjuice.toml",
            &[
                "helpjuice /sso/helpjuice -> https://helpjuice.com/jwt/acme, HS256, claims jti, iat (ms)",
            ],
        ),
        (
            "freshworks.toml",
            &[
                "freshworks /sso/freshworks -> redirect_uri on https://acme.freshworks.com, https://acme.freshdesk.com, RS256",
            ],
        ),
        (
            "jwt.toml",
            &["jwt /sso/helpcenter -> https://help.acme.example/sso/jwt (query), HS256"],
        ),
    ] {
        let path = format!("{}/examples/{example}", env!("CARGO_MANIFEST_DIR"));
        let output = check_config_at(&path);
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(0), "{example}: {stderr}");
        for portal in portals {
            assert!(stdout.contains(portal), "{example}: {portal}\n{stdout}");
        }
        for secret in [
            ZENDESK_SECRET,
            CANNY_SECRET,
            HELPJUICE_SECRET,
            CUSTOM_SECRET,
            "PRIVATE KEY",
        ] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{example}"
            );
        }
    }
}

#[test]
fn check_config_names_the_portal_and_the_identity_field_it_lacks() {
    let upstream = "listen = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:3000\"\n\
                    [session]\ncookie = \"sid\"\nintrospect = { url = \"http://127.0.0.1:3000/api/me\" }\n";
    let output = check_config(&format!(
        "{upstream}[[portal]]\nkind = \"helpjuice\"\nsecret = {{ env = \"HELPJUICE_JWT_SECRET\" }}\n\
         callback_url = \"https://helpjuice.com/jwt/acme\"\n\
         [[portal]]\nkind = \"canny\"\nsecret = {{ env = \"CANNY_SSO_KEY\" }}\n"
    ));
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "portal[1]: kind \"canny\" needs the identity field `id`: map it in [session.claims]"
        ),
        "{stderr}"
    );
}

#[test]
fn check_config_names_a_key_that_does_not_fit_the_algorithm() {
    let upstream = "listen = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:3000\"\n\
                    [session]\ncookie = \"sid\"\nintrospect = { url = \"http://127.0.0.1:3000/api/me\" }\n";
    let rsa = key_path("test-only-rsa-private.pem");
    for (entry, expected) in [
        (
            format!(
                "kind = \"zendesk\"\nsecret = {{ file = \"{rsa}\" }}\n\
                 callback_url = \"https://acme.zendesk.com/access/jwt\"\n"
            ),
            "portal[0].secret: holds a PEM key",
        ),
        (
            format!(
                "kind = \"mintlify\"\nprivate_key = {{ file = \"{rsa}\" }}\n\
                 callback_url = \"https://docs.acme.com/login/jwt-callback\"\n"
            ),
            "portal[0].private_key: is not an Ed25519 private key in PEM, as EdDSA needs",
        ),
        (
            "kind = \"jwt\"\nalgorithm = \"RS256\"\nsecret = { env = \"CUSTOM_JWT_SECRET\" }\n\
             callback_url = \"https://help.acme.example/sso\"\n"
                .to_owned(),
            "portal[0].secret: algorithm RS256 signs with a PEM private key",
        ),
        (
            format!(
                "kind = \"jwt\"\nalgorithm = \"HS256\"\nprivate_key = {{ file = \"{rsa}\" }}\n\
                 callback_url = \"https://help.acme.example/sso\"\n"
            ),
            "portal[0].private_key: algorithm HS256 signs with a shared secret",
        ),
    ] {
        let output = check_config(&format!("{upstream}[[portal]]\n{entry}"));
        assert_eq!(output.status.code(), Some(2), "{entry}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
        assert!(!stderr.contains("PRIVATE KEY") && !stderr.contains(CUSTOM_SECRET));
    }
}

// Zendesk sends its sign-in errors to the Remote logout URL as `?kind=error&message=…`:
// the sidecar shows the message and neither ends the session nor starts a sign-in, so
// a failing portal cannot loop the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zendesk_errors_on_the_logout_route_are_shown_not_retried() {
    let upstream = Upstream::start().await;
    let config = preset_config(
        &upstream,
        "",
        r#"
[[portal]]
kind = "zendesk"
secret = { env = "ZENDESK_JWT_SECRET" }
callback_url = "https://acme.zendesk.com/access/jwt"
"#,
    );
    let sidecar = Sidecar::start_with_env(&config, &env());
    let calls_before = upstream.me_calls.load(std::sync::atomic::Ordering::SeqCst);
    let (status, headers, body) = get(
        &sidecar.url("/sso/zendesk/logout?kind=error&message=Please%20sign%20in%20%3Cagain%3E"),
        Some(&alice()),
    )
    .await;
    let body = String::from_utf8_lossy(&body);
    assert!(status.is_server_error(), "{status}");
    assert!(
        headers.get(header::LOCATION).is_none(),
        "no redirect: no loop"
    );
    assert!(
        headers.get_all(header::SET_COOKIE).iter().next().is_none(),
        "the session is kept"
    );
    assert!(body.contains("Please sign in &lt;again&gt;"), "{body}");
    assert!(!body.contains("<again>"), "{body}");
    assert_eq!(
        upstream.me_calls.load(std::sync::atomic::Ordering::SeqCst),
        calls_before,
        "nobody was looked up"
    );

    // Without `kind=error` the same route is the Remote logout URL: the session ends.
    let (status, headers, _) = get(&sidecar.url("/sso/zendesk/logout"), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("sid=;")),
        "{headers:?}"
    );
}
