//! The config file's shape: what serde reads, with every default, before any value is
//! checked. Every table refuses keys it does not know, so a typo is an error, not a
//! silently ignored setting.

use std::net::SocketAddr;
use std::num::{NonZeroU64, NonZeroUsize};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::ConfigFileError;
use super::oidc::OidcFile;
use super::portal::PortalFile;
use super::secret_ref::SecretRef;
use super::tls::TlsFile;
use super::widget::WidgetFile;

/// The file as written, before anything is checked beyond its shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    pub(super) listen: SocketAddr,
    pub(super) upstream: Option<String>,
    pub(super) upstream_ca: Option<SecretRef>,
    /// The origin browsers reach the sidecar at; required with `session.oidc`.
    pub(super) public_url: Option<String>,
    pub(super) tls: Option<TlsFile>,
    pub(super) admin_listen: Option<SocketAddr>,
    pub(super) admin_token: Option<SecretRef>,
    #[serde(default)]
    pub(super) trusted_proxies: Vec<String>,
    #[serde(default = "default_connect_timeout_ms")]
    pub(super) upstream_connect_timeout_ms: NonZeroU64,
    #[serde(default = "default_upstream_timeout_secs")]
    pub(super) upstream_timeout_secs: NonZeroU64,
    pub(super) app_logout_path: Option<String>,
    pub(super) app_logout_url: Option<String>,
    #[serde(default)]
    pub(super) allow_short_secrets: bool,
    /// Signs portal-sso's own cookies; replicas share it.
    pub(super) cookie_key: Option<SecretRef>,
    #[serde(default)]
    pub(super) server: ServerFile,
    pub(super) session: SessionFile,
    /// Absent with `session.oidc`, whose login page is the sidecar's own.
    pub(super) login: Option<LoginFile>,
    #[serde(default)]
    pub(super) portal: Vec<PortalFile>,
    #[serde(default)]
    pub(super) widget: Vec<WidgetFile>,
}

const fn default_connect_timeout_ms() -> NonZeroU64 {
    NonZeroU64::new(2_000).unwrap()
}

const fn default_upstream_timeout_secs() -> NonZeroU64 {
    NonZeroU64::new(60).unwrap()
}

/// `[server]`: how connections from browsers are treated; every key defaults as
/// [`Default`] says.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ServerFile {
    pub(super) header_read_timeout_secs: NonZeroU64,
    pub(super) send_timeout_secs: NonZeroU64,
    pub(super) max_header_bytes: usize,
    pub(super) max_connections: NonZeroUsize,
    pub(super) shutdown_grace_secs: u64,
    pub(super) tunnel_idle_timeout_secs: NonZeroU64,
}

impl Default for ServerFile {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: NonZeroU64::new(10).unwrap(),
            send_timeout_secs: NonZeroU64::new(60).unwrap(),
            max_header_bytes: 64 * 1024,
            max_connections: NonZeroUsize::new(4_096).unwrap(),
            shutdown_grace_secs: 30,
            tunnel_idle_timeout_secs: NonZeroU64::new(300).unwrap(),
        }
    }
}

/// `[session]`: the app's session cookie and the one source that says who it belongs to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SessionFile {
    /// The app's session cookie; absent with `oidc`, whose session is portal-sso's own.
    pub(super) cookie: Option<String>,
    pub(super) path: Option<String>,
    pub(super) domain: Option<String>,
    #[serde(default)]
    pub(super) secure: bool,
    pub(super) introspect: Option<IntrospectFile>,
    pub(super) jwt: Option<JwtFile>,
    pub(super) signed: Option<SignedFile>,
    pub(super) oidc: Option<OidcFile>,
    #[serde(default)]
    pub(super) claims: ClaimsFile,
}

/// `session.introspect`: ask the app's "who am I" endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IntrospectFile {
    pub(super) url: String,
    #[serde(default = "default_cache_ttl_secs")]
    pub(super) cache_ttl_secs: u64,
    #[serde(default = "default_cache_max_entries")]
    pub(super) cache_max_entries: usize,
    #[serde(default = "default_introspect_timeout_ms")]
    pub(super) timeout_ms: NonZeroU64,
}

const fn default_cache_ttl_secs() -> u64 {
    30
}

const fn default_cache_max_entries() -> usize {
    10_000
}

const fn default_introspect_timeout_ms() -> NonZeroU64 {
    NonZeroU64::new(2_000).unwrap()
}

/// `session.jwt`: the cookie is a JWT the app signs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JwtFile {
    pub(super) secret: SecretRef,
    #[serde(default = "default_algorithm")]
    pub(super) algorithm: String,
    /// The `aud` values the app's tokens may carry; without it a token with `aud` is
    /// refused (RFC 7519 §4.1.3).
    pub(super) audience: Option<OneOrMany>,
    /// The `iss` values accepted; without it `iss` is not checked.
    pub(super) issuer: Option<OneOrMany>,
}

fn default_algorithm() -> String {
    "HS256".to_owned()
}

/// A string, or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected a string or a list of strings")]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, refused (naming `key`) when there are none or one is empty.
    pub(super) fn values(&self, key: &str) -> Result<Vec<String>, ConfigFileError> {
        let values = match self {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        };
        if values.is_empty() || values.iter().any(String::is_empty) {
            return Err(ConfigFileError::new(
                key,
                "give a non-empty string or a list of them",
            ));
        }
        Ok(values)
    }
}

/// `session.signed`: the cookie is written through the `cookie` crate's signed or
/// private jar.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignedFile {
    pub(super) key: SecretRef,
    #[serde(default)]
    pub(super) mode: ModeFile,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum ModeFile {
    #[default]
    Signed,
    Private,
}

/// `[session.claims]`: JSON pointers to the user's details in what the source gives, by
/// identity field name. `email`, `first_name` and `last_name` default to `/email`,
/// `/first_name` and `/last_name`; any other field (`name`, `external_id`, `id`,
/// `avatar_url`, `groups`...) is there only once mapped.
pub(super) type ClaimsFile = std::collections::BTreeMap<String, String>;

/// `[login]`: where signed-out users are sent, and how they come back.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginFile {
    #[serde(default = "default_login_url")]
    pub(super) url: String,
    #[serde(default = "default_return_param")]
    pub(super) return_param: String,
}

impl Default for LoginFile {
    fn default() -> Self {
        Self {
            url: default_login_url(),
            return_param: default_return_param(),
        }
    }
}

fn default_login_url() -> String {
    "/login".to_owned()
}

fn default_return_param() -> String {
    "next".to_owned()
}

/// Only the admin listener's address: what `portal-sso healthcheck` needs. Every other key
/// is ignored here (it is checked when the sidecar starts).
#[derive(Debug, Deserialize)]
pub(super) struct Listeners {
    pub(super) admin_listen: Option<SocketAddr>,
}

/// Parses the TOML, naming the key of a shape error and the line of a syntax error.
pub(super) fn parse(text: &str) -> Result<File, ConfigFileError> {
    parse_as(text)
}

/// Parses the TOML into `T`, with [`parse`]'s error messages.
pub(super) fn parse_as<T: DeserializeOwned>(text: &str) -> Result<T, ConfigFileError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|err| syntax_error(text, &err))?;
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.message().trim();
        // "missing field `x`" is reported at the parent: name the key itself.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            return ConfigFileError::new(join(&path, field), "is required");
        }
        let key = if path == "." {
            location(text, inner.span()).unwrap_or_else(|| "config".to_owned())
        } else {
            path
        };
        ConfigFileError::new(key, message.replace('\n', " "))
    })
}

/// `parent.key`, where `.` is the root on either side.
fn join(parent: &str, key: &str) -> String {
    match (parent, key) {
        (".", key) => key.to_owned(),
        (parent, ".") => parent.to_owned(),
        (parent, key) => format!("{parent}.{key}"),
    }
}

fn syntax_error(text: &str, err: &toml::de::Error) -> ConfigFileError {
    ConfigFileError::new(
        location(text, err.span()).unwrap_or_else(|| "config".to_owned()),
        format!("syntax error: {}", err.message().trim().replace('\n', " ")),
    )
}

/// `line L, column C` of a byte span.
fn location(text: &str, span: Option<std::ops::Range<usize>>) -> Option<String> {
    let start = span?.start.min(text.len());
    let before = text.get(..start)?;
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some(format!("line {line}, column {column}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::BASE;

    #[test]
    fn names_the_key_of_an_unknown_field() {
        let text = BASE.replace("cookie = \"sid\"", "cookie = \"sid\"\nbogus = 1");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.key(), "session.bogus", "{err}");
        assert!(err.problem().contains("unknown field"), "{err}");
    }

    #[test]
    fn refuses_an_inline_secret_without_echoing_it() {
        let text = BASE.replace(
            "secret = { env = \"PORTAL_SSO_UNIT_SECRET\" }",
            "secret = \"hunter2-hunter2-hunter2-hunter2-hunter2\"",
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(err.key(), "portal[0].secret");
        assert!(err.problem().contains("{ env = \"VAR\" }"), "{err}");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn missing_listen_is_named_and_upstream_may_be_left_out() {
        let text = BASE.replace("listen = \"127.0.0.1:8080\"\n", "");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.to_string(), "listen: is required");
        let text = BASE.replace("upstream = \"http://127.0.0.1:3000\"\n", "");
        assert_eq!(parse(&text).unwrap().upstream, None);
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let err = parse("listen = \n").unwrap_err();
        assert!(err.key().starts_with("line 1"), "{err}");
    }
}
