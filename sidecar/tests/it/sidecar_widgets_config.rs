//! In-app widgets in the binary's tools: `check-config` on the widget example and on a
//! widget whose identity field the session cannot supply, and `token inspect` on a JWT
//! widget's token.

use crate::support;

use serde_json::json;
use support::presets::now;
use support::widgets::*;
use support::*;

#[test]
fn the_widget_example_passes_check_config_and_lists_every_widget() {
    let path = format!("{}/examples/widgets.toml", env!("CARGO_MANIFEST_DIR"));
    let env = [
        ("KUSTOMER_CHAT_SECRET", CHAT_SECRET),
        ("ZENDESK_MESSAGING_SECRET", MESSAGING_SECRET),
        ("INTERCOM_MESSENGER_SECRET", INTERCOM_SECRET),
        ("CANNY_SSO_KEY", CANNY_SECRET),
        ("HELPSCOUT_BEACON_SECRET", BEACON_SECRET),
        ("FRONT_CHAT_SECRET", FRONT_SECRET),
        ("CRISP_SECRET", CRISP_SECRET),
        ("CHAT_WIDGET_SECRET", CRISP_SECRET),
        ("SUPPORT_CHAT_SECRET", FRONT_SECRET),
    ];
    let output = run_cli(&["check-config", "--config", &path], &env);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (index, kind) in [
        "kustomer-chat",
        "zendesk-messaging",
        "intercom",
        "canny-widget",
        "helpscout-beacon",
        "front-chat",
        "intercom-hmac",
        "crisp",
        "jwt",
        "hmac",
    ]
    .into_iter()
    .enumerate()
    {
        let line = format!("widget[{index}]         {kind} /sso/widget/");
        assert!(stdout.contains(&line), "{line}\n{stdout}");
    }
    for (_, secret) in env {
        assert!(!stdout.contains(secret));
    }
}

#[test]
fn check_config_names_the_widget_and_the_field_its_session_cannot_supply() {
    let dir = TempDir::new();
    let head = "listen = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:3000\"\n\
                [session]\ncookie = \"sid\"\nintrospect = { url = \"http://127.0.0.1:3000/api/me\" }\n";
    let missing = dir.write(
        "missing.toml",
        &format!(
            "{head}[[widget]]\nkind = \"kustomer-chat\"\nsecret = {{ env = \"KUSTOMER_CHAT_SECRET\" }}\n\
             [[widget]]\nkind = \"zendesk-messaging\"\nsecret = {{ env = \"ZENDESK_MESSAGING_SECRET\" }}\n\
             key_id = \"{MESSAGING_KID}\"\n"
        ),
    );
    let output = run_cli(
        &["check-config", "--config", missing.to_str().unwrap()],
        &env(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(
            "widget[1]: kind \"zendesk-messaging\" needs the identity field `id` (signed as \
             `external_id`): map it in [session.claims]"
        ),
        "{stderr}"
    );
    let fine = dir.write(
        "fine.toml",
        &format!(
            "{head}[session.claims]\nid = \"/id\"\n{}",
            widgets("/dev/null")
                .split("[[widget]]\nkind = \"helpscout-beacon\"")
                .next()
                .unwrap()
        ),
    );
    let output = run_cli(
        &["check-config", "--config", fine.to_str().unwrap()],
        &env(),
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "widget[0]         kustomer-chat /sso/widget/kustomer-chat, HS256, claims email, externalId? (identity id), iat (time), expires after 600 s -> Kustomer.login({ jwtToken: token }), secret REDACTED (from environment variable KUSTOMER_CHAT_SECRET)",
        "widget[1]         zendesk-messaging /sso/widget/zendesk-messaging, HS256, kid app_64b9f1e5c9a2d70021e4a3b8,",
        "widget[3]         canny-widget /sso/widget/canny-widget",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
    for (_, secret) in env() {
        assert!(!stdout.contains(secret));
    }
}

#[tokio::test]
async fn token_inspect_checks_a_widgets_token_against_its_vendors_rules() {
    use portal_sso::{Identity, Secret, Widget, WidgetSigner, WidgetValue};
    use support::cli::{TOKEN_SECRET, encode, flagged, inspect};
    let alice = Identity::new("alice@example.com")
        .unwrap()
        .with_field("id", 42);
    let chat = WidgetSigner::new(&Widget::kustomer_chat(Secret::new(TOKEN_SECRET))).unwrap();
    let WidgetValue::Token { token, .. } = chat.sign(&alice).unwrap() else {
        panic!("Kustomer Chat signs a token");
    };
    let run = inspect(
        &token,
        &[
            "--kind",
            "kustomer-chat",
            "--secret-env",
            "PORTAL_TOKEN_SECRET",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("Kind: kustomer-chat\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("inside Kustomer Chat's 15-minute window"),
        "{}",
        run.stdout
    );
    // Zendesk messaging finds its key by the header's kid: a token without one is refused.
    let claims = json!({"scope": "user", "external_id": "42", "email": "alice@example.com", "exp": now() + 600});
    flagged(
        &encode(&claims),
        &[
            "--kind",
            "zendesk-messaging",
            "--secret-env",
            "PORTAL_TOKEN_SECRET",
        ],
        &["PROBLEM header has no kid; Zendesk messaging finds the key by its ID there"],
    )
    .await;
    // An HMAC widget's value is no token: not a kind inspect takes.
    let run = inspect(&token, &["--kind", "helpscout-beacon"]).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}
