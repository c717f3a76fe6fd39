//! Helpjuice single sign-on with a JSON Web Token.
//!
//! Helpjuice sends the reader to the login URL with `service=helpjuice` and possibly
//! `fallback_url`; the token goes back as `jwt` on `https://helpjuice.com/jwt/SUBDOMAIN`.

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, PassParam, TimeUnit};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Helpjuice's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "helpjuice",
    vendor: "Helpjuice",
    algorithm: JwtAlgorithm::HS256,
    build: portal,
    settings: &[Setting::CallbackUrl, Setting::RedirectOrigins],
    example_callback: Some("https://helpjuice.com/jwt/acme"),
    example_origin: None,
    // "only accept tokens up to 3 minutes old".
    time_rules: TimeRules::max_age(180),
    tenant_domains: &["helpjuice.com"],
};

/// Helpjuice's portal with `secret`, its callback still to give.
fn portal(secret: Secret) -> JwtPortal {
    JwtPortal::of(&PRESET, secret)
        .with_token_param("jwt")
        .with_claim("jti", Claim::random())
        .with_claim("iat", Claim::time(TimeUnit::Milliseconds, 0))
        .with_claim("email", Claim::identity("email"))
        .with_claim("first_name", Claim::identity_if_known("first_name"))
        .with_claim("last_name", Claim::identity_if_known("last_name"))
        .with_pass_param(PassParam::url("fallback_url"))
}

impl JwtPortal {
    /// Helpjuice: `{"jti", "iat", "email"}` and `first_name`, `last_name` when known, with
    /// `iat` in **milliseconds** since the epoch as Helpjuice reads it (it accepts tokens
    /// up to 3 minutes old and each `jti` once), as `jwt` on `callback_url`
    /// (`https://helpjuice.com/jwt/acme`), with `fallback_url` when it is on the
    /// [redirect origins](JwtPortal::with_redirect_origins) (the help center's origin);
    /// another `fallback_url` is a 400 page. Route: `/sso/helpjuice`.
    ///
    /// Helpjuice names a shared secret but not the algorithm: HS256 is assumed, as the
    /// other samples of the kind sign. `fallback_url` is known from third-party code only.
    ///
    /// # Security
    /// `role_id` and `group_names` grant rights: they are never in the token unless added
    /// as a constant or an identity field the app sets.
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
    ///         JwtPortal::helpjuice(Secret::new("the-helpjuice-shared-secret-012345"), "https://helpjuice.com/jwt/acme")
    ///             .with_redirect_origins(["https://acme.helpjuice.com"]),
    ///     )
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(
    ///         http::Request::get("/sso/helpjuice?service=helpjuice&fallback_url=https%3A%2F%2Facme.helpjuice.com%2Fsetup")
    ///             .body(axum::body::Body::empty())?,
    ///     )
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://helpjuice.com/jwt/acme?jwt=ey"));
    /// assert!(location.ends_with("&fallback_url=https%3A%2F%2Facme.helpjuice.com%2Fsetup"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn helpjuice(secret: Secret, callback_url: impl Into<String>) -> Self {
        portal(secret).with_callback_url(callback_url)
    }
}
