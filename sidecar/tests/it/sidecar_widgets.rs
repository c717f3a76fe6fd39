//! In-app widgets served by the real binary: `[[widget]]` entries for every preset and
//! both custom kinds, each value verified as its vendor reads it (the JWT with the
//! configured key, header and claims whole; the HMAC recomputed), signed out answered 401
//! JSON, and forged cross-site requests (raw, as curl sends them) refused with nothing
//! signed, counted and listed by the admin port, and no value in the log.

use crate::support;

use http::{StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Value, json};
use support::presets::{alice, now, preset_config};
use support::widgets::*;
use support::*;

/// The test app behind a sidecar with every widget, and the directory of its secret file.
async fn start() -> (Upstream, Sidecar, TempDir) {
    start_with("").await
}

/// [`start`], with `top` added to the config's top level.
async fn start_with(top: &str) -> (Upstream, Sidecar, TempDir) {
    let upstream = Upstream::start().await;
    let dir = TempDir::new();
    let beacon = dir.write("beacon-secret", &format!("{BEACON_SECRET}\n"));
    let config = preset_config(&upstream, CLAIMS, &widgets(beacon.to_str().unwrap())).replace(
        "listen = \"127.0.0.1:0\"\n",
        &format!("listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n{top}\n"),
    );
    let sidecar = Sidecar::start_with_env(&config, &env());
    (upstream, sidecar, dir)
}

/// `GET path` from alice's own page (`Sec-Fetch-Site: same-origin`): the JSON answer,
/// its status and protective headers checked.
async fn from_page(sidecar: &Sidecar, path: &str) -> serde_json::Map<String, Value> {
    let request = http::Request::get(sidecar.url(path))
        .header(header::COOKIE, alice())
        .header("sec-fetch-site", "same-origin")
        .body(empty())
        .unwrap();
    let (status, headers, body) = send(request).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(headers[header::VARY], "Cookie");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-")),
        "{headers:?}"
    );
    match serde_json::from_slice(&body).unwrap() {
        Value::Object(answer) => answer,
        other => panic!("{path}: {other}"),
    }
}

/// A JWT answer's token, verified under `alg` with `key`: its header and claims, and the
/// answer's `expires_at`.
fn verified(
    answer: &serde_json::Map<String, Value>,
    alg: Algorithm,
    key: &[u8],
) -> (Value, Value, u64) {
    let mut names: Vec<&str> = answer.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["expires_at", "token"]);
    let token = answer["token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(key), &validation)
        .expect("the token verifies with the configured key")
        .claims;
    (
        serde_json::to_value(header).unwrap(),
        claims,
        answer["expires_at"].as_u64().unwrap(),
    )
}

/// Asserts `value` is an integer within five of `expected`.
fn near(value: &Value, expected: u64) -> u64 {
    let got = value
        .as_u64()
        .unwrap_or_else(|| panic!("{value} is not an integer"));
    assert!(got.abs_diff(expected) <= 5, "{got} is not near {expected}");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_widget_answers_its_value_verified_with_the_configured_key() {
    let (_upstream, sidecar, _dir) = start().await;
    let hs256 = json!({"typ": "JWT", "alg": "HS256"});

    let (header, claims, expires_at) = verified(
        &from_page(&sidecar, "/sso/widget/kustomer-chat").await,
        Algorithm::HS256,
        CHAT_SECRET.as_bytes(),
    );
    assert_eq!(strip_nulls(header), hs256);
    let iat = near(&claims["iat"], now());
    assert_eq!(
        claims,
        json!({"email": "alice@example.com", "externalId": "42", "iat": iat})
    );
    assert_eq!(expires_at, iat + 600);

    let (header, claims, expires_at) = verified(
        &from_page(&sidecar, "/sso/widget/zendesk-messaging").await,
        Algorithm::HS256,
        MESSAGING_SECRET.as_bytes(),
    );
    assert_eq!(
        strip_nulls(header),
        json!({"typ": "JWT", "alg": "HS256", "kid": MESSAGING_KID})
    );
    near(&claims["exp"], now() + 300);
    assert_eq!(
        claims,
        json!({"scope": "user", "external_id": "42", "email": "alice@example.com",
               "email_verified": true, "name": "Alice Liddell", "exp": expires_at})
    );

    let (header, claims, expires_at) = verified(
        &from_page(&sidecar, "/sso/widget/intercom").await,
        Algorithm::HS256,
        INTERCOM_SECRET.as_bytes(),
    );
    assert_eq!(strip_nulls(header), hs256);
    near(&claims["exp"], now() + 3600);
    assert_eq!(
        claims,
        json!({"user_id": "42", "email": "alice@example.com", "exp": expires_at})
    );

    let (_, claims, expires_at) = verified(
        &from_page(&sidecar, "/sso/widget/canny-widget").await,
        Algorithm::HS256,
        CANNY_SECRET.as_bytes(),
    );
    assert_eq!(
        claims,
        json!({"email": "alice@example.com", "id": "42", "name": "Alice Liddell",
               "avatarURL": "https://cdn.acme.example/alice.png", "exp": expires_at})
    );

    let (header, claims, expires_at) = verified(
        &from_page(&sidecar, "/sso/widget/chat").await,
        Algorithm::HS384,
        CRISP_SECRET.as_bytes(),
    );
    assert_eq!(strip_nulls(header), json!({"typ": "JWT", "alg": "HS384"}));
    near(&claims["exp"], now() + 120);
    assert_eq!(claims["exp"], expires_at);
    assert_eq!(claims["sub"], "42");
    let ms = claims["iat_ms"].as_u64().unwrap();
    assert!(ms.abs_diff(now() * 1000) <= 5000, "{ms} is in milliseconds");

    for (path, secret, answered, signed) in [
        (
            "/sso/widget/helpscout-beacon",
            BEACON_SECRET,
            "email",
            "alice@example.com",
        ),
        (
            "/sso/widget/front-chat",
            FRONT_SECRET,
            "email",
            "alice@example.com",
        ),
        (
            "/sso/widget/crisp",
            CRISP_SECRET,
            "email",
            "alice@example.com",
        ),
        (
            "/sso/widget/intercom-hmac",
            INTERCOM_SECRET,
            "user_id",
            "42",
        ),
        ("/sso/widget/by-id", FRONT_SECRET, "user_id", "42"),
    ] {
        let answer = from_page(&sidecar, path).await;
        assert_eq!(answer.len(), 2, "{path}: {answer:?}");
        assert_eq!(answer[answered], signed, "{path}");
        assert_eq!(answer["signature"], hmac_hex(secret, signed), "{path}");
    }

    let log = sidecar.log_once_it_has("widget_token_issued", std::time::Duration::from_secs(2));
    assert!(log.contains("widget_token_issued"), "{log}");
    assert!(
        !log.contains(&hmac_hex(BEACON_SECRET, "alice@example.com")),
        "{log}"
    );
    assert!(!log.contains("eyJ"), "a token in the log:\n{log}");
}

/// `header` without the `null` fields `jsonwebtoken` writes for absent ones.
fn strip_nulls(header: Value) -> Value {
    match header {
        Value::Object(fields) => {
            Value::Object(fields.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_the_page_gets_401_json_and_no_redirect() {
    let (_upstream, sidecar, _dir) = start().await;
    for path in ["/sso/widget/kustomer-chat", "/sso/widget/helpscout-beacon"] {
        let head = format!(
            "GET {path} HTTP/1.1\nHost: {}\nSec-Fetch-Site: same-origin\nCookie: sid=expired-session",
            sidecar.addr
        );
        let reply = raw(sidecar.addr, &head).await;
        assert_eq!(reply.status, 401, "{path}: {}", reply.body);
        assert_eq!(reply.body, r#"{"error":"signed_out"}"#);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.header("location"), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_cross_site_requests_are_refused_and_nothing_is_signed() {
    let (upstream, sidecar, _dir) = start().await;
    let own = format!("http://{}", sidecar.addr);
    let cookie = alice();
    let path = "/sso/widget/kustomer-chat";
    let me_calls = || upstream.me_calls.load(std::sync::atomic::Ordering::SeqCst);
    for extra in [
        "Sec-Fetch-Site: cross-site\nOrigin: https://evil.example".to_owned(),
        "Sec-Fetch-Site: same-site\nOrigin: http://blog.127.0.0.1.nip.io".to_owned(),
        "Sec-Fetch-Site: none".to_owned(),
        "Sec-Fetch-Site: cross-site\nSec-Fetch-Site: same-origin".to_owned(),
        "Origin: https://evil.example".to_owned(),
        "Origin: null".to_owned(),
        "Referer: https://evil.example/page".to_owned(),
        format!("Origin: {own}.evil.example"),
        // Forwarding headers from a peer that is not a trusted proxy name nothing.
        "X-Forwarded-Host: evil.example\nOrigin: http://evil.example".to_owned(),
        String::new(),
    ] {
        let head = format!(
            "GET {path} HTTP/1.1\nHost: {}\nCookie: {cookie}\n{extra}",
            sidecar.addr
        );
        let reply = raw(sidecar.addr, &head).await;
        assert_eq!(reply.status, 403, "{extra}: {}", reply.body);
        assert_eq!(reply.body, r#"{"error":"cross_site"}"#, "{extra}");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("vary"), Some("Cookie"));
        assert!(
            reply
                .headers
                .iter()
                .all(|(name, _)| !name.starts_with("access-control-")),
            "{:?}",
            reply.headers
        );
    }
    assert_eq!(
        me_calls(),
        0,
        "nobody was looked up for a cross-site request"
    );
    // The same forgery tools can send what the app's own page sends: that passes.
    for extra in [
        "Sec-Fetch-Site: same-origin".to_owned(),
        format!("Origin: {own}"),
    ] {
        let head = format!(
            "GET {path} HTTP/1.1\nHost: {}\nCookie: {cookie}\n{extra}",
            sidecar.addr
        );
        let reply = raw(sidecar.addr, &head).await;
        assert_eq!(reply.status, 200, "{extra}: {}", reply.body);
    }

    let (_, _, metrics) = get(&sidecar.admin_url("/metrics"), None).await;
    let metrics = String::from_utf8(metrics.to_vec()).unwrap();
    for line in [
        "portal_sso_events_total{event=\"widget_refused\",portal=\"kustomer-chat\"} 10",
        "portal_sso_events_total{event=\"widget_token_issued\",portal=\"kustomer-chat\"} 2",
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
    let (_, _, events) = get(&sidecar.admin_url("/events"), None).await;
    let events: Value = serde_json::from_slice(&events).unwrap();
    let refused: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["event"] == "widget_refused")
        .collect();
    assert_eq!(refused.len(), 10);
    assert!(
        refused.iter().all(|event| event["reason"] == "cross_site"),
        "{refused:?}"
    );
    assert!(
        refused
            .iter()
            .any(|event| event["target_origin"] == "https://evil.example")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_its_forwarded_origin_is_the_apps_own() {
    let (_upstream, sidecar, _dir) = start_with("trusted_proxies = [\"127.0.0.1/32\"]").await;
    let head = |origin: &str| {
        format!(
            "GET /sso/widget/crisp HTTP/1.1\nHost: {}\nCookie: {}\nX-Forwarded-Proto: https\n\
             X-Forwarded-Host: app.example\nOrigin: {origin}",
            sidecar.addr,
            alice()
        )
    };
    assert_eq!(
        raw(sidecar.addr, &head("https://app.example")).await.status,
        200
    );
    let own = format!("http://{}", sidecar.addr);
    assert_eq!(raw(sidecar.addr, &head(&own)).await.status, 403);
}
