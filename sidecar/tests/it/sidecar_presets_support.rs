//! The support-desk presets through the real binary (Zendesk, Freshworks and Helpjuice):
//! each route called as the vendor's portal calls it, with alice's session, and the
//! answer checked as the vendor reads it (status, where the browser goes, what comes back,
//! the token verified with the configured key); and Zendesk's errors on its logout route
//! shown, not retried.

use crate::support;

use http::{StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey};
use support::presets::{
    HELPJUICE_SECRET, ZENDESK_SECRET, alice, assert_is_jti, assert_near, env, hs, key_bytes, now,
    preset_config, verify,
};
use support::*;

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
