//! The sidecar's HTTP server: accepts browsers' connections, answers SSO routes through
//! the layer and forwards the rest, and drains gracefully on shutdown.

use std::cell::RefCell;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower_layer::Layer;
use tower_service::Service;

use crate::admin;
use crate::config::{ServerSettings, SidecarConfig};
use crate::host;
use crate::metrics::{Metrics, RouteClass};
use crate::proxy::Proxy;
use crate::recent::Recent;
use crate::timeout::LazyTimeout;
use portal_sso::{EventObserver, SsoBody};

/// What the admin listener reports, shared with the server.
#[derive(Debug, Default)]
pub struct State {
    draining: AtomicBool,
}

impl State {
    /// Whether the server has begun to shut down (`/readyz` answers 503).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

/// Runs the sidecar until `shutdown` completes, then stops accepting connections and lets
/// in-flight requests finish within the configured grace period.
///
/// Returns an error only when a listener cannot be bound.
pub async fn serve<F>(config: SidecarConfig, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let metrics = Arc::new(Metrics::new());
    let recent = Arc::new(Recent::default());
    let state = Arc::new(State::default());
    let observers: Vec<Arc<dyn EventObserver>> = vec![metrics.clone(), recent.clone()];
    let layer = config
        .layer(observers, Some(Arc::clone(&metrics)))
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
    let sso_routes: Arc<[Box<str>]> = layer.routes().map(Into::into).collect();
    let settings = config.server.clone();
    let connections = Arc::new(Semaphore::new(settings.max_connections));
    let proxy = Proxy::new(config.upstream.clone(), Arc::clone(&metrics))
        .with_tunnel_idle_timeout(settings.tunnel_idle_timeout);
    let service = layer.layer(proxy);

    let (listener, admin_listener) = bind(&config, &sso_routes).await?;

    let admin_task = admin_listener.map(|listener| {
        tokio::spawn(admin::serve(
            listener,
            Arc::clone(&state),
            Arc::clone(&metrics),
            Arc::clone(&recent),
        ))
    });

    let stop = Arc::new(Stop::default());
    let mut builder = http1::Builder::new();
    // The header read timeout is the connection's own (`Waits`): hyper's, on by
    // default, makes and drops a timer per request.
    builder
        .header_read_timeout(None)
        .max_header_size(settings.max_header_bytes)
        .keep_alive(true);
    let builder = Arc::new(builder);

    let mut workers = Workers::start();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(target: "portal_sso::server", %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // The connection's proxy holds its permit, and hands it on to a tunnel made from
        // it, so upgraded connections count towards `max_connections` too.
        let mut own = service.clone();
        *own.get_mut() = service.get_ref().for_connection(peer, permit);
        let connection = Connection {
            service: own,
            routes: Arc::clone(&sso_routes),
            metrics: Arc::clone(&metrics),
            builder: Arc::clone(&builder),
            header_read_timeout: settings.header_read_timeout,
            send_timeout: settings.send_timeout,
            stop: Arc::clone(&stop),
        };
        workers.run(connection, stream, peer);
    }

    state.draining.store(true, Ordering::Release);
    drop(listener);
    let in_flight = settings.max_connections - connections.available_permits();
    tracing::info!(
        target: "portal_sso::server",
        connections = in_flight,
        grace_secs = settings.shutdown_grace.as_secs(),
        "shutting down: draining connections"
    );
    stop.give();
    drain(&connections, &settings).await;
    workers.stop();
    if let Some(task) = admin_task {
        task.abort();
    }
    tracing::info!(target: "portal_sso::server", "stopped");
    Ok(())
}

/// Binds the listener and the admin listener, and says so in the log.
async fn bind(
    config: &SidecarConfig,
    sso_routes: &[Box<str>],
) -> io::Result<(TcpListener, Option<TcpListener>)> {
    let listener = TcpListener::bind(config.listen).await?;
    let admin_listener = match config.admin_listen {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let listen = listener.local_addr()?;
    let admin_addr = admin_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()?;
    tracing::info!(
        target: "portal_sso::server",
        listen = %listen,
        admin_listen = %admin_addr.map_or_else(|| "none".to_owned(), |a| a.to_string()),
        upstream = %config.upstream.uri,
        routes = %sso_routes.join(","),
        "portal-sso started listen={listen} admin_listen={}",
        admin_addr.map_or_else(|| "none".to_owned(), |a| a.to_string()),
    );

    Ok((listener, admin_listener))
}

/// Waits until every connection has closed or the grace period is over.
async fn drain(connections: &Semaphore, settings: &ServerSettings) {
    let all = u32::try_from(settings.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(settings.shutdown_grace, connections.acquire_many(all))
        .await
        .is_err()
    {
        let left = settings.max_connections - connections.available_permits();
        tracing::warn!(
            target: "portal_sso::server",
            connections = left,
            "grace period over: closing the remaining connections"
        );
    }
}

/// Threads that each run their share of the connections on a single-threaded runtime.
///
/// Every connection, with its own connection to the app, stays on one thread from accept
/// to close, as in an event-loop-per-core server: its tasks never wake another thread
/// and are never stolen by one. The thread `serve` runs on takes a share too.
struct Workers {
    handles: Vec<tokio::runtime::Handle>,
    stop: Vec<tokio::sync::oneshot::Sender<()>>,
    next: usize,
}

impl Workers {
    /// One extra thread per CPU beyond the first; none when they cannot be started.
    fn start() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let mut workers = Workers {
            handles: Vec::new(),
            stop: Vec::new(),
            next: 0,
        };
        for n in 1..cpus {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    tracing::warn!(target: "portal_sso::server", %err, "worker runtime not started");
                    break;
                }
            };
            let handle = runtime.handle().clone();
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let started = std::thread::Builder::new()
                .name(format!("portal-sso-worker-{n}"))
                .spawn(move || {
                    runtime.block_on(async {
                        let _ = stop_rx.await;
                    });
                });
            if let Err(err) = started {
                tracing::warn!(target: "portal_sso::server", %err, "worker thread not started");
                break;
            }
            workers.handles.push(handle);
            workers.stop.push(stop_tx);
        }
        workers
    }

    /// Runs `connection` on the next thread in turn, this one included.
    fn run(&mut self, connection: Connection, stream: TcpStream, peer: SocketAddr) {
        let turn = self.next;
        self.next = (self.next + 1) % (self.handles.len() + 1);
        let Some(handle) = turn.checked_sub(1).and_then(|i| self.handles.get(i)) else {
            tokio::spawn(connection.run(stream, peer));
            return;
        };
        // A socket belongs to the runtime that registered it: move it over as a std one.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(err) => {
                tracing::debug!(target: "portal_sso::server", %err, %peer, "connection not handed over");
                return;
            }
        };
        handle.spawn(async move {
            match TcpStream::from_std(stream) {
                Ok(stream) => connection.run(stream, peer).await,
                Err(err) => {
                    tracing::debug!(target: "portal_sso::server", %err, %peer, "connection not registered");
                }
            }
        });
    }

    /// Stops the threads; connections still on them are closed.
    fn stop(self) {
        for stop in self.stop {
            let _ = stop.send(());
        }
    }
}

type App = portal_sso::Sso<Proxy>;

struct Connection {
    service: App,
    routes: Arc<[Box<str>]>,
    metrics: Arc<Metrics>,
    builder: Arc<http1::Builder>,
    header_read_timeout: Duration,
    send_timeout: Duration,
    stop: Arc<Stop>,
}

impl Connection {
    async fn run(self, stream: TcpStream, peer: SocketAddr) {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(target: "portal_sso::server", %err, "TCP_NODELAY not set");
        }
        // The proxy was made for this connection: it knows the peer. The connection's
        // requests are served one at a time, so it is borrowed for each, not cloned.
        let service = RefCell::new(self.service);
        let routes = self.routes;
        let waits = Arc::new(Waits::new(self.metrics));
        let handler_waits = Arc::clone(&waits);
        let handler = service_fn(move |request: Request<Incoming>| {
            handler_waits.head.clear();
            let class = if routes.iter().any(|r| **r == *request.uri().path()) {
                RouteClass::Sso
            } else {
                RouteClass::Proxy
            };
            // Checked before any route: the SSO routes must not read another host than
            // the app would.
            let answer = if host::names_two_hosts(&request) {
                Err(host::refusal().map(SsoBody::full))
            } else {
                // `Proxy` is always ready, so `Sso` is too: no `poll_ready` needed.
                Ok(service.borrow_mut().call(request))
            };
            let waits = Arc::clone(&handler_waits);
            async move {
                let response: Response<_> = match answer {
                    Ok(future) => future.await?,
                    Err(refused) => refused,
                };
                waits.metrics.request(class, response.status());
                Ok::<_, Infallible>(response.map(|body| WaitAfter { body, waits }))
            }
        });
        let stream = Watched {
            stream,
            waits: Arc::clone(&waits),
            blocked: false,
        };
        let connection = self
            .builder
            .serve_connection(TokioIo::new(stream), handler)
            .with_upgrades();
        tokio::pin!(connection);
        // One timer each for the connection's whole life (see `LazyTimeout`), looked at
        // only while it runs: the head timeout between requests, the send timeout while
        // the browser's socket is full.
        let mut head_timeout = LazyTimeout::new(self.header_read_timeout);
        let head_timed_out = std::future::poll_fn(|cx| match waits.head.get() {
            None => Poll::Pending,
            since => head_timeout.poll_expired(cx, since),
        });
        let mut send_timeout = LazyTimeout::new(self.send_timeout);
        let send_timed_out = std::future::poll_fn(|cx| match waits.room.get() {
            None => Poll::Pending,
            since => send_timeout.poll_expired(cx, since),
        });
        // Looked at on every wake, so a load, not a poll of a future: the task's waker is
        // registered with the signal once, and woken when it is given.
        let task = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
        let _watching = self.stop.watch(task);
        let stop_given = std::future::poll_fn(|_| {
            if self.stop.is_given() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        });
        // Biased: the connection first, so a write that fills the socket in this pass
        // is seen by the send timeout in the same pass.
        let result = tokio::select! {
            biased;
            result = connection.as_mut() => result,
            () = head_timed_out => {
                tracing::debug!(
                    target: "portal_sso::server",
                    %peer,
                    "no request head within the header read timeout: connection closed"
                );
                return;
            }
            () = send_timed_out => {
                tracing::debug!(
                    target: "portal_sso::server",
                    %peer,
                    "the browser took no bytes of the response within the send timeout: connection closed"
                );
                return;
            }
            () = stop_given => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(err) = result {
            tracing::debug!(target: "portal_sso::server", %err, %peer, "connection ended");
        }
    }
}

/// The signal to stop that the server gives its connections at shutdown.
///
/// A connection looks at it on every wake of its task, so that look is one atomic load:
/// each connection registers its task's waker once, when it starts, and is woken when
/// the signal is given. (Polling a `watch` channel's `changed()` instead takes a lock
/// shared by every connection, on every wake.)
#[derive(Debug, Default)]
struct Stop {
    given: AtomicBool,
    waiting: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    next: u64,
    wakers: HashMap<u64, Waker>,
}

impl Stop {
    /// Gives the signal and wakes every connection waiting for it.
    fn give(&self) {
        self.given.store(true, Ordering::Release);
        let wakers = std::mem::take(&mut self.lock().wakers);
        for waker in wakers.into_values() {
            waker.wake();
        }
    }

    fn is_given(&self) -> bool {
        self.given.load(Ordering::Acquire)
    }

    /// Wakes `waker` when the signal is given, until the returned guard is dropped. A
    /// signal given before this call wakes nothing: look at [`is_given`](Self::is_given)
    /// after it.
    fn watch(self: &Arc<Self>, waker: Waker) -> Watching {
        let mut waiting = self.lock();
        let id = waiting.next;
        waiting.next += 1;
        waiting.wakers.insert(id, waker);
        Watching {
            stop: Arc::clone(self),
            id,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A waker registered with [`Stop`]; dropping it takes the waker out.
struct Watching {
    stop: Arc<Stop>,
    id: u64,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.stop.lock().wakers.remove(&self.id);
    }
}

/// What a connection is waiting for, and since when: what its timeouts count from.
///
/// `head`: a request head from the browser. It starts when the connection opens, again
/// when each response body has been handed over (or dropped), and again whenever a write
/// goes through after the browser's socket was full (hyper may still be flushing the end
/// of a response to a slow reader); it stops when a request head has arrived.
///
/// `room`: room in the browser's socket. It starts when a write finds the socket full
/// and stops when a write goes through.
///
/// Each start or stop is a store: no timer is made or dropped per request.
///
/// It also carries the metrics, so that a request's future holds one reference for both.
#[derive(Debug)]
struct Waits {
    head: Since,
    room: Since,
    metrics: Arc<Metrics>,
}

impl Waits {
    fn new(metrics: Arc<Metrics>) -> Self {
        let opened = Instant::now();
        let waits = Self {
            head: Since::new(opened),
            room: Since::new(opened),
            metrics,
        };
        waits.head.set_now();
        waits
    }
}

/// A moment, or none, set and read without a lock.
#[derive(Debug)]
struct Since {
    opened: Instant,
    /// Nanoseconds from `opened`, or [`Since::NONE`].
    nanos: AtomicU64,
}

impl Since {
    const NONE: u64 = u64::MAX;

    fn new(opened: Instant) -> Self {
        Self {
            opened,
            nanos: AtomicU64::new(Self::NONE),
        }
    }

    fn set_now(&self) {
        let nanos = u64::try_from(self.opened.elapsed().as_nanos()).unwrap_or(Self::NONE - 1);
        self.nanos.store(nanos, Ordering::Relaxed);
    }

    fn clear(&self) {
        self.nanos.store(Self::NONE, Ordering::Relaxed);
    }

    fn is_set(&self) -> bool {
        self.nanos.load(Ordering::Relaxed) != Self::NONE
    }

    fn get(&self) -> Option<Instant> {
        match self.nanos.load(Ordering::Relaxed) {
            Self::NONE => None,
            nanos => Some(self.opened + Duration::from_nanos(nanos)),
        }
    }
}

/// The browser's connection, telling its [`Waits`] when a write finds the socket full
/// and when one goes through again. Writes that go through at once (the usual case) cost
/// a flag test, not a look at the clock.
struct Watched {
    stream: TcpStream,
    waits: Arc<Waits>,
    /// The last write found the socket full.
    blocked: bool,
}

impl Watched {
    fn wrote(&mut self, written: &Poll<io::Result<usize>>) {
        match written {
            Poll::Pending if !self.blocked => {
                self.blocked = true;
                self.waits.room.set_now();
            }
            Poll::Ready(Ok(n)) if *n > 0 && self.blocked => {
                self.blocked = false;
                self.waits.room.clear();
                if self.waits.head.is_set() {
                    self.waits.head.set_now();
                }
            }
            _ => {}
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.wrote(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A response body that starts the connection's wait for the next request head when it
/// has been handed over whole, or dropped.
struct WaitAfter<B> {
    body: B,
    waits: Arc<Waits>,
}

impl<B> Drop for WaitAfter<B> {
    fn drop(&mut self) {
        self.waits.head.set_now();
    }
}

impl<B> http_body::Body for WaitAfter<B>
where
    B: http_body::Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeout::CountingWaker;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[test]
    fn the_stop_signal_wakes_each_connection_still_watching_once() {
        let stop = Arc::new(Stop::default());
        let (open, closed) = (CountingWaker::new(), CountingWaker::new());
        let _open = stop.watch(open.waker());
        drop(stop.watch(closed.waker()));
        assert!(!stop.is_given());

        stop.give();
        assert!(stop.is_given());
        assert_eq!(open.woken(), 1);
        assert_eq!(closed.woken(), 0, "gone before the signal");
        assert!(stop.lock().wakers.is_empty());
    }

    #[tokio::test]
    async fn a_full_socket_is_waited_on_and_a_write_after_it_restarts_the_head_wait() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let waits = Arc::new(Waits::new(Arc::new(Metrics::new())));
        let mut watched = Watched {
            stream,
            waits: Arc::clone(&waits),
            blocked: false,
        };

        // A write that goes through at once leaves the head wait where it began.
        let started = waits.head.get().unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        watched.write_all(b"HTTP/1.1 200 OK\r\n").await.unwrap();
        assert_eq!(waits.head.get(), Some(started));
        assert_eq!(waits.room.get(), None);

        // The browser stops reading until the socket is full: waiting for room. Once it
        // takes the bytes, the next write that goes through ends that wait and restarts
        // the head wait.
        let chunk = vec![0u8; 64 * 1024];
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut sent = 0;
        while let Poll::Ready(written) = Pin::new(&mut watched).poll_write(&mut cx, &chunk) {
            sent += written.unwrap();
        }
        assert_eq!(waits.head.get(), Some(started), "only blocked so far");
        let full = waits.room.get().expect("waiting for room");
        assert!(full >= started + Duration::from_millis(30));
        tokio::time::sleep(Duration::from_millis(30)).await;
        let mut drained = vec![0u8; sent + 17];
        client.read_exact(&mut drained).await.unwrap();
        watched.write_all(b"more").await.unwrap();
        assert_eq!(waits.room.get(), None);
        let moved = waits.head.get().unwrap();
        assert!(
            moved >= started + Duration::from_millis(60),
            "{moved:?} {started:?}"
        );

        // A request in hand: no write starts a head wait.
        waits.head.clear();
        watched.blocked = true;
        watched.write_all(b"more").await.unwrap();
        assert_eq!(waits.head.get(), None);
        drop(client);
    }
}
