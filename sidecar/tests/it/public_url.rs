//! `public_url`: when the login page is on another origin, the address a signed-out browser
//! is told to come back to is the full URL on `public_url`, whatever `Host`,
//! `X-Forwarded-Host` or `X-Forwarded-Proto` a request names, from a trusted proxy or from
//! anyone else; a config with such a login page and no `public_url` is refused.

use crate::support;

use http::{StatusCode, header};
use support::*;

pub const PUBLIC_URL: &str = "https://app.acme.com";
pub const LOGIN_URL: &str = "https://login.acme.com/login";
pub const KUSTOMER_ASKED: &str =
    "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Fen_us%2Fguide";
pub const AHA_ASKED: &str = "/sso/aha?state=s-42&return_to=%2Fideas%2FAPP-1";

/// The sidecar answering SSO routes only, its login page on another origin, `top` added
/// at the top level (`public_url`, `trusted_proxies`).
pub fn sso_only_config(app: &Upstream, top: &str) -> String {
    let text = config("unused", &format!("{}/api/me", app.url()), top, "")
        .replace("upstream = \"unused\"\n", "")
        .replace("url = \"/login\"", &format!("url = \"{LOGIN_URL}\""));
    assert!(!text.contains("upstream ="), "{text}");
    text
}

/// `check-config` on `config`: exit code, stdout, stderr.
fn check_config(config: &str) -> (Option<i32>, String, String) {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", config);
    let output = run_cli(
        &["check-config", "--config", path.to_str().unwrap()],
        &secret_env(),
    );
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn a_login_page_on_another_origin_without_public_url_is_refused_naming_it() {
    let app = Upstream::start().await;
    let (code, stdout, stderr) = check_config(&sso_only_config(&app, ""));
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with(&format!(
            "portal-sso: config error: public_url: is required when login.url ({LOGIN_URL}) \
             is on another origin: "
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("never on the Host a request names"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_public_url_that_is_not_an_origin_is_refused_naming_it() {
    let app = Upstream::start().await;
    for url in [
        "app.acme.com",
        "https://app.acme.com/app",
        "https://app.acme.com/?x=1",
        "https://user@app.acme.com",
        "ftp://app.acme.com",
    ] {
        let config = sso_only_config(&app, &format!("public_url = \"{url}\""));
        let (code, _, stderr) = check_config(&config);
        assert_eq!(code, Some(2), "{url}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "portal-sso: config error: public_url: `{url}` must be an origin only"
            )),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn check_config_shows_the_public_url() {
    let app = Upstream::start().await;
    let pinned = sso_only_config(&app, &format!("public_url = \"{PUBLIC_URL}\""));
    let (code, stdout, stderr) = check_config(&pinned);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains(&format!(
            "public_url        {PUBLIC_URL} (every absolute URL is built on it, never on Host)"
        )),
        "{stdout}"
    );
    // A login page that is a path needs none.
    let (code, stdout, stderr) = check_config(&config(
        &app.url(),
        &format!("{}/api/me", app.url()),
        "",
        "",
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("public_url        (none): return addresses are paths"),
        "{stdout}"
    );
}

/// A signed-out request for `asked` sent straight to the sidecar naming `evil.example` in
/// every header an origin could be read from: where the login page is told to send the
/// browser back.
async fn return_address_for_stray_host(sidecar: &Sidecar, asked: &str) -> String {
    let request = http::Request::get(sidecar.url(asked))
        .header(header::HOST, "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "http")
        .body(empty())
        .unwrap();
    let (status, headers, _) = send(request).await;
    assert_eq!(status, StatusCode::FOUND, "{asked}");
    let login = location(&headers);
    assert!(login.starts_with(&format!("{LOGIN_URL}?next=")), "{login}");
    query_param(&login, "next").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_return_address_is_on_public_url_whatever_host_a_peer_names() {
    let app = Upstream::start().await;
    let public_url = format!("public_url = \"{PUBLIC_URL}\"");
    // The test's requests come from 127.0.0.1: a trusted proxy for the first sidecar, any
    // client for the second.
    let trusting = Sidecar::start(&sso_only_config(
        &app,
        &format!("{public_url}\ntrusted_proxies = [\"127.0.0.1/32\"]"),
    ));
    let not_trusting = Sidecar::start(&sso_only_config(&app, &public_url));
    for sidecar in [&trusting, &not_trusting] {
        for asked in [KUSTOMER_ASKED, AHA_ASKED] {
            assert_eq!(
                return_address_for_stray_host(sidecar, asked).await,
                format!("{PUBLIC_URL}{asked}")
            );
        }
    }
}
