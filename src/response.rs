//! The responses the layer writes: redirects and short pages, all with the same
//! protective headers.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE, VARY};
use http::{HeaderValue, Response, StatusCode};

pub(crate) use crate::page::{escape, page, protect, protect_html};

/// A response built by the layer, before it is given the inner service's body type.
pub(crate) type Written = Response<String>;

/// A 302 to `location`. When `sensitive` (the URL carries a token) the header is marked so
/// HTTP/2 encoders keep it out of compression tables and loggers can skip it.
pub(crate) fn redirect(location: impl Into<Bytes>, sensitive: bool) -> Written {
    let Ok(mut value) = HeaderValue::from_maybe_shared(location.into()) else {
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The return address could not be written into a response header.",
        );
    };
    value.set_sensitive(sensitive);
    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::FOUND;
    response.headers_mut().insert(LOCATION, value);
    protect(&mut response);
    response
}

/// A JSON answer for the app's own page (a widget's value, or why there is none):
/// [`protect`]ed, never stored by a cache, and answered per session (`Vary: Cookie`). No
/// CORS header, ever: only the app's own origin may read it.
pub(crate) fn json(status: StatusCode, body: String) -> Written {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(VARY, HeaderValue::from_static("Cookie"));
    protect(&mut response);
    response
}

/// Adds a `Set-Cookie` header; a value that cannot be a header is dropped.
pub(crate) fn set_cookie(response: &mut Written, cookie: &cookie::Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{CACHE_CONTROL, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};

    #[test]
    fn redirects_carry_the_protective_headers() {
        let response = redirect("https://a.example/?t=x", true);
        assert_eq!(response.status(), StatusCode::FOUND);
        assert!(response.headers()[LOCATION].is_sensitive());
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[REFERRER_POLICY], "no-referrer");
        assert_eq!(response.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(response.headers()[X_FRAME_OPTIONS], "DENY");
        assert_eq!(response.headers()[LOCATION], "https://a.example/?t=x");
        assert_eq!(response.headers().len(), 5);
        assert_eq!(response.headers().get_all(LOCATION).iter().count(), 1);
        assert!(!redirect("/", false).headers()[LOCATION].is_sensitive());
    }

    #[test]
    fn a_location_that_cannot_be_a_header_is_a_500_page_not_a_panic() {
        let response = redirect("https://a.example/\r\nSet-Cookie: x=y", true);
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get(LOCATION).is_none());
    }
}
