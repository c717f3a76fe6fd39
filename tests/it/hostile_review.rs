//! What a second hostile review found in the layer, one test per finding, each named after
//! the guarantee that now holds. The remote-logout marker's binding to its session is in
//! `remote_logout_marker.rs`; the sidecar's findings are in the sidecar's tests.

use crate::common;

use common::tokens::{alice_in_full, decode_hs, signed_in};
use common::*;
use jsonwebtoken::Algorithm;
use portal_sso::{
    Claim, ConfigError, JwtAlgorithm, JwtPortal, PassParam, Secret, SessionCookie, SsoLayer,
    TimeUnit, is_same_site_path,
};

const SECRET: &str = "a-custom-portal-secret-0123456789abcdef";
const CALLBACK: &str = "https://help.acme.example/sso/jwt";

/// A custom portal signing `email` to the callback, with `extra` applied.
fn custom(extra: impl FnOnce(JwtPortal) -> JwtPortal) -> JwtPortal {
    extra(
        JwtPortal::new(JwtAlgorithm::HS256, Secret::new(SECRET))
            .with_callback_url(CALLBACK)
            .with_claim("email", Claim::identity("email"))
            .with_claim("iat", Claim::time(TimeUnit::Seconds, 0)),
    )
}

fn refused(portal: JwtPortal) -> ConfigError {
    SsoLayer::builder()
        .with_identity(Users::default())
        .with_portal(portal)
        .build()
        .expect_err("refused")
}

#[test]
fn no_request_parameter_can_fill_a_claim_a_portal_may_read_as_identity_or_privilege() {
    // The deny-list this replaces let every one of these through.
    for name in [
        "preferred_username",
        "upn",
        "mail",
        "tenant",
        "org_id",
        "owner",
        "plan",
        "amr",
        "sid",
        "brand",
    ] {
        let err = refused(custom(|p| p.with_claim(name, Claim::param(name))));
        assert_eq!(err.field(), format!("portals[0].claims.{name}"));
        assert!(err.problem().contains("nonce and state"), "{err}");
    }
    // Echo-only claims, and a name the operator declares an echo, are accepted.
    for (name, claim) in [
        ("nonce", Claim::param("nonce")),
        ("state", Claim::param("state")),
        ("brand", Claim::param("brand").declared_echo()),
    ] {
        let portal = custom(|p| p.with_claim(name, claim));
        SsoLayer::builder()
            .with_identity(Users::default())
            .with_portal(portal)
            .build()
            .unwrap_or_else(|err| panic!("{name}: {err}"));
    }
}

#[test]
fn no_pass_param_a_parser_reads_as_one_we_add_is_accepted() {
    // (`ssoToken[]` is no parameter name at all: refused as one.)
    for planted in ["SSOTOKEN", "ssotoken", "ssoToken.x", "SsoToken.y"] {
        let portal = custom(|p| {
            p.with_token_param("ssoToken")
                .with_pass_param(PassParam::echo(planted))
        });
        let err = refused(portal);
        assert_eq!(err.field(), "portals[0].pass_params", "{planted}");
        assert!(err.problem().contains("ssoToken"), "{planted}: {err}");
    }
    let portal = custom(|p| {
        p.with_pass_param(PassParam::echo("returnTo"))
            .with_pass_param(PassParam::path("ReturnTo"))
    });
    assert_eq!(refused(portal).field(), "portals[0].pass_params");
}

#[tokio::test]
async fn a_path_typed_pass_param_drops_an_address_elsewhere_with_an_event() {
    let recorder = Recorder::default();
    let app = app(SsoLayer::builder()
        .with_identity(Users::default())
        .with_observer(recorder.observer())
        .with_portal(custom(|p| p.with_pass_param(PassParam::path("returnTo")))));
    let reply = send(
        &app,
        get_as("/sso/jwt?returnTo=https%3A%2F%2Fevil.example%2F", ALICE_SID),
    )
    .await;
    assert_eq!(reply.status, 302);
    assert!(
        reply.location_params("returnTo").is_empty(),
        "{}",
        reply.location()
    );
    let events = recorder.take();
    let issued = events.last().expect("an event");
    assert_eq!(issued.reason.as_deref(), Some("returnTo_dropped"));
    let reply = send(&app, get_as("/sso/jwt?returnTo=%2Fdocs%2Fa", ALICE_SID)).await;
    assert_eq!(reply.location_param("returnTo"), "/docs/a");
}

#[test]
fn same_site_paths_refuse_escaped_control_and_invisible_characters() {
    for bad in [
        "/a%09b",
        "/a%0d%0aSet-Cookie:x=1",
        "/a%00",
        "/a%E2%80%AEgpj.exe",
        "/a?x=%0A",
    ] {
        assert!(!is_same_site_path(bad), "{bad}");
    }
    for good in ["/search?q=a%20b", "/kb?q=a%2Fb", "/a%C3%A9"] {
        assert!(is_same_site_path(good), "{good}");
    }
}

#[tokio::test]
async fn a_pinned_canny_company_is_sent_and_another_is_refused() {
    let canny = JwtPortal::canny(Secret::new(SECRET))
        .with_redirect_origins(["https://acme.canny.io"])
        .with_pinned_param("companyID", "5f0c");
    let recorder = Recorder::default();
    let app = signed_in(canny, alice_in_full(), &recorder);
    let reply = send(&app, get_req("/sso/canny?companyID=6a1d")).await;
    assert_eq!(reply.status, 400);
    assert!(!reply.has_location());
    assert_eq!(
        recorder.take().last().unwrap().reason.as_deref(),
        Some("companyID_not_configured")
    );
    for query in ["companyID=5f0c", ""] {
        let reply = send(&app, get_req(&format!("/sso/canny?{query}"))).await;
        assert_eq!(reply.status, 302, "{query}");
        assert_eq!(reply.location_param("companyID"), "5f0c", "{query}");
        let token = token_in(reply.location(), "ssoToken");
        assert_eq!(
            decode_hs(&token, Algorithm::HS256, SECRET)["email"],
            "alice@example.com"
        );
    }
    let not_carried = JwtPortal::canny(Secret::new(SECRET))
        .with_redirect_origins(["https://acme.canny.io"])
        .with_pinned_param("redirect", "https://acme.canny.io/");
    assert_eq!(
        refused(not_carried).field(),
        "portals[0].pinned_params.redirect"
    );
}

#[tokio::test]
async fn logout_routes_refuse_cross_site_requests_that_are_not_navigations() {
    let recorder = Recorder::default();
    let app = app(builder(&Users::default())
        .with_observer(recorder.observer())
        .with_session_cookie(SessionCookie::new(SESSION_COOKIE)));
    let logout = |site: &str, dest: &str| {
        let mut request = get_as("/sso/aha/logout", ALICE_SID);
        let headers = request.headers_mut();
        headers.insert("sec-fetch-site", site.parse().unwrap());
        headers.insert("sec-fetch-dest", dest.parse().unwrap());
        request
    };
    // A third-party <img>, fetch or frame: refused, the session kept.
    for dest in ["image", "empty", "iframe", "script"] {
        let reply = send(&app, logout("cross-site", dest)).await;
        assert_eq!(reply.status, 403, "{dest}");
        assert!(reply.set_cookie(SESSION_COOKIE).is_none(), "{dest}");
        assert_eq!(
            recorder.take().last().unwrap().reason.as_deref(),
            Some("cross_site_subresource")
        );
    }
    // The vendor's redirect is a top-level navigation: the session ends.
    let reply = send(&app, logout("cross-site", "document")).await;
    assert_eq!(reply.status, 302);
    assert!(reply.set_cookie(SESSION_COOKIE).is_some());
    // So does a same-site image, and a browser without fetch metadata.
    assert_eq!(send(&app, logout("same-origin", "image")).await.status, 302);
    assert_eq!(
        send(&app, get_as("/sso/aha/logout", ALICE_SID))
            .await
            .status,
        302
    );
}

#[test]
fn two_zendesk_portals_get_a_logout_route_each_under_their_own_path() {
    let zendesk = |path: &str| {
        JwtPortal::zendesk(Secret::new(SECRET), "https://acme.zendesk.com/access/jwt")
            .with_path(path)
            .with_name(path.trim_start_matches("/sso/"))
    };
    let layer = SsoLayer::builder()
        .with_identity(Users::default())
        .with_portal(zendesk("/sso/zendesk"))
        .with_portal(zendesk("/sso/zendesk-staff"))
        .build()
        .expect("two Zendesk portals");
    let routes: Vec<&str> = layer.routes().collect();
    for route in [
        "/sso/zendesk",
        "/sso/zendesk/logout",
        "/sso/zendesk-staff",
        "/sso/zendesk-staff/logout",
    ] {
        assert!(routes.contains(&route), "{route} in {routes:?}");
    }
    // A logout path set explicitly is kept as written.
    let aha = JwtPortal::aha(Secret::new(SECRET), AHA_CALLBACK)
        .with_path("/kb/login")
        .with_logout_path(Some("/kb/bye"));
    assert_eq!(aha.logout_path().as_deref(), Some("/kb/bye"));
}
