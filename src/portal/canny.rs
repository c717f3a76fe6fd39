//! Canny single sign-on redirect.
//!
//! Canny sends the browser to the login page with `companyID` and `redirect`; the token
//! goes to `https://canny.io/api/redirects/sso` as `ssoToken`, with both carried back.

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, PassParam};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Where Canny takes SSO tokens.
pub const CANNY_SSO_URL: &str = "https://canny.io/api/redirects/sso";

/// Canny's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "canny",
    vendor: "Canny",
    algorithm: JwtAlgorithm::HS256,
    build: JwtPortal::canny,
    settings: &[Setting::RedirectOrigins, Setting::PinnedParams],
    example_callback: None,
    example_origin: Some("https://acme.canny.io"),
    time_rules: TimeRules::UNDOCUMENTED,
    tenant_domains: &["canny.io"],
};

impl JwtPortal {
    /// Canny: `{"email", "id", "name"}` and `avatarURL` when known (HS256 with the private
    /// SSO key) as `ssoToken` on `https://canny.io/api/redirects/sso`, with `companyID`
    /// as received and `redirect` when it is an `https://` URL on the
    /// [redirect origins](JwtPortal::with_redirect_origins) (your board's origin,
    /// `https://acme.canny.io`); another `redirect` is a 400 page. Route: `/sso/canny`.
    ///
    /// Identity fields: `email`, `id` (the app's stable user id), `name` (the first and
    /// last names joined unless mapped), `avatar_url` when known.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async {
    ///         Ok(Some(Identity::new("alice@example.com")?.with_first_name("Alice").with_field("id", "u-17")))
    ///     })
    ///     .with_portal(
    ///         JwtPortal::canny(Secret::new("the-canny-private-sso-key-0123456789"))
    ///             .with_redirect_origins(["https://acme.canny.io"]),
    ///     )
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(
    ///         http::Request::get("/sso/canny?companyID=5f0c&redirect=https%3A%2F%2Facme.canny.io%2Fideas")
    ///             .body(axum::body::Body::empty())?,
    ///     )
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://canny.io/api/redirects/sso?ssoToken=ey"));
    /// assert!(location.ends_with("&companyID=5f0c&redirect=https%3A%2F%2Facme.canny.io%2Fideas"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn canny(secret: Secret) -> Self {
        Self::of(&PRESET, secret)
            .with_callback_url(CANNY_SSO_URL)
            .with_token_param("ssoToken")
            .with_claim("email", Claim::identity("email"))
            .with_claim("id", Claim::identity("id"))
            .with_claim("name", Claim::identity("name"))
            .with_claim("avatarURL", Claim::identity_if_known("avatar_url"))
            .with_pass_param(PassParam::echo("companyID"))
            .with_pass_param(PassParam::url("redirect"))
    }
}
