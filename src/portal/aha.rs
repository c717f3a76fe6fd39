//! Aha! knowledge base (and ideas portal) JWT single sign-on.
//!
//! The knowledge base sends the browser to the "Remote login URL" (`/sso/aha`), possibly
//! with `state` and `return_to`. The user is signed as
//! `{"iat", "jti", "first_name", "last_name", "email"}` and the browser sent to the
//! configured callback with `jwt=<token>`, `state` as received, and `return_to` when it is a
//! path on the knowledge base.

use serde::Serialize;

use super::{Claim, JwtPortal, PassParam, TimeUnit, random_hex};
use crate::identity::Identity;
use crate::secret::Secret;
use crate::token::{JwtAlgorithm, SignError};

/// The "Remote login URL" route, unless [`AhaPortal::with_path`] says otherwise.
pub const DEFAULT_PATH: &str = "/sso/aha";
/// The "Remote logout URL" route, unless [`AhaPortal::with_logout_path`] says otherwise.
pub const DEFAULT_LOGOUT_PATH: &str = "/sso/aha/logout";

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

    /// The "Remote login URL" route.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The callback the browser is sent to with the token.
    pub fn callback_url(&self) -> &str {
        &self.callback_url
    }
}

impl JwtPortal {
    /// Aha! knowledge base (or ideas portal) JWT single sign-on: `{"iat", "jti",
    /// "first_name", "last_name", "email"}` (HS256, names possibly empty strings) with
    /// the shared secret, to `callback_url` as `jwt`, with `state` as received and
    /// `return_to` when it is a path on the knowledge base. Routes: `/sso/aha`, and the
    /// Remote logout URL `/sso/aha/logout`. [`AhaPortal`] builds the same portal.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(JwtPortal::aha(
    ///         Secret::new("the-shared-secret-from-the-aha-jwt-screen"),
    ///         "https://acme.aha.site/auth/jwt/callback",
    ///     ))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(http::Request::get("/sso/aha?state=kb1&return_to=/ideas/APP-I-469").body(axum::body::Body::empty())?)
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://acme.aha.site/auth/jwt/callback?jwt=ey"));
    /// assert!(location.ends_with("&state=kb1&return_to=%2Fideas%2FAPP-I-469"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn aha(secret: Secret, callback_url: impl Into<String>) -> Self {
        Self::preset("aha", JwtAlgorithm::HS256, secret)
            .with_callback_url(callback_url)
            .with_token_param("jwt")
            .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
            .with_claim("jti", Claim::random())
            .with_claim("first_name", Claim::identity("first_name"))
            .with_claim("last_name", Claim::identity("last_name"))
            .with_claim("email", Claim::identity("email"))
            .with_pass_param(PassParam::echo("state"))
            .with_pass_param(PassParam::path("return_to"))
            .with_logout_path(Some(DEFAULT_LOGOUT_PATH))
    }
}

impl From<AhaPortal> for JwtPortal {
    fn from(portal: AhaPortal) -> Self {
        let mut engine = JwtPortal::aha(portal.secret, portal.callback_url)
            .with_name(portal.name)
            .with_path(portal.path)
            .with_logout_path(portal.logout_path)
            .with_logout_redirect(portal.logout_redirect);
        if let Some(url) = portal.portal_logout_url {
            engine = engine.with_portal_logout_url(url);
        }
        engine
    }
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
            jti: random_hex()?,
            first_name: identity.first_name(),
            last_name: identity.last_name(),
            email: identity.email(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::Issued;
    use crate::portal::engine::Engine;
    use crate::portal::is_same_site_path;
    use crate::token::TokenSigner;

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
        let identity = Identity::new("a@example.com").unwrap();
        let secret = Secret::new("k".repeat(32));
        let signer = TokenSigner::hs256(&secret);
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
            let aha = Engine::build(&AhaPortal::new(secret.clone(), callback).into(), "p").unwrap();
            let prepared = aha
                .prepare(Some("state=a+b%26c%3D%2F%C3%A9&return_to=%2Fkb"))
                .unwrap();
            let Issued::Sent { response, .. } = aha.issue(&signer, &prepared, &identity) else {
                panic!("signed");
            };
            let location = response.headers()[http::header::LOCATION].to_str().unwrap();
            let token = location
                .split(['?', '&', '#'])
                .find_map(|pair| pair.strip_prefix("jwt="))
                .unwrap();
            assert_eq!(location.replace(token, "T"), expected);
        }
    }
}
