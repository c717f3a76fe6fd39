//! Operator tools never echo a secret: `check-config` refuses a value written where a
//! secret reference belongs (a number, an environment variable's name or a file path
//! written inline, a string, a list) naming the key, never the value. (`kustomer-secret`'s
//! side is in `cli_kustomer_secret.rs`, beside its mock of Kustomer.)

use crate::support;

use support::*;

/// `check-config` on `config`: its exit code, and everything it printed.
fn check_config(config: &str) -> (Option<i32>, String) {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", config);
    let output = run_cli(
        &["check-config", "--config", path.to_str().unwrap()],
        &secret_env(),
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), printed)
}

/// What replaces what in the config, the value that must not be printed, and the key the
/// error must name.
const CASES: &[(&str, &str, &str, &str)] = &[
    (KUSTOMER, "secret = 86753098675309", NUMBER, PORTAL),
    (KUSTOMER, "secret = -86753098675309", NUMBER, PORTAL),
    (
        KUSTOMER,
        "secret = 3.14159265358979",
        "3.14159265358979",
        PORTAL,
    ),
    (KUSTOMER, "secret = true", "true", PORTAL),
    (KUSTOMER, "secret = 1979-05-27T07:32:00Z", "1979", PORTAL),
    (
        KUSTOMER,
        r#"secret = "KUSTOMER_SSO_SECRET""#,
        "KUSTOMER_SSO_SECRET",
        PORTAL,
    ),
    (
        KUSTOMER,
        r#"secret = "/run/secrets/kustomer-hunter2""#,
        WORD,
        PORTAL,
    ),
    (
        KUSTOMER,
        r#"secret = "hunter2-hunter2-hunter2-hunter2""#,
        WORD,
        PORTAL,
    ),
    (KUSTOMER, r#"secret = ["hunter2-in-a-list"]"#, WORD, PORTAL),
    (
        KUSTOMER,
        "secret = { env = 86753098675309 }",
        NUMBER,
        PORTAL,
    ),
    (
        KUSTOMER,
        "secret = { file = 86753098675309 }",
        NUMBER,
        PORTAL,
    ),
    (KUSTOMER, r#"secret = { env = ["hunter2"] }"#, WORD, PORTAL),
    (
        KUSTOMER,
        r#"secret = { env = "KUSTOMER_SSO_SECRET", file = "hunter2" }"#,
        WORD,
        PORTAL,
    ),
    (
        KUSTOMER,
        r#"secret = { value = "hunter2-hunter2" }"#,
        WORD,
        PORTAL,
    ),
    (
        KUSTOMER,
        r#"secret = { env = "hunter2-hunter2 not a name" }"#,
        WORD,
        PORTAL,
    ),
    (
        KUSTOMER,
        r#"secret = { env = "/run/secrets/hunter2" }"#,
        WORD,
        PORTAL,
    ),
    (
        SESSION,
        "jwt = { secret = 86753098675309 }",
        NUMBER,
        "session.jwt.secret",
    ),
    (
        SESSION,
        r#"jwt = { secret = "hunter2-hunter2" }"#,
        WORD,
        "session.jwt.secret",
    ),
    (
        SESSION,
        "signed = { key = 86753098675309 }",
        NUMBER,
        "session.signed.key",
    ),
    (
        UPSTREAM,
        "upstream = \"https://127.0.0.1:3000\"\nupstream_ca = 86753098675309",
        NUMBER,
        "upstream_ca",
    ),
    (
        SERVER,
        "[tls]\ncert = 86753098675309\nkey = { file = \"k.pem\" }\n\n[server]",
        NUMBER,
        "tls.cert",
    ),
    (
        SERVER,
        "admin_token = \"hunter2-hunter2\"\n\n[server]",
        WORD,
        "admin_token",
    ),
    (
        SERVER,
        "admin_token = 86753098675309\n\n[server]",
        NUMBER,
        "admin_token",
    ),
];

const KUSTOMER: &str = r#"secret = { env = "KUSTOMER_SSO_SECRET" }"#;
const SESSION: &str = r#"introspect = { url = "http://127.0.0.1:3000/api/me", cache_ttl_secs = 30, timeout_ms = 1000 }"#;
const UPSTREAM: &str = r#"upstream = "http://127.0.0.1:3000""#;
const SERVER: &str = "[server]";
const PORTAL: &str = "portal[0].secret";
const NUMBER: &str = "86753098675309";
const WORD: &str = "hunter2";

#[test]
fn check_config_never_echoes_a_secret_written_in_the_wrong_place() {
    let base = config(
        "http://127.0.0.1:3000",
        "http://127.0.0.1:3000/api/me",
        "",
        "",
    );
    for (from, to, value, key) in CASES {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let (code, printed) = check_config(&text);
        assert_eq!(code, Some(2), "{to}: {printed}");
        assert_eq!(printed.lines().count(), 1, "{to}: one line: {printed}");
        let line = printed.trim_end();
        assert!(
            line.starts_with(&format!("portal-sso: config error: {key}")),
            "{to}: {line}"
        );
        assert!(!line.contains(value), "{to}: the value is echoed: {line}");
    }
}
