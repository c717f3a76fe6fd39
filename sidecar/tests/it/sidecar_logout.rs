//! Single sign-out through the sidecar, both ways: the knowledge base's "Remote logout
//! URL" ends the app session, and the app's own logout sends the browser on to the
//! knowledge base's `/portal_session/logout`, without the app knowing.

use crate::support;

use http::{StatusCode, header};
use support::*;

const PORTAL_LOGOUT: &str = "https://acme.aha.site/portal_session/logout";

fn logout_config(upstream: &Upstream, session_extra: &str) -> String {
    let me = format!("{}/api/me", upstream.url());
    let base = config(&upstream.url(), &me, r#"app_logout_path = "/logout""#, "");
    let base = base.replace(
        "[session]\ncookie = \"sid\"\n",
        &format!("[session]\ncookie = \"sid\"\n{session_extra}\n"),
    );
    format!("{base}logout_redirect = \"/goodbye\"\nportal_logout_url = \"{PORTAL_LOGOUT}\"\n")
}

fn alice() -> String {
    format!("sid={ALICE_SESSION}")
}

fn set_cookies(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn expires_sid(cookies: &[String]) -> Option<&String> {
    cookies
        .iter()
        .find(|c| c.starts_with("sid=;") && c.contains("Max-Age=0"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_logout_expires_the_session_cookie_and_lands_on_the_configured_page() {
    let upstream = Upstream::start().await;
    let sidecar = Sidecar::start(&logout_config(
        &upstream,
        "path = \"/\"\ndomain = \"app.example.com\"",
    ));
    let (status, headers, _) = get(&sidecar.url("/sso/aha/logout"), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), "/goodbye");
    let cookies = set_cookies(&headers);
    let sid = expires_sid(&cookies).unwrap_or_else(|| panic!("sid not expired: {cookies:?}"));
    assert!(sid.contains("Path=/"), "{sid}");
    assert!(sid.contains("Domain=app.example.com"), "{sid}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_logout_never_goes_where_the_request_says() {
    let upstream = Upstream::start().await;
    let sidecar = Sidecar::start(&logout_config(&upstream, ""));
    for query in [
        "?return_to=https://evil.example/",
        "?next=//evil.example",
        "?redirect_uri=https%3A%2F%2Fevil.example",
    ] {
        let (status, headers, _) = get(
            &sidecar.url(&format!("/sso/aha/logout{query}")),
            Some(&alice()),
        )
        .await;
        assert_eq!(status, StatusCode::FOUND, "{query}");
        assert_eq!(location(&headers), "/goodbye", "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_remote_logout_the_portal_login_asks_the_app_to_log_in_again() {
    let upstream = Upstream::start().await;
    let sidecar = Sidecar::start(&logout_config(&upstream, ""));
    // Signed in: a token is issued.
    let (status, headers, _) = get(&sidecar.url("/sso/aha"), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location(&headers).contains("jwt="));
    // The browser applies the expiry from remote logout and comes back without the cookie.
    let (_, headers, _) = get(&sidecar.url("/sso/aha/logout"), Some(&alice())).await;
    assert!(expires_sid(&set_cookies(&headers)).is_some());
    let (status, headers, _) = get(&sidecar.url("/sso/aha"), None).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), "/login?next=%2Fsso%2Faha");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_logout_is_handled_by_the_app_then_sent_on_to_the_portal_logout() {
    let upstream = Upstream::start().await;
    let sidecar = Sidecar::start(&logout_config(&upstream, ""));
    let (status, headers, body) = get(&sidecar.url("/logout"), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), PORTAL_LOGOUT);
    // The app's own Set-Cookie, which ends its session, is kept.
    let cookies = set_cookies(&headers);
    assert!(
        cookies
            .iter()
            .any(|c| c == "sid=; Path=/; Max-Age=0; HttpOnly"),
        "{cookies:?}"
    );
    assert!(body.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_decisions_are_listed_in_recent_events() {
    let upstream = Upstream::start().await;
    let sidecar = Sidecar::start(&logout_config(&upstream, ""));
    get(&sidecar.url("/sso/aha/logout"), Some(&alice())).await;
    get(&sidecar.url("/logout"), Some(&alice())).await;
    let (status, _, body) = get(&sidecar.admin_url("/events"), None).await;
    assert_eq!(status, StatusCode::OK);
    let events: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let names: Vec<&str> = events
        .as_array()
        .unwrap_or_else(|| events["events"].as_array().expect("a list of events"))
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names[..2], ["app_logout", "logout"], "{events}");
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains(ALICE_SESSION));
}
