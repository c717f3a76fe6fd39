use std::fmt;

use http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::{ClaimPointers, IdentityResolver, Ready, find_cookie};
use crate::secret::Secret;

/// Reads the user from a session cookie whose value is a JWT the app signs.
///
/// The signature is verified with the app's key and algorithm; `exp` and `nbf` are
/// honoured when present (not required). A missing, malformed, tampered or expired
/// cookie means "signed out", never an error page.
///
/// ```
/// use portal_sso::{ClaimPointers, JwtCookie, Secret};
///
/// let source = JwtCookie::hs256("session", &Secret::new("the-app's-own-session-key-32-bytes!"))
///     .with_claims(ClaimPointers::default().with_email("/sub"));
/// # let _ = source;
/// ```
#[derive(Clone)]
pub struct JwtCookie {
    cookie: String,
    key: DecodingKey,
    validation: Validation,
    claims: ClaimPointers,
}

impl JwtCookie {
    /// A source for the cookie `cookie`, verified with `key` under `algorithm`.
    pub fn new(cookie: impl Into<String>, key: DecodingKey, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 0;
        Self {
            cookie: cookie.into(),
            key,
            validation,
            claims: ClaimPointers::default(),
        }
    }

    /// A source for the cookie `cookie`, HS256-signed with `secret`.
    pub fn hs256(cookie: impl Into<String>, secret: &Secret) -> Self {
        Self::new(
            cookie,
            DecodingKey::from_secret(secret.expose()),
            Algorithm::HS256,
        )
    }

    /// Sets where the email and names sit in the claims. Default: [`ClaimPointers::default`].
    #[must_use]
    pub fn with_claims(mut self, claims: ClaimPointers) -> Self {
        self.claims = claims;
        self
    }

    /// The cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.cookie
    }
}

impl fmt::Debug for JwtCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtCookie")
            .field("cookie", &self.cookie)
            .field("algorithms", &self.validation.algorithms)
            .field("key", &"REDACTED")
            .field("claims", &self.claims)
            .finish()
    }
}

impl IdentityResolver for JwtCookie {
    type Future = Ready;

    fn resolve(&self, parts: &Parts) -> Self::Future {
        let Some(token) = find_cookie(&parts.headers, &self.cookie) else {
            return std::future::ready(Ok(None));
        };
        let Ok(data) =
            jsonwebtoken::decode::<serde_json::Value>(token, &self.key, &self.validation)
        else {
            return std::future::ready(Ok(None));
        };
        std::future::ready(self.claims.identity_from(&data.claims))
    }
}
