//! The builder's checks of single settings: route paths, the operator's URLs, the public
//! origin and each portal's key.

use url::Url;

use crate::error::ConfigError;
use crate::portal::JwtPortal;
use crate::secret::MIN_SECRET_LEN;
use crate::token::TokenSigner;

/// The portal's signer, once its key is known to fit: a shared secret of at least
/// [`MIN_SECRET_LEN`] bytes (unless `allow_short`) for HS*, a PEM private key of the
/// algorithm's type otherwise.
pub(super) fn signer(
    portal: &JwtPortal,
    field: &str,
    allow_short: bool,
) -> Result<TokenSigner, ConfigError> {
    let key_field = if portal.algorithm.uses_secret() {
        format!("{field}.secret")
    } else {
        format!("{field}.private_key")
    };
    let secret = &portal.key;
    if secret.is_empty() {
        return Err(ConfigError::new(key_field, "is empty"));
    }
    if portal.algorithm.uses_secret() && secret.len() < MIN_SECRET_LEN && !allow_short {
        return Err(ConfigError::new(
            key_field,
            format!(
                "is {} bytes; at least {MIN_SECRET_LEN} are required (allow_short_secrets overrides)",
                secret.len()
            ),
        ));
    }
    TokenSigner::new(portal.algorithm, secret).map_err(|error| {
        ConfigError::new(
            key_field,
            format!("{} ({})", error.problem(), portal.algorithm),
        )
    })
}

/// A route path: starts with a single `/`, nothing but path characters.
pub(super) fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(format!(
            "`{path}` must be an absolute path starting with a single `/`"
        ));
    }
    if path.contains(['?', '#', '\\', '%'])
        || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "`{path}` must be a plain path without query, fragment, `%` or white space"
        ));
    }
    Ok(())
}

/// The public origin as `https://host[:port]` (lower case, default port left out), from a
/// URL that is an origin and nothing more.
pub(super) fn public_origin(url: &str) -> Result<String, String> {
    let problem = || {
        format!(
            "`{url}` must be an origin only: http(s)://, a host and an optional port, \
             e.g. https://app.example.com"
        )
    };
    let parsed = Url::parse(url).map_err(|_| problem())?;
    if !matches!(parsed.scheme(), "https" | "http")
        || parsed.host().is_none()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.path() != "/"
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        return Err(problem());
    }
    Ok(parsed.origin().ascii_serialization())
}

/// A local path (`/login`) or an absolute `http(s)` URL, as configured by the operator.
pub(super) fn check_local_or_absolute(url: &str) -> Result<String, String> {
    if url.starts_with('/') {
        check_path(url.split('?').next().unwrap_or(url))?;
        return Ok(url.to_owned());
    }
    let parsed =
        Url::parse(url).map_err(|err| format!("`{url}` is neither a path nor a URL: {err}"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host().is_none() {
        return Err(format!("`{url}` must be a path or an http(s) URL"));
    }
    Ok(parsed.to_string())
}
