//! Attack classes on return addresses, found by a hostile review of the layer: a target
//! that already carries the token parameter, `return_to` with dot segments, and wildcard
//! origins given labels with other characters. What the browser is sent (status,
//! `Location`, the event's reason) in each case.

use crate::common;

use common::*;
use http::StatusCode;
use http::request::Parts;
use portal_sso::{EventKind, JwtPortal, Secret, SsoLayer};

/// Kustomer targets whose query or fragment already holds something a common parser
/// reads as `externalToken`.
const POLLUTED_TARGETS: &[&str] = &[
    "https://acme.kustomer.help/login?externalToken=planted",
    "https://acme.kustomer.help/login?externalToken[]=planted",
    "https://acme.kustomer.help/login?externalToken[0]=planted",
    "https://acme.kustomer.help/login?externalToken%5B%5D=planted",
    "https://acme.kustomer.help/login?ExternalToken=planted",
    "https://acme.kustomer.help/login?a=1;externalToken=planted",
    "https://acme.kustomer.help/login?externalToken%00=planted",
    "https://acme.kustomer.help/login?externalToken%20=planted",
    "https://acme.kustomer.help/login?%65xternalToken=planted",
    "https://acme.kustomer.help/login?r=1#externalToken=planted",
];

// Class 4: the layer adds `externalToken`; a target already carrying one in any spelling
// is refused, so a planted token cannot be the one the portal reads (login CSRF).
#[tokio::test]
async fn class4_a_target_that_already_carries_the_token_parameter_is_refused() {
    let counts = Counts::default();
    let recorder = Recorder::default();
    let app = app(counts
        .builder()
        .with_observer(recorder.observer())
        .with_portal(kustomer_portal()));
    for target in POLLUTED_TARGETS {
        let escaped =
            percent_encoding::utf8_percent_encode(target, percent_encoding::NON_ALPHANUMERIC);
        // Sent unescaped, a `#` would end the request's own query: only escaped there.
        let raw = Some(target.to_string()).filter(|t| !t.contains('#'));
        for sent in raw.into_iter().chain([escaped.to_string()]) {
            let reply = send(
                &app,
                get_req(&format!("/sso/kustomer?kustomerRedirectUri={sent}")),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{sent}: {}",
                reply.text()
            );
            assert!(!reply.has_location(), "{sent}");
            assert!(reply.text().contains("externalToken"), "{}", reply.text());
            let events = recorder.take();
            assert_eq!(events[0].kind, EventKind::RedirectRejected, "{sent}");
            assert_eq!(
                events[0].reason.as_deref(),
                Some("target_carries_externalToken")
            );
        }
    }
    assert_eq!(counts.tokens_issued(), 0);
    assert_eq!(
        counts.identity_calls(),
        0,
        "refused before anyone is looked up"
    );

    // Names that only look alike are not the parameter.
    let reply = send(
        &app,
        get_req(
            "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login?externalTokens=1",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND);
}

#[test]
fn class4_configured_addresses_that_carry_an_added_parameter_are_refused() {
    for callback in [
        "https://acme.aha.site/auth/jwt/callback?jwt=x",
        "https://acme.aha.site/auth/jwt/callback?JWT[]=x",
        "https://acme.aha.site/auth/jwt/callback?state=x",
        "https://acme.aha.site/auth/jwt/callback?return.to=/x",
        "https://acme.aha.site/auth/jwt/callback?a=1;return_to=/x",
    ] {
        let error = SsoLayer::builder()
            .with_identity(|_: &Parts| async { Ok(None) })
            .with_portal(JwtPortal::aha(Secret::new(AHA_SECRET), callback))
            .build()
            .expect_err(callback);
        assert_eq!(error.field(), "portals[0].callback_url", "{callback}");
    }
    let error = SsoLayer::builder()
        .with_identity(|_: &Parts| async { Ok(None) })
        .with_portal(
            JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
                .with_redirect_origins([KUSTOMER_ORIGIN])
                .with_default_redirect("https://acme.kustomer.help/login?externalToken[]=x"),
        )
        .build()
        .expect_err("polluted default");
    assert_eq!(error.field(), "portals[0].default_redirect");
}

// Class 6: `return_to` that becomes `//evil.com` once dot segments are removed is dropped.
#[tokio::test]
async fn class6_return_to_with_dot_segments_is_dropped() {
    let users = Users::default();
    let recorder = Recorder::default();
    let app = app(builder(&users).with_observer(recorder.observer()));
    for &return_to in attacks::DOT_SEGMENT_PATHS {
        let escaped =
            percent_encoding::utf8_percent_encode(return_to, percent_encoding::NON_ALPHANUMERIC);
        for sent in [
            return_to.replace('\u{200B}', "%E2%80%8B"),
            escaped.to_string(),
        ] {
            let reply = send(
                &app,
                get_as(&format!("/sso/aha?state=s1&return_to={sent}"), ALICE_SID),
            )
            .await;
            assert_eq!(reply.status, StatusCode::FOUND, "{sent}");
            assert!(
                reply.location().starts_with(AHA_CALLBACK),
                "{}",
                reply.location()
            );
            assert!(
                reply.location_params("return_to").is_empty(),
                "{sent}: {}",
                reply.location()
            );
            assert_eq!(reply.location_param("state"), "s1");
            let events = recorder.take();
            assert_eq!(events[0].kind, EventKind::TokenIssued);
            assert_eq!(
                events[0].reason.as_deref(),
                Some("return_to_dropped"),
                "{sent}"
            );
        }
    }
    // A plain path is still passed on.
    let reply = send(
        &app,
        get_as("/sso/aha?return_to=/ideas/APP-I-469", ALICE_SID),
    )
    .await;
    assert_eq!(reply.location_param("return_to"), "/ideas/APP-I-469");
}

// Wildcard origins match whole labels of letters, digits and hyphens only.
#[tokio::test]
async fn wildcard_origins_match_only_labels_of_letters_digits_and_hyphens() {
    let counts = Counts::default();
    let app = app(counts.builder().with_portal(
        JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
            .with_redirect_origins(["https://*.kustomer.help"]),
    ));
    for target in [
        "https://a_b.kustomer.help/login",
        "https://a!b.kustomer.help/login",
        "https://a$b.kustomer.help/login",
        "https://evil.com&.kustomer.help/login",
        "https://evil.com'.kustomer.help/login",
        "https://a=b.kustomer.help/login",
    ] {
        let reply = send(
            &app,
            get_req(&format!("/sso/kustomer?kustomerRedirectUri={target}")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{target}");
    }
    for target in [
        "https://acme.kustomer.help/login",
        "https://eu-1.acme.kustomer.help/",
    ] {
        let reply = send(
            &app,
            get_req(&format!("/sso/kustomer?kustomerRedirectUri={target}")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FOUND, "{target}");
        assert!(reply.location().starts_with(target));
    }
    assert_eq!(counts.tokens_issued(), 2);
}
