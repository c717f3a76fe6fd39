//! Running `portal-sso` subcommands to completion (`Run`), and `token sign|inspect` with a
//! test secret in the environment, as the `cli_*` test files drive them.

use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

use super::BIN;

/// The secret `token` puts in `PORTAL_TOKEN_SECRET`.
pub const TOKEN_SECRET: &str = "portal-token-secret-0123456789abcdef0123";

/// What a run of the binary left: its exit code and what it printed.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
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

/// Runs `portal-sso token ARGS` with `PORTAL_TOKEN_SECRET` and `OTHER_SECRET` set and
/// `stdin` as its input, and checks that the secret appears nowhere in what it printed.
pub async fn token(args: &[&str], stdin: Option<&str>) -> Run {
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

/// `token sign --kind KIND` for alice with `PORTAL_TOKEN_SECRET` and `extra` arguments:
/// the token it printed, which must have three parts.
pub async fn sign(kind: &str, extra: &[&str]) -> String {
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

/// The current time in seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The header and claims of an HS256 token, its signature checked with `secret`.
pub fn decode(jwt: &str, secret: &str) -> (jsonwebtoken::Header, Value) {
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

/// `claims` signed with `TOKEN_SECRET` under HS256.
pub fn encode(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(TOKEN_SECRET.as_bytes()),
    )
    .unwrap()
}

/// `token inspect JWT` with `extra` arguments.
pub async fn inspect(jwt: &str, extra: &[&str]) -> Run {
    let mut args = vec!["inspect", jwt];
    args.extend_from_slice(extra);
    token(&args, None).await
}

/// Inspects `jwt` with `extra` arguments: exit 1, and each of `lines` in the report.
pub async fn flagged(jwt: &str, extra: &[&str], lines: &[&str]) {
    let run = inspect(jwt, extra).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    for line in lines {
        assert!(run.stdout.contains(line), "{line:?} not in\n{}", run.stdout);
    }
}
