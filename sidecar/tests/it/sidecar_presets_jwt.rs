//! `kind = "jwt"` portals through the real binary: every claim source signed into a token
//! in the fragment, and a token posted to a fixed callback joined with the path.

use crate::support;

use http::StatusCode;
use jsonwebtoken::Algorithm;
use serde_json::json;
use support::presets::{
    CUSTOM_SECRET, alice, assert_is_jti, assert_near, env, hs, now, preset_config, verify,
};
use support::*;

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
