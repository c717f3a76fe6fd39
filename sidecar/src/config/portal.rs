//! The `[[portal]]` entries: one shape for every kind. `kind` names a preset of the core's
//! registry ([`Preset`]) or `jwt`; a preset takes its name, path and key plus the settings
//! it lists, `jwt` the keys that describe a portal field by field (`custom`). A key that
//! the kind does not take is refused by name. Values are checked once, by the core, when
//! the layer is built; its errors are named by the file's keys.

mod custom;

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::str::FromStr;

use serde::Deserialize;

use portal_sso::{CUSTOM_KIND, ClaimPointers, JwtPortal, Preset, TokenIn};

use super::ConfigFileError;
use super::entry::{self, Keys};
use super::secret_ref::SecretRef;
pub(super) use custom::ClaimFile;
use custom::PassParamFile;

/// One `[[portal]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PortalFile {
    kind: Option<String>,
    name: Option<String>,
    path: Option<String>,
    /// The shared secret of HS256/384/512.
    secret: Option<SecretRef>,
    /// The PEM private key of RS256, ES256 and `EdDSA`.
    private_key: Option<SecretRef>,
    callback_url: Option<String>,
    redirect_origins: Option<Vec<String>>,
    default_redirect: Option<String>,
    token_in: Option<String>,
    form_action_origins: Option<Vec<String>>,
    token_ttl_secs: Option<NonZeroU64>,
    audience: Option<String>,
    pinned_params: Option<BTreeMap<String, String>>,
    /// The remote logout route; an empty string turns it off.
    logout_path: Option<String>,
    logout_redirect: Option<String>,
    portal_logout_url: Option<String>,
    // `kind = "jwt"` only.
    algorithm: Option<String>,
    target_param: Option<String>,
    path_param: Option<String>,
    token_param: Option<String>,
    pass_params: Option<Vec<PassParamFile>>,
    claims: Option<BTreeMap<String, ClaimFile>>,
}

/// The keys `kind = "jwt"` takes besides name, path and key.
const CUSTOM_KEYS: &[&str] = &[
    "algorithm",
    "callback_url",
    "target_param",
    "path_param",
    "redirect_origins",
    "default_redirect",
    "token_param",
    "token_in",
    "form_action_origins",
    "pass_params",
    "pinned_params",
    "token_ttl_secs",
    "audience",
    "logout_path",
    "logout_redirect",
    "portal_logout_url",
    "claims",
];

/// A checked `[[portal]]`: the layer's portal, and where its key is read from.
#[derive(Clone)]
pub(super) struct PortalSettings {
    pub(super) portal: JwtPortal,
    /// Where its secret or private key is read from.
    pub(super) key_from: SecretRef,
}

impl PortalFile {
    /// Checks the entry's shape: a known `kind`, and only the keys it takes. Every entry's
    /// shape is checked before any secret is read.
    pub(super) fn check_shape(
        &self,
        index: usize,
    ) -> Result<Option<&'static Preset>, ConfigFileError> {
        let key = |name: &str| format!("portal[{index}].{name}");
        let Some(kind) = self.kind.as_deref() else {
            return Err(ConfigFileError::new(key("kind"), "is required"));
        };
        if kind == CUSTOM_KIND {
            let keys = ["secret", "private_key"].into_iter();
            entry::only_keys(self.given(), keys.chain(CUSTOM_KEYS.iter().copied()), &key)?;
            return Ok(None);
        }
        let Some(preset) = Preset::named(kind) else {
            let known: Vec<String> = Preset::all()
                .map(Preset::kind)
                .chain([CUSTOM_KIND])
                .map(|kind| format!("`{kind}`"))
                .collect();
            return Err(ConfigFileError::new(
                key("kind"),
                format!(
                    "unknown variant `{kind}`, expected one of {}",
                    known.join(", ")
                ),
            ));
        };
        let settings = preset.settings().iter().map(|setting| setting.name());
        entry::only_keys(
            self.given(),
            [key_name(preset)].into_iter().chain(settings),
            &key,
        )?;
        Ok(Some(preset))
    }

    /// Reads the entry's key and builds its portal, naming keys as `portal[index].…`.
    pub(super) fn check(&self, index: usize) -> Result<PortalSettings, ConfigFileError> {
        let key = |name: &str| format!("portal[{index}].{name}");
        let (mut portal, key_from) = match self.check_shape(index)? {
            Some(preset) => {
                let (from, secret) = self.keys().read(preset.algorithm().uses_secret(), &key)?;
                (preset.portal(secret), from)
            }
            None => custom::portal(self, &key)?,
        };
        portal = self.apply(portal, &key)?;
        Ok(PortalSettings {
            portal,
            key_from: key_from.clone(),
        })
    }

    /// The entry's key references.
    fn keys(&self) -> Keys<'_> {
        Keys {
            secret: self.secret.as_ref(),
            private_key: self.private_key.as_ref(),
        }
    }

    /// The names of the keys the entry gives.
    fn given(&self) -> impl Iterator<Item = &'static str> {
        [
            ("secret", self.secret.is_some()),
            ("private_key", self.private_key.is_some()),
            ("callback_url", self.callback_url.is_some()),
            ("redirect_origins", self.redirect_origins.is_some()),
            ("default_redirect", self.default_redirect.is_some()),
            ("token_in", self.token_in.is_some()),
            ("form_action_origins", self.form_action_origins.is_some()),
            ("token_ttl_secs", self.token_ttl_secs.is_some()),
            ("audience", self.audience.is_some()),
            ("pinned_params", self.pinned_params.is_some()),
            ("logout_path", self.logout_path.is_some()),
            ("logout_redirect", self.logout_redirect.is_some()),
            ("portal_logout_url", self.portal_logout_url.is_some()),
            ("algorithm", self.algorithm.is_some()),
            ("target_param", self.target_param.is_some()),
            ("path_param", self.path_param.is_some()),
            ("token_param", self.token_param.is_some()),
            ("pass_params", self.pass_params.is_some()),
            ("claims", self.claims.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
    }

    /// The settings every kind reads the same way, each through its setter.
    fn apply(
        &self,
        mut portal: JwtPortal,
        key: &impl Fn(&str) -> String,
    ) -> Result<JwtPortal, ConfigFileError> {
        if let Some(name) = &self.name {
            portal = portal.with_name(name);
        }
        if let Some(path) = &self.path {
            portal = portal.with_path(path);
        }
        if let Some(url) = &self.callback_url {
            portal = portal.with_callback_url(url);
        }
        if let Some(origins) = &self.redirect_origins {
            portal = portal.with_redirect_origins(origins.iter().cloned());
        }
        if let Some(default) = &self.default_redirect {
            portal = portal.with_default_redirect(default);
        }
        if let Some(way) = &self.token_in {
            let way = TokenIn::from_str(way)
                .map_err(|problem| ConfigFileError::new(key("token_in"), problem))?;
            portal = portal.with_token_in(way);
        }
        if let Some(origins) = &self.form_action_origins {
            portal = portal.with_form_action_origins(origins.iter().cloned());
        }
        if let Some(secs) = self.token_ttl_secs {
            portal = portal.with_token_ttl_secs(secs.get());
        }
        if let Some(audience) = &self.audience {
            portal = portal.with_audience(audience);
        }
        for (name, value) in self.pinned_params.iter().flatten() {
            portal = portal.with_pinned_param(name, value);
        }
        if let Some(path) = &self.logout_path {
            portal = portal.with_logout_path((!path.is_empty()).then_some(path));
        }
        if let Some(redirect) = &self.logout_redirect {
            portal = portal.with_logout_redirect(redirect);
        }
        if let Some(url) = &self.portal_logout_url {
            portal = portal.with_portal_logout_url(url);
        }
        Ok(portal)
    }
}

/// `secret` or `private_key`, as `preset` signs.
fn key_name(preset: &Preset) -> &'static str {
    if preset.algorithm().uses_secret() {
        "secret"
    } else {
        "private_key"
    }
}

impl PortalSettings {
    /// The first identity field the portal needs that `claims` cannot supply, as the
    /// error naming the portal (`portal[index]`) and the field.
    pub(super) fn check_fields(
        &self,
        index: usize,
        claims: &ClaimPointers,
    ) -> Result<(), ConfigFileError> {
        match self
            .portal
            .required_fields()
            .into_iter()
            .find(|field| !claims.supplies(field))
        {
            Some(field) => Err(ConfigFileError::new(
                format!("portal[{index}]"),
                format!(
                    "kind \"{}\" needs the identity field `{field}`: map it in [session.claims]",
                    self.portal.kind()
                ),
            )),
            None => Ok(()),
        }
    }

    /// `secret` or `private_key`, as the file names the portal's key.
    pub(super) fn key_name(&self) -> &'static str {
        if self.portal.algorithm().uses_secret() {
            "secret"
        } else {
            "private_key"
        }
    }
}

#[cfg(test)]
mod tests;
