//! The docs-site and feedback-board presets through the real binary (GitBook, Help Scout,
//! ReadMe, HelpDocs and Mintlify; Canny and Frill): each route called as the vendor calls
//! it, with alice's session, and the token checked where the vendor reads it, verified
//! with the configured key.

// Vendor names (GitBook, ReadMe, HelpDocs) are prose here, not code.
#![allow(clippy::doc_markdown)]

use crate::support;

use http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::json;
use support::presets::{
    CANNY_SECRET, alice, assert_near, env, hs, key_bytes, now, preset_config, verify,
};
use support::*;

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
