//! The portals: one JWT-redirect engine ([`JwtPortal`], checked into `engine::Engine`)
//! and each vendor as a preset of it, one file per vendor: what its login URL receives,
//! which claims it signs, where the browser goes next and what comes back with it.

mod aha;
mod canny;
pub(crate) mod claim;
pub(crate) mod engine;
mod form_post;
mod freshworks;
mod frill;
mod gitbook;
mod helpdocs;
mod helpjuice;
mod helpscout;
mod jwt_portal;
mod kustomer;
mod mintlify;
mod preset;
mod readme;
mod request;
mod zendesk;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::origins::RedirectRejection;
use crate::query::QueryError;

pub(crate) use claim::ClaimError;
pub use claim::{Claim, ClaimSource, PassParam, TimeUnit, TokenIn};
pub use jwt_portal::{CUSTOM_KIND, DEFAULT_TOKEN_TTL_SECS, JwtPortal};
pub use preset::{Preset, Setting, TimeRules, WidgetPreset, WidgetSetting};
pub(crate) use request::{Issued, Prepared};

/// The longest same-site path passed on (`return_to`, `location`...).
pub const MAX_PATH_PARAM_LEN: usize = 2048;

/// The claim names portals read as an echo of the request (an `OpenID` `nonce`, an `OAuth`
/// `state`): the only ones a [`Claim::param`] may fill unless it is
/// [declared an echo](Claim::declared_echo).
pub const ECHO_CLAIMS: &[&str] = &["nonce", "state"];

/// Whether `url`'s query or fragment has a parameter that a common parser reads as
/// `name` ([`query::reads_as`]).
pub(crate) fn carries_param(url: &url::Url, name: &str) -> bool {
    url.query().is_some_and(|q| crate::query::reads_as(q, name))
        || url
            .fragment()
            .is_some_and(|f| crate::query::reads_as(f, name))
}

/// Seconds since the Unix epoch, for `iat`.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// A path on the same site, safe to pass on: starts with `/`; no backslash, white space,
/// control or invisible character anywhere, nor a control or invisible character
/// percent-escaped (`%09`, `%0d%0a`, `%00`, `%E2%80%AE`); and in the path part (before any `?` or `#`, which may carry URLs)
/// no `//`, no `.` or `..` segment (raw or `%2e`-escaped) and no `%2F` or `%5C`. Removing
/// dot segments turns `/..//evil.com` into `//evil.com`, which a browser reads as another
/// host.
pub fn is_same_site_path(path: &str) -> bool {
    let path_part = path.split(['?', '#']).next().unwrap_or_default();
    let escaped_separator = ["%2f", "%5c"].iter().any(|escape| {
        path_part
            .as_bytes()
            .windows(3)
            .any(|three| three.eq_ignore_ascii_case(escape.as_bytes()))
    });
    let unsafe_char =
        |c: char| c == '\\' || c.is_whitespace() || crate::text::is_control_or_invisible(c);
    let unescaped = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    path.starts_with('/')
        && path.len() <= MAX_PATH_PARAM_LEN
        && !path_part.contains("//")
        && !path.chars().any(unsafe_char)
        && !unescaped.chars().any(crate::text::is_control_or_invisible)
        && !escaped_separator
        && !crate::origins::has_dot_segment(path_part)
}

/// Why a request to a portal's route was refused before anyone was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Query(QueryError),
    Redirect(RedirectRejection),
    /// No target parameter (named) and no default.
    MissingRedirect(String),
    /// An echoed parameter (named) is over 1 KiB.
    TooLong(String),
    /// The return address already has a parameter a common parser reads as this one,
    /// which the layer adds.
    TargetCarries(String),
    /// The return address has a fragment, where the token goes.
    TargetHasFragment,
    /// A parameter pinned in the configuration (named) has another value.
    NotPinned(String),
}

impl Refusal {
    pub(crate) fn reason(&self) -> String {
        match self {
            Refusal::Query(QueryError::Duplicate(name)) => format!("duplicate_{name}"),
            Refusal::Query(QueryError::TooLong) => "query_too_long".to_owned(),
            Refusal::Query(QueryError::BadEncoding) => "bad_encoding".to_owned(),
            Refusal::Redirect(rejection) => rejection.code().to_owned(),
            Refusal::MissingRedirect(_) => "missing_redirect".to_owned(),
            Refusal::TooLong(name) => format!("{name}_too_long"),
            Refusal::TargetCarries(name) => format!("target_carries_{name}"),
            Refusal::TargetHasFragment => "target_has_fragment".to_owned(),
            Refusal::NotPinned(name) => format!("{name}_not_configured"),
        }
    }

    pub(crate) fn explain(&self) -> String {
        match self {
            Refusal::Query(error) => error.explain(),
            Refusal::Redirect(rejection) => rejection.to_string(),
            Refusal::MissingRedirect(name) => {
                format!("The request has no {name} and no default return address is configured.")
            }
            Refusal::TooLong(name) => format!("The {name} parameter is longer than 1 KiB."),
            Refusal::TargetCarries(name) => format!(
                "The return address already carries a parameter that reads as `{name}`, \
                 which this sign-in adds: the portal might read that one instead."
            ),
            Refusal::TargetHasFragment => {
                "The return address has a fragment, where this sign-in puts its token.".to_owned()
            }
            Refusal::NotPinned(name) => format!(
                "The request names a {name} other than the one this sign-in is configured for."
            ),
        }
    }

    pub(crate) fn is_redirect(&self) -> bool {
        matches!(
            self,
            Refusal::Redirect(_)
                | Refusal::MissingRedirect(_)
                | Refusal::TargetCarries(_)
                | Refusal::TargetHasFragment
        )
    }
}
