//! Frill single sign-on.
//!
//! Frill sends the browser to the login page with `redirect`, a full URL on the Frill
//! site; the token goes back as `ssoToken` added to that URL.

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Frill's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "frill",
    vendor: "Frill",
    algorithm: JwtAlgorithm::HS256,
    build: JwtPortal::frill,
    settings: &[Setting::RedirectOrigins, Setting::DefaultRedirect],
    example_callback: None,
    example_origin: Some("https://acme.frill.co"),
    time_rules: TimeRules::UNDOCUMENTED,
    tenant_domains: &["frill.co"],
};

impl JwtPortal {
    /// Frill: `{"email", "id"}` and `name` and `avatar` when known (HS256 with the Frill SSO
    /// key), as `ssoToken` added to the request's `redirect` (any query it has kept byte
    /// for byte), which must be on the [redirect origins](JwtPortal::with_redirect_origins)
    /// (`https://acme.frill.co`, a custom domain) under the rules `kustomerRedirectUri` is
    /// checked by. Route: `/sso/frill`. The parameter name `ssoToken` is taken from
    /// Frill's widget types and integrations' code, not Frill's article.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async {
    ///         Ok(Some(Identity::new("alice@example.com")?.with_field("id", 17)))
    ///     })
    ///     .with_portal(
    ///         JwtPortal::frill(Secret::new("the-frill-sso-key-0123456789abcdef"))
    ///             .with_redirect_origins(["https://acme.frill.co"]),
    ///     )
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(
    ///         http::Request::get("/sso/frill?redirect=https%3A%2F%2Facme.frill.co%2Fb%2Fideas%3Fsort%3Dtop")
    ///             .body(axum::body::Body::empty())?,
    ///     )
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://acme.frill.co/b/ideas?sort=top&ssoToken=ey"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn frill(secret: Secret) -> Self {
        Self::of(&PRESET, secret)
            .with_target_param("redirect")
            .with_token_param("ssoToken")
            .with_claim("email", Claim::identity("email"))
            .with_claim("id", Claim::identity("id"))
            .with_claim("name", Claim::identity_if_known("name"))
            .with_claim("avatar", Claim::identity_if_known("avatar_url"))
    }
}
