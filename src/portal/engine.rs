//! The JWT-redirect engine: a [`JwtPortal`] checked once at build time. What it does for
//! one sign-in is in `request.rs`.

use std::fmt::Write as _;

use url::Url;

use super::claim::{Claim, PassKind, PassParam, Source, TokenIn};
use super::jwt_portal::JwtPortal;
use super::preset::Preset;
use super::{ECHO_CLAIMS, carries_param};
use crate::error::ConfigError;
use crate::origins::{OriginPattern, RedirectOrigins};
use crate::query::names_read_alike;

/// The longest token lifetime accepted: 30 days.
const MAX_TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;

/// A portal, checked.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(super) target: Target,
    pub(super) token_param: String,
    pub(super) token_in: TokenIn,
    pub(super) pass: Vec<PassParam>,
    pub(super) claims: Vec<(String, Claim)>,
    pub(super) token_ttl_secs: u64,
    pub(super) origins: RedirectOrigins,
    /// Every request parameter the route reads: duplicates of these are refused.
    pub(super) reads: Vec<String>,
    /// Origins a form may post to besides the target's, each after a space.
    pub(super) form_action_extra: String,
    /// Pass params whose value is fixed by the configuration.
    pub(super) pinned: Vec<(String, String)>,
    pub(crate) logout_errors: bool,
}

/// Where the browser goes.
#[derive(Debug)]
pub(super) enum Target {
    /// A fixed callback.
    Callback(Url),
    /// An address in the request parameter `name`, else `default`.
    Param { name: String, default: Option<Url> },
    /// The callback `base` with the same-site path in the parameter `name` joined to it.
    Path { name: String, base: Url },
}

impl Engine {
    #[allow(clippy::too_many_lines)] // one check per setting, in the order they are documented
    pub(crate) fn build(portal: &JwtPortal, field: &str) -> Result<Self, ConfigError> {
        let fail = |key: &str, problem: String| ConfigError::new(format!("{field}.{key}"), problem);
        let origins = parse_origins(&portal.redirect_origins)
            .map_err(|(at, problem)| fail(&format!("redirect_origins[{at}]"), problem))?;
        let names = portal
            .pass_params
            .iter()
            .map(|p| p.name.as_str())
            .chain(portal.target_param.as_deref())
            .chain(portal.path_param.as_deref());
        for name in names.chain(params_of(&portal.claims)) {
            check_param_name(name).map_err(|problem| fail("params", problem))?;
        }
        if !portal.token_param.is_empty() || portal.token_in != TokenIn::Fragment {
            check_param_name(&portal.token_param).map_err(|p| fail("token_param", p))?;
        }
        check_added_names(portal).map_err(|problem| fail("pass_params", problem))?;
        if portal.claims.is_empty() {
            return Err(fail("claims", "is empty: a token needs claims".to_owned()));
        }
        for (name, claim) in &portal.claims {
            if name.is_empty() {
                return Err(fail("claims", "has a claim without a name".to_owned()));
            }
            if let Source::Param {
                declared_echo: false,
                ..
            } = claim.source
                && !ECHO_CLAIMS.contains(&name.as_str())
            {
                return Err(fail(
                    &format!("claims.{name}"),
                    format!(
                        "takes a request parameter, which whoever sends the browser writes: \
                         only {} may, or a claim declared an echo that the portal reads as \
                         nothing more",
                        ECHO_CLAIMS.join(" and ")
                    ),
                ));
            }
        }
        for (name, _) in &portal.pinned_params {
            let echoed = portal
                .pass_params
                .iter()
                .any(|pass| pass.name == *name && pass.kind == PassKind::Echo);
            if !echoed {
                return Err(fail(
                    &format!("pinned_params.{name}"),
                    "is not a parameter this portal carries back as received".to_owned(),
                ));
            }
        }
        if !(1..=MAX_TOKEN_TTL_SECS).contains(&portal.token_ttl_secs) {
            return Err(fail(
                "token_ttl_secs",
                format!("must be from 1 to {MAX_TOKEN_TTL_SECS} seconds (30 days)"),
            ));
        }
        let added: Vec<&str> = std::iter::once(portal.token_param.as_str())
            .chain(portal.pass_params.iter().map(|p| p.name.as_str()))
            .filter(|name| !name.is_empty())
            .collect();
        let target = match (&portal.callback_url, &portal.target_param) {
            (Some(_), Some(_)) => {
                return Err(fail(
                    "target_param",
                    "is set beside callback_url: give one of them".to_owned(),
                ));
            }
            (None, None) => {
                let problem = match portal.preset.and_then(Preset::example_callback) {
                    Some(example) => format!(
                        "is required for kind \"{}\", e.g. \"{example}\"",
                        portal.kind()
                    ),
                    None => {
                        "is required (or a target_param the portal sends the address in)".to_owned()
                    }
                };
                return Err(fail("callback_url", problem));
            }
            (Some(raw), None) => {
                if portal.default_redirect.is_some() {
                    return Err(fail(
                        "default_redirect",
                        "only applies to a target_param; this portal has a callback_url".to_owned(),
                    ));
                }
                let callback = check_callback(raw).map_err(|p| fail("callback_url", p))?;
                // One already there, in any spelling a parser reads as one the sign-in
                // adds, could be the one the portal reads.
                if let Some(name) = added.iter().find(|name| carries_param(&callback, name)) {
                    return Err(fail(
                        "callback_url",
                        format!(
                            "already carries a parameter that reads as `{name}`, which sign-in adds"
                        ),
                    ));
                }
                if portal.token_in == TokenIn::Fragment && callback.fragment().is_some() {
                    return Err(fail(
                        "callback_url",
                        "has a fragment, where the token goes".to_owned(),
                    ));
                }
                match &portal.path_param {
                    None => Target::Callback(callback),
                    Some(name) => {
                        if callback.query().is_some() || callback.fragment().is_some() {
                            return Err(fail(
                                "callback_url",
                                format!(
                                    "has a query or fragment, so `{name}` cannot be joined to it"
                                ),
                            ));
                        }
                        Target::Path {
                            name: name.clone(),
                            base: callback,
                        }
                    }
                }
            }
            (None, Some(name)) => {
                if portal.path_param.is_some() {
                    return Err(fail(
                        "path_param",
                        "joins a path to callback_url, which this portal does not have".to_owned(),
                    ));
                }
                let default = match &portal.default_redirect {
                    None => None,
                    Some(raw) => {
                        let url = origins.check(raw).map_err(|rejection| {
                            fail(
                                "default_redirect",
                                format!("`{raw}` is refused: {rejection}"),
                            )
                        })?;
                        if let Some(name) = added.iter().find(|name| carries_param(&url, name)) {
                            return Err(fail(
                                "default_redirect",
                                format!("already carries a parameter that reads as `{name}`"),
                            ));
                        }
                        Some(url)
                    }
                };
                if origins.is_empty() && default.is_none() {
                    return Err(fail(
                        "redirect_origins",
                        format!("is empty: give the origins `{name}` may point at"),
                    ));
                }
                Target::Param {
                    name: name.clone(),
                    default,
                }
            }
        };
        if let Some(example) = portal.preset.and_then(Preset::example_origin)
            && origins.is_empty()
            && !matches!(target, Target::Param { .. })
        {
            return Err(fail(
                "redirect_origins",
                format!(
                    "is required for kind \"{}\" (every sign-in carries an address to check \
                     against it), e.g. [\"{example}\"]",
                    portal.kind()
                ),
            ));
        }
        let extra = parse_origins(&portal.form_action_origins)
            .map_err(|(at, problem)| fail(&format!("form_action_origins[{at}]"), problem))?;
        let mut form_action_extra = String::new();
        for pattern in extra.patterns() {
            let _ = write!(form_action_extra, " {pattern}");
        }
        let mut reads: Vec<String> = Vec::new();
        let read_names = portal
            .target_param
            .iter()
            .chain(&portal.path_param)
            .map(String::as_str)
            .chain(portal.pass_params.iter().map(|p| p.name.as_str()))
            .chain(params_of(&portal.claims));
        for name in read_names {
            if !reads.iter().any(|taken| taken == name) {
                reads.push(name.to_owned());
            }
        }
        Ok(Self {
            target,
            token_param: portal.token_param.clone(),
            token_in: portal.token_in,
            pass: portal.pass_params.clone(),
            claims: portal.claims.clone(),
            token_ttl_secs: portal.token_ttl_secs,
            origins,
            reads,
            form_action_extra,
            pinned: portal.pinned_params.clone(),
            logout_errors: portal.logout_errors,
        })
    }
}

/// The origins, or the index of the first that does not parse and why.
fn parse_origins(origins: &[String]) -> Result<RedirectOrigins, (usize, String)> {
    let patterns = origins
        .iter()
        .enumerate()
        .map(|(at, origin)| OriginPattern::parse(origin).map_err(|problem| (at, problem)))
        .collect::<Result<_, _>>()?;
    Ok(RedirectOrigins::from_patterns(patterns))
}

/// The request parameters `claims` echo.
pub(super) fn params_of(claims: &[(String, Claim)]) -> impl Iterator<Item = &str> {
    claims.iter().filter_map(|(_, claim)| match &claim.source {
        Source::Param { name, .. } => Some(name.as_str()),
        _ => None,
    })
}

/// A parameter name written plainly: letters, digits, `_`, `-`, `.` and `~`.
fn check_param_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~'))
    {
        return Err(format!(
            "`{name}` must be a parameter name of letters, digits, `_`, `-`, `.` or `~`"
        ));
    }
    Ok(())
}

/// An absolute `http(s)` URL with a host and no user name or password.
fn check_callback(raw: &str) -> Result<Url, String> {
    Url::parse(raw)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some())
        .filter(|url| url.username().is_empty() && url.password().is_none())
        .ok_or_else(|| {
            format!("`{raw}` must be an absolute https:// URL without a user name or password")
        })
}

/// The names the sign-in adds to the address (the token's and each pass param's), none
/// of which a common parser may read as another: a request's `SSOTOKEN` copied back beside
/// our `ssoToken` could be the one the portal reads.
fn check_added_names(portal: &JwtPortal) -> Result<(), String> {
    let added: Vec<&str> = std::iter::once(portal.token_param.as_str())
        .filter(|name| !name.is_empty())
        .chain(portal.pass_params.iter().map(|p| p.name.as_str()))
        .collect();
    for (at, name) in added.iter().enumerate() {
        if let Some(other) = added[at + 1..]
            .iter()
            .find(|other| names_read_alike(name, other))
        {
            let what = if at == 0 && *name == portal.token_param {
                "the token parameter"
            } else {
                "another parameter this sign-in adds"
            };
            return Err(format!(
                "`{other}` reads as `{name}`, {what}, to common parsers: the portal could \
                 take a request's value for ours"
            ));
        }
    }
    Ok(())
}
