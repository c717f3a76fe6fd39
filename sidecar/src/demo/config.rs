//! The sidecar's config for the demo: TOML text written here, as an operator would write
//! the file, and checked by [`SidecarConfig::from_toml`] like any other. Its secrets (the
//! portals' shared secrets, the chat widget's and the sidecar's `cookie_key`) are referred
//! to as files, as a config file must: they are written, mode 0600, to a private temporary
//! directory, read while the config is checked, and removed with the directory straight
//! after.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;

use portal_sso::Secret;

use super::app::{
    CHAT_WIDGET_PATH, LOGIN_PATH, LOGOUT_PATH, RETURN_PARAM, SESSION_COOKIE, WHO_AM_I_PATH,
};
use super::portals::{AHA_CALLBACK_PATH, AHA_PORTAL_LOGOUT_PATH, KUSTOMER_LOGIN_PATH};
use super::sites::Sites;
use crate::config::SidecarConfig;

/// How long in-flight requests get to finish after Ctrl-C: short, for a demo.
pub(crate) const SHUTDOWN_GRACE_SECS: u64 = 5;

/// The secrets the sidecar's config refers to.
pub(crate) struct Secrets<'a> {
    pub(crate) kustomer: &'a Secret,
    pub(crate) aha: &'a Secret,
    /// The chat widget's secret, Kustomer Chat's own (not the knowledge base's).
    pub(crate) kustomer_chat: &'a Secret,
    pub(crate) cookie_key: &'a Secret,
}

/// The checked config for the sidecar in front of the app at `app_listen`.
pub(crate) fn generate(
    sites: &Sites,
    app_listen: SocketAddr,
    secrets: &Secrets<'_>,
) -> io::Result<SidecarConfig> {
    let dir = SecretsDir::new()?;
    let files = SecretFiles {
        kustomer: dir.write("kustomer", secrets.kustomer)?,
        aha: dir.write("aha", secrets.aha)?,
        kustomer_chat: dir.write("kustomer_chat", secrets.kustomer_chat)?,
        cookie_key: dir.write("cookie_key", secrets.cookie_key)?,
    };
    let text = toml_text(sites, app_listen, &files);
    // The error names a key and never a secret's value; it would be a bug in `toml_text`.
    let config = SidecarConfig::from_toml(&text).map_err(|err| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("demo: the generated config: {err}"),
        )
    })?;
    drop(dir);
    Ok(config)
}

/// Where each secret was written.
struct SecretFiles {
    kustomer: PathBuf,
    aha: PathBuf,
    kustomer_chat: PathBuf,
    cookie_key: PathBuf,
}

/// The config file's text. Every value that comes from outside this function is quoted
/// by [`quoted`].
fn toml_text(sites: &Sites, app_listen: SocketAddr, files: &SecretFiles) -> String {
    let app = format!("http://{app_listen}");
    let q = |value: &str| quoted(value);
    let file = |path: &PathBuf| format!("{{ file = {} }}", quoted(&path.to_string_lossy()));
    format!(
        r#"# The portal-sso sidecar in front of the demo app.
listen = {listen}
upstream = {upstream}
admin_listen = {admin_listen}
# The app's own logout: once it has logged the browser out, on to Aha!'s portal logout.
app_logout_path = {logout}
# Signs portal-sso's own cookies (login-loop count, remote-logout marker).
cookie_key = {cookie_key}

[server]
shutdown_grace_secs = {grace}

[session]
cookie = {cookie}
# Who is signed in: the app's "who am I" endpoint, asked with the browser's cookies.
introspect = {{ url = {who_am_i}, cache_ttl_secs = 30 }}

[session.claims]
email = "/email"
first_name = "/first_name"
last_name = "/last_name"

[login]
url = {login}
return_param = {return_param}

[[portal]]
kind = "kustomer"
secret = {kustomer_secret}
redirect_origins = [{kustomer}]
default_redirect = {kustomer_login}

[[portal]]
kind = "aha"
secret = {aha_secret}
callback_url = {aha_callback}
logout_path = "/sso/aha/logout"
portal_logout_url = {aha_logout}

# The chat widget on the app's pages: a Kustomer Chat token for the signed-in user,
# answered to the app's own pages only.
[[widget]]
kind = "kustomer-chat"
path = {chat_path}
secret = {chat_secret}
"#,
        listen = q(&sites.sidecar_listen.to_string()),
        upstream = q(&app),
        admin_listen = q(&sites.admin_listen.to_string()),
        logout = q(LOGOUT_PATH),
        cookie_key = file(&files.cookie_key),
        grace = SHUTDOWN_GRACE_SECS,
        cookie = q(SESSION_COOKIE),
        who_am_i = q(&format!("{app}{WHO_AM_I_PATH}")),
        login = q(LOGIN_PATH),
        return_param = q(RETURN_PARAM),
        kustomer_secret = file(&files.kustomer),
        kustomer = q(&sites.kustomer),
        kustomer_login = q(&format!("{}{KUSTOMER_LOGIN_PATH}", sites.kustomer)),
        aha_secret = file(&files.aha),
        aha_callback = q(&format!("{}{AHA_CALLBACK_PATH}", sites.aha)),
        aha_logout = q(&format!("{}{AHA_PORTAL_LOGOUT_PATH}", sites.aha)),
        chat_path = q(CHAT_WIDGET_PATH),
        chat_secret = file(&files.kustomer_chat),
    )
}

/// `value` as a TOML basic string, quotes and escapes included.
fn quoted(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

/// A directory only this user can read, removed with everything in it when dropped.
struct SecretsDir(tempfile::TempDir);

impl SecretsDir {
    fn new() -> io::Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("portal-sso-demo-");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        builder.tempdir().map(Self).map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("demo: a private directory for the secrets: {err}"),
            )
        })
    }

    /// Writes `secret` to a new file `name`, readable by this user only.
    fn write(&self, name: &str, secret: &Secret) -> io::Result<PathBuf> {
        let path = self.0.path().join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options
            .open(&path)
            .and_then(|mut file| file.write_all(secret.expose()));
        written.map_err(|err| {
            io::Error::new(
                err.kind(),
                format!(
                    "demo: cannot write the secret file {}: {err}",
                    path.display()
                ),
            )
        })?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn sites() -> Sites {
        Sites::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 8080))).unwrap()
    }

    #[test]
    fn the_generated_config_checks_out_and_shows_off_the_sidecar() {
        let secret = |byte: u8| Secret::new([byte; 32]);
        let (kustomer, aha, cookie_key) = (secret(b'k'), secret(b'a'), secret(b'c'));
        let kustomer_chat = secret(b'h');
        let app = SocketAddr::from((Ipv4Addr::LOCALHOST, 41_000));
        let config = generate(
            &sites(),
            app,
            &Secrets {
                kustomer: &kustomer,
                aha: &aha,
                kustomer_chat: &kustomer_chat,
                cookie_key: &cookie_key,
            },
        )
        .unwrap();
        assert_eq!(config.listen, SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)));
        assert_eq!(
            config.admin_listen,
            Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 8083)))
        );
        assert_eq!(
            config
                .upstream
                .uri
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("http://127.0.0.1:41000/")
        );
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        let summary = config.summary();
        for expected in [
            "identity          introspect http://127.0.0.1:41000/api/me",
            "portal[0]         kustomer /sso/kustomer",
            "portal[1]         aha /sso/aha -> http://127.0.0.1:8082/auth/jwt/callback",
            "widget[0]         kustomer-chat /sso/widget/kustomer-chat, HS256, claims ",
            "cookie key        REDACTED (from file ",
        ] {
            assert!(summary.contains(expected), "{expected} not in\n{summary}");
        }
        for secret in ["kkkk", "aaaa", "hhhh", "cccc"] {
            assert!(!summary.contains(secret), "{summary}");
        }
    }

    #[test]
    fn secret_files_are_private_and_gone_once_read() {
        let dir = SecretsDir::new().unwrap();
        let path = dir.write("s", &Secret::new("s3cret")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"s3cret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&path) & 0o777, 0o600);
            assert_eq!(mode(path.parent().unwrap()) & 0o777, 0o700);
        }
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn values_are_quoted_as_toml_strings() {
        for value in ["a\"b\\c", "C:\\x 'y'", "/tmp/a b/\u{e9}", "line\nbreak"] {
            let parsed: toml::Table = format!("k = {}", quoted(value)).parse().unwrap();
            assert_eq!(parsed["k"].as_str(), Some(value));
        }
    }
}
