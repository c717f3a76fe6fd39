//! Attacks on how the sidecar reads the app's session by introspection, through the real
//! binary: a session cookie planted beside the victim's, raw UTF-8 cookies, and a session
//! that remote logout has ended.

use crate::support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use http::{HeaderValue, Request, StatusCode, header};
use support::*;

/// The app's sessions: cookie value to email. Shared with the test, which ends them.
type Sessions = Arc<Mutex<HashMap<&'static str, &'static str>>>;

const VICTIM: &str = "victim-session-31c9";
const ATTACKER: &str = "attacker-session-8e02";

/// An app whose "who am I" reads the **last** `sid` of the `Cookie` header, as many
/// frameworks do, and counts its calls.
async fn app(sessions: Sessions) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let me = move |headers: HeaderMap| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sessions = Arc::clone(&sessions);
        async move {
            let last_sid = headers
                .get_all(header::COOKIE)
                .iter()
                .flat_map(|value| value.as_bytes().split(|&b| b == b';'))
                .filter_map(|pair| std::str::from_utf8(pair).ok())
                .filter_map(|pair| pair.trim().strip_prefix("sid="))
                .next_back()
                .map(str::to_owned);
            let email =
                last_sid.and_then(|sid| sessions.lock().unwrap().get(sid.as_str()).copied());
            match email {
                Some(email) => axum::Json(serde_json::json!({ "email": email })).into_response(),
                None => StatusCode::UNAUTHORIZED.into_response(),
            }
        }
    };
    let router: Router = Router::new().route("/api/me", get(me));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, calls)
}

async fn setup() -> (Sessions, Arc<std::sync::atomic::AtomicUsize>, Sidecar) {
    let sessions: Sessions = Arc::new(Mutex::new(HashMap::from([
        (VICTIM, "victim@example.com"),
        (ATTACKER, "mallory@example.com"),
    ])));
    let (url, calls) = app(Arc::clone(&sessions)).await;
    let sidecar = Sidecar::start(&config(&url, &format!("{url}/api/me"), "", ""));
    (sessions, calls, sidecar)
}

/// `GET path` with each of `cookies` as its own `Cookie` header line.
async fn get_with(
    sidecar: &Sidecar,
    path: &str,
    cookies: &[impl AsRef<[u8]>],
) -> (StatusCode, String) {
    let mut request = Request::get(sidecar.url(path)).body(empty()).unwrap();
    for line in cookies {
        request.headers_mut().append(
            header::COOKIE,
            HeaderValue::from_bytes(line.as_ref()).unwrap(),
        );
    }
    let (status, headers, _) = send(request).await;
    let location = headers
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location)
}

/// The email signed into the Kustomer token of `location`, if it carries one.
fn signed_email(location: &str) -> Option<String> {
    let token = query_param(location, "externalToken")?;
    Some(
        decode(&token, KUSTOMER_SECRET)["email"]
            .as_str()?
            .to_owned(),
    )
}

// Class 1: the cache must not hand out the identity of one `Cookie` header for another
// that shares its first `sid`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class1_a_doubled_session_cookie_does_not_poison_the_introspection_cache() {
    let (_sessions, _calls, sidecar) = setup().await;
    let planted = "sid=planted-by-sibling";
    for split in [false, true] {
        // The attacker's own request: planted value first, their real session last.
        let lines = planted_before(planted, ATTACKER, split);
        let (status, location) = get_with(&sidecar, "/sso/kustomer", &lines).await;
        assert_eq!(status, StatusCode::FOUND);
        assert_eq!(
            signed_email(&location).as_deref(),
            Some("mallory@example.com")
        );

        // The victim, with the planted cookie in front of their own session.
        let lines = planted_before(planted, VICTIM, split);
        let (status, location) = get_with(&sidecar, "/sso/kustomer", &lines).await;
        assert_eq!(status, StatusCode::FOUND);
        assert_eq!(
            signed_email(&location).as_deref(),
            Some("victim@example.com"),
            "signed for the user the app would say is signed in (split lines: {split})"
        );
    }
}

/// `Cookie` lines carrying `planted`, then `sid=<session>`: in one line, or two.
fn planted_before(planted: &str, session: &str, split: bool) -> Vec<Vec<u8>> {
    let own = format!("sid={session}");
    if split {
        vec![planted.as_bytes().to_vec(), own.into_bytes()]
    } else {
        vec![format!("{planted}; {own}").into_bytes()]
    }
}

// Class 1: remote logout ends the session for the sidecar too, not only at the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class1_remote_logout_evicts_the_cached_session() {
    let (sessions, calls, sidecar) = setup().await;
    let cookie = format!("sid={VICTIM}");
    let (_, location) = get_with(&sidecar, "/sso/kustomer", &[cookie.as_bytes()]).await;
    assert_eq!(
        signed_email(&location).as_deref(),
        Some("victim@example.com")
    );
    let (_, location) = get_with(&sidecar, "/sso/kustomer", &[cookie.as_bytes()]).await;
    assert!(signed_email(&location).is_some());
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "cached");

    // The portal's remote logout; the app's session ends too.
    let (status, _) = get_with(&sidecar, "/sso/aha/logout", &[cookie.as_bytes()]).await;
    assert_eq!(status, StatusCode::FOUND);
    sessions.lock().unwrap().remove(VICTIM);

    // A browser that kept the old cookie (or a replayed request) is signed out.
    let (status, location) = get_with(&sidecar, "/sso/kustomer", &[cookie.as_bytes()]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.starts_with("/login?next="), "{location}");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

// Class 3: a raw UTF-8 or Latin-1 cookie pair next to the session hides only itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class3_a_non_ascii_cookie_pair_does_not_hide_the_session() {
    let (_sessions, _calls, sidecar) = setup().await;
    let utf8 = format!("pref=caf\u{e9}; sid={VICTIM}; theme=\u{1F319}");
    let (status, location) = get_with(&sidecar, "/sso/kustomer", &[utf8.as_bytes()]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        signed_email(&location).as_deref(),
        Some("victim@example.com")
    );

    let latin1 = [
        b"pref=caf\xe9; ".as_slice(),
        format!("sid={VICTIM}").as_bytes(),
    ]
    .concat();
    let (status, location) = get_with(&sidecar, "/sso/kustomer", &[&latin1]).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        signed_email(&location).as_deref(),
        Some("victim@example.com")
    );
}
