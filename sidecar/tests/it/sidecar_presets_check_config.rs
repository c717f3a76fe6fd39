//! `portal-sso check-config` on the preset examples, each portal shown without its key,
//! and on the mistakes it names: the identity field a portal lacks, and a key that does
//! not fit the algorithm.

use crate::support;

use support::presets::{
    CANNY_SECRET, CUSTOM_SECRET, HELPJUICE_SECRET, ZENDESK_SECRET, env, key_bytes,
};
use support::*;

/// `check-config` on `config`, with the test's secrets and the PEM keys in the
/// environment.
fn check_config(config: &str) -> std::process::Output {
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", config);
    check_config_at(path.to_str().unwrap())
}

fn check_config_at(path: &str) -> std::process::Output {
    let ed25519 = String::from_utf8(key_bytes("test-only-ed25519-private.pem")).unwrap();
    let rsa = String::from_utf8(key_bytes("test-only-rsa-private.pem")).unwrap();
    let mut env = env();
    env.extend([
        (
            "GITBOOK_SIGNING_KEY",
            "gitbook-site-private-key-0123456789abcdef",
        ),
        (
            "HELPSCOUT_DOCS_SECRET",
            "helpscout-docs-secret-0123456789abcdefgh",
        ),
        (
            "README_JWT_SECRET",
            "readme-jwt-secret-0123456789abcdefghijkl",
        ),
        (
            "HELPDOCS_JWT_SECRET",
            "helpdocs-jwt-secret-0123456789abcdefghij",
        ),
        ("FRILL_SSO_KEY", "frill-sso-key-0123456789abcdefghijklmnop"),
        ("HELPCENTER_JWT_SECRET", CUSTOM_SECRET),
    ]);
    env.push(("MINTLIFY_PRIVATE_KEY", &ed25519));
    env.push(("FRESHWORKS_PRIVATE_KEY", &rsa));
    run_cli(&["check-config", "--config", path], &env)
}

#[test]
fn every_example_passes_check_config_and_shows_each_portal_without_its_key() {
    for (example, portals) in [
        (
            "zendesk.toml",
            &["zendesk /sso/zendesk -> https://acme.zendesk.com/access/jwt"][..],
        ),
        (
            "docs-sites.toml",
            &[
                "gitbook /sso/gitbook -> https://docs.acme.com, HS256",
                "helpscout /sso/helpscout -> https://docs.acme.com/authcallback, HS512",
                "readme /sso/readme",
                "mintlify /sso/mintlify -> https://docs.acme.com/login/jwt-callback (fragment), EdDSA",
                "helpdocs /sso/helpdocs",
            ],
        ),
        (
            "feedback-boards.toml",
            &[
                "canny /sso/canny -> https://canny.io/api/redirects/sso",
                "frill /sso/frill -> redirect on https://acme.frill.co",
            ],
        ),
        (
            "helpjuice.toml",
            &[
                "helpjuice /sso/helpjuice -> https://helpjuice.com/jwt/acme, HS256, claims jti (random), iat (time ms)",
            ],
        ),
        (
            "freshworks.toml",
            &[
                "freshworks /sso/freshworks -> redirect_uri on https://acme.freshworks.com, https://acme.freshdesk.com, RS256",
            ],
        ),
        (
            "jwt.toml",
            &["jwt /sso/helpcenter -> https://help.acme.example/sso/jwt, HS256"],
        ),
    ] {
        let path = format!("{}/examples/{example}", env!("CARGO_MANIFEST_DIR"));
        let output = check_config_at(&path);
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(0), "{example}: {stderr}");
        for portal in portals {
            assert!(stdout.contains(portal), "{example}: {portal}\n{stdout}");
        }
        for secret in [
            ZENDESK_SECRET,
            CANNY_SECRET,
            HELPJUICE_SECRET,
            CUSTOM_SECRET,
            "PRIVATE KEY",
        ] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{example}"
            );
        }
    }
}

#[test]
fn check_config_names_the_portal_and_the_identity_field_it_lacks() {
    let upstream = "listen = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:3000\"\n\
                    [session]\ncookie = \"sid\"\nintrospect = { url = \"http://127.0.0.1:3000/api/me\" }\n";
    let output = check_config(&format!(
        "{upstream}[[portal]]\nkind = \"helpjuice\"\nsecret = {{ env = \"HELPJUICE_JWT_SECRET\" }}\n\
         callback_url = \"https://helpjuice.com/jwt/acme\"\n\
         [[portal]]\nkind = \"canny\"\nsecret = {{ env = \"CANNY_SSO_KEY\" }}\n\
         redirect_origins = [\"https://acme.canny.io\"]\n"
    ));
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "portal[1]: kind \"canny\" needs the identity field `id`: map it in [session.claims]"
        ),
        "{stderr}"
    );
}

#[test]
fn check_config_names_a_key_that_does_not_fit_the_algorithm() {
    let upstream = "listen = \"127.0.0.1:0\"\nupstream = \"http://127.0.0.1:3000\"\n\
                    [session]\ncookie = \"sid\"\nintrospect = { url = \"http://127.0.0.1:3000/api/me\" }\n";
    let rsa = key_path("test-only-rsa-private.pem");
    for (entry, expected) in [
        (
            format!(
                "kind = \"zendesk\"\nsecret = {{ file = \"{rsa}\" }}\n\
                 callback_url = \"https://acme.zendesk.com/access/jwt\"\n"
            ),
            "portal[0].secret: holds a PEM key",
        ),
        (
            format!(
                "kind = \"mintlify\"\nprivate_key = {{ file = \"{rsa}\" }}\n\
                 callback_url = \"https://docs.acme.com/login/jwt-callback\"\n"
            ),
            "portal[0].private_key: is not an Ed25519 private key in PEM, as EdDSA needs",
        ),
        (
            "kind = \"jwt\"\nalgorithm = \"RS256\"\nsecret = { env = \"CUSTOM_JWT_SECRET\" }\n\
             callback_url = \"https://help.acme.example/sso\"\n"
                .to_owned(),
            "portal[0].secret: algorithm RS256 signs with a PEM private key",
        ),
        (
            format!(
                "kind = \"jwt\"\nalgorithm = \"HS256\"\nprivate_key = {{ file = \"{rsa}\" }}\n\
                 callback_url = \"https://help.acme.example/sso\"\n"
            ),
            "portal[0].private_key: algorithm HS256 signs with a shared secret",
        ),
    ] {
        let output = check_config(&format!("{upstream}[[portal]]\n{entry}"));
        assert_eq!(output.status.code(), Some(2), "{entry}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
        assert!(!stderr.contains("PRIVATE KEY") && !stderr.contains(CUSTOM_SECRET));
    }
}
