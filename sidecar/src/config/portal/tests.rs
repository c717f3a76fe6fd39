//! The presets and `kind = "jwt"` as the file gives them: each kind's keys, the key that
//! fits the algorithm, the identity fields a portal needs, and the summary.

use std::path::PathBuf;

use crate::config::SidecarConfig;

/// A secret file holding `contents`, removed when dropped.
struct SecretFile(PathBuf);

impl SecretFile {
    fn new(name: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "portal-sso-preset-tests-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    fn key(&self) -> String {
        format!("{{ file = \"{}\" }}", self.0.display())
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn test_key(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/keys/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap()
}

const HEAD: &str = "listen = \"127.0.0.1:8080\"\nupstream = \"http://127.0.0.1:3000\"\n\
                    [session]\ncookie = \"sid\"\nintrospect = { url = \"http://127.0.0.1:3000/me\" }\n";

/// A file with `[session.claims]` holding `claims` and one portal `entry`, where `SECRET`
/// and `PEM` stand for a shared secret and an Ed25519/RSA key file as `pem` names.
fn file(claims: &str, entry: &str, secret: &SecretFile, pem: &SecretFile) -> String {
    format!(
        "{HEAD}[session.claims]\n{claims}\n[[portal]]\n{}",
        entry
            .replace("SECRET", &secret.key())
            .replace("PEM", &pem.key())
    )
}

/// Checks a file of one `entry`, with `id` mapped, the secret 40 bytes and the PEM `pem`.
fn load(entry: &str, pem: &str) -> Result<SidecarConfig, String> {
    let secret = SecretFile::new(&format!("s-{}", entry.len()), &"s".repeat(40));
    let pem = SecretFile::new(&format!("p-{}-{pem}", entry.len()), &test_key(pem));
    SidecarConfig::from_toml(&file("id = \"/id\"", entry, &secret, &pem)).map_err(|e| e.to_string())
}

/// A valid entry of every preset, with only its own keys.
const PRESETS: [&str; 10] = [
    "kind = \"zendesk\"\nsecret = SECRET\ncallback_url = \"https://acme.zendesk.com/access/jwt\"\n\
     redirect_origins = [\"https://acme.zendesk.com\"]\ntoken_in = \"query\"\nlogout_path = \"/sso/zd/logout\"\n",
    "kind = \"gitbook\"\nsecret = SECRET\ncallback_url = \"https://docs.acme.com\"\ntoken_ttl_secs = 600\n",
    "kind = \"canny\"\nsecret = SECRET\nredirect_origins = [\"https://acme.canny.io\"]\n",
    "kind = \"helpscout\"\nsecret = SECRET\ncallback_url = \"https://docs.acme.com/authcallback\"\n",
    "kind = \"frill\"\nsecret = SECRET\nredirect_origins = [\"https://acme.frill.co\"]\n",
    "kind = \"readme\"\nsecret = SECRET\ncallback_url = \"https://docs.acme.com/\"\n",
    "kind = \"mintlify\"\nprivate_key = PEM\ncallback_url = \"https://docs.acme.com/login/jwt-callback\"\n",
    "kind = \"helpjuice\"\nsecret = SECRET\ncallback_url = \"https://helpjuice.com/jwt/acme\"\n\
     redirect_origins = [\"https://help.acme.com\"]\n",
    "kind = \"helpdocs\"\nsecret = SECRET\ncallback_url = \"https://acme.helpdocs.io/\"\n\
     audience = \"https://acme.helpdocs.io\"\n",
    "kind = \"freshworks\"\nprivate_key = PEM\nredirect_origins = [\"https://acme.freshworks.com\"]\n",
];

fn pem_for(entry: &str) -> &'static str {
    if entry.contains("freshworks") {
        "test-only-rsa-private.pem"
    } else {
        "test-only-ed25519-private.pem"
    }
}

#[test]
fn every_preset_builds_with_its_own_keys_and_is_summarised_without_its_key() {
    for entry in PRESETS {
        let config = load(entry, pem_for(entry)).unwrap_or_else(|e| panic!("{entry}: {e}"));
        let summary = config.summary();
        let kind = entry.split('"').nth(1).unwrap();
        let line = summary
            .lines()
            .find(|l| l.starts_with("portal[0]"))
            .unwrap();
        assert!(line.contains(&format!(" {kind} /sso/")), "{line}");
        assert!(line.contains("REDACTED (from file /"), "{line}");
        assert!(
            !line.contains("ssssssss") && !line.contains("PRIVATE"),
            "{line}"
        );
    }
    let zendesk = load(PRESETS[0], "test-only-rsa-private.pem")
        .unwrap()
        .summary();
    assert!(
        zendesk.contains(
            "zendesk /sso/zendesk -> https://acme.zendesk.com/access/jwt, HS256, \
             claims iat (time), jti (random), email, name, external_id?, secret REDACTED"
        ),
        "{zendesk}"
    );
    let freshworks = load(PRESETS[9], "test-only-rsa-private.pem")
        .unwrap()
        .summary();
    assert!(
        freshworks.contains(
            "freshworks /sso/freshworks -> redirect_uri on https://acme.freshworks.com, RS256, \
             claims sub (identity id), email, iat (time), nonce? (param nonce), \
             given_name? (identity first_name), family_name? (identity last_name), \
             private_key REDACTED"
        ),
        "{freshworks}"
    );
}

#[test]
fn a_key_of_another_kind_is_refused_by_name() {
    for (entry, extra, field) in [
        (
            PRESETS[2],
            "callback_url = \"https://x.example\"\n",
            "callback_url",
        ),
        (PRESETS[1], "token_in = \"fragment\"\n", "token_in"),
        (PRESETS[6], "secret = { env = \"S\" }\n", "secret"),
        (PRESETS[9], "logout_path = \"/bye\"\n", "logout_path"),
        (PRESETS[4], "audience = \"x\"\n", "audience"),
    ] {
        let text = format!("{HEAD}[[portal]]\n{entry}{extra}")
            .replace("SECRET", "{ env = \"S\" }")
            .replace("PEM", "{ env = \"P\" }");
        let err = SidecarConfig::from_toml(&text).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("portal[0].{field}: unknown field `{field}`")),
            "{err}"
        );
    }
}

#[test]
fn a_preset_without_its_callback_is_answered_with_an_example() {
    let err = load(
        "kind = \"zendesk\"\nsecret = SECRET\n",
        "test-only-rsa-private.pem",
    );
    assert_eq!(
        err.unwrap_err(),
        "portal[0].callback_url: is required for kind \"zendesk\", e.g. \
         \"https://acme.zendesk.com/access/jwt\""
    );
}

#[test]
fn canny_without_redirect_origins_is_answered_with_an_example() {
    let err = load(
        "kind = \"canny\"\nsecret = SECRET\n",
        "test-only-rsa-private.pem",
    );
    assert_eq!(
        err.unwrap_err(),
        "portal[0].redirect_origins: is required for kind \"canny\" (every sign-in carries \
         an address to check against it), e.g. [\"https://acme.canny.io\"]"
    );
}

#[test]
fn a_key_that_does_not_fit_the_algorithm_names_its_key() {
    // A PEM where a shared secret goes, and a PEM of the wrong type.
    let pem = SecretFile::new("rsa-as-secret", &test_key("test-only-rsa-private.pem"));
    let entry = PRESETS[2].replace("SECRET", &pem.key());
    let err = load(&entry, "test-only-rsa-private.pem").unwrap_err();
    assert!(
        err.starts_with("portal[0].secret: holds a PEM key"),
        "{err}"
    );
    let err = load(PRESETS[6], "test-only-rsa-private.pem").unwrap_err();
    assert!(
        err.starts_with("portal[0].private_key: is not an Ed25519"),
        "{err}"
    );

    let jwt = "kind = \"jwt\"\ncallback_url = \"https://help.acme.com/sso\"\n\
               [portal.claims]\nemail = { identity = \"email\" }\n";
    let err = load(
        &format!("algorithm = \"HS256\"\nprivate_key = PEM\n{jwt}"),
        "test-only-rsa-private.pem",
    )
    .unwrap_err();
    assert!(
        err.starts_with("portal[0].private_key: algorithm HS256 signs with a shared secret"),
        "{err}"
    );
    let err = load(
        &format!("algorithm = \"RS256\"\nsecret = SECRET\n{jwt}"),
        "test-only-rsa-private.pem",
    )
    .unwrap_err();
    assert!(
        err.starts_with("portal[0].secret: algorithm RS256 signs with a PEM private key"),
        "{err}"
    );
    let err = load(
        &format!("algorithm = \"ES256\"\n{jwt}"),
        "test-only-rsa-private.pem",
    );
    assert_eq!(
        err.unwrap_err(),
        "portal[0].private_key: is required for algorithm ES256"
    );
    let err = load(
        &format!("algorithm = \"HS257\"\n{jwt}"),
        "test-only-rsa-private.pem",
    );
    assert!(err.unwrap_err().starts_with("portal[0].algorithm: `HS257`"));
}

#[test]
fn a_portal_needing_an_unmapped_field_names_both() {
    let secret = SecretFile::new("fields", &"s".repeat(40));
    let pem = SecretFile::new("fields-pem", &test_key("test-only-rsa-private.pem"));
    let err = SidecarConfig::from_toml(&file("", PRESETS[2], &secret, &pem)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "portal[0]: kind \"canny\" needs the identity field `id`: map it in [session.claims]"
    );
    let text = file(
        "id = \"/user/id\"\navatar_url = \"/user/avatar\"",
        PRESETS[2],
        &secret,
        &pem,
    );
    SidecarConfig::from_toml(&text).unwrap();
    let err = SidecarConfig::from_toml(&file("id = \"user/id\"", PRESETS[2], &secret, &pem));
    assert_eq!(
        err.unwrap_err().to_string(),
        "session.claims.id: must be a JSON pointer starting with `/`, e.g. \"/email\""
    );
}

#[test]
fn jwt_claims_take_each_source_and_refuse_what_is_not_one() {
    let entry = |claims: &str| {
        format!(
            "kind = \"jwt\"\nalgorithm = \"HS384\"\nsecret = SECRET\ntarget_param = \"return\"\n\
             redirect_origins = [\"https://help.acme.com\"]\npass_params = [\"state\"]\n\
             token_param = \"token\"\ntoken_in = \"fragment\"\n[portal.claims]\n{claims}"
        )
    };
    let good = "email = { identity = \"email\" }\nuid = { identity = \"id\", as_string = true }\n\
                iat = { time = \"milliseconds\" }\nexp = { time = \"seconds\", add_secs = 300 }\n\
                jti = \"random\"\nnonce = { param = \"nonce\" }\nscope = { value = [\"read\", 2] }\n\
                pic = { identity = \"avatar_url\", optional = true }\n";
    let config = load(&entry(good), "test-only-rsa-private.pem").unwrap();
    let summary = config.summary();
    assert!(
        summary.contains(
            "jwt /sso/jwt -> return on https://help.acme.com (fragment), HS384, claims \
             email, exp (time +300 s), iat (time ms), jti (random), nonce? (param nonce), \
             pic? (identity avatar_url), scope (value), uid (identity id), secret REDACTED"
        ),
        "{summary}"
    );
    for (claims, expected) in [
        (
            "jti = \"randm\"\n",
            "portal[0].claims.jti: `randm` is not a claim source",
        ),
        (
            "x = { identity = \"id\", param = \"p\" }\n",
            "portal[0].claims.x: give exactly one of",
        ),
        (
            "x = { param = \"p\", add_secs = 1 }\n",
            "portal[0].claims.x.add_secs: goes only with `time`",
        ),
        (
            "x = { time = \"minutes\" }\n",
            "portal[0].claims.x.time: `minutes` is not one of",
        ),
        (
            "x = { idnetity = \"id\" }\n",
            "portal[0].claims.x: expected \"random\"",
        ),
        ("email = { param = \"email\" }\n", "portal[0]"),
    ] {
        let err = load(&entry(claims), "test-only-rsa-private.pem").unwrap_err();
        assert!(err.starts_with(expected), "{claims}: {err}");
    }
    let err = load(
        &entry("x = { identity = \"groups\" }\n"),
        "test-only-rsa-private.pem",
    );
    assert_eq!(
        err.unwrap_err(),
        "portal[0]: kind \"jwt\" needs the identity field `groups`: map it in [session.claims]"
    );
}

/// The kinds' keys and the errors inside an entry, for Kustomer and Aha!.
mod kinds {
    const KUSTOMER: &str = "kind = \"kustomer\"\nsecret = { env = \"S\" }\n\
                                redirect_origins = [\"https://acme.kustomer.help\"]\n";
    const AHA: &str = "kind = \"aha\"\nsecret = { env = \"S\" }\n\
                           callback_url = \"https://acme.aha.site/auth/jwt/callback\"\n";

    /// The error `parse` gives for a file whose portals are `entries`.
    fn error(entries: &[&str]) -> String {
        let mut text = String::from(
            "listen = \"127.0.0.1:8080\"\nupstream = \"http://127.0.0.1:3000\"\n\
                 [session]\ncookie = \"sid\"\nintrospect = { url = \"http://127.0.0.1:3000/me\" }\n",
        );
        for entry in entries {
            text.push_str("[[portal]]\n");
            text.push_str(entry);
        }
        crate::config::SidecarConfig::from_toml(&text)
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn each_kind_reads_with_only_its_own_keys() {
        let text = crate::config::tests::BASE.to_owned() + "[[portal]]\n" + AHA;
        assert_eq!(crate::config::file::parse(&text).unwrap().portal.len(), 2);
    }

    #[test]
    fn a_key_of_another_kind_is_refused_by_name() {
        let err = error(&[&format!("{KUSTOMER}logout_path = \"/bye\"\n")]);
        assert!(
            err.starts_with("portal[0].logout_path: unknown field `logout_path`, expected one of"),
            "{err}"
        );
        let err = error(&[AHA, &format!("{AHA}redirect_origins = []\n")]);
        assert!(
            err.starts_with("portal[1].redirect_origins: unknown field `redirect_origins`"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_or_missing_kind_is_named_with_the_known_ones() {
        let err = error(&[&KUSTOMER.replace("kustomer\"", "zendsk\"")]);
        assert_eq!(
            err,
            "portal[0].kind: unknown variant `zendsk`, expected one of `kustomer`, `aha`, \
                 `zendesk`, `gitbook`, `canny`, `helpscout`, `frill`, `readme`, `mintlify`, \
                 `helpjuice`, `helpdocs`, `freshworks`, `jwt`"
        );
        let err = error(&[AHA, &KUSTOMER.replace("kind = \"kustomer\"\n", "")]);
        assert_eq!(err, "portal[1].kind: is required");
    }

    /// Every kind keeps the key of an error inside its entry, however deep.
    #[test]
    fn errors_inside_an_entry_name_their_key_for_every_kind() {
        for entry in [KUSTOMER, AHA] {
            let cases = [
                ("path = 5\n", "portal[0].path: invalid type: integer `5`"),
                ("name = []\n", "portal[0].name: invalid type: sequence"),
            ];
            for (extra, expected) in cases {
                let err = error(&[&format!("{entry}{extra}")]);
                assert!(err.starts_with(expected), "{entry}{extra}: {err}");
            }
            let inline = entry.replace("{ env = \"S\" }", "\"hunter2-hunter2\"");
            let err = error(&[&inline]);
            assert!(
                err.starts_with("portal[0].secret: secrets are never"),
                "{err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
            let err = error(&[&entry.replace("env = \"S\"", "env = \"S\", file = \"/s\"")]);
            assert_eq!(err, "portal[0].secret: give exactly one of `env` or `file`");
            let err = error(&[&entry.replace("secret = { env = \"S\" }\n", "")]);
            assert_eq!(err, "portal[0].secret: is required");
        }
        let err = error(&[&KUSTOMER.replace("[\"https://acme.kustomer.help\"]", "[1]")]);
        assert!(
            err.starts_with("portal[0].redirect_origins[0]: invalid type: integer `1`"),
            "{err}"
        );
    }
}
