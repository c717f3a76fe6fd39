//! Reloading on SIGHUP: the config file and every secret and key file it names are read
//! again. A config that checks out applies to every request from then on; one that does
//! not is refused with one log line naming the key, and the running one stays.
//!
//! The files are read on a thread of their own (see [`LOAD_TIME_LIMIT`]), never on the
//! one that accepts connections and serves the admin port: a secret file that blocks (a
//! FIFO, a hung secrets mount) refuses the reload after the time limit, naming the file,
//! and serving goes on throughout.
//!
//! Each browser connection is served with the config it started with, and checks
//! (lock-free) on each request whether a reload has published another: requests in
//! flight finish on the old one, and the connection's next request is served with the new
//! one and answered with `Connection: close`, so the browser's next connection is made
//! with the new config. No connection is cut.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::{ConfigFileError, LOAD_TIME_LIMIT, Loading, SidecarConfig};
use crate::generation::{Generation, Shared};

/// Where the config is read again from, and the signal that asks for it.
pub struct Reload {
    path: PathBuf,
    #[cfg(unix)]
    hangups: tokio::signal::unix::Signal,
}

impl std::fmt::Debug for Reload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reload")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Reload {
    /// Reloads the config at `path` on every SIGHUP. From this call on, SIGHUP no longer
    /// ends the process. Must be called within a Tokio runtime.
    pub fn on_sighup(path: PathBuf) -> std::io::Result<Self> {
        Ok(Self {
            path,
            #[cfg(unix)]
            hangups: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?,
        })
    }

    /// Completes on the next SIGHUP; never where there is no such signal.
    async fn requested(&mut self) {
        #[cfg(unix)]
        if self.hangups.recv().await.is_some() {
            return;
        }
        std::future::pending::<()>().await;
    }
}

/// What only a restart can change: the listeners and the connection limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bound {
    listen: SocketAddr,
    admin_listen: Option<SocketAddr>,
    max_connections: usize,
}

impl Bound {
    pub(crate) fn of(config: &SidecarConfig) -> Self {
        Self {
            listen: config.listen,
            admin_listen: config.admin_listen,
            max_connections: config.server.max_connections,
        }
    }

    /// The keys of `config` that differ from what is bound.
    fn changed_in(&self, config: &SidecarConfig) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if config.listen != self.listen {
            changed.push("listen");
        }
        if config.admin_listen != self.admin_listen {
            changed.push("admin_listen");
        }
        if config.server.max_connections != self.max_connections {
            changed.push("server.max_connections");
        }
        changed
    }
}

/// Reloads on every request of `reload` until the server stops, publishing each new
/// [`Generation`] on `generations`.
pub(crate) async fn run(
    mut reload: Reload,
    bound: Bound,
    shared: Shared,
    generations: watch::Sender<Arc<Generation>>,
) {
    // A load given up on, whose thread may still be blocked in a read.
    let mut stuck: Option<Loading> = None;
    loop {
        reload.requested().await;
        let loaded = match stuck.take() {
            Some(earlier) if !earlier.is_finished() => {
                let refused = earlier.still_running();
                stuck = Some(earlier);
                Err(refused)
            }
            _ => load(&reload.path, &mut stuck).await,
        };
        let loaded = loaded.and_then(|config| {
            Generation::new(&config, &shared).map(|generation| (config, generation))
        });
        match loaded {
            Ok((config, generation)) => {
                generations.send_replace(Arc::new(generation));
                shared.admin.set_token(config.admin_token().cloned());
                shared.metrics.config_reload(true);
                for warning in config.warnings() {
                    tracing::warn!(target: "portal_sso::reload", "{warning}");
                }
                let restart = bound.changed_in(&config);
                if restart.is_empty() {
                    tracing::info!(target: "portal_sso::reload", "config reloaded");
                } else {
                    let restart = restart.join(", ");
                    tracing::warn!(
                        target: "portal_sso::reload",
                        needs_restart = %restart,
                        "config reloaded, but {restart} keep their old values until a restart"
                    );
                }
            }
            Err(err) => {
                shared.metrics.config_reload(false);
                tracing::error!(
                    target: "portal_sso::reload",
                    key = err.key(),
                    "config reload refused, the previous config stays: {err}"
                );
            }
        }
    }
}

/// Reads and checks the config at `path` on a thread of its own, waiting at most
/// [`LOAD_TIME_LIMIT`]; a load given up on is left in `stuck`.
async fn load(
    path: &std::path::Path,
    stuck: &mut Option<Loading>,
) -> Result<SidecarConfig, ConfigFileError> {
    let (sender, result) = tokio::sync::oneshot::channel();
    let loading = Loading::start(path.to_owned(), move |loaded| {
        let _ = sender.send(loaded);
    })?;
    match tokio::time::timeout(LOAD_TIME_LIMIT, result).await {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(_)) => Err(ConfigFileError::new(
            "config",
            "reading it stopped without an answer",
        )),
        Err(_) => {
            let err = loading.timed_out(LOAD_TIME_LIMIT);
            *stuck = Some(loading);
            Err(err)
        }
    }
}
