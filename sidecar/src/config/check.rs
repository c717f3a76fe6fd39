//! Every value of the file checked, in the order of the file, into the settings the
//! sidecar runs with; the first mistake is returned, naming its key.

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use ipnet::IpNet;
use jsonwebtoken::Algorithm;

use portal_sso::{ClaimPointers, SessionCookie, SignedCookieMode};

use super::admin;
use super::cookie_key::{self, CookieKey};
use super::file::{File, IntrospectFile, LoginFile, ModeFile, ServerFile};
use super::secret_ref::SecretRef;
use super::tls;
use super::{ConfigFileError, ServerSettings, SidecarConfig, Source, UpstreamSettings};

/// Checks every value of `file`, secrets read, into a config ready to build the layer.
pub(super) fn check(file: File) -> Result<SidecarConfig, ConfigFileError> {
    let upstream = check_upstream(&file)?;
    let server = check_server(&file.server)?;
    let (session_cookie, source, claims) = check_session(&file, &upstream)?;
    let introspect_tls = matches!(&source, Source::Introspect { tls: Some(_), .. });
    if file.upstream_ca.is_some() && upstream.tls.is_none() && !introspect_tls {
        return Err(ConfigFileError::new(
            "upstream_ca",
            "is only for an https:// upstream or session.introspect.url",
        ));
    }

    for (index, entry) in file.portal.iter().enumerate() {
        entry.check_shape(index)?;
    }
    let mut portals = Vec::with_capacity(file.portal.len());
    for (index, entry) in file.portal.iter().enumerate() {
        let portal = entry.check(index)?;
        portal.check_fields(index, &claims)?;
        portals.push(portal);
    }
    for (index, entry) in file.widget.iter().enumerate() {
        entry.check_shape(index)?;
    }
    let mut widgets = Vec::with_capacity(file.widget.len());
    for (index, entry) in file.widget.iter().enumerate() {
        let widget = entry.check(index)?;
        widget.check_fields(index, &claims)?;
        widgets.push(widget);
    }
    if portals.is_empty() && widgets.is_empty() {
        return Err(ConfigFileError::new(
            "portal",
            "no [[portal]] or [[widget]] is configured: add at least one",
        ));
    }

    if upstream.uri.is_none() && file.app_logout_path.is_some() {
        return Err(ConfigFileError::new(
            "app_logout_path",
            "needs `upstream`: the app's logout is passed on to the app before the portal's",
        ));
    }

    let tls = file.tls.as_ref().map(tls::server_config).transpose()?;
    let admin_token = admin::check(file.admin_token.as_ref(), file.allow_short_secrets)?;

    let cookie_key = match &file.cookie_key {
        Some(from) => CookieKey::Configured {
            key: from.read("cookie_key")?,
            from: from.clone(),
        },
        None => CookieKey::PerProcess(cookie_key::per_process()),
    };
    let (login_url, return_param) = match (&source, &file.login) {
        (Source::Oidc(_), Some(_)) => {
            return Err(ConfigFileError::new(
                "login",
                "with session.oidc, signed-out browsers go to the sidecar's own /sso/oidc/login: leave [login] out",
            ));
        }
        (Source::Oidc(_), None) => (
            crate::oidc::LOGIN_PATH.to_owned(),
            crate::oidc::RETURN_PARAM.to_owned(),
        ),
        (_, login) => {
            let login = login.as_ref().map_or_else(LoginFile::default, Clone::clone);
            (login.url, login.return_param)
        }
    };
    let public_url = check_public_url(&file, &login_url)?;
    Ok(SidecarConfig {
        listen: file.listen,
        admin_listen: file.admin_listen,
        admin_token,
        server,
        upstream,
        tls,
        session_cookie,
        source,
        claims,
        public_url,
        login_url,
        return_param,
        portals,
        widgets,
        app_logout_path: file.app_logout_path,
        app_logout_url: file.app_logout_url,
        allow_short_secrets: file.allow_short_secrets,
        cookie_key,
    })
}

/// `public_url`, required when `login.url` is a full URL: the address to come back to
/// after login is then one too, and it must not be built on a request's `Host`, which any
/// client can set. Its shape is checked by the layer (an origin and nothing more).
fn check_public_url(file: &File, login: &str) -> Result<Option<String>, ConfigFileError> {
    let absolute = url::Url::parse(login)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
    if absolute && file.public_url.is_none() {
        return Err(ConfigFileError::new(
            "public_url",
            format!(
                "is required when login.url ({login}) is on another origin: the address to \
                 come back to after login is then a full URL, built on public_url, never on \
                 the Host a request names (e.g. public_url = \"https://app.example.com\")"
            ),
        ));
    }
    Ok(file.public_url.clone())
}

/// `upstream`, `trusted_proxies` and the upstream timeouts.
fn check_upstream(file: &File) -> Result<UpstreamSettings, ConfigFileError> {
    let uri = file.upstream.as_deref().map(parse_upstream).transpose()?;
    let trusted_proxies = file
        .trusted_proxies
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            parse_net(raw).map_err(|p| ConfigFileError::new(format!("trusted_proxies[{index}]"), p))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tls = match &uri {
        Some(uri) if uri.scheme_str() == Some("https") => {
            Some(tls::upstream_config(file.upstream_ca.as_ref(), "upstream")?)
        }
        _ => None,
    };
    Ok(UpstreamSettings {
        uri,
        tls,
        connect_timeout: Duration::from_millis(file.upstream_connect_timeout_ms.get()),
        response_timeout: Duration::from_secs(file.upstream_timeout_secs.get()),
        trusted_proxies,
    })
}

fn parse_upstream(raw: &str) -> Result<Uri, ConfigFileError> {
    let problem = "must be an http:// or https:// URL of the app, e.g. \"http://127.0.0.1:3000\"";
    let uri: Uri = raw
        .parse()
        .map_err(|_| ConfigFileError::new("upstream", problem))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
        return Err(ConfigFileError::new("upstream", problem));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(ConfigFileError::new(
            "upstream",
            "must not carry user:password@",
        ));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(ConfigFileError::new(
            "upstream",
            "must be scheme, host and port only: requests keep their own path",
        ));
    }
    Ok(uri)
}

/// An address or network: `10.0.0.0/8`, `127.0.0.1` (one address).
fn parse_net(raw: &str) -> Result<IpNet, String> {
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{raw}` is not an address or network like \"10.0.0.0/8\""))
}

fn check_server(server: &ServerFile) -> Result<ServerSettings, ConfigFileError> {
    // hyper's read buffer cannot be smaller than 8 KiB.
    if server.max_header_bytes < 8 * 1024 {
        return Err(ConfigFileError::new(
            "server.max_header_bytes",
            "must be at least 8192",
        ));
    }
    Ok(ServerSettings {
        header_read_timeout: Duration::from_secs(server.header_read_timeout_secs.get()),
        send_timeout: Duration::from_secs(server.send_timeout_secs.get()),
        max_header_bytes: server.max_header_bytes,
        max_connections: server.max_connections.get(),
        shutdown_grace: Duration::from_secs(server.shutdown_grace_secs),
        tunnel_idle_timeout: Duration::from_secs(server.tunnel_idle_timeout_secs.get()),
    })
}

/// `[session]`: the cookie, exactly one identity source, and the claim pointers.
fn check_session(
    file: &File,
    upstream: &UpstreamSettings,
) -> Result<(SessionCookie, Source, ClaimPointers), ConfigFileError> {
    let session = &file.session;
    if let Some(oidc) = &session.oidc {
        return check_oidc(file, oidc);
    }
    let Some(name) = &session.cookie else {
        return Err(ConfigFileError::new("session.cookie", "is required"));
    };
    let mut cookie = SessionCookie::new(name);
    if let Some(path) = &session.path {
        cookie = cookie.with_path(path);
    }
    if let Some(domain) = &session.domain {
        cookie = cookie.with_domain(domain);
    }
    cookie = cookie.with_secure(session.secure);
    let source = match (&session.introspect, &session.jwt, &session.signed) {
        (Some(introspect), None, None) => check_introspect(introspect, file, upstream)?,
        (None, Some(jwt), None) => {
            let algorithm = match jwt.algorithm.as_str() {
                "HS256" => Algorithm::HS256,
                "HS384" => Algorithm::HS384,
                "HS512" => Algorithm::HS512,
                _ => {
                    return Err(ConfigFileError::new(
                        "session.jwt.algorithm",
                        format!(
                            "`{}` is not supported: use HS256, HS384 or HS512",
                            jwt.algorithm
                        ),
                    ));
                }
            };
            Source::Jwt {
                secret: jwt.secret.read("session.jwt.secret")?,
                secret_from: jwt.secret.clone(),
                algorithm,
                audience: jwt
                    .audience
                    .as_ref()
                    .map(|a| a.values("session.jwt.audience"))
                    .transpose()?,
                issuer: jwt
                    .issuer
                    .as_ref()
                    .map(|i| i.values("session.jwt.issuer"))
                    .transpose()?,
            }
        }
        (None, None, Some(signed)) => Source::Signed {
            key: read_cookie_key(&signed.key)?,
            key_from: signed.key.clone(),
            mode: match signed.mode {
                ModeFile::Signed => SignedCookieMode::Signed,
                ModeFile::Private => SignedCookieMode::Private,
            },
        },
        _ => {
            return Err(ConfigFileError::new(
                "session",
                "give exactly one of `introspect`, `jwt`, `signed` or `oidc`",
            ));
        }
    };
    let claims = session
        .claims
        .iter()
        .fold(ClaimPointers::default(), |claims, (name, pointer)| {
            claims.with_field(name, pointer)
        });
    claims.validate().map_err(|name| {
        ConfigFileError::new(
            format!("session.claims.{name}"),
            "must be a JSON pointer starting with `/`, e.g. \"/email\"",
        )
    })?;
    Ok((cookie, source, claims))
}

/// `session.oidc`: the session is portal-sso's own cookie, so the app's cookie keys and
/// the other sources are refused by name.
fn check_oidc(
    file: &File,
    oidc: &super::oidc::OidcFile,
) -> Result<(SessionCookie, Source, ClaimPointers), ConfigFileError> {
    let session = &file.session;
    let other = [
        ("introspect", session.introspect.is_some()),
        ("jwt", session.jwt.is_some()),
        ("signed", session.signed.is_some()),
    ];
    if let Some((name, _)) = other.iter().find(|(_, given)| *given) {
        return Err(ConfigFileError::new(
            "session",
            format!(
                "give exactly one of `introspect`, `jwt`, `signed` or `oidc`, not `{name}` and `oidc`"
            ),
        ));
    }
    let app_cookie = [
        ("cookie", session.cookie.is_some()),
        ("path", session.path.is_some()),
        ("domain", session.domain.is_some()),
        ("secure", session.secure),
    ];
    if let Some((name, _)) = app_cookie.iter().find(|(_, given)| *given) {
        return Err(ConfigFileError::new(
            format!("session.{name}"),
            "with session.oidc the session is portal-sso's own cookie: leave the app's cookie settings out",
        ));
    }
    for (name, pointer) in &session.claims {
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(ConfigFileError::new(
                format!("session.claims.{name}"),
                "must be a JSON pointer starting with `/`, e.g. \"/email\"",
            ));
        }
    }
    let settings = super::oidc::check(oidc, file.public_url.as_deref(), &session.claims)?;
    let claims = settings.claims.clone();
    Ok((
        settings.session_cookie(),
        Source::Oidc(Arc::new(settings)),
        claims,
    ))
}

/// `session.introspect`; an `https://` URL is verified as the upstream is, with the
/// upstream's client config when it has one.
fn check_introspect(
    introspect: &IntrospectFile,
    file: &File,
    upstream: &UpstreamSettings,
) -> Result<Source, ConfigFileError> {
    let key = "session.introspect.url";
    let url = parse_url(key, &introspect.url)?;
    let tls = match (url.scheme_str(), &upstream.tls) {
        (Some("https"), Some(shared)) => Some(Arc::clone(shared)),
        (Some("https"), None) => Some(tls::upstream_config(file.upstream_ca.as_ref(), key)?),
        _ => None,
    };
    Ok(Source::Introspect {
        url,
        cache_ttl: Duration::from_secs(introspect.cache_ttl_secs),
        cache_max_entries: introspect.cache_max_entries,
        timeout: Duration::from_millis(introspect.timeout_ms.get()),
        tls,
    })
}

fn parse_url(key: &str, raw: &str) -> Result<Uri, ConfigFileError> {
    let problem = "must be an http:// or https:// URL, e.g. \"http://127.0.0.1:3000/api/me\"";
    let uri: Uri = raw
        .parse()
        .map_err(|_| ConfigFileError::new(key, problem))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
        return Err(ConfigFileError::new(key, problem));
    }
    Ok(uri)
}

/// The signed-cookie key: the app's 64-byte `cookie::Key` master key, base64-encoded
/// (standard alphabet, padding optional), as `Key::master()` gives it.
fn read_cookie_key(from: &SecretRef) -> Result<cookie::Key, ConfigFileError> {
    use base64::Engine as _;
    let key = "session.signed.key";
    let secret = from.read(key)?;
    let text = std::str::from_utf8(secret.expose())
        .map(str::trim)
        .map_err(|_| ConfigFileError::new(key, format!("{from} is not base64 text")))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
        .map_err(|_| ConfigFileError::new(key, format!("{from} is not base64 text")))?;
    cookie::Key::try_from(bytes.as_slice()).map_err(|_| {
        ConfigFileError::new(
            key,
            format!(
                "{from} decodes to {} bytes; the cookie key is 64 bytes (base64 of Key::master())",
                bytes.len()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::parse;
    use crate::config::tests::BASE;

    #[test]
    fn the_tunnel_idle_timeout_defaults_to_five_minutes_and_is_at_least_one_second() {
        let settings = check_server(&parse(BASE).unwrap().server).unwrap();
        assert_eq!(settings.tunnel_idle_timeout, Duration::from_secs(300));
        let text = format!("{BASE}\n[server]\ntunnel_idle_timeout_secs = 0\n");
        let err = parse(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "server.tunnel_idle_timeout_secs: invalid value: integer `0`, expected a nonzero u64"
        );
    }
}
