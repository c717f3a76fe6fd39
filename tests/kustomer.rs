//! Kustomer custom sign-on, sentence by sentence of the vendor's article and DESIGN.md,
//! plus what a signed-out browser sees on an SSO route.

mod common;

use std::time::Duration;

use common::*;
use http::StatusCode;
use http::header::{ALLOW, CACHE_CONTROL, COOKIE, LOCATION, REFERRER_POLICY};
use portal_sso::{KustomerPortal, Secret, SessionCookie, SsoLayer};

/// The login URL as the vendor's article shows it: `kustomerRedirectUri` sent as is.
const RAW_REQUEST: &str = "/sso/kustomer?trackingToken=eyJhbGciOiJub25lIn0.eyJ0IjoxfQ.&kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen";
/// The redirect URI in that request, byte for byte.
const REDIRECT_URI: &str =
    "https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen";

async fn issue(uri: &str) -> (Reply, String) {
    let users = Users::default();
    let reply = send(&default_app(&users), get_as(uri, ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let token = token_in(reply.location(), "externalToken");
    (reply, token)
}

// "Sign a JWT token ... header: { alg: 'HS256', typ: 'JWT' }"
#[tokio::test]
async fn the_token_header_is_exactly_hs256_jwt() {
    let (_, token) = issue(RAW_REQUEST).await;
    // Exactly these two members; their order does not matter to any verifier.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&header_json(&token)).unwrap(),
        serde_json::json!({"alg": "HS256", "typ": "JWT"})
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid, None);
}

// "jwt.sign({ email: "CUSTOMER_EMAIL", iat: ... })": those two claims and no other.
#[tokio::test]
async fn the_claims_are_exactly_email_and_iat() {
    let (_, token) = issue(RAW_REQUEST).await;
    let claims = verify(&token, KUSTOMER_SECRET).unwrap();
    let mut keys: Vec<_> = claims.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["email", "iat"]);
    assert_eq!(claims["email"], "alice@example.com");
    assert!(
        claims["iat"].is_u64(),
        "iat is an integer: {}",
        claims["iat"]
    );
}

// "iat: Math.floor(Date.now() / 1000) is the current time in UTC seconds."
#[tokio::test]
async fn iat_is_the_current_time_in_seconds() {
    let before = now();
    let (_, token) = issue(RAW_REQUEST).await;
    let after = now();
    let iat = verify(&token, KUSTOMER_SECRET).unwrap()["iat"]
        .as_u64()
        .unwrap();
    assert!(
        iat + 5 >= before && iat <= after + 5,
        "iat {iat} vs now {before}..{after}"
    );
}

// "Sign a JWT token in your server using the secret value".
#[tokio::test]
async fn the_signature_verifies_with_the_secret_and_no_other() {
    let (_, token) = issue(RAW_REQUEST).await;
    assert!(verify(&token, KUSTOMER_SECRET).is_ok());
    for wrong in [OTHER_SECRET, AHA_SECRET, KUSTOMER_B_SECRET] {
        let err = verify(&token, wrong).unwrap_err();
        assert_eq!(
            *err.kind(),
            jsonwebtoken::errors::ErrorKind::InvalidSignature
        );
    }
}

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
            KustomerPortal::new(Secret::new(KUSTOMER_SECRET))
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

// "an unsigned trackingToken parameter (which can be ignored)"
#[tokio::test]
async fn the_tracking_token_is_ignored() {
    let (with, with_token) = issue(RAW_REQUEST).await;
    let (without, without_token) = issue(
        "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen",
    )
    .await;
    assert_eq!(
        with.location().replace(&with_token, "T"),
        without.location().replace(&without_token, "T")
    );
    assert!(!with.location().contains("trackingToken"));
    assert!(!with.location().contains("eyJhbGciOiJub25lIn0"));
    // Not even a repeated or malformed-looking one matters.
    let (again, _) = issue(
        "/sso/kustomer?trackingToken=a&trackingToken=b&kustomerRedirectUri=https://acme.kustomer.help/login",
    )
    .await;
    assert!(
        again
            .location()
            .starts_with("https://acme.kustomer.help/login?externalToken=")
    );
}

// "Several brands = several portal entries, each with its own secret and path."
#[tokio::test]
async fn each_brand_has_its_own_path_secret_and_origins() {
    let users = Users::default();
    let app = app(SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(
            kustomer_portal()
                .with_name("acme")
                .with_path("/sso/kustomer/acme"),
        )
        .with_portal(
            KustomerPortal::new(Secret::new(KUSTOMER_B_SECRET))
                .with_name("brandb")
                .with_path("/sso/kustomer/brandb")
                .with_redirect_origins(["https://brandb.kustomer.help"]),
        ));
    let reply = send(
        &app,
        get_as(
            "/sso/kustomer/brandb?kustomerRedirectUri=https://brandb.kustomer.help/login",
            ALICE_SID,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let token = token_in(reply.location(), "externalToken");
    assert!(verify(&token, KUSTOMER_B_SECRET).is_ok());
    assert!(verify(&token, KUSTOMER_SECRET).is_err());

    let reply = send(
        &app,
        get_as("/sso/kustomer/acme?trackingToken=x", ALICE_SID),
    )
    .await;
    let token = token_in(reply.location(), "externalToken");
    assert!(verify(&token, KUSTOMER_SECRET).is_ok());
    assert!(verify(&token, KUSTOMER_B_SECRET).is_err());

    // One brand's path does not send tokens to the other brand's portal.
    let reply = send(
        &app,
        get_as(
            "/sso/kustomer/acme?kustomerRedirectUri=https://brandb.kustomer.help/login",
            ALICE_SID,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

// "Responses that carry a token: Cache-Control: no-store, Referrer-Policy: no-referrer."
#[tokio::test]
async fn the_token_redirect_is_not_cached_not_referred_and_marked_sensitive() {
    let (reply, _) = issue(RAW_REQUEST).await;
    assert_eq!(reply.headers[CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers[REFERRER_POLICY], "no-referrer");
    assert!(reply.headers[LOCATION].is_sensitive());
    assert!(reply.body.is_empty());
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
async fn post_is_405_and_says_what_is_allowed() {
    let users = Users::default();
    let request = http::Request::post(RAW_REQUEST)
        .header(COOKIE, format!("sid={ALICE_SID}"))
        .body(axum::body::Body::from("email=alice@example.com"))
        .unwrap();
    let reply = send(&default_app(&users), request).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers[ALLOW], "GET, HEAD");
    assert!(!reply.has_location());
    assert_eq!(users.calls(), 0);
}

#[tokio::test]
async fn head_works_like_get() {
    let users = Users::default();
    let request = http::Request::head(RAW_REQUEST)
        .header(COOKIE, format!("sid={ALICE_SID}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = send(&default_app(&users), request).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let token = token_in(reply.location(), "externalToken");
    assert_eq!(
        reply.location(),
        format!("{REDIRECT_URI}&externalToken={token}")
    );
    assert!(verify(&token, KUSTOMER_SECRET).is_ok());
}

// Signed out: "redirect to the app's login page with a return parameter that brings the
// browser back to this exact URL (query included) after login."
#[tokio::test]
async fn signed_out_goes_to_login_and_comes_back_to_the_exact_url() {
    let users = Users::default();
    let reply = send(&default_app(&users), get_req(RAW_REQUEST)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let location = reply.location();
    let (login, next) = location.split_once("?next=").unwrap();
    assert_eq!(login, "/login");
    assert!(
        !next.contains(['&', '?', '/', '=']),
        "percent-encoded: {next}"
    );
    assert_eq!(decode_component(next), RAW_REQUEST);
    assert_eq!(reply.location_param("next"), RAW_REQUEST);
    assert!(!location.contains("externalToken"));
    assert!(!reply.headers[LOCATION].is_sensitive());
    assert_eq!(users.calls(), 1);
}

#[tokio::test]
async fn the_login_url_and_return_parameter_are_configurable() {
    for (login_url, param, expected_prefix) in [
        (
            "/account/sign-in",
            "return_to",
            "/account/sign-in?return_to=",
        ),
        (
            "https://app.example.com/signin",
            "continue",
            "https://app.example.com/signin?continue=",
        ),
        // A login URL with a query already gets `&`.
        ("/login?lang=en", "next", "/login?lang=en&next="),
        (
            "https://app.example.com/signin?lang=en&theme=dark",
            "r",
            "https://app.example.com/signin?lang=en&theme=dark&r=",
        ),
    ] {
        let users = Users::default();
        let app = app(builder(&users)
            .with_login_url(login_url)
            .with_return_param(param));
        let reply = send(&app, get_req(RAW_REQUEST)).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        let location = reply.location();
        let encoded = location
            .strip_prefix(expected_prefix)
            .unwrap_or_else(|| panic!("{location} starts with {expected_prefix}"));
        assert_eq!(decode_component(encoded), RAW_REQUEST, "{login_url}");
    }
}

// "After 3 trips within the window, the 4th answers a page naming the session cookie."
#[tokio::test]
async fn a_login_loop_ends_on_a_page_naming_the_session_cookie() {
    let users = Users::default();
    let app = app(builder(&users).with_session_cookie(SessionCookie::new(SESSION_COOKIE)));
    let mut trips_cookie: Option<String> = None;
    for trip in 1..=3 {
        let mut request = get_req(RAW_REQUEST);
        if let Some(cookie) = &trips_cookie {
            request
                .headers_mut()
                .insert(COOKIE, cookie.parse().unwrap());
        }
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::FOUND, "trip {trip}");
        assert!(reply.location().starts_with("/login?next="), "trip {trip}");
        let set = reply
            .set_cookies()
            .into_iter()
            .next()
            .expect("the trip counter cookie");
        assert_eq!(set.path(), Some("/sso/kustomer"));
        assert!(set.http_only().unwrap_or(false));
        trips_cookie = Some(format!("{}={}", set.name(), set.value()));
    }
    let mut request = get_req(RAW_REQUEST);
    request
        .headers_mut()
        .insert(COOKIE, trips_cookie.clone().unwrap().parse().unwrap());
    let reply = send(&app, request).await;
    assert!(reply.status.is_server_error(), "{}", reply.status);
    assert!(!reply.has_location());
    assert!(reply.text().contains("`sid`"), "{}", reply.text());

    // Once the app's session is readable, the sign-in completes and the counter is cleared.
    let request = http::Request::get(RAW_REQUEST)
        .header(
            COOKIE,
            format!("sid={ALICE_SID}; {}", trips_cookie.unwrap()),
        )
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.location().contains("externalToken="));
    let cleared = reply
        .set_cookies()
        .into_iter()
        .next()
        .expect("counter cleared");
    assert_eq!(cleared.max_age(), Some(cookie::time::Duration::ZERO));
}

#[tokio::test]
async fn a_trip_counter_the_layer_did_not_sign_is_ignored() {
    let users = Users::default();
    let app = app(builder(&users).with_login_loop_limit(2, Duration::from_secs(60)));
    // A counter the layer did not sign is ignored: still redirected to log in.
    let request = http::Request::get(RAW_REQUEST)
        .header(COOKIE, format!("portal_sso_login_trips=99.{}", now()))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.location().starts_with("/login?next="));
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

// "within the window": trips older than the window no longer count.
#[tokio::test]
async fn trips_outside_the_window_are_forgotten() {
    let users = Users::default();
    let app = app(builder(&users).with_login_loop_limit(1, Duration::from_secs(1)));
    let reply = send(&app, get_req(RAW_REQUEST)).await;
    let trips = reply
        .set_cookies()
        .into_iter()
        .next()
        .expect("trip counter");
    let carried = format!("{}={}", trips.name(), trips.value());
    let again = || {
        http::Request::get(RAW_REQUEST)
            .header(COOKIE, carried.clone())
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let reply = send(&app, again()).await;
    assert!(
        !reply.has_location(),
        "the second trip within 1 s is a loop"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let reply = send(&app, again()).await;
    assert_eq!(
        reply.status,
        StatusCode::FOUND,
        "an old trip no longer counts"
    );
    assert!(reply.location().starts_with("/login?next="));
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
            KustomerPortal::new(Secret::new(KUSTOMER_SECRET))
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
