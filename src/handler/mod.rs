//! What the layer answers on its own routes: the decisions between "a request arrived"
//! and "a response leaves", apart from the `Service` plumbing. [`login`] answers a
//! portal's login URL, [`logout`] the logout routes, [`widget`] an in-app widget's value,
//! [`login_loop`] counts the trips to the app's login page.

mod login;
mod login_loop;
mod logout;
mod own_cookies;
mod widget;

use std::sync::Arc;

use http::request::Parts;

use http::StatusCode;

use crate::config::{Config, PortalEntry, Route};
use crate::events::EventKind;
use crate::request_origin::RequestOrigin;
use crate::response::{Written, page};

pub(crate) use login::BoxLoginFuture;
pub(crate) use logout::{after_app_logout, after_remote_logout_removals, came_from_remote_logout};

/// The first step on an SSO route.
pub(crate) enum Begin {
    /// Answered without asking who the user is.
    Respond(Written),
    /// Waiting for the identity source; the future answers when it has.
    Resolve(BoxLoginFuture),
}

/// Starts answering `route` (a login, remote logout or widget route; the app logout
/// route goes to the app first).
pub(crate) fn begin(
    config: &Arc<Config>,
    route: Route,
    parts: Parts,
    origin: RequestOrigin,
) -> Begin {
    match route {
        Route::Login(index) => login::begin(config, index, parts, origin),
        Route::Logout(index) => Begin::Respond(logout::remote_logout(config, index, &parts)),
        Route::Widget(index) => widget::begin(config, index, &parts, origin),
        Route::AppLogout => unreachable!("the app logout route is passed to the app"),
    }
}

/// A request refused before anyone is looked up: a `bad_request` event with `reason`,
/// and a page saying why.
fn refuse_request(
    config: &Config,
    portal: &PortalEntry,
    parts: &Parts,
    reason: &str,
    (status, title, message): (StatusCode, &str, &str),
) -> Written {
    config.record(
        EventKind::BadRequest,
        &portal.name,
        parts.uri.path(),
        |event| {
            event.reason = Some(reason.to_owned());
        },
    );
    page(status, title, message)
}
