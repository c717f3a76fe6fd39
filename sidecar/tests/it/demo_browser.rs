//! `portal-sso demo` in a real browser: headless Chromium driven through chromedriver.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `chromium`,
//! `chromium-driver`), so `cargo test` reports it as ignored; CI installs both and runs it
//! with `cargo test -p portal-sso-sidecar --test it -- --ignored demo_browser`, where a
//! missing browser fails it.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use support::demo::Demo;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const SCREENSHOT: &str = "/tmp/demo-kustomer.png";

/// chromedriver, killed when dropped.
pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh profile directory, removed when dropped.
pub(crate) struct Profile(PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fails, saying what to install, unless the browser and its driver are here.
pub(crate) fn require_browser() {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "{} not found: install the Debian packages chromium and chromium-driver",
        missing.join(" and ")
    );
}

pub(crate) async fn start_browser() -> (Driver, Profile, Client) {
    let port = free_port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = Profile(std::env::temp_dir().join(format!(
        "portal-sso-demo-browser-{}-{port}",
        std::process::id()
    )));
    std::fs::create_dir_all(&profile.0).unwrap();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1000,860",
                format!("--user-data-dir={}", profile.0.display()),
            ],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver starts a Chromium session");
    (driver, profile, client)
}

/// The visible text of the page's main area.
async fn main_text(client: &Client) -> String {
    client
        .find(Locator::Css("main"))
        .await
        .expect("every demo page has a <main>")
        .text()
        .await
        .unwrap()
}

/// Waits until the page's main text contains `expected`; returns it.
async fn wait_for_text(client: &Client, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = match client.find(Locator::Css("main")).await {
            Ok(main) => main.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(expected) {
            return text;
        }
        let url = client.current_url().await.map(|u| u.to_string());
        assert!(
            Instant::now() < deadline,
            "{expected:?} never appeared; at {url:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click_link(client: &Client, text: &str) {
    client
        .find(Locator::LinkText(text))
        .await
        .unwrap_or_else(|err| panic!("no link {text:?}: {err}"))
        .click()
        .await
        .unwrap();
}

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
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys("wonderland")
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn single_sign_on_and_sign_out_in_a_real_browser() {
    require_browser();
    let demo = Demo::start().await;
    let (app, kustomer, aha) = (demo.app(""), demo.kustomer(""), demo.aha(""));
    let (driver, profile, client) = start_browser().await;

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
    client.goto(&format!("{aha}/")).await.unwrap();
    assert!(main_text(&client).await.contains("You are not signed in"));

    client.close().await.unwrap();
    drop(driver);
    drop(profile);
    demo.stop().await;
}
