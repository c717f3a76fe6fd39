//! Kustomer custom sign-on, sentence by sentence of the vendor's article and DESIGN.md:
//! the `kustomerRedirectUri` the token is appended to (separator, fragment, every existing
//! parameter byte for byte), the configured default, and the addresses, repeats and broken
//! escapes refused before anyone is looked up.

use crate::common;

use common::kustomer::{RAW_REQUEST, REDIRECT_URI, issue};
use common::*;
use http::StatusCode;
use portal_sso::{JwtPortal, Secret, SsoLayer};

// "The URL you redirect to should be formatted as {kustomerRedirectUri}&externalToken=..."
#[tokio::test]
async fn the_token_is_appended_with_an_ampersand_when_the_uri_has_a_query() {
    let (reply, token) = issue(RAW_REQUEST).await;
    assert_eq!(
        reply.location(),
        format!("{REDIRECT_URI}&externalToken={token}")
    );
}

#[tokio::test]
async fn the_token_is_appended_with_a_question_mark_when_the_uri_has_none() {
    let (reply, token) =
        issue("/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login").await;
    assert_eq!(
        reply.location(),
        format!("https://acme.kustomer.help/login?externalToken={token}")
    );
}

#[tokio::test]
async fn the_token_goes_before_a_fragment() {
    // A `#` can only reach the server escaped, so the URI is sent percent-encoded once.
    for (uri, expected_prefix, fragment) in [
        (
            "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Flogin%3Fx%3D1%23top",
            "https://acme.kustomer.help/login?x=1&externalToken=",
            "#top",
        ),
        (
            "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Flogin%23top",
            "https://acme.kustomer.help/login?externalToken=",
            "#top",
        ),
    ] {
        let (reply, token) = issue(uri).await;
        assert_eq!(
            reply.location(),
            format!("{expected_prefix}{token}{fragment}"),
            "{uri}"
        );
    }
}

// "every existing parameter kept byte for byte", whether the portal sends the URI raw (as
// in the article's example) or percent-encoded once.
#[tokio::test]
async fn existing_parameters_are_kept_byte_for_byte() {
    for (request, redirect_uri) in [
        (RAW_REQUEST.to_owned(), REDIRECT_URI),
        (
            "/sso/kustomer?trackingToken=x&kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Flogin%3FreferralUrl%3Dhttps%253A%252F%252Facme.kustomer.help%252Fen".to_owned(),
            REDIRECT_URI,
        ),
        (
            "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https://acme.kustomer.help".to_owned(),
            "https://acme.kustomer.help/login?referralUrl=https://acme.kustomer.help",
        ),
        (
            "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Fen%2Flogin%3Fa%3D1%26b%3D%2520x%26c%3D".to_owned(),
            "https://acme.kustomer.help/en/login?a=1&b=%20x&c=",
        ),
        (
            format!(
                "/sso/kustomer?kustomerRedirectUri={}",
                percent_encoding::utf8_percent_encode(
                    "https://acme.kustomer.help/login?r=a|b^c{d}e`f&s=%2f%2F%7e~&t=a;b&&u=caf%C3%A9",
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
            "https://acme.kustomer.help/login?r=a|b^c{d}e`f&s=%2f%2F%7e~&t=a;b&&u=caf%C3%A9",
        ),
    ] {
        let (reply, token) = issue(&request).await;
        assert_eq!(
            reply.location(),
            format!("{redirect_uri}&externalToken={token}"),
            "{request}"
        );
    }
}

// "Missing: use the portal's configured default."
#[tokio::test]
async fn a_missing_redirect_uri_uses_the_configured_default() {
    let (reply, token) = issue("/sso/kustomer?trackingToken=abc").await;
    assert_eq!(
        reply.location(),
        format!("{KUSTOMER_DEFAULT}?externalToken={token}")
    );
}

#[tokio::test]
async fn a_missing_redirect_uri_without_a_default_is_a_400() {
    let users = Users::default();
    let app = app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(
            JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
                .with_redirect_origins([KUSTOMER_ORIGIN]),
        ));
    let reply = send(&app, get_as("/sso/kustomer?trackingToken=abc", ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(!reply.has_location());
    assert!(
        reply.text().contains("no kustomerRedirectUri"),
        "{}",
        reply.text()
    );
    assert_eq!(users.calls(), 0);
}

// "Not allowed: 400 with a page that says why; no token is signed."
#[tokio::test]
async fn a_redirect_uri_outside_the_origins_is_refused_before_anyone_is_looked_up() {
    for target in [
        "https://evil.com/login",
        "https://acme.kustomer.help.evil.com/login",
        "https://evilacme.kustomer.help/",
        "http://acme.kustomer.help/login",
        "https://acme.kustomer.help:8443/login",
        "https://acme.kustomer.help%40evil.com/",
        "https%3A%2F%2Fevil.com%2Flogin",
        "https://user@acme.kustomer.help/",
        "https://acme.kustomer.help@evil.com/",
        "//acme.kustomer.help/login",
        "/login",
        "javascript:alert(1)",
        "https://evil.com%5C@acme.kustomer.help/",
        "https%3A%2F%2Facme.kustomer.help%2F%0D%0ALocation%3A%20https%3A%2F%2Fevil.com",
        "",
    ] {
        let users = Users::default();
        let uri = format!("/sso/kustomer?kustomerRedirectUri={target}");
        let reply = send(&default_app(&users), get_as(&uri, ALICE_SID)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{target}");
        assert!(!reply.has_location(), "{target}");
        assert!(
            reply.text().contains("return address"),
            "{target}: {}",
            reply.text()
        );
        assert!(!reply.text().contains("eyJ"), "{target}");
        assert_eq!(
            users.calls(),
            0,
            "{target}: no one is looked up, nothing signed"
        );
    }
}

#[tokio::test]
async fn the_refusal_page_names_the_refused_origin() {
    let users = Users::default();
    let reply = send(
        &default_app(&users),
        get_as(
            "/sso/kustomer?kustomerRedirectUri=https://evil.example/login",
            ALICE_SID,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.text().contains("https://evil.example"),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("not one this sign-in is configured"));
}

#[tokio::test]
async fn a_repeated_redirect_uri_is_a_400() {
    for query in [
        "kustomerRedirectUri=https://acme.kustomer.help/a&kustomerRedirectUri=https://evil.com/",
        "kustomerRedirectUri=https://acme.kustomer.help/a&kustomer%52edirectUri=https://evil.com/",
        "kustomerRedirectUri=https://acme.kustomer.help/a&kustomerRedirectUri=https://acme.kustomer.help/a",
    ] {
        let users = Users::default();
        let uri = format!("/sso/kustomer?{query}");
        let reply = send(&default_app(&users), get_as(&uri, ALICE_SID)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(!reply.has_location());
        assert!(reply.text().contains("more than once"), "{}", reply.text());
        assert_eq!(users.calls(), 0);
    }
}

#[tokio::test]
async fn a_broken_escape_or_non_utf8_query_is_a_400() {
    for query in [
        "kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2F%ff",
        "kustomerRedirectUri=%C3%28",
        "kustomerRedirectUri=https://acme.kustomer.help/%zz",
        "kustomerRedirectUri=https://acme.kustomer.help/&x=%",
        "trackingToken=%G1&kustomerRedirectUri=https://acme.kustomer.help/login",
    ] {
        let users = Users::default();
        let uri = format!("/sso/kustomer?{query}");
        let reply = send(&default_app(&users), get_as(&uri, ALICE_SID)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(!reply.has_location(), "{query}");
        assert_eq!(users.calls(), 0, "{query}");
    }
}

#[tokio::test]
async fn an_empty_query_or_a_trailing_ampersand_gets_no_second_separator() {
    for (target, expected_prefix) in [
        (
            "https%3A%2F%2Facme.kustomer.help%2Flogin%3F",
            "https://acme.kustomer.help/login?externalToken=",
        ),
        (
            "https%3A%2F%2Facme.kustomer.help%2Flogin%3Fr%3D1%26",
            "https://acme.kustomer.help/login?r=1&externalToken=",
        ),
    ] {
        let (reply, token) = issue(&format!("/sso/kustomer?kustomerRedirectUri={target}")).await;
        assert_eq!(
            reply.location(),
            format!("{expected_prefix}{token}"),
            "{target}"
        );
    }
}

// A URI sent escaped once whose own `referralUrl` was left unescaped is still read as
// escaped: only a value that itself starts with a scheme is taken as sent.
#[tokio::test]
async fn an_escaped_uri_with_an_unescaped_inner_url_is_decoded_once() {
    let (reply, token) = issue(
        "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Flogin%3FreferralUrl%3Dhttps://acme.kustomer.help/en",
    )
    .await;
    assert_eq!(
        reply.location(),
        format!(
            "https://acme.kustomer.help/login?referralUrl=https://acme.kustomer.help/en&externalToken={token}"
        )
    );
}

// "Compare hosts after normalising (lower case, no trailing dot, IDNA)."
#[tokio::test]
async fn hosts_are_compared_after_normalising() {
    for (target, expected) in [
        (
            "https://ACME.Kustomer.HELP/login",
            "https://acme.kustomer.help/login",
        ),
        (
            "https://acme.kustomer.help./login",
            "https://acme.kustomer.help/login",
        ),
        (
            "https://acme.kustomer.help:443/login",
            "https://acme.kustomer.help/login",
        ),
    ] {
        let (reply, token) = issue(&format!("/sso/kustomer?kustomerRedirectUri={target}")).await;
        assert_eq!(
            reply.location(),
            format!("{expected}?externalToken={token}"),
            "{target}"
        );
    }
}

// "`https://*.example.com` only where written so."
#[tokio::test]
async fn a_wildcard_origin_allows_subdomains_only_where_configured() {
    let users = Users::default();
    let app = app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(
            JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
                .with_redirect_origins(["https://*.kustomer.help", "https://bücher.example"]),
        ));
    for (target, allowed) in [
        ("https://acme.kustomer.help/login", true),
        ("https://eu.acme.kustomer.help/login", true),
        ("https://kustomer.help/login", false),
        ("https://evilkustomer.help/login", false),
        ("https://acme.kustomer.help.evil.com/login", false),
        ("http://acme.kustomer.help/login", false),
        ("https://xn--bcher-kva.example/login", true),
        ("https://b%C3%BCcher.example/login", false),
    ] {
        let uri = format!("/sso/kustomer?kustomerRedirectUri={target}");
        let reply = send(&app, get_as(&uri, ALICE_SID)).await;
        assert_eq!(reply.status == StatusCode::FOUND, allowed, "{target}");
        assert_eq!(reply.has_location(), allowed, "{target}");
    }
}
