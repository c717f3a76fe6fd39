//! Kustomer custom sign-on, sentence by sentence of the vendor's article and DESIGN.md:
//! the token (header, claims, `iat`, signature), the redirect that carries it (not cached,
//! not referred), the ignored `trackingToken`, one secret per brand, and the methods the
//! route answers.

use crate::common;

use common::kustomer::{RAW_REQUEST, REDIRECT_URI, issue};
use common::*;
use http::StatusCode;
use http::header::{ALLOW, CACHE_CONTROL, COOKIE, LOCATION, REFERRER_POLICY};
use portal_sso::{JwtPortal, Secret, SsoLayer};

// "Sign a JWT token ... header: { alg: 'HS256', typ: 'JWT' }"
#[tokio::test]
async fn the_token_header_is_exactly_hs256_jwt() {
    let (_, token) = issue(RAW_REQUEST).await;
    // Exactly these two members; their order does not matter to any verifier.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&header_json(&token)).unwrap(),
        serde_json::json!({"alg": "HS256", "typ": "JWT"})
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid, None);
}

// "jwt.sign({ email: "CUSTOMER_EMAIL", iat: ... })": those two claims and no other.
#[tokio::test]
async fn the_claims_are_exactly_email_and_iat() {
    let (_, token) = issue(RAW_REQUEST).await;
    let claims = verify(&token, KUSTOMER_SECRET).unwrap();
    let mut keys: Vec<_> = claims.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["email", "iat"]);
    assert_eq!(claims["email"], "alice@example.com");
    assert!(
        claims["iat"].is_u64(),
        "iat is an integer: {}",
        claims["iat"]
    );
}

// "iat: Math.floor(Date.now() / 1000) is the current time in UTC seconds."
#[tokio::test]
async fn iat_is_the_current_time_in_seconds() {
    let before = now();
    let (_, token) = issue(RAW_REQUEST).await;
    let after = now();
    let iat = verify(&token, KUSTOMER_SECRET).unwrap()["iat"]
        .as_u64()
        .unwrap();
    assert!(
        iat + 5 >= before && iat <= after + 5,
        "iat {iat} vs now {before}..{after}"
    );
}

// "Sign a JWT token in your server using the secret value".
#[tokio::test]
async fn the_signature_verifies_with_the_secret_and_no_other() {
    let (_, token) = issue(RAW_REQUEST).await;
    assert!(verify(&token, KUSTOMER_SECRET).is_ok());
    for wrong in [OTHER_SECRET, AHA_SECRET, KUSTOMER_B_SECRET] {
        let err = verify(&token, wrong).unwrap_err();
        assert_eq!(
            *err.kind(),
            jsonwebtoken::errors::ErrorKind::InvalidSignature
        );
    }
}

// "an unsigned trackingToken parameter (which can be ignored)"
#[tokio::test]
async fn the_tracking_token_is_ignored() {
    let (with, with_token) = issue(RAW_REQUEST).await;
    let (without, without_token) = issue(
        "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen",
    )
    .await;
    assert_eq!(
        with.location().replace(&with_token, "T"),
        without.location().replace(&without_token, "T")
    );
    assert!(!with.location().contains("trackingToken"));
    assert!(!with.location().contains("eyJhbGciOiJub25lIn0"));
    // Not even a repeated or malformed-looking one matters.
    let (again, _) = issue(
        "/sso/kustomer?trackingToken=a&trackingToken=b&kustomerRedirectUri=https://acme.kustomer.help/login",
    )
    .await;
    assert!(
        again
            .location()
            .starts_with("https://acme.kustomer.help/login?externalToken=")
    );
}

// "Several brands = several portal entries, each with its own secret and path."
#[tokio::test]
async fn each_brand_has_its_own_path_secret_and_origins() {
    let users = Users::default();
    let app = app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(
            kustomer_portal()
                .with_name("acme")
                .with_path("/sso/kustomer/acme"),
        )
        .with_portal(
            JwtPortal::kustomer(Secret::new(KUSTOMER_B_SECRET))
                .with_name("brandb")
                .with_path("/sso/kustomer/brandb")
                .with_redirect_origins(["https://brandb.kustomer.help"]),
        ));
    let reply = send(
        &app,
        get_as(
            "/sso/kustomer/brandb?kustomerRedirectUri=https://brandb.kustomer.help/login",
            ALICE_SID,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let token = token_in(reply.location(), "externalToken");
    assert!(verify(&token, KUSTOMER_B_SECRET).is_ok());
    assert!(verify(&token, KUSTOMER_SECRET).is_err());

    let reply = send(
        &app,
        get_as("/sso/kustomer/acme?trackingToken=x", ALICE_SID),
    )
    .await;
    let token = token_in(reply.location(), "externalToken");
    assert!(verify(&token, KUSTOMER_SECRET).is_ok());
    assert!(verify(&token, KUSTOMER_B_SECRET).is_err());

    // One brand's path does not send tokens to the other brand's portal.
    let reply = send(
        &app,
        get_as(
            "/sso/kustomer/acme?kustomerRedirectUri=https://brandb.kustomer.help/login",
            ALICE_SID,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

// "Responses that carry a token: Cache-Control: no-store, Referrer-Policy: no-referrer."
#[tokio::test]
async fn the_token_redirect_is_not_cached_not_referred_and_marked_sensitive() {
    let (reply, _) = issue(RAW_REQUEST).await;
    assert_eq!(reply.headers[CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers[REFERRER_POLICY], "no-referrer");
    assert!(reply.headers[LOCATION].is_sensitive());
    assert!(reply.body.is_empty());
}

#[tokio::test]
async fn post_is_405_and_says_what_is_allowed() {
    let users = Users::default();
    let request = http::Request::post(RAW_REQUEST)
        .header(COOKIE, format!("sid={ALICE_SID}"))
        .body(axum::body::Body::from("email=alice@example.com"))
        .unwrap();
    let reply = send(&default_app(&users), request).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers[ALLOW], "GET, HEAD");
    assert!(!reply.has_location());
    assert_eq!(users.calls(), 0);
}

#[tokio::test]
async fn head_works_like_get() {
    let users = Users::default();
    let request = http::Request::head(RAW_REQUEST)
        .header(COOKIE, format!("sid={ALICE_SID}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = send(&default_app(&users), request).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let token = token_in(reply.location(), "externalToken");
    assert_eq!(
        reply.location(),
        format!("{REDIRECT_URI}&externalToken={token}")
    );
    assert!(verify(&token, KUSTOMER_SECRET).is_ok());
}
