//! `portal-sso kustomer-secret`, driven through the real binary against a mock of
//! Kustomer's `/v1/auth/kb/:id/settings`: the secret printed or written to a file of mode
//! 0600, each failure with its message and exit code, and the API key never printed.

use crate::support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use support::BIN;
use support::cli::Run;
use tokio::process::Command;

const API_KEY: &str = "kustomer-api-key-7f3a9c1e55d0";
const KB_SECRET: &str = "kb-signing-secret-4b7e2a90c1d8f3e6a5b4c3d2e1f0";
/// A secret that would recolour the terminal and clear the line it is printed on.
const ESCAPING_SECRET: &str = "kb-secret-\u{1b}[31mred\u{1b}[2K-tail";

/// One request as the mock saw it: the knowledge base ID and the `Authorization` header.
type Request = (String, Option<String>);

/// Every request the mock saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Request>>>);

/// A stand-in for Kustomer's API: the knowledge base ID picks the answer; any request
/// without `Authorization: Bearer API_KEY` gets 401, as a wrong key would.
async fn settings(
    State(seen): State<Seen>,
    Path(kb_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    seen.0
        .lock()
        .unwrap()
        .push((kb_id.clone(), authorization.clone()));
    if authorization.as_deref() != Some(&format!("Bearer {API_KEY}")) {
        return (StatusCode::UNAUTHORIZED, r#"{"errors":[{"status":401}]}"#).into_response();
    }
    let json = |value: Value| {
        (
            [(header::CONTENT_TYPE, "application/json")],
            value.to_string(),
        )
            .into_response()
    };
    match kb_id.as_str() {
        "kb-json-api" => json(json!({
            "data": {
                "type": "kb_settings",
                "id": "kb-json-api",
                "attributes": { "secret": KB_SECRET, "name": "Help center" }
            }
        })),
        "kb-flat" => json(json!({ "attributes": { "secret": KB_SECRET } })),
        "kb-escape" => json(json!({ "attributes": { "secret": ESCAPING_SECRET } })),
        "kb-crlf" => {
            json(json!({ "data": { "attributes": { "secret": "kb-secret\r\nX-Injected: 1" } } }))
        }
        "kb-nul" => json(json!({ "attributes": { "secret": "kb-secret\u{0}tail" } })),
        "kb-no-secret" => json(json!({
            "data": { "attributes": { "name": "value-that-must-not-print", "enabled": true } }
        })),
        "kb-not-json" => (StatusCode::OK, "<html>maintenance</html>").into_response(),
        "kb-forbidden" => StatusCode::FORBIDDEN.into_response(),
        "kb-broken" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "kb-slow" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn mock_kustomer() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/auth/kb/{id}/settings", get(settings))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

/// Runs `portal-sso kustomer-secret ARGS` with `KUSTOMER_API_KEY=key` (or unset) and checks
/// that the key appears nowhere in what it printed.
async fn kustomer_secret(args: &[&str], key: Option<&str>) -> Run {
    let mut command = Command::new(BIN);
    command.arg("kustomer-secret").args(args);
    command.env_remove("KUSTOMER_API_KEY");
    if let Some(key) = key {
        command.env("KUSTOMER_API_KEY", key);
    }
    let run = Run::from(command.output().await.unwrap());
    for key in [API_KEY, "wrong-api-key-0000"] {
        assert!(!run.stdout.contains(key), "key in stdout: {}", run.stdout);
        assert!(!run.stderr.contains(key), "key in stderr: {}", run.stderr);
    }
    run
}

#[tokio::test]
async fn prints_the_secret_from_data_attributes() {
    let (base, seen) = mock_kustomer().await;
    let run = kustomer_secret(
        &["--kb-id", "kb-json-api", "--api-base", &base],
        Some(API_KEY),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, format!("{KB_SECRET}\n"));
    assert!(!run.stderr.contains(KB_SECRET));
    let seen = seen.0.lock().unwrap();
    assert_eq!(
        *seen,
        [("kb-json-api".to_owned(), Some(format!("Bearer {API_KEY}")))]
    );
}

#[tokio::test]
async fn prints_the_secret_from_top_level_attributes() {
    let (base, _) = mock_kustomer().await;
    let run = kustomer_secret(&["--kb-id", "kb-flat", "--api-base", &base], Some(API_KEY)).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, format!("{KB_SECRET}\n"));
}

/// `kustomer-secret --out path` for the mock's knowledge base, with the API key.
#[cfg(unix)]
async fn secret_to_file(base: &str, path: &std::path::Path) -> Run {
    kustomer_secret(
        &[
            "--kb-id",
            "kb-json-api",
            "--api-base",
            base,
            "--out",
            path.to_str().unwrap(),
        ],
        Some(API_KEY),
    )
    .await
}

#[cfg(unix)]
#[tokio::test]
async fn out_file_gets_mode_0600_and_exactly_the_secret() {
    use std::os::unix::fs::PermissionsExt as _;

    let (base, _) = mock_kustomer().await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_tools_out");
    std::fs::create_dir_all(&dir).unwrap();

    // A new file.
    let path = dir.join(format!("new-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let run = secret_to_file(&base, &path).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(!run.stderr.contains(KB_SECRET), "{}", run.stderr);
    assert!(run.stderr.contains("mode 0600"), "{}", run.stderr);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), KB_SECRET);

    // An existing, world-readable file with longer content: tightened, then replaced.
    let existing = dir.join(format!("existing-{}", std::process::id()));
    std::fs::write(&existing, "x".repeat(200)).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = secret_to_file(&base, &existing).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mode = std::fs::metadata(&existing).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), KB_SECRET);

    // A symbolic link is refused and its target left alone.
    let target = dir.join(format!("target-{}", std::process::id()));
    let link = dir.join(format!("link-{}", std::process::id()));
    std::fs::write(&target, "keep me").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = secret_to_file(&base, &link).await;
    assert_eq!(run.code, Some(10), "{}", run.stderr);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert!(!run.stderr.contains(KB_SECRET));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);

    for file in [path, existing, target, link] {
        std::fs::remove_file(file).unwrap();
    }
}

#[tokio::test]
async fn each_failure_has_its_message_and_exit_code() {
    let (base, _) = mock_kustomer().await;
    let cases: [(&str, &str, i32, &str); 6] = [
        ("kb-json-api", "wrong-api-key-0000", 3, "401 Unauthorized"),
        ("kb-forbidden", API_KEY, 4, "403 Forbidden"),
        ("kb-unknown", API_KEY, 5, "404 Not Found"),
        ("kb-broken", API_KEY, 6, "500 Internal Server Error"),
        ("kb-no-secret", API_KEY, 7, "no secret in the answer"),
        ("kb-not-json", API_KEY, 7, "not JSON"),
    ];
    for (kb_id, key, code, message) in cases {
        let run = kustomer_secret(&["--kb-id", kb_id, "--api-base", &base], Some(key)).await;
        assert_eq!(run.code, Some(code), "{kb_id}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{kb_id}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{kb_id}");
    }
}

#[tokio::test]
async fn missing_secret_names_the_paths_tried_and_the_keys_not_the_values() {
    let (base, _) = mock_kustomer().await;
    let run = kustomer_secret(
        &["--kb-id", "kb-no-secret", "--api-base", &base],
        Some(API_KEY),
    )
    .await;
    assert_eq!(run.code, Some(7));
    assert!(
        run.stderr.contains("data.attributes.secret"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\"name\""), "{}", run.stderr);
    assert!(run.stderr.contains("\"enabled\""), "{}", run.stderr);
    assert!(!run.stderr.contains("value-that-must-not-print"));
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let run = kustomer_secret(
        &["--kb-id", "kb-json-api", "--api-base", &base],
        Some(API_KEY),
    )
    .await;
    assert_eq!(run.code, Some(8), "{}", run.stderr);
    assert!(run.stderr.contains("could not reach"), "{}", run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("refused"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn https_goes_through_tls() {
    // The mock speaks plain HTTP: an https base must fail in the TLS handshake, which shows
    // that https requests are not sent in clear text.
    let (base, seen) = mock_kustomer().await;
    let base = base.replace("http://", "https://");
    let run = kustomer_secret(
        &[
            "--kb-id",
            "kb-json-api",
            "--api-base",
            &base,
            "--timeout",
            "5",
        ],
        Some(API_KEY),
    )
    .await;
    assert_eq!(run.code, Some(8), "{}", run.stderr);
    assert!(
        run.stderr.contains("could not reach https://"),
        "{}",
        run.stderr
    );
    assert!(seen.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let (base, _) = mock_kustomer().await;
    let run = kustomer_secret(
        &["--kb-id", "kb-slow", "--api-base", &base, "--timeout", "1"],
        Some(API_KEY),
    )
    .await;
    assert_eq!(run.code, Some(9), "{}", run.stderr);
    assert!(run.stderr.contains("within 1 s"), "{}", run.stderr);
}

#[tokio::test]
async fn usage_errors_exit_2_before_any_request() {
    let (base, seen) = mock_kustomer().await;
    let cases: [(&[&str], Option<&str>, &str); 5] = [
        (
            &["--kb-id", "kb-json-api", "--api-base", &base],
            None,
            "KUSTOMER_API_KEY is not set",
        ),
        (
            &["--kb-id", "../admin", "--api-base", &base],
            Some(API_KEY),
            "--kb-id",
        ),
        (
            &["--kb-id", "kb", "--org", "evil.com/x"],
            Some(API_KEY),
            "--org",
        ),
        (
            &["--kb-id", "kb", "--api-base", "http://example.com"],
            Some(API_KEY),
            "http is allowed only for",
        ),
        (
            &["--kb-id", "kb", "--org", "acme", "--region", "eu"],
            Some(API_KEY),
            "cannot be used with",
        ),
    ];
    for (args, key, message) in cases {
        let run = kustomer_secret(args, key).await;
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
    assert!(seen.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_secret_with_control_characters_is_refused_and_nothing_is_written() {
    let (base, _) = mock_kustomer().await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_tools_control");
    std::fs::create_dir_all(&dir).unwrap();
    for kb_id in ["kb-escape", "kb-crlf", "kb-nul"] {
        let run = kustomer_secret(&["--kb-id", kb_id, "--api-base", &base], Some(API_KEY)).await;
        assert_eq!(run.code, Some(7), "{kb_id}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{kb_id}: nothing on standard output");
        assert!(
            run.stderr.contains("control character"),
            "{kb_id}: {}",
            run.stderr
        );
        for part in ["kb-secret", "\u{1b}", "\r", "X-Injected", "\u{0}"] {
            assert!(!run.stderr.contains(part), "{kb_id}: {:?}", run.stderr);
        }

        let out = dir.join(format!("{kb_id}-{}", std::process::id()));
        let _ = std::fs::remove_file(&out);
        let out_arg = out.to_str().unwrap();
        let args = ["--kb-id", kb_id, "--api-base", &base, "--out", out_arg];
        let run = kustomer_secret(&args, Some(API_KEY)).await;
        assert_eq!(run.code, Some(7), "{kb_id}: {}", run.stderr);
        assert!(!out.exists(), "{kb_id}: no file is written");
    }
}
