//! Kustomer custom sign-on.
//!
//! The portal sends the browser to
//! `/sso/kustomer?trackingToken=UNSIGNED_JWT&kustomerRedirectUri=URL`. `trackingToken` is
//! ignored. The user's email is signed as `{"email", "iat"}` (HS256, `typ: JWT`) and the
//! browser is sent to `kustomerRedirectUri` (or the configured default) with
//! `externalToken=<jwt>` added to its query.

use serde::Serialize;

use super::{Claim, JwtPortal, TimeUnit};
use crate::identity::Identity;
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

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

    /// The login route.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The origins `kustomerRedirectUri` may point at.
    pub fn redirect_origins(&self) -> &[String] {
        &self.redirect_origins
    }
}

/// The parameter the token is added as.
const TOKEN_PARAM: &str = "externalToken";

impl JwtPortal {
    /// Kustomer custom sign-on: `{"email", "iat"}` (HS256) with the knowledge base's
    /// secret, `externalToken` added to the `kustomerRedirectUri` the portal sends (on one
    /// of [`with_redirect_origins`](JwtPortal::with_redirect_origins), else the
    /// [default](JwtPortal::with_default_redirect)), every byte of it kept. Route:
    /// `/sso/kustomer`. [`KustomerPortal`] builds the same portal.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(
    ///         JwtPortal::kustomer(Secret::new("the-kustomer-knowledge-base-secret"))
    ///             .with_redirect_origins(["https://acme.kustomer.help"]),
    ///     )
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(
    ///         http::Request::get("/sso/kustomer?trackingToken=x&kustomerRedirectUri=https://acme.kustomer.help/login?r=%2F")
    ///             .body(axum::body::Body::empty())?,
    ///     )
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://acme.kustomer.help/login?r=%2F&externalToken=ey"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn kustomer(secret: Secret) -> Self {
        Self::preset("kustomer", JwtAlgorithm::HS256, secret)
            .with_target_param("kustomerRedirectUri")
            .with_token_param(TOKEN_PARAM)
            .with_claim("email", Claim::identity("email"))
            .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
    }
}

impl From<KustomerPortal> for JwtPortal {
    fn from(portal: KustomerPortal) -> Self {
        let mut engine = JwtPortal::kustomer(portal.secret)
            .with_name(portal.name)
            .with_path(portal.path)
            .with_redirect_origins(portal.redirect_origins);
        if let Some(default) = portal.default_redirect {
            engine = engine.with_default_redirect(default);
        }
        engine
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
    use crate::portal::engine::Engine;

    fn portal() -> Engine {
        let portal = KustomerPortal::new(Secret::new("k".repeat(32)))
            .with_redirect_origins(["https://acme.kustomer.help"]);
        Engine::build(&portal.into(), "portal").unwrap()
    }

    #[test]
    fn targets_are_read_as_sent_or_decoded_once() {
        let portal = portal();
        let sent = "kustomerRedirectUri=https://ACME.kustomer.help./login?r=%2F";
        assert_eq!(
            portal.prepare(Some(sent)).unwrap().target().as_str(),
            "https://acme.kustomer.help/login?r=%2F"
        );
        let escaped = "kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Flogin";
        assert_eq!(
            portal.prepare(Some(escaped)).unwrap().target().as_str(),
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
    fn the_claims_are_the_vendors_shape() {
        let alice = Identity::new("alice@example.com").unwrap();
        let portal = JwtPortal::kustomer(Secret::new("k".repeat(32)));
        let made = crate::portal::claim::render(
            &portal.claims,
            &alice,
            |_| None,
            60,
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_763_700_000),
        )
        .unwrap();
        assert_eq!(
            serde_json::Value::Object(made),
            serde_json::to_value(Claims::new(&alice, 1_763_700_000)).unwrap()
        );
    }
}
