//! One sign-in through an OpenID provider in a real browser: headless Chromium at a
//! portal's "Log in", the provider's login form, and back, signed in at the portal.
//!
//! Needs Chromium, chromedriver, node and the pinned oidc-provider; CI installs them and
//! runs it with `--ignored`.

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use fantoccini::Locator;

use crate::support::browser::{
    click_link, require_browser, start_browser, submit_password, wait_for_text,
};
use crate::support::oidc::{self, CLIENT_ID, Provider};
use crate::support::*;

/// A help-center portal: a "Log in" link to the sidecar's Kustomer route, and a login
/// page that shows whom the token it receives names.
async fn portal(sidecar: std::net::SocketAddr) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let login = format!("http://{sidecar}/sso/kustomer?kustomerRedirectUri={origin}/login");
    let app = Router::new()
        .route(
            "/",
            get(move || async move {
                Html(format!(
                    "<main>You are not signed in. <a href=\"{login}\">Log in</a></main>"
                ))
            }),
        )
        .route(
            "/login",
            get(
                |Query(query): Query<std::collections::HashMap<String, String>>| async move {
                    let claims = decode(&query["externalToken"], KUSTOMER_SECRET);
                    Html(format!(
                        "<main>Signed in as {}</main>",
                        claims["email"].as_str().unwrap()
                    ))
                },
            ),
        );
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (origin, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium, chromedriver, node and oidc-provider; CI runs it with --ignored"]
async fn the_portals_log_in_goes_through_the_idps_form_and_back_signed_in() {
    require_browser();
    oidc::require_provider();
    let listen = free_addr();
    let provider = Provider::start(&oidc::clients(listen), 0, "1");
    let (portal, _task) = portal(listen).await;
    let config = oidc::config(listen, &provider.issuer, CLIENT_ID, "").replace(
        "redirect_origins = [\"https://acme.kustomer.help\"]\ndefault_redirect = \"https://acme.kustomer.help/login\"",
        &format!("redirect_origins = [\"{portal}\"]"),
    );
    let sidecar = Sidecar::start_with_env(&config, &oidc::env());
    let (_driver, _profile, client) = start_browser().await;

    client.goto(&format!("{portal}/")).await.unwrap();
    click_link(&client, "Log in").await;
    let login = client
        .wait()
        .for_element(Locator::Css("input[name=login]"))
        .await
        .expect("the provider's login form");
    let url = client.current_url().await.unwrap();
    assert!(url.as_str().starts_with(&provider.issuer), "{url}");
    login.send_keys("alice").await.unwrap();
    submit_password(&client, "any").await;

    let text = wait_for_text(&client, "Signed in as").await;
    let url = client.current_url().await.unwrap();
    assert_eq!(text, "Signed in as alice@acme.test", "at {url}");
    assert!(
        url.as_str()
            .starts_with(&format!("{portal}/login?externalToken=")),
        "{url}"
    );
    client.close().await.unwrap();
    let log = sidecar.log_once_it_has("oidc_signed_in", std::time::Duration::from_secs(5));
    assert!(log.contains("oidc_signed_in"), "{log}");
}
