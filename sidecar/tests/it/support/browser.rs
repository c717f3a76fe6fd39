//! A real Chromium, headless, driven through chromedriver (fantoccini), for the tests
//! that need what only a browser does: `Sec-Fetch-Site`, CORS, Content-Security-Policy,
//! scripts, cookies by site. The one place that starts chromedriver, sets Chromium's
//! flags and waits for a page.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `chromium`,
//! `chromium-driver`); tests using it are ignored by a plain `cargo test` and run by CI
//! with `--ignored`, where a missing browser fails them.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page gets to show what a test waits for.
const PAGE_WAIT: Duration = Duration::from_secs(15);

/// chromedriver, killed when dropped.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh profile directory, removed when dropped.
pub struct Profile(PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fails, saying what to install, unless the browser and its driver are here.
pub fn require_browser() {
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

/// chromedriver on a free port, and a headless Chromium session with a fresh profile.
/// Keep the driver and the profile until the session is closed.
pub async fn start_browser() -> (Driver, Profile, Client) {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
    let profile = Profile(
        std::env::temp_dir().join(format!("portal-sso-browser-{}-{port}", std::process::id())),
    );
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

/// The text of the first element `css` selects, empty when there is none (yet).
async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Polls the text of `css`'s element until `done` says so; fails, saying where the
/// browser is and what it shows, after [`PAGE_WAIT`].
async fn wait_for(
    client: &Client,
    css: &str,
    waiting_for: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let text = text_of(client, css).await;
        if done(&text) {
            return text;
        }
        let url = client.current_url().await.map(|u| u.to_string());
        assert!(
            Instant::now() < deadline,
            "{waiting_for} never came in {css}; at {url:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The visible text of the page's `<main>`, as it is now.
pub async fn main_text(client: &Client) -> String {
    client
        .find(Locator::Css("main"))
        .await
        .expect("the page has a <main>")
        .text()
        .await
        .unwrap()
}

/// Waits until the page's `<main>` text contains `expected`; returns it.
pub async fn wait_for_text(client: &Client, expected: &str) -> String {
    wait_for(client, "main", &format!("{expected:?}"), |text| {
        text.contains(expected)
    })
    .await
}

/// Waits until the text of `css`'s element is exactly `expected`.
pub async fn wait_for_exact_text(client: &Client, css: &str, expected: &str) {
    wait_for(client, css, &format!("exactly {expected:?}"), |text| {
        text == expected
    })
    .await;
}

/// Waits until the page's `<main>` text is no longer `waiting`; returns it.
pub async fn main_text_once_settled(client: &Client) -> String {
    wait_for(client, "main", "a settled page", |text| {
        !text.is_empty() && text != "waiting"
    })
    .await
}

/// Clicks the link whose text is `text`.
pub async fn click_link(client: &Client, text: &str) {
    client
        .find(Locator::LinkText(text))
        .await
        .unwrap_or_else(|err| panic!("no link {text:?}: {err}"))
        .click()
        .await
        .unwrap();
}

/// Types `password` into the page's `input[name=password]` and submits the form: the
/// login form the user name was already typed into.
pub async fn submit_password(client: &Client, password: &str) {
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
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
