//! The logout routes: the portal's "Remote logout URL" ends the app session, and the
//! app's own logout is followed by the portal's.

use cookie::Cookie;
use http::header::{
    CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, TRANSFER_ENCODING,
};
use http::request::Parts;
use http::{HeaderName, Response};

use crate::config::Config;
use crate::events::EventKind;
use crate::identity::find_cookie;
use crate::response::{Written, redirect, set_cookie};

/// Set by remote logout when it sends the browser through the app's logout, so the app
/// logout route does not bounce it on to the portal it just came from.
const REMOTE_LOGOUT_COOKIE: &str = "portal_sso_remote_logout";

/// The "Remote logout URL": end the app session and land on the configured page.
pub(super) fn remote_logout(config: &Config, index: usize, parts: &Parts) -> Written {
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
