//! The preset registry: every vendor the layer knows, one entry per vendor file, in two
//! lists: the portals ([`Preset`], each building a [`JwtPortal`]) and the in-app widgets
//! ([`WidgetPreset`], each building a [`Widget`]). Config files, operator tools and
//! checkers find a vendor here by its kind name and read what they need of it from the
//! entry and from what it builds. A kind names one thing: no widget shares a portal's.
//!
//! The widgets have a list of their own, with the same API, rather than a variant of
//! [`Preset`]: a widget has no target, parameters or logout, every reader of [`Preset`]
//! (the `[[portal]]` config, the token tools) would otherwise have to turn away kinds it
//! cannot use, and `[[widget]]` reads its own list.

use std::fmt;

use super::JwtPortal;
use crate::secret::Secret;
use crate::token::JwtAlgorithm;
use crate::widget::{Widget, WidgetFormat};

/// Every preset, one line per vendor file.
static PRESETS: &[&Preset] = &[
    &super::kustomer::PRESET,
    &super::aha::PRESET,
    &super::zendesk::PRESET,
    &super::gitbook::PRESET,
    &super::canny::PRESET,
    &super::helpscout::PRESET,
    &super::frill::PRESET,
    &super::readme::PRESET,
    &super::mintlify::PRESET,
    &super::helpjuice::PRESET,
    &super::helpdocs::PRESET,
    &super::freshworks::PRESET,
];

/// Every widget preset, one line per vendor file.
static WIDGETS: &[&WidgetPreset] = &[
    &crate::widget::kustomer_chat::PRESET,
    &crate::widget::zendesk_messaging::PRESET,
    &crate::widget::intercom::PRESET,
    &crate::widget::canny_widget::PRESET,
    &crate::widget::helpscout_beacon::PRESET,
    &crate::widget::front_chat::PRESET,
    &crate::widget::intercom_hmac::PRESET,
    &crate::widget::crisp::PRESET,
];

/// One vendor's preset: how its portal is built, the settings an operator gives it, and
/// the vendor's rules a checker applies beyond the token's shape.
///
/// ```
/// use portal_sso::{Preset, Secret};
///
/// let zendesk = Preset::named("zendesk").expect("a preset");
/// let portal = zendesk
///     .portal(Secret::new("the-zendesk-jwt-shared-secret-0123"))
///     .with_callback_url("https://acme.zendesk.com/access/jwt");
/// assert_eq!(portal.kind(), "zendesk");
/// assert_eq!(portal.token_param(), "jwt");
/// assert_eq!(zendesk.time_rules().max_age_secs, Some(180));
/// assert!(Preset::all().any(|preset| preset.kind() == "kustomer"));
/// ```
pub struct Preset {
    pub(super) kind: &'static str,
    pub(super) vendor: &'static str,
    pub(super) algorithm: JwtAlgorithm,
    pub(super) build: fn(Secret) -> JwtPortal,
    pub(super) settings: &'static [Setting],
    pub(super) example_callback: Option<&'static str>,
    pub(super) example_origin: Option<&'static str>,
    pub(super) time_rules: TimeRules,
    pub(super) tenant_domains: &'static [&'static str],
}

impl Preset {
    /// Every preset, in the order the README lists them.
    pub fn all() -> impl Iterator<Item = &'static Preset> {
        PRESETS.iter().copied()
    }

    /// The preset of kind `kind` (`zendesk`, `kustomer`...), if there is one.
    pub fn named(kind: &str) -> Option<&'static Preset> {
        Self::all().find(|preset| preset.kind == kind)
    }

    /// The kind, as config files and tools name it: `zendesk`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The vendor's product as its documents name it: `Zendesk`.
    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    /// The algorithm the vendor takes: the key is a shared secret for HS*, a PEM private
    /// key otherwise.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// The preset's portal signing with `key` (the shared secret, or a PEM private key
    /// for RS256, ES256 and `EdDSA`), everything the vendor fixes filled in; the operator's
    /// [settings](Preset::settings) are added with the `with_*` setters they are named
    /// after.
    pub fn portal(&self, key: Secret) -> JwtPortal {
        (self.build)(key)
    }

    /// The settings an operator gives this preset besides its name, path and key, each
    /// named as its [`JwtPortal`] setter is (`callback_url` for `with_callback_url`).
    pub fn settings(&self) -> &'static [Setting] {
        self.settings
    }

    /// An example of the `callback_url` the vendor documents, for a preset that needs one.
    pub fn example_callback(&self) -> Option<&'static str> {
        self.example_callback
    }

    /// An example of the origin `redirect_origins` must name, for a preset whose every
    /// sign-in carries an address checked against them.
    pub fn example_origin(&self) -> Option<&'static str> {
        self.example_origin
    }

    /// How the vendor reads a token's `iat`: for how long after it, and how far ahead of
    /// its clock, it accepts the token.
    pub fn time_rules(&self) -> TimeRules {
        self.time_rules
    }

    /// The vendor's shared domains (`zendesk.com`): every tenant of the vendor has a
    /// host under them, so a redirect origin written as a wildcard over one lets any of
    /// them receive tokens.
    pub fn tenant_domains(&self) -> &'static [&'static str] {
        self.tenant_domains
    }
}

impl fmt::Debug for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preset")
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Preset {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Preset {}

/// How a vendor reads a token's `iat`, for checkers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeRules {
    /// How long after `iat` the token is accepted, where the vendor says (Kustomer 15
    /// minutes, Zendesk and Helpjuice 3).
    pub max_age_secs: Option<u64>,
    /// How far ahead of the vendor's clock `iat` may be.
    pub max_ahead_secs: u64,
}

impl TimeRules {
    /// No age limit, and one minute of clock difference: what a vendor that documents
    /// nothing is assumed to take.
    pub const UNDOCUMENTED: Self = Self {
        max_age_secs: None,
        max_ahead_secs: 60,
    };

    /// At most `secs` old, and one minute of clock difference.
    pub(crate) const fn max_age(secs: u64) -> Self {
        Self {
            max_age_secs: Some(secs),
            max_ahead_secs: 60,
        }
    }
}

/// A setting an operator may give a preset, named as its [`JwtPortal`] setter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// [`JwtPortal::with_callback_url`]: required where the preset has no fixed one.
    CallbackUrl,
    /// [`JwtPortal::with_redirect_origins`].
    RedirectOrigins,
    /// [`JwtPortal::with_default_redirect`].
    DefaultRedirect,
    /// [`JwtPortal::with_token_in`].
    TokenIn,
    /// [`JwtPortal::with_form_action_origins`].
    FormActionOrigins,
    /// [`JwtPortal::with_token_ttl_secs`].
    TokenTtlSecs,
    /// [`JwtPortal::with_audience`].
    Audience,
    /// [`JwtPortal::with_pinned_param`].
    PinnedParams,
    /// [`JwtPortal::with_logout_path`].
    LogoutPath,
    /// [`JwtPortal::with_logout_redirect`].
    LogoutRedirect,
    /// [`JwtPortal::with_portal_logout_url`].
    PortalLogoutUrl,
}

impl Setting {
    /// The setting's name: its setter's without `with_`, as a config file writes it.
    pub const fn name(self) -> &'static str {
        match self {
            Setting::CallbackUrl => "callback_url",
            Setting::RedirectOrigins => "redirect_origins",
            Setting::DefaultRedirect => "default_redirect",
            Setting::TokenIn => "token_in",
            Setting::FormActionOrigins => "form_action_origins",
            Setting::TokenTtlSecs => "token_ttl_secs",
            Setting::Audience => "audience",
            Setting::PinnedParams => "pinned_params",
            Setting::LogoutPath => "logout_path",
            Setting::LogoutRedirect => "logout_redirect",
            Setting::PortalLogoutUrl => "portal_logout_url",
        }
    }
}

/// The settings of a portal with a remote logout route.
pub(super) const LOGOUT: [Setting; 3] = [
    Setting::LogoutPath,
    Setting::LogoutRedirect,
    Setting::PortalLogoutUrl,
];

/// One in-app widget's preset: how its widget is built, the settings an operator gives
/// it, the call the page makes with the value, and the vendor's time rules.
///
/// ```
/// use portal_sso::{Secret, WidgetFormat, WidgetPreset};
///
/// let messaging = WidgetPreset::named("zendesk-messaging").expect("a widget preset");
/// let widget = messaging
///     .widget(Secret::new("the-zendesk-messaging-key-secret-0123"))
///     .with_key_id("app_64b9f1e5c9a2d70021e4a3b8");
/// assert_eq!(widget.kind(), "zendesk-messaging");
/// assert_eq!(widget.path(), "/sso/widget/zendesk-messaging");
/// assert!(matches!(messaging.format(), WidgetFormat::Jwt(_)));
/// assert!(WidgetPreset::all().any(|preset| preset.kind() == "helpscout-beacon"));
/// ```
pub struct WidgetPreset {
    pub(crate) kind: &'static str,
    pub(crate) vendor: &'static str,
    pub(crate) format: WidgetFormat,
    pub(crate) build: fn(Secret) -> Widget,
    pub(crate) settings: &'static [WidgetSetting],
    pub(crate) page_call: &'static str,
    pub(crate) time_rules: TimeRules,
}

impl WidgetPreset {
    /// Every widget preset, in the order the README lists them.
    pub fn all() -> impl Iterator<Item = &'static WidgetPreset> {
        WIDGETS.iter().copied()
    }

    /// The widget preset of kind `kind` (`kustomer-chat`, `crisp`...), if there is one.
    pub fn named(kind: &str) -> Option<&'static WidgetPreset> {
        Self::all().find(|preset| preset.kind == kind)
    }

    /// The kind, as config files and tools name it: `kustomer-chat`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The vendor's product as its documents name it: `Kustomer Chat`.
    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    /// What the widget is given: a JWT under an algorithm, or an HMAC of one identity
    /// field.
    pub fn format(&self) -> WidgetFormat {
        self.format
    }

    /// The preset's widget signing with `key`, everything the vendor fixes filled in; the
    /// operator's [settings](WidgetPreset::settings) are added with the `with_*` setters
    /// they are named after.
    pub fn widget(&self, key: Secret) -> Widget {
        (self.build)(key)
    }

    /// The settings an operator gives this preset besides its name, path and key.
    pub fn settings(&self) -> &'static [WidgetSetting] {
        self.settings
    }

    /// The vendor's JavaScript call that takes the value, as its documents write it:
    /// `Kustomer.login({ jwtToken })`.
    pub fn page_call(&self) -> &'static str {
        self.page_call
    }

    /// How the vendor reads a token's `iat`, for JWT widgets.
    pub fn time_rules(&self) -> TimeRules {
        self.time_rules
    }
}

impl fmt::Debug for WidgetPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WidgetPreset")
            .field("kind", &self.kind)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl PartialEq for WidgetPreset {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for WidgetPreset {}

/// A setting an operator may give a widget preset, named as its [`Widget`] setter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WidgetSetting {
    /// [`Widget::with_key_id`]: required where the vendor names its keys (Zendesk).
    KeyId,
    /// [`Widget::with_token_ttl_secs`].
    TokenTtlSecs,
}

impl WidgetSetting {
    /// The setting's name: its setter's without `with_`, as a config file writes it.
    pub const fn name(self) -> &'static str {
        match self {
            WidgetSetting::KeyId => "key_id",
            WidgetSetting::TokenTtlSecs => "token_ttl_secs",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_builds_its_own_kind_and_kinds_are_unique() {
        for preset in Preset::all() {
            let portal = preset.portal(Secret::new("k".repeat(32)));
            assert_eq!(portal.kind(), preset.kind());
            assert_eq!(Preset::named(preset.kind()), Some(preset));
            assert_eq!(portal.path(), format!("/sso/{}", preset.kind()));
            let needs_callback = portal.callback_url().is_none() && portal.target_param().is_none();
            assert_eq!(
                needs_callback,
                preset.settings().contains(&Setting::CallbackUrl),
                "{}",
                preset.kind()
            );
        }
        assert_eq!(Preset::named("jwt"), None);
    }

    #[test]
    fn every_widget_preset_builds_its_own_kind_and_no_kind_is_taken_twice() {
        for preset in WidgetPreset::all() {
            let widget = preset.widget(Secret::new("k".repeat(32)));
            assert_eq!(widget.kind(), preset.kind());
            assert_eq!(widget.format(), preset.format());
            assert_eq!(WidgetPreset::named(preset.kind()), Some(preset));
            assert_eq!(widget.path(), format!("/sso/widget/{}", preset.kind()));
            assert!(!preset.page_call().is_empty());
        }
        let mut kinds: Vec<&str> = Preset::all()
            .map(Preset::kind)
            .chain(WidgetPreset::all().map(WidgetPreset::kind))
            .chain([super::super::CUSTOM_KIND, crate::widget::HMAC_KIND])
            .collect();
        let count = kinds.len();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), count, "a kind names one portal or widget");
    }
}
