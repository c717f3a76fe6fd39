//! The validated settings the service reads on every request, built once by
//! [`SsoLayerBuilder::build`](crate::SsoLayerBuilder::build) and shared in an `Arc`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use url::Url;

use crate::error::ConfigError;
use crate::events::{EventKind, EventObserver, SsoEvent};
use crate::identity::{Identity, IdentityError, IdentityResolver};
use crate::portal::engine::Engine;
use crate::request_origin::RequestOrigin;
use crate::token::TokenSigner;
use crate::widget::WidgetSigner;

/// Everything the service needs, validated and shared.
pub(crate) struct Config {
    pub(crate) routes: Box<[(Box<str>, Route)]>,
    pub(crate) portals: Box<[PortalEntry]>,
    pub(crate) widgets: Box<[WidgetEntry]>,
    pub(crate) resolver: Arc<dyn DynResolver>,
    pub(crate) login_url: String,
    /// The login page's origin when `login_url` is absolute: a request from another
    /// origin is sent there with a full URL to come back to.
    pub(crate) login_origin: Option<String>,
    /// How a request's origin is read, unless a connection says otherwise.
    pub(crate) request_origin: RequestOrigin,
    /// The configured public origin: when set, the origin of every absolute URL built,
    /// and requests' `Host` and forwarding headers are not read for it.
    pub(crate) public_origin: Option<String>,
    pub(crate) return_param: String,
    pub(crate) observers: Box<[Arc<dyn EventObserver>]>,
    pub(crate) session_cookie: Option<SessionCookie>,
    pub(crate) app_logout: Option<AppLogout>,
    pub(crate) app_logout_url: Option<String>,
    /// Signs the layer's own cookies: the login-loop count and the remote-logout marker.
    pub(crate) cookie_key: cookie::Key,
    pub(crate) loop_guard: LoopGuard,
    pub(crate) max_cookie_bytes: usize,
}

impl Config {
    /// The route `path` belongs to, if any: a comparison per route, no allocation.
    #[inline]
    pub(crate) fn route(&self, path: &str) -> Option<Route> {
        self.routes
            .iter()
            .find(|(route_path, _)| **route_path == *path)
            .map(|(_, route)| *route)
    }

    /// Records one decision: builds the event (filled in by `fill`) only when an
    /// observer or an enabled `tracing` subscriber will see it, so an unobserved layer
    /// spends nothing on it.
    pub(crate) fn record(
        &self,
        kind: EventKind,
        portal: &str,
        path: &str,
        fill: impl FnOnce(&mut SsoEvent),
    ) {
        if self.observers.is_empty() && !crate::events::traced(kind) {
            return;
        }
        let mut event = SsoEvent::new(kind, portal, path);
        fill(&mut event);
        crate::events::trace(&event);
        for observer in &self.observers {
            observer.on_event(&event);
        }
    }
}

/// What a matched path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// A portal's login URL (index into `Config::portals`).
    Login(usize),
    /// A portal's remote logout URL.
    Logout(usize),
    /// The app's own logout, passed through and then sent on to the portal.
    AppLogout,
    /// An in-app widget's value (index into `Config::widgets`).
    Widget(usize),
}

/// One portal: its name for events, its key, its checked settings.
pub(crate) struct PortalEntry {
    pub(crate) name: String,
    pub(crate) signer: TokenSigner,
    pub(crate) engine: Engine,
    pub(crate) logout_redirect: String,
}

/// One in-app widget: its name for events, its checked signer.
pub(crate) struct WidgetEntry {
    pub(crate) name: String,
    pub(crate) signer: WidgetSigner,
}

pub(crate) struct AppLogout {
    pub(crate) portal_logout_url: Url,
}

/// Counts trips to the login page in a signed cookie, so a session the layer cannot read
/// ends on an explanation instead of an endless redirect loop. No server state: instances
/// built with the same `with_cookie_key` read each other's cookies.
pub(crate) struct LoopGuard {
    pub(crate) limit: u32,
    pub(crate) window: Duration,
}

/// The identity source's answer, boxed, so the layer is not generic over the source.
pub(crate) type BoxIdentityFuture =
    Pin<Box<dyn Future<Output = Result<Option<Identity>, IdentityError>> + Send + 'static>>;

/// Object-safe face of [`IdentityResolver`], as the config keeps it.
pub(crate) trait DynResolver: Send + Sync + 'static {
    /// [`IdentityResolver::resolve`], boxed.
    fn resolve(&self, parts: &Parts) -> BoxIdentityFuture;

    /// [`IdentityResolver::forget`].
    fn forget(&self, parts: &Parts);
}

impl<R: IdentityResolver> DynResolver for R {
    fn resolve(&self, parts: &Parts) -> BoxIdentityFuture {
        Box::pin(IdentityResolver::resolve(self, parts))
    }

    fn forget(&self, parts: &Parts) {
        IdentityResolver::forget(self, parts);
    }
}

/// The app's session cookie, as the layer needs to know it: to name it on the login-loop
/// page and to expire it on remote logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    name: String,
    path: String,
    domain: Option<String>,
    secure: bool,
}

impl SessionCookie {
    /// The cookie called `name`, with `Path=/` and no `Domain`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: "/".to_owned(),
            domain: None,
            secure: false,
        }
    }

    /// Sets the `Path` the app gives the cookie. Default: `/`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the `Domain` the app gives the cookie. Default: none (host-only).
    #[must_use]
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Says the app sets the cookie with `Secure`. Default: `false`, but a cookie whose
    /// name starts with `__Host-` or `__Secure-` is always treated as secure.
    ///
    /// # Security
    /// A browser ignores a `Set-Cookie` without `Secure` for such a cookie, so remote
    /// logout could not end the session: the expiring cookie carries `Secure` whenever
    /// the app's does.
    #[must_use]
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the app's cookie is `Secure`: configured so, or required by its prefix.
    pub fn is_secure(&self) -> bool {
        self.secure || self.name.starts_with("__Host-") || self.name.starts_with("__Secure-")
    }

    /// A `__Host-` cookie must have `Path=/` and no `Domain`, or browsers refuse it.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        // RFC 6265's cookie-name: a token, no separators.
        let separator = |b: u8| b"()<>@,;:\\\"/[]?={}".contains(&b);
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !separator(b))
        {
            return Err(ConfigError::new(
                "session_cookie",
                "must be a cookie name (letters, digits, `-`, `_`, ...)",
            ));
        }
        if self.name.starts_with("__Host-") && (self.path != "/" || self.domain.is_some()) {
            return Err(ConfigError::new(
                "session_cookie",
                "a `__Host-` cookie has Path=/ and no Domain: set neither",
            ));
        }
        Ok(())
    }

    /// A `Set-Cookie` that deletes it.
    pub(crate) fn removal(&self) -> cookie::Cookie<'static> {
        let mut builder = cookie::Cookie::build((self.name.clone(), ""))
            .path(self.path.clone())
            .max_age(cookie::time::Duration::ZERO)
            .expires(cookie::time::OffsetDateTime::UNIX_EPOCH)
            .http_only(true)
            .secure(self.is_secure());
        if let Some(domain) = &self.domain {
            builder = builder.domain(domain.clone());
        }
        builder.build()
    }
}
