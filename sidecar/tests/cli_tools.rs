//! The operator tools, driven through the real binary: `portal-sso kustomer-secret` against
//! a mock of Kustomer's `/v1/auth/kb/:id/settings`, and `portal-sso token sign|inspect`.

mod support;

use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use support::{assert_claim_names, key_path};
use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_portal-sso");
const API_KEY: &str = "kustomer-api-key-7f3a9c1e55d0";
const KB_SECRET: &str = "kb-signing-secret-4b7e2a90c1d8f3e6a5b4c3d2e1f0";
const TOKEN_SECRET: &str = "portal-token-secret-0123456789abcdef0123";

// ---------------------------------------------------------------------------------------
// kustomer-secret
// ---------------------------------------------------------------------------------------

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

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
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

// ---------------------------------------------------------------------------------------
// token sign / inspect
// ---------------------------------------------------------------------------------------

async fn token(args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(BIN);
    command
        .arg("token")
        .args(args)
        .env("PORTAL_TOKEN_SECRET", TOKEN_SECRET)
        .env("OTHER_SECRET", "some-other-secret-of-at-least-32-bytes!!")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    let run = Run::from(child.wait_with_output().await.unwrap());
    assert!(!run.stdout.contains(TOKEN_SECRET), "secret in stdout");
    assert!(!run.stderr.contains(TOKEN_SECRET), "secret in stderr");
    run
}

async fn sign(kind: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "sign",
        "--kind",
        kind,
        "--email",
        "alice@example.com",
        "--secret-env",
        "PORTAL_TOKEN_SECRET",
    ];
    args.extend_from_slice(extra);
    let run = token(&args, None).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let signed = run.stdout.strip_suffix('\n').unwrap().to_owned();
    assert_eq!(signed.split('.').count(), 3);
    signed
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn decode(jwt: &str, secret: &str) -> (jsonwebtoken::Header, Value) {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(
        jwt,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .unwrap();
    (data.header, data.claims)
}

fn encode(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(TOKEN_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn inspect(jwt: &str, extra: &[&str]) -> Run {
    let mut args = vec!["inspect", jwt];
    args.extend_from_slice(extra);
    token(&args, None).await
}

/// Inspects `jwt` with `extra` arguments: exit 1, and each of `lines` in the report.
async fn flagged(jwt: &str, extra: &[&str], lines: &[&str]) {
    let run = inspect(jwt, extra).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    for line in lines {
        assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
    }
}

#[tokio::test]
async fn kustomer_sign_then_inspect_round_trip() {
    let signed = sign("kustomer", &[]).await;
    let (header, claims) = decode(&signed, TOKEN_SECRET);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(claims["email"], "alice@example.com");
    assert!(claims["iat"].as_u64().unwrap().abs_diff(now()) <= 5);
    assert_eq!(claims.as_object().unwrap().len(), 2, "{claims}");

    let run = inspect(
        &signed,
        &["--kind", "kustomer", "--secret-env", "PORTAL_TOKEN_SECRET"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    for line in [
        "OK      header alg is HS256",
        "OK      header typ is JWT",
        "OK      signature is valid",
        "OK      email is present",
        "OK      iat is an integer",
        "inside Kustomer's 15-minute window",
        "Result: all 6 checks passed",
    ] {
        assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("PROBLEM"));
    assert!(
        !run.stdout.contains(&signed),
        "the token itself is not echoed"
    );
}

#[tokio::test]
async fn aha_sign_then_inspect_round_trip() {
    let signed = sign("aha", &["--first-name", "Alice", "--last-name", "Liddell"]).await;
    let (_, claims) = decode(&signed, TOKEN_SECRET);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["first_name"], "Alice");
    assert_eq!(claims["last_name"], "Liddell");
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 32);
    assert!(jti.bytes().all(|b| b.is_ascii_hexdigit()));

    // Read from standard input, kind guessed.
    let run = token(
        &["inspect", "-", "--secret-env", "PORTAL_TOKEN_SECRET"],
        Some(&format!("{signed}\n")),
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("Kind: aha (guessed"), "{}", run.stdout);
    for line in [
        "OK      signature is valid",
        "OK      jti is a string",
        "OK      first_name is a string",
        "OK      last_name is a string",
        "OK      email is a string",
        "\"first_name\": \"Alice\"",
    ] {
        assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
    }
}

#[tokio::test]
async fn two_aha_tokens_have_different_jti() {
    let first = decode(&sign("aha", &[]).await, TOKEN_SECRET).1;
    let second = decode(&sign("aha", &[]).await, TOKEN_SECRET).1;
    assert_ne!(first["jti"], second["jti"]);
    assert_eq!(first["first_name"], "");
}

#[tokio::test]
async fn tampered_signature_is_invalid() {
    let signed = sign("kustomer", &[]).await;
    let (input, signature) = signed.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{input}.{first}{}", &signature[1..]);
    flagged(
        &tampered,
        &["--secret-env", "PORTAL_TOKEN_SECRET"],
        &["PROBLEM signature is invalid"],
    )
    .await;

    // Claims changed, signature kept.
    let (_, claims) = decode(&signed, TOKEN_SECRET);
    let forged_claims = {
        use base64::Engine as _;
        let mut claims = claims.clone();
        claims["email"] = json!("mallory@example.com");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
    };
    let header = signed.split('.').next().unwrap();
    let forged = format!("{header}.{forged_claims}.{signature}");
    flagged(
        &forged,
        &["--secret-env", "PORTAL_TOKEN_SECRET"],
        &["signature is invalid"],
    )
    .await;
}

#[tokio::test]
async fn wrong_secret_is_reported() {
    let signed = sign("aha", &[]).await;
    let run = inspect(&signed, &["--secret-env", "OTHER_SECRET"]).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "signature is invalid: the token was not signed with the secret in OTHER_SECRET"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Result: 1 problem found"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn kustomer_token_older_than_15_minutes_is_flagged() {
    let old = encode(&json!({ "email": "alice@example.com", "iat": now() - 16 * 60 }));
    flagged(
        &old,
        &["--kind", "kustomer", "--secret-env", "PORTAL_TOKEN_SECRET"],
        &[
            "OK      signature is valid",
            "PROBLEM the token is 16 min",
            "15 minutes",
        ],
    )
    .await;

    let fresh = encode(&json!({ "email": "alice@example.com", "iat": now() - 14 * 60 }));
    let run = inspect(&fresh, &["--kind", "kustomer"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.contains("NOTE    signature not checked"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn iat_in_the_future_is_flagged() {
    let ahead = encode(&json!({ "email": "alice@example.com", "iat": now() + 600 }));
    flagged(
        &ahead,
        &["--kind", "kustomer"],
        &["PROBLEM iat is", "in the future"],
    )
    .await;

    let millis = encode(&json!({ "email": "alice@example.com", "iat": now() * 1000 }));
    flagged(&millis, &[], &["milliseconds"]).await;
}

#[tokio::test]
async fn missing_claims_are_flagged() {
    let no_email = encode(&json!({ "iat": now() }));
    flagged(
        &no_email,
        &["--kind", "kustomer"],
        &["PROBLEM email is missing"],
    )
    .await;

    let no_iat = encode(&json!({ "email": "alice@example.com" }));
    flagged(
        &no_iat,
        &["--kind", "kustomer"],
        &["PROBLEM iat is missing"],
    )
    .await;

    let string_iat = encode(&json!({ "email": "alice@example.com", "iat": now().to_string() }));
    flagged(
        &string_iat,
        &["--kind", "kustomer"],
        &["PROBLEM iat is a string"],
    )
    .await;

    let sparse_aha = encode(&json!({ "iat": now(), "jti": "", "email": 7 }));
    let run = inspect(&sparse_aha, &["--kind", "aha"]).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    for line in [
        "PROBLEM jti is an empty string",
        "PROBLEM first_name is missing",
        "PROBLEM last_name is missing",
        "PROBLEM email is not a string",
        "Result: 4 problems found",
    ] {
        assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
    }
}

#[tokio::test]
async fn header_without_typ_is_flagged() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(r#"{"alg":"HS256"}"#);
    let claims = engine.encode(json!({ "email": "a@example.com", "iat": now() }).to_string());
    let input = format!("{header}.{claims}");
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(TOKEN_SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    flagged(
        &format!("{input}.{signature}"),
        &["--secret-env", "PORTAL_TOKEN_SECRET"],
        &["PROBLEM header has no typ", "OK      signature is valid"],
    )
    .await;
}

#[tokio::test]
async fn non_jwt_input_exits_2() {
    for input in ["not-a-token", "a.b", "%%%.e30.sig", "e30.W10.sig"] {
        let run = inspect(input, &[]).await;
        assert_eq!(run.code, Some(2), "{input}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("portal-sso token: "),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
    let run = token(&["inspect", "-"], Some("  \n")).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
}

#[tokio::test]
async fn missing_secret_variable_exits_2() {
    let run = token(
        &[
            "sign",
            "--kind",
            "kustomer",
            "--email",
            "alice@example.com",
            "--secret-env",
            "PORTAL_SSO_TEST_UNSET_VARIABLE",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("PORTAL_SSO_TEST_UNSET_VARIABLE is not set"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");

    let run = token(
        &[
            "sign",
            "--kind",
            "aha",
            "--email",
            "a@evil.com@corp.com",
            "--secret-env",
            "PORTAL_TOKEN_SECRET",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--email"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// token sign / inspect for the other presets
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_hs_preset_signs_as_the_layer_does_and_inspects_clean() {
    for (kind, extra, alg, names) in [
        (
            "zendesk",
            &[][..],
            Algorithm::HS256,
            &["iat", "jti", "email", "name"][..],
        ),
        (
            "gitbook",
            &[],
            Algorithm::HS256,
            &["iat", "exp", "email", "name"],
        ),
        (
            "canny",
            &["--field", "id=17"],
            Algorithm::HS256,
            &["email", "id", "name"],
        ),
        ("helpscout", &[], Algorithm::HS512, &["sub", "exp"]),
        (
            "frill",
            &["--field", "id=u-17"],
            Algorithm::HS256,
            &["email", "id", "name"],
        ),
        ("readme", &[], Algorithm::HS256, &["name", "email"]),
        (
            "helpjuice",
            &[],
            Algorithm::HS256,
            &["jti", "iat", "email", "first_name", "last_name"],
        ),
        (
            "helpdocs",
            &["--callback-url", "https://acme.helpdocs.io/"],
            Algorithm::HS256,
            &["iat", "exp", "aud"],
        ),
    ] {
        let mut args = vec!["--first-name", "Alice", "--last-name", "Liddell"];
        args.extend_from_slice(extra);
        let jwt = sign(kind, &args).await;
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<Value>(
            &jwt,
            &DecodingKey::from_secret(TOKEN_SECRET.as_bytes()),
            &validation,
        )
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(data.header.typ.as_deref(), Some("JWT"));
        assert_claim_names(kind, &data.claims, names);
        let run = inspect(
            &jwt,
            &["--kind", kind, "--secret-env", "PORTAL_TOKEN_SECRET"],
        )
        .await;
        assert_eq!(run.code, Some(0), "{kind}: {}", run.stdout);
        assert!(
            run.stdout.contains(&format!("Kind: {kind}\n")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("OK      signature is valid"),
            "{}",
            run.stdout
        );
        let run = inspect(&jwt, &["--kind", kind, "--secret-env", "OTHER_SECRET"]).await;
        assert_eq!(run.code, Some(1), "{kind}: {}", run.stdout);
    }
    let helpjuice = sign("helpjuice", &[]).await;
    let (_, claims) = decode(&helpjuice, TOKEN_SECRET);
    let iat = claims["iat"].as_u64().unwrap();
    assert!(
        iat.abs_diff(now() * 1000) < 5000,
        "{iat} is not now in milliseconds"
    );
    let helpdocs = sign("helpdocs", &["--callback-url", "https://acme.helpdocs.io/"]).await;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["https://acme.helpdocs.io"]);
    jsonwebtoken::decode::<Value>(
        &helpdocs,
        &DecodingKey::from_secret(TOKEN_SECRET.as_bytes()),
        &validation,
    )
    .unwrap();
}

#[tokio::test]
async fn preset_inspect_names_what_the_vendor_would_refuse() {
    flagged(
        &encode(&json!({"jti": "x", "iat": now(), "email": "alice@example.com"})),
        &["--kind", "helpjuice"],
        &["PROBLEM iat looks like seconds; Helpjuice reads milliseconds"],
    )
    .await;
    flagged(
        &encode(&json!({"email": "alice@example.com", "name": "Alice"})),
        &["--kind", "canny"],
        &["PROBLEM id is missing", "OK      email is a string"],
    )
    .await;
    flagged(
        &encode(&json!({"sub": "alice@example.com", "exp": now() + 60})),
        &["--kind", "helpscout"],
        &["PROBLEM header alg is HS256, but helpscout requires HS512"],
    )
    .await;
}

#[tokio::test]
async fn a_preset_needing_a_field_it_was_not_given_is_refused() {
    let run = token(
        &[
            "sign",
            "--kind",
            "canny",
            "--email",
            "alice@example.com",
            "--secret-env",
            "PORTAL_TOKEN_SECRET",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("the account has no id"),
        "{}",
        run.stderr
    );
    let run = token(
        &[
            "sign",
            "--kind",
            "aha",
            "--email",
            "alice@example.com",
            "--field",
            "id=1",
            "--secret-env",
            "PORTAL_TOKEN_SECRET",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn asymmetric_presets_sign_with_a_pem_key_from_the_environment() {
    let read = |name: &str| std::fs::read_to_string(key_path(name)).unwrap();
    for (kind, private, public, alg, extra) in [
        (
            "mintlify",
            "test-only-ed25519-private.pem",
            "test-only-ed25519-public.pem",
            Algorithm::EdDSA,
            &[][..],
        ),
        (
            "freshworks",
            "test-only-rsa-private.pem",
            "test-only-rsa-public.pem",
            Algorithm::RS256,
            &["--field", "id=1017", "--param", "nonce=n-0S6"][..],
        ),
    ] {
        let output = std::process::Command::new(BIN)
            .args([
                "token",
                "sign",
                "--kind",
                kind,
                "--email",
                "alice@example.com",
            ])
            .args(["--secret-env", "PORTAL_PEM"])
            .args(extra)
            .env("PORTAL_PEM", read(private))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(!stdout.contains("PRIVATE"));
        let jwt = stdout.trim_end();
        let key = match alg {
            Algorithm::EdDSA => DecodingKey::from_ed_pem(read(public).as_bytes()).unwrap(),
            _ => DecodingKey::from_rsa_pem(read(public).as_bytes()).unwrap(),
        };
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
            .unwrap()
            .claims;
        if kind == "freshworks" {
            assert_eq!(claims["sub"], "1017");
            assert_eq!(claims["nonce"], "n-0S6");
        } else {
            assert!(claims["expiresAt"].as_u64().unwrap() > claims["exp"].as_u64().unwrap());
        }
        let output = std::process::Command::new(BIN)
            .args(["token", "inspect", "--kind", kind, jwt])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
    }
}
