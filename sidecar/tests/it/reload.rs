//! Reload on SIGHUP, through the real binary: a rotated secret file signs the next token,
//! a request in flight finishes, a broken config is refused and the last good one serves.

use crate::support;

use std::path::Path;
use std::time::Duration;

use http::{StatusCode, header};
use support::*;

const ROTATED_SECRET: &str = "kustomer-secret-after-rotation-abcdefghij0123456789";

fn alice() -> String {
    format!("sid={ALICE_SESSION}")
}

/// The usual config, with Kustomer's secret read from the file `secret`.
fn config_with_secret_file(upstream: &Upstream, secret: &Path) -> String {
    config(
        &upstream.url(),
        &format!("{}/api/me", upstream.url()),
        "",
        "",
    )
    .replace(
        r#"secret = { env = "KUSTOMER_SSO_SECRET" }"#,
        &format!(r#"secret = {{ file = "{}" }}"#, secret.display()),
    )
}

/// The value of `portal_sso_config_reloads_total` for `result`.
async fn reloads(sidecar: &Sidecar, result: &str) -> String {
    let (status, _, body) = get(&sidecar.admin_url("/metrics"), None).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body.to_vec()).unwrap();
    let series = format!("portal_sso_config_reloads_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
        .to_owned()
}

/// Sends SIGHUP and waits for the reload's log line (the `nth` containing `needle`).
fn reload_and_wait(sidecar: &Sidecar, needle: &str, nth: usize) -> String {
    sidecar.signal("HUP");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = sidecar.log();
        if log.matches(needle).count() >= nth {
            return log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no `{needle}` in the log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_file_signs_the_next_token_and_a_request_in_flight_finishes() {
    let upstream = Upstream::start().await;
    let dir = TempDir::new();
    let secret = dir.write("kustomer.secret", KUSTOMER_SECRET);
    let sidecar = Sidecar::start(&config_with_secret_file(&upstream, &secret));

    let before = kustomer_token(&sidecar).await;
    assert!(verifies(&before, KUSTOMER_SECRET));

    // A request in flight across the reload, and a kept-alive connection idle across it.
    let mut in_flight = OneConnection::open(sidecar.addr).await;
    let slow = tokio::spawn(async move {
        let answer = in_flight.get("/slow?ms=1500").await;
        (answer, in_flight.closed)
    });
    let mut idle = OneConnection::open(sidecar.addr).await;
    assert_eq!(idle.get("/echo").await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;

    std::fs::write(&secret, ROTATED_SECRET).unwrap();
    let log = reload_and_wait(&sidecar, "config reloaded", 1);
    assert!(!log.contains("restart"), "{log}");

    let after = kustomer_token(&sidecar).await;
    assert!(verifies(&after, ROTATED_SECRET), "the new secret signs");
    assert!(
        !verifies(&after, KUSTOMER_SECRET),
        "the old one no longer does"
    );

    // The request in flight finished on the old config.
    let ((status, body), _) = slow.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"slow done");
    // The kept-alive connection was not cut: its next request is served with the new
    // config and told to close, and then the connection closes.
    let (status, headers, _) = idle.get_with_cookie("/sso/kustomer", Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers[header::CONNECTION], "close");
    let token = query_param(&location(&headers), "externalToken").unwrap();
    assert!(verifies(&token, ROTATED_SECRET), "the new config serves it");
    tokio::time::timeout(Duration::from_secs(2), idle.closed)
        .await
        .expect("the connection closes after that answer")
        .unwrap();

    assert_eq!(reloads(&sidecar, "ok").await, "1");
    assert_eq!(reloads(&sidecar, "error").await, "0");
    let log = sidecar.log();
    for secret in [
        KUSTOMER_SECRET,
        ROTATED_SECRET,
        &before,
        &after,
        ALICE_SESSION,
    ] {
        assert!(!log.contains(secret), "the log shows a secret:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_is_refused_naming_the_key_and_the_last_good_one_serves() {
    let upstream = Upstream::start().await;
    let dir = TempDir::new();
    let secret = dir.write("kustomer.secret", KUSTOMER_SECRET);
    let good = config_with_secret_file(&upstream, &secret);
    let sidecar = Sidecar::start(&good);

    // A redirect origin without a scheme.
    let broken = good.replace(
        r#"redirect_origins = ["https://acme.kustomer.help"]"#,
        r#"redirect_origins = ["acme.kustomer.help"]"#,
    );
    assert_ne!(broken, good);
    std::fs::write(sidecar.config_path(), &broken).unwrap();
    let log = reload_and_wait(&sidecar, "config reload refused", 1);
    let line = log
        .lines()
        .find(|line| line.contains("config reload refused"))
        .unwrap();
    assert!(line.contains("portal[0].redirect_origins[0]"), "{line}");

    // The secret file gone, with a good config: refused, naming the secret's key.
    std::fs::write(sidecar.config_path(), &good).unwrap();
    std::fs::write(&secret, ROTATED_SECRET).unwrap();
    std::fs::remove_file(&secret).unwrap();
    let log = reload_and_wait(&sidecar, "config reload refused", 2);
    let line = log
        .lines()
        .filter(|line| line.contains("config reload refused"))
        .nth(1)
        .unwrap();
    assert!(line.contains("portal[0].secret"), "{line}");

    // Still serving, with the secret read at start.
    let token = kustomer_token(&sidecar).await;
    assert!(verifies(&token, KUSTOMER_SECRET));
    let (status, _, _) = get(&sidecar.url("/echo"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reloads(&sidecar, "error").await, "2");
    assert_eq!(reloads(&sidecar, "ok").await, "0");
    assert!(!sidecar.log().contains(KUSTOMER_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_listen_address_is_said_to_need_a_restart_and_the_rest_applies() {
    let upstream = Upstream::start().await;
    let text = config(
        &upstream.url(),
        &format!("{}/api/me", upstream.url()),
        "",
        "",
    );
    let sidecar = Sidecar::start(&text);
    let elsewhere = free_addr();
    let moved = text
        .replace(
            r#"listen = "127.0.0.1:0""#,
            &format!(r#"listen = "{elsewhere}""#),
        )
        .replace("[login]\nurl = \"/login\"", "[login]\nurl = \"/signin\"");
    std::fs::write(sidecar.config_path(), moved).unwrap();
    let log = reload_and_wait(&sidecar, "config reloaded", 1);
    let line = log
        .lines()
        .find(|line| line.contains("config reloaded"))
        .unwrap();
    assert!(line.contains("listen"), "{line}");
    assert!(line.contains("restart"), "{line}");

    // Still on the old address, with the new login page.
    let (status, headers, _) = get(&sidecar.url("/sso/kustomer"), None).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location(&headers).starts_with("/signin?next="),
        "{:?}",
        headers.get(header::LOCATION)
    );
    assert!(
        tokio::net::TcpStream::connect(elsewhere).await.is_err(),
        "nothing listens on the new address before a restart"
    );
}
