//! Every parameter of the SSO routes is bounded and checked, through the layer.
//!
//! Each request goes through [`Harness::send`], which also checks that no header value of
//! the response carries a control character and that `Location` has no raw CR, LF or
//! space: whatever a parameter holds, it can never reach a header as written.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use common::Counts;
use http::{HeaderMap, Request, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portal_sso::{JwtPortal, Secret, SsoLayer};
use tower::ServiceExt;

const KUSTOMER_SECRET: &str = "kustomer-secret-kustomer-secret-0123456789";
const AHA_SECRET: &str = "aha-secret-aha-secret-aha-secret-0123456789";
const TARGET: &str = "https%3A%2F%2Facme.kustomer.help%2Flogin";

struct Harness {
    app: Router,
    counts: Counts,
    headers_checked: AtomicUsize,
}

impl Harness {
    fn new() -> Self {
        let counts = Counts::default();
        let layer = counts
            .builder()
            .with_portal(
                JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
                    .with_redirect_origins(["https://acme.kustomer.help"]),
            )
            .with_portal(JwtPortal::aha(
                Secret::new(AHA_SECRET),
                "https://acme.aha.site/auth/jwt/callback",
            ))
            .build()
            .unwrap();
        Self {
            app: Router::new()
                .route("/", get(|| async { "home" }))
                .layer(layer),
            counts,
            headers_checked: AtomicUsize::new(0),
        }
    }

    fn identity_calls(&self) -> usize {
        self.counts.identity_calls()
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (parts, _) = response.into_parts();
        assert_headers_clean(&parts.headers);
        self.headers_checked.fetch_add(1, Ordering::SeqCst);
        (parts.status, parts.headers)
    }

    async fn get(&self, uri: &str) -> (StatusCode, HeaderMap) {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// `uri` is refused with a 400 page, before anyone is looked up, nothing signed.
    async fn refused(&self, uri: &str) {
        let (calls, issued) = (self.identity_calls(), self.counts.tokens_issued());
        let (status, headers) = self.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(headers.get(header::LOCATION).is_none(), "{uri}");
        assert_eq!(self.identity_calls(), calls, "identity asked for {uri}");
        assert_eq!(self.counts.tokens_issued(), issued, "{uri}");
    }
}

fn assert_headers_clean(headers: &HeaderMap) {
    for (name, value) in headers {
        assert!(
            !value.as_bytes().iter().any(u8::is_ascii_control),
            "header {name} carries a control character: {value:?}"
        );
    }
    if let Some(location) = headers.get(header::LOCATION) {
        assert!(
            !location
                .as_bytes()
                .iter()
                .any(|b| matches!(b, b'\r' | b'\n' | b' ') || !b.is_ascii()),
            "Location is not plain: {location:?}"
        );
    }
}

fn decode_claims(token: &str, secret: &str) -> serde_json::Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims
}

fn location_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    let location = headers[header::LOCATION].to_str().unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn control_well_formed_requests_are_signed() {
    let harness = Harness::new();
    let (status, headers) = harness
        .get(&format!(
            "/sso/kustomer?trackingToken=t&kustomerRedirectUri={TARGET}"
        ))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    let pairs = location_pairs(&headers);
    let token = &pairs.iter().find(|(k, _)| k == "externalToken").unwrap().1;
    assert_eq!(
        decode_claims(token, KUSTOMER_SECRET)["email"],
        "alice@example.com"
    );

    let (status, headers) = harness.get("/sso/aha?state=s1&return_to=%2Fkb%2Fa").await;
    assert_eq!(status, StatusCode::FOUND);
    let pairs = location_pairs(&headers);
    let token = &pairs.iter().find(|(k, _)| k == "jwt").unwrap().1;
    assert_eq!(
        decode_claims(token, AHA_SECRET)["email"],
        "alice@example.com"
    );
    assert!(pairs.contains(&("state".to_owned(), "s1".to_owned())));
    assert!(pairs.contains(&("return_to".to_owned(), "/kb/a".to_owned())));
    assert_eq!(harness.identity_calls(), 2);
}

#[tokio::test]
async fn duplicated_parameters_are_refused() {
    let harness = Harness::new();
    for uri in [
        format!("/sso/kustomer?kustomerRedirectUri={TARGET}&kustomerRedirectUri={TARGET}"),
        format!(
            "/sso/kustomer?kustomerRedirectUri={TARGET}&kustomerRedirectUri=https%3A%2F%2Fevil.com"
        ),
        format!("/sso/kustomer?kustomerRedirectUri={TARGET}&%6bustomerRedirectUri={TARGET}"),
        format!(
            "/sso/kustomer?kustomerRedirectUri={TARGET}&KustomerRedirectUri=https%3A%2F%2Fevil.com"
        ),
        format!("/sso/kustomer?KUSTOMERREDIRECTURI=x&kustomerRedirectUri={TARGET}"),
        format!("/sso/kustomer?kustomerRedirectUri={TARGET}&kustomerRedirectUri="),
        "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/&kustomerRedirectUri=https://evil.com/".to_owned(),
        "/sso/aha?state=a&state=b".to_owned(),
        "/sso/aha?state=a&%73tate=b".to_owned(),
        "/sso/aha?%73%74%61%74%65=a&state=b".to_owned(),
        "/sso/aha?state=a&State=b".to_owned(),
        "/sso/aha?STATE=a&state=b".to_owned(),
        "/sso/aha?state=a&%53tate=b".to_owned(),
        "/sso/aha?state&state".to_owned(),
        "/sso/aha?return_to=%2Fa&return_to=%2Fb".to_owned(),
        "/sso/aha?return_to=%2Fa&%72eturn_to=%2F%2Fevil.com".to_owned(),
        "/sso/aha?return_to=%2Fa&Return_To=%2Fb".to_owned(),
        "/sso/aha?return_to=%2Fa&return%5Fto=%2Fb".to_owned(),
    ] {
        harness.refused(&uri).await;
    }
    // Repeats of parameters the route does not read are not its business.
    let (status, _) = harness.get("/sso/aha?x=1&x=2&state=s").await;
    assert_eq!(status, StatusCode::FOUND);
}

#[tokio::test]
async fn state_is_bounded_at_one_kibibyte() {
    let harness = Harness::new();
    let exact = "s".repeat(1024);
    let (status, headers) = harness.get(&format!("/sso/aha?state={exact}")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location_pairs(&headers).contains(&("state".to_owned(), exact.clone())));
    // Escaped, it is the decoded length that counts.
    let escaped = "%41".repeat(1024);
    let (status, _) = harness.get(&format!("/sso/aha?state={escaped}")).await;
    assert_eq!(status, StatusCode::FOUND);

    harness
        .refused(&format!("/sso/aha?state={}", "s".repeat(1025)))
        .await;
    harness
        .refused(&format!("/sso/aha?state={}", "%41".repeat(1025)))
        .await;
    harness
        .refused(&format!("/sso/aha?state={}", "s".repeat(4000)))
        .await;
}

#[tokio::test]
async fn broken_escapes_and_non_utf8_are_refused() {
    let harness = Harness::new();
    for bad in [
        "%",
        "%4",
        "%zz",
        "%G1",
        "%%41",
        "%ff",
        "%C3%28",
        "%ED%A0%80",
        "%F8%88%80%80%80",
        "%C0%AF",
    ] {
        harness
            .refused(&format!("/sso/kustomer?kustomerRedirectUri={bad}"))
            .await;
        harness
            .refused(&format!(
                "/sso/kustomer?kustomerRedirectUri={TARGET}&x={bad}"
            ))
            .await;
        harness
            .refused(&format!(
                "/sso/kustomer?{bad}=1&kustomerRedirectUri={TARGET}"
            ))
            .await;
        harness.refused(&format!("/sso/aha?state={bad}")).await;
        harness
            .refused(&format!("/sso/aha?return_to=%2F{bad}"))
            .await;
        harness
            .refused(&format!("/sso/aha?trackingToken={bad}&state=s"))
            .await;
    }
}

#[tokio::test]
async fn queries_over_eight_kibibytes_are_refused() {
    let harness = Harness::new();
    let prefix = format!("kustomerRedirectUri={TARGET}&pad=");
    let fits = format!("{prefix}{}", "p".repeat(8 * 1024 - prefix.len()));
    assert_eq!(fits.len(), 8 * 1024);
    let (status, _) = harness.get(&format!("/sso/kustomer?{fits}")).await;
    assert_eq!(status, StatusCode::FOUND, "exactly 8 KiB is read");
    harness.refused(&format!("/sso/kustomer?{fits}p")).await;
    harness
        .refused(&format!("/sso/aha?state=s&pad={}", "p".repeat(9000)))
        .await;
}

#[tokio::test]
async fn control_characters_never_reach_a_header() {
    let harness = Harness::new();
    let nasty = [
        "%0d%0aSet-Cookie:%20evil=1",
        "%0aLocation:%20https://evil.com",
        "%0d",
        "%00",
        "%09",
        "%7f",
        "%1b[31m",
        "%c2%85",
        "%e2%80%a8",
        "a%20b",
        "+",
        "%22%3E%3Cscript%3E",
    ];
    let (mut refused, mut redirected) = (0, 0);
    for n in nasty {
        for uri in [
            format!("/sso/kustomer?kustomerRedirectUri={n}"),
            format!("/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2F{n}"),
            format!("/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/{n}"),
            format!(
                "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2F%3Fr%3D{n}"
            ),
            format!("/sso/kustomer?kustomerRedirectUri={TARGET}&trackingToken={n}"),
            format!("/sso/kustomer?kustomerRedirectUri={TARGET}&{n}={n}"),
            format!("/sso/aha?state={n}"),
            format!("/sso/aha?state=s&return_to=%2F{n}"),
            format!("/sso/aha?return_to={n}"),
            format!("/sso/aha?state={n}&return_to=%2Fkb{n}&x={n}"),
            format!("/sso/aha/logout?x={n}"),
        ] {
            // send() checks every header value of every response.
            let (status, headers) = harness.get(&uri).await;
            match status {
                StatusCode::BAD_REQUEST => refused += 1,
                StatusCode::FOUND => {
                    redirected += 1;
                    let location = headers[header::LOCATION].to_str().unwrap();
                    assert!(
                        url::Url::parse(location).is_ok() || location.starts_with('/'),
                        "{location}"
                    );
                }
                other => panic!("{uri}: unexpected {other}"),
            }
        }
    }
    // Values carried on (state, an allowed target's own query) arrive escaped, not dropped.
    let (status, headers) = harness.get("/sso/aha?state=a%0d%0ab").await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location_pairs(&headers).contains(&("state".to_owned(), "a\r\nb".to_owned())));
    assert!(
        refused > 0 && redirected > 0,
        "{refused} refused, {redirected} redirected"
    );
    println!(
        "{} responses checked: {refused} refused, {redirected} redirected",
        harness.headers_checked.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn signed_out_login_redirect_escapes_what_it_carries() {
    let layer = SsoLayer::builder()
        .with_identity(|_parts: &http::request::Parts| async { Ok(None) })
        .with_portal(JwtPortal::aha(
            Secret::new(AHA_SECRET),
            "https://acme.aha.site/auth/jwt/callback",
        ))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/", get(|| async { "home" }))
        .layer(layer);
    for uri in [
        "/sso/aha?state=%0d%0aSet-Cookie:%20x=1",
        "/sso/aha?state=a%20b&return_to=%2F%0a",
        "/sso/aha?x=%7f",
    ] {
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{uri}");
        assert_headers_clean(response.headers());
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(
            location.starts_with("/login?next=%2Fsso%2Faha%3F"),
            "{location}"
        );
    }
}

#[tokio::test]
async fn oversized_cookies_are_answered_431_without_reading_them() {
    let harness = Harness::new();
    let big = format!("sid={}", "c".repeat(9 * 1024));
    for uri in [
        format!("/sso/kustomer?kustomerRedirectUri={TARGET}"),
        "/sso/aha?state=s".to_owned(),
    ] {
        let (status, headers) = harness
            .send(
                Request::get(uri.as_str())
                    .header(header::COOKIE, big.as_str())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "{uri}");
        assert!(headers.get(header::LOCATION).is_none());
        // Split over several Cookie headers, the total counts.
        let half = format!("a={}", "c".repeat(5 * 1024));
        let (status, _) = harness
            .send(
                Request::get(uri.as_str())
                    .header(header::COOKIE, half.as_str())
                    .header(header::COOKIE, half.as_str())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "{uri}");
    }
    // Even with a query that would be refused, the cookie size is answered first.
    let (status, _) = harness
        .send(
            Request::get("/sso/aha?state=a&state=b")
                .header(header::COOKIE, big.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(harness.identity_calls(), 0);
    assert_eq!(harness.counts.tokens_issued(), 0);

    // Just under the limit is read as usual.
    let fits = format!("sid={}", "c".repeat(8 * 1024 - 4));
    let (status, _) = harness
        .send(
            Request::get("/sso/aha?state=s")
                .header(header::COOKIE, fits.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(harness.identity_calls(), 1);
}

#[tokio::test]
async fn return_to_off_the_knowledge_base_is_left_out() {
    let harness = Harness::new();
    for bad in [
        "%2F%2Fevil.com",
        "%2F%5Cevil.com",
        "%5C%5Cevil.com",
        "https%3A%2F%2Fevil.com",
        "%2F%09%2Fevil.com",
        "%2F%0A%2Fevil.com",
        "%2F%20%2Fevil.com",
        "javascript%3Aalert(1)",
        "evil.com",
        "",
    ] {
        let (status, headers) = harness
            .get(&format!("/sso/aha?state=s&return_to={bad}"))
            .await;
        assert_eq!(status, StatusCode::FOUND, "{bad}");
        let pairs = location_pairs(&headers);
        assert!(
            !pairs.iter().any(|(k, _)| k == "return_to"),
            "{bad}: {pairs:?}"
        );
        assert!(pairs.contains(&("state".to_owned(), "s".to_owned())));
    }
    let long = format!("%2F{}", "a".repeat(2048));
    let (status, headers) = harness.get(&format!("/sso/aha?return_to={long}")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        !location_pairs(&headers)
            .iter()
            .any(|(k, _)| k == "return_to")
    );
}
