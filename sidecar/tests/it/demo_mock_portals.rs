//! The demo's mock portals, driven over plain HTTP the way a browser would: they refuse
//! tampered, unsigned, replayed or unknown-state tokens and say why, and a mock port that
//! is taken is named in the error.

use crate::support;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use support::demo::{Browser, Demo, free_base_port, now, query_value, sign_in_through_kustomer};

/// The Kustomer redirect for a signed-in browser.
async fn kustomer_token_location(demo: &Demo, browser: &mut Browser) -> String {
    let (home, _) = Browser::new().visit(&demo.kustomer("/")).await;
    let signed = browser.get(&home.link("Log in")).await;
    assert_eq!(signed.status, StatusCode::FOUND);
    let location = signed.location();
    assert!(location.contains("&externalToken="), "{location}");
    location
}

#[tokio::test]
async fn the_mocks_refuse_tampered_tokens_and_say_why() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();
    sign_in_through_kustomer(&demo, &mut browser).await;
    let mut stranger = Browser::new();

    // Kustomer: claims changed, signature kept.
    let location = kustomer_token_location(&demo, &mut browser).await;
    let (base, token) = location.split_once("&externalToken=").unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"email":"mallory@example.com","iat":{}}}"#,
        now()
    ));
    let forged = format!(
        "{base}&externalToken={}.{forged_claims}.{}",
        parts[0], parts[2]
    );
    let page = stranger.get(&forged).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let text = page.text();
    assert!(text.contains("Sign-in refused"), "{text}");
    assert!(text.contains("signature is invalid"), "{text}");
    assert!(!text.contains("Signed in as"));
    assert!(!page.sets_cookie("kustomer_session"));

    // Kustomer: unsigned (`alg: none`).
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{base}&externalToken={none_header}.{forged_claims}.");
    let page = stranger.get(&unsigned).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text().contains("alg is \"none\""), "{}", page.text());
    assert!(page.text().contains("requires HS256"), "{}", page.text());

    // Kustomer: not a JWT at all.
    let page = stranger.get(&format!("{base}&externalToken=garbage")).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text().contains("this is not a JWT"), "{}", page.text());
    let (home, _) = stranger.visit(&demo.kustomer("/")).await;
    assert!(home.text().contains("You are not signed in"));

    // Aha!: a signature changed by one character.
    let callback = aha_callback(&demo, &mut browser).await;
    let jwt = query_value(&callback, "jwt").unwrap();
    // The signature's first character: all six of its bits are signature (the last
    // character's lowest two are padding, which a changed letter may only touch).
    let at = jwt.rfind('.').unwrap() + 1;
    let first = &jwt[at..=at];
    let flipped = format!(
        "{}{}{}",
        &jwt[..at],
        if first == "A" { "B" } else { "A" },
        &jwt[at + 1..]
    );
    let page = stranger.get(&callback.replace(&jwt, &flipped)).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.text().contains("signature is invalid"),
        "{}",
        page.text()
    );

    // Aha!: a state the knowledge base never issued.
    let callback = aha_callback(&demo, &mut browser).await;
    let state = query_value(&callback, "state").unwrap();
    let page = stranger
        .get(&callback.replace(&state, &"0".repeat(64)))
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.text().contains("not one this knowledge base issued"),
        "{}",
        page.text()
    );

    // Aha!: a good callback works once, not twice.
    let callback = aha_callback(&demo, &mut browser).await;
    let page = stranger.get(&callback).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let page = stranger.get(&callback).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text().contains("already used"), "{}", page.text());
    demo.stop().await;
}

/// The Aha! callback URL for a signed-in browser, not yet visited.
async fn aha_callback(demo: &Demo, browser: &mut Browser) -> String {
    let start = browser.get(&demo.aha("/login?return_to=%2F")).await;
    let signed = browser.get(&start.location()).await;
    assert_eq!(signed.status, StatusCode::FOUND);
    signed.location()
}

#[tokio::test]
async fn a_taken_mock_port_is_named_in_the_error() {
    for _ in 0..20 {
        let Some(port) = free_base_port() else {
            continue;
        };
        let Ok(taken) = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port + 2)) else {
            continue;
        };
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let result = portal_sso_sidecar::demo::run(listen, std::future::pending()).await;
        let err = result.expect_err("port + 2 is taken");
        if err.kind() != io::ErrorKind::AddrInUse {
            continue;
        }
        let message = err.to_string();
        assert!(message.contains(&format!("port {}", port + 2)), "{message}");
        assert!(message.contains("Aha!"), "{message}");
        drop(taken);
        return;
    }
    panic!("no free ports to try");
}
