//! Help Scout Docs restricted access with a custom callback.
//!
//! Help Scout sends an unauthenticated visitor to the sign-in URL with `returnTo`, a
//! relative path; the token goes back as `token` on the Docs site's `/authcallback`.

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, PassParam, TimeUnit};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Help Scout Docs's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "helpscout",
    vendor: "Help Scout Docs",
    algorithm: JwtAlgorithm::HS512,
    build: portal,
    settings: &[Setting::CallbackUrl, Setting::TokenTtlSecs],
    example_callback: Some("https://docs.acme.com/authcallback"),
    example_origin: None,
    time_rules: TimeRules::UNDOCUMENTED,
    tenant_domains: &["helpscoutdocs.com"],
};

/// Help Scout Docs's portal with `secret`, its callback still to give.
fn portal(secret: Secret) -> JwtPortal {
    JwtPortal::of(&PRESET, secret)
        .with_token_param("token")
        .with_claim("sub", Claim::identity("email"))
        .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
        .with_pass_param(PassParam::path("returnTo"))
}

impl JwtPortal {
    /// Help Scout Docs: `{"sub": email, "exp"}` (HS512 with the site's `sharedSecret`,
    /// used as the string's bytes as Help Scout's example does), `exp` being the Docs
    /// session's end ([`with_token_ttl_secs`](JwtPortal::with_token_ttl_secs), default one
    /// hour), as `token` on `callback_url` (`https://docs.acme.com/authcallback`), with
    /// `returnTo` when it is a path on the site. Route: `/sso/helpscout`. Help Scout's
    /// example is HS512; whether it takes other algorithms is not documented.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(JwtPortal::helpscout(
    ///         Secret::new("dGhlLWhlbHAtc2NvdXQtc2hhcmVkLXNlY3JldA=="),
    ///         "https://docs.acme.com/authcallback",
    ///     ))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(http::Request::get("/sso/helpscout?returnTo=%2Farticle%2F12-setup").body(axum::body::Body::empty())?)
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://docs.acme.com/authcallback?token=ey"));
    /// assert!(location.ends_with("&returnTo=%2Farticle%2F12-setup"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn helpscout(secret: Secret, callback_url: impl Into<String>) -> Self {
        portal(secret).with_callback_url(callback_url)
    }
}
