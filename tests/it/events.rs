//! "Every decision ... is one event with a stable name and fields": what an observer (an
//! audit log, a "recent SSO events" page) receives for each outcome.

use crate::common;

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use common::*;
use http::header::COOKIE;
use http::{Request, StatusCode};
use portal_sso::{EventKind, SessionCookie, SsoEvent, SsoLayer, SsoLayerBuilder};
use tower::Layer as _;

/// Builds the usual app with a recorder attached; returns both.
fn recorded(builder: SsoLayerBuilder) -> (portal_sso::Sso<Router>, Recorder) {
    let recorder = Recorder::default();
    (app(builder.with_observer(recorder.observer())), recorder)
}

/// Sends `request` and returns the single event it caused.
async fn one_event(
    app: &portal_sso::Sso<Router>,
    recorder: &Recorder,
    request: Request<Body>,
) -> SsoEvent {
    let uri = request.uri().to_string();
    send(app, request).await;
    let mut events = recorder.take();
    assert_eq!(events.len(), 1, "{uri}: exactly one event, got {events:?}");
    events.remove(0)
}

#[test]
fn the_names_are_stable() {
    let names: Vec<_> = EventKind::ALL.iter().map(|kind| kind.name()).collect();
    assert_eq!(
        names,
        [
            "token_issued",
            "login_required",
            "login_loop",
            "redirect_rejected",
            "bad_request",
            "identity_error",
            "identity_rejected",
            "logout",
            "app_logout",
            "portal_error",
            "widget_token_issued",
            "widget_refused",
        ]
    );
    assert_eq!(EventKind::TokenIssued.to_string(), "token_issued");
}

#[tokio::test]
async fn token_issued_names_the_portal_route_masked_email_and_target_origin() {
    let users = Users::default();
    let (app, recorder) = recorded(builder(&users));
    let before = SystemTime::now();
    let event = one_event(
        &app,
        &recorder,
        get_as(
            "/sso/kustomer?trackingToken=tt-secret&kustomerRedirectUri=https://acme.kustomer.help/login",
            ALICE_SID,
        ),
    )
    .await;
    assert_eq!(event.kind, EventKind::TokenIssued);
    assert_eq!(event.portal, "kustomer");
    assert_eq!(event.path, "/sso/kustomer");
    assert_eq!(event.email.as_deref(), Some("a***@example.com"));
    assert_eq!(
        event.target_origin.as_deref(),
        Some("https://acme.kustomer.help")
    );
    assert_eq!(event.reason, None);
    assert!(event.at >= before - Duration::from_secs(1));

    let event = one_event(&app, &recorder, get_as("/sso/aha?state=s", BOB_SID)).await;
    assert_eq!(event.kind, EventKind::TokenIssued);
    assert_eq!(event.portal, "aha");
    assert_eq!(event.path, "/sso/aha");
    assert_eq!(event.email.as_deref(), Some("b***@example.com"));
    assert_eq!(
        event.target_origin.as_deref(),
        Some("https://acme.identity.aha.io")
    );
}

#[tokio::test]
async fn a_dropped_return_to_is_said_on_the_issued_event() {
    let users = Users::default();
    let (app, recorder) = recorded(builder(&users));
    let event = one_event(
        &app,
        &recorder,
        get_as("/sso/aha?return_to=//evil.com", ALICE_SID),
    )
    .await;
    assert_eq!(event.kind, EventKind::TokenIssued);
    assert_eq!(event.reason.as_deref(), Some("return_to_dropped"));
}

#[tokio::test]
async fn login_required_when_signed_out() {
    let users = Users::default();
    let (app, recorder) = recorded(builder(&users));
    let event = one_event(&app, &recorder, get_req("/sso/kustomer?trackingToken=x")).await;
    assert_eq!(event.kind, EventKind::LoginRequired);
    assert_eq!(event.portal, "kustomer");
    assert_eq!(event.path, "/sso/kustomer");
    assert_eq!(event.reason.as_deref(), Some("no_session"));
    assert_eq!(event.email, None);
}

#[tokio::test]
async fn redirect_rejected_says_why_and_which_origin() {
    let users = Users::default();
    let (app, recorder) = recorded(builder(&users));
    for (target, reason, origin) in [
        (
            "https://evil.com/login",
            "origin_not_allowed",
            Some("https://evil.com"),
        ),
        (
            "http://acme.kustomer.help/login",
            "origin_not_allowed",
            Some("http://acme.kustomer.help"),
        ),
        ("https://user@acme.kustomer.help/", "userinfo", None),
        ("javascript:alert(1)", "not_absolute_http", None),
        (
            "https%3A%2F%2Facme.kustomer.help%2F%0A",
            "forbidden_character",
            None,
        ),
    ] {
        let uri = format!("/sso/kustomer?kustomerRedirectUri={target}");
        let event = one_event(&app, &recorder, get_as(&uri, ALICE_SID)).await;
        assert_eq!(event.kind, EventKind::RedirectRejected, "{target}");
        assert_eq!(event.reason.as_deref(), Some(reason), "{target}");
        assert_eq!(event.target_origin.as_deref(), origin, "{target}");
        assert_eq!(event.email, None, "nobody was looked up");
    }
}

#[tokio::test]
async fn bad_request_says_which_rule_was_broken() {
    let users = Users::default();
    let (app, recorder) = recorded(builder(&users).with_max_cookie_bytes(1024));
    let big_cookie = Request::get("/sso/aha")
        .header(COOKIE, format!("pad={}", "x".repeat(2048)))
        .body(Body::empty())
        .unwrap();
    let post = Request::post("/sso/kustomer").body(Body::empty()).unwrap();
    for (request, portal, reason) in [
        (
            get_req(
                "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/&kustomerRedirectUri=https://evil.com/",
            ),
            "kustomer",
            "duplicate_kustomerRedirectUri",
        ),
        (
            get_req("/sso/kustomer?kustomerRedirectUri=%zz"),
            "kustomer",
            "bad_encoding",
        ),
        (
            get_req("/sso/aha?state=a&state=b"),
            "aha",
            "duplicate_state",
        ),
        (
            get_req(&format!("/sso/aha?state={}", "s".repeat(1100))),
            "aha",
            "state_too_long",
        ),
        (post, "kustomer", "method_not_allowed"),
        (big_cookie, "aha", "cookie_too_large"),
    ] {
        let event = one_event(&app, &recorder, request).await;
        assert_eq!(event.kind, EventKind::BadRequest, "{reason}");
        assert_eq!(event.portal, portal);
        assert_eq!(event.reason.as_deref(), Some(reason));
    }
}

#[tokio::test]
async fn identity_error_and_identity_rejected_carry_the_sources_explanation() {
    let users = Users::default();
    let (app, recorder) = recorded(builder(&users));
    let event = one_event(&app, &recorder, get_as("/sso/aha", DOWN_SID)).await;
    assert_eq!(event.kind, EventKind::IdentityError);
    assert_eq!(
        event.reason.as_deref(),
        Some("the session store did not answer")
    );

    let event = one_event(&app, &recorder, get_as("/sso/kustomer", EVIL_SID)).await;
    assert_eq!(event.kind, EventKind::IdentityRejected);
    assert!(
        event.reason.as_deref().unwrap().contains("exactly one '@'"),
        "{event:?}"
    );
    assert_eq!(event.email, None);
}

#[tokio::test]
async fn login_loop_is_one_event_after_the_login_required_ones() {
    let users = Users::default();
    let (app, recorder) = recorded(builder(&users).with_session_cookie(SessionCookie::new("sid")));
    let mut carried = String::new();
    let mut kinds = Vec::new();
    for _ in 0..4 {
        let request = Request::get("/sso/aha")
            .header(COOKIE, carried.clone())
            .body(Body::empty())
            .unwrap();
        let reply = send(&app, request).await;
        if let Some(trips) = reply.set_cookies().into_iter().next() {
            carried = format!("{}={}", trips.name(), trips.value());
        }
        kinds.extend(recorder.take().into_iter().map(|e| (e.kind, e.reason)));
    }
    assert_eq!(
        kinds,
        [
            (EventKind::LoginRequired, Some("no_session".to_owned())),
            (EventKind::LoginRequired, Some("no_session".to_owned())),
            (EventKind::LoginRequired, Some("no_session".to_owned())),
            (
                EventKind::LoginLoop,
                Some("3 trips to the login page".to_owned())
            ),
        ]
    );
}

#[tokio::test]
async fn logout_and_app_logout() {
    let users = Users::default();
    let recorder = Recorder::default();
    let router = inner_app().route("/logout", get(|| async { StatusCode::NO_CONTENT }));
    let app = SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(
            aha_portal().with_portal_logout_url("https://acme.aha.site/portal_session/logout"),
        )
        .with_app_logout_path("/logout")
        .with_observer(recorder.observer())
        .build()
        .unwrap()
        .layer(router);

    let event = one_event(&app, &recorder, get_as("/sso/aha/logout", ALICE_SID)).await;
    assert_eq!(event.kind, EventKind::Logout);
    assert_eq!(event.portal, "aha");
    assert_eq!(event.path, "/sso/aha/logout");

    let event = one_event(&app, &recorder, get_as("/logout", ALICE_SID)).await;
    assert_eq!(event.kind, EventKind::AppLogout);
    assert_eq!(event.path, "/logout");
    assert_eq!(
        event.target_origin.as_deref(),
        Some("https://acme.aha.site")
    );
}

#[tokio::test]
async fn the_apps_own_pages_cause_no_events() {
    let users = Users::default();
    let (app, recorder) = recorded(builder(&users));
    for uri in ["/", "/sso/kustomerx", "/account?x=1"] {
        send(&app, get_as(uri, ALICE_SID)).await;
    }
    assert!(recorder.take().is_empty());
}

#[tokio::test]
async fn every_observer_sees_every_event_and_named_portals_are_named() {
    let users = Users::default();
    let first = Recorder::default();
    let second = Recorder::default();
    let app = app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(kustomer_portal().with_name("acme-help"))
        .with_observer(first.observer())
        .with_observer(second.observer()));
    send(&app, get_as("/sso/kustomer", ALICE_SID)).await;
    let (a, b) = (first.take(), second.take());
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].portal, "acme-help");
    assert_eq!(b[0].portal, "acme-help");
}
