//! One sign-in through the engine: the request read and checked before anyone is looked
//! up ([`Engine::prepare`]), then the token signed and sent on ([`Engine::issue`]).

use std::borrow::Cow;
use std::time::SystemTime;

use url::Url;

use super::claim::{self, ClaimError, MAX_ECHO_LEN, PassKind, TokenIn};
use super::engine::{Engine, Target, params_of};
use super::{Refusal, carries_param, form_post, is_same_site_path};
use crate::identity::Identity;
use crate::origins::RedirectOrigins;
use crate::query::{self, append_query_param};
use crate::response::{Written, redirect};
use crate::token::TokenSigner;

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
                    let url = self.allowed_url(raw)?;
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
            let pinned = self.pinned_value(&pass.name);
            let Some(raw) = raw(&pass.name) else {
                if let Some(value) = pinned {
                    passed.push((pass.name.clone(), query::encode(value).to_string()));
                }
                continue;
            };
            let value = query::decode(raw).map_err(Refusal::Query)?;
            if let Some(pinned) = pinned {
                if value != pinned {
                    return Err(Refusal::NotPinned(pass.name.clone()));
                }
                passed.push((pass.name.clone(), query::encode(pinned).to_string()));
                continue;
            }
            let kept = match pass.kind {
                PassKind::Echo if value.len() > MAX_ECHO_LEN => {
                    return Err(Refusal::TooLong(pass.name.clone()));
                }
                PassKind::Echo => Some(value.into_owned()),
                PassKind::Path => is_same_site_path(&value).then(|| value.into_owned()),
                PassKind::Url => {
                    let url = self.allowed_url(raw)?;
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
        let target_origin = prepared.target.origin().ascii_serialization();
        let context = claim::Context {
            param,
            token_ttl_secs: self.token_ttl_secs,
            target_origin: &target_origin,
            now: SystemTime::now(),
        };
        let claims = claim::render(&self.claims, identity, &context);
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
            target_origin,
            reason,
        }
    }

    /// The value the pass param `name` is pinned to, if it is.
    fn pinned_value(&self, name: &str) -> Option<&str> {
        self.pinned
            .iter()
            .find(|(pinned, _)| pinned == name)
            .map(|(_, value)| value.as_str())
    }

    /// A URL-valued parameter, read as sent ([`read_url`]) and on the redirect origins.
    fn allowed_url(&self, raw: &str) -> Result<Url, Refusal> {
        self.origins
            .check(&read_url(raw)?)
            .map_err(Refusal::Redirect)
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
