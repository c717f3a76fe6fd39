//! `admin_token`: the bearer token `/metrics` and `/events` want on the admin port, and
//! the warning for an admin port open beyond loopback without one.

use std::net::SocketAddr;

use portal_sso::{MIN_SECRET_LEN, Secret};

use super::ConfigFileError;
use super::secret_ref::SecretRef;

/// The admin port's bearer token, and where it is read from.
#[derive(Debug, Clone)]
pub(super) struct AdminToken {
    pub(super) token: Secret,
    pub(super) from: SecretRef,
}

/// Reads `admin_token`: at least 32 bytes unless `allow_short_secrets`, as every secret,
/// and nothing that cannot stand in an `Authorization` header (white space, control
/// characters), which no request could ever match.
pub(super) fn check(
    from: Option<&SecretRef>,
    allow_short_secrets: bool,
) -> Result<Option<AdminToken>, ConfigFileError> {
    let Some(from) = from else {
        return Ok(None);
    };
    let key = "admin_token";
    let token = from.read(key)?;
    if token
        .expose()
        .iter()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(ConfigFileError::new(
            key,
            format!("{from} holds white space or control characters, which a bearer token cannot"),
        ));
    }
    if token.len() < MIN_SECRET_LEN && !allow_short_secrets {
        return Err(ConfigFileError::new(
            key,
            format!(
                "{from} is {} bytes; use at least {MIN_SECRET_LEN} (e.g. `openssl rand -hex 32`), \
                 or set allow_short_secrets = true",
                token.len()
            ),
        ));
    }
    Ok(Some(AdminToken {
        token,
        from: from.clone(),
    }))
}

/// The warning for an admin port that answers beyond loopback with no token: anyone
/// who reaches it reads `/metrics` and `/events`.
pub(super) fn open_admin_warning(
    admin_listen: Option<SocketAddr>,
    token: Option<&AdminToken>,
) -> Option<String> {
    let admin = admin_listen?;
    if admin.ip().is_loopback() || token.is_some() {
        return None;
    }
    Some(format!(
        "admin_listen {admin} is not loopback and no admin_token is set: /metrics and \
         /events answer anyone who reaches that port; set admin_token = {{ env = \"VAR\" }} \
         or {{ file = \"PATH\" }}, or listen on 127.0.0.1"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` of a token file holding `contents`.
    fn check_file(
        contents: &str,
        allow_short: bool,
    ) -> Result<Option<AdminToken>, ConfigFileError> {
        let path = std::env::temp_dir().join(format!(
            "portal-sso-admin-token-{}-{}",
            std::process::id(),
            contents.len()
        ));
        std::fs::write(&path, contents).unwrap();
        let checked = check(Some(&SecretRef::File(path.clone())), allow_short);
        std::fs::remove_file(&path).unwrap();
        checked
    }

    #[test]
    fn a_token_is_long_and_fits_a_header() {
        assert!(check(None, false).unwrap().is_none());
        let token = check_file(&format!("{}\n", "t".repeat(32)), false)
            .unwrap()
            .unwrap();
        assert_eq!(token.token.expose(), "t".repeat(32).as_bytes());
        let short = check_file("short-token", false).unwrap_err();
        assert_eq!(short.key(), "admin_token");
        assert!(short.problem().contains("11 bytes"), "{short}");
        assert!(!short.to_string().contains("short-token"), "{short}");
        assert!(check_file("short-token", true).unwrap().is_some());
        let spaced = check_file(&format!("{} {}", "t".repeat(20), "u".repeat(20)), false);
        assert!(spaced.unwrap_err().problem().contains("white space"));
    }

    #[test]
    fn only_an_open_admin_port_without_a_token_is_warned_about() {
        let token = AdminToken {
            token: Secret::new("t".repeat(32)),
            from: SecretRef::Env("PORTAL_SSO_ADMIN_TOKEN".to_owned()),
        };
        let addr = |a: &str| Some(a.parse::<SocketAddr>().unwrap());
        let warning = open_admin_warning(addr("0.0.0.0:9901"), None).unwrap();
        assert!(warning.starts_with("admin_listen 0.0.0.0:9901 is not loopback"));
        assert!(open_admin_warning(addr("[::]:9901"), None).is_some());
        assert!(open_admin_warning(addr("0.0.0.0:9901"), Some(&token)).is_none());
        assert!(open_admin_warning(addr("127.0.0.1:9901"), None).is_none());
        assert!(open_admin_warning(addr("[::1]:9901"), None).is_none());
        assert!(open_admin_warning(None, None).is_none());
    }
}
