//! [`Proxy`]: forwards a request to the app and streams the answer back.
//!
//! Bodies stream both ways frame by frame, whatever their size. Hop-by-hop headers
//! (RFC 9110 §7.6.1) are removed in both directions; the forwarding headers are cleaned
//! and set as [`forwarding`](crate::forwarding) says; `Host` is kept as the browser sent
//! it. An HTTP/1.1 `Upgrade`
//! (WebSocket) is passed through, after which bytes are copied both ways.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use hyper::client::conn::http1 as client_http1;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pin_project_lite::pin_project;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tower_service::Service;

use crate::config::UpstreamSettings;
use crate::forwarding;
use crate::metrics::Metrics;
use crate::page::page;
use crate::timeout::LazyTimeout;
use crate::trailers::WithoutTrailers;
use crate::tunnel::{self, Slot, Upgrade};
use portal_sso::SsoBody;

/// Where a request came from, put in its extensions by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The peer's address.
    pub peer: SocketAddr,
}

/// Headers that concern one connection only, never forwarded (RFC 9110 §7.6.1), plus
/// the proxy authentication pair, which is for this hop (RFC 9110 §11.7).
static HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::TE,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
];

/// The body the proxy answers with: the app's, or a page of its own.
pub type ProxyBody = SsoBody<AppBody>;

/// The browser's request body as it goes to the app: trailers are not forwarded.
type RequestBody = WithoutTrailers<Incoming>;

/// Forwards requests to the app.
///
/// A proxy made with [`Proxy::new`] sends through a shared pool of keep-alive
/// connections. [`Proxy::for_connection`] gives one for a single browser connection: it
/// keeps a connection of its own to the app, so requests skip the pool, works out the
/// peer's `X-Forwarded-For` once, and holds the connection's place in the server's
/// connection limit, which a tunnel made from it keeps. Only such a proxy tunnels an
/// upgraded (WebSocket) connection: any other answers an upgrade with 503.
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
    conn: Option<Arc<Dedicated>>,
    /// How long a tunnel may carry no bytes either way before it is closed.
    tunnel_idle_timeout: Duration,
}

struct Inner {
    client: Client<HttpConnector, RequestBody>,
    scheme: Scheme,
    authority: Authority,
    /// `Host` for a request that came without one: the app's authority.
    host: HeaderValue,
    /// The app's address when its host is an IP address, else its host name and port.
    target: Target,
    settings: UpstreamSettings,
    metrics: Arc<Metrics>,
}

/// Where to open connections to the app.
enum Target {
    Addr(SocketAddr),
    Name(String, u16),
}

/// One browser connection's own state: its peer and its connection to the app.
///
/// HTTP/1.1 answers a connection's requests one after another, so one connection to the
/// app is all a browser connection needs.
struct Dedicated {
    inner: Arc<Inner>,
    peer: SocketAddr,
    /// The connection's place in the server's connection limit, shared with a tunnel
    /// made from it.
    slot: Slot,
    /// The peer's own `X-Forwarded-For` value, for when it replaces what was sent.
    forwarded_for: Option<HeaderValue>,
    sender: Mutex<Option<client_http1::SendRequest<RequestBody>>>,
    /// The response timeout, one timer for all the connection's requests (and their
    /// bodies). Made on first use, on the runtime that serves the connection.
    deadline: Mutex<Option<Deadline>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("upstream", &self.inner.authority)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// A proxy to the app described by `settings`, pooling keep-alive connections.
    ///
    /// # Panics
    /// When `settings.uri` has no authority; [`SidecarConfig`](crate::SidecarConfig)
    /// never gives such a URI.
    pub fn new(settings: UpstreamSettings, metrics: Arc<Metrics>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(settings.connect_timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build(connector);
        let authority = settings
            .uri
            .authority()
            .cloned()
            .expect("the upstream URI was checked to have an authority");
        let host = HeaderValue::from_str(authority.as_str())
            .expect("an authority is a valid header value");
        let port = authority.port_u16().unwrap_or(80);
        let name = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let target = match name.parse::<IpAddr>() {
            Ok(ip) => Target::Addr(SocketAddr::new(ip, port)),
            Err(_) => Target::Name(name.to_owned(), port),
        };
        Self {
            inner: Arc::new(Inner {
                client,
                scheme: Scheme::HTTP,
                authority,
                host,
                target,
                settings,
                metrics,
            }),
            conn: None,
            tunnel_idle_timeout: Duration::from_secs(300),
        }
    }

    /// Closes an upgraded (WebSocket) connection once no byte has gone either way for
    /// `timeout`, so an idle tunnel does not hold its connection slot for good. Default:
    /// five minutes.
    #[must_use]
    pub fn with_tunnel_idle_timeout(mut self, timeout: Duration) -> Self {
        self.tunnel_idle_timeout = timeout;
        self
    }

    /// A proxy for the requests of one browser connection from `peer`, which holds
    /// `slot`, its place in the server's connection limit.
    ///
    /// It opens its own connection to the app on the first request and keeps it for the
    /// next ones; the connection closes when the last clone of this proxy is dropped.
    /// `slot` is freed then too, or when a tunnel made from the connection ends, whichever
    /// is later. `peer` is taken from here, not from a [`ConnInfo`] extension.
    #[must_use]
    pub fn for_connection(&self, peer: SocketAddr, slot: OwnedSemaphorePermit) -> Self {
        let forwarded_for =
            HeaderValue::try_from(forwarding::canonical(peer.ip()).to_string()).ok();
        Self {
            inner: Arc::clone(&self.inner),
            tunnel_idle_timeout: self.tunnel_idle_timeout,
            conn: Some(Arc::new(Dedicated {
                inner: Arc::clone(&self.inner),
                peer,
                slot: Arc::new(slot),
                forwarded_for,
                sender: Mutex::new(None),
                deadline: Mutex::new(None),
            })),
        }
    }
}

impl Service<Request<Incoming>> for Proxy {
    type Response = Response<ProxyBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The pool opens connections on demand; there is nothing to wait for.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        let started = Instant::now();
        let upgrade = match prepare(&self.inner, self.conn.as_deref(), &mut request) {
            Ok(upgrade) => upgrade,
            Err(error) => {
                return Box::pin(std::future::ready(Ok(self
                    .inner
                    .answer(Err(error), started))));
            }
        };
        let request = request.map(WithoutTrailers::new);
        let upgrade = match (&self.conn, upgrade) {
            (Some(conn), None) => return exchange(conn, request, started),
            (_, None) => None,
            // A tunnel keeps the slot of the browser connection it comes from; without
            // one it would go uncounted, so it is refused.
            (Some(conn), Some(upgrade)) => Some((upgrade, Arc::clone(&conn.slot))),
            (None, Some(_)) => {
                let refused = self.inner.answer(Err(ProxyError::NoTunnelSlot), started);
                return Box::pin(std::future::ready(Ok(refused)));
            }
        };
        // An upgraded connection is the browser's for good: it comes from the pool,
        // never from the browser connection's own.
        let inner = Arc::clone(&self.inner);
        let idle_timeout = self.tunnel_idle_timeout;
        Box::pin(async move {
            let answer = send_pooled(&inner, request, upgrade, idle_timeout).await;
            Ok(inner.answer(answer, started))
        })
    }
}

impl Inner {
    /// The response for the browser, with the exchange counted and any failure logged.
    fn answer(
        &self,
        answer: Result<Response<ProxyBody>, ProxyError>,
        started: Instant,
    ) -> Response<ProxyBody> {
        self.metrics.upstream_latency(started.elapsed());
        answer.unwrap_or_else(|error| {
            self.metrics.upstream_error(error.kind());
            tracing::warn!(
                target: "portal_sso::proxy",
                error = error.kind(),
                upstream = %self.authority,
                "upstream request failed"
            );
            error.response()
        })
    }
}

/// Why the app did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProxyError {
    /// The connection was refused or could not be opened.
    Connect,
    /// Opening the connection took longer than the connect timeout.
    ConnectTimeout,
    /// The app did not send its response head in time.
    ResponseTimeout,
    /// The connection broke or the app answered something that is not HTTP.
    Upstream,
    /// The app switched protocols when the browser had not asked to, or the reverse.
    BadUpgrade,
    /// The request could not be turned into one for the app.
    BadRequest,
    /// An upgrade came with no connection slot for its tunnel to hold.
    NoTunnelSlot,
}

impl ProxyError {
    const fn kind(self) -> &'static str {
        match self {
            ProxyError::Connect => "connect",
            ProxyError::ConnectTimeout => "connect_timeout",
            ProxyError::ResponseTimeout => "timeout",
            ProxyError::Upstream => "upstream",
            ProxyError::BadUpgrade => "bad_upgrade",
            ProxyError::BadRequest => "bad_request",
            ProxyError::NoTunnelSlot => "no_tunnel_slot",
        }
    }

    fn response(self) -> Response<ProxyBody> {
        let (status, title, message) = match self {
            ProxyError::Connect => (
                StatusCode::BAD_GATEWAY,
                "The application is unavailable",
                "The application behind this address is not accepting connections. Try again in a moment.",
            ),
            ProxyError::ConnectTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "The application is unavailable",
                "The application behind this address did not accept the connection in time.",
            ),
            ProxyError::ResponseTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "The application took too long",
                "The application did not answer in time.",
            ),
            ProxyError::Upstream | ProxyError::BadUpgrade => (
                StatusCode::BAD_GATEWAY,
                "The application failed",
                "The application closed the connection or answered something that is not HTTP.",
            ),
            ProxyError::BadRequest => (
                StatusCode::BAD_REQUEST,
                "Bad request",
                "The request could not be forwarded.",
            ),
            ProxyError::NoTunnelSlot => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many connections",
                "No connection could be kept open for this request. Try again in a moment.",
            ),
        };
        page(status, title, message).map(SsoBody::full)
    }

    fn from_client(error: &hyper_util::client::legacy::Error) -> Self {
        if error.is_connect() {
            if is_timeout(error) {
                ProxyError::ConnectTimeout
            } else {
                ProxyError::Connect
            }
        } else {
            ProxyError::Upstream
        }
    }
}

fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(err) = source {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// Turns the browser's request into the one for the app, in place: the URI in the form
/// the connection it goes on needs, hop-by-hop headers and the forwarding headers the
/// peer may not send removed (see [`forwarding`]), `X-Forwarded-*` set. Returns the browser's upgrade request, if it made one.
fn prepare(
    inner: &Inner,
    conn: Option<&Dedicated>,
    request: &mut Request<Incoming>,
) -> Result<Option<Upgrade>, ProxyError> {
    let peer = match conn {
        Some(conn) => Some(conn.peer),
        None => request.extensions().get::<ConnInfo>().map(|info| info.peer),
    };
    let upgrade = tunnel::requested(request.headers()).map(|protocol| Upgrade {
        client: hyper::upgrade::on(&mut *request),
        protocol,
    });
    let dedicated = conn.is_some() && upgrade.is_none();

    let sent_host = request.headers().get(header::HOST).cloned();
    let has_host = sent_host.is_some();
    let original_host = sent_host.or_else(|| {
        // HTTP/2 and absolute-form requests carry the host in the URI.
        request
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    if dedicated {
        // Sent as it is written: origin-form, `/path?query`.
        if request.uri().scheme().is_some() || request.uri().path_and_query().is_none() {
            let path_and_query = request
                .uri()
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/"));
            *request.uri_mut() = Uri::from(path_and_query);
        }
        if !has_host {
            request
                .headers_mut()
                .insert(header::HOST, inner.host.clone());
        }
    } else {
        let path_and_query = request
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let uri = Uri::builder()
            .scheme(inner.scheme.clone())
            .authority(inner.authority.clone())
            .path_and_query(path_and_query)
            .build()
            .map_err(|_| ProxyError::BadRequest)?;
        *request.uri_mut() = uri;
    }
    *request.version_mut() = Version::HTTP_11;
    let headers = request.headers_mut();
    strip_hop_by_hop(headers);
    // Our server has already answered `Expect: 100-continue`.
    headers.remove(header::EXPECT);
    // Request trailers are not forwarded (see `WithoutTrailers`).
    headers.remove(header::TRAILER);
    let peer = peer.map(|peer| forwarding::canonical(peer.ip()));
    let trusted = forwarding::is_trusted(peer, &inner.settings.trusted_proxies);
    forwarding::strip(headers, trusted);
    let own_forwarded_for = conn.and_then(|c| c.forwarded_for.as_ref());
    forwarding::set_forwarded(headers, trusted, peer, own_forwarded_for, original_host);
    if let Some(upgrade) = &upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, upgrade.protocol.clone());
    }
    Ok(upgrade)
}

/// Sends the request through the pool, within the response timeout, and tunnels the
/// connection when the browser asked to switch protocols and the app agreed.
async fn send_pooled(
    inner: &Inner,
    request: Request<RequestBody>,
    upgrade: Option<(Upgrade, Slot)>,
    idle_timeout: Duration,
) -> Result<Response<ProxyBody>, ProxyError> {
    let mut response = tokio::time::timeout(
        inner.settings.response_timeout,
        inner.client.request(request),
    )
    .await
    .map_err(|_| ProxyError::ResponseTimeout)?
    .map_err(|err| ProxyError::from_client(&err))?;

    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        return app_response(response, None);
    }
    let Some((Upgrade { client, protocol }, slot)) = upgrade else {
        return Err(ProxyError::BadUpgrade);
    };
    let upstream = hyper::upgrade::on(&mut response);
    tokio::spawn(tunnel::run(client, upstream, slot, idle_timeout));
    let (mut parts, _) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    parts
        .headers
        .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    let answered = parts.headers.get(header::UPGRADE).cloned();
    parts
        .headers
        .insert(header::UPGRADE, answered.unwrap_or(protocol));
    Ok(Response::from_parts(
        parts,
        SsoBody::full(bytes::Bytes::new()),
    ))
}

/// The app's answer to a request that did not ask to switch protocols, for the browser:
/// hop-by-hop headers removed, the body passed on (with `idle`, its timeout).
fn app_response(
    response: Response<Incoming>,
    idle: Option<IdleDeadline>,
) -> Result<Response<ProxyBody>, ProxyError> {
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        return Err(ProxyError::BadUpgrade);
    }
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Ok(Response::from_parts(
        parts,
        SsoBody::inner(AppBody { body, idle }),
    ))
}

/// The app's response body, passed on frame by frame. On a browser connection's own
/// connection to the app it is cut, with an error that closes the browser's connection,
/// when the app sends nothing for the response timeout: a stalled body does not hold
/// the connection for good.
pub struct AppBody {
    body: Incoming,
    idle: Option<IdleDeadline>,
}

/// The browser connection's timer, lent to the body it is answering with and given back
/// when that body is done.
struct IdleDeadline {
    deadline: Option<Deadline>,
    conn: Arc<Dedicated>,
}

impl Drop for IdleDeadline {
    fn drop(&mut self) {
        if let Some(deadline) = self.deadline.take() {
            self.conn.keep_deadline(deadline);
        }
    }
}

/// The response timeout, counted from the request, then from each part of the body.
struct Deadline {
    timer: LazyTimeout,
    since: tokio::time::Instant,
}

impl Deadline {
    fn new(timeout: std::time::Duration) -> Self {
        Self {
            timer: LazyTimeout::new(timeout),
            since: tokio::time::Instant::now(),
        }
    }

    /// Counts the timeout from now.
    fn restart(&mut self) {
        self.since = tokio::time::Instant::now();
    }

    /// Ready once the timeout has passed since the last restart.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.timer.poll_expired(cx, Some(self.since))
    }
}

/// The app sent no part of its response body within the response timeout.
#[derive(Debug)]
struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the app sent nothing of its response body within the response timeout")
    }
}

impl std::error::Error for BodyTimeout {}

impl http_body::Body for AppBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let (Some(Ok(_)), Some(idle)) = (&frame, &mut this.idle)
                    && let Some(deadline) = &mut idle.deadline
                {
                    deadline.restart();
                }
                Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
            }
            Poll::Pending => {
                let Some(idle) = &mut this.idle else {
                    return Poll::Pending;
                };
                let Some(deadline) = &mut idle.deadline else {
                    return Poll::Pending;
                };
                if deadline.poll_expired(cx).is_pending() {
                    return Poll::Pending;
                }
                idle.conn.inner.metrics.upstream_error("body_timeout");
                tracing::warn!(
                    target: "portal_sso::proxy",
                    error = "body_timeout",
                    upstream = %idle.conn.inner.authority,
                    "upstream response body stalled: response cut"
                );
                // Only this once: the body is over.
                this.idle = None;
                Poll::Ready(Some(Err(Box::new(BodyTimeout))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A request on the browser connection's own connection to the app, made for each
/// request the browser sends.
///
/// The usual case (the connection is open and waiting for a request) is sent at once
/// and waited for here; the rest (the connection not yet open, busy, or closed) goes
/// through [`send_kept`] and [`send_new`], boxed. Written out rather than as one
/// `async fn`, whose future would hold the request several times over and be copied
/// into its box whole (2.4 KB, where this is a few hundred bytes).
fn exchange(
    conn: &Arc<Dedicated>,
    mut request: Request<RequestBody>,
    started: Instant,
) -> Pin<Box<dyn Future<Output = Result<Response<ProxyBody>, Infallible>> + Send>> {
    let deadline = conn.deadline(conn.inner.settings.response_timeout);
    let sending = match conn.take_sender() {
        Some(mut sender) if sender.is_ready() => {
            let future = sender.try_send_request(request);
            Sending::Ready {
                sender: Some(sender),
                future,
            }
        }
        kept => {
            let conn = Arc::clone(conn);
            Sending::Other {
                future: Box::pin(async move {
                    if let Some(sender) = kept {
                        match send_kept(&conn, sender, request).await {
                            Ok(response) => return Ok(response),
                            Err(Unsent(Some(unsent))) => request = unsent,
                            Err(Unsent(None)) => return Err(ProxyError::Upstream),
                        }
                    }
                    send_new(&conn, request).await
                }),
            }
        }
    };
    Box::pin(Exchange {
        conn: Some(Arc::clone(conn)),
        started,
        deadline: Some(deadline),
        sending,
    })
}

pin_project! {
    /// See [`exchange`].
    struct Exchange<F> {
        // Handed on to the response body with the deadline.
        conn: Option<Arc<Dedicated>>,
        started: Instant,
        // The response timeout, on the connection's one timer; handed on to the body.
        deadline: Option<Deadline>,
        #[pin]
        sending: Sending<F>,
    }
}

/// The app's answer, or the request back when it was never written.
type TrySent = Result<Response<Incoming>, hyper::client::conn::TrySendError<Request<RequestBody>>>;

pin_project! {
    #[project = SendingProj]
    enum Sending<F> {
        /// Sent on the kept connection, which goes back to the browser connection once
        /// it has answered.
        Ready {
            sender: Option<client_http1::SendRequest<RequestBody>>,
            #[pin]
            future: F,
        },
        /// Anything else, boxed.
        Other {
            future: Pin<Box<dyn Future<Output = Result<Response<Incoming>, ProxyError>> + Send>>,
        },
    }
}

impl<F> Future for Exchange<F>
where
    F: Future<Output = TrySent>,
{
    type Output = Result<Response<ProxyBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let conn = this.conn.as_ref().expect("polled after completion");
        let sent = loop {
            match this.sending.as_mut().project() {
                SendingProj::Ready { sender, future } => match future.poll(cx) {
                    Poll::Ready(Ok(response)) => {
                        if let Some(sender) = sender.take() {
                            conn.keep(sender);
                        }
                        break Poll::Ready(Ok(response));
                    }
                    Poll::Ready(Err(mut err)) => match err.take_message() {
                        // The app closed the connection before the request was written:
                        // once more, on a new connection.
                        Some(request) => {
                            let conn = Arc::clone(conn);
                            this.sending.set(Sending::Other {
                                future: Box::pin(async move { send_new(&conn, request).await }),
                            });
                        }
                        None => break Poll::Ready(Err(ProxyError::Upstream)),
                    },
                    Poll::Pending => break Poll::Pending,
                },
                SendingProj::Other { future } => break future.as_mut().poll(cx),
            }
        };
        let answered = match sent {
            Poll::Ready(answered) => answered,
            Poll::Pending => {
                let deadline = this.deadline.as_mut().expect("polled after completion");
                ready!(deadline.poll_expired(cx));
                Err(ProxyError::ResponseTimeout)
            }
        };
        let (Some(mut deadline), Some(conn)) = (this.deadline.take(), this.conn.take()) else {
            unreachable!("both taken only here, when answered");
        };
        let answer = match answered {
            Ok(response) => {
                deadline.restart();
                let idle = IdleDeadline {
                    deadline: Some(deadline),
                    // The connection's own: no thread but this one counts its references.
                    conn: Arc::clone(&conn),
                };
                app_response(response, Some(idle))
            }
            Err(error) => {
                conn.keep_deadline(deadline);
                Err(error)
            }
        };
        Poll::Ready(Ok(conn.inner.answer(answer, *this.started)))
    }
}

/// The request back, when the kept connection was closed before it was written; `None`
/// when it was lost with the connection.
struct Unsent(Option<Request<RequestBody>>);

/// Sends on the kept connection once it is ready for another request.
async fn send_kept(
    conn: &Dedicated,
    mut sender: client_http1::SendRequest<RequestBody>,
    request: Request<RequestBody>,
) -> Result<Response<Incoming>, Unsent> {
    if sender.ready().await.is_err() {
        return Err(Unsent(Some(request)));
    }
    match sender.try_send_request(request).await {
        Ok(response) => {
            conn.keep(sender);
            Ok(response)
        }
        Err(mut err) => Err(Unsent(err.take_message())),
    }
}

/// Opens a new connection to the app, sends on it and keeps it for the next request.
async fn send_new(
    conn: &Dedicated,
    request: Request<RequestBody>,
) -> Result<Response<Incoming>, ProxyError> {
    let mut sender = connect(&conn.inner).await?;
    let response = sender
        .try_send_request(request)
        .await
        .map_err(|_| ProxyError::Upstream)?;
    conn.keep(sender);
    Ok(response)
}

impl Dedicated {
    /// The connection's timer, counting `timeout` from now.
    fn deadline(&self, timeout: std::time::Duration) -> Deadline {
        let kept = self
            .deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match kept {
            Some(mut deadline) if deadline.timer.timeout() == timeout => {
                deadline.restart();
                deadline
            }
            _ => Deadline::new(timeout),
        }
    }

    /// Keeps `deadline` for the connection's next request.
    fn keep_deadline(&self, deadline: Deadline) {
        *self.deadline.lock().unwrap_or_else(PoisonError::into_inner) = Some(deadline);
    }

    /// The connection to the app kept from the last request, if any.
    fn take_sender(&self) -> Option<client_http1::SendRequest<RequestBody>> {
        self.sender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Keeps `sender` for the connection's next request.
    fn keep(&self, sender: client_http1::SendRequest<RequestBody>) {
        *self.sender.lock().unwrap_or_else(PoisonError::into_inner) = Some(sender);
    }
}

/// Opens a connection to the app within the connect timeout and runs it on its own task.
async fn connect(inner: &Inner) -> Result<client_http1::SendRequest<RequestBody>, ProxyError> {
    let opening = async {
        match &inner.target {
            Target::Addr(addr) => TcpStream::connect(*addr).await,
            Target::Name(host, port) => TcpStream::connect((host.as_str(), *port)).await,
        }
    };
    let stream = match tokio::time::timeout(inner.settings.connect_timeout, opening).await {
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
    let (sender, connection) = client_http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| ProxyError::Connect)?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(target: "portal_sso::proxy", %err, "connection to the app ended");
        }
    });
    Ok(sender)
}

/// The options the `Connection` headers list (RFC 9110 §7.6.1), trimmed.
pub(super) fn connection_options(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// Removes the hop-by-hop headers and those the `Connection` header names.
///
/// One pass over the names finds which are present, so a message without them costs no
/// lookups, and one with them only the removals it needs.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut present = 0_u8;
    for name in headers.keys() {
        if let Some(index) = hop_by_hop_index(name) {
            present |= 1 << index;
        }
    }
    remove_hop_by_hop(headers, present);
}

/// [`strip_hop_by_hop`] with the names already looked at: bit `i` of `present` says
/// whether `HOP_BY_HOP[i]` is there.
fn remove_hop_by_hop(headers: &mut HeaderMap, present: u8) {
    if present == 0 {
        // Without a `Connection` header there are no named options either.
        return;
    }
    // `HOP_BY_HOP[0]` is `Connection`: remove the options it names first. Most messages
    // say just `keep-alive` or `close`, which name no header of their own.
    if present & 1 != 0 && !names_nothing_else(headers) {
        let named: Vec<HeaderName> = connection_options(headers)
            // `Connection: close, host` must not remove the end-to-end Host header; the
            // hop-by-hop ones go below anyway, and `close` names no header of its own.
            .filter(|token| {
                !["host", "close"]
                    .into_iter()
                    .chain(HOP_BY_HOP.iter().map(HeaderName::as_str))
                    .any(|known| token.eq_ignore_ascii_case(known))
            })
            .filter_map(|token| HeaderName::from_bytes(token.as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(&name);
        }
    }
    for (index, name) in HOP_BY_HOP.iter().enumerate() {
        if present & (1 << index) != 0 {
            headers.remove(name);
        }
    }
}

/// Where `name` is in [`HOP_BY_HOP`]: one match on the name's text, not eight
/// comparisons.
fn hop_by_hop_index(name: &HeaderName) -> Option<usize> {
    match name.as_str() {
        "connection" => Some(0),
        "proxy-connection" => Some(1),
        "keep-alive" => Some(2),
        "te" => Some(3),
        "transfer-encoding" => Some(4),
        "upgrade" => Some(5),
        "proxy-authenticate" => Some(6),
        "proxy-authorization" => Some(7),
        _ => None,
    }
}

/// Whether the message has one `Connection` header, saying just `keep-alive` or `close`.
fn names_nothing_else(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::CONNECTION).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => {
            let value = value.as_bytes();
            value.eq_ignore_ascii_case(b"keep-alive") || value.eq_ignore_ascii_case(b"close")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings(trusted: &[&str]) -> UpstreamSettings {
        UpstreamSettings {
            uri: Uri::from_static("http://127.0.0.1:3000"),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
            trusted_proxies: trusted.iter().map(|n| n.parse().unwrap()).collect(),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    /// The names left in `h`, in order.
    fn names(h: &HeaderMap) -> Vec<&str> {
        h.keys().map(HeaderName::as_str).collect()
    }

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_removed() {
        let mut h = headers(&[
            ("connection", "keep-alive, x-secret-hop, host"),
            ("keep-alive", "timeout=5"),
            ("x-secret-hop", "1"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic x"),
            ("host", "app.example"),
            ("x-end-to-end", "kept"),
        ]);
        strip_hop_by_hop(&mut h);
        assert_eq!(names(&h), ["host", "x-end-to-end"]);
    }

    #[test]
    fn every_hop_by_hop_name_is_found_at_its_place() {
        for (index, name) in HOP_BY_HOP.iter().enumerate() {
            assert_eq!(hop_by_hop_index(name), Some(index), "{name}");
        }
        for name in [header::HOST, header::CONTENT_LENGTH, header::TRAILER] {
            assert_eq!(hop_by_hop_index(&name), None, "{name}");
        }
    }

    #[test]
    fn a_lone_keep_alive_or_close_is_removed_and_named_options_still_are() {
        for lone in ["keep-alive", "Close"] {
            let mut h = headers(&[("connection", lone), ("x-end-to-end", "kept")]);
            strip_hop_by_hop(&mut h);
            assert_eq!(names(&h), ["x-end-to-end"], "{lone}");
        }
        // Two `Connection` headers, the second naming a header: not the short way.
        let mut h = headers(&[
            ("connection", "keep-alive"),
            ("connection", "x-secret-hop"),
            ("x-secret-hop", "1"),
            ("x-end-to-end", "kept"),
        ]);
        strip_hop_by_hop(&mut h);
        assert_eq!(names(&h), ["x-end-to-end"]);
    }

    /// An app answering with the path and `X-Forwarded-For` it got, counting connections;
    /// without `keep_alive` it closes each connection after one answer.
    async fn app(keep_alive: bool) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|request: Request<Incoming>| {
                        let seen = format!(
                            "{} {}",
                            request.uri(),
                            request.headers()["x-forwarded-for"].to_str().unwrap()
                        );
                        async move {
                            Ok::<_, Infallible>(Response::new(http_body_util::Full::new(
                                bytes::Bytes::from(seen),
                            )))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(keep_alive)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (addr, accepted)
    }

    /// Sends three requests on one connection through a proxy made for it; the number of
    /// connections the app accepted.
    async fn three_requests(keep_alive: bool) -> usize {
        use http_body_util::BodyExt;

        let (app, accepted) = app(keep_alive).await;
        let mut upstream = settings(&[]);
        upstream.uri = Uri::try_from(format!("http://{app}")).unwrap();
        let proxy = Proxy::new(upstream, Arc::new(Metrics::new()));

        let front = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front_addr = front.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, peer) = front.accept().await.unwrap();
            let slot = Arc::new(tokio::sync::Semaphore::new(1))
                .try_acquire_owned()
                .unwrap();
            let own = proxy.for_connection(peer, slot);
            let service = hyper::service::service_fn(move |request| own.clone().call(request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });

        let stream = TcpStream::connect(front_addr).await.unwrap();
        let (mut sender, connection) =
            client_http1::handshake::<_, http_body_util::Empty<bytes::Bytes>>(TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        for n in 1..=3 {
            sender.ready().await.unwrap();
            let request = Request::get(format!("/item/{n}?q=1"))
                .header(header::HOST, "app.example")
                .header("x-forwarded-for", "6.6.6.6")
                .body(http_body_util::Empty::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "request {n}");
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("/item/{n}?q=1 127.0.0.1"));
        }
        accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_connections_own_app_connection_is_kept_for_its_next_requests() {
        assert_eq!(three_requests(true).await, 1);
    }

    #[tokio::test]
    async fn a_connections_own_app_connection_is_reopened_when_the_app_closes_it() {
        assert_eq!(three_requests(false).await, 3);
    }

    #[tokio::test]
    async fn an_upgrade_without_a_connection_slot_is_refused_not_tunnelled() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let (app, accepted) = app(true).await;
        let mut upstream = settings(&[]);
        upstream.uri = Uri::try_from(format!("http://{app}")).unwrap();
        // Made with `new` alone: no browser connection, so no slot for a tunnel to hold.
        let proxy = Proxy::new(upstream, Arc::new(Metrics::new()));
        let front = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front_addr = front.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = front.accept().await.unwrap();
            let service = hyper::service::service_fn(move |request| proxy.clone().call(request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });

        let mut stream = TcpStream::connect(front_addr).await.unwrap();
        stream
            .write_all(b"GET /ws HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 503");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
