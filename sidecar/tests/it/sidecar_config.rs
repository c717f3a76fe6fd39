//! The sidecar's config file as the binary reads it: every mistake is exit code 2 and one
//! line naming the key, before any port is bound; `check-config` redacts secrets.

use crate::support;

use support::*;

const VALID: &str = r#"
listen = "127.0.0.1:0"
upstream = "http://127.0.0.1:3000"
admin_listen = "127.0.0.1:0"

[session]
cookie = "sid"
introspect = { url = "http://127.0.0.1:3000/api/me", cache_ttl_secs = 30 }

[session.claims]
email = "/email"

[login]
url = "/login"
return_param = "next"

[[portal]]
kind = "kustomer"
path = "/sso/kustomer"
secret = { env = "KUSTOMER_SSO_SECRET" }
redirect_origins = ["https://acme.kustomer.help", "https://*.brand.example"]
default_redirect = "https://acme.kustomer.help/login"

[[portal]]
kind = "aha"
secret = { env = "AHA_SSO_SECRET" }
callback_url = "https://acme.aha.site/auth/jwt/callback"
"#;

/// Runs `serve` on `config` and returns (exit code, stderr).
fn serve(config: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", config);
    let output = run_cli(&["serve", "--config", path.to_str().unwrap()], env);
    (
        output.status.code(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn assert_config_error(config: &str, env: &[(&str, &str)], expected: &str) -> String {
    let (code, stderr) = serve(config, env);
    assert_eq!(code, Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    let line = stderr.trim_end();
    assert!(
        line.starts_with("portal-sso: config error: "),
        "prefix: {line}"
    );
    assert!(line.contains(expected), "expected {expected:?} in {line:?}");
    line.to_owned()
}

fn env() -> Vec<(&'static str, &'static str)> {
    secret_env()
}

#[test]
fn an_inline_secret_is_refused_with_how_to_pass_it() {
    let config = VALID.replace(
        r#"secret = { env = "AHA_SSO_SECRET" }"#,
        r#"secret = "inline-secret-value-inline-secret-value-0123""#,
    );
    let line = assert_config_error(&config, &env(), "portal[1].secret: ");
    assert!(line.contains(r#"{ env = "VAR" }"#), "{line}");
    assert!(line.contains("{ file = "), "{line}");
    assert!(!line.contains("inline-secret-value"), "{line}");
}

#[test]
fn a_missing_environment_variable_is_named() {
    let line = assert_config_error(VALID, &[("AHA_SSO_SECRET", AHA_SECRET)], "");
    assert_eq!(
        line,
        "portal-sso: config error: portal[0].secret: environment variable KUSTOMER_SSO_SECRET is not set"
    );
}

#[test]
fn a_missing_secret_file_is_named() {
    let config = VALID.replace(
        r#"secret = { env = "AHA_SSO_SECRET" }"#,
        r#"secret = { file = "/nonexistent/portal-sso/aha" }"#,
    );
    assert_config_error(
        &config,
        &env(),
        "portal[1].secret: cannot read secret file /nonexistent/portal-sso/aha",
    );
}

#[test]
fn a_secret_file_is_read_without_its_trailing_newline() {
    let dir = TempDir::new();
    let secret = dir.write("aha", &format!("{AHA_SECRET}\n"));
    let config = VALID.replace(
        r#"secret = { env = "AHA_SSO_SECRET" }"#,
        &format!("secret = {{ file = \"{}\" }}", secret.display()),
    );
    let path = dir.write("portal-sso.toml", &config);
    let output = run_cli(
        &["check-config", "--config", path.to_str().unwrap()],
        &[("KUSTOMER_SSO_SECRET", KUSTOMER_SECRET)],
    );
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(&format!("(from file {})", secret.display())),
        "{stdout}"
    );
}

#[test]
fn an_unknown_key_is_named() {
    let config = VALID.replace("[login]\n", "[login]\nreturn_parm = \"next\"\n");
    assert_config_error(
        &config,
        &env(),
        "login.return_parm: unknown field `return_parm`",
    );
    let config = format!("colour = \"blue\"\n{VALID}");
    assert_config_error(&config, &env(), "unknown field `colour`");
}

#[test]
fn a_bad_origin_is_named_by_index() {
    let config = VALID.replace("https://*.brand.example", "https://acme.kustomer.help/path");
    assert_config_error(
        &config,
        &env(),
        "portal[0].redirect_origins[1]: `https://acme.kustomer.help/path` must be an origin only",
    );
    let config = VALID.replace("https://*.brand.example", "javascript:alert(1)");
    assert_config_error(&config, &env(), "portal[0].redirect_origins[1]: ");
}

#[test]
fn without_upstream_the_summary_says_sso_routes_only() {
    let dir = TempDir::new();
    let config = VALID.replace("upstream = \"http://127.0.0.1:3000\"\n", "");
    let path = dir.write("portal-sso.toml", &config);
    let output = run_cli(
        &["check-config", "--config", path.to_str().unwrap()],
        &env(),
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("upstream          none: SSO routes only, 404 elsewhere"),
        "{stdout}"
    );
}

#[test]
fn an_app_logout_path_needs_an_upstream() {
    let config = VALID
        .replace("upstream = \"http://127.0.0.1:3000\"\n", "")
        .replace("[session]", "app_logout_path = \"/logout\"\n\n[session]");
    assert_config_error(&config, &env(), "app_logout_path: needs `upstream`");
}

#[test]
fn other_mistakes_name_their_key() {
    for (from, to, expected) in [
        (
            "upstream = \"http://127.0.0.1:3000\"",
            "upstream = \"ftp://x\"",
            "upstream: ",
        ),
        (
            "listen = \"127.0.0.1:0\"",
            "listen = \"nowhere\"",
            "listen: ",
        ),
        (
            "introspect = { url",
            "jwt = { secret = { env = \"KUSTOMER_SSO_SECRET\" } }\nintrospect = { url",
            "session: give exactly one of `introspect`, `jwt`, `signed` or `oidc`",
        ),
        (
            "kind = \"aha\"",
            "kind = \"zendsk\"",
            "portal[1].kind: unknown variant `zendsk`",
        ),
        (
            "introspect = { url = \"http://127.0.0.1:3000/api/me\", cache_ttl_secs = 30 }",
            "jwt = { secret = { env = \"KUSTOMER_SSO_SECRET\" }, audience = \"\" }",
            "session.jwt.audience: give a non-empty string or a list of them",
        ),
        (
            "introspect = { url = \"http://127.0.0.1:3000/api/me\", cache_ttl_secs = 30 }",
            "jwt = { secret = { env = \"KUSTOMER_SSO_SECRET\" }, issuer = [] }",
            "session.jwt.issuer: give a non-empty string or a list of them",
        ),
        (
            "introspect = { url = \"http://127.0.0.1:3000/api/me\", cache_ttl_secs = 30 }",
            "jwt = { secret = { env = \"KUSTOMER_SSO_SECRET\" }, audience = 7 }",
            "session.jwt.audience: expected a string or a list of strings",
        ),
        (
            "callback_url = \"https://acme.aha.site/auth/jwt/callback\"",
            "callback_url = \"not a url\"",
            "portal[1].callback_url: ",
        ),
        (
            "callback_url = \"https://acme.aha.site/auth/jwt/callback\"",
            "",
            "portal[1].callback_url: is required for kind \"aha\"",
        ),
        (
            "secret = { env = \"AHA_SSO_SECRET\" }",
            "secret = { env = \"AHA_SSO_SECRET\" }\npath = \"/sso/kustomer\"",
            "portal[1].path: `/sso/kustomer` is already used",
        ),
        (
            "default_redirect = \"https://acme.kustomer.help/login\"",
            "default_redirect = \"https://evil.example/login\"",
            "portal[0].default_redirect: ",
        ),
        ("url = \"/login\"", "url = \"javascript:x\"", "login.url: "),
        (
            "email = \"/email\"",
            "email = \"email\"",
            "session.claims.email: ",
        ),
        (
            "listen = \"127.0.0.1:0\"",
            "listen = ",
            "line 2, column 10: syntax error",
        ),
    ] {
        assert!(VALID.contains(from), "{from}");
        assert_config_error(&VALID.replacen(from, to, 1), &env(), expected);
    }
}

#[test]
fn each_portal_kind_takes_only_its_own_keys() {
    let config = VALID.replace(
        "default_redirect = \"https://acme.kustomer.help/login\"",
        "default_redirect = \"https://acme.kustomer.help/login\"\nlogout_path = \"/bye\"",
    );
    assert_config_error(
        &config,
        &env(),
        "portal[0].logout_path: unknown field `logout_path`, expected one of",
    );
    let config = VALID.replace(
        "callback_url = \"https://acme.aha.site/auth/jwt/callback\"",
        "callback_url = \"https://acme.aha.site/auth/jwt/callback\"\nredirect_origins = []",
    );
    assert_config_error(
        &config,
        &env(),
        "portal[1].redirect_origins: unknown field `redirect_origins`",
    );
}

#[test]
fn an_unknown_portal_kind_lists_the_known_ones() {
    let config = VALID.replace("kind = \"aha\"", "kind = \"gitbok\"");
    assert_config_error(
        &config,
        &env(),
        "portal[1].kind: unknown variant `gitbok`, expected one of `kustomer`, `aha`, `zendesk`, \
         `gitbook`, `canny`, `helpscout`, `frill`, `readme`, `mintlify`, `helpjuice`, \
         `helpdocs`, `freshworks`, `jwt`",
    );
    let config = VALID.replace("kind = \"aha\"\n", "");
    assert_config_error(&config, &env(), "portal[1].kind: is required");
}

#[test]
fn a_short_secret_is_refused_unless_allowed() {
    let short = [
        ("KUSTOMER_SSO_SECRET", "short"),
        ("AHA_SSO_SECRET", AHA_SECRET),
    ];
    let line = assert_config_error(VALID, &short, "portal[0].secret: is 5 bytes");
    assert!(!line.contains("short\""), "{line}");
    let dir = TempDir::new();
    let path = dir.write(
        "portal-sso.toml",
        &format!("allow_short_secrets = true\n{VALID}"),
    );
    let output = run_cli(
        &["check-config", "--config", path.to_str().unwrap()],
        &short,
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn config_errors_come_before_any_port_is_bound() {
    // The listen port is taken: a bind would fail, but the config error is reported first.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = VALID
        .replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"{}\"", taken.local_addr().unwrap()),
        )
        .replace("https://*.brand.example", "nope");
    assert_config_error(&config, &env(), "portal[0].redirect_origins[1]");
}

#[test]
fn check_config_prints_a_summary_without_secrets() {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", VALID);
    let output = run_cli(
        &["check-config", "--config", path.to_str().unwrap()],
        &env(),
    );
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("upstream          http://127.0.0.1:3000/"),
        "{stdout}"
    );
    assert!(stdout.contains("/sso/kustomer"), "{stdout}");
    assert!(stdout.contains("/sso/aha"), "{stdout}");
    assert!(
        stdout.contains("secret REDACTED (from environment variable KUSTOMER_SSO_SECRET)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("listen            127.0.0.1:0 (http)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cookie key        made at random by this process (no cookie_key)"),
        "{stdout}"
    );
    assert!(stdout.contains("config OK"));
    for secret in [KUSTOMER_SECRET, AHA_SECRET] {
        assert!(!stdout.contains(secret));
        assert!(!String::from_utf8_lossy(&output.stderr).contains(secret));
    }
}

#[test]
fn the_config_path_can_come_from_the_environment() {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", VALID);
    let mut env = env();
    env.push(("PORTAL_SSO_CONFIG", path.to_str().unwrap()));
    let output = std::process::Command::new(BIN)
        .arg("check-config")
        .envs(env)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn jwt_and_signed_cookie_sources_are_accepted() {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
    let dir = TempDir::new();
    for (source, expected) in [
        (
            r#"jwt = { secret = { env = "APP_JWT_SECRET" }, algorithm = "HS256" }"#,
            "identity          jwt HS256, secret REDACTED (from environment variable APP_JWT_SECRET), \
             audience none (tokens with aud refused), issuer not checked",
        ),
        (
            r#"jwt = { secret = { env = "APP_JWT_SECRET" }, audience = ["app", "admin"], issuer = "https://app.example" }"#,
            "identity          jwt HS256, secret REDACTED (from environment variable APP_JWT_SECRET), \
             audience app, admin, issuer https://app.example",
        ),
        (
            r#"signed = { key = { env = "APP_COOKIE_KEY" }, mode = "private" }"#,
            "identity          signed cookie (Private), key REDACTED (from environment variable APP_COOKIE_KEY)",
        ),
    ] {
        let config = VALID.replace(
            r#"introspect = { url = "http://127.0.0.1:3000/api/me", cache_ttl_secs = 30 }"#,
            source,
        );
        let path = dir.write("portal-sso.toml", &config);
        let mut env = env();
        env.push((
            "APP_JWT_SECRET",
            "the-apps-own-session-signing-key-0123456789",
        ));
        env.push(("APP_COOKIE_KEY", &key));
        let output = run_cli(&["check-config", "--config", path.to_str().unwrap()], &env);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.contains(expected), "{stdout}");
        assert!(!stdout.contains(&key));
    }

    let config = VALID.replace(
        r#"introspect = { url = "http://127.0.0.1:3000/api/me", cache_ttl_secs = 30 }"#,
        r#"signed = { key = { env = "APP_COOKIE_KEY" } }"#,
    );
    let mut env = env();
    env.push(("APP_COOKIE_KEY", "dG9vIHNob3J0"));
    assert_config_error(
        &config,
        &env,
        "session.signed.key: environment variable APP_COOKIE_KEY decodes to 9 bytes",
    );
}

#[test]
fn the_example_config_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/portal-sso.toml");
    let output = run_cli(&["check-config", "--config", path], &env());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("portal[0]         kustomer /sso/kustomer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("portal[1]         aha /sso/aha"),
        "{stdout}"
    );
    assert!(
        stdout.contains("widget[0]         kustomer-chat /sso/widget/kustomer-chat, HS256"),
        "{stdout}"
    );
}
