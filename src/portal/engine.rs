//! The JWT-redirect engine: a [`JwtPortal`] checked once at build time, then, per
//! sign-in, the request read before anyone is looked up ([`Engine::prepare`]) and the
//! token signed and sent on ([`Engine::issue`]).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::SystemTime;

use url::Url;

use super::builder::JwtPortal;
use super::claim::{self, Claim, ClaimError, MAX_ECHO_LEN, PassKind, PassParam, Source, TokenIn};
use super::{Refusal, carries_param, form_post, is_same_site_path};
use crate::error::ConfigError;
use crate::identity::Identity;
use crate::origins::RedirectOrigins;
use crate::query::{self, append_query_param};
use crate::response::{Written, redirect};
use crate::token::TokenSigner;

/// The longest token lifetime accepted: 30 days.
const MAX_TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;

/// A portal, checked.
#[derive(Debug)]
pub(crate) struct Engine {
    target: Target,
    token_param: String,
    token_in: TokenIn,
    pass: Vec<PassParam>,
    claims: Vec<(String, Claim)>,
    token_ttl_secs: u64,
    origins: RedirectOrigins,
    /// Every request parameter the route reads: duplicates of these are refused.
    reads: Vec<String>,
    form_action_extra: String,
    pub(crate) logout_errors: bool,
}

#[derive(Debug)]
enum Target {
    Callback(Url),
    Param { name: String, default: Option<Url> },
    Path { name: String, base: Url },
}

/// A request's parameters, checked before anyone is looked up.
#[derive(Debug)]
pub(crate) struct Prepared {
    target: Url,
    /// Carried back, each value encoded for a query.
    passed: Vec<(String, String)>,
    /// Request parameters the claims echo, decoded.
    params: Vec<(String, String)>,
    /// Parameters given but left out, for the event.
    dropped: Vec<String>,
}

/// A signed token on its way, or why there is none.
pub(crate) enum Issued {
    Sent {
        response: Written,
        target_origin: String,
        reason: Option<String>,
    },
    Refused(ClaimError),
}

#[cfg(test)]
impl Prepared {
    /// Where the token goes, before the token and the carried-back parameters are added.
    pub(crate) fn target(&self) -> &Url {
        &self.target
    }
}

impl Engine {
    #[allow(clippy::too_many_lines)] // one check per setting, in the order they are documented
    pub(crate) fn build(portal: &JwtPortal, field: &str) -> Result<Self, ConfigError> {
        let fail = |key: &str, problem: String| ConfigError::new(format!("{field}.{key}"), problem);
        let origins = RedirectOrigins::parse(&portal.redirect_origins)
            .map_err(|problem| fail("redirect_origins", problem))?;
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
        if let Some(pass) = portal
            .pass_params
            .iter()
            .find(|pass| pass.name == portal.token_param)
        {
            return Err(fail(
                "pass_params",
                format!("`{}` is the token parameter", pass.name),
            ));
        }
        if portal.claims.is_empty() {
            return Err(fail("claims", "is empty: a token needs claims".to_owned()));
        }
        for (name, claim) in &portal.claims {
            if name.is_empty() {
                return Err(fail("claims", "has a claim without a name".to_owned()));
            }
            if matches!(claim.source, Source::Param(_)) && claim::is_trusted_claim(name) {
                return Err(fail(
                    &format!("claims.{name}"),
                    "names the user or grants privileges, so it is never taken from a request \
                     parameter: use a constant or an identity field"
                        .to_owned(),
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
                return Err(fail(
                    "callback_url",
                    "is required (or a target_param the portal sends the address in)".to_owned(),
                ));
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
        let extra = RedirectOrigins::parse(&portal.form_action_origins)
            .map_err(|problem| fail("form_action_origins", problem))?;
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
            logout_errors: portal.logout_errors,
        })
    }

    /// Reads and checks the request's parameters before anyone is looked up: where the
    /// browser goes, what comes back with it, what the claims echo.
    pub(crate) fn prepare(&self, query: Option<&str>) -> Result<Prepared, Refusal> {
        let names: Vec<&str> = self.reads.iter().map(String::as_str).collect();
        let values = query::pick_raw(query, &names).map_err(Refusal::Query)?;
        let raw = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .and_then(|at| values[at])
        };
        let decoded = |name: &str| raw(name).map(query::decode).transpose();
        let mut dropped = Vec::new();
        let target = match &self.target {
            Target::Callback(url) => url.clone(),
            Target::Param { name, default } => match raw(name) {
                None => default
                    .clone()
                    .ok_or(Refusal::MissingRedirect(name.clone()))?,
                Some(raw) => {
                    let url = self
                        .origins
                        .check(&read_url(raw)?)
                        .map_err(Refusal::Redirect)?;
                    self.check_target(&url)?;
                    url
                }
            },
            Target::Path { name, base } => {
                let path = decoded(name).map_err(Refusal::Query)?;
                match path.map(|path| self.join(base, &path)) {
                    None => base.clone(),
                    Some(Some(joined)) => joined,
                    Some(None) => {
                        dropped.push(name.clone());
                        base.clone()
                    }
                }
            }
        };
        let mut passed = Vec::new();
        for pass in &self.pass {
            let Some(raw) = raw(&pass.name) else {
                continue;
            };
            let value = query::decode(raw).map_err(Refusal::Query)?;
            let kept = match pass.kind {
                PassKind::Echo if value.len() > MAX_ECHO_LEN => {
                    return Err(Refusal::TooLong(pass.name.clone()));
                }
                PassKind::Echo => Some(value.into_owned()),
                PassKind::Path => is_same_site_path(&value).then(|| value.into_owned()),
                PassKind::Url => {
                    let url = self
                        .origins
                        .check(&read_url(raw)?)
                        .map_err(Refusal::Redirect)?;
                    if carries_param(&url, &self.token_param) {
                        return Err(Refusal::TargetCarries(self.token_param.clone()));
                    }
                    Some(url.into())
                }
                PassKind::PathOrUrl if value.starts_with('/') => {
                    is_same_site_path(&value).then(|| value.into_owned())
                }
                PassKind::PathOrUrl => read_url(raw)
                    .ok()
                    .and_then(|url| self.path_or_url(&target, &url))
                    .map(String::from),
            };
            match kept {
                Some(value) => passed.push((pass.name.clone(), query::encode(&value).to_string())),
                None => dropped.push(pass.name.clone()),
            }
        }
        let mut params = Vec::new();
        for name in params_of(&self.claims) {
            if let Some(value) = decoded(name).map_err(Refusal::Query)? {
                if value.len() > MAX_ECHO_LEN {
                    return Err(Refusal::TooLong(name.to_owned()));
                }
                params.push((name.to_owned(), value.into_owned()));
            }
        }
        Ok(Prepared {
            target,
            passed,
            params,
            dropped,
        })
    }

    /// Signs the claims for `identity` and answers with the browser's way to the portal.
    pub(crate) fn issue(
        &self,
        signer: &TokenSigner,
        prepared: &Prepared,
        identity: &Identity,
    ) -> Issued {
        let param = |name: &str| {
            prepared
                .params
                .iter()
                .find(|(taken, _)| taken == name)
                .map(|(_, value)| value.as_str())
        };
        let claims = claim::render(
            &self.claims,
            identity,
            param,
            self.token_ttl_secs,
            SystemTime::now(),
        );
        let token = match claims.map(|claims| signer.sign(&claims)) {
            Ok(Ok(token)) => token,
            Ok(Err(error)) => return Issued::Refused(ClaimError::Sign(error)),
            Err(error) => return Issued::Refused(error),
        };
        let mut back = prepared.target.as_str().to_owned();
        if self.token_in == TokenIn::Query {
            back = append_query_param(&back, &self.token_param, &token);
        }
        for (name, value) in &prepared.passed {
            back = append_query_param(&back, name, value);
        }
        let response = match self.token_in {
            TokenIn::Query => redirect(back, true),
            TokenIn::Fragment if self.token_param.is_empty() => {
                redirect(format!("{back}#{token}"), true)
            }
            TokenIn::Fragment => redirect(format!("{back}#{}={token}", self.token_param), true),
            TokenIn::FormPost => {
                let origin = prepared.target.origin().ascii_serialization();
                let form_action = format!("{origin}{}", self.form_action_extra);
                form_post::page(&back, &self.token_param, &token, &form_action)
            }
        };
        let reason = (!prepared.dropped.is_empty()).then(|| {
            prepared
                .dropped
                .iter()
                .map(|name| format!("{name}_dropped"))
                .collect::<Vec<_>>()
                .join(",")
        });
        Issued::Sent {
            response,
            target_origin: prepared.target.origin().ascii_serialization(),
            reason,
        }
    }

    /// A request-supplied target must not already carry what the sign-in adds: a second
    /// one, in any spelling a parser reads as it, would leave it to the portal which one
    /// it reads, and a planted token could sign in the wrong user.
    fn check_target(&self, url: &Url) -> Result<(), Refusal> {
        let added = std::iter::once(&self.token_param).chain(self.pass.iter().map(|p| &p.name));
        for name in added.filter(|name| !name.is_empty()) {
            if carries_param(url, name) {
                return Err(Refusal::TargetCarries(name.clone()));
            }
        }
        if self.token_in == TokenIn::Fragment && url.fragment().is_some() {
            return Err(Refusal::TargetHasFragment);
        }
        Ok(())
    }

    /// `base` with `path` (a same-site path, its leading `/` optional) joined to it, still
    /// on `base`'s origin and under its path; `None` when it is not such a path.
    fn join(&self, base: &Url, path: &str) -> Option<Url> {
        let path: Cow<'_, str> = if path.starts_with('/') {
            Cow::Borrowed(path)
        } else {
            Cow::Owned(format!("/{path}"))
        };
        if !is_same_site_path(&path) {
            return None;
        }
        let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
        let url = Url::parse(&joined).ok()?;
        let stays = url.origin() == base.origin()
            && url.path().starts_with(base.path().trim_end_matches('/'))
            && self.check_target(&url).is_ok();
        stays.then_some(url)
    }

    /// `url` when it is an absolute URL on the target's origin or on the redirect origins.
    fn path_or_url(&self, target: &Url, raw: &str) -> Option<Url> {
        let own = RedirectOrigins::parse([target.origin().ascii_serialization()]).ok()?;
        own.check(raw)
            .or_else(|_| self.origins.check(raw))
            .ok()
            .filter(|url| !carries_param(url, &self.token_param))
    }
}

/// A URL-valued parameter as sent: the vendor's example sends it unescaped
/// (`...&kustomerRedirectUri=https://...`), and then the raw bytes are the URL (decoding
/// them would turn the `%2F` of its own query into `/`); escaped (its scheme's `:` is
/// `%3A`), it is decoded once, even if an inner URL was left unescaped.
fn read_url(raw: &str) -> Result<Cow<'_, str>, Refusal> {
    let sent_as_url = ["https://", "http://"].iter().any(|scheme| {
        raw.get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
    });
    if sent_as_url {
        Ok(Cow::Borrowed(raw))
    } else {
        query::decode(raw).map_err(Refusal::Query)
    }
}

/// The request parameters `claims` echo.
fn params_of(claims: &[(String, Claim)]) -> impl Iterator<Item = &str> {
    claims.iter().filter_map(|(_, claim)| match &claim.source {
        Source::Param(name) => Some(name.as_str()),
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
