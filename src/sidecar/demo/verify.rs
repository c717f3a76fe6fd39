//! Token checks as the vendors make them: HS256 signature with the shared secret, the
//! required claims present and typed, `iat` no older than 15 minutes and not in the future.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::Secret;

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
