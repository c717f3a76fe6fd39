//! Identity from an OpenID provider (`[session.oidc]`): the sidecar signs the user in at
//! the company's IdP (Okta, Entra ID, Auth0, Cognito, Keycloak, Google...) and keeps its
//! own small session cookie, which the layer reads to issue every portal's token as with
//! any other session source.
//!
//! - `provider`: discovery and the key set, fetched in the background with retries; the
//!   key set fetched again (once a minute at most) for an unknown `kid`;
//! - `login`: `/sso/oidc/login`, where the layer sends signed-out browsers: the chooser
//!   of providers, then the IdP's authorization endpoint (code flow, PKCE S256, a nonce);
//! - `callback`: the redirect path: state matched, code redeemed, ID token verified by
//!   `openidconnect`, userinfo for missing fields, the access `rules`, then the
//!   `session` cookie;
//! - `logout`: `/sso/oidc/logout`, then the IdP's end-session endpoint when asked;
//! - `flow`: the short-lived cookie holding a sign-in in progress;
//! - `events`: the `oidc_*` events and their counters.
//!
//! These routes are answered in front of the layer and never reach the app.

mod callback;
mod events;
mod flow;
mod http;
mod id_token;
mod login;
mod logout;
mod pages;
mod provider;
mod rules;
mod session;
mod settings;

pub mod online;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::http::request::Parts;
use ::http::{Method, Response, StatusCode};
use sha2::{Digest, Sha256};

use portal_sso::Secret;

use crate::metrics::Metrics;
use provider::Provider;

pub use session::{MAX_COOKIE_BYTES, SessionReader};
pub use settings::{ProviderSettings, Rules, Settings};

/// Where the layer sends signed-out browsers: the sidecar's own login route.
pub const LOGIN_PATH: &str = "/sso/oidc/login";
/// Ends portal-sso's session, then the IdP's when configured.
pub const LOGOUT_PATH: &str = "/sso/oidc/logout";
/// The parameter carrying the same-site path to come back to.
pub const RETURN_PARAM: &str = "next";

/// A route of the OIDC routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Login,
    Callback,
    Logout,
}

/// The OIDC routes of one config: the providers, the cookie keys, and the states already
/// redeemed here.
pub(crate) struct Oidc {
    settings: Arc<Settings>,
    providers: Vec<Arc<Provider>>,
    keys: session::Keys,
    metrics: Option<Arc<Metrics>>,
    redeemed: Redeemed,
}

/// An answer of the OIDC routes, boxed: they are not on the hot path.
pub(crate) type Answer = Pin<Box<dyn Future<Output = Response<String>> + Send + 'static>>;

impl Oidc {
    /// The routes for `settings`, with cookies keyed from `cookie_key`. Discovery starts
    /// in the background on the current runtime.
    pub(crate) fn start(
        settings: Arc<Settings>,
        cookie_key: &Secret,
        metrics: Option<Arc<Metrics>>,
    ) -> Arc<Self> {
        let providers: Vec<Arc<Provider>> = settings
            .providers
            .iter()
            .map(|provider| Provider::new(provider.clone(), metrics.clone()))
            .collect();
        for provider in &providers {
            provider.start();
        }
        Arc::new(Self {
            settings,
            providers,
            keys: session::Keys::derive(cookie_key),
            metrics,
            redeemed: Redeemed::default(),
        })
    }

    /// The route `path` is, if any: a few comparisons.
    pub(crate) fn route(&self, path: &str) -> Option<Route> {
        match path {
            LOGIN_PATH => Some(Route::Login),
            LOGOUT_PATH => Some(Route::Logout),
            _ if self
                .providers
                .iter()
                .any(|p| p.settings.redirect_path == path) =>
            {
                Some(Route::Callback)
            }
            _ => None,
        }
    }

    /// Answers `route` for the request `parts` (its body is not read).
    pub(crate) fn answer(self: &Arc<Self>, route: Route, parts: Parts) -> Answer {
        let this = Arc::clone(self);
        let read_only = parts.method == Method::GET || parts.method == Method::HEAD;
        Box::pin(async move {
            match route {
                Route::Login if read_only => login::login(&this, &parts).await,
                Route::Callback if read_only => callback::callback(&this, &parts).await,
                Route::Logout if read_only || parts.method == Method::POST => {
                    logout::logout(&this, &parts).await
                }
                _ => {
                    let mut response = pages::explain(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "Method not allowed",
                        "This sign-in address only answers GET.",
                        None,
                    );
                    response.headers_mut().insert(
                        ::http::header::ALLOW,
                        ::http::HeaderValue::from_static("GET, HEAD"),
                    );
                    response
                }
            }
        })
    }

    /// Why sign-ins cannot start, for `/readyz`: the first provider not discovered yet.
    pub(crate) fn not_ready(&self) -> Option<String> {
        self.providers
            .iter()
            .find_map(|provider| provider.not_ready())
    }

    fn provider(&self, name: &str) -> Option<&Arc<Provider>> {
        self.providers.iter().find(|p| p.settings.name == name)
    }

    fn record(&self, event: events::Event, provider: &str, detail: Option<&str>) {
        events::record(self.metrics.as_deref(), event, provider, detail);
    }
}

/// The states redeemed on this replica in the last [`flow::FLOW_TTL_SECS`], by hash: a
/// callback replayed with a copy of its state cookie is refused here too (across
/// replicas, the IdP's single-use code and the cookie's removal cover it).
#[derive(Default)]
struct Redeemed(Mutex<HashMap<[u8; 32], Instant>>);

/// The most states remembered; past it, the oldest half is forgotten.
const MAX_REDEEMED: usize = 100_000;

impl Redeemed {
    /// Marks `state` redeemed; `false` when it already was.
    fn first_use(&self, state: &str) -> bool {
        let key: [u8; 32] = Sha256::digest(state.as_bytes()).into();
        let ttl = Duration::from_secs(flow::FLOW_TTL_SECS);
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= MAX_REDEEMED {
            seen.retain(|_, at| at.elapsed() < ttl);
            if seen.len() >= MAX_REDEEMED {
                let mut ages: Vec<Instant> = seen.values().copied().collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                seen.retain(|_, at| *at > cut);
            }
        }
        match seen.get(&key) {
            Some(at) if at.elapsed() < ttl => false,
            _ => {
                seen.insert(key, Instant::now());
                true
            }
        }
    }
}

/// The query's parameters `names`, each read once; `Err` names one sent twice.
fn params<const N: usize>(
    query: Option<&str>,
    names: [&str; N],
) -> Result<[Option<String>; N], String> {
    let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if let Some(index) = names.iter().position(|name| *name == key)
            && found[index].replace(value.into_owned()).is_some()
        {
            return Err(names[index].to_owned());
        }
    }
    Ok(found)
}
