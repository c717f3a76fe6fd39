//! The `[[widget]]` entries: one shape for every kind. `kind` names a widget preset of the
//! core's registry ([`WidgetPreset`]), `jwt` (claims described in `[widget.claims]`, as
//! `kind = "jwt"` portals have them) or `hmac` (one identity field signed). A preset takes
//! its name, path and key plus the settings it lists; a key the kind does not take is
//! refused by name. Values are checked once, by the core, when the layer is built.

use std::collections::BTreeMap;
use std::num::NonZeroU64;

use serde::Deserialize;

use portal_sso::{
    CUSTOM_KIND, ClaimPointers, HMAC_KIND, Preset, Widget, WidgetFormat, WidgetPreset,
};

use super::ConfigFileError;
use super::entry::{self, Keys};
use super::portal::ClaimFile;
use super::secret_ref::SecretRef;

/// One `[[widget]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WidgetFile {
    kind: Option<String>,
    name: Option<String>,
    path: Option<String>,
    /// The shared secret of HMAC and HS256/384/512.
    secret: Option<SecretRef>,
    /// The PEM private key of RS256, ES256 and `EdDSA`.
    private_key: Option<SecretRef>,
    key_id: Option<String>,
    token_ttl_secs: Option<NonZeroU64>,
    // `kind = "jwt"` only.
    algorithm: Option<String>,
    claims: Option<BTreeMap<String, ClaimFile>>,
    // `kind = "hmac"` only.
    field: Option<String>,
}

/// A checked `[[widget]]`: the layer's widget, and where its key is read from.
#[derive(Clone)]
pub(super) struct WidgetSettings {
    pub(super) widget: Widget,
    pub(super) key_from: SecretRef,
}

impl WidgetFile {
    /// Checks the entry's shape: a known `kind`, and only the keys it takes. Every entry's
    /// shape is checked before any secret is read.
    pub(super) fn check_shape(&self, index: usize) -> Result<(), ConfigFileError> {
        let key = |name: &str| format!("widget[{index}].{name}");
        let Some(kind) = self.kind.as_deref() else {
            return Err(ConfigFileError::new(key("kind"), "is required"));
        };
        let allowed: Vec<&str> = match kind {
            CUSTOM_KIND => vec![
                "secret",
                "private_key",
                "algorithm",
                "claims",
                "key_id",
                "token_ttl_secs",
            ],
            HMAC_KIND => vec!["secret", "field"],
            _ => {
                let preset =
                    preset(kind).map_err(|problem| ConfigFileError::new(key("kind"), problem))?;
                let key_name = match preset.format() {
                    WidgetFormat::Jwt(alg) if !alg.uses_secret() => "private_key",
                    _ => "secret",
                };
                std::iter::once(key_name)
                    .chain(preset.settings().iter().map(|setting| setting.name()))
                    .collect()
            }
        };
        entry::only_keys(self.given(), allowed.into_iter(), &key)?;
        Ok(())
    }

    /// Reads the entry's key and builds its widget, naming keys as `widget[index].…`.
    pub(super) fn check(&self, index: usize) -> Result<WidgetSettings, ConfigFileError> {
        self.check_shape(index)?;
        let key = |name: &str| format!("widget[{index}].{name}");
        let kind = self.kind.as_deref().unwrap_or_default();
        let (mut widget, key_from) = match kind {
            CUSTOM_KIND => self.custom_jwt(&key)?,
            HMAC_KIND => {
                let Some(field) = &self.field else {
                    return Err(ConfigFileError::new(
                        key("field"),
                        "is required for kind = \"hmac\": the identity field to sign, e.g. \"email\"",
                    ));
                };
                let (from, secret) = self.keys().read(true, &key)?;
                (Widget::hmac(secret, field), from)
            }
            _ => {
                let preset =
                    preset(kind).map_err(|problem| ConfigFileError::new(key("kind"), problem))?;
                let uses_secret =
                    !matches!(preset.format(), WidgetFormat::Jwt(alg) if !alg.uses_secret());
                let (from, secret) = self.keys().read(uses_secret, &key)?;
                (preset.widget(secret), from)
            }
        };
        if let Some(name) = &self.name {
            widget = widget.with_name(name);
        }
        if let Some(path) = &self.path {
            widget = widget.with_path(path);
        }
        if let Some(key_id) = &self.key_id {
            widget = widget.with_key_id(key_id);
        }
        if let Some(secs) = self.token_ttl_secs {
            widget = widget.with_token_ttl_secs(secs.get());
        }
        Ok(WidgetSettings {
            widget,
            key_from: key_from.clone(),
        })
    }

    /// `kind = "jwt"`: the algorithm, the key that fits it, and `[widget.claims]`.
    fn custom_jwt(
        &self,
        key: &impl Fn(&str) -> String,
    ) -> Result<(Widget, &SecretRef), ConfigFileError> {
        let (algorithm, from, secret) =
            self.keys().for_algorithm(self.algorithm.as_deref(), key)?;
        let mut widget = Widget::jwt(algorithm, secret);
        for (name, claim) in self.claims.iter().flatten() {
            let claim = claim.check(&key(&format!("claims.{name}")))?;
            widget = widget.with_claim(name, claim);
        }
        Ok((widget, from))
    }

    /// The names of the keys the entry gives.
    fn given(&self) -> impl Iterator<Item = &'static str> {
        [
            ("secret", self.secret.is_some()),
            ("private_key", self.private_key.is_some()),
            ("key_id", self.key_id.is_some()),
            ("token_ttl_secs", self.token_ttl_secs.is_some()),
            ("algorithm", self.algorithm.is_some()),
            ("claims", self.claims.is_some()),
            ("field", self.field.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
    }

    /// The entry's key references.
    fn keys(&self) -> Keys<'_> {
        Keys {
            secret: self.secret.as_ref(),
            private_key: self.private_key.as_ref(),
        }
    }
}

/// The widget preset `kind`, or why there is none: unknown, or a portal's kind.
fn preset(kind: &str) -> Result<&'static WidgetPreset, String> {
    if let Some(preset) = WidgetPreset::named(kind) {
        return Ok(preset);
    }
    if Preset::named(kind).is_some() {
        return Err(format!(
            "`{kind}` is a portal: write it as a [[portal]]; widgets are {}",
            known()
        ));
    }
    Err(format!(
        "unknown variant `{kind}`, expected one of {}",
        known()
    ))
}

/// Every widget kind, quoted.
fn known() -> String {
    let kinds: Vec<String> = WidgetPreset::all()
        .map(WidgetPreset::kind)
        .chain([CUSTOM_KIND, HMAC_KIND])
        .map(|kind| format!("`{kind}`"))
        .collect();
    kinds.join(", ")
}

impl WidgetSettings {
    /// The first identity field the widget needs that `claims` cannot supply, as the
    /// error naming the widget (`widget[index]`) and the field.
    pub(super) fn check_fields(
        &self,
        index: usize,
        claims: &ClaimPointers,
    ) -> Result<(), ConfigFileError> {
        let Some(field) = self
            .widget
            .required_fields()
            .into_iter()
            .find(|field| !claims.supplies(field))
        else {
            return Ok(());
        };
        let carried = match self.widget.carried_as(field) {
            Some(name) if name != field => format!(" (signed as `{name}`)"),
            _ => String::new(),
        };
        Err(ConfigFileError::new(
            format!("widget[{index}]"),
            format!(
                "kind \"{}\" needs the identity field `{field}`{carried}: map it in [session.claims], \
                 e.g. {field} = \"/{field}\"",
                self.widget.kind()
            ),
        ))
    }

    /// `secret` or `private_key`, as the file names the widget's key.
    pub(super) fn key_name(&self) -> &'static str {
        match self.widget.format() {
            WidgetFormat::Jwt(alg) if !alg.uses_secret() => "private_key",
            _ => "secret",
        }
    }
}

#[cfg(test)]
mod tests;
