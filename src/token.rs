//! Signing the tokens the portals read, through `jsonwebtoken`.
//!
//! The layer signs with these on its SSO routes; the same types let an operator tool, a
//! test or a benchmark sign exactly what a portal would receive:
//!
//! ```
//! use portal_sso::token::{KustomerClaims, TokenSigner};
//! use portal_sso::{Identity, Secret};
//!
//! let signer = TokenSigner::hs256(&Secret::new("the-knowledge-base-secret-from-kustomer"));
//! let alice = Identity::new("alice@example.com")?;
//! let token = signer.sign(&KustomerClaims::new(&alice, 1_763_700_000))?;
//! assert_eq!(token.split('.').count(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::secret::Secret;

pub use crate::portal::aha::Claims as AhaClaims;
pub use crate::portal::kustomer::Claims as KustomerClaims;

/// Signs compact JWTs with one portal's secret: HS256, header `{"alg":"HS256","typ":"JWT"}`
/// as both vendors ask. `Debug` never shows the key.
#[derive(Clone)]
pub struct TokenSigner {
    key: EncodingKey,
    header: Header,
}

impl TokenSigner {
    /// A signer using `secret`'s bytes as the HMAC-SHA256 key.
    pub fn hs256(secret: &Secret) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.expose()),
            header: Header::new(Algorithm::HS256),
        }
    }

    /// Returns `header.claims.signature`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, SignError> {
        jsonwebtoken::encode(&self.header, claims, &self.key).map_err(|_| SignError)
    }
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("alg", &self.header.alg)
            .field("key", &"REDACTED")
            .finish()
    }
}

/// Signing failed (claims that do not serialize as JSON, or no random `jti` could be
/// drawn); carries nothing that could leak the claims or the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignError;

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the token could not be signed")
    }
}

impl std::error::Error for SignError {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn tokens_verify_with_the_secret_and_carry_the_vendors_header() {
        let secret = Secret::new("kustomer-secret-kustomer-secret-0123456789");
        let claims = json!({ "email": "zoe+kb@例え.jp", "iat": 1_763_700_000 });
        let token = TokenSigner::hs256(&secret).sign(&claims).unwrap();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let decoded = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_secret(secret.expose()),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims, claims);
        assert_eq!(decoded.header.alg, Algorithm::HS256);
        assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
        assert!(
            jsonwebtoken::decode::<Value>(
                &token,
                &DecodingKey::from_secret(b"another-secret-another-secret-01"),
                &validation
            )
            .is_err()
        );
    }

    #[test]
    fn claims_that_do_not_serialize_are_an_error() {
        // JSON object keys must be strings: serde_json refuses byte-vector keys.
        let claims = BTreeMap::from([(vec![1u8], 1u8)]);
        let signer = TokenSigner::hs256(&Secret::new([1u8; 32]));
        assert_eq!(signer.sign(&claims), Err(SignError));
    }

    #[test]
    fn debug_hides_the_key() {
        let signer = TokenSigner::hs256(&Secret::new("k".repeat(32)));
        let shown = format!("{signer:?}");
        assert!(shown.contains("REDACTED"));
        assert!(!shown.contains("kkkk"));
    }
}
