//! Signing in through a real, certified OpenID provider: panva's `oidc-provider`, run with
//! node on 127.0.0.1 (`tests/oidc-provider/`, pinned by its lockfile), its development
//! login form posted as a browser would. Needs node and `npm ci` there, so `cargo test`
//! reports these as ignored; CI installs both and runs them with `--ignored`.

use std::time::Duration;

use crate::support::oidc::{self, Browser, CLIENT_ID, ES256_CLIENT_ID, Provider};
use crate::support::*;

use axum::http::StatusCode;

const KUSTOMER: &str = "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login";

/// The provider and a sidecar signing in through it.
struct Setup {
    provider: Provider,
    sidecar: Sidecar,
    listen: std::net::SocketAddr,
}

fn setup(client_id: &str, settings: &str) -> Setup {
    let listen = free_addr();
    let provider = Provider::start(&oidc::clients(listen), 0, "1");
    let sidecar = Sidecar::start_with_env(
        &oidc::config(listen, &provider.issuer, client_id, settings),
        &oidc::env(),
    );
    Setup {
        provider,
        sidecar,
        listen,
    }
}

impl Setup {
    fn callback(&self) -> String {
        self.sidecar.url("/sso/oidc/callback")
    }

    /// Visits `portal` signed out, signs in at the provider as `user`: the callback's answer.
    async fn sign_in(&self, browser: &mut Browser, user: &str, portal: &str) -> oidc::Answer {
        let (status, headers, _) = browser.get(&self.sidecar.url(portal)).await;
        assert_eq!(status, StatusCode::FOUND, "{portal} signed out");
        let login = self.sidecar.url(&location(&headers));
        assert!(login.contains("/sso/oidc/login?next="), "{login}");
        let back = browser
            .sign_in_at_idp(&login, &self.provider.issuer, user, &self.callback())
            .await;
        browser.get(&back).await
    }

    /// Signs in as `user` from `portal`, then follows the sidecar back to the portal: the
    /// URL the portal's token travels on.
    async fn portal_redirect(&self, browser: &mut Browser, user: &str, portal: &str) -> String {
        let (status, headers, body) = self.sign_in(browser, user, portal).await;
        assert_eq!(
            status,
            StatusCode::FOUND,
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            location(&headers),
            portal,
            "back to the SSO route first asked for"
        );
        let (status, headers, _) = browser.get(&self.sidecar.url(portal)).await;
        assert_eq!(status, StatusCode::FOUND);
        location(&headers)
    }

    /// Asserts a sign-in as `user` is refused with a 403 page containing `says`, and the
    /// `oidc_refused` event with `reason`.
    async fn assert_refused(&self, user: &str, says: &str, reason: &str) {
        let mut browser = Browser::default();
        let (status, _, body) = self.sign_in(&mut browser, user, "/sso/aha").await;
        let page = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(page.contains(says), "{page}");
        assert!(!browser.cookies.contains_key("portal_sso_session"));
        let (status, headers, _) = browser.get(&self.sidecar.url("/sso/aha")).await;
        assert_eq!(status, StatusCode::FOUND);
        assert!(
            location(&headers).starts_with("/sso/oidc/login"),
            "no token signed"
        );
        let log = self
            .sidecar
            .log_once_it_has(&format!("reason=\"{reason}\""), Duration::from_secs(5));
        assert!(log.contains(&format!("reason=\"{reason}\"")), "{log}");
    }
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn a_first_sign_in_goes_through_the_idp_into_kustomer_and_aha_with_the_claims() {
    let setup = setup(CLIENT_ID, "");
    let mut browser = Browser::default();
    let target = setup.portal_redirect(&mut browser, "alice", KUSTOMER).await;
    assert!(
        target.starts_with("https://acme.kustomer.help/login?externalToken="),
        "{target}"
    );
    let claims = decode(
        &query_param(&target, "externalToken").unwrap(),
        KUSTOMER_SECRET,
    );
    assert_eq!(claims["email"], "alice@acme.test");
    assert_claim_names("kustomer", &claims, &["email", "iat"]);
    let mut fresh = Browser::default();
    let target = setup.portal_redirect(&mut fresh, "alice", "/sso/aha").await;
    let claims = decode(&query_param(&target, "jwt").unwrap(), AHA_SECRET);
    assert_eq!(claims["email"], "alice@acme.test");
    assert_eq!(claims["first_name"], "Alice");
    assert_eq!(claims["last_name"], "Liddell");
    // The events reach the log through the sidecar's stderr, a moment after the answers.
    let log = setup
        .sidecar
        .log_once_it_has("a***@acme.test", std::time::Duration::from_secs(5));
    assert!(
        log.contains("oidc_signed_in") && log.contains("a***@acme.test"),
        "{log}"
    );
    for secret in [
        oidc::CLIENT_SECRET,
        browser.cookies["portal_sso_session"].as_str(),
    ] {
        assert!(!log.contains(secret), "a secret or cookie in the log");
    }
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn a_second_portal_needs_no_second_idp_prompt() {
    let setup = setup(CLIENT_ID, "");
    let mut browser = Browser::default();
    setup.portal_redirect(&mut browser, "alice", KUSTOMER).await;
    // Aha! next: the session cookie answers at once, the IdP is not visited.
    let (status, headers, _) = browser.get(&setup.sidecar.url("/sso/aha")).await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    assert!(
        target.starts_with("https://acme.identity.aha.io/"),
        "{target}"
    );
    assert_eq!(
        decode(&query_param(&target, "jwt").unwrap(), AHA_SECRET)["email"],
        "alice@acme.test"
    );
    // Without portal-sso's session but with the IdP's, the IdP signs in silently.
    browser.cookies.remove("portal_sso_session");
    let (_, headers, _) = browser.get(&setup.sidecar.url("/sso/aha")).await;
    let login = setup.sidecar.url(&location(&headers));
    let (back, _) = browser.follow(&login, &setup.callback()).await;
    assert!(back.starts_with(&setup.callback()), "no login form: {back}");
    let (status, headers, _) = browser.get(&back).await;
    assert_eq!(
        (status, location(&headers).as_str()),
        (StatusCode::FOUND, "/sso/aha")
    );
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn rs256_and_es256_signing_keys_both_sign_in() {
    for client in [CLIENT_ID, ES256_CLIENT_ID] {
        let setup = setup(client, "");
        let mut browser = Browser::default();
        let target = setup
            .portal_redirect(&mut browser, "alice", "/sso/aha")
            .await;
        assert_eq!(
            decode(&query_param(&target, "jwt").unwrap(), AHA_SECRET)["email"],
            "alice@acme.test",
            "{client}"
        );
    }
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn a_key_rotation_at_the_idp_needs_no_restart() {
    let mut setup = setup(CLIENT_ID, "");
    let mut browser = Browser::default();
    setup
        .portal_redirect(&mut browser, "alice", "/sso/aha")
        .await;
    // The IdP comes back with new keys (`rsa-2`); the sidecar still holds `rsa-1`.
    let port = setup.provider.port;
    setup.provider.stop();
    setup.provider = Provider::start(&oidc::clients(setup.listen), port, "2");
    let mut browser = Browser::default();
    let target = setup
        .portal_redirect(&mut browser, "alice", "/sso/aha")
        .await;
    assert!(query_param(&target, "jwt").is_some());
    let log = setup
        .sidecar
        .log_once_it_has("oidc_keys_refetched", Duration::from_secs(5));
    assert!(log.contains("oidc_keys_refetched"), "{log}");
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn an_unverified_email_is_refused_with_a_page_saying_so() {
    let setup = setup(CLIENT_ID, "");
    setup
        .assert_refused(
            "bob",
            "does not say that the email address bob@acme.test is verified",
            "email_not_verified",
        )
        .await;
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn a_domain_and_a_group_outside_the_rules_are_refused() {
    let setup = setup(
        CLIENT_ID,
        "allowed_email_domains = [\"acme.test\"]\nallowed_groups = [\"support\"]",
    );
    setup
        .assert_refused(
            "carol",
            "Accounts of the domain other.test may not sign in",
            "email_domain_not_allowed",
        )
        .await;
    setup
        .assert_refused(
            "dave",
            "in none of the groups that may sign in here",
            "group_not_allowed",
        )
        .await;
    let mut browser = Browser::default();
    setup
        .portal_redirect(&mut browser, "alice", "/sso/aha")
        .await;
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn fields_missing_from_the_id_token_are_read_from_userinfo() {
    let setup = setup(CLIENT_ID, "");
    let mut browser = Browser::default();
    let target = setup
        .portal_redirect(&mut browser, "erin", "/sso/aha")
        .await;
    let claims = decode(&query_param(&target, "jwt").unwrap(), AHA_SECRET);
    assert_eq!(claims["first_name"], "Erin", "{claims}");
    assert_eq!(claims["last_name"], "Userinfo", "{claims}");
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn huge_claims_from_the_idp_keep_the_cookie_under_1_kb() {
    let setup = setup(CLIENT_ID, "");
    let mut browser = Browser::default();
    let target = setup
        .portal_redirect(&mut browser, "huge", "/sso/aha")
        .await;
    assert!(query_param(&target, "jwt").is_some());
    let session = &browser.cookies["portal_sso_session"];
    assert!(
        "portal_sso_session=".len() + session.len() < 1024,
        "{}",
        session.len()
    );
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn sign_out_ends_the_session_then_the_idp_session() {
    let listen = free_addr();
    let provider = Provider::start(&oidc::clients(listen), 0, "1");
    let settings =
        format!("end_session = true\npost_logout_redirect_uri = \"http://{listen}/signed-out\"");
    let sidecar = Sidecar::start_with_env(
        &oidc::config(listen, &provider.issuer, CLIENT_ID, &settings),
        &oidc::env(),
    );
    let setup = Setup {
        provider,
        sidecar,
        listen,
    };
    let mut browser = Browser::default();
    setup
        .portal_redirect(&mut browser, "alice", "/sso/aha")
        .await;
    let (status, headers, _) = browser.get(&setup.sidecar.url("/sso/oidc/logout")).await;
    assert_eq!(status, StatusCode::FOUND);
    let end = location(&headers);
    assert!(
        end.starts_with(&format!("{}/session/end?", setup.provider.issuer)),
        "{end}"
    );
    assert_eq!(query_param(&end, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        query_param(&end, "post_logout_redirect_uri"),
        Some(format!("http://{listen}/signed-out"))
    );
    assert!(
        !browser.cookies.contains_key("portal_sso_session"),
        "portal-sso's session ended"
    );
    let (status, headers, _) = browser.get(&setup.sidecar.url("/sso/aha")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location(&headers).starts_with("/sso/oidc/login"));
    // The IdP's confirmation, posted as its page would.
    let (status, _, body) = browser.get(&end).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8_lossy(&body).into_owned();
    let attribute = |name: &str| {
        page.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_owned()
    };
    let (action, xsrf) = (
        attribute("action"),
        page.split("name=\"xsrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned(),
    );
    let (status, headers, _) = browser
        .post_form(
            url::Url::parse(&end)
                .unwrap()
                .join(&action)
                .unwrap()
                .as_str(),
            &[("xsrf", &xsrf), ("logout", "yes")],
        )
        .await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location(&headers), format!("http://{listen}/signed-out"));
    // Signed out at the IdP too: the next sign-in shows its login form again.
    let (_, headers, _) = browser.get(&setup.sidecar.url("/sso/aha")).await;
    let (url, (status, _, body)) = browser
        .follow(&setup.sidecar.url(&location(&headers)), &setup.callback())
        .await;
    assert!(
        !url.starts_with(&setup.callback()) && status == StatusCode::OK,
        "{url}"
    );
    assert!(String::from_utf8_lossy(&body).contains("name=\"login\""));
}

#[tokio::test]
#[ignore = "needs node and oidc-provider; CI runs it with --ignored"]
async fn the_idp_stopped_gives_a_503_page_then_recovers() {
    let listen = free_addr();
    let mut provider = Provider::start(&oidc::clients(listen), 0, "1");
    let (issuer, port) = (provider.issuer.clone(), provider.port);
    let config = oidc::config(listen, &issuer, CLIENT_ID, "");
    let sidecar = Sidecar::start_with_env(&config, &oidc::env());
    // Stopped mid-sign-in: the code cannot be redeemed, and the page names the IdP.
    let mut browser = Browser::default();
    let (_, headers, _) = browser.get(&sidecar.url("/sso/aha")).await;
    let back = browser
        .sign_in_at_idp(
            &sidecar.url(&location(&headers)),
            &issuer,
            "alice",
            &sidecar.url("/sso/oidc/callback"),
        )
        .await;
    provider.stop();
    let (status, _, body) = browser.get(&back).await;
    let page = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(page.contains(&issuer), "{page}");
    drop(sidecar);
    // Started while the IdP is down: a 503 page and /readyz say so, and it recovers.
    let sidecar = Sidecar::start_with_env(&config, &oidc::env());
    let (status, _, body) = get(&sidecar.admin_url("/readyz"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&body).contains(&issuer));
    let mut browser = Browser::default();
    let (_, headers, _) = browser.get(&sidecar.url("/sso/aha")).await;
    let login = sidecar.url(&location(&headers));
    let (status, _, body) = browser.get(&login).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&body).contains(&issuer));
    let provider = Provider::start(&oidc::clients(listen), port, "1");
    let setup = Setup {
        provider,
        sidecar,
        listen,
    };
    let target = setup
        .portal_redirect(&mut browser, "alice", "/sso/aha")
        .await;
    assert!(query_param(&target, "jwt").is_some());
    let (status, _, _) = get(&setup.sidecar.admin_url("/readyz"), None).await;
    assert_eq!(status, StatusCode::OK);
}
