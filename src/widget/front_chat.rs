//! Front Chat with identity verification: the page starts the chat with
//! `FrontChat('init', { chatId, email, userHash, name })`.
//!
//! `userHash` is the hex HMAC-SHA256 of the email with the chat's identity secret. It
//! never expires. The init option's name follows Front's sample code and is partly
//! assumed; the HMAC is documented.

use super::builder::{Widget, WidgetFormat};
use crate::portal::{TimeRules, WidgetPreset};
use crate::secret::Secret;

/// Front Chat's entry in the widget registry.
pub(crate) static PRESET: WidgetPreset = WidgetPreset {
    kind: "front-chat",
    vendor: "Front Chat",
    format: WidgetFormat::HmacSha256,
    build: Widget::front_chat,
    settings: &[],
    page_call: "FrontChat('init', { chatId, email, userHash: signature })",
    time_rules: TimeRules::UNDOCUMENTED,
};

impl Widget {
    /// Front Chat: the lower-case hex HMAC-SHA256 of the email with the chat's identity
    /// secret, answered as `{"signature", "email"}`; the page passes the signature as
    /// `userHash`. It never expires. Route: `/sso/widget/front-chat`.
    ///
    /// Assumed from Front's samples: the init option's name, `userHash`.
    pub fn front_chat(secret: Secret) -> Self {
        Self::of(&PRESET, secret).signing("email", "email")
    }
}
