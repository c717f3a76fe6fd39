//! The sidecar's config file: TOML read once at start, every key checked, secrets read from
//! the environment or from files, and the result turned into an [`SsoLayer`].
//!
//! Every error names the key at fault (`portal[1].redirect_origins[0]`) and says what is
//! wrong in one line, without ever repeating a secret's value. See
//! `examples/portal-sso.toml` for every key with its default.
//!
//! The file is read in three steps: `file` gives its shape (serde, with the defaults),
//! `check` turns each value into settings, reading secrets through `secret_ref`, and this
//! module builds the layer from the result. `portal` holds each `[[portal]]` kind's shape
//! and checks, `widget` each `[[widget]]`'s; `summary` is what `check-config` prints;
//! `load` reads it all on a thread of its own within [`LOAD_TIME_LIMIT`].

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use ipnet::IpNet;
use jsonwebtoken::Algorithm;

use portal_sso::{
    ClaimPointers, ConfigError, EventObserver, IdentityResolver, JwtCookie, Secret, SessionCookie,
    SignedCookie, SignedCookieMode, SsoLayer, SsoLayerBuilder,
};

use crate::introspect::Introspect;
use crate::metrics::{Metrics, Timed};

mod admin;
mod check;
mod cookie_key;
mod entry;
mod error;
mod file;
mod load;
mod oidc;
mod portal;
mod secret_ref;
mod summary;
mod tls;
mod warnings;
mod widget;

pub use error::ConfigFileError;
pub use load::LOAD_TIME_LIMIT;
pub(crate) use load::Loading;

use cookie_key::CookieKey;

use portal::PortalSettings;
use secret_ref::SecretRef;
use widget::WidgetSettings;

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
    /// The app's base URL, `http://host:port`; without it the sidecar answers its own
    /// routes only and 404 for anything else.
    pub uri: Option<Uri>,
    /// How long opening a connection to the app may take before the answer is 502.
    pub connect_timeout: Duration,
    /// How long the app may take to send its response head before the answer is 504.
    pub response_timeout: Duration,
    /// Peers whose `X-Forwarded-*` headers are kept and extended.
    pub trusted_proxies: Vec<IpNet>,
    /// How an `https://` app is verified; `None` for `http://`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Where the user behind a request comes from.
#[derive(Debug, Clone)]
enum Source {
    Introspect {
        url: Uri,
        cache_ttl: Duration,
        cache_max_entries: usize,
        timeout: Duration,
        /// For an `https://` URL: the roots the app's certificate is verified with.
        tls: Option<Arc<rustls::ClientConfig>>,
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
    /// portal-sso's own session cookie, set after a sign-in at an OpenID provider.
    Oidc(Arc<crate::oidc::Settings>),
}

/// A checked config file, ready to serve.
#[derive(Clone)]
pub struct SidecarConfig {
    /// The address browsers connect to.
    pub listen: SocketAddr,
    /// The admin listener (`/healthz`, `/readyz`, `/metrics`, `/events`), if any.
    pub admin_listen: Option<SocketAddr>,
    /// The bearer token `/metrics` and `/events` want, if any.
    admin_token: Option<admin::AdminToken>,
    /// How the server treats connections.
    pub server: ServerSettings,
    /// How requests reach the app.
    pub upstream: UpstreamSettings,
    /// HTTPS on `listen` (`[tls]`), read from its files at load and on each reload.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    session_cookie: SessionCookie,
    source: Source,
    claims: ClaimPointers,
    /// The public origin every absolute URL is built on; required when `login_url` is
    /// on another origin.
    public_url: Option<String>,
    login_url: String,
    return_param: String,
    portals: Vec<PortalSettings>,
    widgets: Vec<WidgetSettings>,
    app_logout_path: Option<String>,
    app_logout_url: Option<String>,
    allow_short_secrets: bool,
    /// Signs portal-sso's own cookies (login-loop count, remote-logout marker).
    cookie_key: CookieKey,
}

impl fmt::Debug for SidecarConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SidecarConfig")
            .field("listen", &self.listen)
            .field("admin_listen", &self.admin_listen)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "REDACTED"),
            )
            .field("upstream", &self.upstream)
            .field("tls", &self.tls.is_some())
            .field("session_cookie", &self.session_cookie.name())
            .field("portals", &self.portals.len())
            .field("widgets", &self.widgets.len())
            .finish_non_exhaustive()
    }
}

impl SidecarConfig {
    /// Reads and checks the file at `path`, secrets included.
    pub fn load(path: &Path) -> Result<Self, ConfigFileError> {
        Self::from_toml(&read(path)?)
    }

    /// Reads and checks a config given as TOML text, secrets included.
    pub fn from_toml(text: &str) -> Result<Self, ConfigFileError> {
        let file = file::parse(text)?;
        let config = check::check(file)?;
        // Building the layer once proves the whole configuration, routes included.
        config.layer(Vec::new(), None)?;
        Ok(config)
    }

    /// The bearer token the admin port's `/metrics` and `/events` want (`admin_token`).
    pub fn admin_token(&self) -> Option<&Secret> {
        self.admin_token.as_ref().map(|admin| &admin.token)
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
            .with_cookie_key(self.cookie_key.secret().clone())
            .allow_short_secrets(self.allow_short_secrets);
        builder = match &self.source {
            Source::Introspect {
                url,
                cache_ttl,
                cache_max_entries,
                timeout,
                tls,
            } => {
                let mut source = Introspect::new(url.clone(), self.session_cookie.name())
                    .with_claims(self.claims.clone())
                    .with_cache(*cache_ttl, *cache_max_entries)
                    .with_timeout(*timeout);
                if let Some(tls) = tls {
                    source = source.with_tls(tls);
                }
                with_identity(builder, source, metrics)
            }
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
            Source::Oidc(settings) => with_identity(
                builder,
                crate::oidc::SessionReader::new(settings, self.cookie_key.secret()),
                metrics,
            ),
        };
        if let Some(url) = &self.public_url {
            builder = builder.with_public_url(url);
        }
        for portal in &self.portals {
            builder = builder.with_portal(portal.portal.clone());
        }
        for widget in &self.widgets {
            builder = builder.with_widget(widget.widget.clone());
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
}

impl SidecarConfig {
    /// The `session.oidc` settings, when the identity comes from an OpenID provider.
    pub fn oidc_settings(&self) -> Option<&crate::oidc::Settings> {
        match &self.source {
            Source::Oidc(settings) => Some(settings),
            _ => None,
        }
    }

    /// The OIDC routes for this config, their discovery started; `None` without
    /// `session.oidc`.
    pub(crate) fn oidc_routes(
        &self,
        metrics: Option<Arc<Metrics>>,
    ) -> Option<Arc<crate::oidc::Oidc>> {
        match &self.source {
            Source::Oidc(settings) => Some(crate::oidc::Oidc::start(
                Arc::clone(settings),
                self.cookie_key.secret(),
                metrics,
            )),
            _ => None,
        }
    }
}

/// Reads only `admin_listen` from the file at `path`, for `portal-sso healthcheck`: no
/// other key is checked and no secret is read, so it works where the secrets are not
/// readable.
pub fn read_admin_listen(path: &Path) -> Result<Option<SocketAddr>, ConfigFileError> {
    let listeners: file::Listeners = file::parse_as(&read(path)?)?;
    Ok(listeners.admin_listen)
}

fn read(path: &Path) -> Result<String, ConfigFileError> {
    let cannot_read = |kind: std::io::ErrorKind| {
        ConfigFileError::new(
            "--config",
            format!("cannot read {}: {kind}", path.display()),
        )
    };
    let bytes = load::read_file("--config", path).map_err(|err| cannot_read(err.kind()))?;
    String::from_utf8(bytes).map_err(|_| cannot_read(std::io::ErrorKind::InvalidData))
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

/// Names the layer's field as the file's key: the layer says `portals[0]` and
/// `widgets[0]`, the file says `portal[0]` and `widget[0]`.
fn layer_error(err: &ConfigError) -> ConfigFileError {
    let field = err.field();
    let key = if let Some(rest) = field.strip_prefix("portals") {
        format!("portal{rest}")
    } else if let Some(rest) = field.strip_prefix("widgets") {
        format!("widget{rest}")
    } else {
        match field {
            "login_url" => "login.url".to_owned(),
            "return_param" => "login.return_param".to_owned(),
            "identity" => "session".to_owned(),
            "session_cookie" => "session.cookie".to_owned(),
            other => other.to_owned(),
        }
    };
    ConfigFileError::new(key, err.problem())
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_sso::JwtPortal;

    /// A small file of the right shape for the unit tests to edit. Tests that only parse it
    /// need no secret in the environment.
    pub(super) const BASE: &str = r#"
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
    fn a_missing_environment_variable_is_named() {
        let text = BASE.replace("PORTAL_SSO_UNIT_SECRET", "PORTAL_SSO_UNIT_UNSET_VARIABLE");
        let err = SidecarConfig::from_toml(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "portal[0].secret: environment variable PORTAL_SSO_UNIT_UNSET_VARIABLE is not set"
        );
    }

    #[test]
    fn a_ca_file_without_an_https_app_is_named() {
        let text = BASE.replace(
            "upstream = \"http://127.0.0.1:3000\"\n",
            "upstream = \"http://127.0.0.1:3000\"\nupstream_ca = { file = \"/nonexistent.pem\" }\n",
        );
        let err = SidecarConfig::from_toml(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "upstream_ca: is only for an https:// upstream or session.introspect.url"
        );
    }

    #[test]
    fn layer_errors_use_the_file_keys() {
        let portal = || {
            JwtPortal::kustomer(Secret::new("k".repeat(32)))
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
