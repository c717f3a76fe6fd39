//! The `portal-sso` binary: its config for the test app, the running sidecar process
//! (its log, signals, exit), one-shot CLI runs, and the temp dirs and free ports they use.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub const KUSTOMER_SECRET: &str = "kustomer-knowledge-base-secret-0123456789abcdef";
pub const AHA_SECRET: &str = "aha-shared-secret-from-the-jwt-screen-0123456789";
/// The cookie key replicas share, in `PORTAL_SSO_COOKIE_KEY`.
pub const COOKIE_KEY: &str = "the-cookie-key-every-replica-shares-0123456789";
/// The config line that gives the sidecar [`COOKIE_KEY`].
pub const COOKIE_KEY_LINE: &str = "cookie_key = { env = \"PORTAL_SSO_COOKIE_KEY\" }";
/// The Kustomer Chat widget's secret, as `examples/portal-sso.toml` reads it.
pub const KUSTOMER_CHAT_SECRET: &str = super::widgets::CHAT_SECRET;

/// A port nothing listens on (bound, then released).
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A directory of its own under the system's temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "portal-sso-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const BIN: &str = env!("CARGO_BIN_EXE_portal-sso");

/// The environment the sidecar reads its secrets from.
pub fn secret_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("KUSTOMER_SSO_SECRET", KUSTOMER_SECRET),
        ("AHA_SSO_SECRET", AHA_SECRET),
        ("PORTAL_SSO_COOKIE_KEY", COOKIE_KEY),
        ("KUSTOMER_CHAT_SECRET", KUSTOMER_CHAT_SECRET),
    ]
}

/// The Kustomer and Aha! portals of the test configs, their secrets in
/// [`secret_env`]'s variables.
pub const PORTALS: &str = r#"[[portal]]
kind = "kustomer"
secret = { env = "KUSTOMER_SSO_SECRET" }
redirect_origins = ["https://acme.kustomer.help"]
default_redirect = "https://acme.kustomer.help/login"

[[portal]]
kind = "aha"
secret = { env = "AHA_SSO_SECRET" }
callback_url = "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456"
"#;

/// A config for `upstream` with both portals, introspection on `/api/me`, and an admin
/// listener; `top` is added at the top level (before the tables) and `server` to `[server]`.
pub fn config(upstream: &str, introspect_url: &str, top: &str, server: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{upstream}"
admin_listen = "127.0.0.1:0"
{top}

[server]
{server}

[session]
cookie = "sid"
introspect = {{ url = "{introspect_url}", cache_ttl_secs = 30, timeout_ms = 1000 }}

[session.claims]
email = "/email"
first_name = "/first_name"
last_name = "/last_name"

[login]
url = "/login"
return_param = "next"

{PORTALS}"#
    )
}

/// The sidecar binary, running.
pub struct Sidecar {
    child: Child,
    pub addr: SocketAddr,
    pub admin: Option<SocketAddr>,
    log: Arc<Mutex<String>>,
    dir: TempDir,
}

impl Sidecar {
    /// Starts `portal-sso serve` with `config` and the secrets in its environment, and
    /// waits for its start line.
    pub fn start(config: &str) -> Self {
        Self::start_with_env(config, &[])
    }

    /// Starts the sidecar with more environment variables.
    pub fn start_with_env(config: &str, env: &[(&str, &str)]) -> Self {
        let dir = TempDir::new();
        let path = dir.write("portal-sso.toml", config);
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--config")
            .arg(&path)
            .envs(secret_env())
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .env_remove("PORTAL_SSO_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("portal-sso started")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(line.clone());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the sidecar did not start; its log:\n{}",
                log.lock().unwrap()
            );
        };
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|token| token.strip_prefix(name))
                .map(|v| v.trim_matches(|c| c == '"' || c == ','))
                .map(str::to_owned)
        };
        let addr = field("listen=").unwrap().parse().unwrap();
        let admin = field("admin_listen=").and_then(|a| a.parse().ok());
        Self {
            child,
            addr,
            admin,
            log,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin.expect("an admin listener"))
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it contains `needle`, or as it is after `limit`: the line is written
    /// before the response leaves, but the pipe reader may not have taken it in yet.
    pub fn log_once_it_has(&self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let log = self.log();
            if log.contains(needle) || Instant::now() >= deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM to the sidecar process.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends the signal `name` (`HUP`, `TERM`) to the sidecar process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The config file the sidecar was started with, to be rewritten before a reload.
    pub fn config_path(&self) -> PathBuf {
        self.dir.0.join("portal-sso.toml")
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the sidecar did not exit"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the binary with `args` to completion.
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("PORTAL_SSO_CONFIG")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}
