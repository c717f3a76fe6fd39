//! A widget's route as the app's page and everyone else reach it: JSON for the signed-in
//! user, `401 {"error": "signed_out"}` for a signed-out one (never a redirect), `403
//! {"error": "cross_site"}` with nothing signed for any request a browser marks as coming
//! from elsewhere, no CORS header on any answer, and one event per decision.

use crate::common;

use axum::body::Body;
use common::{DOWN_SID, Recorder, Reply, Users, get_as, send};
use http::{Request, StatusCode};
use portal_sso::{EventKind, RequestOrigin, Secret, Sso, SsoLayer, SsoLayerBuilder, Widget};

const BEACON_SECRET: &str = "helpscout-beacon-secret-key-0123456789abcd";
const CHAT_SECRET: &str = "kustomer-chat-secret-0123456789abcdefghij";
const BEACON: &str = "/sso/widget/helpscout-beacon";
const CHAT: &str = "/sso/widget/kustomer-chat";

/// A layer with the test users, a Beacon and a Kustomer Chat widget, events recorded.
fn builder(users: &Users, recorder: &Recorder) -> SsoLayerBuilder {
    SsoLayer::builder()
        .with_identity(users.clone())
        .with_observer(recorder.observer())
        .with_widget(Widget::helpscout_beacon(Secret::new(BEACON_SECRET)))
        .with_widget(Widget::kustomer_chat(Secret::new(CHAT_SECRET)))
}

fn app(users: &Users, recorder: &Recorder) -> Sso<axum::Router> {
    common::app(builder(users, recorder))
}

/// A GET of `uri` as alice's browser sends it, with `headers` added.
fn alice_asks(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = get_as(uri, common::ALICE_SID);
    for (name, value) in headers {
        request.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    request
}

/// Asserts the headers every answer of a widget's route carries, and no CORS header.
fn assert_widget_headers(reply: &Reply) {
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert_eq!(reply.headers["vary"], "Cookie");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert!(!reply.has_location());
    for (name, _) in &reply.headers {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "a CORS header: {name}"
        );
    }
}

/// Asserts that `reply` is `status` with `{"error": error}`.
fn assert_error(reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_widget_headers(reply);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap(),
        serde_json::json!({ "error": error })
    );
}

#[tokio::test]
async fn the_apps_own_page_gets_the_value_with_the_protective_headers() {
    let (users, recorder) = (Users::default(), Recorder::default());
    let app = app(&users, &recorder);
    let reply = send(
        &app,
        alice_asks(BEACON, &[("sec-fetch-site", "same-origin")]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_widget_headers(&reply);
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(answer["email"], "alice@example.com");
    let events = recorder.take();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::WidgetTokenIssued);
    assert_eq!(events[0].portal, "helpscout-beacon");
    assert_eq!(events[0].path, BEACON);
    let shown = format!("{events:?}");
    assert!(
        !shown.contains(answer["signature"].as_str().unwrap()),
        "{shown}"
    );
}

#[tokio::test]
async fn a_signed_out_user_gets_401_json_never_a_redirect() {
    let (users, recorder) = (Users::default(), Recorder::default());
    let app = app(&users, &recorder);
    for uri in [BEACON, CHAT] {
        let request = Request::get(uri)
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .unwrap();
        assert_error(
            &send(&app, request).await,
            StatusCode::UNAUTHORIZED,
            "signed_out",
        );
        let events = recorder.take();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::WidgetRefused);
        assert_eq!(events[0].reason.as_deref(), Some("signed_out"));
    }
    // A failing identity source is not "signed out": the widget stays anonymous, but
    // the operator sees an identity_error.
    let reply = send(
        &app,
        alice_asks(BEACON, &[("sec-fetch-site", "same-origin")]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    recorder.take();
    let mut down = get_as(BEACON, DOWN_SID);
    down.headers_mut()
        .insert("sec-fetch-site", "same-origin".parse().unwrap());
    assert_error(
        &send(&app, down).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "identity_unavailable",
    );
    assert_eq!(recorder.take()[0].kind, EventKind::IdentityError);
}

#[tokio::test]
async fn a_request_a_browser_marks_as_cross_site_is_refused_before_anyone_is_asked() {
    let (users, recorder) = (Users::default(), Recorder::default());
    let app = app(&users, &recorder);
    for headers in [
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ][..],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://blog.app.example"),
        ][..],
        // Typed in the address bar, or a link from a mail.
        &[("sec-fetch-site", "none")][..],
        // A second header cannot turn a refusal into a pass.
        &[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-origin"),
        ][..],
        // Without Sec-Fetch-Site: another origin, an opaque one, or none named.
        &[("host", "app.example"), ("origin", "https://evil.example")][..],
        &[("host", "app.example"), ("origin", "null")][..],
        &[
            ("host", "app.example"),
            ("referer", "https://evil.example/app.example/"),
        ][..],
        &[("host", "app.example")][..],
    ] {
        let reply = send(&app, alice_asks(CHAT, headers)).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "cross_site");
        let events = recorder.take();
        assert_eq!(events.len(), 1, "{headers:?}");
        assert_eq!(events[0].kind, EventKind::WidgetRefused);
        assert_eq!(events[0].reason.as_deref(), Some("cross_site"));
    }
    assert_eq!(users.calls(), 0, "the identity source was never asked");
    let reply = send(
        &app,
        alice_asks(
            CHAT,
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ],
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        recorder.take()[0].target_origin.as_deref(),
        Some("https://evil.example")
    );
}

#[tokio::test]
async fn without_sec_fetch_site_the_apps_own_origin_passes_as_the_request_origin_reads_it() {
    let (users, recorder) = (Users::default(), Recorder::default());
    let app = app(&users, &recorder);
    for headers in [
        &[
            ("host", "app.example:8080"),
            ("origin", "http://app.example:8080"),
        ][..],
        &[
            ("host", "App.Example"),
            ("referer", "http://app.example/account?tab=chat"),
        ][..],
    ] {
        let reply = send(&app, alice_asks(CHAT, headers)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{headers:?}: {}",
            reply.text()
        );
    }
    // Behind a TLS-terminating proxy the layer is told to trust, its forwarded origin is
    // the app's; the same headers from anyone else name nothing.
    let https = common::app(
        builder(&users, &recorder).with_request_origin(RequestOrigin::http().trusting_forwarded()),
    );
    let forwarded = [
        ("host", "10.0.0.7:8080"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "app.example"),
        ("origin", "https://app.example"),
    ];
    assert_eq!(
        send(&https, alice_asks(CHAT, &forwarded)).await.status,
        StatusCode::OK
    );
    let reply = send(&app, alice_asks(CHAT, &forwarded)).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "cross_site");
}

#[tokio::test]
async fn with_a_public_url_only_that_origin_is_the_apps_own() {
    let (users, recorder) = (Users::default(), Recorder::default());
    let app = common::app(builder(&users, &recorder).with_public_url("https://app.example"));
    let ours = [("host", "evil.example"), ("origin", "https://app.example")];
    assert_eq!(
        send(&app, alice_asks(CHAT, &ours)).await.status,
        StatusCode::OK
    );
    // A Host naming the requesting site cannot make it the app's own.
    let theirs = [("host", "evil.example"), ("origin", "http://evil.example")];
    assert_error(
        &send(&app, alice_asks(CHAT, &theirs)).await,
        StatusCode::FORBIDDEN,
        "cross_site",
    );
}

#[tokio::test]
async fn other_methods_and_oversized_cookies_are_refused_in_json() {
    let (users, recorder) = (Users::default(), Recorder::default());
    let app = common::app(builder(&users, &recorder).with_max_cookie_bytes(1024));
    for method in ["POST", "OPTIONS", "PUT"] {
        let request = Request::builder()
            .method(method)
            .uri(BEACON)
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "GET")
            .body(Body::empty())
            .unwrap();
        let reply = send(&app, request).await;
        assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert_eq!(reply.headers["allow"], "GET, HEAD");
    }
    let big = format!("sid={}; pad={}", common::ALICE_SID, "p".repeat(2048));
    let request = Request::get(BEACON)
        .header("cookie", big)
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_error(
        &reply,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "cookie_too_large",
    );
    assert_eq!(users.calls(), 0);
}

#[tokio::test]
async fn an_identity_without_a_field_the_widget_signs_is_refused_naming_the_field() {
    let recorder = Recorder::default();
    let app = common::app(
        SsoLayer::builder()
            .with_identity(Users::default())
            .with_observer(recorder.observer())
            .with_widget(Widget::intercom_hmac(Secret::new(BEACON_SECRET))),
    );
    let reply = send(
        &app,
        alice_asks(
            "/sso/widget/intercom-hmac",
            &[("sec-fetch-site", "same-origin")],
        ),
    )
    .await;
    assert_error(&reply, StatusCode::FORBIDDEN, "identity_rejected");
    let events = recorder.take();
    assert_eq!(events[0].kind, EventKind::WidgetRefused);
    let reason = events[0].reason.as_deref().unwrap();
    assert!(reason.starts_with("identity_rejected: id: "), "{reason}");
}

#[test]
fn a_layer_of_widgets_alone_builds_and_routes_are_checked() {
    let only_widgets = SsoLayer::builder()
        .with_identity(Users::default())
        .with_widget(Widget::crisp(Secret::new(BEACON_SECRET)))
        .build()
        .unwrap();
    assert_eq!(
        only_widgets.routes().collect::<Vec<_>>(),
        ["/sso/widget/crisp"]
    );
    let twice = SsoLayer::builder()
        .with_identity(Users::default())
        .with_portal(common::kustomer_portal())
        .with_widget(Widget::crisp(Secret::new(BEACON_SECRET)).with_path("/sso/kustomer"))
        .build()
        .unwrap_err();
    assert_eq!(twice.field(), "widgets[0].path");
    let no_kid = SsoLayer::builder()
        .with_identity(Users::default())
        .with_widget(
            portal_sso::WidgetPreset::named("zendesk-messaging")
                .unwrap()
                .widget(Secret::new(BEACON_SECRET)),
        )
        .build()
        .unwrap_err();
    assert_eq!(no_kid.field(), "widgets[0].key_id");
}
