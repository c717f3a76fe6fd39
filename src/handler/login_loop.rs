//! The login-loop breaker: a signed cookie counts the trips to the app's login page, so
//! a session the layer cannot read ends on an explanation, not an endless redirect loop.

use cookie::Cookie;

use super::own_cookies;
use crate::config::Config;
use crate::portal::now_unix;

/// The signed cookie counting trips to the login page.
const LOOP_COOKIE: &str = "portal_sso_login_trips";

/// Trips to the login page within the window, read from the signed cookie.
pub(super) struct Trips {
    pub(super) count: u32,
    since: u64,
}

impl Trips {
    pub(super) fn read(config: &Config, headers: &http::HeaderMap) -> Self {
        let none = Trips { count: 0, since: 0 };
        let Some(value) = own_cookies::verified(&config.cookie_key, headers, LOOP_COOKIE) else {
            return none;
        };
        let Some((count, since)) = value.split_once('.') else {
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

    pub(super) fn next(&self, config: &Config, path: &str) -> Cookie<'static> {
        let since = if self.count == 0 {
            now_unix()
        } else {
            self.since
        };
        own_cookies::signed(
            &config.cookie_key,
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
        )
    }

    pub(super) fn removal(path: &str) -> Cookie<'static> {
        Cookie::build((LOOP_COOKIE, ""))
            .path(path.to_owned())
            .max_age(cookie::time::Duration::ZERO)
            .build()
    }
}
