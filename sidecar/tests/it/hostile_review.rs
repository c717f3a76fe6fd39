//! What a second hostile review found, through the real binary: one test per finding, each
//! named after the guarantee that now holds. (The layer's own findings are in the
//! library's `hostile_review` tests.)

use crate::support;

use cookie::{Cookie, CookieJar};
use hkdf::HkdfExtract;
use http::{StatusCode, header};
use sha2::{Digest as _, Sha256};
use support::presets::{alice, env, preset_config};
use support::*;

const PORTAL_LOGOUT: &str = "https://acme.aha.site/portal_session/logout";
const MARKER: &str = "portal_sso_remote_logout";

/// `portal-sso check-config` on `config`, the preset secrets and the cookie key in the
/// environment: its exit code and what it printed (stdout, then stderr).
fn check_config(config: &str) -> (Option<i32>, String) {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", config);
    let mut env = env();
    env.extend(secret_env());
    let output = run_cli(&["check-config", "--config", path.to_str().unwrap()], &env);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

/// The key the sidecar once derived for its own cookies from the portals' secrets, which
/// a vendor holds: HKDF-SHA256 over each secret's tag, length and bytes.
fn key_from_portal_secrets() -> cookie::Key {
    let mut extract = HkdfExtract::<Sha256>::new(None);
    for secret in [KUSTOMER_SECRET, AHA_SECRET] {
        extract.input_ikm(&[1]);
        extract.input_ikm(&(secret.len() as u64).to_be_bytes());
        extract.input_ikm(secret.as_bytes());
    }
    let (_, hkdf) = extract.finalize();
    let mut key = [0u8; 32];
    hkdf.expand(
        b"portal-sso sidecar: layer cookie signing key, v1",
        &mut key,
    )
    .unwrap();
    cookie::Key::derive_from(&key)
}

/// A remote-logout marker holding `value`, signed with `key`, as a `Cookie` pair.
fn forged_marker(key: &cookie::Key, value: String) -> String {
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(Cookie::new(MARKER, value));
    format!("{MARKER}={}", jar.get(MARKER).unwrap().value())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_secrets_cannot_forge_the_sidecars_own_cookies() {
    let upstream = Upstream::start().await;
    let me = format!("{}/api/me", upstream.url());
    let config = config(&upstream.url(), &me, COOKIE_KEY_LINE, "").replace(
        "[server]",
        "app_logout_path = \"/logout\"\napp_logout_url = \"/logout\"\n\n[server]",
    ) + &format!("portal_logout_url = \"{PORTAL_LOGOUT}\"\n");
    let sidecar = Sidecar::start(&config);
    let session = format!("sid={ALICE_SESSION}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut digest = Sha256::new();
    digest.update((ALICE_SESSION.len() as u64).to_be_bytes());
    digest.update(ALICE_SESSION.as_bytes());
    let binding = base16(&digest.finalize()[..16]);
    let vendor_key = key_from_portal_secrets();
    // Signed with what a vendor can rebuild, in either marker format: not honoured, so the
    // app's logout still ends the portal session.
    for value in [now.to_string(), format!("{now}.{binding}")] {
        let forged = forged_marker(&vendor_key, value);
        let (status, headers, _) = get(
            &sidecar.url("/logout"),
            Some(&format!("{session}; {forged}")),
        )
        .await;
        assert_eq!(status, StatusCode::FOUND);
        assert_eq!(location(&headers), PORTAL_LOGOUT, "a forged marker counted");
    }
    // The sidecar's own marker, from a remote logout, is.
    let (status, headers, _) = get(&sidecar.url("/sso/aha/logout"), Some(&session)).await;
    assert_eq!(status, StatusCode::FOUND);
    let own = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| Cookie::parse(value.to_str().unwrap().to_owned()).unwrap())
        .find(|cookie| cookie.name() == MARKER)
        .expect("a marker");
    let marker = format!("{MARKER}={}", own.value());
    let (_, headers, _) = get(
        &sidecar.url("/logout"),
        Some(&format!("{session}; {marker}")),
    )
    .await;
    assert_eq!(location(&headers), "/", "the sidecar's own marker");
}

#[test]
fn check_config_says_when_each_process_makes_its_own_cookie_key() {
    let base = config(
        "http://127.0.0.1:3000",
        "http://127.0.0.1:3000/api/me",
        "",
        "",
    );
    let (code, text) = check_config(&base);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("warning: cookie_key: not set, so this process makes its own at random"),
        "{text}"
    );
    let (code, text) = check_config(&config(
        "http://127.0.0.1:3000",
        "http://127.0.0.1:3000/api/me",
        COOKIE_KEY_LINE,
        "",
    ));
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("warning: cookie_key"), "{text}");
    assert!(
        text.contains("REDACTED (from environment variable PORTAL_SSO_COOKIE_KEY)"),
        "{text}"
    );
    assert!(!text.contains(COOKIE_KEY), "{text}");
}

#[test]
fn wildcards_over_a_vendors_shared_domain_are_warned_about() {
    let base = config(
        "http://127.0.0.1:3000",
        "http://127.0.0.1:3000/api/me",
        "",
        "",
    );
    let wide = base.replace(
        r#"redirect_origins = ["https://acme.kustomer.help"]"#,
        r#"redirect_origins = ["https://acme.kustomer.help", "https://*.kustomer.help"]"#,
    );
    assert_ne!(wide, base);
    let (code, text) = check_config(&wide);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(
            "warning: portal[0].redirect_origins[1]: `https://*.kustomer.help` covers every \
             tenant of Kustomer (kustomer.help)"
        ),
        "{text}"
    );
    let (_, text) = check_config(&base);
    assert!(!text.contains("covers every tenant"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_zendesk_portals_in_one_config_get_a_logout_route_each() {
    let upstream = Upstream::start().await;
    let zendesk = |path: &str| {
        format!(
            "[[portal]]\nkind = \"zendesk\"\npath = \"{path}\"\n\
             secret = {{ env = \"ZENDESK_JWT_SECRET\" }}\n\
             callback_url = \"https://acme.zendesk.com/access/jwt\"\n"
        )
    };
    let portals = zendesk("/sso/zendesk") + &zendesk("/sso/zendesk-agents");
    let config = preset_config(&upstream, "", &portals);
    let (code, text) = check_config(&config);
    assert_eq!(code, Some(0), "{text}");
    let sidecar = Sidecar::start_with_env(&config, &env());
    for route in ["/sso/zendesk/logout", "/sso/zendesk-agents/logout"] {
        let (status, headers, _) = get(&sidecar.url(route), Some(&alice())).await;
        assert_eq!(status, StatusCode::FOUND, "{route}");
        assert_eq!(location(&headers), "/", "{route}");
    }
}

#[test]
fn a_request_parameter_fills_only_echo_claims_unless_declared() {
    let upstream_url = "http://127.0.0.1:3000";
    let jwt = |claim: &str| {
        format!(
            "listen = \"127.0.0.1:0\"\nupstream = \"{upstream_url}\"\n[session]\ncookie = \"sid\"\n\
             introspect = {{ url = \"{upstream_url}/api/me\" }}\n[[portal]]\nkind = \"jwt\"\n\
             algorithm = \"HS256\"\nsecret = {{ env = \"CUSTOM_JWT_SECRET\" }}\n\
             callback_url = \"https://help.acme.example/sso\"\n[portal.claims]\n\
             email = {{ identity = \"email\" }}\n{claim}\n"
        )
    };
    let (code, text) = check_config(&jwt("plan = { param = \"plan\" }"));
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("portal[0].claims.plan: takes a request parameter"),
        "{text}"
    );
    for accepted in [
        "nonce = { param = \"nonce\" }",
        "plan = { param = \"plan\", echo = true }",
    ] {
        let (code, text) = check_config(&jwt(accepted));
        assert_eq!(code, Some(0), "{accepted}: {text}");
    }
    let (code, text) = check_config(&jwt("plan = { value = \"pro\", echo = true }"));
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("portal[0].claims.plan.echo: goes only with `param`"),
        "{text}"
    );
}

#[test]
fn a_pass_param_a_parser_reads_as_the_token_param_is_refused_naming_the_key() {
    let config = |pass: &str| {
        format!(
            "listen = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:3000\"\n[session]\n\
             cookie = \"sid\"\nintrospect = {{ url = \"http://127.0.0.1:3000/api/me\" }}\n\
             [[portal]]\nkind = \"jwt\"\nalgorithm = \"HS256\"\n\
             secret = {{ env = \"CUSTOM_JWT_SECRET\" }}\ntarget_param = \"redirect\"\n\
             redirect_origins = [\"https://acme.frill.co\"]\ntoken_param = \"ssoToken\"\n\
             pass_params = [\"{pass}\"]\n[portal.claims]\nemail = {{ identity = \"email\" }}\n"
        )
    };
    for pass in ["SSOTOKEN", "ssotoken", "ssoToken.x"] {
        let (code, text) = check_config(&config(pass));
        assert_eq!(code, Some(2), "{pass}: {text}");
        assert!(
            text.contains(&format!(
                "portal[0].pass_params: `{pass}` reads as `ssoToken`"
            )),
            "{pass}: {text}"
        );
    }
    let (code, text) = check_config(&config("state"));
    assert_eq!(code, Some(0), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_pass_params_and_a_pinned_canny_company_hold_through_the_binary() {
    let upstream = Upstream::start().await;
    let portals = r#"
[[portal]]
kind = "jwt"
algorithm = "HS256"
secret = { env = "CUSTOM_JWT_SECRET" }
callback_url = "https://help.acme.example/sso"
redirect_origins = ["https://help.acme.example"]
pass_params = ["state", { name = "returnTo", type = "path" }, { name = "back", type = "url" }, { name = "ref", type = "opaque" }]

[portal.claims]
email = { identity = "email" }

[[portal]]
kind = "canny"
secret = { env = "CANNY_SSO_KEY" }
redirect_origins = ["https://acme.canny.io"]
pinned_params = { companyID = "5f0c" }
"#;
    let sidecar = Sidecar::start_with_env(
        &preset_config(&upstream, "id = \"/email\"", portals),
        &env(),
    );
    let sso = |query: &str| sidecar.url(&format!("/sso/jwt?{query}"));
    // A path-typed parameter naming another site is dropped, and the event says so.
    let (status, headers, _) = get(
        &sso("returnTo=https%3A%2F%2Fevil.example%2F&state=s1&ref=r%2F1"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let back = location(&headers);
    assert_eq!(query_param(&back, "returnTo"), None, "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("s1"));
    assert_eq!(query_param(&back, "ref").as_deref(), Some("r/1"));
    // The event reaches the log through the sidecar's stderr, a moment after the answer.
    let log = sidecar.log_once_it_has("returnTo_dropped", std::time::Duration::from_secs(5));
    assert!(log.contains("returnTo_dropped"), "{log}");
    let (_, headers, _) = get(&sso("returnTo=%2Fdocs%2Fa"), Some(&alice())).await;
    assert_eq!(
        query_param(&location(&headers), "returnTo").as_deref(),
        Some("/docs/a")
    );
    // A url-typed parameter off the redirect origins refuses the sign-in.
    let (status, headers, _) =
        get(&sso("back=https%3A%2F%2Fevil.example%2F"), Some(&alice())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get(header::LOCATION).is_none());
    // Canny: another company is refused; the pinned one is sent.
    let (status, _, _) = get(&sidecar.url("/sso/canny?companyID=6a1d"), Some(&alice())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, headers, _) = get(&sidecar.url("/sso/canny"), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        query_param(&location(&headers), "companyID").as_deref(),
        Some("5f0c")
    );
}

/// `bytes` as lower-case hex.
fn base16(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}
