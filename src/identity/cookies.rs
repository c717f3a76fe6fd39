use http::HeaderMap;
use http::header::COOKIE;

/// The value of the first cookie called `name` in the request's `Cookie` headers, as sent
/// (not percent-decoded).
///
/// Header values that are not visible ASCII are skipped, so a malformed `Cookie` header
/// reads as "no such cookie" rather than an error.
pub fn find_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .and_then(|cookie| cookie.value_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_cookie_by_name_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "a=1; sid=abc".parse().unwrap());
        headers.append(COOKIE, "sid=second".parse().unwrap());
        assert_eq!(find_cookie(&headers, "sid"), Some("abc"));
        assert_eq!(find_cookie(&headers, "a"), Some("1"));
        assert_eq!(find_cookie(&headers, "missing"), None);
        assert_eq!(find_cookie(&headers, "si"), None);
    }
}
