//! Hostile ID tokens from a fake IdP: each is refused, no portal token is signed, and the
//! `oidc_refused` event says why.

use crate::support::fake_idp::{self, FakeIdp, KID};
use crate::support::oidc::{self, Browser, CLIENT_ID};
use crate::support::*;

use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A sidecar signing in through a fake IdP.
struct Setup {
    idp: FakeIdp,
    sidecar: Sidecar,
}

async fn setup() -> Setup {
    let idp = FakeIdp::start().await;
    let listen = free_addr();
    let sidecar = Sidecar::start_with_env(
        &oidc::config(listen, &idp.issuer, CLIENT_ID, ""),
        &oidc::env(),
    );
    Setup { idp, sidecar }
}

/// Starts a sign-in in `browser`: the authorization URL the sidecar sent it to.
async fn start(browser: &mut Browser, sidecar: &Sidecar) -> String {
    let (status, headers, _) = browser
        .get(&sidecar.url("/sso/oidc/login?next=%2Fsso%2Faha"))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    location(&headers)
}

/// The callback URL for the sign-in `auth` started.
fn callback(sidecar: &Sidecar, auth: &str) -> String {
    let state = query_param(auth, "state").unwrap();
    sidecar.url(&format!("/sso/oidc/callback?code=the-code&state={state}"))
}

/// Asserts the answer refused the sign-in with `reason`: a 403 or 400, no session
/// cookie, the event logged and counted, and `/sso/aha` still sends the browser to sign in.
async fn assert_refused(setup: &Setup, browser: &mut Browser, answer: &oidc::Answer, reason: &str) {
    let (status, headers, body) = answer;
    assert!(
        *status == StatusCode::FORBIDDEN || *status == StatusCode::BAD_REQUEST,
        "{reason}: {status} {}",
        String::from_utf8_lossy(body)
    );
    for set in headers.get_all(http::header::SET_COOKIE) {
        let set = set.to_str().unwrap();
        assert!(!set.starts_with("portal_sso_session="), "{reason}: {set}");
    }
    assert!(
        !browser.cookies.contains_key("portal_sso_session"),
        "{reason}"
    );
    let (status, headers, _) = browser.get(&setup.sidecar.url("/sso/aha")).await;
    assert_eq!(status, StatusCode::FOUND, "{reason}");
    assert!(
        location(&headers).starts_with("/sso/oidc/login?next="),
        "{reason}: no token signed"
    );
    let log = setup.sidecar.log_once_it_has(
        &format!("reason=\"{reason}\""),
        std::time::Duration::from_secs(5),
    );
    assert!(
        log.contains("oidc_refused") && log.contains(&format!("reason=\"{reason}\"")),
        "{reason}: {log}"
    );
    let metrics = browser.get(&setup.sidecar.admin_url("/metrics")).await.2;
    let metrics = String::from_utf8_lossy(&metrics);
    let counted = format!("reason=\"{reason}\"}} 1");
    assert!(
        metrics.lines().any(|line| {
            line.starts_with("portal_sso_oidc_events_total{event=\"oidc_refused\"")
                && line.ends_with(&counted)
        }),
        "{reason}: {metrics}"
    );
    assert!(
        !metrics.contains("portal_sso_tokens_issued_total{"),
        "{reason}: a token was signed: {metrics}"
    );
    assert!(
        !log.contains("fake-access-token") && !log.contains("the-code"),
        "{log}"
    );
}

/// Runs one sign-in whose ID token `forge` makes from the usual claims and the nonce.
async fn refused_token(forge: impl FnOnce(&FakeIdp, Value) -> String, reason: &str) -> Setup {
    let setup = setup().await;
    let mut browser = Browser::default();
    let auth = start(&mut browser, &setup.sidecar).await;
    let nonce = query_param(&auth, "nonce").unwrap();
    let claims = setup.idp.claims(&nonce);
    setup.idp.hand_out(&forge(&setup.idp, claims));
    let answer = browser.get(&callback(&setup.sidecar, &auth)).await;
    assert_refused(&setup, &mut browser, &answer, reason).await;
    setup
}

#[tokio::test]
async fn a_well_formed_token_signs_in_with_pkce_s256() {
    let setup = setup().await;
    let mut browser = Browser::default();
    let auth = start(&mut browser, &setup.sidecar).await;
    let claims = setup.idp.claims(&query_param(&auth, "nonce").unwrap());
    setup.idp.hand_out(&fake_idp::rs256(&claims, KID));
    let (status, headers, _) = browser.get(&callback(&setup.sidecar, &auth)).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), "/sso/aha");
    assert!(browser.cookies.contains_key("portal_sso_session"));
    // PKCE S256: the verifier sent to the token endpoint hashes to the challenge sent.
    assert_eq!(
        query_param(&auth, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let form = setup.idp.state.last_token_form.lock().unwrap().clone();
    let verifier = form
        .iter()
        .find(|(k, _)| k == "code_verifier")
        .unwrap()
        .1
        .clone();
    let hashed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    assert_eq!(query_param(&auth, "code_challenge"), Some(hashed));
    let (status, headers, _) = browser.get(&setup.sidecar.url("/sso/aha")).await;
    assert_eq!(status, StatusCode::FOUND);
    let token = query_param(&location(&headers), "jwt").unwrap();
    let claims = decode(&token, AHA_SECRET);
    assert_eq!(claims["email"], "alice@acme.test");
    assert_eq!(claims["first_name"], "Alice");
}

#[tokio::test]
async fn alg_none_is_refused() {
    refused_token(
        |_, claims| fake_idp::unsigned(&claims),
        "id_token_algorithm",
    )
    .await;
}

#[tokio::test]
async fn hs256_keyed_with_the_client_secret_is_refused() {
    refused_token(
        |_, claims| fake_idp::hs256(&claims, fake_idp::SECRET.as_bytes()),
        "id_token_algorithm",
    )
    .await;
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_is_refused() {
    refused_token(
        |_, claims| fake_idp::hs256(&claims, &fake_idp::public_pem()),
        "id_token_algorithm",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    refused_token(
        |_, mut claims| {
            claims["iss"] = json!("https://evil.example");
            fake_idp::rs256(&claims, KID)
        },
        "id_token_issuer",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    refused_token(
        |_, mut claims| {
            claims["aud"] = json!("another-client");
            fake_idp::rs256(&claims, KID)
        },
        "id_token_audience",
    )
    .await;
}

#[tokio::test]
async fn an_authorized_party_other_than_this_client_is_refused() {
    refused_token(
        |_, mut claims| {
            claims["azp"] = json!("another-client");
            fake_idp::rs256(&claims, KID)
        },
        "id_token_audience",
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    refused_token(
        |_, mut claims| {
            claims["iat"] = json!(fake_idp::now() - 1200);
            claims["exp"] = json!(fake_idp::now() - 600);
            fake_idp::rs256(&claims, KID)
        },
        "id_token_expired",
    )
    .await;
}

#[tokio::test]
async fn a_nonce_mismatch_is_refused() {
    refused_token(
        |_, mut claims| {
            claims["nonce"] = json!("another-sign-ins-nonce");
            fake_idp::rs256(&claims, KID)
        },
        "id_token_nonce",
    )
    .await;
}

#[tokio::test]
async fn a_kid_not_in_the_key_set_is_refused_after_one_refetch() {
    let setup = refused_token(
        |_, claims| fake_idp::rs256(&claims, "not-in-the-key-set"),
        "id_token_unknown_key",
    )
    .await;
    let fetches = setup
        .idp
        .state
        .jwks_fetches
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        fetches, 2,
        "discovery's fetch and one more for the unknown kid"
    );
    // A second unknown kid within the minute fetches nothing more.
    let mut browser = Browser::default();
    let auth = start(&mut browser, &setup.sidecar).await;
    let claims = setup.idp.claims(&query_param(&auth, "nonce").unwrap());
    setup
        .idp
        .hand_out(&fake_idp::rs256(&claims, "still-not-there"));
    let (status, _, _) = browser.get(&callback(&setup.sidecar, &auth)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        setup
            .idp
            .state
            .jwks_fetches
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[tokio::test]
async fn a_token_replayed_on_a_second_callback_is_refused() {
    let setup = setup().await;
    let mut browser = Browser::default();
    let auth = start(&mut browser, &setup.sidecar).await;
    let claims = setup.idp.claims(&query_param(&auth, "nonce").unwrap());
    setup.idp.hand_out(&fake_idp::rs256(&claims, KID));
    let first = callback(&setup.sidecar, &auth);
    let state_cookie: Vec<(String, String)> = browser
        .cookies
        .iter()
        .filter(|(name, _)| name.starts_with("portal_sso_oidc_"))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    assert_eq!(browser.get(&first).await.0, StatusCode::FOUND);
    // The same token, handed to a new sign-in in another browser: its nonce is not this one's.
    let mut other = Browser::default();
    let auth = start(&mut other, &setup.sidecar).await;
    let answer = other.get(&callback(&setup.sidecar, &auth)).await;
    assert_refused(&setup, &mut other, &answer, "id_token_nonce").await;
    // The first callback again, with a copy of its state cookie: the state is spent.
    let mut replay = Browser::default();
    replay.cookies.extend(state_cookie);
    let answer = replay.get(&first).await;
    assert_eq!(answer.0, StatusCode::BAD_REQUEST);
    let log = setup
        .sidecar
        .log_once_it_has("state_replayed", std::time::Duration::from_secs(5));
    assert!(log.contains("reason=\"state_replayed\""), "{log}");
}

#[tokio::test]
async fn a_callback_with_another_browsers_state_gets_a_400_that_starts_over() {
    let setup = setup().await;
    let mut victim = Browser::default();
    let auth = start(&mut victim, &setup.sidecar).await;
    let claims = setup.idp.claims(&query_param(&auth, "nonce").unwrap());
    setup.idp.hand_out(&fake_idp::rs256(&claims, KID));
    let mut attacker = Browser::default();
    let answer = attacker.get(&callback(&setup.sidecar, &auth)).await;
    let page = String::from_utf8_lossy(&answer.2).into_owned();
    assert!(
        page.contains("href=\"/sso/oidc/login\""),
        "a link that starts over: {page}"
    );
    assert_refused(&setup, &mut attacker, &answer, "state_unknown").await;
    assert_eq!(
        setup
            .idp
            .state
            .token_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}
