//! A portal's login URL: read the request, ask who is signed in, then sign and send the
//! browser back to the portal, send it to the app's login page, or explain a refusal.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::{ALLOW, COOKIE};
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{HeaderValue, Method, StatusCode, Uri};
use pin_project_lite::pin_project;

use super::Begin;
use super::login_loop::Trips;
use crate::config::{Config, PortalEntry};
use crate::events::{EventKind, MaskedEmail};
use crate::identity::{Identity, IdentityError, IdentityErrorKind};
use crate::portal::{ClaimError, Issued, Prepared, Refusal};
use crate::query;
use crate::request_origin::RequestOrigin;
use crate::response::{Written, page, redirect, set_cookie};

/// A login waiting for its resolver's answer, boxed once with what happens next: only
/// SSO routes pay for it.
pub(crate) type BoxLoginFuture = Pin<Box<dyn Future<Output = Written> + Send + 'static>>;

/// A login request waiting for the identity source.
pub(crate) struct Pending {
    config: Arc<Config>,
    portal: usize,
    prepared: Prepared,
    trips: Trips,
    /// The request's origin, when the login page is on another one: the address to
    /// come back to is then a full URL.
    return_origin: Option<String>,
}

pin_project! {
    /// The identity source's future and what to do with its answer, in one box.
    struct Login<F> {
        #[pin]
        future: F,
        // The request's URI (its path and query are where to come back to after the
        // app's login) and the prepared request; taken when the answer arrives.
        then: Option<(Uri, Pending)>,
    }
}

impl<F> Future for Login<F>
where
    F: Future<Output = Result<Option<Identity>, IdentityError>>,
{
    type Output = Written;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Written> {
        let this = self.project();
        let answer = ready!(this.future.poll(cx));
        let (uri, pending) = this.then.take().expect("Login polled after completion");
        Poll::Ready(complete(pending, &uri, answer))
    }
}

pub(super) fn begin(
    config: &Arc<Config>,
    index: usize,
    parts: Parts,
    origin: RequestOrigin,
) -> Begin {
    let portal = &config.portals[index];
    let path = parts.uri.path();
    if parts.method != Method::GET && parts.method != Method::HEAD {
        config.record(EventKind::BadRequest, &portal.name, path, |event| {
            event.reason = Some("method_not_allowed".to_owned());
        });
        let mut response = page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "This sign-in address only answers GET.",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Begin::Respond(response);
    }
    if let Some(response) = refuse_oversized_cookies(config, portal, &parts) {
        return Begin::Respond(response);
    }
    let prepared = match portal.engine.prepare(parts.uri.query()) {
        Ok(prepared) => prepared,
        Err(refusal) => return Begin::Respond(refuse(config, portal, path, &refusal)),
    };
    let pending = Pending {
        config: Arc::clone(config),
        portal: index,
        prepared,
        trips: Trips::read(config, &parts.headers),
        return_origin: return_origin(config, origin, &parts),
    };
    let future = config.resolver.resolve(&parts);
    Begin::Resolve(Box::pin(Login {
        future,
        then: Some((parts.uri, pending)),
    }))
}

/// The origin of the address to come back to, when the login page is on another one:
/// the configured public origin, else the request's as `origin` reads it.
fn return_origin(config: &Config, origin: RequestOrigin, parts: &Parts) -> Option<String> {
    let login = config.login_origin.as_ref()?;
    config
        .public_origin
        .clone()
        .or_else(|| origin.of(parts))
        .filter(|ours| !ours.eq_ignore_ascii_case(login))
}

fn refuse_oversized_cookies(
    config: &Config,
    portal: &PortalEntry,
    parts: &Parts,
) -> Option<Written> {
    let bytes: usize = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .map(HeaderValue::len)
        .sum();
    if bytes <= config.max_cookie_bytes {
        return None;
    }
    Some(super::refuse_request(
        config,
        portal,
        parts,
        "cookie_too_large",
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Cookies too large",
            "The request's cookies are larger than this sign-in reads. Clearing this site's \
             cookies may help.",
        ),
    ))
}

fn refuse(config: &Config, portal: &PortalEntry, path: &str, refusal: &Refusal) -> Written {
    let kind = if refusal.is_redirect() {
        EventKind::RedirectRejected
    } else {
        EventKind::BadRequest
    };
    config.record(kind, &portal.name, path, |event| {
        event.reason = Some(refusal.reason());
        if let Refusal::Redirect(crate::origins::RedirectRejection::NotAllowed { origin }) = refusal
        {
            event.target_origin = Some(origin.clone());
        }
    });
    page(
        StatusCode::BAD_REQUEST,
        "Sign-in refused",
        &refusal.explain(),
    )
}

/// Turns the identity source's answer into the response.
fn complete(
    pending: Pending,
    uri: &Uri,
    answer: Result<Option<Identity>, IdentityError>,
) -> Written {
    let Pending {
        config,
        portal: index,
        prepared,
        trips,
        return_origin,
    } = pending;
    let portal = &config.portals[index];
    let path = uri.path();
    let path_and_query = uri.path_and_query().map_or(path, PathAndQuery::as_str);
    // Where the app's login page sends the browser back to: made only when it is needed.
    let return_to = || match &return_origin {
        Some(origin) => Cow::Owned(format!("{origin}{path_and_query}")),
        None => Cow::Borrowed(path_and_query),
    };
    match answer {
        Ok(Some(identity)) => issue(&config, portal, path, &prepared, &identity, &trips),
        Ok(None) => login_required(&config, portal, path, &return_to(), "no_session", &trips),
        Err(error) if error.kind() == IdentityErrorKind::Conflict => {
            login_required(&config, portal, path, &return_to(), error.message(), &trips)
        }
        Err(error) => identity_failed(&config, portal, path, &error),
    }
}

fn issue(
    config: &Config,
    portal: &PortalEntry,
    path: &str,
    prepared: &Prepared,
    identity: &Identity,
    trips: &Trips,
) -> Written {
    let (mut response, target_origin, reason) = match portal.engine.issue(
        &portal.signer,
        prepared,
        identity,
    ) {
        Issued::Sent {
            response,
            target_origin,
            reason,
        } => (response, target_origin, reason),
        Issued::Refused(ClaimError::Identity(error)) => {
            return identity_failed(config, portal, path, &error);
        }
        Issued::Refused(ClaimError::Sign(_)) => {
            config.record(EventKind::IdentityError, &portal.name, path, |event| {
                event.reason = Some("signing_failed".to_owned());
            });
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "The sign-in token could not be created. The operator can find the cause in the log.",
            );
        }
    };
    config.record(EventKind::TokenIssued, &portal.name, path, |event| {
        event.email = Some(MaskedEmail(identity.email()).to_string());
        event.target_origin = Some(target_origin);
        event.reason = reason;
    });
    if trips.count > 0 {
        set_cookie(&mut response, &Trips::removal(path));
    }
    response
}

fn login_required(
    config: &Config,
    portal: &PortalEntry,
    path: &str,
    return_to: &str,
    reason: &str,
    trips: &Trips,
) -> Written {
    let guard = &config.loop_guard;
    if trips.count >= guard.limit {
        config.record(EventKind::LoginLoop, &portal.name, path, |event| {
            event.reason = Some(format!("{} trips to the login page", trips.count));
        });
        let cookie = config.session_cookie.as_ref().map_or_else(
            || "the app's session cookie".to_owned(),
            |c| format!("the app's session cookie `{}`", c.name()),
        );
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in cannot complete",
            &format!(
                "You were sent to sign in {} times, but each time you came back this sign-in could not read \
                 {cookie}. Check that the app sets that cookie for this host and path, that it is not blocked, \
                 and that the sign-in is configured with the app's key. Then try again in a minute.",
                trips.count
            ),
        );
    }
    config.record(EventKind::LoginRequired, &portal.name, path, |event| {
        event.reason = Some(reason.to_owned());
    });
    let login = query::encode(return_to).to_string();
    let location = query::append_query_param(&config.login_url, &config.return_param, &login);
    let mut response = redirect(location, false);
    set_cookie(&mut response, &trips.next(config, path));
    response
}

fn identity_failed(
    config: &Config,
    portal: &PortalEntry,
    path: &str,
    error: &IdentityError,
) -> Written {
    let (kind, status, title, message) = match error.kind() {
        IdentityErrorKind::Unavailable => (
            EventKind::IdentityError,
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in temporarily unavailable",
            "The app could not confirm who you are right now. Please try again in a moment."
                .to_owned(),
        ),
        // A conflict is answered as signed out before this; were it not, refuse.
        IdentityErrorKind::Invalid | IdentityErrorKind::Conflict => {
            let field = match error.field() {
                None | Some("email") => "email address".to_owned(),
                Some(field) => field.replace('_', " "),
            };
            (
                EventKind::IdentityRejected,
                StatusCode::FORBIDDEN,
                "Account cannot be used",
                format!(
                    "Your account's {field} cannot be used for single sign-on: {}. Please contact support.",
                    error.message()
                ),
            )
        }
    };
    config.record(kind, &portal.name, path, |event| {
        event.reason = Some(match error.field() {
            Some(field) => format!("{field}: {}", error.message()),
            None => error.message().to_owned(),
        });
    });
    page(status, title, &message)
}
