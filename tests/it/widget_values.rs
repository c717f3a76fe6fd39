//! Each in-app widget preset through the layer, read as its vendor reads it: the JWT
//! verified with the configured key under the vendor's algorithm, its header byte for
//! byte (with Zendesk's `kid`), every claim's name, JSON type and unit; the HMAC
//! recomputed from the secret and the value the page is told was signed.

use crate::common;

use common::tokens::{alice_in_full, decode_hs};
use common::{Recorder, header_json, now, send};
use hmac::{Hmac, Mac};
use http::{Request, StatusCode};
use jsonwebtoken::Algorithm;
use portal_sso::{
    Claim, EventKind, Identity, JwtAlgorithm, Secret, SsoLayer, TimeUnit, Widget, WidgetSigner,
    WidgetValue,
};
use serde_json::{Map, Value, json};
use sha2::Sha256;

const CHAT_SECRET: &str = "kustomer-chat-secret-0123456789abcdefghij";
const MESSAGING_SECRET: &str = "zendesk-messaging-key-secret-0123456789abcd";
const MESSAGING_KID: &str = "app_64b9f1e5c9a2d70021e4a3b8";
const INTERCOM_SECRET: &str = "intercom-messenger-api-secret-0123456789ab";
const CANNY_SECRET: &str = "canny-private-sso-key-0123456789abcdefghij";
const BEACON_SECRET: &str = "helpscout-beacon-secret-key-0123456789abcd";
const FRONT_SECRET: &str = "front-chat-identity-secret-0123456789abcdef";
const CRISP_SECRET: &str = "crisp-verification-secret-0123456789abcdef";

/// Alice with everything a widget may sign, `email_verified` included.
fn alice() -> Identity {
    alice_in_full().with_field("email_verified", true)
}

/// The JSON answer of `widget`'s route for alice, asked by the app's own page; the
/// answer's status and one `widget_token_issued` event checked.
async fn answer(widget: Widget) -> Map<String, Value> {
    let path = widget.path().to_owned();
    let recorder = Recorder::default();
    let identity = alice();
    let app = common::app(
        SsoLayer::builder()
            .with_identity(move |_: &http::request::Parts| {
                let identity = identity.clone();
                async move { Ok(Some(identity)) }
            })
            .with_observer(recorder.observer())
            .with_widget(widget),
    );
    let request = Request::get(&path)
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "application/json");
    let events = recorder.take();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, EventKind::WidgetTokenIssued);
    assert_eq!(events[0].email.as_deref(), Some("a***@example.com"));
    match serde_json::from_slice(&reply.body).unwrap() {
        Value::Object(answer) => answer,
        other => panic!("not a JSON object: {other}"),
    }
}

/// A JWT answer's token and `expires_at`, the answer having exactly these two.
fn token_and_expiry(answer: &Map<String, Value>) -> (String, u64) {
    let mut names: Vec<&str> = answer.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["expires_at", "token"], "{answer:?}");
    let expires_at = answer["expires_at"]
        .as_u64()
        .expect("expires_at is an integer");
    (
        answer["token"].as_str().expect("a string").to_owned(),
        expires_at,
    )
}

/// The token's JOSE header, as JSON.
fn header(token: &str) -> Value {
    serde_json::from_str(&header_json(token)).unwrap()
}

/// Asserts that `value` is an integer number of seconds within five of `expected`.
fn assert_seconds_near(value: &Value, expected: u64) {
    let got = value
        .as_u64()
        .unwrap_or_else(|| panic!("{value} is not an integer"));
    assert!(
        got.abs_diff(expected) <= 5,
        "{got} is not near {expected} (seconds)"
    );
}

/// The lower-case hex HMAC-SHA256 of `message` under `secret`.
fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .fold(String::new(), |mut hex, byte| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

#[tokio::test]
async fn kustomer_chat_signs_email_external_id_and_iat_in_seconds_inside_15_minutes() {
    let answer = answer(Widget::kustomer_chat(Secret::new(CHAT_SECRET))).await;
    let (token, expires_at) = token_and_expiry(&answer);
    assert_eq!(header(&token), json!({"typ": "JWT", "alg": "HS256"}));
    let claims = decode_hs(&token, Algorithm::HS256, CHAT_SECRET);
    assert_eq!(
        Value::Object(claims.clone()),
        json!({"email": "alice@example.com", "externalId": "42", "iat": claims["iat"]})
    );
    assert_seconds_near(&claims["iat"], now());
    // Kustomer refuses an iat over 15 minutes old: the page is told to refetch at 10.
    assert_eq!(expires_at, claims["iat"].as_u64().unwrap() + 600);
}

#[tokio::test]
async fn zendesk_messaging_names_its_key_in_the_header_and_signs_its_user_claims() {
    let widget = Widget::zendesk_messaging(Secret::new(MESSAGING_SECRET), MESSAGING_KID);
    let (token, expires_at) = token_and_expiry(&answer(widget).await);
    assert_eq!(
        header(&token),
        json!({"typ": "JWT", "alg": "HS256", "kid": MESSAGING_KID})
    );
    let claims = decode_hs(&token, Algorithm::HS256, MESSAGING_SECRET);
    assert_eq!(
        Value::Object(claims.clone()),
        json!({
            "scope": "user",
            "external_id": "42",
            "email": "alice@example.com",
            "email_verified": true,
            "name": "Alice Liddell",
            "exp": expires_at,
        })
    );
    assert_seconds_near(&claims["exp"], now() + 600);
    assert!(decode_hs_fails(
        &token,
        "another-secret-another-secret-0123456789"
    ));
}

#[tokio::test]
async fn intercom_signs_user_id_as_a_string_email_and_an_hour_long_exp() {
    let (token, expires_at) =
        token_and_expiry(&answer(Widget::intercom(Secret::new(INTERCOM_SECRET))).await);
    assert_eq!(header(&token), json!({"typ": "JWT", "alg": "HS256"}));
    let claims = decode_hs(&token, Algorithm::HS256, INTERCOM_SECRET);
    assert_eq!(
        Value::Object(claims.clone()),
        json!({"user_id": "42", "email": "alice@example.com", "exp": expires_at})
    );
    assert_seconds_near(&claims["exp"], now() + 3600);
}

#[tokio::test]
async fn canny_widget_signs_email_id_name_and_avatar_url() {
    let (token, expires_at) =
        token_and_expiry(&answer(Widget::canny(Secret::new(CANNY_SECRET))).await);
    let claims = decode_hs(&token, Algorithm::HS256, CANNY_SECRET);
    assert_eq!(
        Value::Object(claims.clone()),
        json!({
            "email": "alice@example.com",
            "id": "42",
            "name": "Alice Liddell",
            "avatarURL": "https://cdn.acme.example/alice.png",
            "exp": expires_at,
        })
    );
    assert_seconds_near(&claims["exp"], now() + 3600);
}

#[tokio::test]
async fn hmac_widgets_answer_the_hex_hmac_sha256_of_exactly_what_they_name() {
    for (widget, secret, answered, signed) in [
        (
            Widget::helpscout_beacon(Secret::new(BEACON_SECRET)),
            BEACON_SECRET,
            "email",
            "alice@example.com",
        ),
        (
            Widget::front_chat(Secret::new(FRONT_SECRET)),
            FRONT_SECRET,
            "email",
            "alice@example.com",
        ),
        (
            Widget::crisp(Secret::new(CRISP_SECRET)),
            CRISP_SECRET,
            "email",
            "alice@example.com",
        ),
        (
            Widget::intercom_hmac(Secret::new(INTERCOM_SECRET)),
            INTERCOM_SECRET,
            "user_id",
            "42",
        ),
        (
            Widget::hmac(Secret::new(BEACON_SECRET), "external_id"),
            BEACON_SECRET,
            "user_id",
            "crm-0042",
        ),
    ] {
        let kind = widget.kind();
        let answer = answer(widget).await;
        let mut names: Vec<&str> = answer.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut expected = [answered, "signature"];
        expected.sort_unstable();
        assert_eq!(names, expected, "{kind}");
        assert_eq!(answer[answered], signed, "{kind}");
        let signature = answer["signature"].as_str().unwrap();
        assert_eq!(signature, hmac_hex(secret, signed), "{kind}");
        assert_eq!(signature.len(), 64);
        assert!(
            signature
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
}

#[tokio::test]
async fn a_custom_jwt_widget_signs_its_claims_under_its_algorithm_and_key() {
    let widget = Widget::jwt(
        JwtAlgorithm::RS256,
        common::tokens::private_key("test-only-rsa-private.pem"),
    )
    .with_path("/sso/widget/chat")
    .with_key_id("chat-key-2")
    .with_claim("sub", Claim::identity("id").as_string())
    .with_claim("groups", Claim::identity("groups"))
    .with_claim("iat_ms", Claim::time(TimeUnit::Milliseconds, 0))
    .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
    .with_token_ttl_secs(90);
    let (token, expires_at) = token_and_expiry(&answer(widget).await);
    let (header, claims) =
        common::tokens::decode_with(&token, Algorithm::RS256, &common::tokens::rsa_public());
    assert_eq!(header.kid.as_deref(), Some("chat-key-2"));
    assert_eq!(claims["sub"], "42");
    assert_eq!(claims["groups"], json!(["beta", "docs"]));
    let ms = claims["iat_ms"].as_u64().unwrap();
    assert!(ms.abs_diff(now() * 1000) <= 5000, "{ms} is milliseconds");
    assert_eq!(claims["exp"], expires_at);
    assert_seconds_near(&claims["exp"], now() + 90);
}

#[test]
fn a_page_rendered_on_the_server_gets_the_same_value_from_widget_signer() {
    let beacon = WidgetSigner::new(&Widget::helpscout_beacon(Secret::new(BEACON_SECRET))).unwrap();
    let value = beacon.sign(&alice()).unwrap();
    let expected = hmac_hex(BEACON_SECRET, "alice@example.com");
    assert_eq!(
        value.to_json(),
        format!(r#"{{"email":"alice@example.com","signature":"{expected}"}}"#)
    );
    let chat = WidgetSigner::new(&Widget::kustomer_chat(Secret::new(CHAT_SECRET))).unwrap();
    let WidgetValue::Token { token, .. } = chat.sign(&alice()).unwrap() else {
        panic!("Kustomer Chat signs a token");
    };
    assert_eq!(
        decode_hs(&token, Algorithm::HS256, CHAT_SECRET)["email"],
        "alice@example.com"
    );
}

fn decode_hs_fails(token: &str, secret: &str) -> bool {
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .is_err()
}
