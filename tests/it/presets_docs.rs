//! GitBook, Help Scout Docs, ReadMe and Mintlify, each driven as the vendor's docs site
//! drives the login route (vendors.md gives the parameters each one sends).

// Vendor names (GitBook, ReadMe) are prose here, not code.
#![allow(clippy::doc_markdown)]

use crate::common;

use common::tokens::{
    alice_in_full, claim_names, decode_hs, decode_with, ed25519_public, location_and_token,
    p256_public, private_key, signed_in,
};
use common::*;
use http::StatusCode;
use jsonwebtoken::Algorithm;
use portal_sso::{EventKind, Identity, JwtAlgorithm, JwtPortal, Secret};

const GITBOOK_KEY: &str = "gitbook-site-private-key-acme-0123456789";
const HELPSCOUT_SECRET: &str = "aGVscC1zY291dC1zaGFyZWQtc2VjcmV0LWFjbWUtMDEyMw==";
const README_SECRET: &str = "readme-project-jwt-secret-acme-0123456789";
const MINTLIFY_CALLBACK: &str = "https://docs.acme.com/login/jwt-callback";

// "${SITE_URL}/${req.query.location || ''}?jwt_token=${jwt}"; iat and exp two hours on.
#[tokio::test]
async fn gitbook_joins_location_to_the_site_and_adds_jwt_token() {
    let recorder = Recorder::default();
    for (site, location, expected) in [
        (
            "https://docs.acme.com",
            "getting-started%2Fquickstart",
            "https://docs.acme.com/getting-started/quickstart?jwt_token=TOKEN",
        ),
        (
            "https://acme.gitbook.io/docs/",
            "%2Fapi%2Fauth",
            "https://acme.gitbook.io/docs/api/auth?jwt_token=TOKEN",
        ),
        (
            "https://docs.acme.com",
            "",
            "https://docs.acme.com/?jwt_token=TOKEN",
        ),
    ] {
        let app = signed_in(
            JwtPortal::gitbook(Secret::new(GITBOOK_KEY), site),
            alice_in_full(),
            &recorder,
        );
        let reply = send(&app, get_req(&format!("/sso/gitbook?location={location}"))).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        let (shown, token) = location_and_token(&reply, "jwt_token");
        assert_eq!(shown, expected);
        let claims = decode_hs(&token, Algorithm::HS256, GITBOOK_KEY);
        assert_eq!(claim_names(&claims), ["email", "exp", "iat", "name"]);
        let iat = claims["iat"].as_u64().unwrap();
        assert!(iat.abs_diff(now()) <= 5);
        assert_eq!(
            claims["exp"].as_u64(),
            Some(iat + 7200),
            "an arbitrary 2-hour expiration"
        );
        assert_eq!(recorder.take()[0].reason, None);
    }
    // "location is a path to be joined to the site URL — join safely (no //evil, no scheme)".
    let app = signed_in(
        JwtPortal::gitbook(Secret::new(GITBOOK_KEY), "https://docs.acme.com"),
        alice_in_full(),
        &recorder,
    );
    for location in [
        "%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "..%2F..%2Fx",
        "a%5Cb",
        "a%09b",
    ] {
        let reply = send(&app, get_req(&format!("/sso/gitbook?location={location}"))).await;
        assert_eq!(
            location_and_token(&reply, "jwt_token").0,
            "https://docs.acme.com/?jwt_token=TOKEN"
        );
        let events = recorder.take();
        assert_eq!(events[0].kind, EventKind::TokenIssued);
        assert_eq!(
            events[0].reason.as_deref(),
            Some("location_dropped"),
            "{location}"
        );
    }
}

// "{docsSiteUrl}/authcallback?token=<jwt>&returnTo=<returnTo>"; `{exp, sub: email}`, HS512.
#[tokio::test]
async fn helpscout_sends_an_hs512_token_with_return_to() {
    let app = signed_in(
        JwtPortal::helpscout(
            Secret::new(HELPSCOUT_SECRET),
            "https://docs.acme.com/authcallback",
        ),
        alice_in_full(),
        &Recorder::default(),
    );
    let reply = send(
        &app,
        get_req("/sso/helpscout?returnTo=%2Farticle%2F12-setup%3Fx%3D1"),
    )
    .await;
    let (location, token) = location_and_token(&reply, "token");
    assert_eq!(
        location,
        "https://docs.acme.com/authcallback?token=TOKEN&returnTo=%2Farticle%2F12-setup%3Fx%3D1"
    );
    let claims = decode_hs(&token, Algorithm::HS512, HELPSCOUT_SECRET);
    assert_eq!(claim_names(&claims), ["exp", "sub"]);
    assert_eq!(claims["sub"], "alice@example.com");
    let exp = claims["exp"].as_u64().expect("exp in seconds");
    assert!(exp.abs_diff(now() + 3600) <= 5, "the Docs session's end");

    let reply = send(
        &app,
        get_req("/sso/helpscout?returnTo=https%3A%2F%2Fevil.example"),
    )
    .await;
    assert_eq!(
        location_and_token(&reply, "token").0,
        "https://docs.acme.com/authcallback?token=TOKEN"
    );
}

// "https://HUB/?auth_token=<jwt>; deep link with &redirect=/page-to-go-to".
#[tokio::test]
async fn readme_adds_auth_token_and_redirect_to_the_hub() {
    let app = signed_in(
        JwtPortal::readme(Secret::new(README_SECRET), "https://docs.acme.com/"),
        alice_in_full().with_field("is_admin", true),
        &Recorder::default(),
    );
    let reply = send(
        &app,
        get_req("/sso/readme?redirect=%2Fdocs%2Fgetting-started&isAdmin=true"),
    )
    .await;
    let (location, token) = location_and_token(&reply, "auth_token");
    assert_eq!(
        location,
        "https://docs.acme.com/?auth_token=TOKEN&redirect=%2Fdocs%2Fgetting-started"
    );
    let claims = decode_hs(&token, Algorithm::HS256, README_SECRET);
    assert_eq!(
        claim_names(&claims),
        ["email", "name"],
        "isAdmin only when configured"
    );
    assert_eq!(claims["name"], "Alice Liddell");

    // isAdmin from an identity field the app sets, named explicitly.
    let app = signed_in(
        JwtPortal::readme(Secret::new(README_SECRET), "https://docs.acme.com/")
            .with_claim("isAdmin", portal_sso::Claim::identity_if_known("is_admin")),
        Identity::new("bob@example.com")
            .unwrap()
            .with_field("is_admin", false),
        &Recorder::default(),
    );
    let reply = send(&app, get_req("/sso/readme?isAdmin=true")).await;
    let claims = decode_hs(
        &location_and_token(&reply, "auth_token").1,
        Algorithm::HS256,
        README_SECRET,
    );
    assert_eq!(
        claim_names(&claims),
        ["email", "isAdmin"],
        "no name known for Bob"
    );
    assert_eq!(claims["isAdmin"], false);
}

// "https://docs.foo.com/login/jwt-callback?redirect=%2Fquickstart#{SIGNED_JWT}", EdDSA,
// "10 second JWT expiration", expiresAt the session's end.
#[tokio::test]
async fn mintlify_puts_an_eddsa_token_in_the_fragment_and_redirect_in_the_query() {
    let app = signed_in(
        JwtPortal::mintlify(
            private_key("test-only-ed25519-private.pem"),
            MINTLIFY_CALLBACK,
        ),
        alice_in_full(),
        &Recorder::default(),
    );
    let reply = send(&app, get_req("/sso/mintlify?redirect=%2Fquickstart")).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let (before, token) = reply.location().split_once('#').expect("a fragment");
    assert_eq!(
        before,
        format!("{MINTLIFY_CALLBACK}?redirect=%2Fquickstart")
    );
    let (_, claims) = decode_with(token, Algorithm::EdDSA, &ed25519_public());
    assert_eq!(claim_names(&claims), ["exp", "expiresAt", "groups"]);
    let exp = claims["exp"].as_u64().unwrap();
    assert!(exp.abs_diff(now() + 10) <= 2, "a 10-second handshake");
    assert!(claims["expiresAt"].as_u64().unwrap().abs_diff(now() + 3600) <= 5);
    assert_eq!(claims["groups"], serde_json::json!(["beta", "docs"]));

    // Mintlify's algorithm changed before: ES256 with a P-256 key.
    let es256 = JwtPortal::mintlify(private_key("test-only-p256-private.pem"), MINTLIFY_CALLBACK)
        .with_algorithm(JwtAlgorithm::ES256);
    let reply = send(
        &signed_in(es256, alice_in_full(), &Recorder::default()),
        get_req("/sso/mintlify"),
    )
    .await;
    let (before, token) = reply.location().split_once('#').unwrap();
    assert_eq!(before, MINTLIFY_CALLBACK);
    decode_with(token, Algorithm::ES256, &p256_public());
}
