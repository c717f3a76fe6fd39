//! Kustomer Chat: the chat widget told who the user is with `Kustomer.login({ jwtToken })`
//! after `Kustomer.start()`.
//!
//! The token is an HS256 JWT of `email` and/or `externalId` plus `iat`, signed with the
//! chat's secret (when both are sent, Kustomer matches on the email). Kustomer refuses a
//! token whose `iat` is more than 15 minutes old, so the value's lifetime stays inside
//! that window. Where the secret sits in Kustomer's settings is not documented; the
//! rest is.

use super::builder::{Widget, WidgetFormat};
use crate::portal::{Claim, TimeRules, TimeUnit, WidgetPreset, WidgetSetting};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Kustomer Chat's entry in the widget registry.
pub(crate) static PRESET: WidgetPreset = WidgetPreset {
    kind: "kustomer-chat",
    vendor: "Kustomer Chat",
    format: WidgetFormat::Jwt(JwtAlgorithm::HS256),
    build: Widget::kustomer_chat,
    settings: &[WidgetSetting::TokenTtlSecs],
    page_call: "Kustomer.login({ jwtToken: token })",
    // Kustomer refuses a token whose iat is over 15 minutes old.
    time_rules: TimeRules::max_age(15 * 60),
};

impl Widget {
    /// Kustomer Chat: `{"email", "externalId", "iat"}` (HS256 with the chat's secret),
    /// `externalId` being the identity's `id` as a string, left out when the app has
    /// none. The page passes the token to `Kustomer.login({ jwtToken })`. Its lifetime
    /// ([`with_token_ttl_secs`](Widget::with_token_ttl_secs)) is 600 seconds by default
    /// and at most 900: Kustomer refuses an `iat` older than 15 minutes. Route:
    /// `/sso/widget/kustomer-chat`.
    ///
    /// Assumed: where the chat secret is found in Kustomer's settings (not documented).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use http_body_util::BodyExt as _;
    /// use portal_sso::{Identity, Secret, SsoLayer, Widget};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_widget(Widget::kustomer_chat(Secret::new("the-kustomer-chat-secret-0123456789")))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(
    ///         http::Request::get("/sso/widget/kustomer-chat")
    ///             .header("sec-fetch-site", "same-origin")
    ///             .body(axum::body::Body::empty())?,
    ///     )
    ///     .await?;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// let body = response.into_body().collect().await?.to_bytes();
    /// let answer: serde_json::Value = serde_json::from_slice(&body)?;
    /// assert!(answer["token"].as_str().is_some_and(|token| token.starts_with("ey")));
    /// assert!(answer["expires_at"].is_u64());
    /// # Ok(())
    /// # }
    /// ```
    pub fn kustomer_chat(secret: Secret) -> Self {
        Self::of(&PRESET, secret)
            .with_claim("email", Claim::identity("email"))
            .with_claim("externalId", Claim::identity_if_known("id").as_string())
            .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
    }
}
