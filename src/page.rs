//! The look of the pages the layer writes (a refused sign-in, a login loop, an identity
//! source that is down), and the protective headers on every response it writes: public
//! so that a server around the layer answers its own errors in the same look.
//!
//! ```
//! use http::StatusCode;
//!
//! let response = portal_sso::page::page(StatusCode::BAD_GATEWAY, "The app is down", "Try again in a minute.");
//! assert_eq!(response.headers()["cache-control"], "no-store");
//! assert!(response.body().contains("<h1>The app is down</h1>"));
//! ```

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use http::{HeaderValue, Response, StatusCode};

/// Headers on every response the layer writes. A token-carrying URL must not be cached
/// or leak through `Referer`, and pages must not be framed or sniffed.
pub fn protect<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// A short HTML page. `title` and `message` are escaped; neither may carry a token,
/// secret or cookie (callers pass fixed sentences and configuration values only).
pub fn page(status: StatusCode, title: &str, message: &str) -> Response<String> {
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

/// [`protect`], plus the headers of an HTML page that loads nothing from anywhere.
pub fn protect_html<B>(response: &mut Response<B>) {
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

/// HTML-escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
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
    fn pages_escape_their_text() {
        let response = page(StatusCode::BAD_REQUEST, "<t>", "a & <script>");
        let body = response.body();
        assert!(body.contains("a &amp; &lt;script&gt;"));
        assert!(!body.contains("<script>"));
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[X_FRAME_OPTIONS], "DENY");
    }
}
