//! The address a signed-out browser is told to come back to after the app's login page:
//! the path and query it asked for, or the full URL when the login page is on another
//! origin, on the configured public URL when there is one, else built from `Host` and the
//! connection's scheme, or from a trusted proxy's `X-Forwarded-Proto` and `-Host`.

use crate::common;

use common::*;
use http::{Request, StatusCode};
use portal_sso::{RequestOrigin, SsoLayerBuilder};
use tower_layer::Layer;

const ASKED: &str = "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Fa";

fn request(headers: &[(&str, &str)]) -> Request<axum::body::Body> {
    let mut request = Request::get(ASKED);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(axum::body::Body::empty()).unwrap()
}

/// Where `builder`'s layer sends a signed-out `request`, as the login page's `next`.
async fn come_back_to(
    builder: SsoLayerBuilder,
    origin: Option<RequestOrigin>,
    request: Request<axum::body::Body>,
) -> String {
    let mut service = builder.build().unwrap().layer(inner_app());
    if let Some(origin) = origin {
        service = service.with_request_origin(origin);
    }
    let reply = send(&service, request).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    reply.location_param("next")
}

fn elsewhere(users: &Users) -> SsoLayerBuilder {
    builder(users).with_login_url("https://accounts.example/login")
}

#[tokio::test]
async fn a_login_page_on_the_same_origin_gets_the_path_and_query() {
    let users = Users::default();
    let headers = [("host", "app.example")];
    assert_eq!(
        come_back_to(builder(&users), None, request(&headers)).await,
        ASKED
    );
    let same = builder(&users).with_login_url("http://app.example/login");
    assert_eq!(come_back_to(same, None, request(&headers)).await, ASKED);
}

#[tokio::test]
async fn a_login_page_elsewhere_gets_the_full_url_from_host_and_the_connections_scheme() {
    let users = Users::default();
    let headers = [
        ("host", "App.Example:8080"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
    ];
    assert_eq!(
        come_back_to(elsewhere(&users), None, request(&headers)).await,
        format!("http://app.example:8080{ASKED}")
    );
    let over_tls = elsewhere(&users).with_request_origin(RequestOrigin::https());
    assert_eq!(
        come_back_to(over_tls, None, request(&headers)).await,
        format!("https://app.example:8080{ASKED}")
    );
}

#[tokio::test]
async fn a_trusted_proxys_forwarded_headers_name_the_origin() {
    let users = Users::default();
    let headers = [
        ("host", "127.0.0.1:9000"),
        ("x-forwarded-host", "help.example"),
        ("x-forwarded-proto", "https"),
    ];
    let trusted = RequestOrigin::http().trusting_forwarded();
    assert_eq!(
        come_back_to(elsewhere(&users), Some(trusted), request(&headers)).await,
        format!("https://help.example{ASKED}")
    );
    // Per connection: the same layer, a peer that is not the proxy.
    assert_eq!(
        come_back_to(
            elsewhere(&users).with_request_origin(trusted),
            Some(RequestOrigin::http()),
            request(&headers)
        )
        .await,
        format!("http://127.0.0.1:9000{ASKED}")
    );
}

#[tokio::test]
async fn a_request_naming_no_usable_host_gets_the_path() {
    let users = Users::default();
    let trusted = RequestOrigin::http().trusting_forwarded();
    for headers in [
        vec![],
        vec![
            ("host", "app.example"),
            ("x-forwarded-host", "user@evil.example"),
        ],
    ] {
        assert_eq!(
            come_back_to(elsewhere(&users), Some(trusted), request(&headers)).await,
            ASKED,
            "{headers:?}"
        );
    }
}

/// Stray hosts a request may name, in every header the origin could be read from.
const STRAY: [(&str, &str); 3] = [
    ("host", "evil.example"),
    ("x-forwarded-host", "evil.example"),
    ("x-forwarded-proto", "http"),
];

#[tokio::test]
async fn a_public_url_is_the_return_origin_whatever_host_the_request_names() {
    let users = Users::default();
    let pinned = || elsewhere(&users).with_public_url("https://App.Example:443/");
    let trusted = RequestOrigin::https().trusting_forwarded();
    // The layer's own reading, a connection from a trusted proxy, one from anyone else,
    // and a layer built to trust forwarding headers on every request.
    for (builder, origin) in [
        (pinned(), None),
        (pinned(), Some(trusted)),
        (pinned(), Some(RequestOrigin::http())),
        (pinned().with_request_origin(trusted), None),
    ] {
        assert_eq!(
            come_back_to(builder, origin, request(&STRAY)).await,
            format!("https://app.example{ASKED}"),
            "{origin:?}"
        );
    }
    // A request with no usable host at all comes back there too.
    assert_eq!(
        come_back_to(pinned(), Some(trusted), request(&[])).await,
        format!("https://app.example{ASKED}")
    );
}

#[tokio::test]
async fn a_public_url_on_the_login_pages_origin_gets_the_path_and_query() {
    let users = Users::default();
    let same = elsewhere(&users).with_public_url("https://accounts.example");
    assert_eq!(come_back_to(same, None, request(&STRAY)).await, ASKED);
}

#[test]
fn a_public_url_that_is_not_an_origin_is_named() {
    for url in [
        "app.example",
        "//app.example",
        "ftp://app.example",
        "https://user@app.example",
        "https://app.example/app",
        "https://app.example/?x=1",
        "https://app.example/#top",
        "https://",
    ] {
        let Err(err) = builder(&Users::default()).with_public_url(url).build() else {
            panic!("{url:?} was accepted");
        };
        assert_eq!(err.field(), "public_url", "{url:?}");
        assert!(err.problem().contains("must be an origin only"), "{err}");
    }
}
