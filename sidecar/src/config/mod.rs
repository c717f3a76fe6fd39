//! The sidecar's config file: TOML read once at start, every key checked, secrets read from
//! the environment or from files, and the result turned into an [`SsoLayer`].
//!
//! Every error names the key at fault (`portal[1].redirect_origins[0]`) and says what is
//! wrong in one line, without ever repeating a secret's value. See
//! `examples/portal-sso.toml` for every key with its default.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use ipnet::IpNet;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use portal_sso::origins::OriginPattern;
use portal_sso::{
    AhaPortal, ClaimPointers, ConfigError, EventObserver, IdentityResolver, JwtCookie,
    KustomerPortal, Portal, Secret, SessionCookie, SignedCookie, SignedCookieMode, SsoLayer,
    SsoLayerBuilder,
};

use crate::introspect::Introspect;
use crate::metrics::{Metrics, Timed};

/// A config file the sidecar cannot run with. `Display` is one line:
/// `portal[0].secret: environment variable KUSTOMER_SSO_SECRET is not set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFileError {
    key: String,
    problem: String,
}

impl ConfigFileError {
    fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
        }
    }

    /// The key at fault, e.g. `portal[1].redirect_origins[0]`, or where in the file a
    /// syntax error is (`line 3, column 7`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

impl std::error::Error for ConfigFileError {}

/// The file as written, before anything is checked beyond its shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: SocketAddr,
    upstream: String,
    admin_listen: Option<SocketAddr>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    #[serde(default = "default_connect_timeout_ms")]
    upstream_connect_timeout_ms: u64,
    #[serde(default = "default_upstream_timeout_secs")]
    upstream_timeout_secs: u64,
    app_logout_path: Option<String>,
    app_logout_url: Option<String>,
    #[serde(default)]
    allow_short_secrets: bool,
    #[serde(default)]
    server: ServerFile,
    session: SessionFile,
    #[serde(default)]
    login: LoginFile,
    #[serde(default)]
    portal: Vec<PortalFile>,
}

const fn default_connect_timeout_ms() -> u64 {
    2_000
}

const fn default_upstream_timeout_secs() -> u64 {
    60
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    #[serde(default = "default_header_read_timeout_secs")]
    header_read_timeout_secs: u64,
    #[serde(default = "default_send_timeout_secs")]
    send_timeout_secs: u64,
    #[serde(default = "default_max_header_bytes")]
    max_header_bytes: usize,
    #[serde(default = "default_max_connections")]
    max_connections: usize,
    #[serde(default = "default_shutdown_grace_secs")]
    shutdown_grace_secs: u64,
    #[serde(default = "default_tunnel_idle_timeout_secs")]
    tunnel_idle_timeout_secs: u64,
}

impl Default for ServerFile {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: default_header_read_timeout_secs(),
            send_timeout_secs: default_send_timeout_secs(),
            max_header_bytes: default_max_header_bytes(),
            max_connections: default_max_connections(),
            shutdown_grace_secs: default_shutdown_grace_secs(),
            tunnel_idle_timeout_secs: default_tunnel_idle_timeout_secs(),
        }
    }
}

const fn default_header_read_timeout_secs() -> u64 {
    10
}

const fn default_send_timeout_secs() -> u64 {
    60
}

const fn default_max_header_bytes() -> usize {
    64 * 1024
}

const fn default_max_connections() -> usize {
    4_096
}

const fn default_shutdown_grace_secs() -> u64 {
    30
}

const fn default_tunnel_idle_timeout_secs() -> u64 {
    300
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionFile {
    cookie: String,
    path: Option<String>,
    domain: Option<String>,
    #[serde(default)]
    secure: bool,
    introspect: Option<IntrospectFile>,
    jwt: Option<JwtFile>,
    signed: Option<SignedFile>,
    #[serde(default)]
    claims: ClaimsFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntrospectFile {
    url: String,
    #[serde(default = "default_cache_ttl_secs")]
    cache_ttl_secs: u64,
    #[serde(default = "default_cache_max_entries")]
    cache_max_entries: usize,
    #[serde(default = "default_introspect_timeout_ms")]
    timeout_ms: u64,
}

const fn default_cache_ttl_secs() -> u64 {
    30
}

const fn default_cache_max_entries() -> usize {
    10_000
}

const fn default_introspect_timeout_ms() -> u64 {
    2_000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtFile {
    secret: SecretRef,
    #[serde(default = "default_algorithm")]
    algorithm: String,
    /// The `aud` values the app's tokens may carry; without it a token with `aud` is
    /// refused (RFC 7519 §4.1.3).
    audience: Option<OneOrMany>,
    /// The `iss` values accepted; without it `iss` is not checked.
    issuer: Option<OneOrMany>,
}

/// A string, or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected a string or a list of strings")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, refused (naming `key`) when there are none or one is empty.
    fn values(&self, key: &str) -> Result<Vec<String>, ConfigFileError> {
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

fn default_algorithm() -> String {
    "HS256".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedFile {
    key: SecretRef,
    #[serde(default)]
    mode: ModeFile,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ModeFile {
    #[default]
    Signed,
    Private,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimsFile {
    #[serde(default = "default_email_pointer")]
    email: String,
    #[serde(default = "default_first_name_pointer")]
    first_name: String,
    #[serde(default = "default_last_name_pointer")]
    last_name: String,
}

impl Default for ClaimsFile {
    fn default() -> Self {
        Self {
            email: default_email_pointer(),
            first_name: default_first_name_pointer(),
            last_name: default_last_name_pointer(),
        }
    }
}

fn default_email_pointer() -> String {
    "/email".to_owned()
}

fn default_first_name_pointer() -> String {
    "/first_name".to_owned()
}

fn default_last_name_pointer() -> String {
    "/last_name".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginFile {
    #[serde(default = "default_login_url")]
    url: String,
    #[serde(default = "default_return_param")]
    return_param: String,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Kustomer,
    Aha,
}

impl Kind {
    const fn name(self) -> &'static str {
        match self {
            Kind::Kustomer => "kustomer",
            Kind::Aha => "aha",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalFile {
    kind: Kind,
    name: Option<String>,
    path: Option<String>,
    secret: SecretRef,
    // Kustomer
    redirect_origins: Option<Vec<String>>,
    default_redirect: Option<String>,
    // Aha!
    callback_url: Option<String>,
    logout_path: Option<String>,
    logout_redirect: Option<String>,
    portal_logout_url: Option<String>,
}

/// Where a secret comes from. An inline string is refused while the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SecretRef {
    Env(String),
    File(PathBuf),
}

const INLINE_SECRET: &str = "secrets are never written in the file: \
     use { env = \"VAR\" } or { file = \"/run/secrets/NAME\" }";

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("{ env = \"VAR\" } or { file = \"PATH\" }")
            }

            // The value is deliberately not echoed: it is a secret written where it
            // should not be.
            fn visit_str<E: de::Error>(self, _value: &str) -> Result<SecretRef, E> {
                Err(E::custom(INLINE_SECRET))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value: String = map.next_value()?;
                    let source = match key.as_str() {
                        "env" => SecretRef::Env(value),
                        "file" => SecretRef::File(PathBuf::from(value)),
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown key `{other}`: use {{ env = \"VAR\" }} or {{ file = \"PATH\" }}"
                            )));
                        }
                    };
                    if found.replace(source).is_some() {
                        return Err(de::Error::custom("give exactly one of `env` or `file`"));
                    }
                }
                found.ok_or_else(|| de::Error::custom("give one of `env` or `file`"))
            }
        }

        deserializer.deserialize_any(SecretVisitor)
    }
}

impl SecretRef {
    fn read(&self, key: &str) -> Result<Secret, ConfigFileError> {
        let bytes = match self {
            SecretRef::Env(var) => match std::env::var_os(var) {
                Some(value) => value.into_encoded_bytes(),
                None => {
                    return Err(ConfigFileError::new(
                        key,
                        format!("environment variable {var} is not set"),
                    ));
                }
            },
            SecretRef::File(path) => {
                let mut bytes = std::fs::read(path).map_err(|err| {
                    ConfigFileError::new(
                        key,
                        format!("cannot read secret file {}: {}", path.display(), err.kind()),
                    )
                })?;
                // Files written by `echo` or editors end in a newline that is not part
                // of the secret.
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                    if bytes.last() == Some(&b'\r') {
                        bytes.pop();
                    }
                }
                bytes
            }
        };
        if bytes.is_empty() {
            return Err(ConfigFileError::new(key, format!("{self} is empty")));
        }
        Ok(Secret::new(bytes))
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(var) => write!(f, "environment variable {var}"),
            SecretRef::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// How the sidecar's HTTP server treats connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// How long a client may take to send a request's headers (slowloris protection).
    pub header_read_timeout: Duration,
    /// How long a client may leave a response unread (its socket full) before the
    /// connection is closed (slow-read protection).
    pub send_timeout: Duration,
    /// The most bytes of request line and headers accepted; more is answered with 431.
    pub max_header_bytes: usize,
    /// The most connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// How long an upgraded (WebSocket) connection may carry no bytes either way before
    /// it is closed, so idle tunnels do not hold connection slots for good.
    pub tunnel_idle_timeout: Duration,
}

/// How requests reach the app.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// The app's base URL: `http://host:port`.
    pub uri: Uri,
    /// How long opening a connection to the app may take before the answer is 502.
    pub connect_timeout: Duration,
    /// How long the app may take to send its response head before the answer is 504.
    pub response_timeout: Duration,
    /// Peers whose `X-Forwarded-*` headers are kept and extended.
    pub trusted_proxies: Vec<IpNet>,
}

/// Where the user behind a request comes from.
#[derive(Debug, Clone)]
enum Source {
    Introspect {
        url: Uri,
        cache_ttl: Duration,
        cache_max_entries: usize,
        timeout: Duration,
    },
    Jwt {
        secret: Secret,
        secret_from: SecretRef,
        algorithm: Algorithm,
        audience: Option<Vec<String>>,
        issuer: Option<Vec<String>>,
    },
    Signed {
        key: cookie::Key,
        key_from: SecretRef,
        mode: SignedCookieMode,
    },
}

/// A checked config file, ready to serve.
#[derive(Clone)]
pub struct SidecarConfig {
    /// The address browsers connect to.
    pub listen: SocketAddr,
    /// The admin listener (`/healthz`, `/readyz`, `/metrics`, `/events`), if any.
    pub admin_listen: Option<SocketAddr>,
    /// How the server treats connections.
    pub server: ServerSettings,
    /// How requests reach the app.
    pub upstream: UpstreamSettings,
    session_cookie: SessionCookie,
    source: Source,
    claims: ClaimPointers,
    login_url: String,
    return_param: String,
    /// Each portal, its kind, where its secret came from, and its route and target as
    /// the summary shows them.
    portals: Vec<(Portal, Kind, SecretRef, String)>,
    app_logout_path: Option<String>,
    app_logout_url: Option<String>,
    allow_short_secrets: bool,
}

impl fmt::Debug for SidecarConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SidecarConfig")
            .field("listen", &self.listen)
            .field("admin_listen", &self.admin_listen)
            .field("upstream", &self.upstream)
            .field("session_cookie", &self.session_cookie.name())
            .field("portals", &self.portals.len())
            .finish_non_exhaustive()
    }
}

impl SidecarConfig {
    /// Reads and checks the file at `path`, secrets included.
    pub fn load(path: &Path) -> Result<Self, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            ConfigFileError::new(
                "--config",
                format!("cannot read {}: {}", path.display(), err.kind()),
            )
        })?;
        Self::from_toml(&text)
    }

    /// Reads and checks a config given as TOML text, secrets included.
    pub fn from_toml(text: &str) -> Result<Self, ConfigFileError> {
        let file = parse(text)?;
        let config = Self::check(file)?;
        // Building the layer once proves the whole configuration, routes included.
        config.layer(Vec::new(), None)?;
        Ok(config)
    }

    #[allow(clippy::too_many_lines)] // one check per key, in the order of the file
    fn check(file: File) -> Result<Self, ConfigFileError> {
        let uri = parse_upstream(&file.upstream)?;
        let trusted_proxies = file
            .trusted_proxies
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                parse_net(raw)
                    .map_err(|p| ConfigFileError::new(format!("trusted_proxies[{index}]"), p))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if file.upstream_connect_timeout_ms == 0 {
            return Err(ConfigFileError::new(
                "upstream_connect_timeout_ms",
                "must be at least 1",
            ));
        }
        if file.upstream_timeout_secs == 0 {
            return Err(ConfigFileError::new(
                "upstream_timeout_secs",
                "must be at least 1",
            ));
        }
        let server = check_server(&file.server)?;

        let session = &file.session;
        if session.cookie.is_empty()
            || !session
                .cookie
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        {
            return Err(ConfigFileError::new(
                "session.cookie",
                "must be a cookie name (letters, digits, `-`, `_`, ...)",
            ));
        }
        let mut session_cookie = SessionCookie::new(&session.cookie);
        if let Some(path) = &session.path {
            session_cookie = session_cookie.with_path(path);
        }
        if let Some(domain) = &session.domain {
            session_cookie = session_cookie.with_domain(domain);
        }
        session_cookie = session_cookie.with_secure(session.secure);
        let source = match (&session.introspect, &session.jwt, &session.signed) {
            (Some(introspect), None, None) => check_introspect(introspect)?,
            (None, Some(jwt), None) => {
                let algorithm = match jwt.algorithm.as_str() {
                    "HS256" => Algorithm::HS256,
                    "HS384" => Algorithm::HS384,
                    "HS512" => Algorithm::HS512,
                    _ => {
                        return Err(ConfigFileError::new(
                            "session.jwt.algorithm",
                            format!(
                                "`{}` is not supported: use HS256, HS384 or HS512",
                                jwt.algorithm
                            ),
                        ));
                    }
                };
                Source::Jwt {
                    secret: jwt.secret.read("session.jwt.secret")?,
                    secret_from: jwt.secret.clone(),
                    algorithm,
                    audience: jwt
                        .audience
                        .as_ref()
                        .map(|a| a.values("session.jwt.audience"))
                        .transpose()?,
                    issuer: jwt
                        .issuer
                        .as_ref()
                        .map(|i| i.values("session.jwt.issuer"))
                        .transpose()?,
                }
            }
            (None, None, Some(signed)) => Source::Signed {
                key: read_cookie_key(&signed.key)?,
                key_from: signed.key.clone(),
                mode: match signed.mode {
                    ModeFile::Signed => SignedCookieMode::Signed,
                    ModeFile::Private => SignedCookieMode::Private,
                },
            },
            _ => {
                return Err(ConfigFileError::new(
                    "session",
                    "give exactly one of `introspect`, `jwt` or `signed`",
                ));
            }
        };
        let claims = ClaimPointers::default()
            .with_email(&session.claims.email)
            .with_first_name(&session.claims.first_name)
            .with_last_name(&session.claims.last_name);
        claims.validate().map_err(|name| {
            ConfigFileError::new(
                format!("session.claims.{name}"),
                "must be a JSON pointer starting with `/`, e.g. \"/email\"",
            )
        })?;

        let mut portals = Vec::with_capacity(file.portal.len());
        for (index, entry) in file.portal.iter().enumerate() {
            portals.push(check_portal(index, entry)?);
        }
        if portals.is_empty() {
            return Err(ConfigFileError::new(
                "portal",
                "no [[portal]] is configured: add at least one",
            ));
        }

        Ok(Self {
            listen: file.listen,
            admin_listen: file.admin_listen,
            server,
            upstream: UpstreamSettings {
                uri,
                connect_timeout: Duration::from_millis(file.upstream_connect_timeout_ms),
                response_timeout: Duration::from_secs(file.upstream_timeout_secs),
                trusted_proxies,
            },
            session_cookie,
            source,
            claims,
            login_url: file.login.url,
            return_param: file.login.return_param,
            portals,
            app_logout_path: file.app_logout_path,
            app_logout_url: file.app_logout_url,
            allow_short_secrets: file.allow_short_secrets,
        })
    }

    /// Builds the layer, with `observers` receiving every decision and the identity
    /// source timed into `metrics` when given.
    pub fn layer(
        &self,
        observers: Vec<Arc<dyn EventObserver>>,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<SsoLayer, ConfigFileError> {
        let mut builder = SsoLayer::builder()
            .with_session_cookie(self.session_cookie.clone())
            .with_login_url(&self.login_url)
            .with_return_param(&self.return_param)
            .allow_short_secrets(self.allow_short_secrets);
        builder = match &self.source {
            Source::Introspect {
                url,
                cache_ttl,
                cache_max_entries,
                timeout,
            } => with_identity(
                builder,
                Introspect::new(url.clone(), self.session_cookie.name())
                    .with_claims(self.claims.clone())
                    .with_cache(*cache_ttl, *cache_max_entries)
                    .with_timeout(*timeout),
                metrics,
            ),
            Source::Jwt {
                secret,
                algorithm,
                audience,
                issuer,
                ..
            } => {
                let mut source = JwtCookie::new(
                    self.session_cookie.name(),
                    jsonwebtoken::DecodingKey::from_secret(secret.expose()),
                    *algorithm,
                )
                .with_claims(self.claims.clone());
                if let Some(audience) = audience {
                    source = source.with_audience(audience);
                }
                if let Some(issuer) = issuer {
                    source = source.with_issuer(issuer);
                }
                with_identity(builder, source, metrics)
            }
            Source::Signed { key, mode, .. } => with_identity(
                builder,
                SignedCookie::new(self.session_cookie.name(), key.clone(), *mode)
                    .with_claims(self.claims.clone()),
                metrics,
            ),
        };
        for (portal, _, _, _) in &self.portals {
            builder = builder.with_portal(portal.clone());
        }
        if let Some(path) = &self.app_logout_path {
            builder = builder.with_app_logout_path(path);
        }
        if let Some(url) = &self.app_logout_url {
            builder = builder.with_app_logout_url(url);
        }
        for observer in observers {
            builder = add_observer(builder, observer);
        }
        builder.build().map_err(|err| layer_error(&err))
    }

    /// A few lines describing the configuration, secrets shown only by where they come
    /// from.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "listen            {}", self.listen);
        let _ = writeln!(out, "upstream          {}", self.upstream.uri);
        match self.admin_listen {
            Some(admin) => {
                let _ = writeln!(out, "admin_listen      {admin}");
            }
            None => {
                let _ = writeln!(out, "admin_listen      (none)");
            }
        }
        let _ = writeln!(out, "session.cookie    {}", self.session_cookie.name());
        let _ = match &self.source {
            Source::Introspect { url, cache_ttl, .. } => writeln!(
                out,
                "identity          introspect {url} (cache {} s)",
                cache_ttl.as_secs()
            ),
            Source::Jwt {
                algorithm,
                secret_from,
                audience,
                issuer,
                ..
            } => {
                let listed = |values: &Option<Vec<String>>, absent: &str| {
                    values
                        .as_ref()
                        .map_or_else(|| absent.to_owned(), |v| v.join(", "))
                };
                writeln!(
                    out,
                    "identity          jwt {algorithm:?}, secret REDACTED (from {secret_from}), \
                     audience {}, issuer {}",
                    listed(audience, "none (tokens with aud refused)"),
                    listed(issuer, "not checked"),
                )
            }
            Source::Signed { mode, key_from, .. } => writeln!(
                out,
                "identity          signed cookie ({mode:?}), key REDACTED (from {key_from})"
            ),
        };
        let _ = writeln!(
            out,
            "login             {} (return parameter `{}`)",
            self.login_url, self.return_param
        );
        for (index, (_, kind, secret_from, route)) in self.portals.iter().enumerate() {
            let _ = writeln!(
                out,
                "portal[{index}]         {} {route}, secret REDACTED (from {secret_from})",
                kind.name()
            );
        }
        out
    }
}

fn with_identity(
    builder: SsoLayerBuilder,
    resolver: impl IdentityResolver,
    metrics: Option<Arc<Metrics>>,
) -> SsoLayerBuilder {
    match metrics {
        Some(metrics) => builder.with_identity(Timed::new(resolver, metrics)),
        None => builder.with_identity(resolver),
    }
}

fn add_observer(builder: SsoLayerBuilder, observer: Arc<dyn EventObserver>) -> SsoLayerBuilder {
    builder.with_observer(move |event: &portal_sso::SsoEvent| observer.on_event(event))
}

/// Names the layer's field as the file's key: the layer says `portals[0]`, the file
/// says `portal[0]`.
fn layer_error(err: &ConfigError) -> ConfigFileError {
    let field = err.field();
    let key = if let Some(rest) = field.strip_prefix("portals") {
        format!("portal{rest}")
    } else {
        match field {
            "login_url" => "login.url".to_owned(),
            "return_param" => "login.return_param".to_owned(),
            "identity" => "session".to_owned(),
            other => other.to_owned(),
        }
    };
    ConfigFileError::new(key, err.problem())
}

/// Parses the TOML, naming the key of a shape error and the line of a syntax error.
fn parse(text: &str) -> Result<File, ConfigFileError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|err| syntax_error(text, &err))?;
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.message().trim().to_owned();
        // "missing field `x`" is reported at the parent: name the key itself.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            let key = if path == "." {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
            return ConfigFileError::new(key, "is required");
        }
        let key = if path == "." {
            location(text, inner.span()).unwrap_or_else(|| "config".to_owned())
        } else {
            path
        };
        ConfigFileError::new(key, message.replace('\n', " "))
    })
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

fn parse_upstream(raw: &str) -> Result<Uri, ConfigFileError> {
    let problem = "must be an http:// URL of the app, e.g. \"http://127.0.0.1:3000\"";
    let uri: Uri = raw
        .parse()
        .map_err(|_| ConfigFileError::new("upstream", problem))?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err(ConfigFileError::new("upstream", problem));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(ConfigFileError::new(
            "upstream",
            "must not carry user:password@",
        ));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(ConfigFileError::new(
            "upstream",
            "must be scheme, host and port only: requests keep their own path",
        ));
    }
    Ok(uri)
}

fn parse_url(key: &str, raw: &str) -> Result<Uri, ConfigFileError> {
    let uri: Uri = raw.parse().map_err(|_| {
        ConfigFileError::new(
            key,
            "must be an http:// URL, e.g. \"http://127.0.0.1:3000/api/me\"",
        )
    })?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err(ConfigFileError::new(
            key,
            "must be an http:// URL, e.g. \"http://127.0.0.1:3000/api/me\"",
        ));
    }
    Ok(uri)
}

/// An address or network: `10.0.0.0/8`, `127.0.0.1` (one address).
fn parse_net(raw: &str) -> Result<IpNet, String> {
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{raw}` is not an address or network like \"10.0.0.0/8\""))
}

fn check_server(server: &ServerFile) -> Result<ServerSettings, ConfigFileError> {
    if server.header_read_timeout_secs == 0 {
        return Err(ConfigFileError::new(
            "server.header_read_timeout_secs",
            "must be at least 1",
        ));
    }
    if server.send_timeout_secs == 0 {
        return Err(ConfigFileError::new(
            "server.send_timeout_secs",
            "must be at least 1",
        ));
    }
    // hyper's read buffer cannot be smaller than 8 KiB.
    if server.max_header_bytes < 8 * 1024 {
        return Err(ConfigFileError::new(
            "server.max_header_bytes",
            "must be at least 8192",
        ));
    }
    if server.max_connections == 0 {
        return Err(ConfigFileError::new(
            "server.max_connections",
            "must be at least 1",
        ));
    }
    if server.tunnel_idle_timeout_secs == 0 {
        return Err(ConfigFileError::new(
            "server.tunnel_idle_timeout_secs",
            "must be at least 1",
        ));
    }
    Ok(ServerSettings {
        header_read_timeout: Duration::from_secs(server.header_read_timeout_secs),
        send_timeout: Duration::from_secs(server.send_timeout_secs),
        max_header_bytes: server.max_header_bytes,
        max_connections: server.max_connections,
        shutdown_grace: Duration::from_secs(server.shutdown_grace_secs),
        tunnel_idle_timeout: Duration::from_secs(server.tunnel_idle_timeout_secs),
    })
}

fn check_introspect(introspect: &IntrospectFile) -> Result<Source, ConfigFileError> {
    let url = parse_url("session.introspect.url", &introspect.url)?;
    if introspect.timeout_ms == 0 {
        return Err(ConfigFileError::new(
            "session.introspect.timeout_ms",
            "must be at least 1",
        ));
    }
    Ok(Source::Introspect {
        url,
        cache_ttl: Duration::from_secs(introspect.cache_ttl_secs),
        cache_max_entries: introspect.cache_max_entries,
        timeout: Duration::from_millis(introspect.timeout_ms),
    })
}

/// The signed-cookie key: the app's 64-byte `cookie::Key` master key, base64-encoded
/// (standard alphabet, padding optional), as `Key::master()` gives it.
fn read_cookie_key(from: &SecretRef) -> Result<cookie::Key, ConfigFileError> {
    use base64::Engine as _;
    let key = "session.signed.key";
    let secret = from.read(key)?;
    let text = std::str::from_utf8(secret.expose())
        .map(str::trim)
        .map_err(|_| ConfigFileError::new(key, format!("{from} is not base64 text")))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
        .map_err(|_| ConfigFileError::new(key, format!("{from} is not base64 text")))?;
    cookie::Key::try_from(bytes.as_slice()).map_err(|_| {
        ConfigFileError::new(
            key,
            format!(
                "{from} decodes to {} bytes; the cookie key is 64 bytes (base64 of Key::master())",
                bytes.len()
            ),
        )
    })
}

fn check_portal(
    index: usize,
    entry: &PortalFile,
) -> Result<(Portal, Kind, SecretRef, String), ConfigFileError> {
    let field = format!("portal[{index}]");
    let path = entry
        .path
        .clone()
        .unwrap_or_else(|| format!("/sso/{}", entry.kind.name()));
    let only_for = |key: &str, present: bool, kind: &str| {
        if present {
            Err(ConfigFileError::new(
                format!("{field}.{key}"),
                format!("only applies to kind = \"{kind}\""),
            ))
        } else {
            Ok(())
        }
    };
    let secret = entry.secret.read(&format!("{field}.secret"))?;
    let portal = match entry.kind {
        Kind::Kustomer => {
            only_for("callback_url", entry.callback_url.is_some(), "aha")?;
            only_for("logout_path", entry.logout_path.is_some(), "aha")?;
            only_for("logout_redirect", entry.logout_redirect.is_some(), "aha")?;
            only_for(
                "portal_logout_url",
                entry.portal_logout_url.is_some(),
                "aha",
            )?;
            let origins = entry.redirect_origins.clone().unwrap_or_default();
            for (i, origin) in origins.iter().enumerate() {
                OriginPattern::parse(origin).map_err(|problem| {
                    ConfigFileError::new(format!("{field}.redirect_origins[{i}]"), problem)
                })?;
            }
            let route = format!("{path} -> {}", origins.join(", "));
            let mut portal = KustomerPortal::new(secret).with_redirect_origins(origins);
            if let Some(default) = &entry.default_redirect {
                portal = portal.with_default_redirect(default);
            }
            if let Some(path) = &entry.path {
                portal = portal.with_path(path);
            }
            if let Some(name) = &entry.name {
                portal = portal.with_name(name);
            }
            (Portal::Kustomer(portal), route)
        }
        Kind::Aha => {
            only_for(
                "redirect_origins",
                entry.redirect_origins.is_some(),
                "kustomer",
            )?;
            only_for(
                "default_redirect",
                entry.default_redirect.is_some(),
                "kustomer",
            )?;
            let Some(callback) = &entry.callback_url else {
                return Err(ConfigFileError::new(
                    format!("{field}.callback_url"),
                    "is required for kind = \"aha\", e.g. \"https://acme.aha.site/auth/jwt/callback\"",
                ));
            };
            let route = format!("{path} -> {callback}");
            let mut portal = AhaPortal::new(secret, callback);
            if let Some(path) = &entry.path {
                portal = portal.with_path(path);
            }
            if let Some(name) = &entry.name {
                portal = portal.with_name(name);
            }
            if let Some(logout_path) = &entry.logout_path {
                // An empty string turns the remote logout route off.
                portal = portal.with_logout_path((!logout_path.is_empty()).then_some(logout_path));
            }
            if let Some(redirect) = &entry.logout_redirect {
                portal = portal.with_logout_redirect(redirect);
            }
            if let Some(url) = &entry.portal_logout_url {
                portal = portal.with_portal_logout_url(url);
            }
            (Portal::Aha(portal), route)
        }
    };
    Ok((portal.0, entry.kind, entry.secret.clone(), portal.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
listen = "127.0.0.1:8080"
upstream = "http://127.0.0.1:3000"

[session]
cookie = "sid"
introspect = { url = "http://127.0.0.1:3000/api/me" }

[[portal]]
kind = "kustomer"
secret = { env = "PORTAL_SSO_UNIT_SECRET" }
redirect_origins = ["https://acme.kustomer.help"]
"#;

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
    fn missing_upstream_is_named() {
        let text = BASE.replace("upstream = \"http://127.0.0.1:3000\"\n", "");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.to_string(), "upstream: is required");
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let err = parse("listen = \n").unwrap_err();
        assert!(err.key().starts_with("line 1"), "{err}");
    }

    #[test]
    fn a_missing_environment_variable_is_named() {
        let text = BASE.replace("PORTAL_SSO_UNIT_SECRET", "PORTAL_SSO_UNIT_UNSET_VARIABLE");
        let err = SidecarConfig::from_toml(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "portal[0].secret: environment variable PORTAL_SSO_UNIT_UNSET_VARIABLE is not set"
        );
    }

    #[test]
    fn the_tunnel_idle_timeout_defaults_to_five_minutes_and_is_at_least_one_second() {
        let settings = check_server(&parse(BASE).unwrap().server).unwrap();
        assert_eq!(settings.tunnel_idle_timeout, Duration::from_secs(300));
        let text = format!("{BASE}\n[server]\ntunnel_idle_timeout_secs = 0\n");
        let err = check_server(&parse(&text).unwrap().server).unwrap_err();
        assert_eq!(
            err.to_string(),
            "server.tunnel_idle_timeout_secs: must be at least 1"
        );
    }

    #[test]
    fn layer_errors_use_the_file_keys() {
        let portal = || {
            KustomerPortal::new(Secret::new("k".repeat(32)))
                .with_redirect_origins(["https://acme.kustomer.help"])
        };
        let err = SsoLayer::builder()
            .with_identity(|_: &http::request::Parts| async { Ok(None) })
            .with_portal(portal())
            .with_portal(portal())
            .build()
            .unwrap_err();
        assert_eq!(layer_error(&err).key(), "portal[1].path");
    }
}
