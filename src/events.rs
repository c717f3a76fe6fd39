//! One event per decision, for logs, metrics and audit.
//!
//! Every SSO request ends in exactly one [`SsoEvent`]. It is emitted as a `tracing` event
//! with target `portal_sso` and the field `event` set to [`EventKind::name`], and handed to
//! every [`EventObserver`] the layer was built with. Events carry the portal, the route, the
//! outcome, a reason and a masked email; never a token, a secret, a cookie or the
//! `trackingToken`.

use std::fmt;
use std::time::SystemTime;

/// What was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A token was signed and the browser sent back to the portal.
    TokenIssued,
    /// No session: the browser was sent to the app's login page.
    LoginRequired,
    /// The browser came back from the login page without a readable session too often:
    /// redirecting stopped.
    LoginLoop,
    /// The redirect target is not one the configuration names: refused, nothing signed.
    RedirectRejected,
    /// A parameter was missing, repeated, oversized or malformed: refused.
    BadRequest,
    /// The identity source failed: 503.
    IdentityError,
    /// The identity source answered with an identity that cannot be used: 403.
    IdentityRejected,
    /// The portal's remote logout route ended the app session.
    Logout,
    /// The app's own logout was followed by the portals' logout.
    AppLogout,
    /// The portal reported that a sign-in failed (Zendesk's `kind=error` on the remote
    /// logout URL): shown to the user, nothing else done.
    PortalError,
    /// An in-app widget's value was signed and given to the app's page.
    WidgetTokenIssued,
    /// An in-app widget's route answered without a value; the reason says why
    /// (`signed_out`, `cross_site`, `identity_rejected: …`).
    WidgetRefused,
}

impl EventKind {
    /// Every kind, for pre-registering metrics.
    pub const ALL: [EventKind; 12] = [
        EventKind::TokenIssued,
        EventKind::LoginRequired,
        EventKind::LoginLoop,
        EventKind::RedirectRejected,
        EventKind::BadRequest,
        EventKind::IdentityError,
        EventKind::IdentityRejected,
        EventKind::Logout,
        EventKind::AppLogout,
        EventKind::PortalError,
        EventKind::WidgetTokenIssued,
        EventKind::WidgetRefused,
    ];

    /// The stable name used in logs and metrics, e.g. `token_issued`.
    pub const fn name(self) -> &'static str {
        match self {
            EventKind::TokenIssued => "token_issued",
            EventKind::LoginRequired => "login_required",
            EventKind::LoginLoop => "login_loop",
            EventKind::RedirectRejected => "redirect_rejected",
            EventKind::BadRequest => "bad_request",
            EventKind::IdentityError => "identity_error",
            EventKind::IdentityRejected => "identity_rejected",
            EventKind::Logout => "logout",
            EventKind::AppLogout => "app_logout",
            EventKind::PortalError => "portal_error",
            EventKind::WidgetTokenIssued => "widget_token_issued",
            EventKind::WidgetRefused => "widget_refused",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One decision taken by the layer.
#[derive(Debug, Clone)]
pub struct SsoEvent {
    /// What was decided.
    pub kind: EventKind,
    /// When.
    pub at: SystemTime,
    /// The portal's or widget's name (by default its kind, `kustomer`, `aha`,
    /// `kustomer-chat`...).
    pub portal: String,
    /// The route that was asked for, without its query.
    pub path: String,
    /// Why, in a few words, when there is more to say than the kind.
    pub reason: Option<String>,
    /// The user's email, masked (`a***@example.com`), when known.
    pub email: Option<String>,
    /// The origin the browser was sent to or refused for (`https://acme.kustomer.help`),
    /// when there was one.
    pub target_origin: Option<String>,
}

impl SsoEvent {
    /// An event of `kind` for `portal` on `path`, now, with nothing else said.
    pub(crate) fn new(kind: EventKind, portal: &str, path: &str) -> Self {
        Self {
            kind,
            at: SystemTime::now(),
            portal: portal.to_owned(),
            path: path.to_owned(),
            reason: None,
            email: None,
            target_origin: None,
        }
    }
}

/// Receives every [`SsoEvent`]: for an audit log, metrics, or a "recent events" page.
///
/// Closures `Fn(&SsoEvent)` are observers. Called inline on the request path: keep it
/// short and never block.
pub trait EventObserver: Send + Sync + 'static {
    /// Called once per decision.
    fn on_event(&self, event: &SsoEvent);
}

impl<F> EventObserver for F
where
    F: Fn(&SsoEvent) + Send + Sync + 'static,
{
    fn on_event(&self, event: &SsoEvent) {
        self(event);
    }
}

/// Whether a `tracing` subscriber listens at the lowest level events of `kind` are
/// written at.
pub(crate) fn traced(kind: EventKind) -> bool {
    let lowest = match kind {
        EventKind::WidgetRefused => Level::Debug,
        kind => level(kind, None),
    };
    match lowest {
        Level::Info => tracing::enabled!(target: "portal_sso", tracing::Level::INFO),
        Level::Debug => tracing::enabled!(target: "portal_sso", tracing::Level::DEBUG),
        Level::Warn => tracing::enabled!(target: "portal_sso", tracing::Level::WARN),
        Level::Error => tracing::enabled!(target: "portal_sso", tracing::Level::ERROR),
    }
}

enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// The level each kind is written at: routine decisions at `info` (`debug` for the
/// frequent "please log in" and a widget's "signed out", which every anonymous page view
/// asks), refusals at `warn`, a failing identity source at `error`.
fn level(kind: EventKind, reason: Option<&str>) -> Level {
    match kind {
        EventKind::TokenIssued
        | EventKind::Logout
        | EventKind::AppLogout
        | EventKind::WidgetTokenIssued => Level::Info,
        EventKind::LoginRequired => Level::Debug,
        EventKind::WidgetRefused if reason.is_some_and(|r| r.starts_with("signed_out")) => {
            Level::Debug
        }
        EventKind::WidgetRefused
        | EventKind::RedirectRejected
        | EventKind::BadRequest
        | EventKind::IdentityRejected
        | EventKind::LoginLoop
        | EventKind::PortalError => Level::Warn,
        EventKind::IdentityError => Level::Error,
    }
}

/// Writes the event to `tracing` at the level its kind deserves.
pub(crate) fn trace(event: &SsoEvent) {
    let name = event.kind.name();
    let reason = event.reason.as_deref().unwrap_or("");
    let email = event.email.as_deref().unwrap_or("");
    let origin = event.target_origin.as_deref().unwrap_or("");
    macro_rules! emit {
        ($level:ident) => {
            tracing::$level!(
                target: "portal_sso",
                event = name,
                portal = %event.portal,
                path = %event.path,
                reason,
                email,
                target_origin = origin,
                "sso {name}"
            )
        };
    }
    match level(event.kind, event.reason.as_deref()) {
        Level::Info => emit!(info),
        Level::Debug => emit!(debug),
        Level::Warn => emit!(warn),
        Level::Error => emit!(error),
    }
}

/// Shows an email as its first character, `***` and its domain.
pub(crate) struct MaskedEmail<'a>(pub(crate) &'a str);

impl fmt::Debug for MaskedEmail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for MaskedEmail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_once('@') {
            Some((local, domain)) => {
                let first = local.chars().next().unwrap_or('?');
                write!(f, "{first}***@{domain}")
            }
            None => f.write_str("***"),
        }
    }
}

/// Masks an email for an event: `alice@example.com` becomes `a***@example.com`.
pub fn mask_email(email: &str) -> String {
    MaskedEmail(email).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_the_first_character_of_the_local_part() {
        assert_eq!(mask_email("alice@example.com"), "a***@example.com");
        assert_eq!(mask_email("nobody"), "***");
    }

    #[test]
    fn names_are_distinct() {
        let mut names: Vec<_> = EventKind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventKind::ALL.len());
    }
}
