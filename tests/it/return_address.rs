//! The address a signed-out browser is told to come back to after the app's login page:
//! the path and query it asked for, or the full URL when the login page is on another
//! origin, built from `Host` and the connection's scheme, or from a trusted proxy's
//! `X-Forwarded-Proto` and `-Host`.

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
