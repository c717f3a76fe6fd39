//! Crisp's identity verification (paid plans): the page sets the user's email with
//! `$crisp.push(["set", "user:email", [email, signature]])`.
//!
//! The signature is an HMAC of the email with the website's verification secret. It never
//! expires. Assumed, not confirmed by Crisp's documents: that the HMAC is HMAC-SHA256 and
//! that the signature is its lower-case hex.

use super::builder::{Widget, WidgetFormat};
use crate::portal::{TimeRules, WidgetPreset};
use crate::secret::Secret;

/// Crisp's entry in the widget registry.
pub(crate) static PRESET: WidgetPreset = WidgetPreset {
    kind: "crisp",
    vendor: "Crisp",
    format: WidgetFormat::HmacSha256,
    build: Widget::crisp,
    settings: &[],
    page_call: "$crisp.push([\"set\", \"user:email\", [email, signature]])",
    time_rules: TimeRules::UNDOCUMENTED,
};

impl Widget {
    /// Crisp: the lower-case hex HMAC-SHA256 of the email with the verification secret,
    /// answered as `{"signature", "email"}`. It never expires. Route:
    /// `/sso/widget/crisp`.
    ///
    /// Assumed (not confirmed by Crisp's documents): HMAC-SHA256, and lower-case hex.
    pub fn crisp(secret: Secret) -> Self {
        Self::of(&PRESET, secret).signing("email", "email")
    }
}
