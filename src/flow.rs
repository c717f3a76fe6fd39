//! What the layer answers on its own routes: the decisions between "a request arrived"
//! and "a response leaves", independent of the `Service` plumbing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use cookie::{Cookie, CookieJar};
use http::header::{
    ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, COOKIE, TRANSFER_ENCODING,
};
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{HeaderName, HeaderValue, Method, Response, StatusCode, Uri};
use pin_project_lite::pin_project;

use crate::events::{EventKind, MaskedEmail};
use crate::identity::{BoxLoginFuture, Identity, IdentityError, IdentityErrorKind, find_cookie};
use crate::layer::{Config, PortalEntry, Route, Vendor};
use crate::portal::aha::{self, Passed};
use crate::portal::{Refusal, kustomer, now_unix};
use crate::query;
use crate::response::{Written, page, redirect, set_cookie};

/// The signed cookie counting trips to the login page.
const LOOP_COOKIE: &str = "portal_sso_login_trips";
/// Set by remote logout when it sends the browser through the app's logout, so the app
/// logout route does not bounce it on to the portal it just came from.
const REMOTE_LOGOUT_COOKIE: &str = "portal_sso_remote_logout";

/// The first step on an SSO route.
pub(crate) enum Begin {
    /// Answered without asking who the user is.
    Respond(Written),
    /// Waiting for the identity source; [`complete`] answers when it has.
    Resolve(BoxLoginFuture),
}

/// A login request waiting for the identity source.
pub(crate) struct Pending {
    config: Arc<Config>,
    portal: usize,
    prepared: Prepared,
    trips: Trips,
}

pin_project! {
    /// The identity source's future and what to do with its answer, in one box.
    pub(crate) struct Login<F> {
        #[pin]
        future: F,
        // The request's URI (its path and query are where to come back to after the
        // app's login) and the prepared request; taken when the answer arrives.
        then: Option<(Uri, Pending)>,
    }
}

impl<F> Login<F> {
    pub(crate) fn new(future: F, uri: Uri, pending: Pending) -> Self {
        Self {
            future,
            then: Some((uri, pending)),
        }
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

enum Prepared {
    Kustomer(Arc<kustomer::Target>),
    Aha(Passed),
}

pub(crate) fn begin(config: &Arc<Config>, route: Route, parts: Parts) -> Begin {
    match route {
        Route::Login(index) => begin_login(config, index, parts),
        Route::Logout(index) => Begin::Respond(remote_logout(config, index, &parts)),
        Route::AppLogout => unreachable!("the app logout route is passed to the app"),
    }
}

fn begin_login(config: &Arc<Config>, index: usize, parts: Parts) -> Begin {
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
    let query = parts.uri.query();
    let prepared = match &portal.vendor {
        Vendor::Kustomer(k) => k.prepare(query).map(Prepared::Kustomer),
        Vendor::Aha(_) => aha::Aha::prepare(query).map(Prepared::Aha),
    };
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(refusal) => return Begin::Respond(refuse(config, portal, path, &refusal)),
    };
    let pending = Pending {
        config: Arc::clone(config),
        portal: index,
        prepared,
        trips: Trips::read(config, &parts.headers),
    };
    Begin::Resolve(config.resolver.login(parts, pending))
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
    config.record(
        EventKind::BadRequest,
        &portal.name,
        parts.uri.path(),
        |event| {
            event.reason = Some("cookie_too_large".to_owned());
        },
    );
    Some(page(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "Cookies too large",
        "The request's cookies are larger than this sign-in reads. Clearing this site's cookies may help.",
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
        if let Refusal::Redirect(crate::redirect::RedirectRejection::NotAllowed { origin }) =
            refusal
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
    } = pending;
    let portal = &config.portals[index];
    let path = uri.path();
    let return_to = uri.path_and_query().map_or(path, PathAndQuery::as_str);
    match answer {
        Ok(Some(identity)) => match identity.check_fields() {
            Ok(()) => issue(&config, portal, path, &prepared, &identity, &trips),
            Err(error) => identity_failed(&config, portal, path, &error),
        },
        Ok(None) => login_required(&config, portal, path, return_to, "no_session", &trips),
        Err(error) if error.kind() == IdentityErrorKind::Conflict => {
            login_required(&config, portal, path, return_to, error.message(), &trips)
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
    let iat = now_unix();
    let (signed, target, mut reason) = match (prepared, &portal.vendor) {
        (Prepared::Kustomer(target), Vendor::Kustomer(_)) => {
            let claims = kustomer::Claims::new(identity, iat);
            let signed = kustomer::Kustomer::location(target, &portal.signer, &claims);
            (signed, target.url(), None)
        }
        (Prepared::Aha(passed), Vendor::Aha(aha)) => {
            let signed = match aha::Claims::new(identity, iat) {
                Ok(claims) => aha.location(&portal.signer, passed, &claims),
                Err(_) => Err(crate::token::SignError),
            };
            let reason = passed
                .return_to_dropped
                .then(|| "return_to_dropped".to_owned());
            (signed, aha.callback(), reason)
        }
        _ => unreachable!("a portal's request is prepared by its own vendor"),
    };
    let Ok(location) = signed else {
        reason = Some("signing_failed".to_owned());
        config.record(EventKind::IdentityError, &portal.name, path, |event| {
            event.reason = reason;
        });
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The sign-in token could not be created. The operator can find the cause in the log.",
        );
    };
    config.record(EventKind::TokenIssued, &portal.name, path, |event| {
        event.email = Some(MaskedEmail(identity.email()).to_string());
        event.target_origin = Some(target.origin().ascii_serialization());
        event.reason = reason;
    });
    let mut response = redirect(location, true);
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
    let location =
        crate::redirect::append_query_param(&config.login_url, &config.return_param, &login);
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

/// The "Remote logout URL": end the app session and land on the configured page.
fn remote_logout(config: &Config, index: usize, parts: &Parts) -> Written {
    let portal = &config.portals[index];
    config.resolver.forget(parts);
    config.record(EventKind::Logout, &portal.name, parts.uri.path(), |event| {
        if config.app_logout_url.is_some() {
            event.reason = Some("via_app_logout".to_owned());
        }
    });
    let mut response = match &config.app_logout_url {
        Some(app_logout) => {
            let mut response = redirect(app_logout.clone(), false);
            let marker = Cookie::build((REMOTE_LOGOUT_COOKIE, "1"))
                .path("/")
                .max_age(cookie::time::Duration::seconds(60))
                .http_only(true)
                .same_site(cookie::SameSite::Lax)
                .build();
            set_cookie(&mut response, &marker);
            response
        }
        None => redirect(portal.logout_redirect.clone(), false),
    };
    if let Some(session) = &config.session_cookie {
        set_cookie(&mut response, &session.removal());
    }
    response
}

/// Whether the app's logout was reached through remote logout (then it is not sent on).
pub(crate) fn came_from_remote_logout(parts_headers: &http::HeaderMap) -> bool {
    find_cookie(parts_headers, REMOTE_LOGOUT_COOKIE).is_some()
}

/// After the app's own logout: send the browser to the portal's logout URL, keeping the
/// app's cookies (which end its session). Errors from the app pass through unchanged.
pub(crate) fn after_app_logout<B>(
    config: &Config,
    path: &str,
    response: Response<B>,
) -> Result<Written, Response<B>> {
    let Some(app_logout) = &config.app_logout else {
        return Err(response);
    };
    if !(response.status().is_success() || response.status().is_redirection()) {
        return Err(response);
    }
    config.record(EventKind::AppLogout, "app", path, |event| {
        event.target_origin = Some(app_logout.portal_logout_url.origin().ascii_serialization());
    });
    let mut written = redirect(app_logout.portal_logout_url.as_str().to_owned(), false);
    // The layer's own headers (Location, the cache and framing policy) win; every value of
    // every other header the app sent is kept, its Set-Cookie above all. What described
    // the app's body goes with it.
    let ours: Vec<HeaderName> = written.headers().keys().cloned().collect();
    for (name, value) in response.headers() {
        let describes_body = [
            CONTENT_LENGTH,
            CONTENT_TYPE,
            CONTENT_ENCODING,
            CONTENT_RANGE,
            TRANSFER_ENCODING,
        ]
        .contains(name);
        if !describes_body && !ours.contains(name) {
            written.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(written)
}

/// The remote-logout marker, expired, for the app logout response it was used on.
pub(crate) fn remote_logout_marker_removal() -> Cookie<'static> {
    Cookie::build((REMOTE_LOGOUT_COOKIE, ""))
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
}

/// Trips to the login page within the window, read from the signed cookie.
struct Trips {
    count: u32,
    since: u64,
}

impl Trips {
    fn read(config: &Config, headers: &http::HeaderMap) -> Self {
        let none = Trips { count: 0, since: 0 };
        let Some(raw) = find_cookie(headers, LOOP_COOKIE) else {
            return none;
        };
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(LOOP_COOKIE, raw.to_owned()));
        let Some(cookie) = jar.signed(&config.loop_guard.key).get(LOOP_COOKIE) else {
            return none;
        };
        let Some((count, since)) = cookie.value().split_once('.') else {
            return none;
        };
        let (Ok(count), Ok(since)) = (count.parse::<u32>(), since.parse::<u64>()) else {
            return none;
        };
        if now_unix().saturating_sub(since) > config.loop_guard.window.as_secs() {
            return none;
        }
        Trips { count, since }
    }

    fn next(&self, config: &Config, path: &str) -> Cookie<'static> {
        let since = if self.count == 0 {
            now_unix()
        } else {
            self.since
        };
        let mut jar = CookieJar::new();
        jar.signed_mut(&config.loop_guard.key).add(
            Cookie::build((
                LOOP_COOKIE,
                format!("{}.{since}", self.count.saturating_add(1)),
            ))
            .path(path.to_owned())
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(config.loop_guard.window.as_secs()).unwrap_or(i64::MAX),
            ))
            .build(),
        );
        jar.get(LOOP_COOKIE)
            .cloned()
            .unwrap_or_else(|| Cookie::new(LOOP_COOKIE, ""))
    }

    fn removal(path: &str) -> Cookie<'static> {
        Cookie::build((LOOP_COOKIE, ""))
            .path(path.to_owned())
            .max_age(cookie::time::Duration::ZERO)
            .build()
    }
}
