//! `portal-sso demo` signing out, driven over plain HTTP the way a browser clicks through
//! it: logging out of the knowledge base ends the app's session, and logging out of the
//! app ends the knowledge base's.

use crate::support;

use http::StatusCode;
use support::demo::{Browser, Demo, Page, sign_in_through_kustomer};

async fn signed_in_everywhere(demo: &Demo) -> Browser {
    let mut browser = Browser::new();
    sign_in_through_kustomer(demo, &mut browser).await;
    let (home, _) = browser.visit(&demo.aha("/")).await;
    let (page, _) = browser.visit(&home.link("Log in")).await;
    assert!(page.text().contains("Signed in as alice@example.com"));
    let (app, _) = browser.visit(&demo.app("/")).await;
    assert!(
        app.text()
            .contains("Signed in as Alice Liddell (alice@example.com)")
    );
    browser
}

/// Follows the "Log out" link of the page at `start`: the browser must pass through
/// `hops` and land signed out on the app, and the knowledge base must say it is signed
/// out too. Returns the knowledge base's page.
async fn log_out_from(browser: &mut Browser, start: &str, hops: [String; 3], demo: &Demo) -> Page {
    let (page, _) = browser.visit(start).await;
    let (landed, visited) = browser.visit(&page.link("Log out")).await;
    assert_eq!(visited, hops);
    assert!(
        landed.text().contains("You are not signed in"),
        "{}",
        landed.text()
    );
    let (kb, _) = browser.visit(&demo.aha("/")).await;
    assert!(kb.text().contains("You are not signed in"));
    kb
}

#[tokio::test]
async fn logging_out_of_the_knowledge_base_ends_the_app_session() {
    let demo = Demo::start().await;
    let mut browser = signed_in_everywhere(&demo).await;

    log_out_from(
        &mut browser,
        &demo.aha("/"),
        [
            demo.aha("/logout"),
            demo.app("/sso/aha/logout"),
            demo.app("/"),
        ],
        &demo,
    )
    .await;
    // The app session is gone, so a portal login needs the app's login again.
    let again = browser.get(&demo.app("/sso/aha?state=s")).await;
    assert_eq!(again.status, StatusCode::FOUND);
    assert!(again.raw_location().starts_with("/login?next="));
    demo.stop().await;
}

#[tokio::test]
async fn logging_out_of_the_app_ends_the_knowledge_base_session() {
    let demo = Demo::start().await;
    let mut browser = signed_in_everywhere(&demo).await;

    let kb = log_out_from(
        &mut browser,
        &demo.app("/"),
        [
            demo.app("/logout"),
            demo.aha("/portal_session/logout"),
            demo.app("/"),
        ],
        &demo,
    )
    .await;
    assert!(kb.text().contains("Log in"));
    demo.stop().await;
}
