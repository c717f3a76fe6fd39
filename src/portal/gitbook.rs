//! GitBook visitor authentication (authenticated access, adaptive content).
//!
//! GitBook sends the visitor to the site's fallback URL with `location`, the page they
//! asked for; the token goes back as `jwt_token` on the site URL joined with that path.

// Vendor names (GitBook, HelpDocs, ReadMe) are prose here, not code.
#![allow(clippy::doc_markdown)]

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, TimeUnit};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// GitBook's sample token lifetime ("arbitrary 2-hour expiration"), in seconds.
pub const GITBOOK_TOKEN_TTL_SECS: u64 = 7200;

/// GitBook's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "gitbook",
    vendor: "GitBook",
    algorithm: JwtAlgorithm::HS256,
    build: portal,
    settings: &[Setting::CallbackUrl, Setting::TokenTtlSecs],
    example_callback: Some("https://docs.acme.com"),
    example_origin: None,
    time_rules: TimeRules::UNDOCUMENTED,
    tenant_domains: &["gitbook.io"],
};

/// GitBook's portal with `secret`, its callback still to give.
fn portal(secret: Secret) -> JwtPortal {
    JwtPortal::of(&PRESET, secret)
        .with_path_param("location")
        .with_token_param("jwt_token")
        .with_token_ttl_secs(GITBOOK_TOKEN_TTL_SECS)
        .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
        .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
        .with_claim("email", Claim::identity("email"))
        .with_claim("name", Claim::identity_if_known("name"))
}

impl JwtPortal {
    /// GitBook: `{"iat", "exp", "email"}` and `name` when known (HS256 with the site's
    /// private key, used as the UTF-8 bytes of the string as GitBook's sample does),
    /// `exp` two hours on ([`with_token_ttl_secs`](JwtPortal::with_token_ttl_secs)
    /// changes it), sent as `jwt_token` to `site_url` joined with the request's `location`
    /// when that is a plain path (`guides/setup` or `/guides/setup`); otherwise to
    /// `site_url` itself, and the event's reason says `location_dropped`. Route:
    /// `/sso/gitbook`. Adaptive content reads more claims: add them with
    /// [`with_claim`](JwtPortal::with_claim).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(JwtPortal::gitbook(Secret::new("the-gitbook-site-private-key-0123456"), "https://docs.acme.com"))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(http::Request::get("/sso/gitbook?location=guides%2Fsetup").body(axum::body::Body::empty())?)
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://docs.acme.com/guides/setup?jwt_token=ey"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn gitbook(secret: Secret, site_url: impl Into<String>) -> Self {
        portal(secret).with_callback_url(site_url)
    }
}
