//! [`Proxy`]: forwards a browser connection's requests to the app and streams the
//! answers back.
//!
//! Each browser connection gets its own connection to the app, through hyper's
//! `client::conn::http1`, kept for the browser connection's next requests (HTTP/1.1
//! answers them one after another, so one is all it needs). Bodies stream both ways
//! frame by frame; hop-by-hop headers are removed both ways and the forwarding headers
//! set as [`crate::forwarding`] says (`headers`); request trailers are dropped
//! (`trailers`); an HTTP/1.1 `Upgrade` (WebSocket) is tunnelled (`upgrade`).

mod errors;
mod headers;
mod trailers;
mod upgrade;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::uri::Authority;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::client::conn::TrySendError;
use hyper::client::conn::http1::{self as client_http1, SendRequest};
use hyper_util::rt::TokioIo;
use portal_sso::SsoBody;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tower_http::timeout::{TimeoutBody, TimeoutError};
use tower_service::Service;

use crate::config::UpstreamSettings;
use crate::forwarding;
use crate::metrics::Metrics;
pub use errors::ProxyError;
use trailers::WithoutTrailers;
pub use upgrade::Slot;

/// An error from a body passed on.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The app's response body as passed on: cut when nothing arrives for the response
/// timeout.
pub type AppBody = BoxBody<Bytes, BoxError>;

/// The body the proxy answers with: the app's, or a page of its own.
pub type ProxyBody = SsoBody<AppBody>;

/// The browser's request body as it goes to the app: trailers are not forwarded.
type RequestBody = WithoutTrailers<Incoming>;

/// The app's response, and the connection to the app it came on.
type Answered = (SendRequest<RequestBody>, Response<Incoming>);

/// The app behind the sidecar, and what every browser connection's proxy shares.
pub struct Upstream {
    /// Where the app is; `None` when the sidecar answers its own routes only.
    app: Option<AppAddress>,
    settings: UpstreamSettings,
    metrics: Arc<Metrics>,
    tunnel_idle_timeout: Duration,
}

impl Upstream {
    /// The app described by `settings`; tunnels with no byte either way for
    /// `tunnel_idle_timeout` are closed.
    ///
    /// # Panics
    /// When `settings.uri` has no authority; [`SidecarConfig`](crate::SidecarConfig)
    /// never gives such a URI.
    pub fn new(
        settings: UpstreamSettings,
        metrics: Arc<Metrics>,
        tunnel_idle_timeout: Duration,
    ) -> Arc<Self> {
        let app = settings.uri.as_ref().map(|uri| {
            let authority = uri
                .authority()
                .cloned()
                .expect("the upstream URI was checked to have an authority");
            let host = HeaderValue::from_str(authority.as_str())
                .expect("an authority is a valid header value");
            let tls = settings.tls.clone().map(|config| {
                let name = ServerName::try_from(authority.host().trim_matches(['[', ']']))
                    .expect("the upstream URI was checked to have a host")
                    .to_owned();
                (TlsConnector::from(config), name)
            });
            AppAddress {
                authority,
                host,
                tls,
            }
        });
        Arc::new(Self {
            app,
            settings,
            metrics,
            tunnel_idle_timeout,
        })
    }

    /// The proxy for one browser connection from `peer`, holding `slot`, the
    /// connection's place in the server's connection limit (a tunnel made from the
    /// connection keeps it until the tunnel ends).
    pub fn proxy_for(self: &Arc<Self>, peer: SocketAddr, slot: Slot, https: bool) -> Proxy {
        let ip = forwarding::canonical(peer.ip());
        Proxy {
            upstream: Arc::clone(self),
            connection: Arc::new(BrowserConnection {
                ip,
                https,
                forwarded_for: HeaderValue::try_from(ip.to_string()).ok(),
                trusted: forwarding::is_trusted(Some(ip), &self.settings.trusted_proxies),
                slot,
                app: Mutex::new(None),
            }),
        }
    }

    /// Opens a connection to the app and runs it on its own task (see [`Self::open`]).
    ///
    /// Boxed: a browser connection opens one seldom, and the TLS handshake's state would
    /// otherwise make the future of every request kilobytes larger, each of them
    /// allocated and copied.
    fn connect<'a>(
        &'a self,
        app: &'a AppAddress,
        upgrades: bool,
    ) -> Pin<Box<dyn Future<Output = Result<SendRequest<RequestBody>, ProxyError>> + Send + 'a>>
    {
        Box::pin(self.open(app, upgrades))
    }

    /// Opens a connection to the app (TCP, then TLS for an `https://` app, each within the
    /// connect timeout) and runs it on its own task; `upgrades` lets it be switched to
    /// another protocol.
    async fn open(
        &self,
        app: &AppAddress,
        upgrades: bool,
    ) -> Result<SendRequest<RequestBody>, ProxyError> {
        let default_port = if app.tls.is_some() { 443 } else { 80 };
        let address = (
            app.authority.host().trim_matches(['[', ']']),
            app.authority.port_u16().unwrap_or(default_port),
        );
        let connect_timeout = self.settings.connect_timeout;
        let stream = match tokio::time::timeout(connect_timeout, TcpStream::connect(address)).await
        {
            Err(_) => return Err(ProxyError::ConnectTimeout),
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::TimedOut => {
                return Err(ProxyError::ConnectTimeout);
            }
            Ok(Err(_)) => return Err(ProxyError::Connect),
            Ok(Ok(stream)) => stream,
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(target: "portal_sso::proxy", %err, "TCP_NODELAY not set");
        }
        let Some((connector, name)) = &app.tls else {
            return handshake(TokioIo::new(stream), upgrades).await;
        };
        let stream =
            match tokio::time::timeout(connect_timeout, connector.connect(name.clone(), stream))
                .await
            {
                Err(_) => return Err(ProxyError::ConnectTimeout),
                Ok(Err(err)) => {
                    tracing::warn!(target: "portal_sso::proxy", %err, "TLS to the app failed");
                    return Err(ProxyError::Connect);
                }
                Ok(Ok(stream)) => stream,
            };
        handshake(TokioIo::new(stream), upgrades).await
    }
}

/// Starts HTTP/1.1 on `io`, a new connection to the app, and runs it on its own task;
/// `upgrades` lets it be switched to another protocol.
async fn handshake<I>(io: I, upgrades: bool) -> Result<SendRequest<RequestBody>, ProxyError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = client_http1::handshake(io)
        .await
        .map_err(|_| ProxyError::Connect)?;
    tokio::spawn(async move {
        let ended = if upgrades {
            connection.with_upgrades().await
        } else {
            connection.await
        };
        if let Err(err) = ended {
            tracing::debug!(target: "portal_sso::proxy", %err, "connection to the app ended");
        }
    });
    Ok(sender)
}

/// Where the app listens.
struct AppAddress {
    authority: Authority,
    /// `Host` for a request that came without one: the app's authority.
    host: HeaderValue,
    /// For an `https://` app: the handshake, and the name its certificate must carry.
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

/// Forwards one browser connection's requests to the app. Made per browser connection
/// by [`Upstream::proxy_for`]; clones share the connection to the app.
#[derive(Clone)]
pub struct Proxy {
    upstream: Arc<Upstream>,
    connection: Arc<BrowserConnection>,
}

/// One browser connection as the proxy sees it.
struct BrowserConnection {
    ip: IpAddr,
    /// Whether the browser's connection is TLS.
    https: bool,
    trusted: bool,
    /// `ip` as the `X-Forwarded-For` value sent for an untrusted peer.
    forwarded_for: Option<HeaderValue>,
    slot: Slot,
    /// The connection to the app, kept between requests.
    app: Mutex<Option<SendRequest<RequestBody>>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field(
                "upstream",
                &self.upstream.app.as_ref().map(|app| &app.authority),
            )
            .field("peer", &self.connection.ip)
            .finish_non_exhaustive()
    }
}

impl Service<Request<Incoming>> for Proxy {
    type Response = Response<ProxyBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The connection to the app is opened or waited for inside the call.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        // Without an app, the sidecar answers its own routes only.
        let Some(app) = &self.upstream.app else {
            return Box::pin(std::future::ready(Ok(errors::not_found())));
        };
        if let Some(protocol) = upgrade::requested(request.headers()) {
            let proxy = self.clone();
            return Box::pin(async move { Ok(proxy.tunnel(request, protocol).await) });
        }
        // The headers are set here rather than in the future, which then holds no more
        // than the exchange needs while it waits.
        headers::prepare(&mut request, &self.peer(app), None);
        Box::pin(self.clone().forward(request.map(WithoutTrailers::new)))
    }
}

impl Proxy {
    /// The browser connection, as the request headers describe it to `app`.
    fn peer<'a>(&'a self, app: &'a AppAddress) -> headers::Peer<'a> {
        headers::Peer {
            ip: self.connection.ip,
            trusted: self.connection.trusted,
            https: self.connection.https,
            forwarded_for: self.connection.forwarded_for.as_ref(),
            default_host: &app.host,
        }
    }

    /// The app's response to a plain request, or the page saying why there is none.
    async fn forward(
        self,
        request: Request<RequestBody>,
    ) -> Result<Response<ProxyBody>, Infallible> {
        let Some(app) = &self.upstream.app else {
            return Ok(errors::not_found());
        };
        let started = Instant::now();
        let timeout = self.upstream.settings.response_timeout;
        let answer = match tokio::time::timeout(timeout, self.send(app, request)).await {
            Ok(Ok(response)) => self.app_response(response),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(ProxyError::ResponseTimeout),
        };
        Ok(self.answered(app, started, answer))
    }

    /// The response for the browser, with the exchange begun at `started` timed, and a
    /// failure counted, logged and answered with a page.
    fn answered(
        &self,
        app: &AppAddress,
        started: Instant,
        answer: Result<Response<ProxyBody>, ProxyError>,
    ) -> Response<ProxyBody> {
        let metrics = &self.upstream.metrics;
        metrics.upstream_latency(started.elapsed());
        answer.unwrap_or_else(|error| {
            metrics.upstream_error(error.kind());
            tracing::warn!(
                target: "portal_sso::proxy",
                error = error.kind(),
                upstream = %app.authority,
                "upstream request failed"
            );
            error.response()
        })
    }

    /// Sends `request` on the connection's own connection to the app, opening one when
    /// there is none or the kept one was closed. A request the app's side closed before
    /// it was written is sent once more, on a new connection.
    async fn send(
        &self,
        app: &AppAddress,
        request: Request<RequestBody>,
    ) -> Result<Response<Incoming>, ProxyError> {
        let mut sender = self.ready_connection(app).await?;
        let (sender, response) = match sender.try_send_request(request).await {
            Ok(response) => (sender, response),
            Err(unsent) => self.resend(app, unsent).await?,
        };
        *self
            .connection
            .app
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(sender);
        Ok(response)
    }

    /// The connection to the app kept from the browser connection's last request when it
    /// is still open, or a new one.
    async fn ready_connection(
        &self,
        app: &AppAddress,
    ) -> Result<SendRequest<RequestBody>, ProxyError> {
        let kept = self
            .connection
            .app
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut sender) = kept
            && sender.ready().await.is_ok()
        {
            return Ok(sender);
        }
        self.upstream.connect(app, false).await
    }

    /// Sends a request the app's side closed before it was written once more, on a new
    /// connection. Boxed, as it is seldom needed and would make every request's future
    /// larger.
    fn resend<'a>(
        &'a self,
        app: &'a AppAddress,
        mut failed: TrySendError<Request<RequestBody>>,
    ) -> Pin<Box<dyn Future<Output = Result<Answered, ProxyError>> + Send + 'a>> {
        Box::pin(async move {
            let unsent = failed.take_message().ok_or(ProxyError::Upstream)?;
            let mut sender = self.upstream.connect(app, false).await?;
            let response = sender
                .send_request(unsent)
                .await
                .map_err(|_| ProxyError::Upstream)?;
            Ok((sender, response))
        })
    }

    /// The app's answer to a plain request, for the browser: hop-by-hop headers removed,
    /// the body passed on and cut (and counted) when the app sends nothing of it for the
    /// response timeout. One framed two ways is refused, and the connection it came on
    /// is not used again: where its body ends is not known.
    fn app_response(
        &self,
        response: Response<Incoming>,
    ) -> Result<Response<ProxyBody>, ProxyError> {
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            return Err(ProxyError::BadUpgrade);
        }
        let framing = response.headers();
        if framing.contains_key(header::TRANSFER_ENCODING)
            && framing.contains_key(header::CONTENT_LENGTH)
        {
            drop(
                self.connection
                    .app
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take(),
            );
            return Err(ProxyError::AmbiguousLength);
        }
        let (mut parts, body) = response.into_parts();
        headers::strip_hop_by_hop(&mut parts.headers);
        let metrics = Arc::clone(&self.upstream.metrics);
        let body = TimeoutBody::new(self.upstream.settings.response_timeout, body)
            .map_err(move |error| {
                if error.is::<TimeoutError>() {
                    metrics.upstream_error("body_timeout");
                    tracing::warn!(
                        target: "portal_sso::proxy",
                        error = "body_timeout",
                        "upstream response body stalled: response cut"
                    );
                }
                error
            })
            .boxed();
        Ok(Response::from_parts(parts, SsoBody::inner(body)))
    }
}
