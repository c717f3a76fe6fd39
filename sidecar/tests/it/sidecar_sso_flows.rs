//! The sidecar binary in front of a real app, signing in: Kustomer and Aha! sign what
//! introspection of the app's session reads, a redirect outside the origins is refused, a
//! signed-out browser goes to the app's login and comes back, and introspection is cached
//! by session, sends only the cookie and, when down, is a 503 rather than a login loop.

use crate::support;

use std::time::Duration;

use http::{Request, StatusCode, header};
use support::stack::{KUSTOMER_LOGIN, alice, setup};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kustomer_signs_the_email_read_from_the_apps_session() {
    let (_upstream, sidecar) = setup().await;
    let (status, headers, _) = get(&sidecar.url(KUSTOMER_LOGIN), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    let target = location(&headers);
    let (base, token) = target.split_once("&externalToken=").unwrap();
    assert_eq!(
        base,
        "https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen_us"
    );
    let claims = decode(token, KUSTOMER_SECRET);
    assert_eq!(claims["email"], "alice@example.com");
    let iat = claims["iat"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(iat.abs_diff(now) < 60);
    assert_eq!(claims.as_object().unwrap().len(), 2, "{claims}");
    // Without kustomerRedirectUri: the configured default.
    let (status, headers, _) = get(&sidecar.url("/sso/kustomer"), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location(&headers).starts_with("https://acme.kustomer.help/login?externalToken="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aha_signs_names_and_passes_state_and_return_to() {
    let (_upstream, sidecar) = setup().await;
    let (status, headers, _) = get(
        &sidecar.url("/sso/aha?state=xyz%20123&return_to=%2Fideas%2FAPP-I-469"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let target = location(&headers);
    assert!(
        target.starts_with(
            "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456?jwt="
        ),
        "{target}"
    );
    assert_eq!(query_param(&target, "state").unwrap(), "xyz 123");
    assert_eq!(
        query_param(&target, "return_to").unwrap(),
        "/ideas/APP-I-469"
    );
    let claims = decode(&query_param(&target, "jwt").unwrap(), AHA_SECRET);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["first_name"], "Alice");
    assert_eq!(claims["last_name"], "Liddell");
    assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
    assert!(claims["iat"].is_u64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_goes_to_the_apps_login_and_comes_back_signed() {
    let (upstream, sidecar) = setup().await;
    let (status, headers, _) = get(&sidecar.url(KUSTOMER_LOGIN), None).await;
    assert_eq!(status, StatusCode::FOUND);
    let login = location(&headers);
    assert!(login.starts_with("/login?next="), "{login}");
    let next = query_param(&format!("http://x{login}"), "next").unwrap();
    assert_eq!(next, KUSTOMER_LOGIN);
    // No cookie: the app was never asked.
    assert_eq!(
        upstream.me_calls.load(std::sync::atomic::Ordering::SeqCst),
        0
    );

    // The login page is the app's, reached through the sidecar.
    let (status, _, body) = get(&sidecar.url(&login), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"login page");

    // The user signs in; the app sends the browser back to `next`.
    let (status, headers, _) = get(&sidecar.url(&format!("{login}&as=alice")), None).await;
    assert_eq!(status, StatusCode::FOUND);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with(&format!("sid={ALICE_SESSION}")));
    let back = location(&headers);
    assert_eq!(back, KUSTOMER_LOGIN);

    let (status, headers, _) = get(&sidecar.url(&back), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    let token = query_param(&location(&headers), "externalToken").unwrap();
    assert_eq!(
        decode(&token, KUSTOMER_SECRET)["email"],
        "alice@example.com"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_outside_the_origins_is_refused_and_nothing_signed() {
    let (_upstream, sidecar) = setup().await;
    let (status, headers, body) = get(
        &sidecar.url("/sso/kustomer?kustomerRedirectUri=https://evil.example/login"),
        Some(&alice()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get(header::LOCATION).is_none());
    assert!(!String::from_utf8_lossy(&body).contains("externalToken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_is_cached_by_session() {
    let (upstream, sidecar) = setup().await;
    for _ in 0..3 {
        let (status, _, _) = get(&sidecar.url("/sso/aha"), Some(&alice())).await;
        assert_eq!(status, StatusCode::FOUND);
    }
    assert_eq!(
        upstream.me_calls.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_sends_only_the_cookie_header() {
    // The app's `/api/me` answers 500 when it sees `x-should-not-pass`.
    let (_upstream, sidecar) = setup().await;
    let request = |path: &str| {
        Request::get(sidecar.url(path))
            .header(header::COOKIE, alice())
            .header("x-should-not-pass", "1")
            .body(empty())
            .unwrap()
    };
    // Proxied as is, the header reaches the app.
    let (status, _, _) = send(request("/api/me")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    // The sidecar's own call carries only the cookie: the app answers, a token is signed.
    let (status, headers, _) = send(request("/sso/aha")).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(query_param(&location(&headers), "jwt").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_down_is_a_503_not_a_login_loop() {
    let upstream = Upstream::start().await;
    let dead = format!("http://{}/api/me", free_addr());
    let sidecar = Sidecar::start(&config(&upstream.url(), &dead, "", ""));
    let (status, headers, body) = get(&sidecar.url(KUSTOMER_LOGIN), Some(&alice())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::LOCATION).is_none());
    let body = String::from_utf8_lossy(&body);
    assert!(!body.contains(ALICE_SESSION));

    // An endpoint answering 200 with a body that is not JSON (the login page) is
    // unavailable too, not "signed out".
    let sidecar = Sidecar::start(&config(
        &upstream.url(),
        &format!("{}/login", upstream.url()),
        "",
        "",
    ));
    let (status, headers, _) = get(&sidecar.url("/sso/aha"), Some(&alice())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::LOCATION).is_none());
    let log = sidecar.log_once_it_has("identity_error", Duration::from_secs(5));
    assert!(log.contains("identity_error"), "{log}");
    assert!(!log.contains(ALICE_SESSION), "{log}");
}
