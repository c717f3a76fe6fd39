//! `kind = "jwt"`: a portal no preset covers, described in the file: the algorithm and
//! key, where the browser goes and how the token travels, which parameters come back and
//! how each is checked, and each claim in `[portal.claims]`.

// EdDSA is prose here, not code.
#![allow(clippy::doc_markdown)]

use std::str::FromStr;

use serde::Deserialize;

use portal_sso::{Claim, JwtPortal, PassParam, TimeUnit};

use super::PortalFile;
use crate::config::ConfigFileError;
use crate::config::secret_ref::SecretRef;

/// One of `pass_params`: a name, copied back as received, or a table that says how the
/// value is checked.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "expected a parameter name, or { name = \"NAME\", type = \"path\" | \"url\" | \"opaque\" }"
)]
pub(super) enum PassParamFile {
    Name(String),
    Typed(TypedPassParam),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TypedPassParam {
    name: String,
    /// `path`: a same-site path, else left out; `url`: on `redirect_origins`, else the
    /// sign-in is refused; `opaque`: copied back as received.
    #[serde(rename = "type")]
    kind: PassType,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PassType {
    Path,
    Url,
    Opaque,
}

/// The portal an entry of `kind = "jwt"` describes, and where its key is read from.
pub(super) fn portal<'f>(
    file: &'f PortalFile,
    key: &impl Fn(&str) -> String,
) -> Result<(JwtPortal, &'f SecretRef), ConfigFileError> {
    let (algorithm, from, secret) = file.keys().for_algorithm(file.algorithm.as_deref(), key)?;
    let mut portal = JwtPortal::new(algorithm, secret);
    if let Some(param) = &file.target_param {
        portal = portal.with_target_param(param);
    }
    if let Some(param) = &file.path_param {
        portal = portal.with_path_param(param);
    }
    if let Some(param) = &file.token_param {
        portal = portal.with_token_param(param);
    }
    for pass in file.pass_params.iter().flatten() {
        portal = portal.with_pass_param(match pass {
            PassParamFile::Name(name) => PassParam::echo(name),
            PassParamFile::Typed(TypedPassParam { name, kind }) => match kind {
                PassType::Path => PassParam::path(name),
                PassType::Url => PassParam::url(name),
                PassType::Opaque => PassParam::echo(name),
            },
        });
    }
    for (name, claim) in file.claims.iter().flatten() {
        let claim = claim.check(&key(&format!("claims.{name}")))?;
        portal = portal.with_claim(name, claim);
    }
    Ok((portal, from))
}

/// One claim of `[portal.claims]`: `"random"`, `"expiry"`, or a table naming its source.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "expected \"random\", \"expiry\", or one of { identity = \"FIELD\" }, \
                 { time = \"seconds\", add_secs = N }, { param = \"NAME\" }, { value = ... }"
)]
pub(in crate::config) enum ClaimFile {
    Word(String),
    Table(ClaimTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct ClaimTable {
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
    /// With `param`: the operator declares the claim an echo the portal reads as nothing
    /// more, for a name other than `nonce` or `state`.
    echo: Option<bool>,
    /// A constant.
    value: Option<serde_json::Value>,
}

impl ClaimFile {
    /// The claim this entry describes.
    pub(in crate::config) fn check(&self, key: &str) -> Result<Claim, ConfigFileError> {
        let table = match self {
            ClaimFile::Word(word) if word == "random" => return Ok(Claim::random()),
            ClaimFile::Word(word) if word == "expiry" => {
                return Ok(Claim::expiry(TimeUnit::Seconds));
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
        if table.param.is_none() && table.echo.is_some() {
            return Err(misplaced("echo", "param"));
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
            return Ok(claim);
        }
        if let Some(unit) = &table.time {
            let parsed = TimeUnit::from_str(unit)
                .map_err(|problem| ConfigFileError::new(format!("{key}.time"), problem))?;
            return Ok(Claim::time(parsed, table.add_secs.unwrap_or(0)));
        }
        if let Some(param) = &table.param {
            let claim = Claim::param(param);
            return Ok(if table.echo.unwrap_or(false) {
                claim.declared_echo()
            } else {
                claim
            });
        }
        Ok(Claim::value(table.value.clone().unwrap_or_default()))
    }
}
