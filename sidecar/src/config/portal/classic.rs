//! `kind = "kustomer"` and `kind = "aha"`: the two portals the sidecar served first, each
//! with the keys it has always had.

use serde::Deserialize;

use portal_sso::origins::OriginPattern;
use portal_sso::{AhaPortal, JwtPortal, KustomerPortal};

use super::{PortalSettings, route_path};
use crate::config::ConfigFileError;
use crate::config::secret_ref::SecretRef;

/// `kind = "kustomer"`: a Kustomer knowledge base, which says where to send the browser
/// back to in `kustomerRedirectUri`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct KustomerFile {
    name: Option<String>,
    path: Option<String>,
    secret: SecretRef,
    /// Where `kustomerRedirectUri` may point. Left out, it is empty, which building the
    /// layer refuses with this key named.
    #[serde(default)]
    redirect_origins: Vec<String>,
    default_redirect: Option<String>,
}

impl KustomerFile {
    const KIND: &str = "kustomer";

    pub(super) fn check(
        &self,
        key: impl Fn(&str) -> String,
    ) -> Result<PortalSettings, ConfigFileError> {
        let secret = self.secret.read(&key("secret"))?;
        check_origins(&self.redirect_origins, &key)?;
        let mut portal = KustomerPortal::new(secret.clone())
            .with_redirect_origins(self.redirect_origins.clone());
        if let Some(default) = &self.default_redirect {
            portal = portal.with_default_redirect(default);
        }
        if let Some(path) = &self.path {
            portal = portal.with_path(path);
        }
        if let Some(name) = &self.name {
            portal = portal.with_name(name);
        }
        Ok(PortalSettings {
            portal: JwtPortal::from(portal),
            kind: Self::KIND,
            path: route_path(self.path.as_deref(), Self::KIND),
            target: format!(
                "kustomerRedirectUri on {}",
                self.redirect_origins.join(", ")
            ),
            claims: "email, iat".to_owned(),
            key_from: self.secret.clone(),
            key: secret,
        })
    }
}

/// `kind = "aha"`: an Aha! knowledge base or ideas portal, which is sent to one fixed
/// callback and can log the user out remotely.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct AhaFile {
    name: Option<String>,
    path: Option<String>,
    secret: SecretRef,
    /// Required, but optional in the shape so that leaving it out is answered with an
    /// example of the URL rather than serde's bare "missing field".
    callback_url: Option<String>,
    /// The remote logout route; an empty string turns it off.
    logout_path: Option<String>,
    logout_redirect: Option<String>,
    portal_logout_url: Option<String>,
}

impl AhaFile {
    const KIND: &str = "aha";

    pub(super) fn check(
        &self,
        key: impl Fn(&str) -> String,
    ) -> Result<PortalSettings, ConfigFileError> {
        let secret = self.secret.read(&key("secret"))?;
        let Some(callback) = &self.callback_url else {
            return Err(ConfigFileError::new(
                key("callback_url"),
                "is required for kind = \"aha\", e.g. \"https://acme.aha.site/auth/jwt/callback\"",
            ));
        };
        let mut portal = AhaPortal::new(secret.clone(), callback);
        if let Some(path) = &self.path {
            portal = portal.with_path(path);
        }
        if let Some(name) = &self.name {
            portal = portal.with_name(name);
        }
        if let Some(logout_path) = &self.logout_path {
            portal = portal.with_logout_path((!logout_path.is_empty()).then_some(logout_path));
        }
        if let Some(redirect) = &self.logout_redirect {
            portal = portal.with_logout_redirect(redirect);
        }
        if let Some(url) = &self.portal_logout_url {
            portal = portal.with_portal_logout_url(url);
        }
        Ok(PortalSettings {
            portal: JwtPortal::from(portal),
            kind: Self::KIND,
            path: route_path(self.path.as_deref(), Self::KIND),
            target: callback.clone(),
            claims: "iat, jti, first_name, last_name, email".to_owned(),
            key_from: self.secret.clone(),
            key: secret,
        })
    }
}

/// Checks each origin pattern, naming `redirect_origins[i]` at fault.
pub(super) fn check_origins(
    origins: &[String],
    key: &impl Fn(&str) -> String,
) -> Result<(), ConfigFileError> {
    for (i, origin) in origins.iter().enumerate() {
        OriginPattern::parse(origin).map_err(|problem| {
            ConfigFileError::new(key(&format!("redirect_origins[{i}]")), problem)
        })?;
    }
    Ok(())
}
