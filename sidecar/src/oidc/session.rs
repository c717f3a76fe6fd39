//! portal-sso's own session cookie after a sign-in at the IdP: the identity fields and an
//! expiry, encrypted and authenticated (the `cookie` crate's private jar, AES-256-GCM)
//! with a key derived from the sidecar's cookie key, so every replica reads it. No IdP
//! token is kept: the cookie stays under [`MAX_COOKIE_BYTES`] whatever the IdP sends.

use std::fmt;

use cookie::{Cookie, CookieJar, Key, SameSite};
use hkdf::Hkdf;
use http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

use portal_sso::{Identity, IdentityError, IdentityResolver, Secret, find_cookies};

use super::settings::Settings;

/// The most bytes of `name=value` the session cookie may take, as a browser sends it.
pub const MAX_COOKIE_BYTES: usize = 1024;

/// HKDF `info` labels: each key is for one cookie only.
const SESSION_INFO: &[u8] = b"portal-sso sidecar: oidc session cookie, v1";
const FLOW_INFO: &[u8] = b"portal-sso sidecar: oidc sign-in state cookie, v1";

/// The keys of the two OIDC cookies, derived from the sidecar's cookie key.
#[derive(Clone)]
pub(crate) struct Keys {
    pub(crate) session: Key,
    pub(crate) flow: Key,
}

impl Keys {
    pub(crate) fn derive(cookie_key: &Secret) -> Self {
        let hkdf = Hkdf::<Sha256>::new(None, cookie_key.expose());
        let key = |info: &[u8]| {
            let mut bytes = [0u8; 64];
            hkdf.expand(info, &mut bytes)
                .expect("64 bytes is within HKDF-SHA256's output limit");
            Key::from(&bytes)
        };
        Self {
            session: key(SESSION_INFO),
            flow: key(FLOW_INFO),
        }
    }
}

/// What the session cookie holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Session {
    /// The provider that signed the user in (for its end-session endpoint).
    #[serde(rename = "p")]
    pub(crate) provider: String,
    /// Unix seconds after which the session is over.
    #[serde(rename = "x")]
    pub(crate) expires: u64,
    /// The identity fields, by name (`email`, `first_name`, `id`, ...).
    #[serde(rename = "i")]
    pub(crate) fields: Map<String, Value>,
}

impl Session {
    /// The session for `identity`'s mapped fields, ending `ttl_secs` from now.
    pub(crate) fn new(
        provider: &str,
        identity: &Identity,
        names: &[String],
        ttl_secs: u64,
    ) -> Self {
        let mut fields = Map::new();
        for name in names {
            if let Some(value) = identity.field(name) {
                if value.as_str().is_some_and(str::is_empty) {
                    continue;
                }
                fields.insert(name.clone(), value);
            }
        }
        Self {
            provider: provider.to_owned(),
            expires: crate::now_unix() + ttl_secs,
            fields,
        }
    }

    /// The identity the session names.
    fn identity(&self) -> Result<Identity, IdentityError> {
        let email = self
            .fields
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut identity = Identity::new(email)?;
        for (name, value) in &self.fields {
            identity = identity.with_field(name.as_str(), value.clone());
        }
        Ok(identity)
    }

    /// The `Set-Cookie` for this session, or the size it would have had when that is
    /// over [`MAX_COOKIE_BYTES`].
    pub(crate) fn seal(
        &self,
        settings: &Settings,
        key: &Key,
        max_age_secs: u64,
    ) -> Result<Cookie<'static>, usize> {
        let json = serde_json::to_string(self).unwrap_or_default();
        let mut jar = CookieJar::new();
        let max_age =
            cookie::time::Duration::seconds(i64::try_from(max_age_secs).unwrap_or(i64::MAX));
        jar.private_mut(key).add(
            Cookie::build((settings.session_cookie_name(), json))
                .path("/")
                .http_only(true)
                .secure(settings.secure())
                .same_site(SameSite::Lax)
                .max_age(max_age),
        );
        let sealed = jar
            .get(settings.session_cookie_name())
            .cloned()
            .expect("the cookie was just added");
        let size = sealed.name().len() + 1 + sealed.value().len();
        if size > MAX_COOKIE_BYTES {
            return Err(size);
        }
        Ok(sealed)
    }
}

/// The expired session cookie, as `/sso/oidc/logout` sends it.
pub(crate) fn removal(settings: &Settings) -> Cookie<'static> {
    let mut cookie = Cookie::build((settings.session_cookie_name(), ""))
        .path("/")
        .http_only(true)
        .secure(settings.secure())
        .same_site(SameSite::Lax)
        .build();
    cookie.make_removal();
    cookie
}

/// Every session the request's session cookies hold that opens and has not expired.
pub(crate) fn sessions<'a>(
    parts: &'a Parts,
    name: &'a str,
    key: &'a Key,
) -> impl Iterator<Item = Session> + 'a {
    find_cookies(&parts.headers, name).filter_map(move |raw| {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(name.to_owned(), raw.to_owned()));
        let opened = jar.private(key).get(name)?;
        let session: Session = serde_json::from_str(opened.value()).ok()?;
        (session.expires > crate::now_unix()).then_some(session)
    })
}

/// The layer's identity source with `session.oidc`: reads portal-sso's own session
/// cookie. No cookie, or one that does not open or has expired, is signed out (the layer
/// then sends the browser to `/sso/oidc/login`). Two cookies naming different users are
/// a conflict, treated as signed out.
#[derive(Clone)]
pub struct SessionReader {
    name: &'static str,
    key: Key,
}

impl SessionReader {
    /// The reader of `settings`' session cookie, opened with the key derived from
    /// `cookie_key`.
    pub fn new(settings: &Settings, cookie_key: &Secret) -> Self {
        Self {
            name: settings.session_cookie_name(),
            key: Keys::derive(cookie_key).session,
        }
    }
}

impl fmt::Debug for SessionReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionReader")
            .field("cookie", &self.name)
            .field("key", &"REDACTED")
            .finish()
    }
}

impl IdentityResolver for SessionReader {
    type Future = std::future::Ready<Result<Option<Identity>, IdentityError>>;

    fn resolve(&self, parts: &Parts) -> Self::Future {
        let mut agreed: Option<Identity> = None;
        for session in sessions(parts, self.name, &self.key) {
            let identity = match session.identity() {
                Ok(identity) => identity,
                Err(error) => return std::future::ready(Err(error)),
            };
            match &agreed {
                None => agreed = Some(identity),
                Some(first) if first.email() == identity.email() => {}
                Some(_) => {
                    return std::future::ready(Err(IdentityError::conflict(format!(
                        "the session cookie `{}` was sent more than once, naming different users",
                        self.name
                    ))));
                }
            }
        }
        std::future::ready(Ok(agreed))
    }
}
