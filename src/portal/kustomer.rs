//! Kustomer custom sign-on.
//!
//! The portal sends the browser to
//! `/sso/kustomer?trackingToken=UNSIGNED_JWT&kustomerRedirectUri=URL`. `trackingToken` is
//! ignored. The user's email is signed as `{"email", "iat"}` (HS256, `typ: JWT`) and the
//! browser is sent to `kustomerRedirectUri` (or the configured default) with
//! `externalToken=<jwt>` added to its query.

use std::borrow::Cow;

use serde::Serialize;
use url::Url;

use super::{Refusal, carries_param};
use crate::error::ConfigError;
use crate::identity::Identity;
use crate::origins::RedirectOrigins;
use crate::query;
use crate::secret::Secret;

/// The route Kustomer's "Redirect URI" points at, unless [`KustomerPortal::with_path`]
/// says otherwise.
pub const DEFAULT_PATH: &str = "/sso/kustomer";

/// Settings for one Kustomer knowledge-base portal (one brand).
///
/// ```
/// use portal_sso::{KustomerPortal, Secret};
///
/// let portal = KustomerPortal::new(Secret::new("the-knowledge-base-secret-from-kustomer"))
///     .with_redirect_origins(["https://acme.kustomer.help"])
///     .with_default_redirect("https://acme.kustomer.help/login");
/// # let _ = portal;
/// ```
#[derive(Debug, Clone)]
pub struct KustomerPortal {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) secret: Secret,
    pub(crate) redirect_origins: Vec<String>,
    pub(crate) default_redirect: Option<String>,
}

impl KustomerPortal {
    /// A portal signing with `secret`, the value in the `attributes` of Kustomer's
    /// `/v1/auth/kb/:id/settings` answer.
    pub fn new(secret: Secret) -> Self {
        Self {
            name: "kustomer".to_owned(),
            path: DEFAULT_PATH.to_owned(),
            secret,
            redirect_origins: Vec::new(),
            default_redirect: None,
        }
    }

    /// Sets the name used in events and metrics. Default: `kustomer`.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the login route. Default: `/sso/kustomer`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the origins `kustomerRedirectUri` may point at, e.g.
    /// `https://acme.kustomer.help`. Default: none, so only the default redirect is used.
    ///
    /// # Security
    /// Each entry is an exact origin; `https://*.example.com` allows any subdomain and
    /// only when written so. Every `kustomerRedirectUri` outside them is refused with a
    /// 400 page and no token is signed.
    #[must_use]
    pub fn with_redirect_origins<I, T>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.redirect_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets where to send the browser when the request has no `kustomerRedirectUri`.
    /// It must be inside the redirect origins. Default: none (such requests get a 400).
    #[must_use]
    pub fn with_default_redirect(mut self, url: impl Into<String>) -> Self {
        self.default_redirect = Some(url.into());
        self
    }
}

/// The parameter the token is added as.
const TOKEN_PARAM: &str = "externalToken";

/// A Kustomer portal, validated.
#[derive(Debug)]
pub(crate) struct Kustomer {
    origins: RedirectOrigins,
    default_redirect: Option<Url>,
}

impl Kustomer {
    pub(crate) fn build(portal: &KustomerPortal, field: &str) -> Result<Self, ConfigError> {
        let origins = RedirectOrigins::parse(&portal.redirect_origins)
            .map_err(|problem| ConfigError::new(format!("{field}.redirect_origins"), problem))?;
        let default_redirect = match &portal.default_redirect {
            None => None,
            Some(raw) => Some(origins.check(raw).map_err(|rejection| {
                ConfigError::new(
                    format!("{field}.default_redirect"),
                    format!("`{raw}` is refused: {rejection}"),
                )
            })?),
        };
        if default_redirect
            .as_ref()
            .is_some_and(|target| carries_param(target, TOKEN_PARAM))
        {
            return Err(ConfigError::new(
                format!("{field}.default_redirect"),
                format!("already carries a parameter that reads as `{TOKEN_PARAM}`"),
            ));
        }
        if origins.is_empty() && default_redirect.is_none() {
            return Err(ConfigError::new(
                format!("{field}.redirect_origins"),
                "is empty: give the portal's origin, e.g. https://acme.kustomer.help",
            ));
        }
        Ok(Self {
            origins,
            default_redirect,
        })
    }

    /// Reads and checks the request's parameters before anyone is looked up: where the
    /// browser goes back to, checked against the configured origins.
    pub(crate) fn prepare(&self, query: Option<&str>) -> Result<Url, Refusal> {
        let [target] = query::pick_raw(query, ["kustomerRedirectUri"]).map_err(Refusal::Query)?;
        let Some(raw) = target else {
            return self
                .default_redirect
                .clone()
                .ok_or(Refusal::MissingRedirect);
        };
        // Sent as the vendor's example shows (`...&kustomerRedirectUri=https://...`, not
        // escaped), the raw bytes are the URL: decoding them would turn the `%2F` of its
        // own `referralUrl` into `/`. Escaped (its scheme's `:` is `%3A`), it is decoded
        // once, even if an inner URL was left unescaped.
        let sent_as_url = ["https://", "http://"].iter().any(|scheme| {
            raw.get(..scheme.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
        });
        let target = if sent_as_url {
            Cow::Borrowed(raw)
        } else {
            query::decode(raw).map_err(Refusal::Query)?
        };
        let url = self.origins.check(&target).map_err(Refusal::Redirect)?;
        // A second `externalToken`, in any spelling a parser reads as one, would leave it
        // to the portal which one it reads: a planted token could sign in the wrong user.
        if carries_param(&url, TOKEN_PARAM) {
            return Err(Refusal::TargetCarries(TOKEN_PARAM));
        }
        Ok(url)
    }

    /// Where the browser goes with the token: `target` with `externalToken=<jwt>` added
    /// to its query, every existing byte kept.
    pub(crate) fn location(target: &Url, token: &str) -> String {
        query::append_query_param(target.as_str(), TOKEN_PARAM, token)
    }
}

/// The claims Kustomer reads: `{"email": ..., "iat": ...}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims<'a> {
    /// The user's email address.
    pub email: &'a str,
    /// When the token was issued, in seconds since the Unix epoch.
    pub iat: u64,
}

impl<'a> Claims<'a> {
    /// The claims for `identity`, issued at `iat`.
    pub fn new(identity: &'a Identity, iat: u64) -> Self {
        Self {
            email: identity.email(),
            iat,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn portal() -> Kustomer {
        let portal = KustomerPortal::new(Secret::new("k".repeat(32)))
            .with_redirect_origins(["https://acme.kustomer.help"]);
        Kustomer::build(&portal, "portal").unwrap()
    }

    #[test]
    fn targets_are_read_as_sent_or_decoded_once() {
        let portal = portal();
        let sent = "kustomerRedirectUri=https://ACME.kustomer.help./login?r=%2F";
        assert_eq!(
            portal.prepare(Some(sent)).unwrap().as_str(),
            "https://acme.kustomer.help/login?r=%2F"
        );
        let escaped = "kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Flogin";
        assert_eq!(
            portal.prepare(Some(escaped)).unwrap().as_str(),
            "https://acme.kustomer.help/login"
        );
    }

    #[test]
    fn refused_targets_stay_refused() {
        let portal = portal();
        for target in [
            "https://evil.example/",
            "https://acme.kustomer.help.evil.example/",
            "https://acme.kustomer.help/login?externalToken=x",
            "https://acme.kustomer.help/../x",
        ] {
            let query = format!("kustomerRedirectUri={target}");
            for _ in 0..3 {
                assert!(portal.prepare(Some(&query)).is_err(), "{target}");
            }
        }
    }

    #[test]
    fn locations_carry_the_token_before_the_fragment() {
        for (url, expected) in [
            ("https://a.example/l", "https://a.example/l?externalToken=T"),
            (
                "https://a.example/l?r=%2F#top",
                "https://a.example/l?r=%2F&externalToken=T#top",
            ),
            (
                "https://a.example/l?",
                "https://a.example/l?externalToken=T",
            ),
            (
                "https://a.example/l?a&",
                "https://a.example/l?a&externalToken=T",
            ),
        ] {
            let target = Url::parse(url).unwrap();
            assert_eq!(Kustomer::location(&target, "T"), expected, "{url}");
        }
    }
}
