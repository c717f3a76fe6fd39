//! Token checks as the vendors make them: HS256 signature with the shared secret, the
//! required claims present and typed, `iat` no older than 15 minutes and not in the future.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use portal_sso::Secret;

/// How old a token may be: both vendors give 15 minutes.
pub(crate) const MAX_AGE_SECS: u64 = 15 * 60;

/// The JSON type a claim must have.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    String,
    Integer,
}

/// A token that passed every check.
pub(crate) struct Verified {
    pub(crate) alg: Algorithm,
    pub(crate) typ: Option<String>,
    pub(crate) claims: Value,
}

/// Checks `token`; the error is a sentence for the refusal page (never the token itself).
pub(crate) fn verify(
    token: &str,
    secret: &Secret,
    required: &[(&str, Kind)],
    now: u64,
) -> Result<Verified, String> {
    if let Some(alg) = header_alg(token).filter(|alg| alg != "HS256") {
        let alg: String = alg.chars().take(16).collect();
        return Err(format!(
            "The token's header says alg `{alg}`: this portal accepts only HS256-signed tokens."
        ));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.expose()),
        &validation,
    )
    .map_err(|err| explain(err.kind()))?;
    for (name, kind) in required {
        let Some(value) = data.claims.get(*name) else {
            return Err(format!("The required claim `{name}` is missing."));
        };
        let typed = match kind {
            Kind::String => value.is_string(),
            Kind::Integer => value.is_u64() || value.is_i64(),
        };
        if !typed {
            let expected = match kind {
                Kind::String => "a string",
                Kind::Integer => "an integer (seconds since the Unix epoch)",
            };
            return Err(format!("The claim `{name}` must be {expected}."));
        }
    }
    if let Some(iat) = data.claims.get("iat").and_then(Value::as_i64) {
        let iat = u64::try_from(iat).map_err(|_| "The claim `iat` is negative.".to_owned())?;
        if iat > now {
            return Err(format!(
                "The token was issued {} seconds in the future (`iat` is after this portal's clock).",
                iat - now
            ));
        }
        if now - iat > MAX_AGE_SECS {
            return Err(format!(
                "The token was issued {} seconds ago; tokens are only valid for 15 minutes.",
                now - iat
            ));
        }
    }
    Ok(Verified {
        alg: data.header.alg,
        typ: data.header.typ,
        claims: data.claims,
    })
}

/// The `alg` a token's header names, read before anything is trusted, to say why an
/// unsigned (`none`) or differently signed token is refused.
fn header_alg(token: &str) -> Option<String> {
    use base64::Engine as _;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let json: Value = serde_json::from_slice(&bytes).ok()?;
    json.get("alg")?.as_str().map(str::to_owned)
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
    const KUSTOMER: &[(&str, Kind)] = &[("email", Kind::String), ("iat", Kind::Integer)];

    fn sign(claims: &Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn check(token: &str) -> Result<Verified, String> {
        verify(token, &Secret::new(SECRET), KUSTOMER, NOW)
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
                sign(&json!({"email": "a@b.c", "iat": NOW + 30}), SECRET),
                "in the future",
            ),
            (
                sign(&json!({"email": "a@b.c", "iat": NOW - 901}), SECRET),
                "only valid for 15 minutes",
            ),
            (
                sign(&json!({"email": "a@b.c", "iat": -5}), SECRET),
                "negative",
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
        let at_limit = sign(
            &json!({"email": "a@b.c", "iat": NOW - MAX_AGE_SECS}),
            SECRET,
        );
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
}
