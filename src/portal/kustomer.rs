//! Kustomer custom sign-on.
//!
//! The portal sends the browser to
//! `/sso/kustomer?trackingToken=UNSIGNED_JWT&kustomerRedirectUri=URL`. `trackingToken` is
//! ignored. The user's email is signed as `{"email", "iat"}` (HS256, `typ: JWT`) and the
//! browser is sent to `kustomerRedirectUri` (or the configured default) with
//! `externalToken=<jwt>` added to its query.

use serde::Serialize;
use url::Url;

use super::Refusal;
use crate::error::ConfigError;
use crate::identity::Identity;
use crate::query;
use crate::redirect::{RedirectOrigins, append_query_param};
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

    /// Reads and checks the request's parameters before anyone is looked up.
    pub(crate) fn prepare(&self, query: Option<&str>) -> Result<Url, Refusal> {
        let [target] = query::pick(query, ["kustomerRedirectUri"]).map_err(Refusal::Query)?;
        match target {
            Some(param) => {
                // Sent as the vendor's example shows (`...&kustomerRedirectUri=https://...`,
                // not escaped), the raw bytes are the URL: decoding them would turn the
                // `%2F` of its own `referralUrl` into `/`. Escaped (its scheme's `:` is
                // `%3A`), it is decoded once, even if an inner URL was left unescaped.
                let raw = param.raw.as_bytes();
                let sent_as_url = ["https://", "http://"].iter().any(|scheme| {
                    raw.len() >= scheme.len()
                        && raw[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
                });
                let target = if sent_as_url {
                    param.raw
                } else {
                    &param.decoded
                };
                let url = self.origins.check(target).map_err(Refusal::Redirect)?;
                // A second `externalToken` would leave it to the portal which one it reads.
                if carries_param(&url, "externalToken") {
                    return Err(Refusal::Query(query::QueryError::Duplicate(
                        "externalToken",
                    )));
                }
                Ok(url)
            }
            None => self
                .default_redirect
                .clone()
                .ok_or(Refusal::MissingRedirect),
        }
    }

    /// Where the browser goes with the token.
    pub(crate) fn location(target: &Url, token: &str) -> String {
        append_query_param(target.as_str(), "externalToken", token)
    }
}

/// Whether `url`'s query has a parameter called `name`, in any escaped spelling. Only
/// the keys are decoded: the values (a `referralUrl`, say) are left alone.
fn carries_param(url: &Url, name: &str) -> bool {
    url.query().is_some_and(|query| {
        query.split('&').any(|pair| {
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            query::decode(key).is_ok_and(|key| key == name)
        })
    })
}

/// The claims Kustomer reads.
#[derive(Debug, Serialize)]
pub(crate) struct Claims<'a> {
    pub(crate) email: &'a str,
    pub(crate) iat: u64,
}

impl<'a> Claims<'a> {
    pub(crate) fn new(identity: &'a Identity, iat: u64) -> Self {
        Self {
            email: identity.email(),
            iat,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_parameter_by_its_decoded_name_only() {
        let url = |q: &str| Url::parse(&format!("https://a.example/login?{q}")).unwrap();
        assert!(carries_param(&url("externalToken=x"), "externalToken"));
        assert!(carries_param(
            &url("a=1&%65xternalToken=x"),
            "externalToken"
        ));
        assert!(carries_param(&url("externalToken"), "externalToken"));
        assert!(!carries_param(
            &url("referralUrl=externalToken%3Dx"),
            "externalToken"
        ));
        assert!(!carries_param(&url("externalTokens=x"), "externalToken"));
        assert!(!carries_param(
            &Url::parse("https://a.example/").unwrap(),
            "externalToken"
        ));
    }
}
