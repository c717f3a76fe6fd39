//! `[session.oidc]` (one provider) or `[[session.oidc]]` (several, each with `name` and
//! `label`): the shape serde reads, and its check into [`crate::oidc::Settings`].
//!
//! Errors name the file's key: `session.oidc.issuer` for the one-table form,
//! `session.oidc[1].client_id` for the list form.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use url::Url;

use portal_sso::ClaimPointers;

use super::ConfigFileError;
use super::secret_ref::SecretRef;
use crate::oidc::{ProviderSettings, Rules, Settings};

/// `session.oidc` as written: one table or a list of them.
#[derive(Debug)]
pub(super) enum OidcFile {
    One(Box<ProviderFile>),
    Many(Vec<ProviderFile>),
}

impl<'de> Deserialize<'de> for OidcFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrMany;

        impl<'de> Visitor<'de> for OneOrMany {
            type Value = OidcFile;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a [session.oidc] table or [[session.oidc]] tables")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OidcFile, A::Error> {
                ProviderFile::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|one| OidcFile::One(Box::new(one)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OidcFile, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(OidcFile::Many)
            }
        }

        deserializer.deserialize_any(OneOrMany)
    }
}

/// One provider's table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderFile {
    /// Names the provider in events, cookies and `?provider=`; required with several.
    name: Option<String>,
    /// What the chooser page shows; defaults to the name.
    label: Option<String>,
    issuer: String,
    client_id: String,
    client_secret: SecretRef,
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
    #[serde(default = "default_redirect_path")]
    redirect_path: String,
    #[serde(default = "yes")]
    require_email_verified: bool,
    #[serde(default)]
    allowed_email_domains: Vec<String>,
    #[serde(default)]
    allowed_groups: Vec<String>,
    #[serde(default = "default_groups_claim")]
    groups_claim: String,
    #[serde(default = "default_session_ttl_secs")]
    session_ttl_secs: u64,
    #[serde(default)]
    end_session: bool,
    post_logout_redirect_uri: Option<String>,
    /// The email domains whose `login_hint` goes straight to this provider.
    #[serde(default)]
    email_domains: Vec<String>,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(str::to_owned).to_vec()
}

fn default_redirect_path() -> String {
    "/sso/oidc/callback".to_owned()
}

const fn yes() -> bool {
    true
}

fn default_groups_claim() -> String {
    "groups".to_owned()
}

const fn default_session_ttl_secs() -> u64 {
    43_200
}

/// The identity fields read from the ID token (then userinfo) unless `[session.claims]`
/// maps them elsewhere.
const DEFAULT_FIELDS: [(&str, &str); 5] = [
    ("email", "/email"),
    ("first_name", "/given_name"),
    ("last_name", "/family_name"),
    ("name", "/name"),
    ("id", "/sub"),
];

/// The identity fields with `session.oidc`: the defaults, then `[session.claims]` over
/// them, as (name, pointer) pairs and as the layer's pointers.
pub(super) fn fields(mapped: &BTreeMap<String, String>) -> (Vec<(String, String)>, ClaimPointers) {
    let mut fields: BTreeMap<String, String> = DEFAULT_FIELDS
        .iter()
        .map(|(name, pointer)| ((*name).to_owned(), (*pointer).to_owned()))
        .collect();
    fields.extend(
        mapped
            .iter()
            .map(|(name, pointer)| (name.clone(), pointer.clone())),
    );
    let pointers = fields
        .iter()
        .fold(ClaimPointers::default(), |claims, (name, pointer)| {
            claims.with_field(name, pointer)
        });
    (fields.into_iter().collect(), pointers)
}

/// Checks every provider; `public_url` is the origin the IdP sends browsers back to, and
/// `mapped` the `[session.claims]` table.
pub(super) fn check(
    file: &OidcFile,
    public_url: Option<&str>,
    mapped: &BTreeMap<String, String>,
) -> Result<Settings, ConfigFileError> {
    let (fields, claims) = fields(mapped);
    let public_url = check_public_url(public_url)?;
    let entries: Vec<(String, &ProviderFile)> = match file {
        OidcFile::One(one) => vec![("session.oidc".to_owned(), one.as_ref())],
        OidcFile::Many(many) => many
            .iter()
            .enumerate()
            .map(|(index, entry)| (format!("session.oidc[{index}]"), entry))
            .collect(),
    };
    if entries.is_empty() {
        return Err(ConfigFileError::new(
            "session.oidc",
            "lists no provider: give at least one",
        ));
    }
    let several = entries.len() > 1;
    let mut providers: Vec<ProviderSettings> = Vec::with_capacity(entries.len());
    for (key, entry) in entries {
        let provider = check_provider(&key, entry, several, &public_url)?;
        if providers.iter().any(|other| other.name == provider.name) {
            return Err(ConfigFileError::new(
                format!("{key}.name"),
                format!("`{}` names two providers", provider.name),
            ));
        }
        providers.push(provider);
    }
    Ok(Settings {
        providers,
        public_url,
        claims,
        fields,
    })
}

/// `public_url`: required with an OpenID provider, which sends browsers back to an
/// absolute URL; scheme, host and port only.
fn check_public_url(raw: Option<&str>) -> Result<Url, ConfigFileError> {
    let problem = "must be the origin browsers reach the sidecar at, e.g. \"https://app.acme.com\"";
    let Some(raw) = raw else {
        return Err(ConfigFileError::new(
            "public_url",
            "is required with session.oidc: the identity provider sends browsers back to \
             <public_url><redirect_path>",
        ));
    };
    let url = Url::parse(raw).map_err(|_| ConfigFileError::new("public_url", problem))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || !matches!(url.path(), "" | "/")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(ConfigFileError::new("public_url", problem));
    }
    Ok(url)
}

fn check_provider(
    key: &str,
    file: &ProviderFile,
    several: bool,
    public_url: &Url,
) -> Result<ProviderSettings, ConfigFileError> {
    let name = check_name(key, file.name.as_deref(), several)?;
    let issuer = check_issuer(&format!("{key}.issuer"), &file.issuer)?;
    if file.client_id.is_empty() {
        return Err(ConfigFileError::new(
            format!("{key}.client_id"),
            "must not be empty",
        ));
    }
    let client_secret = file.client_secret.read(&format!("{key}.client_secret"))?;
    check_scopes(key, &file.scopes)?;
    let (redirect_path, redirect_uri) = check_redirect(key, &file.redirect_path, public_url)?;
    let domains = |field: &str, list: &[String]| -> Result<Vec<String>, ConfigFileError> {
        list.iter()
            .enumerate()
            .map(|(index, domain)| {
                let domain = domain.trim_start_matches('@').to_ascii_lowercase();
                if domain.is_empty() || domain.contains(['@', '/', ' ']) {
                    Err(ConfigFileError::new(
                        format!("{key}.{field}[{index}]"),
                        "must be a domain, e.g. \"acme.com\"",
                    ))
                } else {
                    Ok(domain)
                }
            })
            .collect()
    };
    if file.session_ttl_secs < 60 {
        return Err(ConfigFileError::new(
            format!("{key}.session_ttl_secs"),
            "must be at least 60",
        ));
    }
    let post_logout_redirect_uri =
        check_post_logout(key, file.post_logout_redirect_uri.as_deref())?;
    if file.groups_claim.is_empty() {
        return Err(ConfigFileError::new(
            format!("{key}.groups_claim"),
            "must name a claim, e.g. \"groups\"",
        ));
    }
    let tls = if issuer.starts_with("https:") {
        Some(super::tls::upstream_config(None, &format!("{key}.issuer"))?)
    } else {
        None
    };
    Ok(ProviderSettings {
        label: file.label.clone().unwrap_or_else(|| name.clone()),
        name,
        issuer,
        client_id: file.client_id.clone(),
        client_secret,
        secret_from: file.client_secret.to_string(),
        scopes: file.scopes.clone(),
        redirect_path,
        redirect_uri,
        rules: Rules {
            require_email_verified: file.require_email_verified,
            allowed_email_domains: domains("allowed_email_domains", &file.allowed_email_domains)?,
            allowed_groups: file.allowed_groups.clone(),
            groups_claim: file.groups_claim.clone(),
        },
        session_ttl: Duration::from_secs(file.session_ttl_secs),
        end_session: file.end_session,
        post_logout_redirect_uri,
        email_domains: domains("email_domains", &file.email_domains)?,
        tls,
    })
}

/// `name`: required with several providers; letters, digits, `-` and `_`.
fn check_name(key: &str, name: Option<&str>, several: bool) -> Result<String, ConfigFileError> {
    let name = match (name, several) {
        (Some(name), _) => name.to_owned(),
        (None, false) => "oidc".to_owned(),
        (None, true) => {
            return Err(ConfigFileError::new(
                format!("{key}.name"),
                "is required when several providers are listed",
            ));
        }
    };
    if name.is_empty()
        || name.len() > 32
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ConfigFileError::new(
            format!("{key}.name"),
            "must be 1 to 32 letters, digits, `-` or `_`",
        ));
    }
    Ok(name)
}

/// `scopes`: `openid` among them, each a scope name.
fn check_scopes(key: &str, scopes: &[String]) -> Result<(), ConfigFileError> {
    if !scopes.iter().any(|scope| scope == "openid") {
        return Err(ConfigFileError::new(
            format!("{key}.scopes"),
            "must include \"openid\"",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| {
        s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    }) {
        return Err(ConfigFileError::new(
            format!("{key}.scopes"),
            format!("`{bad}` is not a scope name"),
        ));
    }
    Ok(())
}

/// `redirect_path`: a path of its own on this site; with `public_url`, the redirect URI.
fn check_redirect(
    key: &str,
    redirect_path: &str,
    public_url: &Url,
) -> Result<(String, Url), ConfigFileError> {
    if !redirect_path.starts_with('/')
        || redirect_path.starts_with("//")
        || !portal_sso::is_same_site_path(redirect_path)
        || redirect_path.contains(['?', '#'])
        || redirect_path == crate::oidc::LOGIN_PATH
        || redirect_path == crate::oidc::LOGOUT_PATH
    {
        return Err(ConfigFileError::new(
            format!("{key}.redirect_path"),
            "must be a path of its own on this site, e.g. \"/sso/oidc/callback\"",
        ));
    }
    let redirect_uri = public_url.join(redirect_path).map_err(|_| {
        ConfigFileError::new(format!("{key}.redirect_path"), "does not join public_url")
    })?;
    Ok((redirect_path.to_owned(), redirect_uri))
}

/// `post_logout_redirect_uri`: an absolute http(s) URL.
fn check_post_logout(key: &str, raw: Option<&str>) -> Result<Option<Url>, ConfigFileError> {
    raw.map(|raw| {
        Url::parse(raw)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| {
                ConfigFileError::new(
                    format!("{key}.post_logout_redirect_uri"),
                    "must be an absolute http(s) URL, e.g. \"https://acme.com/\"",
                )
            })
    })
    .transpose()
}

/// An `https://` issuer, or `http://` on this machine's loopback only (a test IdP): the
/// browser carries codes to and from it.
fn check_issuer(key: &str, raw: &str) -> Result<String, ConfigFileError> {
    let problem = "must be the issuer's https:// URL, e.g. \"https://login.acme.com\"";
    let url = Url::parse(raw).map_err(|_| ConfigFileError::new(key, problem))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(ConfigFileError::new(
                key,
                "is http://: only https:// is accepted, but on this machine's loopback",
            ));
        }
        _ => return Err(ConfigFileError::new(key, problem)),
    }
    if url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(ConfigFileError::new(key, problem));
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
