//! Freshworks (Freshdesk, Freshservice) SSO with a custom JWT.
//!
//! Freshworks sends the browser to the authorization URL OpenID-implicit style, with
//! `state`, `nonce` and `redirect_uri`; the token goes back as
//! `{redirect_uri}?id_token=<jwt>&state=<state>`.

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, PassParam, TimeUnit};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Freshworks's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "freshworks",
    vendor: "Freshworks",
    algorithm: JwtAlgorithm::RS256,
    build: JwtPortal::freshworks,
    settings: &[Setting::RedirectOrigins, Setting::DefaultRedirect],
    example_callback: None,
    example_origin: Some("https://acme.freshworks.com"),
    time_rules: TimeRules::UNDOCUMENTED,
    tenant_domains: &[
        "freshworks.com",
        "freshdesk.com",
        "freshservice.com",
        "myfreshworks.com",
    ],
};

impl JwtPortal {
    /// Freshworks: `{"sub", "email", "iat", "nonce"}` and `given_name`, `family_name` when
    /// known (RS256 with an RSA private key in PEM, whose public key is pasted into
    /// Freshworks), `sub` being the app's stable user id (identity field `id`, a number
    /// sent as a string) and `nonce` the request's, as `id_token` added to the request's
    /// `redirect_uri`, which must be on the [redirect origins](JwtPortal::with_redirect_origins)
    /// (`https://acme.freshworks.com`, `https://acme.freshdesk.com`...), with `state` as
    /// received. Route: `/sso/freshworks`. Freshworks documents no `exp`; `given_name`
    /// and `family_name` come from its C# sample.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let key = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/test-only-rsa-private.pem"))?;
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async {
    ///         Ok(Some(Identity::new("alice@example.com")?.with_field("id", 1017)))
    ///     })
    ///     .with_portal(JwtPortal::freshworks(Secret::new(key)).with_redirect_origins(["https://acme.freshworks.com"]))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(
    ///         http::Request::get(
    ///             "/sso/freshworks?response_type=id_token&client_id=451&scope=openid%20email%20profile&state=st-1\
    ///              &redirect_uri=https%3A%2F%2Facme.freshworks.com%2Fsp%2FOIDC%2F7%2Fimplicit&nonce=n-0S6",
    ///         )
    ///         .body(axum::body::Body::empty())?,
    ///     )
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://acme.freshworks.com/sp/OIDC/7/implicit?id_token=ey"));
    /// assert!(location.ends_with("&state=st-1"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn freshworks(private_key: Secret) -> Self {
        Self::of(&PRESET, private_key)
            .with_target_param("redirect_uri")
            .with_token_param("id_token")
            .with_claim("sub", Claim::identity("id").as_string())
            .with_claim("email", Claim::identity("email"))
            .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
            .with_claim("nonce", Claim::param("nonce"))
            .with_claim("given_name", Claim::identity_if_known("first_name"))
            .with_claim("family_name", Claim::identity_if_known("last_name"))
            .with_pass_param(PassParam::echo("state"))
    }
}
