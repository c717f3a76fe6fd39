//! Aha! knowledge base (and ideas portal) JWT single sign-on.
//!
//! The knowledge base sends the browser to the "Remote login URL" (`/sso/aha`), possibly
//! with `state` and `return_to`. The user is signed as
//! `{"iat", "jti", "first_name", "last_name", "email"}` and the browser sent to the
//! configured callback with `jwt=<token>`, `state` as received, and `return_to` when it is a
//! path on the knowledge base.

use serde::Serialize;
use url::Url;

use super::Refusal;
use crate::error::ConfigError;
use crate::identity::Identity;
use crate::query;
use crate::redirect::append_query_param;
use crate::secret::Secret;

/// The "Remote login URL" route, unless [`AhaPortal::with_path`] says otherwise.
pub const DEFAULT_PATH: &str = "/sso/aha";
/// The "Remote logout URL" route, unless [`AhaPortal::with_logout_path`] says otherwise.
pub const DEFAULT_LOGOUT_PATH: &str = "/sso/aha/logout";
/// The longest `state` passed on.
pub const MAX_STATE_LEN: usize = 1024;
/// The longest `return_to` passed on.
pub const MAX_RETURN_TO_LEN: usize = 2048;

/// Settings for one Aha! knowledge base or ideas portal.
///
/// ```
/// use portal_sso::{AhaPortal, Secret};
///
/// let portal = AhaPortal::new(
///     Secret::new("the-shared-secret-from-the-aha-jwt-screen"),
///     "https://acme.aha.site/auth/jwt/callback",
/// )
/// .with_portal_logout_url("https://acme.aha.site/portal_session/logout");
/// # let _ = portal;
/// ```
#[derive(Debug, Clone)]
pub struct AhaPortal {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) secret: Secret,
    pub(crate) callback_url: String,
    pub(crate) logout_path: Option<String>,
    pub(crate) logout_redirect: String,
    pub(crate) portal_logout_url: Option<String>,
}

impl AhaPortal {
    /// A portal signing with `secret` and sending the browser to `callback_url`, e.g.
    /// `https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456` or
    /// `https://acme.aha.site/auth/jwt/callback`.
    pub fn new(secret: Secret, callback_url: impl Into<String>) -> Self {
        Self {
            name: "aha".to_owned(),
            path: DEFAULT_PATH.to_owned(),
            secret,
            callback_url: callback_url.into(),
            logout_path: Some(DEFAULT_LOGOUT_PATH.to_owned()),
            logout_redirect: "/".to_owned(),
            portal_logout_url: None,
        }
    }

    /// Sets the name used in events and metrics. Default: `aha`.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the "Remote login URL" route. Default: `/sso/aha`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the "Remote logout URL" route, or `None` for no such route.
    /// Default: `Some("/sso/aha/logout")`.
    #[must_use]
    pub fn with_logout_path(mut self, path: Option<impl Into<String>>) -> Self {
        self.logout_path = path.map(Into::into);
        self
    }

    /// Sets the page the remote logout route lands on once the app session has ended: a
    /// path of the app, or an absolute URL. It is configuration, never taken from the
    /// request. Default: `/`.
    #[must_use]
    pub fn with_logout_redirect(mut self, url: impl Into<String>) -> Self {
        self.logout_redirect = url.into();
        self
    }

    /// Sets the knowledge base's own logout URL
    /// (`https://ACCOUNT.aha.site/portal_session/logout`), where the browser is sent after
    /// the app's own logout when [`SsoLayerBuilder::with_app_logout_path`] is set.
    /// Default: none.
    ///
    /// [`SsoLayerBuilder::with_app_logout_path`]: crate::SsoLayerBuilder::with_app_logout_path
    #[must_use]
    pub fn with_portal_logout_url(mut self, url: impl Into<String>) -> Self {
        self.portal_logout_url = Some(url.into());
        self
    }
}

/// An Aha! portal, validated.
#[derive(Debug)]
pub(crate) struct Aha {
    callback: Url,
}

/// The parameters passed on to the callback, checked.
#[derive(Debug)]
pub(crate) struct Passed {
    state: Option<String>,
    return_to: Option<String>,
    /// `return_to` was given but is not a path on the knowledge base, so it was left out.
    pub(crate) return_to_dropped: bool,
}

impl Aha {
    pub(crate) fn build(portal: &AhaPortal, field: &str) -> Result<Self, ConfigError> {
        let callback = Url::parse(&portal.callback_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some())
            .filter(|url| url.username().is_empty() && url.password().is_none())
            .ok_or_else(|| {
                ConfigError::new(
                    format!("{field}.callback_url"),
                    "must be an absolute https:// URL, e.g. https://acme.aha.site/auth/jwt/callback",
                )
            })?;
        Ok(Self { callback })
    }

    pub(crate) fn callback(&self) -> &Url {
        &self.callback
    }

    pub(crate) fn prepare(query: Option<&str>) -> Result<Passed, Refusal> {
        let [state, return_to] =
            query::pick(query, ["state", "return_to"]).map_err(Refusal::Query)?;
        let state = state.map(|param| param.decoded.into_owned());
        if state
            .as_ref()
            .is_some_and(|state| state.len() > MAX_STATE_LEN)
        {
            return Err(Refusal::StateTooLong);
        }
        let given = return_to.is_some();
        let return_to = return_to
            .map(|param| param.decoded.into_owned())
            .filter(|path| is_same_site_path(path));
        Ok(Passed {
            return_to_dropped: given && return_to.is_none(),
            state,
            return_to,
        })
    }

    pub(crate) fn location(&self, passed: &Passed, token: &str) -> String {
        let mut location = append_query_param(self.callback.as_str(), "jwt", token);
        if let Some(state) = &passed.state {
            location = append_query_param(&location, "state", &query::encode(state).to_string());
        }
        if let Some(return_to) = &passed.return_to {
            location = append_query_param(
                &location,
                "return_to",
                &query::encode(return_to).to_string(),
            );
        }
        location
    }
}

/// A path on the same site: starts with one `/`, no `//` or `/\` prefix, no backslash,
/// no control characters or white space anywhere.
pub(crate) fn is_same_site_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= MAX_RETURN_TO_LEN
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

/// The claims Aha! reads. All strings but `iat`.
#[derive(Debug, Serialize)]
pub(crate) struct Claims<'a> {
    pub(crate) iat: u64,
    pub(crate) jti: String,
    pub(crate) first_name: &'a str,
    pub(crate) last_name: &'a str,
    pub(crate) email: &'a str,
}

impl<'a> Claims<'a> {
    pub(crate) fn new(identity: &'a Identity, iat: u64) -> Result<Self, getrandom::Error> {
        Ok(Self {
            iat,
            jti: random_jti()?,
            first_name: identity.first_name(),
            last_name: identity.last_name(),
            email: identity.email(),
        })
    }
}

/// 128 bits from the operating system's random source, as 32 hex digits.
fn random_jti() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes
        .iter()
        .fold(String::with_capacity(32), |mut out, byte| {
            use std::fmt::Write as _;
            let _ = write!(out, "{byte:02x}");
            out
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_must_be_a_plain_path() {
        for ok in ["/ideas/APP-I-469", "/", "/kb?x=1#y"] {
            assert!(is_same_site_path(ok), "{ok}");
        }
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "https://evil.com/",
            "ideas",
            "",
            "/a\r\nb",
            "/a b",
            "/\tevil",
        ] {
            assert!(!is_same_site_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn jti_is_128_bits_of_hex() {
        let jti = random_jti().unwrap();
        assert_eq!(jti.len(), 32);
        assert!(jti.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(jti, random_jti().unwrap());
    }
}
