//! What a portal's token says ([`Claim`]), which request parameters come back with it
//! ([`PassParam`]) and how it travels ([`TokenIn`]), and the claims made for one sign-in.

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::identity::{Identity, IdentityError};
use crate::token::SignError;

/// How the token travels to the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenIn {
    /// A query parameter of the target (`…/callback?jwt=<token>`), added with every
    /// existing byte of the target kept.
    Query,
    /// The target's fragment: `#<token>`, or `#<param>=<token>` when the portal has a
    /// token parameter. The browser never sends a fragment to a server, so the token stays
    /// out of every access log (Mintlify).
    Fragment,
    /// A page that posts the token in a hidden form field to the target and submits
    /// itself (Zendesk's recommended way); the parameters carried back stay in the
    /// target's query.
    FormPost,
}

impl TokenIn {
    /// `query`, `fragment` or `form_post`, as the configuration writes it.
    pub const fn name(self) -> &'static str {
        match self {
            TokenIn::Query => "query",
            TokenIn::Fragment => "fragment",
            TokenIn::FormPost => "form_post",
        }
    }
}

impl FromStr for TokenIn {
    type Err = String;

    /// Reads `query`, `fragment` or `form_post`.
    fn from_str(name: &str) -> Result<Self, String> {
        [TokenIn::Query, TokenIn::Fragment, TokenIn::FormPost]
            .into_iter()
            .find(|way| way.name() == name)
            .ok_or_else(|| format!("`{name}` is not one of query, fragment, form_post"))
    }
}

/// The unit of a time claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeUnit {
    /// Seconds since the Unix epoch, as RFC 7519 `NumericDate` and most portals use.
    Seconds,
    /// Milliseconds since the Unix epoch (Helpjuice's `iat`).
    Milliseconds,
}

impl FromStr for TimeUnit {
    type Err = String;

    /// Reads `seconds` or `milliseconds`.
    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "seconds" => Ok(TimeUnit::Seconds),
            "milliseconds" => Ok(TimeUnit::Milliseconds),
            _ => Err(format!("`{name}` is not one of seconds, milliseconds")),
        }
    }
}

/// Where one claim's value comes from, for [`JwtPortal::with_claim`].
///
/// [`JwtPortal::with_claim`]: crate::JwtPortal::with_claim
///
/// ```
/// use portal_sso::{Claim, TimeUnit};
/// use serde_json::json;
///
/// let claims = [
///     ("email", Claim::identity("email")),
///     ("external_id", Claim::identity_if_known("external_id")),
///     ("iat", Claim::time(TimeUnit::Milliseconds, 0)),
///     ("exp", Claim::expiry(TimeUnit::Seconds)),
///     ("jti", Claim::random()),
///     ("nonce", Claim::param("nonce")),
///     ("scope", Claim::value(json!("user"))),
/// ];
/// # let _ = claims;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub(crate) source: Source,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    Identity {
        field: String,
        required: bool,
        as_string: bool,
    },
    Time {
        unit: TimeUnit,
        add_secs: i64,
    },
    Expiry(TimeUnit),
    Random,
    Param {
        name: String,
        /// Declared by the operator as a value the portal only echoes back.
        declared_echo: bool,
    },
    Value(Value),
    TargetOrigin,
}

/// Where a claim's value comes from, as [`Claim::source`] shows it to a checker.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ClaimSource<'a> {
    /// The identity field `field`; left out when unknown unless `required`; a number
    /// written as a string when `as_string`.
    Identity {
        /// The identity field.
        field: &'a str,
        /// Whether a sign-in without it is refused (else the claim is left out).
        required: bool,
        /// Whether a number is written as its decimal string.
        as_string: bool,
    },
    /// The time of signing plus `add_secs`, an integer in `unit`.
    Time {
        /// Seconds or milliseconds.
        unit: TimeUnit,
        /// Added to the time of signing.
        add_secs: i64,
    },
    /// The time of signing plus the portal's token lifetime, an integer in `unit`.
    Expiry {
        /// Seconds or milliseconds.
        unit: TimeUnit,
    },
    /// 128 random bits as 32 hex digits.
    Random,
    /// The request parameter `name`, left out when absent.
    Param {
        /// The request parameter.
        name: &'a str,
    },
    /// A constant.
    Value(&'a Value),
    /// The origin of the address the token is sent to.
    TargetOrigin,
}

impl Claim {
    /// The identity field `field` ([`Identity::field`]). An identity without it is
    /// refused with a 403 page naming the field; names may be empty strings.
    pub fn identity(field: impl Into<String>) -> Self {
        Self::from_identity(field.into(), true)
    }

    /// The identity field `field` when the identity has it and it is not an empty string;
    /// otherwise the claim is left out.
    pub fn identity_if_known(field: impl Into<String>) -> Self {
        Self::from_identity(field.into(), false)
    }

    fn from_identity(field: String, required: bool) -> Self {
        Self {
            source: Source::Identity {
                field,
                required,
                as_string: false,
            },
        }
    }

    /// An identity claim whose number is written as its decimal string (`42` as
    /// `"42"`), for claims a portal reads as strings only, like `sub`. Another value that
    /// is not a string is refused at sign-in. No effect on other claims.
    #[must_use]
    pub fn as_string(mut self) -> Self {
        if let Source::Identity { as_string, .. } = &mut self.source {
            *as_string = true;
        }
        self
    }

    /// The time of signing plus `add_secs` (which may be negative), as an integer in
    /// `unit`.
    pub fn time(unit: TimeUnit, add_secs: i64) -> Self {
        Self {
            source: Source::Time { unit, add_secs },
        }
    }

    /// The time of signing plus the portal's token lifetime
    /// ([`JwtPortal::with_token_ttl_secs`](crate::JwtPortal::with_token_ttl_secs)), as an
    /// integer in `unit`: an `exp` that is the portal session's end.
    pub fn expiry(unit: TimeUnit) -> Self {
        Self {
            source: Source::Expiry(unit),
        }
    }

    /// 128 bits from the operating system's random source as 32 hex digits, fresh for each
    /// token: a `jti` a portal can refuse to see twice.
    pub fn random() -> Self {
        Self {
            source: Source::Random,
        }
    }

    /// The request parameter `name` as received (decoded, at most 1 KiB), left out when
    /// the request has none: an OIDC `nonce` echoed back.
    ///
    /// # Security
    /// The request is the user's to write, so a parameter claim is accepted at build time
    /// only under a name portals read as an echo (`nonce`, `state`), or when
    /// [declared an echo](Claim::declared_echo).
    pub fn param(name: impl Into<String>) -> Self {
        Self {
            source: Source::Param {
                name: name.into(),
                declared_echo: false,
            },
        }
    }

    /// Declares a [`param`](Claim::param) claim an echo: a value the portal only hands
    /// back to whoever sent it (a `brand` it round-trips), never reads as who the user is
    /// or what they may do. Without it, a parameter claim is accepted only under the
    /// names portals read as echoes ([`ECHO_CLAIMS`](crate::portal::ECHO_CLAIMS)). No
    /// effect on other claims.
    ///
    /// # Security
    /// Declare only what you have checked your portal reads as nothing more: a request
    /// parameter is whatever the person sending the browser wrote.
    #[must_use]
    pub fn declared_echo(mut self) -> Self {
        if let Source::Param { declared_echo, .. } = &mut self.source {
            *declared_echo = true;
        }
        self
    }

    /// The origin of the address the token is sent to (`https://acme.helpdocs.io`, no
    /// trailing slash): an `aud` naming the portal that may read the token.
    pub fn target_origin() -> Self {
        Self {
            source: Source::TargetOrigin,
        }
    }

    /// Where the claim's value comes from.
    pub fn source(&self) -> ClaimSource<'_> {
        match &self.source {
            Source::Identity {
                field,
                required,
                as_string,
            } => ClaimSource::Identity {
                field,
                required: *required,
                as_string: *as_string,
            },
            Source::Time { unit, add_secs } => ClaimSource::Time {
                unit: *unit,
                add_secs: *add_secs,
            },
            Source::Expiry(unit) => ClaimSource::Expiry { unit: *unit },
            Source::Random => ClaimSource::Random,
            Source::Param { name, .. } => ClaimSource::Param { name },
            Source::Value(value) => ClaimSource::Value(value),
            Source::TargetOrigin => ClaimSource::TargetOrigin,
        }
    }

    /// A constant JSON value, the same in every token (`aud`, `scope`, a fixed `role`).
    pub fn value(value: impl Into<Value>) -> Self {
        Self {
            source: Source::Value(value.into()),
        }
    }
}

/// A request parameter the portal sends to the login route and wants back beside the
/// token, for [`JwtPortal::with_pass_param`](crate::JwtPortal::with_pass_param).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassParam {
    pub(crate) name: String,
    pub(crate) kind: PassKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PassKind {
    Echo,
    Path,
    Url,
    PathOrUrl,
}

impl PassParam {
    /// Copied back as received (decoded once, encoded again), like Aha!'s `state`. Over
    /// 1 KiB is a 400 page.
    pub fn echo(name: impl Into<String>) -> Self {
        Self::new(name, PassKind::Echo)
    }

    /// Copied back only when it is a path on the same site, like Aha!'s `return_to`:
    /// starting with a single `/`, no dot segments, backslashes, escaped slashes, white
    /// space or invisible characters. Anything else is left out and the `token_issued`
    /// event's reason says `<name>_dropped`.
    pub fn path(name: impl Into<String>) -> Self {
        Self::new(name, PassKind::Path)
    }

    /// Copied back only when it is an absolute URL on one of the portal's
    /// `redirect_origins`, under the rules `kustomerRedirectUri` is checked by; anything
    /// else is a 400 page and nothing is signed.
    pub fn url(name: impl Into<String>) -> Self {
        Self::new(name, PassKind::Url)
    }

    /// A same-site path as [`path`](PassParam::path), or an absolute URL on the target's
    /// own origin or one of `redirect_origins` (Zendesk's `return_to`: a path for the help
    /// center, a URL for the agent interface); anything else is left out as `path` does.
    pub fn path_or_url(name: impl Into<String>) -> Self {
        Self::new(name, PassKind::PathOrUrl)
    }

    fn new(name: impl Into<String>, kind: PassKind) -> Self {
        Self {
            name: name.into(),
            kind,
        }
    }

    /// The parameter's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Sets the claim `name` in `claims`: replacing one of the same name where it stands,
/// else added at the end (claims are signed in this order).
pub(crate) fn set(claims: &mut Vec<(String, Claim)>, name: String, claim: Claim) {
    match claims.iter_mut().find(|(taken, _)| *taken == name) {
        Some(slot) => slot.1 = claim,
        None => claims.push((name, claim)),
    }
}

/// The longest value an echoed parameter or a parameter claim may have.
pub(crate) const MAX_ECHO_LEN: usize = 1024;

/// Why one sign-in's claims could not be made.
#[derive(Debug)]
pub(crate) enum ClaimError {
    /// The identity lacks a field or has one a portal must not be shown: 403.
    Identity(IdentityError),
    /// No random `jti` could be drawn.
    Sign(SignError),
}

/// What one sign-in's claims are made from besides the identity: the request's
/// parameters by name, the token lifetime, the target's origin and the time.
pub(crate) struct Context<'c, P> {
    pub(crate) param: P,
    pub(crate) token_ttl_secs: u64,
    pub(crate) target_origin: &'c str,
    pub(crate) now: SystemTime,
}

/// The claims `claims` describe, for `identity` in `context`.
pub(crate) fn render<'p>(
    claims: &[(String, Claim)],
    identity: &Identity,
    context: &Context<'_, impl Fn(&str) -> Option<&'p str>>,
) -> Result<Map<String, Value>, ClaimError> {
    let Context {
        param,
        token_ttl_secs,
        target_origin,
        now,
    } = context;
    let (token_ttl_secs, now) = (*token_ttl_secs, *now);
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let at = |unit: TimeUnit, add_secs: i64| -> Value {
        let millis = i128::try_from(since_epoch.as_millis()).unwrap_or(i128::MAX)
            + i128::from(add_secs) * 1000;
        let value = match unit {
            TimeUnit::Seconds => millis.div_euclid(1000),
            TimeUnit::Milliseconds => millis,
        };
        Value::from(i64::try_from(value).unwrap_or(i64::MAX))
    };
    let ttl = i64::try_from(token_ttl_secs).unwrap_or(i64::MAX);
    let mut out = Map::new();
    for (name, claim) in claims {
        let value = match &claim.source {
            Source::Identity {
                field,
                required,
                as_string,
            } => {
                let known = identity
                    .checked_field(field)
                    .map_err(ClaimError::Identity)?
                    .filter(|value| *required || value.as_str() != Some(""));
                match (known, required) {
                    (Some(value), _) if *as_string => text(field, value)?,
                    (Some(value), _) => value,
                    (None, false) => continue,
                    (None, true) => return Err(ClaimError::Identity(missing(field))),
                }
            }
            Source::Time { unit, add_secs } => at(*unit, *add_secs),
            Source::Expiry(unit) => at(*unit, ttl),
            Source::Random => Value::String(random_hex().map_err(ClaimError::Sign)?),
            Source::Param { name, .. } => match param(name) {
                Some(value) => Value::String(value.to_owned()),
                None => continue,
            },
            Source::Value(value) => value.clone(),
            Source::TargetOrigin => Value::String((*target_origin).to_owned()),
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
}

fn missing(field: &str) -> IdentityError {
    IdentityError::invalid(format!(
        "the account has no {}, which this portal needs",
        field.replace('_', " ")
    ))
    .in_field(field.to_owned())
}

fn text(field: &str, value: Value) -> Result<Value, ClaimError> {
    match value {
        Value::String(_) => Ok(value),
        Value::Number(number) => Ok(Value::String(number.to_string())),
        _ => Err(ClaimError::Identity(
            IdentityError::invalid(format!(
                "the {} is neither a string nor a number",
                field.replace('_', " ")
            ))
            .in_field(field.to_owned()),
        )),
    }
}

/// 128 random bits from the operating system, as 32 hex digits.
pub(crate) fn random_hex() -> Result<String, SignError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| SignError)?;
    let mut hex = String::with_capacity(32);
    for byte in bytes {
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

#[cfg(test)]
mod tests;
