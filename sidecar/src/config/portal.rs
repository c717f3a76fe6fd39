//! The `[[portal]]` entries: `kind` picks the vendor, and each kind is a struct with only
//! its own keys, so a key of another kind is refused by name while the file is read.
//!
//! A new kind is a struct here with its `check`, a variant of [`PortalFile`] and an arm
//! in [`PortalFile::check`].

use serde::Deserialize;

use portal_sso::origins::OriginPattern;
use portal_sso::{AhaPortal, KustomerPortal, Portal};

use super::ConfigFileError;
use super::file::keyed;
use super::secret_ref::SecretRef;

/// One `[[portal]]` entry as written. Each variant is read through [`keyed`] so that an
/// error inside it still names its key (`portal[1].secret`).
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(super) enum PortalFile {
    #[serde(deserialize_with = "keyed")]
    Kustomer(KustomerFile),
    #[serde(deserialize_with = "keyed")]
    Aha(AhaFile),
}

/// A checked `[[portal]]`: the layer's portal, and what the summary shows of it.
#[derive(Clone)]
pub(super) struct PortalSettings {
    pub(super) portal: Portal,
    /// The `kind` it was written with.
    pub(super) kind: &'static str,
    pub(super) secret_from: SecretRef,
    /// Its route and where it sends the browser: `/sso/aha -> https://...`.
    pub(super) route: String,
}

impl PortalFile {
    /// Reads the entry's secret and checks its values, naming keys as `portal[index].…`.
    pub(super) fn check(&self, index: usize) -> Result<PortalSettings, ConfigFileError> {
        let key = |name: &str| format!("portal[{index}].{name}");
        match self {
            PortalFile::Kustomer(entry) => entry.check(key),
            PortalFile::Aha(entry) => entry.check(key),
        }
    }
}

/// `kind = "kustomer"`: a Kustomer knowledge base, which says where to send the browser
/// back to in `kustomerRedirectUri`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KustomerFile {
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

    fn check(&self, key: impl Fn(&str) -> String) -> Result<PortalSettings, ConfigFileError> {
        let secret = self.secret.read(&key("secret"))?;
        for (i, origin) in self.redirect_origins.iter().enumerate() {
            OriginPattern::parse(origin).map_err(|problem| {
                ConfigFileError::new(key(&format!("redirect_origins[{i}]")), problem)
            })?;
        }
        let route = format!(
            "{} -> {}",
            route_path(self.path.as_deref(), Self::KIND),
            self.redirect_origins.join(", ")
        );
        let mut portal =
            KustomerPortal::new(secret).with_redirect_origins(self.redirect_origins.clone());
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
            portal: portal.into(),
            kind: Self::KIND,
            secret_from: self.secret.clone(),
            route,
        })
    }
}

/// `kind = "aha"`: an Aha! knowledge base or ideas portal, which is sent to one fixed
/// callback and can log the user out remotely.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AhaFile {
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

    fn check(&self, key: impl Fn(&str) -> String) -> Result<PortalSettings, ConfigFileError> {
        let secret = self.secret.read(&key("secret"))?;
        let Some(callback) = &self.callback_url else {
            return Err(ConfigFileError::new(
                key("callback_url"),
                "is required for kind = \"aha\", e.g. \"https://acme.aha.site/auth/jwt/callback\"",
            ));
        };
        let route = format!(
            "{} -> {callback}",
            route_path(self.path.as_deref(), Self::KIND)
        );
        let mut portal = AhaPortal::new(secret, callback);
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
            portal: portal.into(),
            kind: Self::KIND,
            secret_from: self.secret.clone(),
            route,
        })
    }
}

/// The login route as the summary shows it: the configured `path`, or `/sso/<kind>` as
/// each vendor's portal defaults to.
fn route_path(path: Option<&str>, kind: &str) -> String {
    path.map_or_else(|| format!("/sso/{kind}"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use crate::config::file::parse;

    const KUSTOMER: &str = "kind = \"kustomer\"\nsecret = { env = \"S\" }\n\
                            redirect_origins = [\"https://acme.kustomer.help\"]\n";
    const AHA: &str = "kind = \"aha\"\nsecret = { env = \"S\" }\n\
                       callback_url = \"https://acme.aha.site/auth/jwt/callback\"\n";

    /// The error `parse` gives for a file whose portals are `entries`.
    fn error(entries: &[&str]) -> String {
        let mut text = String::from(
            "listen = \"127.0.0.1:8080\"\nupstream = \"http://127.0.0.1:3000\"\n\
             [session]\ncookie = \"sid\"\nintrospect = { url = \"http://127.0.0.1:3000/me\" }\n",
        );
        for entry in entries {
            text.push_str("[[portal]]\n");
            text.push_str(entry);
        }
        parse(&text).unwrap_err().to_string()
    }

    #[test]
    fn each_kind_reads_with_only_its_own_keys() {
        let text = crate::config::tests::BASE.to_owned() + "[[portal]]\n" + AHA;
        assert_eq!(parse(&text).unwrap().portal.len(), 2);
    }

    #[test]
    fn a_key_of_another_kind_is_refused_by_name() {
        let err = error(&[&format!("{KUSTOMER}logout_path = \"/bye\"\n")]);
        assert!(
            err.starts_with("portal[0].logout_path: unknown field `logout_path`, expected one of"),
            "{err}"
        );
        let err = error(&[AHA, &format!("{AHA}redirect_origins = []\n")]);
        assert!(
            err.starts_with("portal[1].redirect_origins: unknown field `redirect_origins`"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_or_missing_kind_is_named_with_the_known_ones() {
        let err = error(&[&KUSTOMER.replace("kustomer\"", "zendesk\"")]);
        assert_eq!(
            err,
            "portal[0].kind: unknown variant `zendesk`, expected `kustomer` or `aha`"
        );
        let err = error(&[AHA, &KUSTOMER.replace("kind = \"kustomer\"\n", "")]);
        assert_eq!(err, "portal[1].kind: is required");
    }

    /// Every kind keeps the key of an error inside its entry, however deep.
    #[test]
    fn errors_inside_an_entry_name_their_key_for_every_kind() {
        for entry in [KUSTOMER, AHA] {
            let cases = [
                ("path = 5\n", "portal[0].path: invalid type: integer `5`"),
                ("name = []\n", "portal[0].name: invalid type: sequence"),
            ];
            for (extra, expected) in cases {
                let err = error(&[&format!("{entry}{extra}")]);
                assert!(err.starts_with(expected), "{entry}{extra}: {err}");
            }
            let inline = entry.replace("{ env = \"S\" }", "\"hunter2-hunter2\"");
            let err = error(&[&inline]);
            assert!(
                err.starts_with("portal[0].secret: secrets are never"),
                "{err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
            let err = error(&[&entry.replace("env = \"S\"", "env = \"S\", file = \"/s\"")]);
            assert_eq!(err, "portal[0].secret: give exactly one of `env` or `file`");
            let err = error(&[&entry.replace("secret = { env = \"S\" }\n", "")]);
            assert_eq!(err, "portal[0].secret: is required");
        }
        let err = error(&[&KUSTOMER.replace("[\"https://acme.kustomer.help\"]", "[1]")]);
        assert!(
            err.starts_with("portal[0].redirect_origins[0]: invalid type: integer `1`"),
            "{err}"
        );
    }
}
