//! An attack class on identity fields, found by a hostile review of the layer: invisible
//! and look-alike characters in the email or names that would make one account pass for
//! another on the portal are refused, and the page and the event say which field.

use crate::common;

use common::*;
use http::StatusCode;
use http::request::Parts;
use portal_sso::{EventKind, Identity, SsoLayer};

/// Characters that make one account look like another on the portal.
const INVISIBLE: &[char] = &[
    '\u{200B}',
    '\u{00AD}',
    '\u{202E}',
    '\u{2067}',
    '\u{FEFF}',
    '\u{2060}',
    '\u{E0041}',
];

// Class 5: what the redirect check refuses in a URL is refused in every identity field
// that goes into a claim, and the page and the event say which field.
#[tokio::test]
async fn class5_invisible_characters_in_identity_fields_are_refused() {
    for &c in INVISIBLE {
        assert!(
            Identity::new(format!("alice{c}@example.com")).is_err(),
            "{c:?}"
        );
        for (field, first, last) in [
            ("first_name", format!("Ali{c}ce"), "Liddell".to_owned()),
            ("last_name", "Alice".to_owned(), format!("{c}Liddell")),
        ] {
            let counts = Counts::default();
            let recorder = Recorder::default();
            let app = app(SsoLayer::builder()
                .with_identity(move |_: &Parts| {
                    let (first, last) = (first.clone(), last.clone());
                    async move {
                        Ok(Some(
                            Identity::new("alice@example.com")?
                                .with_first_name(first)
                                .with_last_name(last),
                        ))
                    }
                })
                .with_observer(recorder.observer())
                .with_portal(aha_portal()));
            let reply = send(&app, get_req("/sso/aha")).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{field} {c:?}");
            assert!(!reply.has_location());
            let words = field.replace('_', " ");
            assert!(reply.text().contains(&words), "{}", reply.text());
            let events = recorder.take();
            assert_eq!(events[0].kind, EventKind::IdentityRejected);
            let reason = events[0].reason.as_deref().unwrap();
            assert!(reason.starts_with(field), "{reason}");
            assert_eq!(counts.tokens_issued(), 0);
        }
    }

    // An email from a session source: the page names the email address.
    let recorder = Recorder::default();
    let email_app = app(SsoLayer::builder()
        .with_identity(|_: &Parts| async { Ok(Some(Identity::new("ali\u{200B}ce@example.com")?)) })
        .with_observer(recorder.observer())
        .with_portal(kustomer_portal()));
    let reply = send(&email_app, get_req("/sso/kustomer")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().contains("email address"), "{}", reply.text());
    assert!(
        recorder.take()[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("email")
    );

    // Names with plain spaces and accents are people's names.
    let names_app = app(SsoLayer::builder()
        .with_identity(|_: &Parts| async {
            Ok(Some(
                Identity::new("zoe@example.com")?
                    .with_first_name("Zoë Anne")
                    .with_last_name("O'Brien-Łukasiewicz"),
            ))
        })
        .with_portal(aha_portal()));
    let reply = send(&names_app, get_req("/sso/aha")).await;
    let claims = verify(&token_in(reply.location(), "jwt"), AHA_SECRET).unwrap();
    assert_eq!(claims["first_name"], "Zoë Anne");
}
