use std::fmt;

use cookie::{Cookie, CookieJar, Key};
use http::request::Parts;

use super::cookies::one_user;
use super::{ClaimPointers, IdentityResolver, Ready, find_cookies};

/// How the app protects the cookie, in the `cookie` crate's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedCookieMode {
    /// `CookieJar::signed`: HMAC-SHA256, value readable but not forgeable.
    Signed,
    /// `CookieJar::private`: AES-256-GCM, neither readable nor forgeable.
    Private,
}

/// Reads the user from a cookie the app writes through the `cookie` crate's signed or
/// private jar, holding JSON (for example `{"email": "...", "first_name": "..."}`).
///
/// A missing, tampered, undecryptable or non-JSON cookie means "signed out".
///
/// # Security
/// When the cookie is sent more than once, every value that verifies must name the same
/// user; otherwise the request is signed out, with an event saying why.
///
/// ```
/// use cookie::Key;
/// use portal_sso::{SignedCookie, SignedCookieMode};
///
/// let key = Key::generate();
/// let source = SignedCookie::new("session", key, SignedCookieMode::Private);
/// # let _ = source;
/// ```
#[derive(Clone)]
pub struct SignedCookie {
    cookie: String,
    key: Key,
    mode: SignedCookieMode,
    claims: ClaimPointers,
}

impl SignedCookie {
    /// A source for the cookie `cookie`, checked with `key`.
    pub fn new(cookie: impl Into<String>, key: Key, mode: SignedCookieMode) -> Self {
        Self {
            cookie: cookie.into(),
            key,
            mode,
            claims: ClaimPointers::default(),
        }
    }

    /// Sets where the email and names sit in the JSON. Default: [`ClaimPointers::default`].
    #[must_use]
    pub fn with_claims(mut self, claims: ClaimPointers) -> Self {
        self.claims = claims;
        self
    }

    /// The cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.cookie
    }

    /// Verifies (or decrypts) the cookie as sent, or else percent-decoded: frameworks write
    /// these cookies with `Cookie::encoded`, and the MAC covers the decoded value.
    fn open(&self, raw: &str) -> Option<String> {
        self.open_value(raw).or_else(|| {
            let decoded = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .ok()?;
            (decoded != raw)
                .then(|| self.open_value(&decoded))
                .flatten()
        })
    }

    fn open_value(&self, value: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(self.cookie.clone(), value.to_owned()));
        let cookie = match self.mode {
            SignedCookieMode::Signed => jar.signed(&self.key).get(&self.cookie),
            SignedCookieMode::Private => jar.private(&self.key).get(&self.cookie),
        }?;
        Some(cookie.value().to_owned())
    }
}

impl fmt::Debug for SignedCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedCookie")
            .field("cookie", &self.cookie)
            .field("mode", &self.mode)
            .field("key", &"REDACTED")
            .field("claims", &self.claims)
            .finish()
    }
}

impl IdentityResolver for SignedCookie {
    type Future = Ready;

    fn resolve(&self, parts: &Parts) -> Self::Future {
        let answers = find_cookies(&parts.headers, &self.cookie).map(|raw| {
            let json = self
                .open(raw)
                .and_then(|value| serde_json::from_str::<serde_json::Value>(&value).ok());
            match json {
                Some(json) => self.claims.identity_from(&json),
                None => Ok(None),
            }
        });
        std::future::ready(one_user(&self.cookie, answers))
    }
}
