//! Canny's feedback widget: the page renders it with
//! `Canny('render', { boardToken, basePath, ssoToken })`.
//!
//! The token is an HS256 JWT of `email`, `id` and `name`, with `avatarURL` when known,
//! signed with the private SSO key; Canny honours an `exp`. The render option's name
//! follows Canny's sample code and is partly assumed.

use super::builder::{Widget, WidgetFormat};
use crate::portal::{Claim, TimeRules, TimeUnit, WidgetPreset, WidgetSetting};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Canny's widget entry in the widget registry.
pub(crate) static PRESET: WidgetPreset = WidgetPreset {
    kind: "canny-widget",
    vendor: "Canny widget",
    format: WidgetFormat::Jwt(JwtAlgorithm::HS256),
    build: Widget::canny,
    settings: &[WidgetSetting::TokenTtlSecs],
    page_call: "Canny('render', { boardToken, basePath, ssoToken: token })",
    time_rules: TimeRules::UNDOCUMENTED,
};

impl Widget {
    /// Canny's widget: `{"email", "id", "name", "avatarURL", "exp"}` (HS256 with the
    /// private SSO key), `id` being the identity's `id` as a string, `name` the names
    /// joined unless mapped, `avatarURL` the identity's `avatar_url` when known. `exp` is
    /// one hour after signing unless [`with_token_ttl_secs`](Widget::with_token_ttl_secs)
    /// says otherwise. Route: `/sso/widget/canny-widget`.
    ///
    /// Assumed from Canny's samples: the render option's name, `ssoToken`.
    pub fn canny(secret: Secret) -> Self {
        Self::of(&PRESET, secret)
            .with_claim("email", Claim::identity("email"))
            .with_claim("id", Claim::identity("id").as_string())
            .with_claim("name", Claim::identity("name"))
            .with_claim("avatarURL", Claim::identity_if_known("avatar_url"))
            .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
            .with_token_ttl_secs(3600)
    }
}
