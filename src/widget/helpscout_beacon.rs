//! Help Scout Beacon in secure mode: the page identifies the user with
//! `Beacon('identify', { name, email, signature })`.
//!
//! The signature is the hex HMAC-SHA256 of the email with the Beacon's secret key
//! (Beacon settings › Contact › cross-device history). It never expires: Help Scout
//! checks it against the email, not against a time.

use super::builder::{Widget, WidgetFormat};
use crate::portal::{TimeRules, WidgetPreset};
use crate::secret::Secret;

/// Help Scout Beacon's entry in the widget registry.
pub(crate) static PRESET: WidgetPreset = WidgetPreset {
    kind: "helpscout-beacon",
    vendor: "Help Scout Beacon",
    format: WidgetFormat::HmacSha256,
    build: Widget::helpscout_beacon,
    settings: &[],
    page_call: "Beacon('identify', { email, signature })",
    time_rules: TimeRules::UNDOCUMENTED,
};

impl Widget {
    /// Help Scout Beacon secure mode: the lower-case hex HMAC-SHA256 of the email with
    /// the Beacon's secret key, answered as `{"signature", "email"}`; the page passes
    /// both to `Beacon('identify', …)`. The signature never expires. Route:
    /// `/sso/widget/helpscout-beacon`.
    pub fn helpscout_beacon(secret: Secret) -> Self {
        Self::of(&PRESET, secret).signing("email", "email")
    }
}
