//! Signing the tokens the portals read, through `jsonwebtoken`.
//!
//! The layer signs with these on its SSO routes; the same types let an operator tool, a
//! test or a benchmark sign exactly what a portal would receive:
//!
//! ```
//! use portal_sso::token::TokenSigner;
//! use portal_sso::{JwtAlgorithm, Secret};
//!
//! let signer = TokenSigner::new(
//!     JwtAlgorithm::HS256,
//!     &Secret::new("the-knowledge-base-secret-from-kustomer"),
//! )?;
//! let token = signer.sign(&serde_json::json!({"email": "alice@example.com", "iat": 1_763_700_000}))?;
//! assert_eq!(token.split('.').count(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::secret::Secret;

/// The algorithms a portal's tokens are signed with: HMAC with a shared secret, or a
/// private key in PEM (PKCS#8, or PKCS#1 for RSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret.
    HS256,
    /// HMAC-SHA384 with a shared secret.
    HS384,
    /// HMAC-SHA512 with a shared secret.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and an RSA private key.
    RS256,
    /// ECDSA on P-256 with SHA-256 and a P-256 private key.
    ES256,
    /// Ed25519 with an Ed25519 private key.
    EdDSA,
}

impl JwtAlgorithm {
    /// The `alg` header value, e.g. `HS256`.
    pub const fn name(self) -> &'static str {
        match self {
            JwtAlgorithm::HS256 => "HS256",
            JwtAlgorithm::HS384 => "HS384",
            JwtAlgorithm::HS512 => "HS512",
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::EdDSA => "EdDSA",
        }
    }

    /// Whether the key is a shared secret (HS*) rather than a PEM private key.
    pub const fn uses_secret(self) -> bool {
        matches!(
            self,
            JwtAlgorithm::HS256 | JwtAlgorithm::HS384 | JwtAlgorithm::HS512
        )
    }
}

/// The same algorithm as `jsonwebtoken` names it, for verifying what was signed.
impl From<JwtAlgorithm> for Algorithm {
    fn from(algorithm: JwtAlgorithm) -> Self {
        match algorithm {
            JwtAlgorithm::HS256 => Algorithm::HS256,
            JwtAlgorithm::HS384 => Algorithm::HS384,
            JwtAlgorithm::HS512 => Algorithm::HS512,
            JwtAlgorithm::RS256 => Algorithm::RS256,
            JwtAlgorithm::ES256 => Algorithm::ES256,
            JwtAlgorithm::EdDSA => Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for JwtAlgorithm {
    type Err = String;

    /// Reads an `alg` name as written in the JOSE header (`HS256`, `EdDSA`...).
    fn from_str(name: &str) -> Result<Self, String> {
        [
            JwtAlgorithm::HS256,
            JwtAlgorithm::HS384,
            JwtAlgorithm::HS512,
            JwtAlgorithm::RS256,
            JwtAlgorithm::ES256,
            JwtAlgorithm::EdDSA,
        ]
        .into_iter()
        .find(|alg| alg.name() == name)
        .ok_or_else(|| format!("`{name}` is not one of HS256, HS384, HS512, RS256, ES256, EdDSA"))
    }
}

/// Signs compact JWTs with one portal's key. Every header is `{"alg":…,"typ":"JWT"}`
/// (Zendesk refuses a token without `typ`), plus `kid` when
/// [`with_key_id`](TokenSigner::with_key_id) names the key. `Debug` never shows the key.
#[derive(Clone)]
pub struct TokenSigner {
    algorithm: JwtAlgorithm,
    key: EncodingKey,
    header: Header,
}

impl TokenSigner {
    /// A signer for `algorithm`: `key` is the shared secret's bytes for HS256/384/512, and
    /// a PEM private key for RS256 (RSA), ES256 (P-256) and `EdDSA` (Ed25519).
    ///
    /// The key is tried once on an empty claim set, so a key that cannot sign under
    /// `algorithm` (a P-384 key for ES256, a public key, a PEM text given as an HMAC
    /// secret) is an error here rather than at the first sign-in.
    ///
    /// ```
    /// use portal_sso::Secret;
    /// use portal_sso::token::{JwtAlgorithm, TokenSigner};
    ///
    /// let signer = TokenSigner::new(JwtAlgorithm::HS512, &Secret::new("a-help-scout-shared-secret-0123456789"))?;
    /// assert_eq!(signer.algorithm(), JwtAlgorithm::HS512);
    /// assert!(TokenSigner::new(JwtAlgorithm::RS256, &Secret::new("not a PEM key")).is_err());
    /// # Ok::<(), portal_sso::token::KeyError>(())
    /// ```
    pub fn new(algorithm: JwtAlgorithm, key: &Secret) -> Result<Self, KeyError> {
        let bytes = key.expose();
        let encoding = match algorithm {
            JwtAlgorithm::HS256 | JwtAlgorithm::HS384 | JwtAlgorithm::HS512 => {
                if bytes.windows(10).any(|ten| ten == b"-----BEGIN") {
                    return Err(KeyError(
                        "holds a PEM key, but HS256/384/512 sign with the shared secret itself",
                    ));
                }
                Ok(EncodingKey::from_secret(bytes))
            }
            JwtAlgorithm::RS256 => EncodingKey::from_rsa_pem(bytes),
            JwtAlgorithm::ES256 => EncodingKey::from_ec_pem(bytes),
            JwtAlgorithm::EdDSA => EncodingKey::from_ed_pem(bytes),
        };
        let mismatch = match algorithm {
            JwtAlgorithm::RS256 => "is not an RSA private key in PEM, as RS256 needs",
            JwtAlgorithm::ES256 => "is not a P-256 private key in PEM, as ES256 needs",
            JwtAlgorithm::EdDSA => "is not an Ed25519 private key in PEM, as EdDSA needs",
            _ => "cannot be used as an HMAC key",
        };
        let signer = Self {
            key: encoding.map_err(|_| KeyError(mismatch))?,
            algorithm,
            header: Header::new(algorithm.into()),
        };
        signer
            .sign(&serde_json::Map::new())
            .map_err(|_| KeyError(mismatch))?;
        Ok(signer)
    }

    /// Adds `kid` (the vendor's name for the key) to every header, as Zendesk messaging
    /// asks: `{"alg":…,"typ":"JWT","kid":"app_…"}`. Default: no `kid`.
    ///
    /// ```
    /// use portal_sso::Secret;
    /// use portal_sso::token::{JwtAlgorithm, TokenSigner};
    ///
    /// let signer = TokenSigner::new(JwtAlgorithm::HS256, &Secret::new("a-zendesk-messaging-key-secret-0123"))?
    ///     .with_key_id("app_64b9f1e5c9a2d70021e4a3b8");
    /// let token = signer.sign(&serde_json::json!({"scope": "user"}))?;
    /// assert_eq!(jsonwebtoken::decode_header(&token)?.kid.as_deref(), Some("app_64b9f1e5c9a2d70021e4a3b8"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_key_id(mut self, kid: impl Into<String>) -> Self {
        self.header.kid = Some(kid.into());
        self
    }

    /// The algorithm the tokens are signed with.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// The `kid` every header carries, if any.
    pub fn key_id(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// Returns `header.claims.signature`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, SignError> {
        jsonwebtoken::encode(&self.header, claims, &self.key).map_err(|_| SignError)
    }
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("algorithm", &self.algorithm)
            .field("key", &"REDACTED")
            .finish_non_exhaustive()
    }
}

/// A key that cannot sign under the algorithm it was given for. Says what is wrong with
/// it in a phrase (`is not an RSA private key in PEM, as RS256 needs`), never the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyError(&'static str);

impl KeyError {
    /// What is wrong with the key, as a phrase to follow the key's name.
    pub fn problem(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the key {}", self.0)
    }
}

impl std::error::Error for KeyError {}

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
        let token = TokenSigner::new(JwtAlgorithm::HS256, &secret)
            .unwrap()
            .sign(&claims)
            .unwrap();
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
        let signer = TokenSigner::new(JwtAlgorithm::HS256, &Secret::new([1u8; 32])).unwrap();
        assert_eq!(signer.sign(&claims), Err(SignError));
    }

    fn key(name: &str) -> Secret {
        let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        Secret::new(std::fs::read(&path).expect(&path))
    }

    fn verify_with(token: &str, key: &DecodingKey, alg: Algorithm) -> Value {
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let decoded = jsonwebtoken::decode::<Value>(token, key, &validation).unwrap();
        assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
        assert_eq!(decoded.header.alg, alg);
        decoded.claims
    }

    #[test]
    fn every_algorithm_signs_tokens_its_public_key_verifies() {
        let claims = json!({ "sub": "42", "iat": 1_763_700_000 });
        let secret = Secret::new("a-shared-secret-a-shared-secret-0123456789");
        for (alg, decoding) in [
            (
                JwtAlgorithm::HS256,
                DecodingKey::from_secret(secret.expose()),
            ),
            (
                JwtAlgorithm::HS384,
                DecodingKey::from_secret(secret.expose()),
            ),
            (
                JwtAlgorithm::HS512,
                DecodingKey::from_secret(secret.expose()),
            ),
        ] {
            let token = TokenSigner::new(alg, &secret)
                .unwrap()
                .sign(&claims)
                .unwrap();
            assert_eq!(verify_with(&token, &decoding, alg.into()), claims);
        }
        for (alg, private, decoding) in [
            (
                JwtAlgorithm::RS256,
                "test-only-rsa-private.pem",
                DecodingKey::from_rsa_pem(key("test-only-rsa-public.pem").expose()),
            ),
            (
                JwtAlgorithm::ES256,
                "test-only-p256-private.pem",
                DecodingKey::from_ec_pem(key("test-only-p256-public.pem").expose()),
            ),
            (
                JwtAlgorithm::EdDSA,
                "test-only-ed25519-private.pem",
                DecodingKey::from_ed_pem(key("test-only-ed25519-public.pem").expose()),
            ),
        ] {
            let signer = TokenSigner::new(alg, &key(private)).unwrap();
            assert_eq!(signer.algorithm(), alg);
            let token = signer.sign(&claims).unwrap();
            assert_eq!(verify_with(&token, &decoding.unwrap(), alg.into()), claims);
        }
    }

    #[test]
    fn keys_that_do_not_fit_the_algorithm_are_refused() {
        let rsa = key("test-only-rsa-private.pem");
        let p256 = key("test-only-p256-private.pem");
        let ed = key("test-only-ed25519-private.pem");
        for (alg, wrong) in [
            (JwtAlgorithm::RS256, p256.clone()),
            (JwtAlgorithm::RS256, ed.clone()),
            (JwtAlgorithm::RS256, key("test-only-rsa-public.pem")),
            (JwtAlgorithm::ES256, rsa.clone()),
            (JwtAlgorithm::ES256, key("test-only-p384-private.pem")),
            (JwtAlgorithm::ES256, key("test-only-p256-public.pem")),
            (JwtAlgorithm::EdDSA, p256.clone()),
            (JwtAlgorithm::EdDSA, Secret::new("k".repeat(64))),
            (JwtAlgorithm::HS256, rsa.clone()),
            (JwtAlgorithm::HS512, ed.clone()),
        ] {
            let error = TokenSigner::new(alg, &wrong).expect_err(alg.name());
            assert!(error.to_string().starts_with("the key "), "{error}");
        }
    }

    #[test]
    fn algorithm_names_read_back() {
        for alg in ["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"] {
            assert_eq!(alg.parse::<JwtAlgorithm>().unwrap().name(), alg);
        }
        assert!("none".parse::<JwtAlgorithm>().is_err());
        assert!("hs256".parse::<JwtAlgorithm>().is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let signer = TokenSigner::new(JwtAlgorithm::HS256, &Secret::new("k".repeat(32))).unwrap();
        let shown = format!("{signer:?}");
        assert!(shown.contains("REDACTED"));
        assert!(!shown.contains("kkkk"));
    }
}
