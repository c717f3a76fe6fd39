//! Zendesk messaging (the Web Widget): the widget asks the page for a token with
//! `zE('messenger', 'loginUser', callback)` and asks again when it needs a fresh one.
//!
//! The token is a JWT whose header names the signing key: `kid` is the key's ID
//! (`app_…`) from Admin Center › Account › Security › End-user authentication ›
//! Messaging. The claims are `scope: "user"`, `external_id` (the primary identity),
//! `email`, `email_verified`, `name` and `exp`. The `kid` is documented; HS256 and the
//! claim list beyond `external_id` follow Zendesk's example and are partly assumed.

use super::builder::{Widget, WidgetFormat};
use crate::portal::{Claim, TimeRules, TimeUnit, WidgetPreset, WidgetSetting};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Zendesk messaging's entry in the widget registry.
pub(crate) static PRESET: WidgetPreset = WidgetPreset {
    kind: "zendesk-messaging",
    vendor: "Zendesk messaging",
    format: WidgetFormat::Jwt(JwtAlgorithm::HS256),
    build: widget,
    settings: &[WidgetSetting::KeyId, WidgetSetting::TokenTtlSecs],
    page_call: "zE('messenger', 'loginUser', (callback) => callback(token))",
    time_rules: TimeRules::UNDOCUMENTED,
};

/// Zendesk messaging's widget with `secret`, its key ID still to give.
fn widget(secret: Secret) -> Widget {
    Widget::of(&PRESET, secret)
        .with_claim("scope", Claim::value("user"))
        .with_claim("external_id", Claim::identity("id").as_string())
        .with_claim("email", Claim::identity("email"))
        .with_claim("email_verified", Claim::identity_if_known("email_verified"))
        .with_claim("name", Claim::identity_if_known("name"))
        .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
}

impl Widget {
    /// Zendesk messaging: `{"scope": "user", "external_id", "email", "email_verified",
    /// "name", "exp"}` (HS256 with the messaging key's secret), the header's `kid` being
    /// `key_id`, the key's ID (`app_…`). `external_id` is the identity's `id` as a
    /// string (required: Zendesk matches users on it); `email_verified` is the
    /// identity's field of that name when the app supplies it (map it, e.g. from an
    /// identity provider's `email_verified`), never assumed: a verified email lets Zendesk
    /// join the conversation to the existing user who owns that address. `name` is the
    /// names joined unless mapped, left out when unknown. `exp` is 600 seconds after
    /// signing unless [`with_token_ttl_secs`](Widget::with_token_ttl_secs) says otherwise
    /// (Zendesk advises short-lived tokens). Route: `/sso/widget/zendesk-messaging`.
    ///
    /// Assumed from Zendesk's example rather than its reference: HS256, and the claim
    /// names beyond `external_id` and `kid`.
    ///
    /// ```
    /// use portal_sso::{Identity, Secret, Widget, WidgetSigner, WidgetValue};
    ///
    /// let messaging = Widget::zendesk_messaging(
    ///     Secret::new("the-zendesk-messaging-key-secret-0123"),
    ///     "app_64b9f1e5c9a2d70021e4a3b8",
    /// );
    /// let alice = Identity::new("alice@example.com")?.with_field("id", 42);
    /// let WidgetValue::Token { token, .. } = WidgetSigner::new(&messaging)?.sign(&alice)? else { unreachable!() };
    /// let header = jsonwebtoken::decode_header(&token)?;
    /// assert_eq!(header.kid.as_deref(), Some("app_64b9f1e5c9a2d70021e4a3b8"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn zendesk_messaging(secret: Secret, key_id: impl Into<String>) -> Self {
        widget(secret).with_key_id(key_id)
    }
}
