//! `portal-sso demo`: the whole flow on one machine, nothing to configure.

use std::future::Future;
use std::net::SocketAddr;

/// Runs the demo on `listen` until `shutdown` completes.
#[allow(clippy::unused_async)] // the signature the real demo needs
pub async fn run(
    listen: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _ = (listen, shutdown);
    Err(std::io::Error::other("demo not available"))
}
