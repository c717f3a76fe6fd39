//! Intercom's older identity verification: the page boots the Messenger with
//! `Intercom('boot', { app_id, user_id, user_hash })`.
//!
//! `user_hash` is the hex HMAC-SHA256 of the `user_id` with the Messenger's secret. It
//! never expires. That it is the `user_id` (rather than the email, for users without
//! one) that is signed follows Intercom's sample code and is partly assumed.

use super::builder::{Widget, WidgetFormat};
use crate::portal::{TimeRules, WidgetPreset};
use crate::secret::Secret;

/// Intercom identity verification's entry in the widget registry.
pub(crate) static PRESET: WidgetPreset = WidgetPreset {
    kind: "intercom-hmac",
    vendor: "Intercom identity verification",
    format: WidgetFormat::HmacSha256,
    build: Widget::intercom_hmac,
    settings: &[],
    page_call: "Intercom('boot', { app_id, user_id, user_hash: signature })",
    time_rules: TimeRules::UNDOCUMENTED,
};

impl Widget {
    /// Intercom's `user_hash`: the lower-case hex HMAC-SHA256 of the identity's `id` (as
    /// a string) with the Messenger's secret, answered as `{"signature", "user_id"}`.
    /// It never expires; Intercom's JWT [Messenger security](Widget::intercom) replaces
    /// it. Route: `/sso/widget/intercom-hmac`.
    ///
    /// Assumed from Intercom's samples: that the `user_id` is what is signed.
    pub fn intercom_hmac(secret: Secret) -> Self {
        Self::of(&PRESET, secret).signing("id", "user_id")
    }
}
