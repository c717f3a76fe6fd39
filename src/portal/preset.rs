//! The preset registry: every vendor the layer knows, one entry per vendor file. Config
//! files, operator tools and checkers find a vendor here by its kind name and read what
//! they need of it from the entry and from the [`JwtPortal`] it builds.

use std::fmt;

use super::JwtPortal;
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

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
    pub(super) const fn max_age(secs: u64) -> Self {
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
}
