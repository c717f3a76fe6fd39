//! The responses the layer writes: redirects and short pages, all with the same
//! protective headers.

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, SET_COOKIE,
    VARY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

use http::{HeaderValue, Response, StatusCode};

/// A response built by the layer, before it is given the inner service's body type.
pub(crate) type Written = Response<String>;

/// Headers on every response the layer writes. A token-carrying URL must not be cached
/// or leak through `Referer`, and pages must not be framed or sniffed.
pub(crate) fn protect<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

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

/// A short HTML page. `title` and `message` are escaped; neither may carry a token,
/// secret or cookie (callers pass fixed sentences and configuration values only).
pub(crate) fn page(status: StatusCode, title: &str, message: &str) -> Written {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5\">\n\
         <h1>{title}</h1>\n<p>{message}</p>\n<p><small>{code} {reason} &middot; portal-sso</small></p>\n</body></html>\n",
        title = escape(title),
        message = escape(message),
        code = status.as_u16(),
        reason = status.canonical_reason().unwrap_or(""),
    );
    let mut response = Response::new(body);
    *response.status_mut() = status;
    protect_html(&mut response);
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

/// [`protect`], plus the headers of an HTML page that loads nothing from anywhere.
pub(crate) fn protect_html<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    protect(response);
}

/// Adds a `Set-Cookie` header; a value that cannot be a header is dropped.
pub(crate) fn set_cookie(response: &mut Written, cookie: &cookie::Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// HTML-escapes text for element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn pages_escape_their_text() {
        let response = page(StatusCode::BAD_REQUEST, "<t>", "a & <script>");
        let body = response.body();
        assert!(body.contains("a &amp; &lt;script&gt;"));
        assert!(!body.contains("<script>"));
    }
}
