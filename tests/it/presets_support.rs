//! Zendesk, Helpjuice, Freshworks and HelpDocs, each driven as the vendor's portal drives
//! the login route (vendors.md gives the parameters each one sends).

// Vendor names (HelpDocs) are prose here, not code.
#![allow(clippy::doc_markdown)]

use crate::common;

use common::tokens::{
    Form, alice_in_full, claim_names, csp_hash, decode_hs, decode_with, location_and_token,
    private_key, rsa_public, signed_in,
};
use common::*;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY};
use http::request::Parts;
use jsonwebtoken::Algorithm;
use portal_sso::{EventKind, Identity, JwtPortal, Secret, SessionCookie, SsoLayer, TokenIn};

const ZENDESK_SECRET: &str = "zendesk-jwt-shared-secret-acme-0123456789";
const ZENDESK_ACCESS: &str = "https://acme.zendesk.com/access/jwt";
const HELPJUICE_SECRET: &str = "helpjuice-shared-secret-acme-0123456789";
const HELPDOCS_SECRET: &str = "helpdocs-jwt-secret-acme-0123456789abcdef";

fn zendesk() -> JwtPortal {
    JwtPortal::zendesk(Secret::new(ZENDESK_SECRET), ZENDESK_ACCESS)
}

fn is_hex_jti(value: &serde_json::Value) -> bool {
    value
        .as_str()
        .is_some_and(|jti| jti.len() == 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()))
}

// "Using HTTP POST ... is a best practice": a form with the hidden field `jwt`, the
// parameters Zendesk sent (`JWT_PARAMS = return_to brand_id locale_id timestamp`) in its
// action, submitted by the page's one script.
#[tokio::test]
async fn zendesk_posts_jwt_to_access_jwt_with_its_parameters_in_the_action() {
    let app = signed_in(zendesk(), alice_in_full(), &Recorder::default());
    let before = now();
    let reply = send(
        &app,
        get_req(
            "/sso/zendesk?brand_id=360001234567&locale_id=1176&return_to=%2Fhc%2Fen-us%2Farticles%2F123&timestamp=1763700000",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(!reply.has_location());
    assert_eq!(reply.headers[CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers[REFERRER_POLICY], "no-referrer");
    let form = Form::parse(&reply.text());
    assert_eq!(form.method, "post");
    assert_eq!(
        form.action,
        format!(
            "{ZENDESK_ACCESS}?return_to=%2Fhc%2Fen-us%2Farticles%2F123&brand_id=360001234567&locale_id=1176&timestamp=1763700000"
        )
    );
    let [(field, token)] = &form.fields[..] else {
        panic!("one field: {:?}", form.fields)
    };
    assert_eq!(field, "jwt");
    let policy = reply.headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        policy.contains(&format!("script-src {};", csp_hash(&form.scripts[0]))),
        "{policy}"
    );
    assert!(
        policy.contains("form-action https://acme.zendesk.com;"),
        "{policy}"
    );
    assert!(policy.starts_with("default-src 'none';"), "{policy}");

    // `{"typ":"JWT","alg":"HS256"}`; iat, jti, email, name; external_id when known.
    let header: serde_json::Value = serde_json::from_str(&header_json(token)).unwrap();
    assert_eq!(header, serde_json::json!({"alg": "HS256", "typ": "JWT"}));
    let claims = decode_hs(token, Algorithm::HS256, ZENDESK_SECRET);
    assert_eq!(
        claim_names(&claims),
        ["email", "external_id", "iat", "jti", "name"]
    );
    let iat = claims["iat"].as_u64().expect("iat in seconds");
    assert!((before..=now()).contains(&iat));
    assert!(is_hex_jti(&claims["jti"]), "{}", claims["jti"]);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(claims["external_id"], "crm-0042");
}

// "a generic provider must emit a fresh random jti per redirect".
#[tokio::test]
async fn zendesk_gets_a_fresh_jti_and_external_id_only_when_known() {
    let app = signed_in(
        zendesk(),
        alice_in_full().with_field("external_id", 4242),
        &Recorder::default(),
    );
    let mut jtis = Vec::new();
    for _ in 0..2 {
        let reply = send(&app, get_req("/sso/zendesk")).await;
        let form = Form::parse(&reply.text());
        assert_eq!(form.action, ZENDESK_ACCESS, "nothing to carry back");
        let claims = decode_hs(&form.fields[0].1, Algorithm::HS256, ZENDESK_SECRET);
        assert_eq!(
            claims["external_id"], "4242",
            "a string, as Zendesk reads it"
        );
        jtis.push(claims["jti"].clone());
    }
    assert_ne!(jtis[0], jtis[1]);

    let bob = Identity::new("bob@example.com")
        .unwrap()
        .with_first_name("Bob");
    let reply = send(
        &signed_in(zendesk(), bob, &Recorder::default()),
        get_req("/sso/zendesk"),
    )
    .await;
    let claims = decode_hs(
        &Form::parse(&reply.text()).fields[0].1,
        Algorithm::HS256,
        ZENDESK_SECRET,
    );
    assert_eq!(claim_names(&claims), ["email", "iat", "jti", "name"]);
    assert_eq!(claims["name"], "Bob");

    // `name` is required: an account without one is refused, naming it.
    let recorder = Recorder::default();
    let nameless = Identity::new("carol@example.com").unwrap();
    let reply = send(
        &signed_in(zendesk(), nameless, &recorder),
        get_req("/sso/zendesk"),
    )
    .await;
    assert!(reply.text().contains("name"));
    assert_field_refused(&reply, &recorder, "name");
}

// "GET ?jwt= still used by the older samples".
#[tokio::test]
async fn zendesk_with_token_in_query_redirects_with_jwt() {
    let app = signed_in(
        zendesk().with_token_in(TokenIn::Query),
        alice_in_full(),
        &Recorder::default(),
    );
    let reply = send(&app, get_req("/sso/zendesk?return_to=%2Fhc&brand_id=7")).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let (location, token) = location_and_token(&reply, "jwt");
    assert_eq!(
        location,
        format!("{ZENDESK_ACCESS}?jwt=TOKEN&return_to=%2Fhc&brand_id=7")
    );
    assert_eq!(
        decode_hs(&token, Algorithm::HS256, ZENDESK_SECRET)["email"],
        "alice@example.com"
    );
}

// "An absolute URL for the agent interface, and a relative URL for Help Center."
#[tokio::test]
async fn zendesk_return_to_is_a_help_center_path_or_a_url_on_the_subdomain() {
    let recorder = Recorder::default();
    let app = signed_in(
        zendesk().with_token_in(TokenIn::Query),
        alice_in_full(),
        &recorder,
    );
    for (sent, kept) in [
        (
            "https%3A%2F%2Facme.zendesk.com%2Fagent%2Ftickets%2F7",
            Some("https%3A%2F%2Facme.zendesk.com%2Fagent%2Ftickets%2F7"),
        ),
        ("%2Fhc%2Fen-us", Some("%2Fhc%2Fen-us")),
        ("https%3A%2F%2Fevil.example%2F", None),
        ("%2F%2Fevil.example", None),
        ("https%3A%2F%2Facme.zendesk.com%2F%3Fjwt%3Dplanted", None),
    ] {
        let reply = send(&app, get_req(&format!("/sso/zendesk?return_to={sent}"))).await;
        let (location, _) = location_and_token(&reply, "jwt");
        let expected = kept.map_or(format!("{ZENDESK_ACCESS}?jwt=TOKEN"), |kept| {
            format!("{ZENDESK_ACCESS}?jwt=TOKEN&return_to={kept}")
        });
        assert_eq!(location, expected, "{sent}");
        let reason = recorder.take()[0].reason.clone();
        assert_eq!(
            reason.as_deref(),
            kept.is_none().then_some("return_to_dropped"),
            "{sent}"
        );
    }
}

// Claims that grant rights (`role`) never come from the request.
#[tokio::test]
async fn zendesk_takes_no_role_from_the_request() {
    let app = signed_in(
        zendesk(),
        alice_in_full().with_field("role", "end_user"),
        &Recorder::default(),
    );
    let reply = send(&app, get_req("/sso/zendesk?role=admin&custom_role_id=1")).await;
    let claims = decode_hs(
        &Form::parse(&reply.text()).fields[0].1,
        Algorithm::HS256,
        ZENDESK_SECRET,
    );
    assert!(!claims.contains_key("role") && !claims.contains_key("custom_role_id"));
}

fn zendesk_with_logout(recorder: &Recorder, users: &Users) -> portal_sso::Sso<axum::Router> {
    app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_observer(recorder.observer())
        .with_session_cookie(SessionCookie::new(SESSION_COOKIE))
        .with_portal(zendesk().with_logout_redirect("/signed-out")))
}

// "errors redirect there with message and kind=error": shown, recorded, and nothing else.
#[tokio::test]
async fn zendesk_errors_on_the_logout_url_are_shown_and_start_nothing() {
    let (recorder, users) = (Recorder::default(), Users::default());
    let app = zendesk_with_logout(&recorder, &users);
    let reply = send(
        &app,
        get_as(
            "/sso/zendesk/logout?kind=error&message=Please+use+a+valid+JWT+%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            ALICE_SID,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(!reply.has_location(), "no new sign-in");
    assert!(reply.set_cookies().is_empty(), "the session is kept");
    let text = reply.text();
    assert!(
        text.contains("Please use a valid JWT &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{text}"
    );
    assert!(!text.contains("<script>"));
    assert_eq!(users.calls(), 0);
    let events = recorder.take();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::PortalError);
    assert_eq!(
        events[0].reason.as_deref(),
        Some("Please use a valid JWT <script>alert(1)</script>")
    );

    // A token in the message never reaches the event or the page.
    let reply = send(
        &app,
        get_req("/sso/zendesk/logout?kind=error&message=bad+eyJhbGciOiJIUzI1NiJ9.e30.sig"),
    )
    .await;
    assert!(!reply.text().contains("eyJ"));
    assert_eq!(recorder.take()[0].reason.as_deref(), Some("bad [token]"));
}

// "Zendesk appends email, external_id, brand_id" to an ordinary logout: it ends the session.
#[tokio::test]
async fn zendesk_remote_logout_ends_the_session() {
    let (recorder, users) = (Recorder::default(), Users::default());
    let app = zendesk_with_logout(&recorder, &users);
    let reply = send(
        &app,
        get_as(
            "/sso/zendesk/logout?email=alice%40example.com&external_id=crm-0042&brand_id=7",
            ALICE_SID,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location(), "/signed-out");
    assert_eq!(
        reply.set_cookie(SESSION_COOKIE).expect("expired").value(),
        ""
    );
    assert_eq!(recorder.take()[0].kind, EventKind::Logout);
}

// "jti (required), iat (required, token creation time in milliseconds ...), email".
#[tokio::test]
async fn helpjuice_signs_iat_in_milliseconds_and_carries_fallback_url_back() {
    let app = signed_in(
        JwtPortal::helpjuice(
            Secret::new(HELPJUICE_SECRET),
            "https://helpjuice.com/jwt/acme",
        )
        .with_redirect_origins(["https://acme.helpjuice.com"]),
        alice_in_full(),
        &Recorder::default(),
    );
    let before_ms = u128::from(now()) * 1000;
    let reply = send(
        &app,
        get_req("/sso/helpjuice?service=helpjuice&fallback_url=https%3A%2F%2Facme.helpjuice.com%2Fen_US%2Fsetup%3Fq%3D1"),
    )
    .await;
    let after_ms = u128::from(now()) * 1000 + 999;
    let (location, token) = location_and_token(&reply, "jwt");
    assert_eq!(
        location,
        "https://helpjuice.com/jwt/acme?jwt=TOKEN&fallback_url=https%3A%2F%2Facme.helpjuice.com%2Fen_US%2Fsetup%3Fq%3D1"
    );
    let claims = decode_hs(&token, Algorithm::HS256, HELPJUICE_SECRET);
    assert_eq!(
        claim_names(&claims),
        ["email", "first_name", "iat", "jti", "last_name"]
    );
    let iat = u128::from(claims["iat"].as_u64().expect("an integer"));
    assert!(
        (before_ms..=after_ms).contains(&iat),
        "iat {iat} is now in milliseconds"
    );
    assert!(is_hex_jti(&claims["jti"]));
    assert_eq!(claims["first_name"], "Alice");

    let app = signed_in(
        JwtPortal::helpjuice(
            Secret::new(HELPJUICE_SECRET),
            "https://helpjuice.com/jwt/acme",
        ),
        Identity::new("bob@example.com").unwrap(),
        &Recorder::default(),
    );
    let reply = send(&app, get_req("/sso/helpjuice?service=helpjuice")).await;
    let (location, token) = location_and_token(&reply, "jwt");
    assert_eq!(location, "https://helpjuice.com/jwt/acme?jwt=TOKEN");
    let claims = decode_hs(&token, Algorithm::HS256, HELPJUICE_SECRET);
    assert_eq!(
        claim_names(&claims),
        ["email", "iat", "jti"],
        "unknown names are left out"
    );
    let reply = send(
        &app,
        get_req("/sso/helpjuice?fallback_url=https%3A%2F%2Facme.helpjuice.com%2F"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "no origin configured: refused"
    );
}

/// The Freshworks request, OpenID-implicit style, as its article shows it.
const FRESHWORKS_REQUEST: &str = "/sso/freshworks?response_type=id_token&client_id=451005239021&scope=openid%20email%20profile\
     &state=st-1%2Fx%3Dy&redirect_uri=https%3A%2F%2Facme.freshworks.com%2Fsp%2FOIDC%2F731%2Fimplicit&nonce=n-0S6_WzA2Mj";

fn freshworks() -> JwtPortal {
    JwtPortal::freshworks(private_key("test-only-rsa-private.pem"))
        .with_redirect_origins(["https://acme.freshworks.com"])
}

// "Reply: ${redirect_uri}?state=${state}&id_token=${jwt}"; RS256; sub, email, iat, nonce.
#[tokio::test]
async fn freshworks_adds_an_rs256_id_token_and_state_to_redirect_uri() {
    let app = signed_in(freshworks(), alice_in_full(), &Recorder::default());
    let before = now();
    let reply = send(&app, get_req(FRESHWORKS_REQUEST)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let (location, token) = location_and_token(&reply, "id_token");
    assert_eq!(
        location,
        "https://acme.freshworks.com/sp/OIDC/731/implicit?id_token=TOKEN&state=st-1%2Fx%3Dy"
    );
    assert_eq!(reply.location_param("state"), "st-1/x=y");
    let (_, claims) = decode_with(&token, Algorithm::RS256, &rsa_public());
    assert_eq!(
        claim_names(&claims),
        ["email", "family_name", "given_name", "iat", "nonce", "sub"]
    );
    assert_eq!(claims["sub"], "42", "sub is a string");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj", "nonce echoed exactly");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["given_name"], "Alice");
    assert_eq!(claims["family_name"], "Liddell");
    assert!((before..=now()).contains(&claims["iat"].as_u64().unwrap()));
}

#[tokio::test]
async fn freshworks_refuses_a_redirect_uri_it_cannot_trust_and_an_account_without_id() {
    let counts = Counts::default();
    let recorder = Recorder::default();
    let app = app(counts
        .builder()
        .with_observer(recorder.observer())
        .with_portal(freshworks()));
    for (query, reason) in [
        (
            "redirect_uri=https%3A%2F%2Fevil.example%2Fimplicit",
            "origin_not_allowed",
        ),
        (
            "redirect_uri=https%3A%2F%2Facme.freshworks.com%2Fcb%3Fid_token%3Dplanted",
            "target_carries_id_token",
        ),
        (
            "redirect_uri=https%3A%2F%2Facme.freshworks.com%2Fcb%3Fstate%3Dplanted&state=s",
            "target_carries_state",
        ),
        ("state=s&nonce=n", "missing_redirect"),
    ] {
        let reply = send(&app, get_req(&format!("/sso/freshworks?{query}"))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            recorder.take()[0].reason.as_deref(),
            Some(reason),
            "{query}"
        );
    }
    assert_eq!((counts.identity_calls(), counts.tokens_issued()), (0, 0));

    let app = app_without_id();
    let reply = send(&app, get_req(FRESHWORKS_REQUEST)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().contains(" id"), "{}", reply.text());
}

fn app_without_id() -> portal_sso::Sso<axum::Router> {
    app(SsoLayer::builder()
        .with_identity(|_: &Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
        .with_portal(freshworks()))
}

// "Required exp, iat, aud (... equal to https://your-domain.helpdocs.io ..., no trailing slash)".
#[tokio::test]
async fn helpdocs_signs_iat_exp_and_the_docs_origin_as_aud() {
    let app = signed_in(
        JwtPortal::helpdocs(Secret::new(HELPDOCS_SECRET), "https://acme.helpdocs.io/"),
        alice_in_full(),
        &Recorder::default(),
    );
    let reply = send(&app, get_req("/sso/helpdocs")).await;
    let (location, token) = location_and_token(&reply, "jwt");
    assert_eq!(location, "https://acme.helpdocs.io/?jwt=TOKEN");
    let claims = decode_hs(&token, Algorithm::HS256, HELPDOCS_SECRET);
    assert_eq!(claim_names(&claims), ["aud", "exp", "iat"]);
    assert_eq!(claims["aud"], "https://acme.helpdocs.io");
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64(), Some(iat + 3600));

    let custom = JwtPortal::helpdocs(
        Secret::new(HELPDOCS_SECRET),
        "https://docs.acme.com/article/x",
    )
    .with_audience("https://docs.acme.com")
    .with_token_ttl_secs(600);
    let reply = send(
        &signed_in(custom, alice_in_full(), &Recorder::default()),
        get_req("/sso/helpdocs"),
    )
    .await;
    let (location, token) = location_and_token(&reply, "jwt");
    assert_eq!(location, "https://docs.acme.com/article/x?jwt=TOKEN");
    let claims = decode_hs(&token, Algorithm::HS256, HELPDOCS_SECRET);
    assert_eq!(claims["aud"], "https://docs.acme.com");
    assert_eq!(
        claims["exp"].as_u64(),
        Some(claims["iat"].as_u64().unwrap() + 600)
    );
}
