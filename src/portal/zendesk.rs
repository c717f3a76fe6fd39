//! Zendesk JWT single sign-on (Support and Help Center, `/access/jwt`).
//!
//! Zendesk sends the browser to the "Remote login URL" with `return_to`, `brand_id`,
//! `locale_id` and `timestamp`; the token goes back in a form posted to
//! `https://SUBDOMAIN.zendesk.com/access/jwt` (Zendesk's recommended way; a token in the
//! URL works too), those parameters in the form's action. Sign-in errors come back to the
//! "Remote logout URL" as `?kind=error&message=…`.

use super::preset::{LOGOUT, Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, PassParam, TimeUnit, TokenIn};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Zendesk's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "zendesk",
    vendor: "Zendesk",
    algorithm: JwtAlgorithm::HS256,
    build: portal,
    settings: &[
        Setting::CallbackUrl,
        Setting::RedirectOrigins,
        Setting::TokenIn,
        Setting::FormActionOrigins,
        LOGOUT[0],
        LOGOUT[1],
        LOGOUT[2],
    ],
    example_callback: Some("https://acme.zendesk.com/access/jwt"),
    example_origin: None,
    // "Zendesk allows up to three minutes clock skew", either way.
    time_rules: TimeRules {
        max_age_secs: Some(180),
        max_ahead_secs: 180,
    },
    tenant_domains: &["zendesk.com"],
};

/// Zendesk's portal with `secret`, its callback still to give.
fn portal(secret: Secret) -> JwtPortal {
    JwtPortal::of(&PRESET, secret)
        .with_token_param("jwt")
        .with_token_in(TokenIn::FormPost)
        .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
        .with_claim("jti", Claim::random())
        .with_claim("email", Claim::identity("email"))
        .with_claim("name", Claim::identity("name"))
        .with_claim(
            "external_id",
            Claim::identity_if_known("external_id").as_string(),
        )
        .with_pass_param(PassParam::path_or_url("return_to"))
        .with_pass_param(PassParam::echo("brand_id"))
        .with_pass_param(PassParam::echo("locale_id"))
        .with_pass_param(PassParam::echo("timestamp"))
        .with_logout_under_path()
        .with_logout_errors(true)
}

impl JwtPortal {
    /// Zendesk: `{"iat", "jti", "email", "name"}` and `external_id` when the app knows it
    /// (HS256 with the JWT configuration's shared secret; a fresh `jti` per token, which
    /// Zendesk accepts once), posted as the form field `jwt` to `callback_url`, which is
    /// `https://SUBDOMAIN.zendesk.com/access/jwt` (the zendesk.com subdomain even with host
    /// mapping). `return_to` (a help center path, or an agent interface URL on the
    /// callback's origin or the redirect origins), `brand_id`, `locale_id` and `timestamp`
    /// are carried back in the form's action. `with_token_in(TokenIn::Query)` sends
    /// `?jwt=` instead.
    ///
    /// Routes: `/sso/zendesk` (the Remote login URL) and `/sso/zendesk/logout` (the
    /// Remote logout URL), which ends the app session, or, called with
    /// `kind=error&message=…`, shows Zendesk's message and records it as a `portal_error`
    /// event without starting another sign-in.
    ///
    /// Identity fields: `email`, `name` (the first and last names joined, unless the app
    /// maps `name`), and `external_id` when known (a number is sent as a string).
    ///
    /// # Security
    /// `role` and `custom_role_id` grant agent rights: none is in the token unless added
    /// as a constant or an identity field, e.g. `.with_claim("role", Claim::identity("role"))`;
    /// a request parameter can never set them.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use http_body_util::BodyExt as _;
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async {
    ///         Ok(Some(Identity::new("alice@example.com")?.with_first_name("Alice")))
    ///     })
    ///     .with_portal(JwtPortal::zendesk(
    ///         Secret::new("the-zendesk-jwt-shared-secret-0123"),
    ///         "https://acme.zendesk.com/access/jwt",
    ///     ))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(http::Request::get("/sso/zendesk?brand_id=360001&return_to=%2Fhc%2Fen-us").body(axum::body::Body::empty())?)
    ///     .await?;
    /// assert_eq!(response.status(), 200);
    /// let policy = response.headers()["content-security-policy"].to_str()?.to_owned();
    /// assert!(policy.contains("form-action https://acme.zendesk.com;"));
    /// let page = String::from_utf8(response.into_body().collect().await?.to_bytes().to_vec())?;
    /// assert!(page.contains(r#"<form method="post" action="https://acme.zendesk.com/access/jwt?return_to=%2Fhc%2Fen-us&amp;brand_id=360001">"#));
    /// assert!(page.contains(r#"<input type="hidden" name="jwt" value="ey"#));
    /// # Ok(())
    /// # }
    /// ```
    pub fn zendesk(secret: Secret, callback_url: impl Into<String>) -> Self {
        portal(secret).with_callback_url(callback_url)
    }
}
