//! The sidecar's own OIDC decisions: one `tracing` event each, with a stable name in the
//! `event` field and, for a refusal, a stable `reason`; each counted in
//! `portal_sso_oidc_events_total`. Never a token, code, state, nonce or cookie value.

use crate::metrics::Metrics;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// Discovery (document and key set) succeeded.
    Discovered,
    /// A discovery attempt failed; it is tried again.
    DiscoveryFailed,
    /// The key set was fetched again for an unknown `kid`.
    KeysRefetched,
    /// Fetching the key set again failed.
    KeysRefetchFailed,
    /// A browser was sent to the IdP to sign in.
    LoginStarted,
    /// A sign-in completed: portal-sso's session cookie was set.
    SignedIn,
    /// A sign-in was refused (`reason`).
    Refused(&'static str),
    /// The IdP could not be reached or answered wrongly during a sign-in (`reason`).
    Unavailable(&'static str),
    /// `/sso/oidc/logout` ended portal-sso's session.
    SignedOut,
}

impl Event {
    /// The stable event name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Event::Discovered => "oidc_discovered",
            Event::DiscoveryFailed => "oidc_discovery_failed",
            Event::KeysRefetched => "oidc_keys_refetched",
            Event::KeysRefetchFailed => "oidc_keys_refetch_failed",
            Event::LoginStarted => "oidc_login_started",
            Event::SignedIn => "oidc_signed_in",
            Event::Refused(_) => "oidc_refused",
            Event::Unavailable(_) => "oidc_idp_unavailable",
            Event::SignedOut => "oidc_signed_out",
        }
    }

    /// The stable reason of a refusal or failure.
    pub(crate) fn reason(self) -> Option<&'static str> {
        match self {
            Event::Refused(reason) | Event::Unavailable(reason) => Some(reason),
            _ => None,
        }
    }
}

/// Logs and counts `event` for `provider`; `detail` is operator-facing text (an IdP's
/// error description, a masked email), never a secret.
pub(crate) fn record(
    metrics: Option<&Metrics>,
    event: Event,
    provider: &str,
    detail: Option<&str>,
) {
    let name = event.name();
    let reason = event.reason().unwrap_or("");
    let detail = detail.unwrap_or("");
    match event {
        Event::Refused(_)
        | Event::DiscoveryFailed
        | Event::KeysRefetchFailed
        | Event::Unavailable(_) => {
            tracing::warn!(target: "portal_sso::oidc", event = name, provider, reason, detail, "{name}");
        }
        _ => {
            tracing::info!(target: "portal_sso::oidc", event = name, provider, reason, detail, "{name}");
        }
    }
    if let Some(metrics) = metrics {
        metrics.oidc_event(name, provider, reason);
    }
}
