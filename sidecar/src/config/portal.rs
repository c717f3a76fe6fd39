//! The `[[portal]]` entries: `kind` picks the vendor, and each kind is a struct with only
//! its own keys, so a key of another kind is refused by name while the file is read.
//!
//! `classic` holds Kustomer and Aha!, `presets` every other vendor preset of the core's
//! JWT-redirect engine, `jwt` the portal described entirely in the file. A new preset is
//! a struct in `presets` (its keys), a row of its table, a variant of [`PortalFile`] and an
//! arm in [`PortalFile::check`].

mod classic;
mod jwt;
mod presets;

use serde::Deserialize;

use portal_sso::{ClaimPointers, JwtPortal, Secret};

use super::ConfigFileError;
use super::keyed::keyed;
use super::secret_ref::SecretRef;
use classic::{AhaFile, KustomerFile};
use jwt::JwtFile;
use presets::{
    CannyFile, FreshworksFile, FrillFile, GitbookFile, HelpdocsFile, HelpjuiceFile, HelpscoutFile,
    MintlifyFile, ReadmeFile, ZendeskFile, check_preset,
};

/// One `[[portal]]` entry as written. Each variant is read through [`keyed`] so that an
/// error inside it still names its key (`portal[1].secret`).
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(super) enum PortalFile {
    #[serde(deserialize_with = "keyed")]
    Kustomer(KustomerFile),
    #[serde(deserialize_with = "keyed")]
    Aha(AhaFile),
    #[serde(deserialize_with = "keyed")]
    Zendesk(ZendeskFile),
    #[serde(deserialize_with = "keyed")]
    Gitbook(GitbookFile),
    #[serde(deserialize_with = "keyed")]
    Canny(CannyFile),
    #[serde(deserialize_with = "keyed")]
    Helpscout(HelpscoutFile),
    #[serde(deserialize_with = "keyed")]
    Frill(FrillFile),
    #[serde(deserialize_with = "keyed")]
    Readme(ReadmeFile),
    #[serde(deserialize_with = "keyed")]
    Mintlify(MintlifyFile),
    #[serde(deserialize_with = "keyed")]
    Helpjuice(HelpjuiceFile),
    #[serde(deserialize_with = "keyed")]
    Helpdocs(HelpdocsFile),
    #[serde(deserialize_with = "keyed")]
    Freshworks(FreshworksFile),
    #[serde(deserialize_with = "keyed")]
    Jwt(Box<JwtFile>),
}

/// A checked `[[portal]]`: the layer's portal, and what the summary shows of it.
#[derive(Clone)]
pub(super) struct PortalSettings {
    pub(super) portal: JwtPortal,
    /// The `kind` it was written with.
    pub(super) kind: &'static str,
    /// Its login route.
    pub(super) path: String,
    /// Where it sends the browser: a URL, or `param on origins` when the request says.
    pub(super) target: String,
    /// Its claims, named.
    pub(super) claims: String,
    /// Where its secret or private key is read from.
    pub(super) key_from: SecretRef,
    /// The secret or private key itself, which the layer's cookie key is derived from.
    pub(super) key: Secret,
}

impl PortalFile {
    /// Reads the entry's secret and checks its values, naming keys as `portal[index].…`.
    pub(super) fn check(&self, index: usize) -> Result<PortalSettings, ConfigFileError> {
        let key = |name: &str| format!("portal[{index}].{name}");
        match self {
            PortalFile::Kustomer(entry) => entry.check(key),
            PortalFile::Aha(entry) => entry.check(key),
            PortalFile::Zendesk(entry) => check_preset("zendesk", &entry.keys(), key),
            PortalFile::Gitbook(entry) => check_preset("gitbook", &entry.keys(), key),
            PortalFile::Canny(entry) => check_preset("canny", &entry.keys(), key),
            PortalFile::Helpscout(entry) => check_preset("helpscout", &entry.keys(), key),
            PortalFile::Frill(entry) => check_preset("frill", &entry.keys(), key),
            PortalFile::Readme(entry) => check_preset("readme", &entry.keys(), key),
            PortalFile::Mintlify(entry) => check_preset("mintlify", &entry.keys(), key),
            PortalFile::Helpjuice(entry) => check_preset("helpjuice", &entry.keys(), key),
            PortalFile::Helpdocs(entry) => check_preset("helpdocs", &entry.keys(), key),
            PortalFile::Freshworks(entry) => check_preset("freshworks", &entry.keys(), key),
            PortalFile::Jwt(entry) => entry.check(key),
        }
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
                    self.kind
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
        let err = error(&[&KUSTOMER.replace("kustomer\"", "zendsk\"")]);
        assert_eq!(
            err,
            "portal[0].kind: unknown variant `zendsk`, expected one of `kustomer`, `aha`, \
             `zendesk`, `gitbook`, `canny`, `helpscout`, `frill`, `readme`, `mintlify`, \
             `helpjuice`, `helpdocs`, `freshworks`, `jwt`"
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

#[cfg(test)]
mod preset_tests;
