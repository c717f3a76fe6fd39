//! The demo's chat widget over plain HTTP, as its script drives it in a browser: the app's
//! pages load the script from the mock Kustomer portal and allow nothing else; the
//! sidecar's widget route answers the app's own pages (a token for alice, 401 signed
//! out) and refuses any other, without CORS headers; the mock portal takes the token
//! from the app's origin only and checks it with the chat's own secret.

use crate::support;

use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use support::demo::{
    Browser, Demo, Page, decode_unverified, now, query_value, sign_in_through_kustomer,
};

const WIDGET: &str = "/sso/widget/kustomer-chat";
const SAME_ORIGIN: (&str, &str) = ("sec-fetch-site", "same-origin");

/// The names of the `access-control-*` headers of `page`.
fn cors_headers(page: &Page) -> Vec<String> {
    page.headers
        .keys()
        .map(ToString::to_string)
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

/// The app page's fetch of the widget route, with the browser's cookies.
async fn fetch_widget(demo: &Demo, browser: &mut Browser) -> Page {
    browser
        .fetch(Method::GET, &demo.app(WIDGET), &[SAME_ORIGIN], None)
        .await
}

/// The chat script's hand-over of `token` to the mock portal, from `origin`.
async fn chat_login(demo: &Demo, origin: &str, body: &Value) -> Page {
    Browser::new()
        .fetch(
            Method::POST,
            &demo.kustomer("/chat/login"),
            &[("origin", origin)],
            Some(body),
        )
        .await
}

/// The browser's preflight of the script's JSON POST to the mock portal, from `origin`.
async fn preflight(demo: &Demo, origin: &str) -> Page {
    Browser::new()
        .fetch(
            Method::OPTIONS,
            &demo.kustomer("/chat/login"),
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            None,
        )
        .await
}

#[tokio::test]
async fn the_apps_pages_load_the_chat_script_and_allow_nothing_else() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();
    let chat = demo.kustomer("");

    for path in ["/", "/login"] {
        let page = browser.get(&demo.app(path)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(
            page.headers[header::CONTENT_SECURITY_POLICY],
            format!(
                "default-src 'none'; style-src 'unsafe-inline'; script-src {chat}; \
                 connect-src 'self' {chat}"
            ),
            "{path}"
        );
        let script = format!(
            "<script src=\"{chat}/chat.js\" data-token-url=\"{WIDGET}\" \
             data-status=\"chat-status\"></script>"
        );
        assert!(page.body.contains(&script), "{path}: {}", page.body);
        assert!(page.body.contains("<strong id=\"chat-status\">"), "{path}");
    }

    let script = browser.get(&demo.kustomer("/chat.js")).await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(
        script.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(script.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    for expected in [
        "fetch(script.dataset.tokenUrl, { credentials: 'same-origin' })",
        "fetch(`${chat}/chat/login`",
        "credentials: 'omit'",
        "show('Chat: anonymous')",
        "show(`Chat: signed in as ${result.email}`)",
    ] {
        assert!(
            script.body.contains(expected),
            "{expected} not in the script"
        );
    }
    demo.stop().await;
}

#[tokio::test]
async fn the_widget_route_answers_the_apps_own_pages_through_the_demo() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();

    // Signed out: 401, and the chat stays anonymous.
    let signed_out = fetch_widget(&demo, &mut browser).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
    assert_eq!(signed_out.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(signed_out.body, r#"{"error":"signed_out"}"#);
    assert_eq!(cors_headers(&signed_out), Vec::<String>::new());

    // Signed in: alice's Kustomer Chat token, for 600 seconds.
    let logged_in = browser.log_in_as_alice(&demo, "/").await;
    assert_eq!(logged_in.status, StatusCode::SEE_OTHER);
    let answer = fetch_widget(&demo, &mut browser).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(answer.headers[header::VARY], "Cookie");
    assert_eq!(cors_headers(&answer), Vec::<String>::new());
    let answer: Value = serde_json::from_str(&answer.body).unwrap();
    let token = answer["token"].as_str().unwrap();
    let (head, claims) = decode_unverified(token);
    assert_eq!(head, json!({"alg": "HS256", "typ": "JWT"}));
    let iat = claims["iat"].as_i64().unwrap();
    assert!((now() - iat).abs() <= 5, "{claims}");
    assert_eq!(claims, json!({"email": "alice@example.com", "iat": iat}));
    assert_eq!(answer["expires_at"].as_i64(), Some(iat + 600));

    // The mock Kustomer Chat takes it from the app's origin, and says whom it names.
    let app = demo.app("");
    let chat = chat_login(&demo, &app, &json!({ "jwtToken": token })).await;
    assert_eq!(chat.status, StatusCode::OK, "{}", chat.body);
    assert_eq!(
        chat.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        app.as_str()
    );
    assert!(
        !chat
            .headers
            .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
    );
    assert_eq!(
        serde_json::from_str::<Value>(&chat.body).unwrap(),
        json!({"email": "alice@example.com"})
    );

    // Another page (no Sec-Fetch-Site: same-origin, or none and a foreign Origin, or no
    // Origin at all) gets nothing signed, and no CORS header lets it read the refusal.
    let foreign = format!("http://localhost:{}", demo.port + 1);
    for headers in [
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", foreign.as_str()),
        ],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", foreign.as_str())],
        vec![],
    ] {
        let refused = browser
            .fetch(Method::GET, &demo.app(WIDGET), &headers, None)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(refused.body, r#"{"error":"cross_site"}"#, "{headers:?}");
        assert_eq!(cors_headers(&refused), Vec::<String>::new(), "{headers:?}");
    }

    let (_, _, events) = support::get(&demo.admin("/events"), None).await;
    let events: Vec<Value> = serde_json::from_slice(&events).unwrap();
    let widget_events: Vec<(&str, &str)> = events
        .iter()
        .rev()
        .filter(|event| event["path"] == WIDGET)
        .map(|event| {
            (
                event["event"].as_str().unwrap(),
                event["reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        widget_events,
        [
            ("widget_refused", "signed_out"),
            ("widget_token_issued", ""),
            ("widget_refused", "cross_site"),
            ("widget_refused", "cross_site"),
            ("widget_refused", "cross_site"),
            ("widget_refused", "cross_site"),
        ]
    );
    demo.stop().await;
}

#[tokio::test]
async fn the_mock_chat_lets_only_the_app_read_it_and_checks_with_its_own_secret() {
    let demo = Demo::start().await;
    let app = demo.app("");
    let mut browser = Browser::new();

    // CORS: the preflight of the script's JSON POST is allowed for the app's origin only.
    let allowed = preflight(&demo, &app).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        app.as_str()
    );
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_METHODS],
        "POST"
    );
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_HEADERS],
        "content-type"
    );
    let other = format!("http://localhost:{}", demo.port);
    let refused = preflight(&demo, &other).await;
    assert!(
        !refused
            .headers
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );

    // A token the sidecar signed for alice, then changed to name mallory.
    browser.log_in_as_alice(&demo, "/").await;
    let answer = fetch_widget(&demo, &mut browser).await;
    let answer: Value = serde_json::from_str(&answer.body).unwrap();
    let token = answer["token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!(r#"{{"email":"mallory@example.com","iat":{}}}"#, now()),
    );
    let forged = format!("{}.{forged}.{}", parts[0], parts[2]);

    // The knowledge base's token has the same claims, but is signed with the portal's
    // secret, not the chat's: the chat refuses it too.
    let mut portal_browser = Browser::new();
    let portal = sign_in_through_kustomer(&demo, &mut portal_browser).await;
    let external = query_value(portal.url.as_str(), "externalToken").unwrap();
    let (_, external_claims) = decode_unverified(&external);
    assert_eq!(external_claims["email"], "alice@example.com");

    for (token, why) in [
        (forged.as_str(), "signature is invalid"),
        (external.as_str(), "not signed with this chat's secret"),
        ("not-a-token", "three parts"),
    ] {
        let refused = chat_login(&demo, &app, &json!({ "jwtToken": token })).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{why}");
        let error: Value = serde_json::from_str(&refused.body).unwrap();
        let error = error["error"].as_str().unwrap();
        assert!(error.contains(why), "{why}: {error}");
        assert!(!error.contains("eyJ"), "no token in the answer: {error}");
        assert!(!error.contains("mallory"), "{error}");
    }
    let malformed = chat_login(&demo, &app, &json!({ "token": "x" })).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    // The real thing still passes, from any page: the token is the proof; only the app's
    // origin may read the answer.
    let from_other = chat_login(&demo, &other, &json!({ "jwtToken": token })).await;
    assert_eq!(from_other.status, StatusCode::OK);
    assert!(
        !from_other
            .headers
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
    demo.stop().await;
}
