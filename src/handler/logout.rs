//! The logout routes: the portal's "Remote logout URL" ends the app session, and the
//! app's own logout is followed by the portal's.

use cookie::Cookie;
use http::header::{
    CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, TRANSFER_ENCODING,
};
use http::request::Parts;
use http::{HeaderName, Response, StatusCode};

use super::own_cookies;
use crate::config::{Config, PortalEntry};
use crate::events::EventKind;
use crate::portal::now_unix;
use crate::query;
use crate::response::{Written, page, redirect, set_cookie};

/// The most characters of a portal's error message shown and recorded.
const MAX_MESSAGE_CHARS: usize = 300;

/// Set by remote logout when it sends the browser through the app's logout, so the app
/// logout route does not bounce it on to the portal it just came from.
const REMOTE_LOGOUT_COOKIE: &str = "portal_sso_remote_logout";

/// The "Remote logout URL": end the app session and land on the configured page; or, for
/// a portal that reports sign-in errors here, show the error and do nothing else.
pub(super) fn remote_logout(config: &Config, index: usize, parts: &Parts) -> Written {
    let portal = &config.portals[index];
    if portal.engine.logout_errors
        && let Some(answer) = portal_error(config, portal, parts)
    {
        return answer;
    }
    config.resolver.forget(parts);
    config.record(EventKind::Logout, &portal.name, parts.uri.path(), |event| {
        if config.app_logout_url.is_some() {
            event.reason = Some("via_app_logout".to_owned());
        }
    });
    let mut response = match &config.app_logout_url {
        Some(app_logout) => {
            let mut response = redirect(app_logout.clone(), false);
            set_cookie(&mut response, &remote_logout_marker(config));
            response
        }
        None => redirect(portal.logout_redirect.clone(), false),
    };
    if let Some(session) = &config.session_cookie {
        set_cookie(&mut response, &session.removal());
    }
    response
}

/// Zendesk sends a failed sign-in to the remote logout URL as `kind=error&message=…`
/// ("clock drifts, rate limits being hit, and invalid tokens"). Ending the session or
/// signing in again would only loop, so the message is shown and recorded, and the
/// session kept. `None` for an ordinary logout.
fn portal_error(config: &Config, portal: &PortalEntry, parts: &Parts) -> Option<Written> {
    let path = parts.uri.path();
    let read = query::pick_raw(parts.uri.query(), &["kind", "message"]).and_then(|values| {
        let kind = values[0].map(query::decode).transpose()?;
        let message = values[1].map(query::decode).transpose()?;
        Ok((kind, message))
    });
    let message = match read {
        Ok((Some(kind), message)) if kind == "error" => shown(message.as_deref().unwrap_or("")),
        Ok(_) => return None,
        Err(error) => {
            config.record(EventKind::BadRequest, &portal.name, path, |event| {
                event.reason = Some(crate::portal::Refusal::Query(error.clone()).reason());
            });
            return Some(page(
                StatusCode::BAD_REQUEST,
                "Request refused",
                &error.explain(),
            ));
        }
    };
    config.record(EventKind::PortalError, &portal.name, path, |event| {
        event.reason = Some(message.clone());
    });
    Some(page(
        StatusCode::BAD_GATEWAY,
        "Help center sign-in failed",
        &format!(
            "The help center could not sign you in and said: \u{201c}{message}\u{201d}. \
             Signing in again will fail the same way until the cause is fixed; the \
             operator can find this message in the log."
        ),
    ))
}

/// A portal's message as it may be shown and logged: control and invisible characters
/// as spaces, anything that looks like a JWT replaced, at most [`MAX_MESSAGE_CHARS`]
/// characters.
fn shown(message: &str) -> String {
    let plain: String = message
        .chars()
        .map(|c| {
            if crate::text::is_control_or_invisible(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let mut out: Vec<&str> = Vec::new();
    for word in plain.split_whitespace() {
        out.push(if word.contains("eyJ") {
            "[token]"
        } else {
            word
        });
    }
    let joined = out.join(" ");
    match joined.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

/// How long the remote-logout marker is good for (its `Max-Age` too): the trip through
/// the app's logout.
const MARKER_SECS: u64 = 60;

/// The remote-logout marker: the time it was set, signed with the layer's cookie key, so
/// that a cookie planted from elsewhere (a sibling subdomain, say) cannot stop the app's
/// logout from ending the portal session too.
fn remote_logout_marker(config: &Config) -> Cookie<'static> {
    own_cookies::signed(
        &config.cookie_key,
        Cookie::build((REMOTE_LOGOUT_COOKIE, now_unix().to_string()))
            .path("/")
            .max_age(cookie::time::Duration::seconds(60))
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .build(),
    )
}

/// Whether the app's logout was reached through remote logout (then it is not sent on):
/// the request carries a marker this layer's key signed within the last minute.
pub(crate) fn came_from_remote_logout(config: &Config, headers: &http::HeaderMap) -> bool {
    own_cookies::verified(&config.cookie_key, headers, REMOTE_LOGOUT_COOKIE)
        .and_then(|marker| marker.parse::<u64>().ok())
        .is_some_and(|set| now_unix().saturating_sub(set) <= MARKER_SECS)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_plain_short_and_carry_no_token() {
        assert_eq!(
            shown("Invalid JWT:\r\n iat too old"),
            "Invalid JWT: iat too old"
        );
        assert_eq!(
            shown("bad token eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig here"),
            "bad token [token] here"
        );
        assert_eq!(shown("a\u{202E}b"), "a b");
        let long = shown(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
