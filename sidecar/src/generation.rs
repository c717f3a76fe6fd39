//! What a browser connection is served with: the layer around the connection's own proxy,
//! each request counted, and the HTTP/1 and TLS settings, all made from one config. A
//! reload makes a new [`Generation`]; the metrics and recent events ([`Shared`]) outlive it.

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::CONNECTION;
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use ipnet::IpNet;
use portal_sso::{EventObserver, RequestOrigin, Sso, SsoAnswered, SsoBody, SsoLayer};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower_layer::Layer;
use tower_service::Service;

use crate::config::{ConfigFileError, ServerSettings, SidecarConfig};
use crate::host;
use crate::metrics::{Metrics, RouteClass};
use crate::proxy::{ProxyBody, Upstream};
use crate::recent::Recent;

/// hyper's smallest read buffer.
const MIN_BUF_SIZE: usize = 8 * 1024;

/// What lasts across reloads: the metrics, the recent events and the admin port's state
/// (its token set again by each reload).
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) recent: Arc<Recent>,
    pub(crate) admin: Arc<crate::admin::State>,
}

/// What each browser connection is served with, made from one config.
pub(crate) struct Generation {
    pub(crate) layer: SsoLayer,
    upstream: Arc<Upstream>,
    metrics: Arc<Metrics>,
    pub(crate) builder: http1::Builder,
    pub(crate) settings: ServerSettings,
    /// The TLS handshake of each new connection, with the certificate read last.
    pub(crate) tls: Option<TlsAcceptor>,
    /// The OIDC routes, answered in front of the layer, with `session.oidc`.
    oidc: Option<Arc<crate::oidc::Oidc>>,
    /// Peers whose `X-Forwarded-Proto`/`-Host` say the origin a browser used.
    trusted_proxies: Arc<[IpNet]>,
}

impl Generation {
    /// The generation for `config`: its layer reports to the shared metrics and recent events.
    pub(crate) fn new(config: &SidecarConfig, shared: &Shared) -> Result<Self, ConfigFileError> {
        let metrics = Arc::clone(&shared.metrics);
        let observers: Vec<Arc<dyn EventObserver>> = vec![metrics.clone(), shared.recent.clone()];
        let layer = config.layer(observers, Some(Arc::clone(&metrics)))?;
        let settings = config.server.clone();
        let upstream = Upstream::new(
            config.upstream.clone(),
            Arc::clone(&metrics),
            settings.tunnel_idle_timeout,
        );
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout)
            .max_buf_size(settings.max_header_bytes.max(MIN_BUF_SIZE))
            .keep_alive(true);
        let oidc = config.oidc_routes(Some(Arc::clone(&metrics)));
        Ok(Self {
            layer,
            upstream,
            metrics,
            builder,
            settings,
            tls: config.tls.clone().map(TlsAcceptor::from),
            oidc,
            trusted_proxies: config.upstream.trusted_proxies.clone().into(),
        })
    }

    /// Why the sidecar cannot sign anyone in yet (an OpenID provider not reached), for
    /// `/readyz`.
    pub(crate) fn not_ready(&self) -> Option<String> {
        self.oidc.as_ref().and_then(|oidc| oidc.not_ready())
    }

    /// The service for one browser connection: requests that name two hosts refused,
    /// then the layer around the connection's own proxy, counted. `reloaded` has seen
    /// this generation: when a reload publishes another, the connection's next request is
    /// served with that one (see [`ConnectionService`]).
    pub(crate) fn service_for(
        &self,
        peer: SocketAddr,
        slot: crate::proxy::Slot,
        reloaded: watch::Receiver<Arc<Generation>>,
    ) -> ConnectionService {
        ConnectionService {
            connection: Arc::new(ConnectionState {
                peer,
                slot: Arc::clone(&slot),
                reloaded,
            }),
            inner: {
                // A full return address is built on `public_url`, which the config
                // requires for it, never on the request's origin; that origin is read only
                // to tell a widget's own pages (without `public_url`) from other sites.
                let proxy = self.upstream.proxy_for(peer, slot, self.tls.is_some());
                let mut origin = if self.tls.is_some() {
                    RequestOrigin::https()
                } else {
                    RequestOrigin::http()
                };
                if crate::forwarding::is_trusted(Some(peer.ip()), &self.trusted_proxies) {
                    origin = origin.trusting_forwarded();
                }
                self.layer.layer(proxy).with_request_origin(origin)
            },
            metrics: Arc::clone(&self.metrics),
            oidc: self.oidc.clone(),
        }
    }
}

/// The layer around a connection's proxy, with each request counted by route class and
/// status, and a request that names two hosts refused before any route sees it.
///
/// After a reload, the connection's next request is served by a service made from the
/// new generation and answered with `Connection: close`: the new config applies to it at once,
/// nothing in flight is cut, and the browser's next connection is the new generation's.
#[derive(Clone)]
pub(crate) struct ConnectionService {
    inner: Sso<crate::proxy::Proxy>,
    metrics: Arc<Metrics>,
    connection: Arc<ConnectionState>,
    oidc: Option<Arc<crate::oidc::Oidc>>,
}

/// What a connection's service needs to be made again from a reloaded generation.
struct ConnectionState {
    peer: SocketAddr,
    slot: crate::proxy::Slot,
    /// Changes when a reload publishes a new generation; reading whether it has is lock-free.
    reloaded: watch::Receiver<Arc<Generation>>,
}

impl ConnectionService {
    /// The request served by the generation a reload published, answered with
    /// `Connection: close`.
    fn call_reloaded(
        &self,
        request: Request<Incoming>,
    ) -> <Self as Service<Request<Incoming>>>::Future {
        let mut reloaded = self.connection.reloaded.clone();
        let generation = Arc::clone(&reloaded.borrow_and_update());
        let mut service = generation.service_for(
            self.connection.peer,
            Arc::clone(&self.connection.slot),
            reloaded,
        );
        Box::pin(async move {
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            let mut response = service.call(request).await?;
            if response.status() != StatusCode::SWITCHING_PROTOCOLS {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response)
        })
    }
}

impl Service<Request<Incoming>> for ConnectionService {
    type Response = Response<ProxyBody>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        // An error means no reload can come any more: nothing changed.
        if self.connection.reloaded.has_changed().unwrap_or(false) {
            return self.call_reloaded(request);
        }
        let metrics = Arc::clone(&self.metrics);
        if host::names_two_hosts(&request) {
            let refused = host::refusal().map(SsoBody::full);
            metrics.request(RouteClass::Proxy, refused.status());
            return Box::pin(std::future::ready(Ok(refused)));
        }
        if let Some(oidc) = &self.oidc
            && let Some(route) = oidc.route(request.uri().path())
        {
            // The sidecar's own sign-in routes: answered here, never forwarded.
            let (parts, _body) = request.into_parts();
            let answer = oidc.answer(route, parts);
            return Box::pin(async move {
                let response = answer.await;
                metrics.request(RouteClass::Sso, response.status());
                Ok(response.map(SsoBody::full))
            });
        }
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            let class = if response.extensions().get::<SsoAnswered>().is_some() {
                RouteClass::Sso
            } else {
                RouteClass::Proxy
            };
            metrics.request(class, response.status());
            Ok(response)
        })
    }
}
