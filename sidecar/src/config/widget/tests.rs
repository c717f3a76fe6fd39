//! `[[widget]]` as the file gives it: each kind's keys, the identity fields a widget
//! needs, the key that fits the algorithm, and the summary.

use std::path::PathBuf;

use crate::config::SidecarConfig;

/// A 40-byte secret in a file, removed when dropped.
struct SecretFile(PathBuf);

impl SecretFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "portal-sso-widget-tests-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, "w".repeat(40)).unwrap();
        Self(path)
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Checks a file with `[session.claims]` `claims` and the `[[widget]]` `entry`, where
/// `SECRET` stands for a secret file.
fn load(name: &str, claims: &str, entry: &str) -> Result<SidecarConfig, String> {
    let secret = SecretFile::new(name);
    let entry = entry.replace(
        "SECRET",
        &format!("{{ file = \"{}\" }}", secret.0.display()),
    );
    let text = format!(
        "listen = \"127.0.0.1:8080\"\nupstream = \"http://127.0.0.1:3000\"\n\
         [session]\ncookie = \"sid\"\nintrospect = {{ url = \"http://127.0.0.1:3000/me\" }}\n\
         [session.claims]\n{claims}\n[[widget]]\n{entry}"
    );
    SidecarConfig::from_toml(&text).map_err(|error| error.to_string())
}

#[test]
fn every_preset_loads_with_its_own_keys_and_is_summarised() {
    for (kind, extra, shown) in [
        (
            "kustomer-chat",
            "token_ttl_secs = 900",
            "kustomer-chat /sso/widget/kustomer-chat, HS256, claims email, externalId? (identity id), iat (time), expires after 900 s -> Kustomer.login({ jwtToken: token })",
        ),
        (
            "zendesk-messaging",
            "key_id = \"app_64b9f1e5c9a2d70021e4a3b8\"",
            "zendesk-messaging /sso/widget/zendesk-messaging, HS256, kid app_64b9f1e5c9a2d70021e4a3b8, claims scope (value), external_id (identity id)",
        ),
        (
            "intercom",
            "",
            "user_id (identity id), email, exp (expiry), expires after 3600 s",
        ),
        (
            "canny-widget",
            "",
            "canny-widget /sso/widget/canny-widget, HS256, claims email, id, name, avatarURL? (identity avatar_url)",
        ),
        (
            "helpscout-beacon",
            "",
            "helpscout-beacon /sso/widget/helpscout-beacon, HMAC-SHA256 of email (answered as email), never expires -> Beacon('identify', { email, signature })",
        ),
        ("front-chat", "", "userHash: signature"),
        (
            "intercom-hmac",
            "",
            "HMAC-SHA256 of id (answered as user_id)",
        ),
        ("crisp", "", "$crisp.push"),
    ] {
        let entry = format!("kind = \"{kind}\"\nsecret = SECRET\n{extra}\n");
        let config = load(kind, "id = \"/id\"", &entry).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let summary = config.summary();
        assert!(summary.contains(shown), "{kind}:\n{summary}");
        assert!(summary.contains("secret REDACTED (from file"), "{summary}");
        assert!(!summary.contains(&"w".repeat(40)));
    }
}

#[test]
fn a_key_the_kind_does_not_take_is_named() {
    for (entry, key) in [
        (
            "kind = \"helpscout-beacon\"\nsecret = SECRET\ntoken_ttl_secs = 60",
            "widget[0].token_ttl_secs",
        ),
        (
            "kind = \"kustomer-chat\"\nsecret = SECRET\nkey_id = \"app_1\"",
            "widget[0].key_id",
        ),
        (
            "kind = \"hmac\"\nsecret = SECRET\nfield = \"email\"\nalgorithm = \"HS256\"",
            "widget[0].algorithm",
        ),
        (
            "kind = \"jwt\"\nalgorithm = \"HS256\"\nsecret = SECRET\nfield = \"email\"",
            "widget[0].field",
        ),
        (
            "kind = \"intercom\"\nprivate_key = SECRET",
            "widget[0].private_key",
        ),
    ] {
        let error = load("keys", "id = \"/id\"", entry).unwrap_err();
        assert!(
            error.starts_with(&format!("{key}: unknown field")),
            "{entry}: {error}"
        );
    }
    let error = load("kind", "", "kind = \"kustomer\"\nsecret = SECRET").unwrap_err();
    assert!(
        error.starts_with("widget[0].kind: `kustomer` is a portal: write it as a [[portal]]"),
        "{error}"
    );
    let error = load("kind2", "", "kind = \"drift\"\nsecret = SECRET").unwrap_err();
    assert!(
        error.contains("`kustomer-chat`") && error.contains("`hmac`"),
        "{error}"
    );
}

#[test]
fn a_widget_whose_identity_field_the_session_cannot_supply_is_named_with_the_field() {
    for (kind, extra, carried) in [
        ("zendesk-messaging", "key_id = \"app_1\"", "external_id"),
        ("intercom", "", "user_id"),
        ("intercom-hmac", "", "user_id"),
        ("canny-widget", "", "id"),
    ] {
        let entry = format!("kind = \"{kind}\"\nsecret = SECRET\n{extra}");
        let error = load(kind, "", &entry).unwrap_err();
        let carried = if carried == "id" {
            String::new()
        } else {
            format!(" (signed as `{carried}`)")
        };
        assert_eq!(
            error,
            format!(
                "widget[0]: kind \"{kind}\" needs the identity field `id`{carried}: map it in \
                 [session.claims], e.g. id = \"/id\""
            )
        );
    }
    let custom = "kind = \"hmac\"\nsecret = SECRET\nfield = \"account\"";
    assert!(
        load("custom", "", custom)
            .unwrap_err()
            .contains("`account`")
    );
    assert!(load("custom2", "account = \"/account\"", custom).is_ok());
}

#[test]
fn custom_kinds_are_checked_by_the_core_under_the_files_keys() {
    let jwt = "kind = \"jwt\"\nalgorithm = \"HS384\"\nsecret = SECRET\n\
               [widget.claims]\nsub = { identity = \"email\" }\nexp = \"expiry\"";
    let config = load("jwt", "", jwt).unwrap();
    assert!(
        config
            .summary()
            .contains("jwt /sso/widget/jwt, HS384, claims exp (expiry), sub (identity email)"),
        "{}",
        config.summary()
    );
    for (entry, error) in [
        (
            "kind = \"jwt\"\nalgorithm = \"HS256\"\nsecret = SECRET\n[widget.claims]\nnonce = { param = \"nonce\" }",
            "widget[0].claims.nonce: takes a request parameter, which a widget's route does not read",
        ),
        (
            "kind = \"jwt\"\nalgorithm = \"HS256\"\nsecret = SECRET",
            "widget[0].claims: is empty: a token needs claims",
        ),
        (
            "kind = \"jwt\"\nalgorithm = \"EdDSA\"\nsecret = SECRET",
            "widget[0].secret: algorithm EdDSA signs with a PEM private key: give `private_key`",
        ),
        (
            "kind = \"hmac\"\nsecret = SECRET",
            "widget[0].field: is required for kind = \"hmac\": the identity field to sign, e.g. \"email\"",
        ),
        (
            "kind = \"zendesk-messaging\"\nsecret = SECRET",
            "widget[0].key_id: is required for kind \"zendesk-messaging\"",
        ),
        (
            "kind = \"kustomer-chat\"\nsecret = SECRET\ntoken_ttl_secs = 901",
            "widget[0].token_ttl_secs: must be from 1 to 900 seconds: Kustomer Chat refuses a token whose iat is older than 15 minutes",
        ),
        (
            "kind = \"crisp\"\nsecret = SECRET\npath = \"/sso/widget/crisp?x\"",
            "widget[0].path: ",
        ),
    ] {
        let got = load("custom-errors", "id = \"/id\"", entry).unwrap_err();
        assert!(got.starts_with(error), "{entry}:\n{got}");
    }
}
