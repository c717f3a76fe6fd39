//! Running the demo: every port checked first (a taken one is named before anything
//! runs), the sidecar's config generated, then the app, the mock portals and the sidecar
//! served until shutdown. On shutdown the sidecar drains first, as `portal-sso serve`
//! does, and the app it forwards to stops once it has.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use portal_sso::Secret;

use super::config::{self, SHUTDOWN_GRACE_SECS, Secrets};
use super::sites::{Sites, banner, loopback};
use super::{app, portals, random_hex};

/// How long, after the sidecar's grace period, the demo waits for the app and the mock
/// portals to close their last connections before it returns anyway.
const DRAIN_MARGIN: Duration = Duration::from_secs(2);

/// Runs the demo until `shutdown` completes: the sidecar on `listen` in front of the app
/// (on a loopback port of its own), the mock Kustomer portal on the next port, the mock
/// Aha! knowledge base on the one after, and the sidecar's admin listener on the port
/// after that, on loopback.
///
/// Prints what runs where, the demo users and what to click. Fails with a message naming
/// the port when one of them cannot be bound.
pub async fn run(
    listen: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let sites = Sites::new(listen)?;
    let internal = SocketAddr::new(loopback(listen.ip()), 0);
    let app_listener = bind(internal, "the demo app").await?;
    let kustomer_listener = bind(sites.kustomer_listen, "the mock Kustomer portal").await?;
    let aha_listener = bind(sites.aha_listen, "the mock Aha! knowledge base").await?;
    // The sidecar binds its own two: checked here so that a taken one is named.
    drop(
        bind(
            sites.sidecar_listen,
            "the sidecar (the app as browsers see it)",
        )
        .await?,
    );
    drop(bind(sites.admin_listen, "the sidecar's admin listener").await?);
    let app_listen = app_listener.local_addr()?;

    let kustomer_secret = random_secret();
    let aha_secret = random_secret();
    let chat_secret = random_secret();
    let config = config::generate(
        &sites,
        app_listen,
        &Secrets {
            kustomer: &kustomer_secret,
            aha: &aha_secret,
            kustomer_chat: &chat_secret,
            cookie_key: &random_secret(),
        },
    )?;
    let sites = Arc::new(sites);
    let app = app::router(Arc::clone(&sites), cookie::Key::generate());
    let kustomer = portals::kustomer(Arc::clone(&sites), kustomer_secret, chat_secret);
    let aha = portals::aha(Arc::clone(&sites), aha_secret);

    println!("{}", banner(&sites, app_listen));

    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    // The app stops once the sidecar has drained: requests in flight still reach it.
    let (app_stop, app_stopped) = watch::channel(false);
    let sidecar = async {
        let served = crate::serve(config, None, stop_asked(stopped.clone())).await;
        let _ = app_stop.send(true);
        served.map_err(|err| io::Error::new(err.kind(), format!("demo: the sidecar: {err}")))
    };
    let serve = |listener: TcpListener, router: axum::Router, stopped| {
        axum::serve(listener, router)
            .with_graceful_shutdown(stop_asked(stopped))
            .into_future()
    };
    let servers = async {
        tokio::try_join!(
            sidecar,
            serve(app_listener, app, app_stopped),
            serve(kustomer_listener, kustomer, stopped.clone()),
            serve(aha_listener, aha, stopped.clone()),
        )
        .map(|_| ())
    };
    let deadline = async {
        stop_asked(stopped.clone()).await;
        tokio::time::sleep(Duration::from_secs(SHUTDOWN_GRACE_SECS) + DRAIN_MARGIN).await;
    };
    tokio::select! {
        result = servers => result,
        () = deadline => Ok(()),
    }
}

/// Completes once `stop` says so, or its sender is gone.
async fn stop_asked(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

async fn bind(addr: SocketAddr, what: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|err| {
        io::Error::new(
            err.kind(),
            format!(
                "demo: cannot listen on {addr} (port {}) for {what}: {err}",
                addr.port()
            ),
        )
    })
}

/// A fresh shared secret: 32 random bytes, written as 64 hex digits.
fn random_secret() -> Secret {
    Secret::new(random_hex())
}
