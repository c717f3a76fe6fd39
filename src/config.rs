//! The validated settings the service reads on every request, built once by
//! [`SsoLayerBuilder::build`](crate::SsoLayerBuilder::build) and shared in an `Arc`.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::events::{EventKind, EventObserver, SsoEvent};
use crate::handler::DynResolver;
use crate::layer::SessionCookie;
use crate::portal::engine::Engine;
use crate::token::TokenSigner;

/// Everything the service needs, validated and shared.
pub(crate) struct Config {
    pub(crate) routes: Box<[(Box<str>, Route)]>,
    pub(crate) portals: Box<[PortalEntry]>,
    pub(crate) resolver: Arc<dyn DynResolver>,
    pub(crate) login_url: String,
    pub(crate) return_param: String,
    pub(crate) observers: Box<[Arc<dyn EventObserver>]>,
    pub(crate) session_cookie: Option<SessionCookie>,
    pub(crate) app_logout: Option<AppLogout>,
    pub(crate) app_logout_url: Option<String>,
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
}

/// One portal: its name for events, its key, its checked settings.
pub(crate) struct PortalEntry {
    pub(crate) name: String,
    pub(crate) signer: TokenSigner,
    pub(crate) engine: Engine,
    pub(crate) logout_redirect: String,
}

pub(crate) struct AppLogout {
    pub(crate) portal_logout_url: Url,
}

/// Counts trips to the login page in a signed cookie, so a session the layer cannot read
/// ends on an explanation instead of an endless redirect loop. No server state.
pub(crate) struct LoopGuard {
    pub(crate) key: cookie::Key,
    pub(crate) limit: u32,
    pub(crate) window: Duration,
}
