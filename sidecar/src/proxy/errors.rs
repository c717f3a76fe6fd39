//! Why the app did not answer, and the page the browser gets for each case.

use http::{Response, StatusCode};
use portal_sso::SsoBody;

use super::ProxyBody;
use crate::page::page;

/// Why the app did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyError {
    /// The connection was refused or could not be opened.
    Connect,
    /// Opening the connection took longer than the connect timeout.
    ConnectTimeout,
    /// The app did not send its response head in time.
    ResponseTimeout,
    /// The connection broke or the app answered something that is not HTTP.
    Upstream,
    /// The app switched protocols when the browser had not asked to, or the reverse.
    BadUpgrade,
    /// The app's response gave its length two ways, `Content-Length` and
    /// `Transfer-Encoding`: where it ends depends on which one a reader believes
    /// (response splitting, RFC 9112 §6.3), so it is not passed on.
    AmbiguousLength,
}

/// The page for a path that is not an SSO route when there is no app behind the sidecar.
pub(super) fn not_found() -> Response<ProxyBody> {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        "This address answers sign-in routes only.",
    )
    .map(SsoBody::full)
}

impl ProxyError {
    /// The `kind` label of `portal_sso_upstream_errors_total`.
    pub const fn kind(self) -> &'static str {
        match self {
            ProxyError::Connect => "connect",
            ProxyError::ConnectTimeout => "connect_timeout",
            ProxyError::ResponseTimeout => "timeout",
            ProxyError::Upstream => "upstream",
            ProxyError::BadUpgrade => "bad_upgrade",
            ProxyError::AmbiguousLength => "ambiguous_length",
        }
    }

    /// The page for the browser: 502 when the app failed, 504 when it was too slow.
    pub fn response(self) -> Response<ProxyBody> {
        let (status, title, message) = match self {
            ProxyError::Connect => (
                StatusCode::BAD_GATEWAY,
                "The application is unavailable",
                "The application behind this address is not accepting connections. Try again in a moment.",
            ),
            ProxyError::ConnectTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "The application is unavailable",
                "The application behind this address did not accept the connection in time.",
            ),
            ProxyError::ResponseTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "The application took too long",
                "The application did not answer in time.",
            ),
            ProxyError::Upstream | ProxyError::BadUpgrade => (
                StatusCode::BAD_GATEWAY,
                "The application failed",
                "The application closed the connection or answered something that is not HTTP.",
            ),
            ProxyError::AmbiguousLength => (
                StatusCode::BAD_GATEWAY,
                "The application failed",
                "The application answered with a response whose length was given two ways \
                 (Content-Length and Transfer-Encoding), which is not passed on.",
            ),
        };
        page(status, title, message).map(SsoBody::full)
    }
}
