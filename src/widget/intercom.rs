//! Intercom Messenger with Messenger security (JWT): the page boots the Messenger with
//! `Intercom('boot', { app_id, intercom_user_jwt })`.
//!
//! The token is an HS256 JWT signed with the Messenger's API secret (Settings ›
//! Messenger › Security). Intercom refuses one without `user_id`; `email` and other user
//! fields may be signed beside it; an `exp` is recommended. The name of the boot setting
//! follows Intercom's sample code and is partly assumed.

use super::builder::{Widget, WidgetFormat};
use crate::portal::{Claim, TimeRules, TimeUnit, WidgetPreset, WidgetSetting};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Intercom's entry in the widget registry.
pub(crate) static PRESET: WidgetPreset = WidgetPreset {
    kind: "intercom",
    vendor: "Intercom Messenger",
    format: WidgetFormat::Jwt(JwtAlgorithm::HS256),
    build: Widget::intercom,
    settings: &[WidgetSetting::TokenTtlSecs],
    page_call: "Intercom('boot', { app_id, intercom_user_jwt: token })",
    time_rules: TimeRules::UNDOCUMENTED,
};

impl Widget {
    /// Intercom Messenger security: `{"user_id", "email", "exp"}` (HS256 with the
    /// Messenger's API secret), `user_id` being the identity's `id` as a string
    /// (required: Intercom refuses a token without it). `exp` is one hour after signing
    /// unless [`with_token_ttl_secs`](Widget::with_token_ttl_secs) says otherwise;
    /// Intercom advises matching the app's session. Route: `/sso/widget/intercom`.
    ///
    /// Assumed from Intercom's samples: the boot setting's name, `intercom_user_jwt`.
    pub fn intercom(secret: Secret) -> Self {
        Self::of(&PRESET, secret)
            .with_claim("user_id", Claim::identity("id").as_string())
            .with_claim("email", Claim::identity("email"))
            .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
            .with_token_ttl_secs(3600)
    }
}
