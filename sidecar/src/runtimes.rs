//! One single-threaded tokio runtime per CPU, with browser connections dealt out to them
//! in turn, as an event loop per core: a connection and its connection to the app stay
//! on one thread from accept to close, and their tasks never wake another thread.
//!
//! A departure from tokio's multi-thread runtime, kept for what it measured on the load
//! bench (`benches/README.md`, "Departures from the standard way").

use std::future::Future;

use tokio::runtime::{Builder, Handle};

/// The runtimes connections are dealt out to: the one `serve` runs on, and one more per
/// further CPU, each on a thread of its own.
pub struct Runtimes {
    handles: Vec<Handle>,
    next: usize,
}

impl Runtimes {
    /// The current runtime, and one thread with a single-threaded runtime per further
    /// CPU (fewer if a thread cannot be started; the current one serves then).
    pub fn start() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let mut handles = vec![Handle::current()];
        for n in 1..cpus {
            let runtime = match Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(err) => {
                    tracing::warn!(target: "portal_sso::server", %err, "worker runtime not started");
                    break;
                }
            };
            let handle = runtime.handle().clone();
            let started = std::thread::Builder::new()
                .name(format!("portal-sso-worker-{n}"))
                .spawn(move || runtime.block_on(std::future::pending::<()>()));
            match started {
                Ok(_) => handles.push(handle),
                Err(err) => {
                    tracing::warn!(target: "portal_sso::server", %err, "worker thread not started");
                    break;
                }
            }
        }
        Self { handles, next: 0 }
    }

    /// Runs `task` on the next runtime in turn. It must register its I/O there itself
    /// (a socket belongs to the runtime that registered it).
    pub fn spawn<F>(&mut self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.next = (self.next + 1) % self.handles.len();
        self.handles[self.next].spawn(task);
    }
}
