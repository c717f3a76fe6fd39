//! Reading the config file and every file it names on a thread of its own, within
//! [`LOAD_TIME_LIMIT`]: a file that blocks when read (a FIFO with no writer, a hung NFS
//! or CSI secrets mount) ends the load with an error naming it, and never holds up the
//! thread that asked, which may be the one accepting connections.
//!
//! A read cannot be interrupted from outside, so the thread reading a blocking file stays
//! blocked until the read returns. It is detached: it holds up neither the server nor the
//! process's exit, and [`Loading::is_finished`] tells a reload not to start another
//! behind it.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{ConfigFileError, SidecarConfig};

/// How long reading and checking the config file and every file it names may take, at
/// start and on each reload. Past it, start-up stops with a config error and a reload is
/// refused, each naming the file still being read.
pub const LOAD_TIME_LIMIT: Duration = Duration::from_secs(5);

/// What a load is doing, shared between its thread and the one waiting for it.
#[derive(Debug, Default)]
struct Progress {
    /// The key and path of the file being read now, if any.
    reading: Mutex<Option<(String, PathBuf)>>,
    finished: AtomicBool,
}

impl Progress {
    fn note(&self, reading: Option<(String, PathBuf)>) {
        *self.reading.lock().unwrap_or_else(PoisonError::into_inner) = reading;
    }

    fn reading(&self) -> Option<(String, PathBuf)> {
        self.reading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

thread_local! {
    /// The progress of the load running on this thread, when it runs on one of its own.
    static PROGRESS: RefCell<Option<Arc<Progress>>> = const { RefCell::new(None) };
}

/// Reads the file at `path` for the config key `key`, noted as the file being read for
/// as long as the read takes.
pub(super) fn read_file(key: &str, path: &Path) -> std::io::Result<Vec<u8>> {
    let progress = PROGRESS.with_borrow(Clone::clone);
    if let Some(progress) = &progress {
        progress.note(Some((key.to_owned(), path.to_owned())));
    }
    let read = std::fs::read(path);
    if let Some(progress) = &progress {
        progress.note(None);
    }
    read
}

/// A load of the config file running on a thread of its own.
#[derive(Debug)]
pub(crate) struct Loading {
    progress: Arc<Progress>,
}

impl Loading {
    /// Starts reading and checking the config file at `path`; `done` gets the result
    /// on the load's thread.
    pub(crate) fn start(
        path: PathBuf,
        done: impl FnOnce(Result<SidecarConfig, ConfigFileError>) + Send + 'static,
    ) -> Result<Self, ConfigFileError> {
        let progress = Arc::new(Progress::default());
        let shared = Arc::clone(&progress);
        std::thread::Builder::new()
            .name("portal-sso-config".to_owned())
            .spawn(move || {
                PROGRESS.set(Some(Arc::clone(&shared)));
                done(SidecarConfig::load(&path));
                shared.finished.store(true, Ordering::Release);
            })
            .map_err(|err| {
                ConfigFileError::new("config", format!("cannot start reading it: {err}"))
            })?;
        Ok(Self { progress })
    }

    /// Whether the load has returned (its result handed to `done`).
    pub(crate) fn is_finished(&self) -> bool {
        self.progress.finished.load(Ordering::Acquire)
    }

    /// The error for a load still running after `limit`: it names the file being read.
    pub(crate) fn timed_out(&self, limit: Duration) -> ConfigFileError {
        let secs = limit.as_secs();
        match self.progress.reading() {
            Some((key, path)) => ConfigFileError::new(
                key,
                format!(
                    "reading file {} did not finish within {secs} s (a FIFO with no writer, \
                     or a hung network or secrets mount?)",
                    path.display()
                ),
            ),
            None => ConfigFileError::new(
                "config",
                format!("reading and checking it did not finish within {secs} s"),
            ),
        }
    }

    /// The error for a reload asked for while this load, given up on, still runs.
    pub(crate) fn still_running(&self) -> ConfigFileError {
        match self.progress.reading() {
            Some((key, path)) => ConfigFileError::new(
                key,
                format!(
                    "file {} is still being read since an earlier reload (a FIFO with no \
                     writer, or a hung network or secrets mount?)",
                    path.display()
                ),
            ),
            None => ConfigFileError::new("config", "an earlier reload is still being read"),
        }
    }
}

impl SidecarConfig {
    /// Reads and checks the file at `path` as [`load`](Self::load) does, on a thread of
    /// its own, waiting at most `limit` ([`LOAD_TIME_LIMIT`] for `portal-sso`): a file
    /// that has not been read by then (a FIFO, a hung mount) is an error naming its key
    /// and path. That thread stays blocked in the read, detached.
    pub fn load_within(path: &Path, limit: Duration) -> Result<Self, ConfigFileError> {
        let (sender, result) = std::sync::mpsc::sync_channel(1);
        let loading = Loading::start(path.to_owned(), move |loaded| {
            let _ = sender.send(loaded);
        })?;
        match result.recv_timeout(limit) {
            Ok(loaded) => loaded,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(loading.timed_out(limit)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(ConfigFileError::new(
                "config",
                "reading it stopped without an answer",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_given_up_on_names_the_file_being_read() {
        let progress = Arc::new(Progress::default());
        let loading = Loading {
            progress: Arc::clone(&progress),
        };
        progress.note(Some((
            "tls.key".to_owned(),
            PathBuf::from("/run/secrets/tls.key"),
        )));
        assert_eq!(
            loading.timed_out(Duration::from_secs(5)).to_string(),
            "tls.key: reading file /run/secrets/tls.key did not finish within 5 s \
             (a FIFO with no writer, or a hung network or secrets mount?)"
        );
        let again = loading.still_running().to_string();
        assert!(again.starts_with("tls.key: file /run/secrets/tls.key is still being read"));
        progress.note(None);
        assert_eq!(
            loading.timed_out(Duration::from_secs(5)).to_string(),
            "config: reading and checking it did not finish within 5 s"
        );
    }

    #[test]
    fn a_config_file_is_read_and_checked_within_the_limit() {
        let path = std::env::temp_dir().join(format!("portal-sso-load-{}", std::process::id()));
        std::fs::write(&path, "listen = \n").unwrap();
        let err = SidecarConfig::load_within(&path, LOAD_TIME_LIMIT).unwrap_err();
        assert!(err.problem().starts_with("syntax error"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let err = SidecarConfig::load_within(&path, LOAD_TIME_LIMIT).unwrap_err();
        assert_eq!(err.key(), "--config", "{err}");
    }
}
