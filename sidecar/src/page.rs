//! The sidecar's own pages (a 502 from the proxy, a 400 for a malformed request, the
//! demo's sites): short HTML with the same protective headers as the layer's pages.

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use http::{HeaderValue, Response, StatusCode};

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

/// Headers on every response the sidecar writes itself: not cached, no `Referer`, not
/// framed or sniffed.
pub fn protect<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
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
    fn pages_escape_their_text_and_carry_the_protective_headers() {
        let response = page(StatusCode::BAD_GATEWAY, "<t>", "a & <script>");
        assert!(response.body().contains("a &amp; &lt;script&gt;"));
        assert!(!response.body().contains("<script>"));
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[X_FRAME_OPTIONS], "DENY");
    }
}
