//! `portal-sso token sign|inspect` for the other presets, driven through the real binary:
//! each HS preset signs as the layer does and inspects clean, inspect names what the
//! vendor would refuse, a missing field is refused, and the asymmetric presets sign with a
//! PEM key from the environment.

use crate::support;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use support::cli::{TOKEN_SECRET, decode, encode, flagged, inspect, now, sign, token};
use support::{BIN, assert_claim_names, key_path};

#[tokio::test]
async fn every_hs_preset_signs_as_the_layer_does_and_inspects_clean() {
    for (kind, extra, alg, names) in [
        (
            "zendesk",
            &[][..],
            Algorithm::HS256,
            &["iat", "jti", "email", "name"][..],
        ),
        (
            "gitbook",
            &[],
            Algorithm::HS256,
            &["iat", "exp", "email", "name"],
        ),
        (
            "canny",
            &["--field", "id=17"],
            Algorithm::HS256,
            &["email", "id", "name"],
        ),
        ("helpscout", &[], Algorithm::HS512, &["sub", "exp"]),
        (
            "frill",
            &["--field", "id=u-17"],
            Algorithm::HS256,
            &["email", "id", "name"],
        ),
        ("readme", &[], Algorithm::HS256, &["name", "email"]),
        (
            "helpjuice",
            &[],
            Algorithm::HS256,
            &["jti", "iat", "email", "first_name", "last_name"],
        ),
        (
            "helpdocs",
            &["--callback-url", "https://acme.helpdocs.io/"],
            Algorithm::HS256,
            &["iat", "exp", "aud"],
        ),
    ] {
        let mut args = vec!["--first-name", "Alice", "--last-name", "Liddell"];
        args.extend_from_slice(extra);
        let jwt = sign(kind, &args).await;
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<Value>(
            &jwt,
            &DecodingKey::from_secret(TOKEN_SECRET.as_bytes()),
            &validation,
        )
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(data.header.typ.as_deref(), Some("JWT"));
        assert_claim_names(kind, &data.claims, names);
        let run = inspect(
            &jwt,
            &["--kind", kind, "--secret-env", "PORTAL_TOKEN_SECRET"],
        )
        .await;
        assert_eq!(run.code, Some(0), "{kind}: {}", run.stdout);
        assert!(
            run.stdout.contains(&format!("Kind: {kind}\n")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("OK      signature is valid"),
            "{}",
            run.stdout
        );
        let run = inspect(&jwt, &["--kind", kind, "--secret-env", "OTHER_SECRET"]).await;
        assert_eq!(run.code, Some(1), "{kind}: {}", run.stdout);
    }
    let helpjuice = sign("helpjuice", &[]).await;
    let (_, claims) = decode(&helpjuice, TOKEN_SECRET);
    let iat = claims["iat"].as_u64().unwrap();
    assert!(
        iat.abs_diff(now() * 1000) < 5000,
        "{iat} is not now in milliseconds"
    );
    let helpdocs = sign("helpdocs", &["--callback-url", "https://acme.helpdocs.io/"]).await;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["https://acme.helpdocs.io"]);
    jsonwebtoken::decode::<Value>(
        &helpdocs,
        &DecodingKey::from_secret(TOKEN_SECRET.as_bytes()),
        &validation,
    )
    .unwrap();
}

#[tokio::test]
async fn preset_inspect_names_what_the_vendor_would_refuse() {
    flagged(
        &encode(&json!({"jti": "x", "iat": now(), "email": "alice@example.com"})),
        &["--kind", "helpjuice"],
        &["PROBLEM iat looks like seconds, but Helpjuice reads milliseconds"],
    )
    .await;
    flagged(
        &encode(&json!({"email": "alice@example.com", "name": "Alice"})),
        &["--kind", "canny"],
        &["PROBLEM id is missing", "OK      email is an address"],
    )
    .await;
    flagged(
        &encode(&json!({"sub": "alice@example.com", "exp": now() + 60})),
        &["--kind", "helpscout"],
        &["PROBLEM header alg is \"HS256\", but Help Scout Docs requires HS512"],
    )
    .await;
}

#[tokio::test]
async fn a_preset_needing_a_field_it_was_not_given_is_refused() {
    let run = token(
        &[
            "sign",
            "--kind",
            "canny",
            "--email",
            "alice@example.com",
            "--secret-env",
            "PORTAL_TOKEN_SECRET",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("the account has no id"),
        "{}",
        run.stderr
    );
    let run = token(
        &[
            "sign",
            "--kind",
            "aha",
            "--email",
            "alice@example.com",
            "--field",
            "id=1",
            "--secret-env",
            "PORTAL_TOKEN_SECRET",
        ],
        None,
    )
    .await;
    // Every preset signs through the layer: a field Aha! does not sign is left out.
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let (_, claims) = decode(run.stdout.trim(), TOKEN_SECRET);
    assert_eq!(claims.get("id"), None, "{claims}");
}

#[test]
fn asymmetric_presets_sign_with_a_pem_key_from_the_environment() {
    let read = |name: &str| std::fs::read_to_string(key_path(name)).unwrap();
    for (kind, private, public, alg, extra) in [
        (
            "mintlify",
            "test-only-ed25519-private.pem",
            "test-only-ed25519-public.pem",
            Algorithm::EdDSA,
            &[][..],
        ),
        (
            "freshworks",
            "test-only-rsa-private.pem",
            "test-only-rsa-public.pem",
            Algorithm::RS256,
            &["--field", "id=1017", "--param", "nonce=n-0S6"][..],
        ),
    ] {
        let output = std::process::Command::new(BIN)
            .args([
                "token",
                "sign",
                "--kind",
                kind,
                "--email",
                "alice@example.com",
            ])
            .args(["--secret-env", "PORTAL_PEM"])
            .args(extra)
            .env("PORTAL_PEM", read(private))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(!stdout.contains("PRIVATE"));
        let jwt = stdout.trim_end();
        let key = match alg {
            Algorithm::EdDSA => DecodingKey::from_ed_pem(read(public).as_bytes()).unwrap(),
            _ => DecodingKey::from_rsa_pem(read(public).as_bytes()).unwrap(),
        };
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
            .unwrap()
            .claims;
        if kind == "freshworks" {
            assert_eq!(claims["sub"], "1017");
            assert_eq!(claims["nonce"], "n-0S6");
        } else {
            assert!(claims["expiresAt"].as_u64().unwrap() > claims["exp"].as_u64().unwrap());
        }
        let output = std::process::Command::new(BIN)
            .args(["token", "inspect", "--kind", kind, jwt])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");

        // The signature checked with the public key, then with another one.
        let inspect_with = |key: &str| {
            std::process::Command::new(BIN)
                .args(["token", "inspect", "--kind", kind, "--public-key"])
                .arg(key_path(key))
                .arg(jwt)
                .output()
                .unwrap()
        };
        let output = inspect_with(public);
        let report = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(0), "{report}");
        assert!(
            report.contains(&format!(
                "signature is valid ({alg:?} with the public key in"
            )),
            "{report}"
        );
        let other = if kind == "mintlify" {
            "test-only-p256-public.pem"
        } else {
            "test-only-ed25519-public.pem"
        };
        let output = inspect_with(other);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("is not a PEM public key for"), "{stderr}");
    }
}

#[test]
fn a_signature_made_with_another_private_key_is_reported_invalid() {
    let read = |name: &str| std::fs::read_to_string(key_path(name)).unwrap();
    // An EdDSA token signed with a key pair of its own: the test key's public half must
    // refuse it.
    let other = ed25519_pem_of_another_key();
    let output = std::process::Command::new(BIN)
        .args([
            "token",
            "sign",
            "--kind",
            "mintlify",
            "--email",
            "alice@example.com",
        ])
        .args(["--secret-env", "PORTAL_PEM"])
        .env("PORTAL_PEM", other)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let jwt = String::from_utf8(output.stdout).unwrap();
    let output = std::process::Command::new(BIN)
        .args(["token", "inspect", "--kind", "mintlify", "--public-key"])
        .arg(key_path("test-only-ed25519-public.pem"))
        .arg(jwt.trim_end())
        .output()
        .unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("signature is invalid: the token was not signed with the public key in"),
        "{report}"
    );
    assert!(!report.contains(&read("test-only-ed25519-private.pem")[30..60]));
}

/// A PKCS#8 Ed25519 private key other than the test key, made now.
fn ed25519_pem_of_another_key() -> String {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
        .unwrap()
        .serialize_pem()
}
