//! Mintlify JWT authentication.
//!
//! Mintlify sends the reader to the login URL with `redirect`, a page of the docs; the
//! token goes back in the fragment of `https://DOCS/login/jwt-callback`, with `redirect`
//! in its query.

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, PassParam, TimeUnit, TokenIn};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Mintlify's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "mintlify",
    vendor: "Mintlify",
    algorithm: JwtAlgorithm::EdDSA,
    build: portal,
    settings: &[Setting::CallbackUrl, Setting::TokenTtlSecs],
    example_callback: Some("https://docs.acme.com/login/jwt-callback"),
    example_origin: None,
    time_rules: TimeRules::UNDOCUMENTED,
    tenant_domains: &["mintlify.app"],
};

/// Mintlify's portal with `private_key`, its callback still to give.
fn portal(private_key: Secret) -> JwtPortal {
    JwtPortal::of(&PRESET, private_key)
        .with_token_param("")
        .with_token_in(TokenIn::Fragment)
        .with_claim("exp", Claim::time(TimeUnit::Seconds, 10))
        .with_claim("expiresAt", Claim::expiry(TimeUnit::Seconds))
        .with_claim("groups", Claim::identity_if_known("groups"))
        .with_claim("content", Claim::identity_if_known("content"))
        .with_claim(
            "apiPlaygroundInputs",
            Claim::identity_if_known("api_playground_inputs"),
        )
        .with_pass_param(PassParam::path("redirect"))
}

impl JwtPortal {
    /// Mintlify: `{"exp": now + 10 s, "expiresAt": session end}` and `groups`, `content`
    /// and `apiPlaygroundInputs` when the app knows them (identity fields `groups`,
    /// `content`, `api_playground_inputs`), signed `EdDSA` with the dashboard's Ed25519
    /// private key (PKCS#8 PEM). The browser goes to `callback_url`
    /// (`https://docs.acme.com/login/jwt-callback`) with `redirect` in the query when it is
    /// a page of the docs and the token as the whole fragment:
    /// `…/login/jwt-callback?redirect=%2Fquickstart#<token>`. A fragment never reaches a
    /// server's logs. `expiresAt` is [`with_token_ttl_secs`](JwtPortal::with_token_ttl_secs)
    /// on (default one hour). Mintlify's algorithm has changed before (ES256 once):
    /// [`with_algorithm`](JwtPortal::with_algorithm) follows it. Route: `/sso/mintlify`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let key = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/test-only-ed25519-private.pem"))?;
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(JwtPortal::mintlify(Secret::new(key), "https://docs.acme.com/login/jwt-callback"))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(http::Request::get("/sso/mintlify?redirect=%2Fquickstart").body(axum::body::Body::empty())?)
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://docs.acme.com/login/jwt-callback?redirect=%2Fquickstart#ey"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn mintlify(private_key: Secret, callback_url: impl Into<String>) -> Self {
        portal(private_key).with_callback_url(callback_url)
    }
}
