//! The sign-in in progress: the nonce, the PKCE verifier, the provider and the path to
//! come back to, kept in a short-lived encrypted cookie bound to the browser that
//! started it. Its name carries the `state`, so several sign-ins started in one browser
//! (two tabs) do not overwrite each other, and a callback's `state` finds its own.

use cookie::{Cookie, CookieJar, Key, SameSite};
use http::request::Parts;
use serde::{Deserialize, Serialize};

use portal_sso::find_cookies;

/// How long a sign-in may take at the IdP.
pub(crate) const FLOW_TTL_SECS: u64 = 600;
/// The length of a `state`: 16 random bytes, base64url without padding.
const STATE_LEN: usize = 22;

/// What the state cookie holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Flow {
    #[serde(rename = "p")]
    pub(crate) provider: String,
    #[serde(rename = "n")]
    pub(crate) nonce: String,
    #[serde(rename = "v")]
    pub(crate) verifier: String,
    /// The same-site path to go back to once signed in.
    #[serde(rename = "r")]
    pub(crate) return_to: String,
    /// Unix seconds when the sign-in started.
    #[serde(rename = "t")]
    pub(crate) started: u64,
}

/// Whether `state` has the shape of one this sidecar makes (and so is safe in a cookie
/// name).
pub(crate) fn is_state(state: &str) -> bool {
    state.len() == STATE_LEN
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The cookie name for the sign-in `state`; `__Host-` over HTTPS, so no sibling
/// subdomain can plant one.
fn name(secure: bool, state: &str) -> String {
    if secure {
        format!("__Host-portal_sso_oidc_{state}")
    } else {
        format!("portal_sso_oidc_{state}")
    }
}

impl Flow {
    /// The `Set-Cookie` that holds this sign-in for `state`.
    pub(crate) fn seal(&self, key: &Key, secure: bool, state: &str) -> Cookie<'static> {
        let name = name(secure, state);
        let json = serde_json::to_string(self).unwrap_or_default();
        let mut jar = CookieJar::new();
        jar.private_mut(key).add(
            attributes(Cookie::build((name.clone(), json)), secure)
                .max_age(cookie::time::Duration::seconds(FLOW_TTL_SECS.cast_signed())),
        );
        jar.get(&name).cloned().expect("the cookie was just added")
    }

    /// The sign-in `state` names, when the request carries its cookie, it opens, and it
    /// has not expired.
    pub(crate) fn open(parts: &Parts, key: &Key, secure: bool, state: &str) -> Option<Self> {
        let name = name(secure, state);
        find_cookies(&parts.headers, &name).find_map(|raw| {
            let mut jar = CookieJar::new();
            jar.add_original(Cookie::new(name.clone(), raw.to_owned()));
            let opened = jar.private(key).get(&name)?;
            let flow: Flow = serde_json::from_str(opened.value()).ok()?;
            let age = crate::now_unix().saturating_sub(flow.started);
            (age <= FLOW_TTL_SECS).then_some(flow)
        })
    }
}

/// The expired state cookie for `state`.
pub(crate) fn removal(secure: bool, state: &str) -> Cookie<'static> {
    let mut cookie = attributes(Cookie::build((name(secure, state), "")), secure).build();
    cookie.make_removal();
    cookie
}

/// `Path=/` (`__Host-` requires it), `HttpOnly`, `SameSite=Lax` so the IdP's redirect
/// back (a top-level GET) carries it, `Secure` over HTTPS.
fn attributes(
    cookie: cookie::CookieBuilder<'static>,
    secure: bool,
) -> cookie::CookieBuilder<'static> {
    cookie
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
}
