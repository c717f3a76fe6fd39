use std::fmt;

use http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::cookies::one_user;
use super::{ClaimPointers, IdentityResolver, Ready, find_cookies};
use crate::secret::Secret;

/// Reads the user from a session cookie whose value is a JWT the app signs.
///
/// The signature is verified with the app's key and algorithm; `exp` and `nbf` are
/// honoured when present (not required); `aud` and `iss` are checked when configured
/// ([`with_audience`](JwtCookie::with_audience), [`with_issuer`](JwtCookie::with_issuer)). A missing, malformed, tampered or expired
/// cookie means "signed out", never an error page.
///
/// # Security
/// When the cookie is sent more than once (cookies of several paths or domains, one
/// perhaps planted from a sibling subdomain), every value that verifies must name the
/// same user; otherwise the request is signed out, with an event saying why.
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

    /// Accepts only tokens whose `aud` claim names one of `audiences`. Default: tokens
    /// with an `aud` claim are refused (RFC 7519 section 4.1.3: a recipient that does not
    /// identify itself with the audience must reject the token); tokens without one pass.
    #[must_use]
    pub fn with_audience<I, T>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: ToString,
    {
        let audiences: Vec<T> = audiences.into_iter().collect();
        self.validation.set_audience(&audiences);
        self
    }

    /// Accepts only tokens whose `iss` claim is one of `issuers`. Default: any issuer.
    #[must_use]
    pub fn with_issuer<I, T>(mut self, issuers: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: ToString,
    {
        let issuers: Vec<T> = issuers.into_iter().collect();
        self.validation.set_issuer(&issuers);
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
        let answers = find_cookies(&parts.headers, &self.cookie).map(|token| {
            match jsonwebtoken::decode::<serde_json::Value>(token, &self.key, &self.validation) {
                Ok(data) => self.claims.identity_from(&data.claims),
                Err(_) => Ok(None),
            }
        });
        std::future::ready(one_user(&self.cookie, answers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    const KEY: &str = "the-app's-own-session-key-32-bytes!";

    fn parts_with(token: &str) -> Parts {
        let request = http::Request::get("/sso/aha")
            .header(http::header::COOKIE, format!("session={token}"))
            .body(())
            .unwrap();
        request.into_parts().0
    }

    fn sign(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::default(),
            claims,
            &EncodingKey::from_secret(KEY.as_bytes()),
        )
        .unwrap()
    }

    async fn email(source: &JwtCookie, token: &str) -> Option<String> {
        source
            .resolve(&parts_with(token))
            .await
            .unwrap()
            .map(|identity| identity.email().to_owned())
    }

    #[tokio::test]
    async fn audience_is_refused_unless_configured() {
        let token = sign(&serde_json::json!({"email": "alice@example.com", "aud": "app"}));
        let plain = JwtCookie::hs256("session", &Secret::new(KEY));
        assert_eq!(email(&plain, &token).await, None);
        let with_aud = plain.clone().with_audience(["app"]);
        assert_eq!(
            email(&with_aud, &token).await.as_deref(),
            Some("alice@example.com")
        );
        let other_aud = plain.with_audience(["other"]);
        assert_eq!(email(&other_aud, &token).await, None);
    }

    #[tokio::test]
    async fn issuer_is_checked_when_configured() {
        let token = sign(&serde_json::json!({"email": "alice@example.com", "iss": "app"}));
        let source = JwtCookie::hs256("session", &Secret::new(KEY));
        assert!(email(&source, &token).await.is_some());
        assert!(
            email(&source.clone().with_issuer(["app"]), &token)
                .await
                .is_some()
        );
        assert!(
            email(&source.with_issuer(["elsewhere"]), &token)
                .await
                .is_none()
        );
    }
}
