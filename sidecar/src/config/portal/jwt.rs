//! `kind = "jwt"`: a portal no preset covers, described in the file: the algorithm and
//! key, where the browser goes and how the token travels, which parameters come back,
//! and each claim in `[portal.claims]`.

// Vendor names (GitBook, HelpDocs, ReadMe) and EdDSA are prose here, not code.
#![allow(clippy::doc_markdown)]

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Deserialize;

use portal_sso::{Claim, JwtAlgorithm, JwtPortal, PassParam, TimeUnit};

use super::presets::{Keys, apply_common};
use super::{PortalSettings, route_path};
use crate::config::ConfigFileError;
use crate::config::secret_ref::SecretRef;

/// `kind = "jwt"` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct JwtFile {
    name: Option<String>,
    path: Option<String>,
    algorithm: String,
    /// The shared secret of HS256/384/512.
    secret: Option<SecretRef>,
    /// The PEM private key of RS256, ES256 and EdDSA.
    private_key: Option<SecretRef>,
    callback_url: Option<String>,
    target_param: Option<String>,
    path_param: Option<String>,
    redirect_origins: Option<Vec<String>>,
    default_redirect: Option<String>,
    token_param: Option<String>,
    /// Origins a `form_post` page may post to besides the callback's own.
    form_action_origins: Option<Vec<String>>,
    token_in: Option<String>,
    #[serde(default)]
    pass_params: Vec<String>,
    token_ttl_secs: Option<u64>,
    audience: Option<String>,
    logout_path: Option<String>,
    logout_redirect: Option<String>,
    portal_logout_url: Option<String>,
    #[serde(default)]
    claims: BTreeMap<String, ClaimFile>,
}

/// One claim of `[portal.claims]`: `"random"`, `"expiry"`, or a table naming its source.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "expected \"random\", \"expiry\", or one of { identity = \"FIELD\" }, \
                 { time = \"seconds\", add_secs = N }, { param = \"NAME\" }, { value = ... }"
)]
enum ClaimFile {
    Word(String),
    Table(ClaimTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimTable {
    /// An identity field, named as in `[session.claims]`.
    identity: Option<String>,
    /// With `identity`: leave the claim out when the user has no such field, rather than
    /// refusing the sign-in.
    optional: Option<bool>,
    /// With `identity`: a number written as its decimal string.
    as_string: Option<bool>,
    /// `seconds` or `milliseconds` since the epoch at signing...
    time: Option<String>,
    /// ...plus this many seconds (may be negative).
    add_secs: Option<i64>,
    /// A request parameter echoed.
    param: Option<String>,
    /// A constant.
    value: Option<serde_json::Value>,
}

impl JwtFile {
    const KIND: &str = "jwt";

    pub(super) fn check(
        &self,
        key: impl Fn(&str) -> String,
    ) -> Result<PortalSettings, ConfigFileError> {
        let algorithm = JwtAlgorithm::from_str(&self.algorithm)
            .map_err(|problem| ConfigFileError::new(key("algorithm"), problem))?;
        let (key_from, secret) = self.read_key(algorithm, &key)?;
        let mut portal = JwtPortal::new(algorithm, secret.clone());
        match (&self.callback_url, &self.target_param) {
            (Some(url), None) => portal = portal.with_callback_url(url),
            (None, Some(param)) => portal = portal.with_target_param(param),
            (Some(_), Some(_)) => {
                return Err(ConfigFileError::new(
                    key("target_param"),
                    "give `callback_url` (a fixed target) or `target_param`, not both",
                ));
            }
            (None, None) => {
                return Err(ConfigFileError::new(
                    key("callback_url"),
                    "is required for kind = \"jwt\" unless `target_param` names the request \
                     parameter that carries the target",
                ));
            }
        }
        if let Some(param) = &self.path_param {
            portal = portal.with_path_param(param);
        }
        if let Some(param) = &self.token_param {
            portal = portal.with_token_param(param);
        }
        for name in &self.pass_params {
            portal = portal.with_pass_param(PassParam::echo(name));
        }
        let mut described = Vec::with_capacity(self.claims.len());
        for (name, claim) in &self.claims {
            let claim_key = key(&format!("claims.{name}"));
            let (claim, description) = claim.check(&claim_key)?;
            portal = portal.with_claim(name, claim);
            described.push(format!("{name} ({description})"));
        }
        let keys = Keys {
            name: self.name.as_deref(),
            path: self.path.as_deref(),
            redirect_origins: self.redirect_origins.as_deref(),
            form_action_origins: self.form_action_origins.as_deref(),
            default_redirect: self.default_redirect.as_deref(),
            token_in: self.token_in.as_deref(),
            token_ttl_secs: self.token_ttl_secs,
            logout_path: self.logout_path.as_deref(),
            logout_redirect: self.logout_redirect.as_deref(),
            portal_logout_url: self.portal_logout_url.as_deref(),
            ..Keys::default()
        };
        portal = apply_common(portal, &keys, &key)?;
        if let Some(audience) = &self.audience {
            portal = portal.with_audience(audience);
            described.push("aud (audience)".to_owned());
        }
        let target = match (&self.callback_url, &self.target_param) {
            (Some(url), _) => url.clone(),
            (None, param) => format!(
                "{} on {}",
                param.as_deref().unwrap_or_default(),
                portal.redirect_origins().join(", ")
            ),
        };
        let token_in = self.token_in.as_deref().unwrap_or("query");
        Ok(PortalSettings {
            kind: Self::KIND,
            path: route_path(self.path.as_deref(), Self::KIND),
            target: format!("{target} ({token_in})"),
            claims: described.join(", "),
            key_from: key_from.clone(),
            key: secret,
            portal,
        })
    }

    /// The key the algorithm signs with: `secret` for HS*, `private_key` otherwise; the
    /// other one given is an error naming it.
    fn read_key(
        &self,
        algorithm: JwtAlgorithm,
        key: &impl Fn(&str) -> String,
    ) -> Result<(&SecretRef, portal_sso::Secret), ConfigFileError> {
        let (wanted, unwanted, wanted_name, unwanted_name, why) = if algorithm.uses_secret() {
            (
                &self.secret,
                &self.private_key,
                "secret",
                "private_key",
                "signs with a shared secret: give `secret`, not a PEM `private_key`",
            )
        } else {
            (
                &self.private_key,
                &self.secret,
                "private_key",
                "secret",
                "signs with a PEM private key: give `private_key`, not a shared `secret`",
            )
        };
        if unwanted.is_some() {
            return Err(ConfigFileError::new(
                key(unwanted_name),
                format!("algorithm {algorithm} {why}"),
            ));
        }
        let Some(from) = wanted else {
            return Err(ConfigFileError::new(
                key(wanted_name),
                format!("is required for algorithm {algorithm}"),
            ));
        };
        Ok((from, from.read(&key(wanted_name))?))
    }
}

impl ClaimFile {
    /// The claim, and how the summary describes its source.
    fn check(&self, key: &str) -> Result<(Claim, String), ConfigFileError> {
        let table = match self {
            ClaimFile::Word(word) if word == "random" => {
                return Ok((Claim::random(), "random".to_owned()));
            }
            ClaimFile::Word(word) if word == "expiry" => {
                return Ok((
                    Claim::expiry(TimeUnit::Seconds),
                    "expiry, seconds".to_owned(),
                ));
            }
            ClaimFile::Word(word) => {
                return Err(ConfigFileError::new(
                    key,
                    format!(
                        "`{word}` is not a claim source: use \"random\", \"expiry\" or a table"
                    ),
                ));
            }
            ClaimFile::Table(table) => table,
        };
        let sources = [
            table.identity.is_some(),
            table.time.is_some(),
            table.param.is_some(),
            table.value.is_some(),
        ];
        if sources.iter().filter(|given| **given).count() != 1 {
            return Err(ConfigFileError::new(
                key,
                "give exactly one of `identity`, `time`, `param` or `value`",
            ));
        }
        let misplaced = |name: &str, with: &str| {
            ConfigFileError::new(format!("{key}.{name}"), format!("goes only with `{with}`"))
        };
        if table.identity.is_none() {
            if table.optional.is_some() {
                return Err(misplaced("optional", "identity"));
            }
            if table.as_string.is_some() {
                return Err(misplaced("as_string", "identity"));
            }
        }
        if table.time.is_none() && table.add_secs.is_some() {
            return Err(misplaced("add_secs", "time"));
        }
        if let Some(field) = &table.identity {
            let optional = table.optional.unwrap_or(false);
            let mut claim = if optional {
                Claim::identity_if_known(field)
            } else {
                Claim::identity(field)
            };
            if table.as_string.unwrap_or(false) {
                claim = claim.as_string();
            }
            let known = if optional { ", if known" } else { "" };
            return Ok((claim, format!("identity {field}{known}")));
        }
        if let Some(unit) = &table.time {
            let parsed = TimeUnit::from_str(unit)
                .map_err(|problem| ConfigFileError::new(format!("{key}.time"), problem))?;
            let add = table.add_secs.unwrap_or(0);
            return Ok((Claim::time(parsed, add), format!("time {unit} {add:+}")));
        }
        if let Some(param) = &table.param {
            return Ok((Claim::param(param), format!("param {param}")));
        }
        let value = table.value.clone().unwrap_or_default();
        Ok((Claim::value(value), "value".to_owned()))
    }
}
