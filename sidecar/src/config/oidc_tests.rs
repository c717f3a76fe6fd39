//! The `session.oidc` table's checks: every mistake names its key.

use crate::config::SidecarConfig;

/// A secret file for the client secret and the portal's, removed when dropped.
struct SecretFile(std::path::PathBuf);

impl SecretFile {
    fn new() -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("portal-sso-oidc-unit-{}-{n}", std::process::id()));
        std::fs::write(&path, "a-client-or-portal-secret-0123456789abcdef").unwrap();
        Self(path)
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A whole config whose `[session]` tables are `session`, with `top` at the top.
fn load(top: &str, session: &str) -> Result<SidecarConfig, String> {
    let secret = SecretFile::new();
    let text = format!(
        "listen = \"127.0.0.1:8080\"\n{top}\n{session}\n[[portal]]\nkind = \"aha\"\n\
         secret = {{ file = \"{0}\" }}\ncallback_url = \"https://acme.aha.site/auth/jwt/callback\"\n",
        secret.0.display()
    )
    .replace("SECRET", &format!("{{ file = \"{}\" }}", secret.0.display()));
    SidecarConfig::from_toml(&text).map_err(|err| err.to_string())
}

const PUBLIC: &str = "public_url = \"https://help.acme.com\"";
const ONE: &str = "[session.oidc]\nissuer = \"https://login.acme.com\"\nclient_id = \"portal-sso\"\nclient_secret = SECRET\n";

#[test]
fn one_provider_checks_out_with_its_defaults() {
    let config = load(PUBLIC, ONE).unwrap();
    let settings = config.oidc_settings().unwrap();
    let provider = &settings.providers()[0];
    assert_eq!(provider.name, "oidc");
    assert_eq!(provider.scopes, ["openid", "email", "profile"]);
    assert_eq!(
        provider.redirect_uri.as_str(),
        "https://help.acme.com/sso/oidc/callback"
    );
    assert!(provider.rules.require_email_verified);
    assert_eq!(provider.session_ttl.as_secs(), 43_200);
    assert_eq!(
        settings.session_cookie().name(),
        "__Host-portal_sso_session"
    );
    let summary = config.summary();
    assert!(
        summary.contains("identity          oidc oidc (oidc) issuer https://login.acme.com"),
        "{summary}"
    );
    assert!(summary.contains("secret REDACTED (from file "), "{summary}");
    assert!(!summary.contains("a-client-or-portal-secret"), "{summary}");
    assert!(
        summary.contains("login             /sso/oidc/login"),
        "{summary}"
    );
}

#[test]
fn each_mistake_names_its_key() {
    let several = "[[session.oidc]]\nname = \"a\"\nissuer = \"https://a.example\"\nclient_id = \"x\"\nclient_secret = SECRET\n\
                   [[session.oidc]]\nname = \"b\"\nissuer = \"https://b.example\"\nclient_secret = SECRET\n";
    let cases = [
        (
            PUBLIC,
            ONE.replace("client_id = \"portal-sso\"\n", ""),
            "session.oidc.client_id: is required",
        ),
        (
            PUBLIC,
            several.to_owned(),
            "session.oidc[1].client_id: is required",
        ),
        (
            PUBLIC,
            several.replace("name = \"b\"\n", "name = \"a\"\nclient_id = \"y\"\n"),
            "session.oidc[1].name: `a` names two providers",
        ),
        (
            PUBLIC,
            several.replace("name = \"b\"\n", "client_id = \"y\"\n"),
            "session.oidc[1].name: is required when several providers are listed",
        ),
        (
            "",
            ONE.to_owned(),
            "public_url: is required with session.oidc",
        ),
        (
            "public_url = \"https://help.acme.com/app\"",
            ONE.to_owned(),
            "public_url: must be the origin",
        ),
        (
            PUBLIC,
            ONE.replace("https://login.acme.com", "http://login.acme.com"),
            "session.oidc.issuer: is http://",
        ),
        (
            PUBLIC,
            format!("{ONE}scopes = [\"email\"]\n"),
            "session.oidc.scopes: must include \"openid\"",
        ),
        (
            PUBLIC,
            format!("{ONE}redirect_path = \"//evil.example/cb\"\n"),
            "session.oidc.redirect_path: must be a path",
        ),
        (
            PUBLIC,
            format!("{ONE}session_ttl_secs = 5\n"),
            "session.oidc.session_ttl_secs: must be at least 60",
        ),
        (
            PUBLIC,
            format!("{ONE}allowed_email_domains = [\"a@b\"]\n"),
            "session.oidc.allowed_email_domains[0]: must be a domain",
        ),
        (
            PUBLIC,
            format!("{ONE}bogus = 1\n"),
            "session.oidc.bogus: unknown field",
        ),
        (
            PUBLIC,
            format!("{ONE}client_secret2 = \"inline\"\n"),
            "session.oidc.client_secret2: unknown field",
        ),
        (
            PUBLIC,
            ONE.replace(
                "[session.oidc]",
                "[session]\ncookie = \"sid\"\n[session.oidc]",
            ),
            "session.cookie: with session.oidc",
        ),
        (
            PUBLIC,
            ONE.replace(
                "[session.oidc]",
                "[session]\nintrospect = { url = \"http://127.0.0.1:3000/me\" }\n[session.oidc]",
            ),
            "session: give exactly one of",
        ),
        (
            PUBLIC,
            format!("{ONE}[login]\nurl = \"/login\"\n"),
            "login: with session.oidc",
        ),
    ];
    for (top, session, expected) in cases {
        let err = load(top, &session).unwrap_err();
        assert!(
            err.starts_with(expected),
            "{expected:?} expected, got {err:?}\n{session}"
        );
    }
}

#[test]
fn an_inline_client_secret_is_refused_without_echoing_it() {
    let err = load(
        PUBLIC,
        &ONE.replace(
            "client_secret = SECRET",
            "client_secret = \"hunter2-hunter2\"",
        ),
    )
    .unwrap_err();
    assert!(
        err.starts_with("session.oidc.client_secret: secrets are never written in the file"),
        "{err}"
    );
    assert!(!err.contains("hunter2"));
}
