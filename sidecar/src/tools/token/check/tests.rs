use std::time::Duration;

use serde_json::json;

use super::*;
use portal_sso::{JwtPortal, Preset};

const NOW: i64 = 1_800_000_000;

fn token(header: &Value, claims: &Value, signature: &str) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{signature}",
        engine.encode(header.to_string()),
        engine.encode(claims.to_string())
    )
}

fn portal(kind: &str) -> JwtPortal {
    Preset::named(kind)
        .unwrap()
        .portal(Secret::new("k".repeat(32)))
}

/// The problems `kind`'s checker finds in a token of `claims`, header as the vendor wants.
fn problems(kind: &str, claims: &Value) -> Vec<String> {
    let portal = portal(kind);
    let header = json!({ "alg": portal.algorithm().name(), "typ": "JWT" });
    let token = token(&header, claims, "c2ln");
    let decoded = Decoded::parse(&token).unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs());
    check(&decoded, &portal, None, at)
        .into_iter()
        .filter(|finding| finding.verdict == Verdict::Problem)
        .map(|finding| finding.text)
        .collect()
}

#[test]
fn kustomer_window_edges() {
    let at = |iat: i64| problems("kustomer", &json!({ "email": "a@b.c", "iat": iat }));
    assert!(at(NOW).is_empty());
    assert!(at(NOW - 15 * 60).is_empty());
    assert!(at(NOW + 60).is_empty());
    assert!(at(NOW - 15 * 60 - 1)[0].contains("15 minutes"));
    assert!(at(NOW + 61)[0].contains("in the future"));
    assert!(at(NOW * 1000)[0].contains("milliseconds"));
}

#[test]
fn iat_must_be_an_integer() {
    for (iat, expected) in [
        (json!("1800000000"), "string"),
        (json!(1_800_000_000.5), "whole number"),
        (Value::Null, "not a number"),
    ] {
        let found = problems("kustomer", &json!({ "email": "a@b.c", "iat": iat }));
        assert!(found[0].contains(expected), "{iat}: {found:?}");
    }
}

#[test]
fn aha_requires_every_claim() {
    let found = problems("aha", &json!({ "iat": NOW, "jti": "" }));
    assert_eq!(
        found,
        [
            "jti is an empty string; it must not be empty",
            "first_name is missing",
            "last_name is missing",
            "email is missing"
        ],
        "{found:?}"
    );
    let whole =
        json!({"iat": NOW, "jti": "x", "first_name": "", "last_name": "", "email": "a@b.c"});
    assert!(problems("aha", &whole).is_empty());
}

#[test]
fn zendesk_takes_three_minutes_either_way_and_helpjuice_reads_milliseconds() {
    let zendesk = |iat: i64| {
        problems(
            "zendesk",
            &json!({ "iat": iat, "jti": "j", "email": "a@b.c", "name": "A" }),
        )
    };
    assert!(zendesk(NOW - 170).is_empty());
    assert!(zendesk(NOW + 170).is_empty());
    assert!(zendesk(NOW - 200)[0].contains("3 minutes"));
    assert!(zendesk(NOW + 200)[0].contains("in the future"));
    let helpjuice = |iat: i64| {
        problems(
            "helpjuice",
            &json!({ "jti": "j", "iat": iat, "email": "a@b.c" }),
        )
    };
    assert!(helpjuice((NOW - 10) * 1000).is_empty());
    assert!(helpjuice((NOW - 200) * 1000)[0].contains("3 minutes"));
    assert!(helpjuice(NOW)[0].contains("looks like seconds"));
}

#[test]
fn a_past_exp_and_a_helpdocs_iat_ahead_are_problems() {
    let gitbook = problems(
        "gitbook",
        &json!({ "iat": NOW - 90, "exp": NOW - 30, "email": "a@b.c" }),
    );
    assert_eq!(gitbook, ["exp passed 30 s ago"]);
    let helpdocs = problems(
        "helpdocs",
        &json!({ "iat": NOW + 60, "exp": NOW + 600, "aud": "https://acme.helpdocs.io" }),
    );
    assert!(helpdocs[0].contains("in the future"), "{helpdocs:?}");
}

#[test]
fn ids_and_constants_are_checked_by_type_and_value() {
    let canny = problems(
        "canny",
        &json!({ "email": "a@b.c", "id": [1], "name": "A" }),
    );
    assert_eq!(canny, ["id is neither a string nor an integer"]);
    let freshworks = problems(
        "freshworks",
        &json!({ "sub": 1017, "email": "a@b.c", "iat": NOW, "nonce": 5 }),
    );
    assert_eq!(
        freshworks,
        [
            "sub is not a string; the id must be sent as text",
            "nonce is not a string"
        ]
    );
}

#[test]
fn malformed_tokens_are_refused() {
    assert!(Decoded::parse("").is_err());
    assert!(Decoded::parse("abc").is_err());
    assert!(Decoded::parse("a.b").is_err());
    assert!(Decoded::parse("a.b.c.d").is_err());
    assert!(Decoded::parse("!!.e30.x").is_err());
    assert!(Decoded::parse(&token(&json!([1]), &json!({}), "x")).is_err());
    assert!(Decoded::parse(&token(&json!({}), &json!({}), "")).is_ok());
}

#[test]
fn the_header_and_a_missing_signature_are_problems() {
    let token = token(
        &json!({ "alg": "none" }),
        &json!({ "email": "a@b.c", "iat": NOW }),
        "",
    );
    let decoded = Decoded::parse(&token).unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs());
    let found: Vec<String> = check(&decoded, &portal("kustomer"), None, at)
        .into_iter()
        .filter(|finding| finding.verdict == Verdict::Problem)
        .map(|finding| finding.text)
        .collect();
    assert!(found[0].contains("alg is \"none\""), "{found:?}");
    assert!(found[1].contains("no typ"), "{found:?}");
    assert!(found[2].contains("no signature"), "{found:?}");
}

#[test]
fn the_signature_is_checked_with_the_key_given() {
    let secret = Secret::new("k".repeat(32));
    let signer = portal_sso::token::TokenSigner::new(JwtAlgorithm::HS256, &secret).unwrap();
    let token = signer
        .sign(&json!({ "email": "a@b.c", "iat": NOW }))
        .unwrap();
    let decoded = Decoded::parse(&token).unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs());
    let right = VerifyKey::secret(&secret, "the secret");
    let wrong = VerifyKey::secret(&Secret::new("w".repeat(32)), "another secret");
    let verdict = |key| {
        check(&decoded, &portal("kustomer"), Some(key), at)
            .into_iter()
            .find(|finding| finding.text.starts_with("signature"))
            .unwrap()
            .verdict
    };
    assert_eq!(verdict(&right), Verdict::Ok);
    assert_eq!(verdict(&wrong), Verdict::Problem);
}

/// The problems the checker finds in a token of `header` and `claims` for `widget`.
fn widget_problems(widget: &portal_sso::Widget, header: &Value, claims: &Value) -> Vec<String> {
    let token = token(header, claims, "c2ln");
    let decoded = Decoded::parse(&token).unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs());
    check(&decoded, Rules::widget(widget).unwrap(), None, at)
        .into_iter()
        .filter(|finding| finding.verdict == Verdict::Problem)
        .map(|finding| finding.text)
        .collect()
}

#[test]
fn widget_tokens_are_held_to_their_vendors_rules() {
    use portal_sso::{Widget, WidgetPreset};
    let hs256 = json!({ "alg": "HS256", "typ": "JWT" });
    let chat = Widget::kustomer_chat(Secret::new("k".repeat(32)));
    let at = |iat: i64| widget_problems(&chat, &hs256, &json!({ "email": "a@b.c", "iat": iat }));
    assert!(at(NOW - 15 * 60).is_empty());
    assert!(
        at(NOW - 15 * 60 - 1)[0].contains("15 minutes"),
        "{:?}",
        at(0)
    );
    let claims = json!({ "scope": "user", "external_id": "42", "email": "a@b.c", "exp": NOW + 60 });
    let messaging = WidgetPreset::named("zendesk-messaging")
        .unwrap()
        .widget(Secret::new("k".repeat(32)));
    assert_eq!(
        widget_problems(&messaging, &hs256, &claims),
        ["header has no kid; Zendesk messaging finds the key by its ID there"]
    );
    let with_kid = json!({ "alg": "HS256", "typ": "JWT", "kid": "app_1" });
    assert!(widget_problems(&messaging, &with_kid, &claims).is_empty());
    let configured = messaging.with_key_id("app_2");
    assert_eq!(
        widget_problems(&configured, &with_kid, &claims),
        ["header kid is app_1, but the key's ID is app_2"]
    );
    let numeric = json!({ "scope": "user", "external_id": 42, "email": "a@b.c", "exp": NOW + 60 });
    assert_eq!(
        widget_problems(
            &configured,
            &json!({ "alg": "HS256", "typ": "JWT", "kid": "app_2" }),
            &numeric
        ),
        ["external_id is not a string; the id must be sent as text"]
    );
    let beacon = Widget::helpscout_beacon(Secret::new("k".repeat(32)));
    assert!(Rules::widget(&beacon).is_none());
}
