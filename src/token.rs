//! HS256 signing, built once per portal.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// The JOSE header both vendors ask for, already base64url-encoded:
/// `{"alg":"HS256","typ":"JWT"}`.
const HS256_JWT_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// An HMAC-SHA256 tag in unpadded base64url: 32 bytes make 43 characters.
const SIGNATURE_LEN: usize = 43;

/// Claims JSON up to this size is written on the stack; larger claims go to the heap.
const STACK_CLAIMS: usize = 512;

/// Signs compact HS256 JWTs with one secret.
///
/// The HMAC key schedule (the inner and outer padded key blocks, RFC 2104) runs once here,
/// and the constant `header.` is absorbed into that state too; each signature clones it
/// and MACs only the claims, instead of re-keying. The header is a constant,
/// the claims' JSON is written on the stack, so a signature costs the JSON, two base64url
/// passes, the MAC and one allocation: the token itself. The bytes are those
/// `jsonwebtoken` produces for the same header and claims (a test below proves it).
/// `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct Signer {
    /// Keyed with the secret, `header.` already absorbed.
    keyed: HmacSha256,
}

impl Signer {
    pub(crate) fn hs256(secret: &Secret) -> Self {
        // HMAC takes keys of any length (longer ones are hashed first): never fails.
        let mut keyed = HmacSha256::new_from_slice(secret.expose())
            .expect("HMAC-SHA256 accepts keys of any length");
        keyed.update(HS256_JWT_HEADER.as_bytes());
        keyed.update(b".");
        Self { keyed }
    }

    /// Returns `header.claims.signature`.
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Result<String, SignError> {
        let token = self.sign_within(claims, &[], "")?;
        // Only base64url characters and dots were written.
        String::from_utf8(token).map_err(|_| SignError)
    }

    /// Returns the pieces of `before`, `header.claims.signature`, then `after`, in one
    /// buffer of exactly that size: a URL carrying the token costs one allocation.
    pub(crate) fn sign_within<T: Serialize>(
        &self,
        claims: &T,
        before: &[&str],
        after: &str,
    ) -> Result<Vec<u8>, SignError> {
        let mut stack = [0u8; STACK_CLAIMS];
        let heap;
        let json: &[u8] = {
            let mut rest: &mut [u8] = &mut stack;
            if serde_json::to_writer(&mut rest, claims).is_ok() {
                let written = STACK_CLAIMS - rest.len();
                &stack[..written]
            } else {
                // Too large for the stack buffer (or not serializable: then this fails too).
                heap = serde_json::to_vec(claims).map_err(|_| SignError)?;
                &heap
            }
        };

        self.sign_json_within(json, before, after)
    }

    /// [`sign_within`](Self::sign_within) for claims already written as JSON.
    pub(crate) fn sign_json_within(
        &self,
        json: &[u8],
        before: &[&str],
        after: &str,
    ) -> Result<Vec<u8>, SignError> {
        let start: usize = before.iter().map(|piece| piece.len()).sum();
        let claims_start = start + HS256_JWT_HEADER.len() + 1;
        let claims_end = claims_start + base64_url_len(json.len());
        let end = claims_end + 1 + SIGNATURE_LEN;
        let mut out = Vec::with_capacity(end + after.len());
        for piece in before {
            out.extend_from_slice(piece.as_bytes());
        }
        out.extend_from_slice(HS256_JWT_HEADER.as_bytes());
        out.push(b'.');
        out.resize(end, 0);
        let (signing_input, signature) = out.split_at_mut(claims_end);
        URL_SAFE_NO_PAD
            .encode_slice(json, &mut signing_input[claims_start..])
            .map_err(|_| SignError)?;
        let mut mac = self.keyed.clone();
        mac.update(&signing_input[claims_start..]);
        let tag = mac.finalize().into_bytes();
        signature[0] = b'.';
        URL_SAFE_NO_PAD
            .encode_slice(tag, &mut signature[1..])
            .map_err(|_| SignError)?;
        out.extend_from_slice(after.as_bytes());
        Ok(out)
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

/// The length of `len` bytes in unpadded base64url.
const fn base64_url_len(len: usize) -> usize {
    len / 3 * 4 + [0, 2, 3][len % 3]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
    use serde_json::{Value, json};

    use super::*;

    /// Unpadded base64url (RFC 4648 section 5), appended to `out`.
    fn base64_url(input: &[u8], out: &mut String) {
        URL_SAFE_NO_PAD.encode_string(input, out);
    }

    /// Signs `claims` with `secret` through [`Signer`] and checks every byte against what
    /// `jsonwebtoken` makes of the same header and claims. `jsonwebtoken::encode` writes
    /// its header as `{"typ":..,"alg":..}`, so the header is compared with the vendors'
    /// constant, the claims segment with `encode`'s, and the signature with
    /// `jsonwebtoken::crypto::sign` over the same `header.claims`.
    fn assert_matches_jsonwebtoken(secret: &[u8], claims: &Value) {
        let token = Signer::hs256(&Secret::new(secret))
            .sign(claims)
            .expect("JSON values serialize");
        let key = EncodingKey::from_secret(secret);

        let reference = jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key)
            .expect("jsonwebtoken signs HS256");
        let reference_claims = reference.split('.').nth(1).expect("three segments");
        let signing_input = format!("{HS256_JWT_HEADER}.{reference_claims}");
        let reference_signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS256)
                .expect("jsonwebtoken signs HS256");
        assert_eq!(token, format!("{signing_input}.{reference_signature}"));

        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let decoded =
            jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_secret(secret), &validation)
                .expect("the token verifies with the secret");
        assert_eq!(&decoded.claims, claims);
        assert_eq!(decoded.header.alg, Algorithm::HS256);
        assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
    }

    /// Claims whose JSON is exactly `len` bytes.
    fn claims_of_len(len: usize) -> Value {
        let empty = serde_json::to_vec(&json!({ "email": "", "iat": 1 }))
            .unwrap()
            .len();
        let claims = json!({ "email": "e".repeat(len - empty), "iat": 1 });
        assert_eq!(serde_json::to_vec(&claims).unwrap().len(), len);
        claims
    }

    #[test]
    fn tokens_are_byte_identical_to_jsonwebtoken() {
        let secrets: [&[u8]; 5] = [
            b"kustomer-secret-kustomer-secret-0123456789",
            &[0x5a; 32],
            &[0xa5; 64],
            // Longer than SHA-256's block: HMAC hashes the key first.
            &[0x33; 65],
            &[0x0f; 200],
        ];
        let claims = [
            json!({ "email": "alice@example.com", "iat": 1_763_700_000 }),
            json!({
                "iat": 1_763_700_000,
                "jti": "0f9d8e7c6b5a49382716059483726150",
                "first_name": "Zoë \"Z\" \\ O'Brien",
                "last_name": "山田 🙂",
                "email": "zoe+kb@例え.jp",
            }),
            json!({ "iat": 0, "jti": "", "first_name": "", "last_name": "", "email": "a@b" }),
            json!({ "email": "control\u{1}\n\t@example.com", "iat": u64::MAX }),
            claims_of_len(STACK_CLAIMS - 1),
            claims_of_len(STACK_CLAIMS),
            claims_of_len(STACK_CLAIMS + 1),
            claims_of_len(4 * STACK_CLAIMS + 2),
        ];
        for secret in secrets {
            for claims in &claims {
                assert_matches_jsonwebtoken(secret, claims);
            }
        }
    }

    #[test]
    fn every_claims_length_modulo_three_encodes_like_jsonwebtoken() {
        for len in 20..=40 {
            assert_matches_jsonwebtoken(&[7; 32], &claims_of_len(len));
        }
    }

    #[test]
    fn base64_url_len_counts_unpadded_characters() {
        for len in 0..100 {
            let mut out = String::new();
            base64_url(&vec![0xff; len], &mut out);
            assert_eq!(base64_url_len(len), out.len(), "{len} bytes");
        }
    }

    #[test]
    fn signing_within_pieces_writes_the_same_token_between_them() {
        let signer = Signer::hs256(&Secret::new([9u8; 32]));
        let claims = json!({ "email": "alice@example.com", "iat": 1 });
        let out = signer
            .sign_within(&claims, &["https://a.example/", "?t="], "#top")
            .unwrap();
        let token = signer.sign(&claims).unwrap();
        assert_eq!(
            out,
            format!("https://a.example/?t={token}#top").into_bytes()
        );
        assert_eq!(out.capacity(), out.len(), "sized once");
        let refused = BTreeMap::from([(vec![1u8], 1u8)]);
        assert_eq!(signer.sign_within(&refused, &["x"], "y"), Err(SignError));
    }

    #[test]
    fn claims_that_do_not_serialize_are_an_error() {
        // JSON object keys must be strings: serde_json refuses byte-vector keys.
        let claims = BTreeMap::from([(vec![1u8], 1u8)]);
        let signer = Signer::hs256(&Secret::new([1u8; 32]));
        assert_eq!(signer.sign(&claims), Err(SignError));
    }

    #[test]
    fn a_different_secret_gives_a_different_signature() {
        let claims = json!({ "email": "alice@example.com", "iat": 1 });
        let a = Signer::hs256(&Secret::new([1u8; 32]))
            .sign(&claims)
            .unwrap();
        let b = Signer::hs256(&Secret::new([2u8; 32]))
            .sign(&claims)
            .unwrap();
        assert_eq!(a.rsplit_once('.').unwrap().0, b.rsplit_once('.').unwrap().0);
        assert_ne!(a, b);
    }

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
