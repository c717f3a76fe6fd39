//! `portal-sso demo` in a real browser: headless Chromium driven through chromedriver
//! (`support::browser`), the app's chat widget included: its script, loaded from the mock
//! Kustomer portal under the app page's Content-Security-Policy, fetches the token from
//! the sidecar's widget route and has the mock portal check it.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `chromium`,
//! `chromium-driver`), so `cargo test` reports it as ignored; CI installs both and runs it
//! with `cargo test -p portal-sso-sidecar --test it -- --ignored demo_browser`, where a
//! missing browser fails it.

use fantoccini::{Client, Locator};

use crate::support;
use support::browser::{
    click_link, main_text, require_browser, start_browser, submit_password, wait_for_exact_text,
    wait_for_text,
};
use support::demo::Demo;

const SCREENSHOT: &str = "/tmp/demo-kustomer.png";
const APP_SCREENSHOT: &str = "/tmp/demo-app-chat.png";
/// Where the app's chat widget says whom it talks to.
const CHAT: &str = "#chat-status";

async fn fill_login_form(client: &Client, app_origin: &str) {
    let email = client
        .wait()
        .for_element(Locator::Css("input[name=email]"))
        .await
        .expect("the app's login form");
    let url = client.current_url().await.unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{app_origin}/login?next=")),
        "{url}"
    );
    email.send_keys("alice@example.com").await.unwrap();
    submit_password(client, "wonderland").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn single_sign_on_and_sign_out_in_a_real_browser() {
    require_browser();
    let demo = Demo::start().await;
    let (app, kustomer, aha) = (demo.app(""), demo.kustomer(""), demo.aha(""));
    let (driver, profile, client) = start_browser().await;

    // The app, signed out: its chat widget is anonymous.
    client.goto(&format!("{app}/")).await.unwrap();
    assert!(main_text(&client).await.contains("You are not signed in"));
    wait_for_exact_text(&client, CHAT, "Chat: anonymous").await;

    // Kustomer portal -> "Log in" -> the app's login form -> back on the portal.
    client.goto(&format!("{kustomer}/")).await.unwrap();
    assert!(main_text(&client).await.contains("You are not signed in"));
    click_link(&client, "Log in").await;
    fill_login_form(&client, &app).await;
    let text = wait_for_text(&client, "Signed in as alice@example.com").await;
    let url = client.current_url().await.unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{kustomer}/login?referralUrl=")),
        "{url}"
    );
    assert!(text.contains("\"email\": \"alice@example.com\""), "{text}");
    std::fs::write(SCREENSHOT, client.screenshot().await.unwrap()).unwrap();
    client.goto(&format!("{kustomer}/")).await.unwrap();
    assert!(
        main_text(&client)
            .await
            .contains("Signed in as alice@example.com")
    );

    // Back on the app, signed in: the chat took the widget route's token for alice.
    client.goto(&format!("{app}/")).await.unwrap();
    assert!(
        main_text(&client)
            .await
            .contains("Signed in as Alice Liddell (alice@example.com)")
    );
    wait_for_exact_text(&client, CHAT, "Chat: signed in as alice@example.com").await;
    std::fs::write(APP_SCREENSHOT, client.screenshot().await.unwrap()).unwrap();

    // Aha! knowledge base -> "Log in" -> signed in, no second login.
    client.goto(&format!("{aha}/")).await.unwrap();
    assert!(main_text(&client).await.contains("You are not signed in"));
    click_link(&client, "Log in").await;
    let text = wait_for_text(&client, "Signed in as alice@example.com").await;
    assert!(text.contains("\"jti\""), "{text}");
    let url = client.current_url().await.unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{aha}/auth/jwt/callback?jwt=")),
        "no login form on the way: {url}"
    );

    // Knowledge base "Log out" -> the app's Remote logout URL -> the app, signed out.
    client.goto(&format!("{aha}/")).await.unwrap();
    click_link(&client, "Log out").await;
    wait_for_text(&client, "You are not signed in").await;
    assert_eq!(
        client.current_url().await.unwrap().as_str(),
        format!("{app}/")
    );
    client.goto(&format!("{aha}/")).await.unwrap();
    assert!(main_text(&client).await.contains("You are not signed in"));

    // Sign in again through the knowledge base: the app asks for the password this time.
    click_link(&client, "Log in").await;
    fill_login_form(&client, &app).await;
    wait_for_text(&client, "Signed in as alice@example.com").await;

    // The app's "Log out" -> the knowledge base's /portal_session/logout -> the app.
    client.goto(&format!("{app}/")).await.unwrap();
    assert!(
        main_text(&client)
            .await
            .contains("Signed in as Alice Liddell (alice@example.com)")
    );
    click_link(&client, "Log out").await;
    wait_for_text(&client, "You are not signed in").await;
    assert_eq!(
        client.current_url().await.unwrap().as_str(),
        format!("{app}/")
    );
    wait_for_exact_text(&client, CHAT, "Chat: anonymous").await;
    client.goto(&format!("{aha}/")).await.unwrap();
    assert!(main_text(&client).await.contains("You are not signed in"));

    client.close().await.unwrap();
    drop(driver);
    drop(profile);
    demo.stop().await;
}
