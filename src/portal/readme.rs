//! ReadMe custom login.
//!
//! ReadMe sends the reader to the custom login URL, possibly with `redirect`, a page of
//! the hub; the token goes back as `auth_token` on the hub's URL.

// Vendor names (GitBook, HelpDocs, ReadMe) are prose here, not code.
#![allow(clippy::doc_markdown)]

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, PassParam};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// ReadMe's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "readme",
    vendor: "ReadMe",
    algorithm: JwtAlgorithm::HS256,
    build: portal,
    settings: &[Setting::CallbackUrl],
    example_callback: Some("https://docs.acme.com/"),
    example_origin: None,
    time_rules: TimeRules::UNDOCUMENTED,
    tenant_domains: &["readme.io"],
};

/// ReadMe's portal with `secret`, its callback still to give.
fn portal(secret: Secret) -> JwtPortal {
    JwtPortal::of(&PRESET, secret)
        .with_token_param("auth_token")
        .with_claim("name", Claim::identity_if_known("name"))
        .with_claim("email", Claim::identity("email"))
        .with_pass_param(PassParam::path("redirect"))
}

impl JwtPortal {
    /// ReadMe: `{"email"}` and `name` when known (HS256, the `jsonwebtoken` default of
    /// ReadMe's sample, with the project's JWT secret) as `auth_token` on `hub_url`
    /// (`https://docs.acme.com/`), with `redirect` when it is a page of the hub. Route:
    /// `/sso/readme`. API keys and other variables are identity fields to add with
    /// [`with_claim`](JwtPortal::with_claim).
    ///
    /// # Security
    /// `isAdmin` bypasses the hub's access control. It is never in the token unless added,
    /// and then only as a constant or an identity field the app sets, e.g.
    /// `.with_claim("isAdmin", Claim::identity_if_known("is_admin"))`; as a request
    /// parameter it is refused at build time.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(JwtPortal::readme(Secret::new("the-readme-project-jwt-secret-0123"), "https://docs.acme.com/"))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(http::Request::get("/sso/readme?redirect=/docs/getting-started").body(axum::body::Body::empty())?)
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://docs.acme.com/?auth_token=ey"));
    /// assert!(location.ends_with("&redirect=%2Fdocs%2Fgetting-started"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn readme(secret: Secret, hub_url: impl Into<String>) -> Self {
        portal(secret).with_callback_url(hub_url)
    }
}
