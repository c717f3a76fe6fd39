//! The logout routes: the portal's "Remote logout URL" ends the app session, and the
//! app's own logout is followed by the portal's.

use std::fmt::Write as _;

use cookie::Cookie;
use http::header::{
    CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, TRANSFER_ENCODING,
};
use http::request::Parts;
use http::{HeaderName, Response, StatusCode};
use sha2::{Digest as _, Sha256};

use super::own_cookies;
use crate::config::{Config, PortalEntry, SessionCookie};
use crate::events::EventKind;
use crate::identity::find_cookies;
use crate::portal::now_unix;
use crate::query;
use crate::response::{Written, page, redirect, set_cookie};

/// The most characters of a portal's error message shown and recorded.
const MAX_MESSAGE_CHARS: usize = 300;

/// Set by remote logout when it sends the browser through the app's logout, so the app
/// logout route does not bounce it on to the portal it just came from.
const REMOTE_LOGOUT_COOKIE: &str = "portal_sso_remote_logout";

/// How every cookie of the layer's own is named.
pub(crate) const OWN_COOKIE_PREFIX: &str = "portal_sso_";

/// The "Remote logout URL": end the app session and land on the configured page; or, for
/// a portal that reports sign-in errors here, show the error and do nothing else.
///
/// With an app logout URL, the browser is sent through it with its session cookie, so
/// that the app ends the session it knows; the layer expires the cookie when the app's
/// logout answers. Without a session there is nothing for the app to end, and the browser
/// lands on the configured page.
pub(super) fn remote_logout(config: &Config, index: usize, parts: &Parts) -> Written {
    let portal = &config.portals[index];
    if let Some(refusal) = cross_site_subresource(config, portal, parts) {
        return refusal;
    }
    if portal.engine.logout_errors
        && let Some(answer) = portal_error(config, portal, parts)
    {
        return answer;
    }
    config.resolver.forget(parts);
    let through_app = config
        .app_logout_url
        .as_ref()
        .zip(session_binding(config, &parts.headers));
    config.record(EventKind::Logout, &portal.name, parts.uri.path(), |event| {
        if through_app.is_some() {
            event.reason = Some("via_app_logout".to_owned());
        }
    });
    if let Some((app_logout, binding)) = through_app {
        let mut response = redirect(app_logout.clone(), false);
        set_cookie(&mut response, &remote_logout_marker(config, &binding));
        return response;
    }
    let mut response = redirect(portal.logout_redirect.clone(), false);
    if let Some(session) = &config.session_cookie {
        set_cookie(&mut response, &session.removal());
    }
    response
}

/// A cross-site request for a logout route that is not a top-level navigation (an `<img>`,
/// a `fetch`, a frame on another site): refused, so that no third-party page can end the
/// session. A portal's remote logout redirect is a navigation (`Sec-Fetch-Dest:
/// document`) and passes, as does a browser that sends no fetch metadata.
fn cross_site_subresource(config: &Config, portal: &PortalEntry, parts: &Parts) -> Option<Written> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let cross_site = header("sec-fetch-site") == Some("cross-site");
    let navigation = header("sec-fetch-dest").is_none_or(|dest| dest == "document");
    if !cross_site || navigation {
        return None;
    }
    Some(super::refuse_request(
        config,
        portal,
        parts,
        "cross_site_subresource",
        (
            StatusCode::FORBIDDEN,
            "Logout refused",
            "This logout was requested by another site's page, not by following a link or a \
             redirect: it is refused so that no other site can end your session. Open the \
             logout link itself to sign out.",
        ),
    ))
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

/// What ties a remote-logout marker to the session it was set for: a digest of the
/// session cookie's values (of every cookie but the layer's own when the layer was not
/// told the session cookie's name). `None` when the request carries no session.
fn session_binding(config: &Config, headers: &http::HeaderMap) -> Option<String> {
    let mut digest = Sha256::new();
    let mut any = false;
    let mut feed = |pair: &[u8]| {
        any = true;
        digest.update((pair.len() as u64).to_be_bytes());
        digest.update(pair);
    };
    match &config.session_cookie {
        Some(session) => find_cookies(headers, session.name()).for_each(|v| feed(v.as_bytes())),
        None => headers
            .get_all(http::header::COOKIE)
            .iter()
            .flat_map(|value| value.as_bytes().split(|&byte| byte == b';'))
            .map(<[u8]>::trim_ascii)
            .filter(|pair| !pair.is_empty() && !pair.starts_with(OWN_COOKIE_PREFIX.as_bytes()))
            .for_each(&mut feed),
    }
    any.then(|| {
        digest.finalize()[..16]
            .iter()
            .fold(String::with_capacity(32), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    })
}

/// The remote-logout marker: the time it was set and the session it was set for
/// ([`session_binding`]), signed with the layer's cookie key, so that a cookie planted from
/// elsewhere (a sibling subdomain, say), or one taken by another user, cannot stop the app's
/// logout from ending the portal session too.
fn remote_logout_marker(config: &Config, binding: &str) -> Cookie<'static> {
    own_cookies::signed(
        &config.cookie_key,
        Cookie::build((REMOTE_LOGOUT_COOKIE, format!("{}.{binding}", now_unix())))
            .path("/")
            .max_age(cookie::time::Duration::seconds(60))
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .build(),
    )
}

/// Whether the app's logout was reached through remote logout (then it is not sent on):
/// the request carries a marker this layer's key signed within the last minute, for the
/// session the request carries.
pub(crate) fn came_from_remote_logout(config: &Config, headers: &http::HeaderMap) -> bool {
    let Some(marker) = own_cookies::verified(&config.cookie_key, headers, REMOTE_LOGOUT_COOKIE)
    else {
        return false;
    };
    let Some((set, bound)) = marker.split_once('.') else {
        return false;
    };
    let fresh = set
        .parse::<u64>()
        .is_ok_and(|set| now_unix().saturating_sub(set) <= MARKER_SECS);
    fresh && session_binding(config, headers).is_some_and(|binding| binding == bound)
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

/// The cookies the app logout response that ends a remote logout expires: the marker, and
/// the session cookie, whatever the app's logout did with it.
pub(crate) fn after_remote_logout_removals(config: &Config) -> Vec<Cookie<'static>> {
    let marker = Cookie::build((REMOTE_LOGOUT_COOKIE, ""))
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    std::iter::once(marker)
        .chain(config.session_cookie.as_ref().map(SessionCookie::removal))
        .collect()
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
