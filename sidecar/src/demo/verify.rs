//! Token checks as the mock portals make them: the vendor's rules ([`token_rules`]: HS256
//! with the shared secret, header `typ` `JWT`, the required claims present and typed,
//! Kustomer's 15-minute window), each refusal a sentence for the page.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::token_rules::{self, Age, Claim, Expect, Problem, Vendor};
use portal_sso::Secret;

/// How long the mocks remember the Aha! `state`s they issued and the `jti`s they took.
/// Aha! documents no time limit for a token, but a token older than this memory could be
/// replayed, so the mock Aha! takes none older.
pub(crate) const REPLAY_WINDOW_SECS: u64 = 15 * 60;

/// A token that passed every check.
pub(crate) struct Verified {
    pub(crate) alg: Algorithm,
    pub(crate) typ: Option<String>,
    pub(crate) claims: Value,
}

/// Checks `token` against `vendor`'s rules; the error is a sentence for the refusal page
/// (never the token itself).
pub(crate) fn verify(
    token: &str,
    secret: &Secret,
    vendor: Vendor,
    now: u64,
) -> Result<Verified, String> {
    // The header is read before anything is trusted, to say why an unsigned (`none`) or
    // otherwise signed token is refused; a token without one fails to decode below.
    if let Some(header) = header(token) {
        token_rules::check_alg(&header)
            .map_err(|found| header_refusal("alg", found, "only HS256-signed tokens"))?;
        token_rules::check_typ(&header)
            .map_err(|found| header_refusal("typ", found, "only tokens of typ JWT"))?;
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.expose()),
        &validation,
    )
    .map_err(|err| explain(err.kind()))?;
    for claim in vendor.claims() {
        token_rules::check_claim(&data.claims, *claim)
            .map_err(|problem| claim_refusal(*claim, &problem))?;
    }
    let iat = token_rules::issued_at(&data.claims).map_err(|problem| {
        let iat = Claim {
            name: "iat",
            expect: Expect::Seconds,
        };
        claim_refusal(iat, &problem)
    })?;
    let window = vendor
        .window_secs()
        .unwrap_or(REPLAY_WINDOW_SECS.cast_signed());
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    match token_rules::age(iat, now, Some(window)) {
        Age::Fresh(_) => Ok(Verified {
            alg: data.header.alg,
            typ: data.header.typ,
            claims: Value::Object(data.claims),
        }),
        Age::Expired(age) => Err(format!(
            "The token was issued {age} seconds ago; tokens are only valid for {} minutes.",
            window / 60
        )),
        Age::Ahead(ahead) => Err(format!(
            "The token was issued {ahead} seconds in the future (`iat` is after this portal's \
             clock)."
        )),
    }
}

/// The token's header, decoded without checking anything else.
fn header(token: &str) -> Option<Map<String, Value>> {
    use base64::Engine as _;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn header_refusal(field: &str, found: Option<&Value>, accepted: &str) -> String {
    match found {
        Some(value) => {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            let shown: String = text.chars().take(16).collect();
            format!("The token's header says {field} `{shown}`: this portal accepts {accepted}.")
        }
        None => format!("The token's header has no {field}: this portal accepts {accepted}."),
    }
}

fn claim_refusal(claim: Claim, problem: &Problem) -> String {
    let name = claim.name;
    let expected = match claim.expect {
        Expect::Seconds => "an integer (seconds since the Unix epoch)",
        Expect::Address | Expect::Text | Expect::NonEmptyText => "a string",
    };
    match problem {
        Problem::Missing => format!("The required claim `{name}` is missing."),
        Problem::Empty => format!("The claim `{name}` must not be empty."),
        Problem::NotAnAddress => format!("The claim `{name}` is not an email address."),
        _ => format!("The claim `{name}` must be {expected}."),
    }
}

fn explain(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => {
            "The token's signature does not match: it was not signed (HS256) with this portal's \
             shared secret, or it was changed on the way."
                .to_owned()
        }
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => {
            "The token is not signed with HS256, the only algorithm this portal accepts.".to_owned()
        }
        ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::InvalidToken => {
            "The token is not a well-formed JWT (three base64url parts: header, claims, signature)."
                .to_owned()
        }
        _ => "The token could not be verified.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "a-shared-secret-of-at-least-32-bytes!!";
    const NOW: u64 = 1_800_000_000;

    fn sign(claims: &Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn check(token: &str) -> Result<Verified, String> {
        verify(token, &Secret::new(SECRET), Vendor::Kustomer, NOW)
    }

    #[test]
    fn accepts_a_fresh_token_signed_with_the_secret() {
        let token = sign(
            &json!({"email": "alice@example.com", "iat": NOW - 60}),
            SECRET,
        );
        let verified = check(&token).unwrap();
        assert_eq!(verified.alg, Algorithm::HS256);
        assert_eq!(verified.typ.as_deref(), Some("JWT"));
        assert_eq!(verified.claims["email"], "alice@example.com");
    }

    #[test]
    fn refuses_and_says_why() {
        let fresh = json!({"email": "alice@example.com", "iat": NOW});
        let cases = [
            (
                sign(&fresh, "another-secret-of-at-least-32-bytes!!!"),
                "signature does not match",
            ),
            (sign(&json!({"iat": NOW}), SECRET), "`email` is missing"),
            (
                sign(&json!({"email": 7, "iat": NOW}), SECRET),
                "`email` must be a string",
            ),
            (
                sign(&json!({"email": "a@b.c", "iat": "now"}), SECRET),
                "`iat` must be an integer",
            ),
            (
                sign(&json!({"email": "a@b.c", "iat": 1.5}), SECRET),
                "`iat` must be an integer",
            ),
            (
                sign(&json!({"email": "alice", "iat": NOW}), SECRET),
                "`email` is not an email address",
            ),
            (
                sign(&json!({"email": "a@b.c", "iat": NOW + 61}), SECRET),
                "in the future",
            ),
            (
                sign(&json!({"email": "a@b.c", "iat": NOW - 901}), SECRET),
                "only valid for 15 minutes",
            ),
            (
                sign(&json!({"email": "a@b.c", "iat": -5}), SECRET),
                "only valid for 15 minutes",
            ),
            ("not-a-jwt".to_owned(), "not a well-formed JWT"),
        ];
        for (token, reason) in cases {
            let err = check(&token)
                .err()
                .unwrap_or_else(|| panic!("accepted, expected {reason}"));
            assert!(err.contains(reason), "{err:?} should say {reason:?}");
            assert!(
                !err.contains(&token),
                "the token never appears in the reason"
            );
        }
        let at_limit = sign(&json!({"email": "a@b.c", "iat": NOW - 900}), SECRET);
        assert!(check(&at_limit).is_ok());
    }

    #[test]
    fn refuses_unsigned_and_other_algorithms() {
        use base64::Engine as _;
        let b64 = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        let claims = b64(&json!({"email": "a@b.c", "iat": NOW}).to_string());
        let unsigned = format!("{}.{claims}.", b64(r#"{"alg":"none","typ":"JWT"}"#));
        assert!(check(&unsigned).err().unwrap().contains("HS256"));
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &json!({"email": "a@b.c", "iat": NOW}),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert!(check(&hs512).err().unwrap().contains("HS256"));
    }

    #[test]
    fn refuses_a_header_without_typ_jwt() {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = None;
        let token = jsonwebtoken::encode(
            &header,
            &json!({"email": "a@b.c", "iat": NOW}),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        let err = check(&token).err().unwrap();
        assert!(err.contains("no typ"), "{err}");
    }

    #[test]
    fn aha_tokens_carry_every_claim_and_are_taken_within_the_replay_window() {
        let aha = |claims: &Value| {
            verify(
                &sign(claims, SECRET),
                &Secret::new(SECRET),
                Vendor::Aha,
                NOW,
            )
        };
        let claims = |iat: u64, jti: &str| json!({"iat": iat, "jti": jti, "first_name": "", "last_name": "", "email": "a@b.c"});
        assert!(aha(&claims(NOW - REPLAY_WINDOW_SECS, "x")).is_ok());
        let refusals = [
            (claims(NOW, ""), "`jti` must not be empty"),
            (claims(NOW - REPLAY_WINDOW_SECS - 1, "x"), "15 minutes"),
            (
                json!({"iat": NOW, "jti": "x", "email": "a@b.c"}),
                "`first_name` is missing",
            ),
        ];
        for (claims, reason) in refusals {
            let err = aha(&claims).err().unwrap();
            assert!(err.contains(reason), "{err:?} should say {reason:?}");
        }
    }
}
