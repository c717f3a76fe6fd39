//! The admin port is safe by default: `check-config` warns when it listens beyond
//! loopback without `admin_token`; with one, `/metrics` and `/events` want it as a bearer
//! token (re-read on SIGHUP) while `/healthz` and `/readyz` stay open; a loopback admin
//! port answers only requests addressed to loopback (DNS rebinding); and a flood of
//! refused requests cannot push the real decisions out of `/events`.

use crate::support;

use std::time::Duration;

use http::{Request, StatusCode, header};
use support::stack::{KUSTOMER_LOGIN, alice, setup, setup_with};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN_TOKEN: &str = "admin-token-for-metrics-0123456789abcdef";
const ROTATED_TOKEN: &str = "admin-token-after-rotation-0123456789abcdef";

/// `GET url` with `Authorization: <authorization>` when given.
async fn get_authorized(
    url: &str,
    authorization: Option<&str>,
) -> (StatusCode, http::HeaderMap, bytes::Bytes) {
    let mut request = Request::get(url);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    send(request.body(empty()).unwrap()).await
}

/// `check-config` on `config` with `env`: its exit code and everything it printed.
fn check_config(config: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", config);
    let output = run_cli(&["check-config", "--config", path.to_str().unwrap()], env);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), printed)
}

#[test]
fn check_config_warns_when_the_admin_port_is_not_loopback_and_has_no_token() {
    // With the replicas' cookie key, so that the admin port is the only thing to warn about.
    let base = config(
        "http://127.0.0.1:3000",
        "http://127.0.0.1:3000/api/me",
        COOKIE_KEY_LINE,
        "",
    );
    let open = base.replace(
        r#"admin_listen = "127.0.0.1:0""#,
        r#"admin_listen = "0.0.0.0:9901""#,
    );
    let mut env = secret_env();
    let (code, printed) = check_config(&open, &env);
    assert_eq!(code, Some(0), "{printed}");
    let warning = printed
        .lines()
        .find(|line| line.contains("warning"))
        .unwrap_or_else(|| panic!("no warning in\n{printed}"));
    assert!(warning.contains("admin_listen"), "{warning}");
    assert!(warning.contains("admin_token"), "{warning}");
    assert!(printed.contains("config OK"), "{printed}");

    // With a token, or on loopback, nothing to warn about.
    let guarded = open.replace(
        "admin_listen = \"0.0.0.0:9901\"\n",
        "admin_listen = \"0.0.0.0:9901\"\nadmin_token = { env = \"PORTAL_SSO_ADMIN_TOKEN\" }\n",
    );
    env.push(("PORTAL_SSO_ADMIN_TOKEN", ADMIN_TOKEN));
    for (text, what) in [(&guarded, "with a token"), (&base, "on loopback")] {
        let (code, printed) = check_config(text, &env);
        assert_eq!(code, Some(0), "{what}: {printed}");
        assert!(!printed.contains("warning"), "{what}: {printed}");
        assert!(!printed.contains(ADMIN_TOKEN), "{what}: {printed}");
    }
    let (_, printed) = check_config(&guarded, &env);
    assert!(
        printed.contains("admin_token"),
        "the summary says so: {printed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_token_guards_metrics_and_events_and_health_stays_open() {
    let upstream = Upstream::start().await;
    let me = format!("{}/api/me", upstream.url());
    let text = config(
        &upstream.url(),
        &me,
        r#"admin_token = { env = "PORTAL_SSO_ADMIN_TOKEN" }"#,
        "",
    );
    let sidecar = Sidecar::start_with_env(&text, &[("PORTAL_SSO_ADMIN_TOKEN", ADMIN_TOKEN)]);

    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let lower = format!("bearer {ADMIN_TOKEN}");
    for path in ["/metrics", "/events"] {
        let url = sidecar.admin_url(path);
        for refused in [
            None,
            Some("Bearer wrong-token"),
            Some(&format!("Bearer {}", &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1])),
            Some(&format!("Basic {ADMIN_TOKEN}")),
            Some(ADMIN_TOKEN),
        ] {
            let (status, headers, body) = get_authorized(&url, refused).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {refused:?}");
            let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
            assert!(challenge.starts_with("Bearer"), "{challenge}");
            assert!(!String::from_utf8_lossy(&body).contains(ADMIN_TOKEN));
        }
        for accepted in [&bearer, &lower] {
            let (status, _, _) = get_authorized(&url, Some(accepted)).await;
            assert_eq!(status, StatusCode::OK, "{path}");
        }
    }
    for path in ["/healthz", "/readyz"] {
        let (status, _, _) = get_authorized(&sidecar.admin_url(path), None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }

    // `portal-sso healthcheck` asks /healthz, which needs no token.
    let output = run_cli(
        &["healthcheck", "--url", &sidecar.admin_url("/healthz")],
        &[],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!sidecar.log().contains(ADMIN_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_reads_the_admin_token_again() {
    let upstream = Upstream::start().await;
    let dir = TempDir::new();
    let token_file = dir.write("admin.token", &format!("{ADMIN_TOKEN}\n"));
    let me = format!("{}/api/me", upstream.url());
    let top = format!(r#"admin_token = {{ file = "{}" }}"#, token_file.display());
    let sidecar = Sidecar::start(&config(&upstream.url(), &me, &top, ""));
    let metrics = sidecar.admin_url("/metrics");
    let old = format!("Bearer {ADMIN_TOKEN}");
    let new = format!("Bearer {ROTATED_TOKEN}");
    assert_eq!(get_authorized(&metrics, Some(&old)).await.0, StatusCode::OK);
    assert_eq!(
        get_authorized(&metrics, Some(&new)).await.0,
        StatusCode::UNAUTHORIZED
    );

    std::fs::write(&token_file, ROTATED_TOKEN).unwrap();
    sidecar.signal("HUP");
    let log = sidecar.log_once_it_has("config reloaded", Duration::from_secs(10));
    assert!(log.contains("config reloaded"), "{log}");
    assert_eq!(get_authorized(&metrics, Some(&new)).await.0, StatusCode::OK);
    assert_eq!(
        get_authorized(&metrics, Some(&old)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let log = sidecar.log();
    assert!(
        !log.contains(ADMIN_TOKEN) && !log.contains(ROTATED_TOKEN),
        "{log}"
    );
}

/// The status line of the admin port's answer to `GET /healthz` with `host` as its `Host`
/// line (none when `None`).
async fn status_for_host(sidecar: &Sidecar, host: Option<&str>) -> String {
    let mut stream = tokio::net::TcpStream::connect(sidecar.admin.unwrap())
        .await
        .unwrap();
    let host = host.map_or_else(String::new, |host| format!("Host: {host}\r\n"));
    let request = format!("GET /healthz HTTP/1.1\r\n{host}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 5 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_admin_port_answers_only_requests_addressed_to_loopback() {
    let (_upstream, sidecar) = setup().await;
    let admin = sidecar.admin.unwrap();
    let own = admin.to_string();
    let port = admin.port();
    for host in [
        "localhost".to_owned(),
        "LocalHost".to_owned(),
        format!("localhost:{port}"),
        "127.0.0.1".to_owned(),
        own,
        "[::1]".to_owned(),
        "[::1]:9901".to_owned(),
    ] {
        let status = status_for_host(&sidecar, Some(&host)).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{host}: {status}");
    }
    for host in [
        Some(format!("attacker.example:{port}")),
        Some("attacker.example".to_owned()),
        Some(format!("localhost.attacker.example:{port}")),
        Some("127.0.0.1.nip.io".to_owned()),
        Some("10.0.0.1".to_owned()),
        Some(String::new()),
        None,
    ] {
        let status = status_for_host(&sidecar, host.as_deref()).await;
        assert!(
            status.starts_with("HTTP/1.1 421") || status.starts_with("HTTP/1.1 403"),
            "{host:?}: {status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refused_requests_cannot_push_decisions_out_of_events() {
    let (_upstream, sidecar) = setup_with("", "").await;
    // Decisions: a login required, a token issued.
    get(&sidecar.url(KUSTOMER_LOGIN), None).await;
    let (status, _, _) = get(&sidecar.url(KUSTOMER_LOGIN), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    // Then more refusals than `/events` keeps (200), on one kept-alive connection.
    let mut connection = OneConnection::open(sidecar.addr).await;
    for _ in 0..230 {
        let (status, _) = connection
            .get("/sso/kustomer?kustomerRedirectUri=https://evil.example/")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    let (status, _, body) = get(&sidecar.admin_url("/events"), None).await;
    assert_eq!(status, StatusCode::OK);
    let events: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let events = events.as_array().expect("still a JSON array, newest first");
    let count = |kind: &str| events.iter().filter(|e| e["event"] == kind).count();
    let shown = format!(
        "{} events, {} refusals",
        events.len(),
        count("redirect_rejected")
    );
    assert_eq!(count("token_issued"), 1, "{shown}");
    assert_eq!(count("login_required"), 1);
    assert!(count("redirect_rejected") >= 100, "refusals are shown too");
    assert!(events.len() <= 1_000, "bounded: {}", events.len());
    // Each record says which list it belongs to; the newest comes first.
    for event in events {
        let class = if event["event"] == "redirect_rejected" {
            "refusal"
        } else {
            "decision"
        };
        assert_eq!(event["class"], class, "{event}");
    }
    assert_eq!(events[0]["event"], "redirect_rejected");
    let times: Vec<u64> = events
        .iter()
        .map(|e| e["unix_ms"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
}
