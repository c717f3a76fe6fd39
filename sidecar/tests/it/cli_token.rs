//! `portal-sso token sign|inspect` for Kustomer and Aha!, driven through the real binary:
//! signed tokens that inspect clean, and what inspect flags (a tampered signature, the
//! wrong secret, an old or future `iat`, missing claims, a header without `typ`), and the
//! input and secret mistakes that exit 2.

use crate::support;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use support::cli::{TOKEN_SECRET, decode, encode, flagged, inspect, now, sign, token};

#[tokio::test]
async fn kustomer_sign_then_inspect_round_trip() {
    let signed = sign("kustomer", &[]).await;
    let (header, claims) = decode(&signed, TOKEN_SECRET);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(claims["email"], "alice@example.com");
    assert!(claims["iat"].as_u64().unwrap().abs_diff(now()) <= 5);
    assert_eq!(claims.as_object().unwrap().len(), 2, "{claims}");

    let run = inspect(
        &signed,
        &["--kind", "kustomer", "--secret-env", "PORTAL_TOKEN_SECRET"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    for line in [
        "OK      header alg is HS256",
        "OK      header typ is JWT",
        "OK      signature is valid",
        "OK      email is an address",
        "OK      iat is an integer",
        "inside Kustomer's 15-minute window",
        "Result: all 6 checks passed",
    ] {
        assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("PROBLEM"));
    assert!(
        !run.stdout.contains(&signed),
        "the token itself is not echoed"
    );
}

#[tokio::test]
async fn aha_sign_then_inspect_round_trip() {
    let signed = sign("aha", &["--first-name", "Alice", "--last-name", "Liddell"]).await;
    let (_, claims) = decode(&signed, TOKEN_SECRET);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["first_name"], "Alice");
    assert_eq!(claims["last_name"], "Liddell");
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 32);
    assert!(jti.bytes().all(|b| b.is_ascii_hexdigit()));

    // Read from standard input, kind guessed.
    let run = token(
        &["inspect", "-", "--secret-env", "PORTAL_TOKEN_SECRET"],
        Some(&format!("{signed}\n")),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("Kind: aha (guessed"), "{}", run.stdout);
    for line in [
        "OK      signature is valid",
        "OK      jti is a string",
        "OK      first_name is a string",
        "OK      last_name is a string",
        "OK      email is an address",
        "\"first_name\": \"Alice\"",
    ] {
        assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
    }
}

#[tokio::test]
async fn two_aha_tokens_have_different_jti() {
    let first = decode(&sign("aha", &[]).await, TOKEN_SECRET).1;
    let second = decode(&sign("aha", &[]).await, TOKEN_SECRET).1;
    assert_ne!(first["jti"], second["jti"]);
    assert_eq!(first["first_name"], "");
}

#[tokio::test]
async fn tampered_signature_is_invalid() {
    let signed = sign("kustomer", &[]).await;
    let (input, signature) = signed.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{input}.{first}{}", &signature[1..]);
    flagged(
        &tampered,
        &["--secret-env", "PORTAL_TOKEN_SECRET"],
        &["PROBLEM signature is invalid"],
    )
    .await;

    // Claims changed, signature kept.
    let (_, claims) = decode(&signed, TOKEN_SECRET);
    let forged_claims = {
        use base64::Engine as _;
        let mut claims = claims.clone();
        claims["email"] = json!("mallory@example.com");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
    };
    let header = signed.split('.').next().unwrap();
    let forged = format!("{header}.{forged_claims}.{signature}");
    flagged(
        &forged,
        &["--secret-env", "PORTAL_TOKEN_SECRET"],
        &["signature is invalid"],
    )
    .await;
}

#[tokio::test]
async fn wrong_secret_is_reported() {
    let signed = sign("aha", &[]).await;
    let run = inspect(&signed, &["--secret-env", "OTHER_SECRET"]).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "signature is invalid: the token was not signed with the secret in OTHER_SECRET"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Result: 1 problem found"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn kustomer_token_older_than_15_minutes_is_flagged() {
    let old = encode(&json!({ "email": "alice@example.com", "iat": now() - 16 * 60 }));
    flagged(
        &old,
        &["--kind", "kustomer", "--secret-env", "PORTAL_TOKEN_SECRET"],
        &[
            "OK      signature is valid",
            "PROBLEM the token is 16 min",
            "15 minutes",
        ],
    )
    .await;

    let fresh = encode(&json!({ "email": "alice@example.com", "iat": now() - 14 * 60 }));
    let run = inspect(&fresh, &["--kind", "kustomer"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.contains("NOTE    signature not checked"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn iat_in_the_future_is_flagged() {
    let ahead = encode(&json!({ "email": "alice@example.com", "iat": now() + 600 }));
    flagged(
        &ahead,
        &["--kind", "kustomer"],
        &["PROBLEM iat is", "in the future"],
    )
    .await;

    let millis = encode(&json!({ "email": "alice@example.com", "iat": now() * 1000 }));
    flagged(&millis, &[], &["milliseconds"]).await;
}

#[tokio::test]
async fn missing_claims_are_flagged() {
    let no_email = encode(&json!({ "iat": now() }));
    flagged(
        &no_email,
        &["--kind", "kustomer"],
        &["PROBLEM email is missing"],
    )
    .await;

    let no_iat = encode(&json!({ "email": "alice@example.com" }));
    flagged(
        &no_iat,
        &["--kind", "kustomer"],
        &["PROBLEM iat is missing"],
    )
    .await;

    let string_iat = encode(&json!({ "email": "alice@example.com", "iat": now().to_string() }));
    flagged(
        &string_iat,
        &["--kind", "kustomer"],
        &["PROBLEM iat is a string"],
    )
    .await;

    let sparse_aha = encode(&json!({ "iat": now(), "jti": "", "email": 7 }));
    let run = inspect(&sparse_aha, &["--kind", "aha"]).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    for line in [
        "PROBLEM jti is an empty string",
        "PROBLEM first_name is missing",
        "PROBLEM last_name is missing",
        "PROBLEM email is not a string",
        "Result: 4 problems found",
    ] {
        assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
    }
}

#[tokio::test]
async fn header_without_typ_is_flagged() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(r#"{"alg":"HS256"}"#);
    let claims = engine.encode(json!({ "email": "a@example.com", "iat": now() }).to_string());
    let input = format!("{header}.{claims}");
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(TOKEN_SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    flagged(
        &format!("{input}.{signature}"),
        &["--secret-env", "PORTAL_TOKEN_SECRET"],
        &["PROBLEM header has no typ", "OK      signature is valid"],
    )
    .await;
}

#[tokio::test]
async fn non_jwt_input_exits_2() {
    for input in ["not-a-token", "a.b", "%%%.e30.sig", "e30.W10.sig"] {
        let run = inspect(input, &[]).await;
        assert_eq!(run.code, Some(2), "{input}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("portal-sso token: "),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
    let run = token(&["inspect", "-"], Some("  \n")).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
}

#[tokio::test]
async fn missing_secret_variable_exits_2() {
    let run = token(
        &[
            "sign",
            "--kind",
            "kustomer",
            "--email",
            "alice@example.com",
            "--secret-env",
            "PORTAL_SSO_TEST_UNSET_VARIABLE",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("PORTAL_SSO_TEST_UNSET_VARIABLE is not set"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");

    let run = token(
        &[
            "sign",
            "--kind",
            "aha",
            "--email",
            "a@evil.com@corp.com",
            "--secret-env",
            "PORTAL_TOKEN_SECRET",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--email"), "{}", run.stderr);
}
