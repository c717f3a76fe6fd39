//! [`SsoLayer`] and its builder: settings are validated once and shared read-only.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use crate::config::{Config, DynResolver, SessionCookie};
use crate::events::EventObserver;

use crate::identity::IdentityResolver;
use crate::portal::JwtPortal;
use crate::request_origin::RequestOrigin;
use crate::secret::Secret;
use crate::service::Sso;
use crate::widget::Widget;

mod build;
mod checks;

/// The most `Cookie` header bytes an SSO route reads before answering 431.
pub const DEFAULT_MAX_COOKIE_BYTES: usize = 8 * 1024;

/// Adds portal single sign-on to a service.
///
/// Requests to a portal's routes (`/sso/kustomer`, `/sso/zendesk`, `/sso/aha/logout`, ...)
/// and to an in-app widget's (`/sso/widget/kustomer-chat`, ...) are answered by the layer;
/// every other request goes to the inner service untouched. Build it with
/// [`SsoLayer::builder`].
///
/// ```
/// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
///
/// let layer = SsoLayer::builder()
///     .with_identity(|_parts: &http::request::Parts| async {
///         Ok(Some(Identity::new("alice@example.com")?))
///     })
///     .with_portal(
///         JwtPortal::kustomer(Secret::new("a-kustomer-knowledge-base-secret!!"))
///             .with_redirect_origins(["https://acme.kustomer.help"]),
///     )
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), portal_sso::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct SsoLayer {
    config: Arc<Config>,
}

impl SsoLayer {
    /// Starts a builder.
    pub fn builder() -> SsoLayerBuilder {
        SsoLayerBuilder::new()
    }

    /// The routes the layer answers itself, in the order they are matched.
    pub fn routes(&self) -> impl Iterator<Item = &str> {
        self.config.routes.iter().map(|(path, _)| &**path)
    }
}

impl<S> Layer<S> for SsoLayer {
    type Service = Sso<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Sso::new(inner, Arc::clone(&self.config))
    }
}

impl fmt::Debug for SsoLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoLayer")
            .field("routes", &self.routes().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds an [`SsoLayer`]; [`build`](SsoLayerBuilder::build) checks every setting once.
#[must_use]
pub struct SsoLayerBuilder {
    identity: Option<Arc<dyn DynResolver>>,
    portals: Vec<JwtPortal>,
    widgets: Vec<Widget>,
    login_url: String,
    return_param: String,
    observers: Vec<Arc<dyn EventObserver>>,
    allow_short_secrets: bool,
    session_cookie: Option<SessionCookie>,
    app_logout_path: Option<String>,
    app_logout_url: Option<String>,
    login_loop_limit: u32,
    login_loop_window: Duration,
    cookie_key: Option<Secret>,
    max_cookie_bytes: usize,
    request_origin: RequestOrigin,
    public_url: Option<String>,
}

impl fmt::Debug for SsoLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoLayerBuilder")
            .field("portals", &self.portals)
            .field("widgets", &self.widgets)
            .field("login_url", &self.login_url)
            .field("return_param", &self.return_param)
            .finish_non_exhaustive()
    }
}

impl Default for SsoLayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SsoLayerBuilder {
    /// A builder with the defaults each setter documents.
    pub fn new() -> Self {
        Self {
            identity: None,
            portals: Vec::new(),
            widgets: Vec::new(),
            login_url: "/login".to_owned(),
            return_param: "next".to_owned(),
            observers: Vec::new(),
            allow_short_secrets: false,
            session_cookie: None,
            app_logout_path: None,
            app_logout_url: None,
            login_loop_limit: 3,
            login_loop_window: Duration::from_secs(60),
            cookie_key: None,
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
            request_origin: RequestOrigin::default(),
            public_url: None,
        }
    }

    /// Sets how the user behind a request is found: a closure, [`JwtCookie`],
    /// [`SignedCookie`], or your own [`IdentityResolver`]. Required.
    ///
    /// [`JwtCookie`]: crate::JwtCookie
    /// [`SignedCookie`]: crate::SignedCookie
    pub fn with_identity(mut self, resolver: impl IdentityResolver) -> Self {
        self.identity = Some(Arc::new(resolver));
        self
    }

    /// Adds a portal: a [`JwtPortal`] from a preset (`JwtPortal::kustomer`,
    /// `JwtPortal::zendesk`...) or described field by field. Several are allowed, of any
    /// kinds (one per Kustomer brand, say), each on its own path.
    pub fn with_portal(mut self, portal: JwtPortal) -> Self {
        self.portals.push(portal);
        self
    }

    /// Adds an in-app widget: a [`Widget`] from a preset (`Widget::kustomer_chat`,
    /// `Widget::helpscout_beacon`...) or described field by field. Its route
    /// (`/sso/widget/<kind>` unless [set](Widget::with_path)) answers a `GET` from the
    /// app's own pages with the widget's value as JSON for the signed-in user, `401
    /// {"error": "signed_out"}` for a signed-out one. Several are allowed, each on its own
    /// path.
    ///
    /// # Security
    /// The answer is readable by whoever makes the request, so it is given only to the
    /// app's own pages: a request whose `Sec-Fetch-Site` is not `same-origin`, or, from a
    /// browser that sends none, whose `Origin` (else `Referer`) is not the app's own
    /// origin ([`with_public_url`](Self::with_public_url), else the request's as
    /// [`with_request_origin`](Self::with_request_origin) reads it), gets `403
    /// {"error": "cross_site"}` and nothing is signed. No CORS header is ever sent; every
    /// answer is `Cache-Control: no-store`, `Vary: Cookie`, `X-Content-Type-Options:
    /// nosniff`.
    pub fn with_widget(mut self, widget: Widget) -> Self {
        self.widgets.push(widget);
        self
    }

    /// Sets the app's login page, where signed-out users are sent: a path (`/login`) or an
    /// absolute `http(s)` URL. Default: `/login`.
    pub fn with_login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into();
        self
    }

    /// Sets how a request's origin is read, for the address to come back to when the
    /// login page is on another origin (then it is a full URL, else a path). Default:
    /// [`RequestOrigin::http`], forwarding headers ignored; behind a TLS-terminating
    /// proxy that every request passes, `RequestOrigin::https().trusting_forwarded()`.
    /// Not consulted once [`with_public_url`](Self::with_public_url) is set.
    ///
    /// # Security
    /// `Host` (and `X-Forwarded-Host` when trusted) is whatever reached the layer: a
    /// front proxy that passes on any client's `Host` lets a stray request choose the
    /// host the app's login page sends the browser back to. Prefer
    /// [`with_public_url`](Self::with_public_url) when the public name is known.
    pub fn with_request_origin(mut self, origin: RequestOrigin) -> Self {
        self.request_origin = origin;
        self
    }

    /// Pins the public origin (`https://app.example.com`: scheme, host and optional port,
    /// nothing after) of every absolute URL the layer builds: the address a signed-out
    /// browser is told to come back to when the login page is on another origin. `Host`,
    /// `X-Forwarded-Host` and [`RequestOrigin`] are then never consulted for it, on any
    /// connection ([`Sso::with_request_origin`] included). Default: none, the origin is
    /// read from each request as [`with_request_origin`](Self::with_request_origin) says.
    ///
    /// # Security
    /// Set it whenever the login page is on another origin: the return address then
    /// cannot be steered to another host by a request's `Host`, which any client can set
    /// and many front proxies pass on.
    ///
    /// ```
    /// use portal_sso::{JwtPortal, Secret, SsoLayer};
    /// use tower::ServiceExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_parts: &http::request::Parts| async { Ok(None) })
    ///     .with_portal(
    ///         JwtPortal::kustomer(Secret::new("a-kustomer-knowledge-base-secret!!"))
    ///             .with_redirect_origins(["https://acme.kustomer.help"]),
    ///     )
    ///     .with_login_url("https://login.example.com/signin")
    ///     .with_public_url("https://app.example.com")
    ///     .build()?;
    /// let app = tower::service_fn(|_| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
    /// });
    ///
    /// // A signed-out request naming another host still comes back to the public origin.
    /// let response = tower::Layer::layer(&sso, app)
    ///     .oneshot(
    ///         http::Request::get("/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/")
    ///             .header("host", "evil.example")
    ///             .header("x-forwarded-host", "evil.example")
    ///             .body(axum::body::Body::empty())?,
    ///     )
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with(
    ///     "https://login.example.com/signin?next=https%3A%2F%2Fapp.example.com%2Fsso%2Fkustomer%3F"
    /// ));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`Sso::with_request_origin`]: crate::Sso::with_request_origin
    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Sets the query parameter of the login page that carries the URL to come back to.
    /// Default: `next`.
    pub fn with_return_param(mut self, name: impl Into<String>) -> Self {
        self.return_param = name.into();
        self
    }

    /// Adds an observer that receives every decision (for an audit log or metrics).
    pub fn with_observer(mut self, observer: impl EventObserver) -> Self {
        self.observers.push(Arc::new(observer));
        self
    }

    /// Accepts portal secrets shorter than 32 bytes. Default: refused.
    ///
    /// # Security
    /// An HS256 key shorter than the hash output is easier to brute-force from one token.
    /// Only for test set-ups whose vendor issued a short secret.
    pub fn allow_short_secrets(mut self, allow: bool) -> Self {
        self.allow_short_secrets = allow;
        self
    }

    /// Names the app's session cookie, so the login-loop page can say which cookie was
    /// expected and remote logout can expire it. Default: none.
    pub fn with_session_cookie(mut self, cookie: SessionCookie) -> Self {
        self.session_cookie = Some(cookie);
        self
    }

    /// Sets the app's own logout route (e.g. `/logout`). The app still handles it; when
    /// it answers with a 2xx or 3xx, the layer sends the browser on to the portals'
    /// logout URL ([`JwtPortal::with_portal_logout_url`]) instead, keeping the app's
    /// `Set-Cookie` headers. Default: none.
    ///
    pub fn with_app_logout_path(mut self, path: impl Into<String>) -> Self {
        self.app_logout_path = Some(path.into());
        self
    }

    /// Sets the app's own logout URL, which the remote logout route sends the browser
    /// through (instead of only expiring the session cookie). Default: none.
    pub fn with_app_logout_url(mut self, url: impl Into<String>) -> Self {
        self.app_logout_url = Some(url.into());
        self
    }

    /// Sets how many times in `window` the browser may come back from the login page still
    /// signed out before the layer stops redirecting and explains. Default: 3 in 60 s.
    pub fn with_login_loop_limit(mut self, limit: u32, window: Duration) -> Self {
        self.login_loop_limit = limit;
        self.login_loop_window = window;
        self
    }

    /// Sets the key material the layer's own cookies are signed with (the login-loop trip
    /// count and the remote-logout marker): at least
    /// [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN) random bytes, expanded into the cookies'
    /// signing key with HKDF (`cookie::Key::derive_from`).
    /// Default: a random key made when the layer is built.
    ///
    /// # Security
    /// Several instances serving the same users (replicas behind a load balancer) must be
    /// given the same key: with a key of their own, each ignores the trips counted by the
    /// others (a browser caught in a login loop is redirected far longer before the
    /// explanation), and a remote logout that passes through the app's logout on another
    /// instance sends the browser back to the portal. The key only signs these cookies; it
    /// must not be one used elsewhere.
    ///
    /// ```
    /// use portal_sso::{JwtPortal, Secret, SsoLayer};
    ///
    /// let layer = SsoLayer::builder()
    ///     .with_identity(|_parts: &http::request::Parts| async { Ok(None) })
    ///     .with_portal(
    ///         JwtPortal::kustomer(Secret::new("a-kustomer-knowledge-base-secret!!"))
    ///             .with_redirect_origins(["https://acme.kustomer.help"]),
    ///     )
    ///     .with_cookie_key(Secret::new("the-same-32-bytes-on-every-replica!"))
    ///     .build()?;
    /// # let _ = layer;
    /// # Ok::<(), portal_sso::ConfigError>(())
    /// ```
    pub fn with_cookie_key(mut self, key: Secret) -> Self {
        self.cookie_key = Some(key);
        self
    }

    /// Sets the most `Cookie` header bytes an SSO route reads; more is answered with 431.
    /// Default: 8 KiB.
    pub fn with_max_cookie_bytes(mut self, bytes: usize) -> Self {
        self.max_cookie_bytes = bytes;
        self
    }
}
