//! HS256 signing, built once per portal.

use std::fmt;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::Serialize;

use crate::secret::Secret;

/// The JOSE header both vendors ask for, already base64url-encoded:
/// `{"alg":"HS256","typ":"JWT"}`.
const HS256_JWT_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Signs compact HS256 JWTs with one secret.
///
/// The encoding key is derived once; the header is a constant, so a signature costs the
/// claims' JSON, two base64url passes and one HMAC. `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct Signer {
    key: EncodingKey,
}

impl Signer {
    pub(crate) fn hs256(secret: &Secret) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.expose()),
        }
    }

    /// Returns `header.claims.signature`.
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Result<String, SignError> {
        let json = serde_json::to_vec(claims).map_err(|_| SignError)?;
        let mut token = String::with_capacity(HS256_JWT_HEADER.len() + json.len() * 4 / 3 + 48);
        token.push_str(HS256_JWT_HEADER);
        token.push('.');
        base64_url(&json, &mut token);
        let signature = jsonwebtoken::crypto::sign(token.as_bytes(), &self.key, Algorithm::HS256)
            .map_err(|_| SignError)?;
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("alg", &"HS256")
            .field("key", &"REDACTED")
            .finish()
    }
}

/// Signing failed; carries nothing that could leak the claims or the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignError;

/// Unpadded base64url (RFC 4648 section 5), appended to `out`.
pub(crate) fn base64_url(input: &[u8], out: &mut String) {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(input, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_constant_is_the_vendors_header() {
        let mut out = String::new();
        base64_url(br#"{"alg":"HS256","typ":"JWT"}"#, &mut out);
        assert_eq!(out, HS256_JWT_HEADER);
    }

    #[test]
    fn base64_url_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_url(input.as_bytes(), &mut out);
            assert_eq!(out, expected, "input {input:?}");
        }
        let mut out = String::new();
        base64_url(&[0xfb, 0xff], &mut out);
        assert_eq!(out, "-_8");
    }

    #[test]
    fn debug_hides_the_key() {
        let signer = Signer::hs256(&Secret::new("k".repeat(32)));
        let shown = format!("{signer:?}");
        assert!(shown.contains("REDACTED"));
        assert!(!shown.contains("kkkk"));
    }
}
