use super::*;
use serde_json::json;

fn at<'p, P: Fn(&str) -> Option<&'p str>>(
    param: P,
    ttl: u64,
    now: SystemTime,
) -> Context<'static, P> {
    Context {
        param,
        token_ttl_secs: ttl,
        target_origin: "https://portal.example",
        now,
    }
}

fn claims(list: &[(&str, Claim)]) -> Vec<(String, Claim)> {
    list.iter()
        .map(|(name, claim)| ((*name).to_owned(), claim.clone()))
        .collect()
}

#[test]
fn times_carry_their_unit_and_offset() {
    let now = UNIX_EPOCH + std::time::Duration::from_millis(1_763_700_000_123);
    let alice = Identity::new("alice@example.com").unwrap();
    let made = render(
        &claims(&[
            ("iat", Claim::time(TimeUnit::Seconds, 0)),
            ("ms", Claim::time(TimeUnit::Milliseconds, 0)),
            ("exp", Claim::time(TimeUnit::Seconds, 10)),
            ("nbf", Claim::time(TimeUnit::Seconds, -30)),
            ("end", Claim::expiry(TimeUnit::Seconds)),
        ]),
        &alice,
        &at(|_| None, 7200, now),
    )
    .unwrap();
    assert_eq!(
        Value::Object(made),
        json!({"iat": 1_763_700_000u64, "ms": 1_763_700_000_123u64, "exp": 1_763_700_010u64,
               "nbf": 1_763_699_970u64, "end": 1_763_707_200u64})
    );
}

#[test]
fn identity_claims_are_required_unless_if_known() {
    let bob = Identity::new("bob@example.com")
        .unwrap()
        .with_field("id", 42);
    let list = claims(&[
        ("sub", Claim::identity("id").as_string()),
        ("id", Claim::identity("id")),
        ("first_name", Claim::identity("first_name")),
        ("given_name", Claim::identity_if_known("first_name")),
        ("avatar", Claim::identity_if_known("avatar_url")),
        ("nonce", Claim::param("nonce")),
        ("state", Claim::param("state")),
        ("aud", Claim::target_origin()),
    ]);
    let param = |name: &str| (name == "nonce").then_some("n-0S6");
    let made = render(&list, &bob, &at(param, 60, SystemTime::now())).unwrap();
    assert_eq!(
        Value::Object(made),
        json!({"sub": "42", "id": 42, "first_name": "", "nonce": "n-0S6",
               "aud": "https://portal.example"})
    );
    let missing = claims(&[("name", Claim::identity("name"))]);
    match render(&missing, &bob, &at(|_| None, 60, SystemTime::now())) {
        Err(ClaimError::Identity(error)) => assert_eq!(error.field(), Some("name")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn transports_and_units_read_back_from_their_config_names() {
    for way in [TokenIn::Query, TokenIn::Fragment, TokenIn::FormPost] {
        assert_eq!(way.name().parse::<TokenIn>(), Ok(way));
    }
    assert!("post".parse::<TokenIn>().is_err());
    assert_eq!(
        "milliseconds".parse::<TimeUnit>(),
        Ok(TimeUnit::Milliseconds)
    );
    assert!("ms".parse::<TimeUnit>().is_err());
}

#[test]
fn random_hex_is_128_bits_and_never_repeats() {
    let drawn: std::collections::HashSet<_> = (0..10_000).map(|_| random_hex().unwrap()).collect();
    assert_eq!(drawn.len(), 10_000);
    assert!(
        drawn
            .iter()
            .all(|jti| jti.len() == 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()))
    );
}
