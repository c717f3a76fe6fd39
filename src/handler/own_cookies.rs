//! The layer's own cookies (the login-loop count, the remote-logout marker): values signed
//! with the layer's cookie key, so only this layer, or one given the same key, makes one
//! that counts.

use cookie::{Cookie, CookieJar};

use crate::identity::find_cookie;

/// `cookie` with its value signed with `key`.
pub(super) fn signed(key: &cookie::Key, cookie: Cookie<'static>) -> Cookie<'static> {
    let name = cookie.name().to_owned();
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(cookie);
    jar.get(&name)
        .cloned()
        .unwrap_or_else(|| Cookie::new(name, ""))
}

/// The value of the cookie `name` in `headers` when `key` signed it; `None` when it is
/// missing or its signature does not verify.
pub(super) fn verified(key: &cookie::Key, headers: &http::HeaderMap, name: &str) -> Option<String> {
    let raw = find_cookie(headers, name)?;
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(name.to_owned(), raw.to_owned()));
    jar.signed(key)
        .get(name)
        .map(|cookie| cookie.value().to_owned())
}
