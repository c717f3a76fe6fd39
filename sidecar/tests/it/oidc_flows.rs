//! The OIDC routes' behaviour through the real binary, against the fake IdP: the IdP's
//! `error=`, the IdP unreachable at start (503 page, `/readyz`, recovery), several
//! providers, a SIGHUP reload, the session cookie's size, `check-config --online`.

use std::time::Duration;

use crate::support::fake_idp::{self, FakeIdp, KID};
use crate::support::oidc::{self, Browser, CLIENT_ID};
use crate::support::*;

use axum::http::StatusCode;
use serde_json::json;

/// Signs `browser` in through `idp` with `claims` (the nonce filled in); the callback's answer.
async fn sign_in(
    browser: &mut Browser,
    sidecar: &Sidecar,
    idp: &FakeIdp,
    claims: serde_json::Value,
) -> oidc::Answer {
    sign_in_from(
        browser,
        sidecar,
        idp,
        claims,
        "/sso/oidc/login?next=%2Fsso%2Faha",
    )
    .await
}

/// [`sign_in`], starting at the login route `login` (which names the provider, say).
async fn sign_in_from(
    browser: &mut Browser,
    sidecar: &Sidecar,
    idp: &FakeIdp,
    claims: serde_json::Value,
    login: &str,
) -> oidc::Answer {
    let (status, headers, _) = browser.get(&sidecar.url(login)).await;
    assert_eq!(status, StatusCode::FOUND);
    let auth = location(&headers);
    let mut claims = claims;
    claims["nonce"] = json!(query_param(&auth, "nonce").unwrap());
    idp.hand_out(&fake_idp::rs256(&claims, KID));
    let state = query_param(&auth, "state").unwrap();
    browser
        .get(&sidecar.url(&format!("/sso/oidc/callback?code=c&state={state}")))
        .await
}

#[tokio::test]
async fn an_idp_error_is_shown_with_its_reason_escaped() {
    let idp = FakeIdp::start().await;
    let listen = free_addr();
    let sidecar = Sidecar::start_with_env(
        &oidc::config(listen, &idp.issuer, CLIENT_ID, ""),
        &oidc::env(),
    );
    let mut browser = Browser::default();
    let (_, headers, _) = browser.get(&sidecar.url("/sso/oidc/login")).await;
    let state = query_param(&location(&headers), "state").unwrap();
    let (status, _, body) = browser
        .get(&sidecar.url(&format!(
            "/sso/oidc/callback?error=access_denied&error_description=%3Cscript%3Eno%3C%2Fscript%3E&state={state}"
        )))
        .await;
    let page = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        page.contains("access_denied: &lt;script&gt;no&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("href=\"/sso/oidc/login?next="), "{page}");
    let log = sidecar.log_once_it_has("idp_error", Duration::from_secs(5));
    assert!(log.contains("reason=\"idp_error\""), "{log}");
    assert_eq!(
        idp.state
            .token_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn an_unreachable_idp_at_start_gives_a_503_page_and_readyz_then_recovers() {
    let idp_addr = free_addr();
    let listen = free_addr();
    let issuer = format!("http://{idp_addr}");
    let sidecar =
        Sidecar::start_with_env(&oidc::config(listen, &issuer, CLIENT_ID, ""), &oidc::env());
    let (status, _, body) = get(&sidecar.admin_url("/readyz"), None).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        text.contains("identity provider oidc") && text.contains(&issuer),
        "{text}"
    );
    let mut browser = Browser::default();
    let (status, headers, body) = browser.get(&sidecar.url("/sso/aha")).await;
    assert_eq!(
        status,
        StatusCode::FOUND,
        "signed out: sent to the sidecar's login"
    );
    let login = sidecar.url(&location(&headers));
    let (status, _, body2) = browser.get(&login).await;
    let page = String::from_utf8_lossy(&body2);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(
        page.contains(&issuer) && page.contains("Try again"),
        "{page}"
    );
    drop(body);
    // The IdP comes up: the next sign-in finds it, without a restart.
    let idp = FakeIdp::start_on(idp_addr).await;
    let (status, headers, _) = browser.get(&login).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location(&headers).starts_with(&format!("{issuer}/auth?")),
        "{}",
        location(&headers)
    );
    let (status, _, _) = get(&sidecar.admin_url("/readyz"), None).await;
    assert_eq!(status, StatusCode::OK);
    drop(idp);
}

#[tokio::test]
async fn several_providers_get_a_chooser_or_go_straight_by_login_hint() {
    let (acme, partner) = (FakeIdp::start().await, FakeIdp::start().await);
    let listen = free_addr();
    let provider = |name: &str, label: &str, issuer: &str, domains: &str| {
        format!(
            "[[session.oidc]]\nname = \"{name}\"\nlabel = \"{label}\"\nissuer = \"{issuer}\"\nclient_id = \"{CLIENT_ID}\"\n\
             client_secret = {{ env = \"OIDC_CLIENT_SECRET\" }}\nemail_domains = [{domains}]\n"
        )
    };
    let config = oidc::config_with(
        listen,
        &format!(
            "{}\n{}\n",
            provider("acme", "Acme staff", &acme.issuer, "\"acme.test\""),
            provider(
                "partner",
                "Partners <&>",
                &partner.issuer,
                "\"partner.test\""
            )
        ),
    );
    let sidecar = Sidecar::start_with_env(&config, &oidc::env());
    let mut browser = Browser::default();
    let (status, _, body) = browser
        .get(&sidecar.url("/sso/oidc/login?next=%2Fsso%2Faha"))
        .await;
    let page = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("href=\"/sso/oidc/login?provider=acme&amp;next=%2Fsso%2Faha\""),
        "{page}"
    );
    assert!(
        page.contains("Sign in with Partners &lt;&amp;&gt;"),
        "{page}"
    );
    assert!(page.contains("name=\"login_hint\""), "{page}");
    let (status, headers, _) = browser
        .get(&sidecar.url("/sso/oidc/login?next=%2Fsso%2Faha&login_hint=bob%40Partner.test"))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    let auth = location(&headers);
    assert!(
        auth.starts_with(&format!("{}/auth?", partner.issuer)),
        "{auth}"
    );
    assert_eq!(
        query_param(&auth, "login_hint").as_deref(),
        Some("bob@Partner.test")
    );
    let (status, headers, _) = browser
        .get(&sidecar.url("/sso/oidc/login?provider=acme"))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location(&headers).starts_with(&format!("{}/auth?", acme.issuer)));
    // A sign-in at the partner IdP completes there and names it in the session.
    let mut claims = partner.claims("");
    claims["email"] = json!("bob@partner.test");
    let (status, _, _) = sign_in_with(&mut browser, &sidecar, &partner, claims, "partner").await;
    assert_eq!(status, StatusCode::FOUND);
}

async fn sign_in_with(
    browser: &mut Browser,
    sidecar: &Sidecar,
    idp: &FakeIdp,
    claims: serde_json::Value,
    name: &str,
) -> oidc::Answer {
    let login = format!("/sso/oidc/login?provider={name}&next=%2Fsso%2Faha");
    sign_in_from(browser, sidecar, idp, claims, &login).await
}

#[tokio::test]
async fn a_sighup_reload_keeps_oidc_sign_ins_working() {
    let idp = FakeIdp::start().await;
    let listen = free_addr();
    let config = oidc::config(listen, &idp.issuer, CLIENT_ID, "");
    let sidecar = Sidecar::start_with_env(&config, &oidc::env());
    let mut browser = Browser::default();
    let (status, _, _) = sign_in(&mut browser, &sidecar, &idp, idp.claims("")).await;
    assert_eq!(status, StatusCode::FOUND);
    // A reload that adds a rule: the session made before still reads (same cookie key),
    // and new sign-ins follow the new rule.
    std::fs::write(
        sidecar.config_path(),
        config.replace(
            "scopes = [",
            "allowed_email_domains = [\"acme.test\"]\nscopes = [",
        ),
    )
    .unwrap();
    sidecar.signal("HUP");
    sidecar.log_once_it_has("config reloaded", Duration::from_secs(10));
    let (status, headers, _) = browser.get(&sidecar.url("/sso/aha")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        query_param(&location(&headers), "jwt").is_some(),
        "{}",
        location(&headers)
    );
    let mut other = Browser::default();
    let mut claims = idp.claims("");
    claims["email"] = json!("eve@elsewhere.test");
    let (status, _, _) = sign_in(&mut other, &sidecar, &idp, claims).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut third = Browser::default();
    let (status, _, _) = sign_in(&mut third, &sidecar, &idp, idp.claims("")).await;
    assert_eq!(status, StatusCode::FOUND);
}

#[tokio::test]
async fn huge_claims_keep_the_session_cookie_under_1_kb() {
    let idp = FakeIdp::start().await;
    let listen = free_addr();
    let sidecar = Sidecar::start_with_env(
        &oidc::config(listen, &idp.issuer, CLIENT_ID, ""),
        &oidc::env(),
    );
    let mut claims = idp.claims("");
    let groups: Vec<String> = (0..5000)
        .map(|i| format!("directory-group-with-a-long-name-{i}"))
        .collect();
    claims["groups"] = json!(groups);
    claims["picture"] = json!("x".repeat(50_000));
    claims["name"] = json!("Alice Pleasance Liddell");
    let mut browser = Browser::default();
    let (status, headers, _) = sign_in(&mut browser, &sidecar, &idp, claims).await;
    assert_eq!(status, StatusCode::FOUND);
    let set = headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("portal_sso_session="))
        .unwrap();
    let pair = set.split(';').next().unwrap();
    println!(
        "session cookie: {} bytes as sent (name=value), {} with attributes",
        pair.len(),
        set.len()
    );
    assert!(pair.len() < 1024, "{}", pair.len());
    // A mapped field too large for the cookie refuses the sign-in, naming the size.
    let config = oidc::config(listen, &idp.issuer, CLIENT_ID, "").replace(
        "[[portal]]\nkind = \"kustomer\"",
        "[session.claims]\ngroups = \"/groups\"\n\n[[portal]]\nkind = \"kustomer\"",
    );
    drop(sidecar);
    let sidecar = Sidecar::start_with_env(&config, &oidc::env());
    let mut claims = idp.claims("");
    claims["groups"] = json!(groups);
    let mut browser = Browser::default();
    let (status, _, body) = sign_in(&mut browser, &sidecar, &idp, claims).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("more than the 1024 bytes"));
    let log = sidecar.log_once_it_has("session_too_large", Duration::from_secs(5));
    assert!(log.contains("reason=\"session_too_large\""), "{log}");
}

#[tokio::test]
async fn check_config_online_prints_what_discovery_found() {
    let idp = FakeIdp::start().await;
    let dir = TempDir::new();
    let path = dir.write(
        "oidc.toml",
        &oidc::config(free_addr(), &idp.issuer, CLIENT_ID, ""),
    );
    let mut env: Vec<(&str, &str)> = secret_env();
    env.extend(oidc::env());
    let path = path.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        run_cli(&["check-config", "--config", &path, "--online"], &env)
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        format!("issuer                  {}", idp.issuer),
        format!("token_endpoint          {}/token", idp.issuer),
        format!("end_session_endpoint    {}/logout", idp.issuer),
        format!("keys                    {KID} (RS256)"),
        "ID token algorithms     RS256".to_owned(),
    ] {
        assert!(stdout.contains(&line), "missing {line:?} in\n{stdout}");
    }
    assert!(!stdout.contains(oidc::CLIENT_SECRET), "{stdout}");
    drop(idp);
    let path = dir.0.join("oidc.toml").to_str().unwrap().to_owned();
    let mut env: Vec<(&str, &str)> = secret_env();
    env.extend(oidc::env());
    let out = tokio::task::spawn_blocking(move || {
        run_cli(&["check-config", "--config", &path, "--online"], &env)
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot be used"));
}

#[test]
fn the_oidc_example_config_checks_out() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/oidc.toml");
    let mut env: Vec<(&str, &str)> = secret_env();
    env.extend(oidc::env());
    let out = run_cli(&["check-config", "--config", path], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("redirect URI https://help.acme.com/sso/oidc/callback"),
        "{stdout}"
    );
}
