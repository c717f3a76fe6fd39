//! Aha! knowledge base (and ideas portal) JWT single sign-on.
//!
//! The knowledge base sends the browser to the "Remote login URL" (`/sso/aha`), possibly
//! with `state` and `return_to`. The user is signed as
//! `{"iat", "jti", "first_name", "last_name", "email"}` and the browser sent to the
//! configured callback with `jwt=<token>`, `state` as received, and `return_to` when it is a
//! path on the knowledge base.

use std::fmt::Write as _;

use serde::Serialize;
use url::Url;

use super::{Refusal, carries_param};
use crate::error::ConfigError;
use crate::identity::Identity;
use crate::query::{self, append_query_param};
use crate::secret::Secret;
use crate::token::SignError;

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

/// The parameters the layer adds to the callback.
const ADDED_PARAMS: [&str; 3] = ["jwt", "state", "return_to"];

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
        // The callback gets `jwt`, `state` and `return_to`: one already there, in any
        // spelling a parser reads as it, could be the one Aha! reads.
        if let Some(name) = ADDED_PARAMS
            .into_iter()
            .find(|name| carries_param(&callback, name))
        {
            return Err(ConfigError::new(
                format!("{field}.callback_url"),
                format!("already carries a parameter that reads as `{name}`, which sign-in adds"),
            ));
        }
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

    /// The callback with `jwt=<token>`, then `state` and `return_to` when passed on, each
    /// added to the query with every existing byte kept.
    pub(crate) fn location(&self, passed: &Passed, token: &str) -> String {
        let mut location = append_query_param(self.callback.as_str(), "jwt", token);
        for (name, value) in [("state", &passed.state), ("return_to", &passed.return_to)] {
            if let Some(value) = value {
                location = append_query_param(&location, name, &query::encode(value).to_string());
            }
        }
        location
    }
}

/// A path on the same site, safe to pass on: starts with `/`; no backslash, white space,
/// control or invisible character anywhere; and in the path part (before any `?` or `#`,
/// which may carry URLs) no `//`, no `.` or `..` segment (raw or `%2e`-escaped) and no
/// `%2F` or `%5C`. Removing dot segments turns
/// `/..//evil.com` into `//evil.com`, which a browser reads as another host.
pub fn is_same_site_path(path: &str) -> bool {
    let path_part = path.split(['?', '#']).next().unwrap_or_default();
    let escaped_separator = ["%2f", "%5c"].iter().any(|escape| {
        path_part
            .as_bytes()
            .windows(3)
            .any(|three| three.eq_ignore_ascii_case(escape.as_bytes()))
    });
    path.starts_with('/')
        && path.len() <= MAX_RETURN_TO_LEN
        && !path_part.contains("//")
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || crate::text::is_control_or_invisible(c))
        && !escaped_separator
        && !crate::origins::has_dot_segment(path_part)
}

/// The claims Aha! reads: `iat`, a fresh random `jti` and the user's names and email, all
/// strings but `iat` (names may be empty).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims<'a> {
    /// When the token was issued, in seconds since the Unix epoch.
    pub iat: u64,
    /// 128 random bits as 32 hex digits, unique per token.
    pub jti: String,
    /// The first name, possibly empty.
    pub first_name: &'a str,
    /// The last name, possibly empty.
    pub last_name: &'a str,
    /// The email address.
    pub email: &'a str,
}

impl<'a> Claims<'a> {
    /// The claims for `identity`, issued at `iat`, with a fresh `jti` from the operating
    /// system's random source (an error if that source fails).
    pub fn new(identity: &'a Identity, iat: u64) -> Result<Self, SignError> {
        Ok(Self {
            iat,
            jti: random_jti()?,
            first_name: identity.first_name(),
            last_name: identity.last_name(),
            email: identity.email(),
        })
    }
}

/// 128 random bits from the operating system, as 32 hex digits.
fn random_jti() -> Result<String, SignError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| SignError)?;
    let mut hex = String::with_capacity(32);
    for byte in bytes {
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_must_be_a_plain_path() {
        for ok in [
            "/ideas/APP-I-469",
            "/",
            "/kb?x=1#y",
            "/a.b/c..d/.e",
            "/kb?q=a%2Fb",
            "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login",
        ] {
            assert!(is_same_site_path(ok), "{ok}");
        }
        for bad in [
            "/..//evil.com",
            "/.//evil.com",
            "/%2e%2e//evil.com",
            "/%2E%2E/evil.com",
            "/ideas/../..",
            "/ideas/./x",
            "/a//b",
            "/%2F%2Fevil.com",
            "/%5cevil.com",
            "/ideas\u{200B}",
            "/ideas\u{202E}",
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
    fn location_adds_jwt_then_state_then_return_to() {
        for (callback, expected) in [
            (
                "https://acme.aha.site/auth/jwt/callback",
                "https://acme.aha.site/auth/jwt/callback?jwt=T&state=a%20b%26c%3D%2F%C3%A9&return_to=%2Fkb",
            ),
            (
                "https://acme.aha.site/cb?x=1&",
                "https://acme.aha.site/cb?x=1&jwt=T&state=a%20b%26c%3D%2F%C3%A9&return_to=%2Fkb",
            ),
            (
                "https://acme.aha.site/cb?#frag",
                "https://acme.aha.site/cb?jwt=T&state=a%20b%26c%3D%2F%C3%A9&return_to=%2Fkb#frag",
            ),
        ] {
            let aha =
                Aha::build(&AhaPortal::new(Secret::new("k".repeat(32)), callback), "p").unwrap();
            let passed = Passed {
                state: Some("a b&c=/é".to_owned()),
                return_to: Some("/kb".to_owned()),
                return_to_dropped: false,
            };
            assert_eq!(aha.location(&passed, "T"), expected);
            let bare = Passed {
                state: None,
                return_to: None,
                return_to_dropped: false,
            };
            assert_eq!(
                aha.location(&bare, "T"),
                append_query_param(aha.callback.as_str(), "jwt", "T")
            );
        }
    }

    #[test]
    fn jti_is_128_bits_of_hex_and_never_repeats() {
        let drawn: std::collections::HashSet<_> =
            (0..10_000).map(|_| random_jti().unwrap()).collect();
        assert_eq!(drawn.len(), 10_000);
        assert!(
            drawn
                .iter()
                .all(|jti| jti.len() == 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()))
        );
    }
}
