//! A widget's route in a real Chromium: the app's own page fetches the value; a page on
//! another origin (another port: same site; `localhost`: another site) that `fetch`es
//! it with `credentials: 'include'` gets nothing, and the sidecar refused it before
//! asking who the user is.
//!
//! Needs chromium and chromedriver (see `support::browser`), so `cargo test` reports it
//! as ignored; CI runs it with `--ignored`.

use crate::support;

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use support::browser::{main_text_once_settled, require_browser, start_browser};
use support::presets::preset_config;
use support::widgets::CHAT_SECRET;
use support::*;

const WIDGET: &str = "/sso/widget/kustomer-chat";

/// Another site's server: every path answers a page that fetches `url` with the
/// browser's cookies.
async fn other_origin(url: String) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let page = fetching_page(&url);
    let app = axum::Router::new().fallback(move || {
        let page = page.clone();
        async move { axum::response::Html(page) }
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

/// The `/events` the sidecar's admin port lists, oldest first.
async fn events(sidecar: &Sidecar) -> Vec<Value> {
    let (_, _, body) = get(&sidecar.admin_url("/events"), None).await;
    let mut events: Vec<Value> = serde_json::from_slice(&body).unwrap();
    events.reverse();
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn only_the_apps_own_page_can_read_a_widgets_value_in_a_real_browser() {
    require_browser();
    let upstream = Upstream::start().await;
    let widget =
        "[[widget]]\nkind = \"kustomer-chat\"\nsecret = { env = \"KUSTOMER_CHAT_SECRET\" }\n";
    let config = preset_config(&upstream, "email = \"/email\"", widget).replace(
        "listen = \"127.0.0.1:0\"\n",
        "listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n",
    );
    let sidecar = Sidecar::start_with_env(&config, &[("KUSTOMER_CHAT_SECRET", CHAT_SECRET)]);
    let widget_url = sidecar.url(WIDGET);
    let (other, _server) = other_origin(widget_url.clone()).await;
    let (_driver, _profile, client) = start_browser().await;

    // Alice signs in to the app, which sends her to its page with the chat widget: the
    // page's fetch carries her session and reads the token.
    let next = format!("/widget-page?url={WIDGET}")
        .replace('/', "%2F")
        .replace('?', "%3F")
        .replace('=', "%3D");
    client
        .goto(&sidecar.url(&format!("/login?as=alice&next={next}")))
        .await
        .unwrap();
    let text = main_text_once_settled(&client).await;
    let answer = text
        .strip_prefix("status 200 ")
        .unwrap_or_else(|| panic!("the app's own page reads the value: {text}"));
    let answer: Value = serde_json::from_str(answer).unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(
        answer["token"].as_str().unwrap(),
        &DecodingKey::from_secret(CHAT_SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["email"], "alice@example.com");

    // A page on another port of the same host (same site, so her cookie goes along), and
    // one on another site, fetch the same URL with credentials: the browser gives them
    // nothing, and the sidecar signed nothing for them.
    let same_site = format!("http://127.0.0.1:{}", other.port());
    let cross_site = format!("http://localhost:{}", other.port());
    for origin in [&same_site, &cross_site] {
        client.goto(&format!("{origin}/")).await.unwrap();
        let text = main_text_once_settled(&client).await;
        assert_eq!(text, "failed: TypeError", "{origin}");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let refused = loop {
        let widget_events: Vec<Value> = events(&sidecar)
            .await
            .into_iter()
            .filter(|event| event["path"] == WIDGET)
            .collect();
        if widget_events.len() >= 3 || std::time::Instant::now() > deadline {
            break widget_events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let summary: Vec<(String, String)> = refused
        .iter()
        .map(|event| {
            (
                event["event"].as_str().unwrap().to_owned(),
                event["target_origin"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("widget_token_issued".to_owned(), String::new()),
            ("widget_refused".to_owned(), same_site.clone()),
            ("widget_refused".to_owned(), cross_site.clone()),
        ]
    );
    assert!(
        refused[1..]
            .iter()
            .all(|event| event["reason"] == "cross_site")
    );
    assert_eq!(
        upstream.me_calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only the app's own page had alice looked up"
    );
}
