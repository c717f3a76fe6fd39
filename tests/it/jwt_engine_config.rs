//! The engine's algorithms and keys, and the settings it refuses at build time with a
//! `ConfigError` naming the field.

use crate::common;

use common::tokens::{
    decode_with, ed25519_public, location_and_token, p256_public, private_key, rsa_public,
};
use common::*;
use http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey};
use portal_sso::{
    Claim, ConfigError, JwtAlgorithm, JwtPortal, PassParam, Secret, SsoLayer, TimeUnit, TokenIn,
};

const SECRET: &str = "a-generic-portal-secret-0123456789abcdef";
const CALLBACK: &str = "https://help.acme.example/sso/jwt";

fn portal(algorithm: JwtAlgorithm, key: Secret) -> JwtPortal {
    JwtPortal::new(algorithm, key)
        .with_callback_url(CALLBACK)
        .with_claim("email", Claim::identity("email"))
        .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
}

fn refused(portal: JwtPortal) -> ConfigError {
    SsoLayer::builder()
        .with_identity(Users::default())
        .with_portal(portal)
        .build()
        .expect_err("the configuration is refused")
}

#[tokio::test]
async fn every_algorithm_signs_what_its_key_verifies_with_typ_jwt() {
    let secret = || Secret::new(SECRET);
    let hs = || DecodingKey::from_secret(SECRET.as_bytes());
    for (algorithm, key, alg, verify) in [
        (JwtAlgorithm::HS256, secret(), Algorithm::HS256, hs()),
        (JwtAlgorithm::HS384, secret(), Algorithm::HS384, hs()),
        (JwtAlgorithm::HS512, secret(), Algorithm::HS512, hs()),
        (
            JwtAlgorithm::RS256,
            private_key("test-only-rsa-private.pem"),
            Algorithm::RS256,
            rsa_public(),
        ),
        (
            JwtAlgorithm::ES256,
            private_key("test-only-p256-private.pem"),
            Algorithm::ES256,
            p256_public(),
        ),
        (
            JwtAlgorithm::EdDSA,
            private_key("test-only-ed25519-private.pem"),
            Algorithm::EdDSA,
            ed25519_public(),
        ),
    ] {
        let users = Users::default();
        let app = app(SsoLayer::builder()
            .with_identity(users.clone())
            .with_portal(portal(algorithm, key)));
        let reply = send(&app, get_as("/sso/jwt", ALICE_SID)).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{algorithm}");
        let (_, token) = location_and_token(&reply, "jwt");
        let (header, claims) = decode_with(&token, alg, &verify);
        assert_eq!(header.kid, None);
        assert_eq!(claims["email"], "alice@example.com", "{algorithm}");
        // Exactly `alg` and `typ` in the header.
        let header: serde_json::Value = serde_json::from_str(&header_json(&token)).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": alg_name(alg), "typ": "JWT"})
        );
    }
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        _ => unreachable!(),
    }
}

#[test]
fn a_key_that_does_not_fit_its_algorithm_is_named() {
    for (algorithm, key, field) in [
        (
            JwtAlgorithm::RS256,
            private_key("test-only-p256-private.pem"),
            "portals[0].private_key",
        ),
        (
            JwtAlgorithm::RS256,
            private_key("test-only-rsa-public.pem"),
            "portals[0].private_key",
        ),
        (
            JwtAlgorithm::ES256,
            private_key("test-only-p384-private.pem"),
            "portals[0].private_key",
        ),
        (
            JwtAlgorithm::ES256,
            private_key("test-only-rsa-private.pem"),
            "portals[0].private_key",
        ),
        (
            JwtAlgorithm::EdDSA,
            private_key("test-only-p256-private.pem"),
            "portals[0].private_key",
        ),
        (
            JwtAlgorithm::EdDSA,
            Secret::new(SECRET),
            "portals[0].private_key",
        ),
        (
            JwtAlgorithm::HS256,
            private_key("test-only-rsa-private.pem"),
            "portals[0].secret",
        ),
        (
            JwtAlgorithm::HS512,
            private_key("test-only-ed25519-private.pem"),
            "portals[0].secret",
        ),
    ] {
        let error = refused(portal(algorithm, key));
        assert_eq!(error.field(), field, "{algorithm}: {error}");
        assert!(error.problem().contains(algorithm.name()), "{error}");
        assert!(
            !error.to_string().contains("BEGIN"),
            "the key never shows: {error}"
        );
    }
}

#[test]
fn short_secrets_are_refused_for_every_hmac_unless_allowed() {
    for algorithm in [
        JwtAlgorithm::HS256,
        JwtAlgorithm::HS384,
        JwtAlgorithm::HS512,
    ] {
        let short = || Secret::new("s".repeat(31));
        let error = refused(portal(algorithm, short()));
        assert_eq!(error.field(), "portals[0].secret");
        assert!(error.problem().contains("31 bytes"));
        assert!(
            SsoLayer::builder()
                .with_identity(Users::default())
                .with_portal(portal(algorithm, short()))
                .allow_short_secrets(true)
                .build()
                .is_ok()
        );
    }
    assert_eq!(
        refused(portal(JwtAlgorithm::HS256, Secret::new(""))).field(),
        "portals[0].secret"
    );
    assert_eq!(
        refused(portal(JwtAlgorithm::RS256, Secret::new(""))).field(),
        "portals[0].private_key"
    );
}

#[test]
#[allow(clippy::too_many_lines)] // a table: one line per refused setting
fn settings_the_engine_cannot_work_with_are_named() {
    let base = || {
        JwtPortal::new(JwtAlgorithm::HS256, Secret::new(SECRET))
            .with_claim("email", Claim::identity("email"))
    };
    for (portal, field) in [
        (base(), "portals[0].callback_url"),
        (
            base().with_callback_url("/relative"),
            "portals[0].callback_url",
        ),
        (
            base().with_callback_url("https://user:pw@help.acme.example/"),
            "portals[0].callback_url",
        ),
        (
            base().with_callback_url("javascript:alert(1)"),
            "portals[0].callback_url",
        ),
        (
            base().with_callback_url(CALLBACK).with_target_param("back"),
            "portals[0].target_param",
        ),
        (
            base().with_target_param("back"),
            "portals[0].redirect_origins",
        ),
        (
            base()
                .with_target_param("back")
                .with_redirect_origins(["acme.example"]),
            "portals[0].redirect_origins[0]",
        ),
        (
            base()
                .with_target_param("back")
                .with_redirect_origins(["https://a.example"])
                .with_default_redirect("https://b.example/"),
            "portals[0].default_redirect",
        ),
        (
            base()
                .with_callback_url(CALLBACK)
                .with_default_redirect(CALLBACK),
            "portals[0].default_redirect",
        ),
        (
            base()
                .with_target_param("back")
                .with_redirect_origins(["https://a.example"])
                .with_path_param("p"),
            "portals[0].path_param",
        ),
        (
            base()
                .with_callback_url(format!("{CALLBACK}?x=1"))
                .with_path_param("page"),
            "portals[0].callback_url",
        ),
        (
            base().with_callback_url(format!("{CALLBACK}?jwt=planted")),
            "portals[0].callback_url",
        ),
        (
            base()
                .with_callback_url(format!("{CALLBACK}?State[]=x"))
                .with_pass_param(PassParam::echo("state")),
            "portals[0].callback_url",
        ),
        (
            base()
                .with_callback_url(format!("{CALLBACK}#top"))
                .with_token_in(TokenIn::Fragment),
            "portals[0].callback_url",
        ),
        (
            base().with_callback_url(CALLBACK).with_token_param(""),
            "portals[0].token_param",
        ),
        (
            base().with_callback_url(CALLBACK).with_token_param("a&b"),
            "portals[0].token_param",
        ),
        (
            base()
                .with_callback_url(CALLBACK)
                .with_pass_param(PassParam::echo("a=b")),
            "portals[0].params",
        ),
        (
            base()
                .with_callback_url(CALLBACK)
                .with_pass_param(PassParam::echo("jwt")),
            "portals[0].pass_params",
        ),
        (
            base().with_callback_url(CALLBACK).without_claim("email"),
            "portals[0].claims",
        ),
        (
            base().with_callback_url(CALLBACK).with_token_ttl_secs(0),
            "portals[0].token_ttl_secs",
        ),
        (
            base()
                .with_callback_url(CALLBACK)
                .with_token_ttl_secs(31 * 24 * 3600),
            "portals[0].token_ttl_secs",
        ),
        (
            base()
                .with_callback_url(CALLBACK)
                .with_form_action_origins(["https://a.example/path"]),
            "portals[0].form_action_origins[0]",
        ),
    ] {
        assert_eq!(refused(portal.clone()).field(), field, "{portal:?}");
    }
}

#[test]
fn required_fields_list_what_every_sign_in_needs() {
    let portal = JwtPortal::new(JwtAlgorithm::HS256, Secret::new(SECRET))
        .with_claim("email", Claim::identity("email"))
        .with_claim("sub", Claim::identity("id").as_string())
        .with_claim("id", Claim::identity("id"))
        .with_claim("avatar", Claim::identity_if_known("avatar_url"))
        .with_claim("iat", Claim::time(TimeUnit::Seconds, 0));
    assert_eq!(portal.required_fields(), ["email", "id"]);
    let pointers = portal_sso::ClaimPointers::default().with_field("id", "/user/id");
    assert!(
        portal
            .required_fields()
            .iter()
            .all(|field| pointers.supplies(field))
    );
    assert!(!portal_sso::ClaimPointers::default().supplies("id"));
}

#[test]
fn keys_never_show_in_debug() {
    let portal = portal(
        JwtAlgorithm::RS256,
        private_key("test-only-rsa-private.pem"),
    );
    let shown = format!("{portal:?}");
    assert!(shown.contains("REDACTED"), "{shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    let builder = SsoLayer::builder().with_portal(portal);
    assert!(!format!("{builder:?}").contains("PRIVATE KEY"));
}
