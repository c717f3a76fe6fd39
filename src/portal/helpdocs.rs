//! HelpDocs custom JWT single sign-on.
//!
//! The token goes to a page of the docs as a query parameter; HelpDocs checks `exp`,
//! `iat` and `aud`, the docs site's origin.

// Vendor names (GitBook, HelpDocs, ReadMe) are prose here, not code.
#![allow(clippy::doc_markdown)]

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, TimeUnit};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// HelpDocs's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "helpdocs",
    vendor: "HelpDocs",
    algorithm: JwtAlgorithm::HS256,
    build: portal,
    settings: &[
        Setting::CallbackUrl,
        Setting::TokenTtlSecs,
        Setting::Audience,
    ],
    example_callback: Some("https://acme.helpdocs.io/"),
    example_origin: None,
    // Refused "if iat in future".
    time_rules: TimeRules {
        max_age_secs: None,
        max_ahead_secs: 0,
    },
    tenant_domains: &["helpdocs.io"],
};

/// HelpDocs's portal with `secret`, its callback still to give.
fn portal(secret: Secret) -> JwtPortal {
    JwtPortal::of(&PRESET, secret)
        .with_token_param("jwt")
        .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
        .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
        .with_claim("aud", Claim::target_origin())
}

impl JwtPortal {
    /// HelpDocs: `{"iat", "exp", "aud"}` (HS256, the only algorithm HelpDocs takes), `exp`
    /// being how long the reader may stay
    /// ([`with_token_ttl_secs`](JwtPortal::with_token_ttl_secs), default one hour) and
    /// `aud` the origin of `docs_url` (`https://acme.helpdocs.io`, no trailing slash;
    /// [`with_audience`](JwtPortal::with_audience) for a custom domain that differs), as
    /// `jwt` on `docs_url`. Route: `/sso/helpdocs`. HelpDocs' article is cut before it
    /// names the query parameter: `jwt` is assumed, and
    /// [`with_token_param`](JwtPortal::with_token_param) changes it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(JwtPortal::helpdocs(Secret::new("the-helpdocs-jwt-secret-0123456789"), "https://acme.helpdocs.io/"))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(http::Request::get("/sso/helpdocs").body(axum::body::Body::empty())?)
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://acme.helpdocs.io/?jwt=ey"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn helpdocs(secret: Secret, docs_url: impl Into<String>) -> Self {
        portal(secret).with_callback_url(docs_url)
    }
}
