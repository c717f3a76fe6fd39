//! A first end-to-end pass through the layer around an axum router.

use axum::Router;
use axum::routing::get;
use http::{Request, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portal_sso::{AhaPortal, Identity, KustomerPortal, Secret, SsoLayer};
use tower::ServiceExt;

const KUSTOMER_SECRET: &str = "kustomer-secret-kustomer-secret-0123456789";
const AHA_SECRET: &str = "aha-secret-aha-secret-aha-secret-0123456789";

fn app() -> Router {
    let layer = SsoLayer::builder()
        .with_identity(|parts: &http::request::Parts| {
            let signed_in = portal_sso::find_cookie(&parts.headers, "sid") == Some("alice");
            async move {
                Ok(if signed_in {
                    Some(Identity::new("alice@example.com")?.with_first_name("Alice"))
                } else {
                    None
                })
            }
        })
        .with_portal(
            KustomerPortal::new(Secret::new(KUSTOMER_SECRET))
                .with_redirect_origins(["https://acme.kustomer.help"]),
        )
        .with_portal(AhaPortal::new(
            Secret::new(AHA_SECRET),
            "https://acme.aha.site/auth/jwt/callback",
        ))
        .build()
        .unwrap();
    Router::new()
        .route("/", get(|| async { "home" }))
        .layer(layer)
}

#[tokio::test]
async fn kustomer_round_trip() {
    let response = app()
        .oneshot(
            Request::get("/sso/kustomer?trackingToken=x&kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help")
                .header(header::COOKIE, "sid=alice")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    let (base, token) = location.split_once("&externalToken=").unwrap();
    assert_eq!(
        base,
        "https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help"
    );
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_secret(KUSTOMER_SECRET.as_bytes()),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims["email"], "alice@example.com");
}

#[tokio::test]
async fn aha_signed_out_goes_to_login_then_passthrough() {
    let response = app()
        .oneshot(
            Request::get("/sso/aha?state=abc")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/login?next=%2Fsso%2Faha%3Fstate%3Dabc"
    );
    let response = app()
        .oneshot(Request::get("/").body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
