//! Canny and Frill, each driven as the vendor's board drives the login route (vendors.md
//! gives the parameters each one sends).

use crate::common;

use common::tokens::{alice_in_full, claim_names, decode_hs, location_and_token, signed_in};
use common::*;
use http::StatusCode;
use jsonwebtoken::Algorithm;
use portal_sso::{EventKind, Identity, JwtPortal, Secret};

const CANNY_KEY: &str = "canny-private-sso-key-acme-0123456789ab";
const FRILL_KEY: &str = "frill-sso-key-acme-0123456789abcdef0123";

fn canny() -> JwtPortal {
    JwtPortal::canny(Secret::new(CANNY_KEY)).with_redirect_origins(["https://acme.canny.io"])
}

fn frill() -> JwtPortal {
    JwtPortal::frill(Secret::new(FRILL_KEY)).with_redirect_origins(["https://acme.frill.co"])
}

// "send them to https://canny.io/api/redirects/sso?companyID=…&ssoToken=…&redirect=…";
// payload `{avatarURL, email, id, name}`.
#[tokio::test]
async fn canny_sends_the_token_to_its_sso_redirect_with_company_and_redirect() {
    let app = signed_in(canny(), alice_in_full(), &Recorder::default());
    let reply = send(
        &app,
        get_req("/sso/canny?redirect=https%3A%2F%2Facme.canny.io%2Fadmin%2Fboard%2Ffeature-requests&companyID=553c3ef8b8cdcd1501ba1238"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let (location, token) = location_and_token(&reply, "ssoToken");
    assert_eq!(
        location,
        "https://canny.io/api/redirects/sso?ssoToken=TOKEN&companyID=553c3ef8b8cdcd1501ba1238\
         &redirect=https%3A%2F%2Facme.canny.io%2Fadmin%2Fboard%2Ffeature-requests"
    );
    assert_eq!(
        reply.location_param("redirect"),
        "https://acme.canny.io/admin/board/feature-requests"
    );
    let claims = decode_hs(&token, Algorithm::HS256, CANNY_KEY);
    assert_eq!(claim_names(&claims), ["avatarURL", "email", "id", "name"]);
    assert_eq!(claims["id"], 42, "the app's id, as its JSON type");
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(claims["avatarURL"], "https://cdn.acme.example/alice.png");
}

// Canny's snippet "refuses a redirect that does not start with https://".
#[tokio::test]
async fn canny_refuses_a_redirect_off_the_board_and_needs_an_id() {
    let counts = Counts::default();
    let recorder = Recorder::default();
    let app = app(counts
        .builder()
        .with_observer(recorder.observer())
        .with_portal(canny()));
    for redirect in [
        "http%3A%2F%2Facme.canny.io%2F",
        "https%3A%2F%2Fevil.example%2F",
        "%2Fadmin",
        "https%3A%2F%2Facme.canny.io%2F%3FssoToken%3Dplanted",
    ] {
        let reply = send(
            &app,
            get_req(&format!("/sso/canny?companyID=c1&redirect={redirect}")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{redirect}");
        assert_eq!(
            recorder.take()[0].kind,
            EventKind::RedirectRejected,
            "{redirect}"
        );
    }
    assert_eq!((counts.identity_calls(), counts.tokens_issued()), (0, 0));

    let recorder = Recorder::default();
    let no_id = Identity::new("bob@example.com")
        .unwrap()
        .with_first_name("Bob");
    let reply = send(
        &signed_in(canny(), no_id, &recorder),
        get_req("/sso/canny?companyID=c1"),
    )
    .await;
    assert_field_refused(&reply, &recorder, "id");
}

// "it will sent a query param called redirect that contains a URL. You must redirect
// back to this URL" — with the token added, its own query kept.
#[tokio::test]
async fn frill_adds_sso_token_to_the_redirect_it_sent() {
    let app = signed_in(frill(), alice_in_full(), &Recorder::default());
    for (sent, expected) in [
        (
            "https%3A%2F%2Facme.frill.co%2Froadmap%3Fsort%3Dnew",
            "https://acme.frill.co/roadmap?sort=new&ssoToken=TOKEN",
        ),
        (
            "https://acme.frill.co/b/ideas?ref=%2Fx",
            "https://acme.frill.co/b/ideas?ref=%2Fx&ssoToken=TOKEN",
        ),
        (
            "https%3A%2F%2Facme.frill.co",
            "https://acme.frill.co/?ssoToken=TOKEN",
        ),
    ] {
        let reply = send(&app, get_req(&format!("/sso/frill?redirect={sent}"))).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{sent}");
        let (location, token) = location_and_token(&reply, "ssoToken");
        assert_eq!(location, expected);
        let claims = decode_hs(&token, Algorithm::HS256, FRILL_KEY);
        assert_eq!(claim_names(&claims), ["avatar", "email", "id", "name"]);
        assert_eq!(claims["email"], "alice@example.com");
        assert_eq!(claims["id"], 42);
    }
}

#[tokio::test]
async fn frill_refuses_a_redirect_it_cannot_trust() {
    let counts = Counts::default();
    let recorder = Recorder::default();
    let app = app(counts
        .builder()
        .with_observer(recorder.observer())
        .with_portal(frill()));
    for (query, reason) in [
        (
            "redirect=https%3A%2F%2Fevil.example%2F",
            "origin_not_allowed",
        ),
        (
            "redirect=https%3A%2F%2Facme.frill.co%2F%3FssoToken%3Dplanted",
            "target_carries_ssoToken",
        ),
        (
            "redirect=https%3A%2F%2Facme.frill.co%2F%3Fssotoken%5B%5D%3Dplanted",
            "target_carries_ssoToken",
        ),
        ("", "missing_redirect"),
    ] {
        let reply = send(&app, get_req(&format!("/sso/frill?{query}"))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(!reply.has_location());
        assert_eq!(
            recorder.take()[0].reason.as_deref(),
            Some(reason),
            "{query}"
        );
    }
    assert_eq!((counts.identity_calls(), counts.tokens_issued()), (0, 0));
}
