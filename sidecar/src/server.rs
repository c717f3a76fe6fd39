//! The sidecar's HTTP server: accepts browsers' connections within the connection limit,
//! answers SSO routes through the layer and forwards the rest, and drains gracefully on
//! shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use portal_sso::SsoLayer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;

use crate::admin::{self, State};
use crate::config::{ServerSettings, SidecarConfig};
use crate::generation::{ConnectionService, Generation, Shared};
use crate::metrics::Metrics;
use crate::recent::Recent;
use crate::reload::{Bound, Reload};
use crate::runtimes::Runtimes;

/// Runs the sidecar until `shutdown` completes, then stops accepting connections and lets
/// in-flight requests and open tunnels finish within the configured grace period. With
/// `reload`, the config is read again on each of its signals (see [`crate::reload`]).
///
/// Returns an error only when a listener cannot be bound.
pub async fn serve<F>(config: SidecarConfig, reload: Option<Reload>, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let shared = Shared {
        metrics: Arc::new(Metrics::new()),
        recent: Arc::new(Recent::default()),
        admin: Arc::new(State::default()),
    };
    let state = Arc::clone(&shared.admin);
    state.set_token(config.admin_token().cloned());
    let generation = Generation::new(&config, &shared)
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
    for warning in config.warnings() {
        tracing::warn!(target: "portal_sso::server", "{warning}");
    }
    let (listener, admin_listener) = bind(&config, &generation.layer).await?;
    let admin_task = admin_listener.map(|listener| {
        tokio::spawn(admin::serve(
            listener,
            Arc::clone(&state),
            Arc::clone(&shared.metrics),
            Arc::clone(&shared.recent),
        ))
    });

    let max_connections = config.server.max_connections;
    // A connection keeps its place in the limit while it lasts, and a tunnel made from
    // it after that: more connections wait in the kernel's backlog.
    let connections = Arc::new(Semaphore::new(max_connections));
    // Tells each connection to finish the request in flight and close.
    let (stop, stopped) = tokio::sync::watch::channel(());
    // The generation every new connection is served with; a reload publishes a new one.
    let (generations, mut current) = tokio::sync::watch::channel(Arc::new(generation));
    let readiness = current.clone();
    state.set_readiness(move || readiness.borrow().not_ready());
    let reload_task = reload.map(|reload| {
        tokio::spawn(crate::reload::run(
            reload,
            Bound::of(&config),
            shared.clone(),
            generations,
        ))
    });
    let mut runtimes = Runtimes::start();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => Arc::new(permit),
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
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
        // The connection watches for the next reload from the generation it is served with on.
        let mut reloaded = current.clone();
        let generation = Arc::clone(&reloaded.borrow_and_update());
        let service =
            TowerToHyperService::new(generation.service_for(peer, Arc::clone(&permit), reloaded));
        let tls = generation.tls.clone();
        // The socket moves to the runtime that serves it (see `Runtimes`).
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(err) => {
                tracing::debug!(target: "portal_sso::server", %err, "connection not handed over");
                continue;
            }
        };
        let connection = Connection {
            builder: generation.builder.clone(),
            settings: generation.settings.clone(),
            stopped: stopped.clone(),
            slot: permit,
        };
        runtimes.spawn(connection.serve(stream, peer, tls, service));
    }

    state.set_draining();
    drop(listener);
    if let Some(task) = reload_task {
        task.abort();
    }
    let settings = current.borrow_and_update().settings.clone();
    let in_flight = max_connections - connections.available_permits();
    tracing::info!(
        target: "portal_sso::server",
        connections = in_flight,
        grace_secs = settings.shutdown_grace.as_secs(),
        "shutting down: draining connections"
    );
    drop(stop);
    drain(&connections, max_connections, settings.shutdown_grace).await;
    if let Some(task) = admin_task {
        task.abort();
    }
    tracing::info!(target: "portal_sso::server", "stopped");
    Ok(())
}

/// The browser's connection: a write that makes no progress for the send timeout fails,
/// which closes the connection (slow-read protection).
fn io(
    stream: TcpStream,
    settings: &ServerSettings,
) -> std::pin::Pin<Box<TimeoutStream<TcpStream>>> {
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(target: "portal_sso::server", %err, "TCP_NODELAY not set");
    }
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(settings.send_timeout));
    Box::pin(stream)
}

/// Waits until every connection, and every open tunnel (which holds its connection's
/// place in the limit), has closed, or the grace period is over.
async fn drain(connections: &Semaphore, max_connections: usize, grace: Duration) {
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, connections.acquire_many(all))
        .await
        .is_err()
    {
        let left = max_connections - connections.available_permits();
        tracing::warn!(
            target: "portal_sso::server",
            connections = left,
            "grace period over: closing the remaining connections"
        );
    }
}

/// Binds the listener and the admin listener, and says so in the log.
async fn bind(
    config: &SidecarConfig,
    layer: &SsoLayer,
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
        .transpose()?
        .map_or_else(|| "none".to_owned(), |a| a.to_string());
    let routes: Vec<&str> = layer.routes().collect();
    tracing::info!(
        target: "portal_sso::server",
        listen = %listen,
        admin_listen = %admin_addr,
        upstream = %config.upstream.uri.as_ref().map_or_else(|| "none".to_owned(), Uri::to_string),
        routes = %routes.join(","),
        "portal-sso started listen={listen} admin_listen={admin_addr}",
    );
    Ok((listener, admin_listener))
}

/// What a browser connection is served with, besides its service.
struct Connection {
    builder: http1::Builder,
    settings: ServerSettings,
    /// Changes (closes) when the server shuts down: the connection finishes the request
    /// in flight and closes.
    stopped: tokio::sync::watch::Receiver<()>,
    /// The connection's place in the connection limit.
    slot: crate::proxy::Slot,
}

impl Connection {
    /// Serves the browser connection `stream` until it closes, on the runtime this runs
    /// on (where the socket is registered), after the TLS handshake when there is one.
    async fn serve(
        self,
        stream: std::net::TcpStream,
        peer: SocketAddr,
        tls: Option<TlsAcceptor>,
        service: TowerToHyperService<ConnectionService>,
    ) {
        let stream = match TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(err) => {
                tracing::debug!(target: "portal_sso::server", %err, %peer, "connection not registered");
                return;
            }
        };
        let stream = io(stream, &self.settings);
        let Some(tls) = tls else {
            return self.run(TokioIo::new(stream), peer, service).await;
        };
        // The handshake gets the time a request's headers get (slowloris protection).
        match tokio::time::timeout(self.settings.header_read_timeout, tls.accept(stream)).await {
            Ok(Ok(stream)) => self.run(TokioIo::new(stream), peer, service).await,
            Ok(Err(err)) => {
                tracing::debug!(target: "portal_sso::server", %err, %peer, "TLS handshake failed");
            }
            Err(_) => {
                tracing::debug!(target: "portal_sso::server", %peer, "TLS handshake timed out");
            }
        }
    }

    /// Serves HTTP/1.1 on `io` until the connection closes.
    async fn run<I>(
        mut self,
        io: I,
        peer: SocketAddr,
        service: TowerToHyperService<ConnectionService>,
    ) where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let connection = self.builder.serve_connection(io, service).with_upgrades();
        tokio::pin!(connection);
        let ended = tokio::select! {
            ended = connection.as_mut() => ended,
            _ = self.stopped.changed() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(err) = ended {
            tracing::debug!(target: "portal_sso::server", %err, %peer, "connection ended");
        }
        drop(self.slot);
    }
}
