//! The JWT-redirect engine described field by field (`kind = "jwt"`): one test per claim
//! source, per way the token travels and per kind of target, through the whole layer.

use crate::common;

use common::tokens::{
    Form, alice_in_full, claim_names, csp_hash, decode_hs, location_and_token, signed_in,
};
use common::*;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY};
use jsonwebtoken::Algorithm;
use portal_sso::{
    Claim, EventKind, Identity, JwtAlgorithm, JwtPortal, PassParam, Secret, SsoLayer, TimeUnit,
    TokenIn,
};
use serde_json::json;

const SECRET: &str = "a-generic-portal-secret-0123456789abcdef";
const CALLBACK: &str = "https://help.acme.example/sso/jwt";

/// Alice as the app knows her: names, a numeric id, groups.
fn alice() -> Identity {
    alice_in_full()
}

/// A portal on `CALLBACK`, HS256, with nothing else set.
fn portal() -> JwtPortal {
    JwtPortal::new(JwtAlgorithm::HS256, Secret::new(SECRET)).with_callback_url(CALLBACK)
}

/// The layer around the test app, signing `identity` in, events going to `recorder`.
fn layer(
    portal: JwtPortal,
    identity: Identity,
    recorder: &Recorder,
) -> portal_sso::Sso<axum::Router> {
    signed_in(portal, identity, recorder)
}

/// Signs `alice()` in on `/sso/jwt?{query}` and returns the reply and the claims.
async fn claims_for(
    portal: JwtPortal,
    query: &str,
) -> (Reply, serde_json::Map<String, serde_json::Value>) {
    let app = layer(portal, alice(), &Recorder::default());
    let reply = send(&app, get_req(&format!("/sso/jwt?{query}"))).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let (_, token) = location_and_token(&reply, "jwt");
    let claims = decode_hs(&token, Algorithm::HS256, SECRET);
    (reply, claims)
}

#[tokio::test]
async fn an_identity_claim_carries_the_field_with_its_json_type() {
    let (_, claims) = claims_for(
        portal()
            .with_claim("email", Claim::identity("email"))
            .with_claim("id", Claim::identity("id"))
            .with_claim("groups", Claim::identity("groups"))
            .with_claim("name", Claim::identity("name"))
            .with_claim("given", Claim::identity("first_name")),
        "",
    )
    .await;
    assert_eq!(
        claim_names(&claims),
        ["email", "given", "groups", "id", "name"]
    );
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["id"], 42);
    assert_eq!(claims["groups"], json!(["beta", "docs"]));
    assert_eq!(
        claims["name"], "Alice Liddell",
        "first and last name joined"
    );
    assert_eq!(claims["given"], "Alice");
}

#[tokio::test]
async fn an_if_known_claim_is_left_out_when_missing_or_empty() {
    let app = layer(
        portal()
            .with_claim("email", Claim::identity("email"))
            .with_claim("avatar", Claim::identity_if_known("avatar_url"))
            .with_claim("given_name", Claim::identity_if_known("first_name"))
            .with_claim("last_name", Claim::identity("last_name")),
        Identity::new("bob@example.com").unwrap(),
        &Recorder::default(),
    );
    let reply = send(&app, get_req("/sso/jwt")).await;
    let (_, token) = location_and_token(&reply, "jwt");
    let claims = decode_hs(&token, Algorithm::HS256, SECRET);
    assert_eq!(claim_names(&claims), ["email", "last_name"]);
    assert_eq!(claims["last_name"], "", "a required name may be empty");
}

#[tokio::test]
async fn a_required_field_the_identity_lacks_is_a_403_naming_it() {
    let recorder = Recorder::default();
    let app = layer(
        portal()
            .with_claim("email", Claim::identity("email"))
            .with_claim("employee_no", Claim::identity("employee_no")),
        alice(),
        &recorder,
    );
    let reply = send(&app, get_req("/sso/jwt")).await;
    assert!(reply.text().contains("employee no"), "{}", reply.text());
    assert_field_refused(&reply, &recorder, "employee_no");

    // `name` is required but nothing supplies it: no names, no field.
    let app = layer(
        portal().with_claim("name", Claim::identity("name")),
        Identity::new("bob@example.com").unwrap(),
        &recorder,
    );
    let reply = send(&app, get_req("/sso/jwt")).await;
    assert_field_refused(&reply, &recorder, "name");
}

#[tokio::test]
async fn every_string_of_a_claimed_field_gets_the_look_alike_check() {
    for (field, value) in [
        ("groups", json!(["beta", "ad\u{200B}mins"])),
        ("content", json!({"plan": "pro\u{202E}"})),
        ("name", json!("Alice\tLiddell")),
    ] {
        let recorder = Recorder::default();
        let app = layer(
            portal().with_claim(field, Claim::identity(field)),
            alice().with_field(field, value),
            &recorder,
        );
        let reply = send(&app, get_req("/sso/jwt")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{field}");
        assert!(!reply.has_location());
        let events = recorder.take();
        assert_eq!(events[0].kind, EventKind::IdentityRejected);
        assert!(events[0].reason.as_deref().unwrap().starts_with(field));
    }
    // The same field, not claimed, is nobody's business.
    let (reply, _) = claims_for(portal().with_claim("email", Claim::identity("email")), "").await;
    assert_eq!(reply.status, StatusCode::FOUND);
}

#[tokio::test]
async fn as_string_writes_a_number_as_its_decimal_string() {
    let (_, claims) = claims_for(
        portal().with_claim("sub", Claim::identity("id").as_string()),
        "",
    )
    .await;
    assert_eq!(claims["sub"], "42");
}

#[tokio::test]
async fn time_claims_carry_their_unit_and_offset() {
    let before = now();
    let (_, claims) = claims_for(
        portal()
            .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
            .with_claim("iat_ms", Claim::time(TimeUnit::Milliseconds, 0))
            .with_claim("exp", Claim::time(TimeUnit::Seconds, 10))
            .with_claim("nbf", Claim::time(TimeUnit::Seconds, -30))
            .with_claim("later_ms", Claim::time(TimeUnit::Milliseconds, 60)),
        "",
    )
    .await;
    let after = now();
    let iat = claims["iat"].as_u64().expect("an integer");
    assert!((before..=after).contains(&iat));
    let ms = claims["iat_ms"].as_u64().expect("an integer");
    assert!((before * 1000..=after * 1000 + 999).contains(&ms), "{ms}");
    assert_eq!(claims["exp"].as_u64(), Some(iat + 10));
    assert_eq!(claims["nbf"].as_u64(), Some(iat - 30));
    assert_eq!(claims["later_ms"].as_u64(), Some(ms + 60_000));
}

#[tokio::test]
async fn expiry_is_the_token_lifetime_on() {
    let (_, claims) = claims_for(
        portal()
            .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
            .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
            .with_claim("exp_ms", Claim::expiry(TimeUnit::Milliseconds))
            .with_token_ttl_secs(900),
        "",
    )
    .await;
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64(), Some(iat + 900));
    let exp_ms = claims["exp_ms"].as_u64().unwrap();
    assert!((iat + 900) * 1000 <= exp_ms && exp_ms < (iat + 901) * 1000);
}

#[tokio::test]
async fn random_is_128_bits_of_hex_fresh_per_token() {
    let app = layer(
        portal().with_claim("jti", Claim::random()),
        alice(),
        &Recorder::default(),
    );
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let reply = send(&app, get_req("/sso/jwt")).await;
        let (_, token) = location_and_token(&reply, "jwt");
        let jti = decode_hs(&token, Algorithm::HS256, SECRET)["jti"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            jti.len() == 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()),
            "{jti}"
        );
        assert!(seen.insert(jti));
    }
}

#[tokio::test]
async fn a_param_claim_echoes_the_request_parameter_decoded() {
    let portal = || {
        portal()
            .with_claim("nonce", Claim::param("nonce"))
            .with_claim("email", Claim::identity("email"))
    };
    let (_, claims) = claims_for(portal(), "nonce=n-0S6_WzA2Mj%2Bx%20y").await;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj+x y");
    let (_, claims) = claims_for(portal(), "other=1").await;
    assert!(!claims.contains_key("nonce"), "left out when not sent");

    let counts = Counts::default();
    let app = app(counts.builder().with_portal(portal()));
    for query in [
        format!("nonce={}", "n".repeat(1025)),
        "nonce=a&nonce=b".to_owned(),
    ] {
        let reply = send(&app, get_req(&format!("/sso/jwt?{query}"))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!((counts.identity_calls(), counts.tokens_issued()), (0, 0));
}

#[tokio::test]
async fn a_value_claim_is_the_same_constant_json_every_time() {
    let (_, claims) = claims_for(
        portal()
            .with_claim("scope", Claim::value("user"))
            .with_claim("role_id", Claim::value(3))
            .with_claim("flags", Claim::value(json!({"beta": true}))),
        "scope=admin&role_id=1",
    )
    .await;
    assert_eq!(claims["scope"], "user");
    assert_eq!(claims["role_id"], 3);
    assert_eq!(claims["flags"], json!({"beta": true}));
}

#[test]
fn a_claim_that_names_the_user_or_grants_privileges_never_comes_from_a_parameter() {
    for name in [
        "role",
        "isAdmin",
        "is_admin",
        "role_id",
        "groups",
        "group_names",
        "sub",
        "email",
        "aud",
        "exp",
        "external_id",
    ] {
        let error = SsoLayer::builder()
            .with_identity(Users::default())
            .with_portal(portal().with_claim(name, Claim::param("x")))
            .build()
            .expect_err(name);
        assert_eq!(error.field(), format!("portals[0].claims.{name}"));
    }
}

#[tokio::test]
async fn in_the_query_the_token_goes_before_the_fragment_and_the_rest_is_kept() {
    let (reply, _) = claims_for(
        JwtPortal::new(JwtAlgorithm::HS256, Secret::new(SECRET))
            .with_callback_url("https://help.acme.example/sso/jwt?site=a%2Fb#top")
            .with_claim("email", Claim::identity("email"))
            .with_pass_param(PassParam::echo("state")),
        "state=s%201",
    )
    .await;
    let (location, _) = location_and_token(&reply, "jwt");
    assert_eq!(
        location,
        "https://help.acme.example/sso/jwt?site=a%2Fb&jwt=TOKEN&state=s%201#top"
    );
    assert_eq!(reply.headers[CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers[REFERRER_POLICY], "no-referrer");
    assert!(reply.headers[http::header::LOCATION].is_sensitive());
}

#[tokio::test]
async fn in_the_fragment_the_token_is_bare_or_named_and_the_rest_stays_in_the_query() {
    for (param, named) in [("", ""), ("jwt", "jwt=")] {
        let app = layer(
            portal()
                .with_token_in(TokenIn::Fragment)
                .with_token_param(param)
                .with_claim("email", Claim::identity("email"))
                .with_pass_param(PassParam::path("redirect")),
            alice(),
            &Recorder::default(),
        );
        let reply = send(&app, get_req("/sso/jwt?redirect=%2Fquickstart")).await;
        let (before, fragment) = reply.location().split_once('#').expect("a fragment");
        assert_eq!(before, format!("{CALLBACK}?redirect=%2Fquickstart"));
        let token = fragment.strip_prefix(named).expect("the token's shape");
        assert_eq!(
            decode_hs(token, Algorithm::HS256, SECRET)["email"],
            "alice@example.com"
        );
        assert!(reply.headers[http::header::LOCATION].is_sensitive());
    }
}

#[tokio::test]
async fn form_post_is_a_page_that_posts_the_token_and_allows_only_its_own_script() {
    let app = layer(
        portal()
            .with_token_in(TokenIn::FormPost)
            .with_claim("email", Claim::identity("email"))
            .with_pass_param(PassParam::echo("brand_id"))
            .with_form_action_origins(["https://help.acme.com"]),
        alice(),
        &Recorder::default(),
    );
    let reply = send(&app, get_req("/sso/jwt?brand_id=a%26b")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.has_location());
    assert_eq!(reply.headers[CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers[REFERRER_POLICY], "no-referrer");
    let form = Form::parse(&reply.text());
    assert_eq!(form.method, "post");
    assert_eq!(form.action, format!("{CALLBACK}?brand_id=a%26b"));
    assert_eq!(form.fields.len(), 1);
    assert_eq!(form.fields[0].0, "jwt");
    let claims = decode_hs(&form.fields[0].1, Algorithm::HS256, SECRET);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(form.scripts.len(), 1);
    assert!(
        reply.text().contains("<button type=\"submit\">"),
        "a button without script"
    );
    let policy = reply.headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert_eq!(
        policy,
        format!(
            "default-src 'none'; script-src {}; form-action https://help.acme.example https://help.acme.com; \
             base-uri 'none'; frame-ancestors 'none'",
            csp_hash(&form.scripts[0])
        )
    );
}

#[tokio::test]
async fn a_target_param_is_checked_against_the_redirect_origins() {
    let counts = Counts::default();
    let recorder = Recorder::default();
    let app = app(counts
        .builder()
        .with_observer(recorder.observer())
        .with_portal(
            JwtPortal::new(JwtAlgorithm::HS256, Secret::new(SECRET))
                .with_target_param("back")
                .with_redirect_origins(["https://help.acme.example"])
                .with_claim("email", Claim::identity("email")),
        ));
    let reply = send(
        &app,
        get_req("/sso/jwt?back=https://help.acme.example/in?x=%2F"),
    )
    .await;
    let (location, _) = location_and_token(&reply, "jwt");
    assert_eq!(location, "https://help.acme.example/in?x=%2F&jwt=TOKEN");
    for (query, reason) in [
        ("back=https://evil.example/", "origin_not_allowed"),
        (
            "back=https://help.acme.example/?jwt=planted",
            "target_carries_jwt",
        ),
        ("", "missing_redirect"),
    ] {
        recorder.take();
        let reply = send(&app, get_req(&format!("/sso/jwt?{query}"))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(recorder.take()[0].reason.as_deref(), Some(reason));
    }
    assert_eq!(counts.tokens_issued(), 1);
}

#[tokio::test]
async fn a_path_param_is_joined_to_the_callback_or_dropped() {
    let recorder = Recorder::default();
    let app = layer(
        JwtPortal::new(JwtAlgorithm::HS256, Secret::new(SECRET))
            .with_callback_url("https://docs.acme.example/site/")
            .with_path_param("page")
            .with_claim("email", Claim::identity("email")),
        alice(),
        &recorder,
    );
    for (page, expected, reason) in [
        (
            "guides%2Fsetup",
            "https://docs.acme.example/site/guides/setup?jwt=TOKEN",
            None,
        ),
        (
            "/guides?tab=2",
            "https://docs.acme.example/site/guides?tab=2&jwt=TOKEN",
            None,
        ),
        (
            "%2F%2Fevil.example",
            "https://docs.acme.example/site/?jwt=TOKEN",
            Some("page_dropped"),
        ),
        (
            "..%2F..%2Fadmin",
            "https://docs.acme.example/site/?jwt=TOKEN",
            Some("page_dropped"),
        ),
        (
            "a?jwt=planted",
            "https://docs.acme.example/site/?jwt=TOKEN",
            Some("page_dropped"),
        ),
    ] {
        let reply = send(&app, get_req(&format!("/sso/jwt?page={page}"))).await;
        assert_eq!(location_and_token(&reply, "jwt").0, expected, "{page}");
        let events = recorder.take();
        assert_eq!(events[0].kind, EventKind::TokenIssued);
        assert_eq!(events[0].reason.as_deref(), reason, "{page}");
    }
}

#[tokio::test]
async fn pass_params_are_echoed_paths_or_checked_urls() {
    let app = layer(
        portal()
            .with_claim("email", Claim::identity("email"))
            .with_redirect_origins(["https://board.acme.example"])
            .with_pass_param(PassParam::echo("state"))
            .with_pass_param(PassParam::path("return_to"))
            .with_pass_param(PassParam::url("redirect"))
            .with_pass_param(PassParam::path_or_url("next")),
        alice(),
        &Recorder::default(),
    );
    let reply = send(
        &app,
        get_req(
            "/sso/jwt?next=https%3A%2F%2Fhelp.acme.example%2Fagent&redirect=https://board.acme.example/b?x=1\
             &return_to=%2Fkb%2F1&state=%C3%A9t%C3%A9",
        ),
    )
    .await;
    assert_eq!(
        location_and_token(&reply, "jwt").0,
        format!(
            "{CALLBACK}?jwt=TOKEN&state=%C3%A9t%C3%A9&return_to=%2Fkb%2F1\
             &redirect=https%3A%2F%2Fboard.acme.example%2Fb%3Fx%3D1&next=https%3A%2F%2Fhelp.acme.example%2Fagent"
        )
    );
    assert_eq!(reply.location_param("state"), "été");
    // A URL that is not allowed: left out for path_or_url, refused for url.
    let reply = send(&app, get_req("/sso/jwt?next=https%3A%2F%2Fevil.example%2F")).await;
    assert_eq!(
        location_and_token(&reply, "jwt").0,
        format!("{CALLBACK}?jwt=TOKEN")
    );
    let reply = send(
        &app,
        get_req("/sso/jwt?redirect=https%3A%2F%2Fevil.example%2F"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}
