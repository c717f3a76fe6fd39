//! A reload never stops serving: a secret file that blocks when read (a FIFO here; a hung
//! NFS or CSI secrets mount in production) leaves the listener and `/healthz` answering;
//! after the time limit the reload is refused with a log line naming the file, and the
//! config in force keeps signing. At start, the same file is a config error after the
//! limit rather than a hang.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use http::StatusCode;
use support::*;

/// How long the sidecar waits for its config and secrets to be read (README, Reload).
const LOAD_TIME_LIMIT: Duration = Duration::from_secs(5);

/// A named pipe at `dir/name`: opening it for reading waits for a writer, which never comes.
fn fifo(dir: &TempDir, name: &str) -> PathBuf {
    let path = dir.0.join(name);
    let status = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
    path
}

/// The usual config, with Kustomer's secret read from the file `secret`.
fn config_with_secret_file(upstream: &str, secret: &Path) -> String {
    config(upstream, &format!("{upstream}/api/me"), "", "").replace(
        r#"secret = { env = "KUSTOMER_SSO_SECRET" }"#,
        &format!(r#"secret = {{ file = "{}" }}"#, secret.display()),
    )
}

/// A GET that must be answered within a second.
async fn answered_promptly(url: &str) -> StatusCode {
    let started = Instant::now();
    let (status, _, _) = tokio::time::timeout(Duration::from_secs(1), get(url, None))
        .await
        .unwrap_or_else(|_| panic!("{url} not answered within 1 s"));
    assert!(started.elapsed() < Duration::from_secs(1));
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_never_stops_serving_while_a_secret_file_blocks() {
    let upstream = Upstream::start().await;
    let dir = TempDir::new();
    let secret = dir.write("kustomer.secret", KUSTOMER_SECRET);
    let sidecar = Sidecar::start(&config_with_secret_file(&upstream.url(), &secret));
    assert!(verifies(&kustomer_token(&sidecar).await, KUSTOMER_SECRET));

    let blocking = fifo(&dir, "kustomer.fifo");
    std::fs::write(
        sidecar.config_path(),
        config_with_secret_file(&upstream.url(), &blocking),
    )
    .unwrap();
    sidecar.signal("HUP");
    let sent = Instant::now();

    // Through the time limit and past it, new connections are accepted and answered.
    while sent.elapsed() < LOAD_TIME_LIMIT + Duration::from_secs(1) {
        assert_eq!(
            answered_promptly(&sidecar.url("/echo")).await,
            StatusCode::OK
        );
        let healthz = sidecar.admin_url("/healthz");
        assert_eq!(answered_promptly(&healthz).await, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let log = sidecar.log_once_it_has("config reload refused", Duration::from_secs(5));
    let line = log
        .lines()
        .find(|line| line.contains("config reload refused"))
        .unwrap_or_else(|| panic!("no refusal in the log:\n{log}"));
    assert!(line.contains("portal[0].secret"), "{line}");
    assert!(
        line.contains(&blocking.display().to_string()),
        "the line names the file: {line}"
    );

    // The config in force stays: the secret read at start still signs.
    assert!(verifies(&kustomer_token(&sidecar).await, KUSTOMER_SECRET));

    // A second SIGHUP while the file still blocks is refused at once, naming it again.
    sidecar.signal("HUP");
    let log = sidecar.log_once_it_has("still being read", Duration::from_secs(2));
    assert!(log.contains("still being read"), "{log}");
    assert_eq!(
        answered_promptly(&sidecar.url("/echo")).await,
        StatusCode::OK
    );
    let (_, _, metrics) = get(&sidecar.admin_url("/metrics"), None).await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("portal_sso_config_reloads_total{result=\"error\"} 2"),
        "{metrics}"
    );
}

#[test]
fn a_secret_file_that_blocks_at_start_is_a_config_error_after_the_limit() {
    let dir = TempDir::new();
    let blocking = fifo(&dir, "kustomer.fifo");
    let path = dir.write(
        "portal-sso.toml",
        &config_with_secret_file("http://127.0.0.1:9", &blocking),
    );
    let started = Instant::now();
    let children: Vec<_> = ["serve", "check-config"]
        .into_iter()
        .map(|command| {
            let child = Command::new(BIN)
                .arg(command)
                .arg("--config")
                .arg(&path)
                .envs(secret_env())
                .env_remove("PORTAL_SSO_CONFIG")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (command, child)
        })
        .collect();
    for (command, mut child) in children {
        let deadline = started + LOAD_TIME_LIMIT + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{command}` still waits on the blocking secret file");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(started.elapsed() >= LOAD_TIME_LIMIT, "{command}: {stderr}");
        let line = stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{command}: one line: {stderr}");
        assert!(
            line.starts_with("portal-sso: config error: portal[0].secret: "),
            "{command}: {line}"
        );
        assert!(
            line.contains(&blocking.display().to_string()),
            "{command}: {line}"
        );
        assert!(line.contains("5 s"), "{command}: {line}");
    }
}
