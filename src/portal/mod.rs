//! The vendors: what each one's login URL receives, which claims it signs, and where the
//! browser goes next. One file per vendor.

pub(crate) mod aha;
pub(crate) mod kustomer;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::origins::RedirectRejection;
use crate::query::QueryError;

pub use aha::AhaPortal;
pub use kustomer::KustomerPortal;

/// A portal to configure on the layer: either vendor's builder converts into it.
#[derive(Debug, Clone)]
pub enum Portal {
    /// A Kustomer knowledge-base portal (one per brand).
    Kustomer(KustomerPortal),
    /// An Aha! knowledge base or ideas portal.
    Aha(AhaPortal),
}

impl From<KustomerPortal> for Portal {
    fn from(portal: KustomerPortal) -> Self {
        Portal::Kustomer(portal)
    }
}

impl From<AhaPortal> for Portal {
    fn from(portal: AhaPortal) -> Self {
        Portal::Aha(portal)
    }
}

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

/// Why a request to a portal's route was refused before anyone was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Query(QueryError),
    Redirect(RedirectRejection),
    MissingRedirect,
    StateTooLong,
    /// The return address already has a parameter a common parser reads as this one,
    /// which the layer adds.
    TargetCarries(&'static str),
}

impl Refusal {
    pub(crate) fn reason(&self) -> String {
        match self {
            Refusal::Query(QueryError::Duplicate(name)) => format!("duplicate_{name}"),
            Refusal::Query(QueryError::TooLong) => "query_too_long".to_owned(),
            Refusal::Query(QueryError::BadEncoding) => "bad_encoding".to_owned(),
            Refusal::Redirect(rejection) => rejection.code().to_owned(),
            Refusal::MissingRedirect => "missing_redirect".to_owned(),
            Refusal::StateTooLong => "state_too_long".to_owned(),
            Refusal::TargetCarries(name) => format!("target_carries_{name}"),
        }
    }

    pub(crate) fn explain(&self) -> String {
        match self {
            Refusal::Query(error) => error.explain(),
            Refusal::Redirect(rejection) => rejection.to_string(),
            Refusal::MissingRedirect => {
                "The request has no kustomerRedirectUri and no default return address is configured."
                    .to_owned()
            }
            Refusal::StateTooLong => "The state parameter is longer than 1 KiB.".to_owned(),
            Refusal::TargetCarries(name) => format!(
                "The return address already carries a parameter that reads as `{name}`, \
                 which this sign-in adds: the portal might read that one instead."
            ),
        }
    }

    pub(crate) fn is_redirect(&self) -> bool {
        matches!(
            self,
            Refusal::Redirect(_) | Refusal::MissingRedirect | Refusal::TargetCarries(_)
        )
    }
}
