//! Strict reading of the SSO routes' query strings.
//!
//! Unlike `application/x-www-form-urlencoded` parsers built for forms, this one refuses
//! what a browser following a vendor's redirect never sends: a parameter we act on given
//! twice, a `%` not followed by two hex digits, or bytes that do not decode to UTF-8.
//! Refusing is how parameter-pollution tricks (two `kustomerRedirectUri`, the first
//! checked and the second used) are kept out.

use std::borrow::Cow;

/// The longest query string an SSO route reads.
pub(crate) const MAX_QUERY_LEN: usize = 8 * 1024;

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueryError {
    /// Longer than [`MAX_QUERY_LEN`].
    TooLong,
    /// A parameter the route reads appears more than once.
    Duplicate(String),
    /// A `%` escape is broken or the bytes are not UTF-8.
    BadEncoding,
}

impl QueryError {
    /// A sentence for the error page.
    pub(crate) fn explain(&self) -> String {
        match self {
            QueryError::TooLong => "The query string is too long.".to_owned(),
            QueryError::Duplicate(name) => {
                format!("The parameter `{name}` was given more than once.")
            }
            QueryError::BadEncoding => {
                "The query string has a broken %-escape or bytes that are not UTF-8.".to_owned()
            }
        }
    }
}

/// Picks the parameters called `names` out of `query`, each value as it stood in the
/// query (decode it with [`decode`], which cannot fail on these), refusing duplicates among
/// them and bad encoding anywhere.
///
/// A name written in another ASCII case (`State`, `%53tate`) is not read, but it does count
/// as a second one: whichever spelling another reader honours, it would not be the value
/// checked here.
pub(crate) fn pick_raw<'q>(
    query: Option<&'q str>,
    names: &[&str],
) -> Result<Vec<Option<&'q str>>, QueryError> {
    let mut found: Vec<Option<&'q str>> = vec![None; names.len()];
    let Some(query) = query else {
        return Ok(found);
    };
    if query.len() > MAX_QUERY_LEN {
        return Err(QueryError::TooLong);
    }
    let mut seen = vec![false; names.len()];
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(raw_key)?;
        // Every value must be well formed, read or not: one a parser reads differently is
        // a place to hide a second meaning.
        decode(raw_value)?;
        if let Some(slot) = names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(&key))
        {
            if seen[slot] {
                return Err(QueryError::Duplicate(names[slot].to_owned()));
            }
            seen[slot] = true;
            if names[slot] == key {
                found[slot] = Some(raw_value);
            }
        }
    }
    Ok(found)
}

/// Percent-decodes one key or value strictly.
pub(crate) fn decode(input: &str) -> Result<Cow<'_, str>, QueryError> {
    if !input.contains(['%', '+']) {
        return Ok(Cow::Borrowed(input));
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(QueryError::BadEncoding)?;
                let hi = hex_value(hex[0]).ok_or(QueryError::BadEncoding)?;
                let lo = hex_value(hex[1]).ok_or(QueryError::BadEncoding)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| QueryError::BadEncoding)
}

/// Whether `query` (a URL's query or fragment, without its `?` or `#`) has a parameter
/// that some common parser would read as `name`, so that a parameter called `name` added
/// beside it might not be the one the portal reads.
///
/// Parsers differ: qs, Rails, PHP and Rack read `name[]` and `name[0]` as `name`; qs
/// with dots allowed reads `name.x`; PHP reads `a.b` and `a b` as `a_b`; older Rack and
/// some servlet containers split pairs at `;` as well as `&`; some trim white space or
/// stop at a NUL; ASP.NET compares names without regard to case. A key matches when it
/// reads as `name` under any of these, after percent-decoding.
pub(crate) fn reads_as(query: &str, name: &str) -> bool {
    query.split(['&', ';', '?', '#']).any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(key, _)| key);
        let key = percent_encoding::percent_decode_str(&key.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        let key = key.split('\0').next().unwrap_or_default();
        let key = key.split('[').next().unwrap_or_default();
        let key = key.trim_matches(|c: char| c.is_whitespace() || c.is_control());
        let php = key.replace(['.', ' '], "_");
        let dotted = key.split('.').next().unwrap_or_default();
        [key, php.as_str(), dotted]
            .iter()
            .any(|read| read.eq_ignore_ascii_case(name))
    })
}

/// Whether a common parser may read the parameter names `a` and `b` as one: the same
/// but for case, `.`, `_` or space, a `[…]` suffix or a `.…` suffix (`ssoToken`,
/// `SSOTOKEN`, `sso_token`, `ssoToken[]`, `ssoToken.x`).
pub(crate) fn names_read_alike(a: &str, b: &str) -> bool {
    let fold = |name: &str| {
        name.split('[')
            .next()
            .unwrap_or_default()
            .replace(['.', ' '], "_")
            .to_ascii_lowercase()
    };
    reads_as(a, b) || reads_as(b, a) || fold(a) == fold(b)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Characters left as they are in a query value: RFC 3986 unreserved ones only.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes `value` for use as a query value; the result is plain ASCII with no
/// control characters, safe in a `Location` header.
pub(crate) fn encode(value: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE)
}

/// Appends `name=value` to `url`'s query, before any fragment, leaving every existing
/// byte as it was: `?` when there is no query, `&` after a non-empty one that does not end
/// in `&` already. `value` must already be query-safe (a JWT is; use percent-encoding for
/// anything else), and `url` a serialised URL (`url::Url::as_str`): a URL parser strips
/// controls and spaces at the ends of its input, which this function would leave inside.
///
/// ```
/// use portal_sso::append_query_param;
///
/// assert_eq!(append_query_param("https://a.example/login", "t", "x"), "https://a.example/login?t=x");
/// assert_eq!(append_query_param("https://a.example/l?r=%2F", "t", "x"), "https://a.example/l?r=%2F&t=x");
/// assert_eq!(append_query_param("https://a.example/l?r=1#top", "t", "x"), "https://a.example/l?r=1&t=x#top");
/// assert_eq!(append_query_param("https://a.example/l?", "t", "x"), "https://a.example/l?t=x");
/// ```
pub fn append_query_param(url: &str, name: &str, value: &str) -> String {
    let (before_fragment, separator, fragment) = query_param_place(url);
    let mut out = String::with_capacity(url.len() + separator.len() + name.len() + value.len() + 1);
    out.push_str(before_fragment);
    out.push_str(separator);
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    out.push_str(fragment);
    out
}

/// Where [`append_query_param`] puts a parameter: `url` before its fragment, the
/// separator to write after it, and the fragment (with its `#`) to write after the value.
pub(crate) fn query_param_place(url: &str) -> (&str, &'static str, &str) {
    let (before_fragment, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let separator = match before_fragment.find('?') {
        None => "?",
        Some(at) if at + 1 == before_fragment.len() => "",
        Some(_) if before_fragment.ends_with('&') => "",
        Some(_) => "&",
    };
    (before_fragment, separator, fragment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(query: &str, names: &[&str]) -> Result<Vec<Option<String>>, QueryError> {
        let raw = pick_raw(Some(query), names)?;
        raw.into_iter()
            .map(|value| value.map(|v| decode(v).map(Cow::into_owned)).transpose())
            .collect()
    }

    #[test]
    fn picks_raw_values_that_decode() {
        assert_eq!(
            pick_raw(Some("a=x%2By&b=1+2&other=%41"), &["a", "b", "c"]),
            Ok(vec![Some("x%2By"), Some("1+2"), None])
        );
        assert_eq!(
            pick("a=x%2By&b=1+2", &["a", "b"]),
            Ok(vec![Some("x+y".to_owned()), Some("1 2".to_owned())])
        );
    }

    #[test]
    fn refuses_duplicates_of_wanted_names_only() {
        assert_eq!(
            pick("a=1&a=2", &["a"]),
            Err(QueryError::Duplicate("a".to_owned()))
        );
        assert_eq!(
            pick("%61=1&a=2", &["a"]),
            Err(QueryError::Duplicate("a".to_owned()))
        );
        assert!(pick("x=1&x=2&a=3", &["a"]).is_ok());
    }

    #[test]
    fn other_spellings_count_as_duplicates_but_are_not_read() {
        for query in ["state=1&State=2", "STATE=1&state=2", "%53tate=1&state=2"] {
            assert_eq!(
                pick(query, &["state"]),
                Err(QueryError::Duplicate("state".to_owned())),
                "{query}"
            );
        }
        assert_eq!(pick("State=1", &["state"]), Ok(vec![None]));
    }

    #[test]
    fn refuses_broken_escapes_and_non_utf8() {
        for query in [
            "a=%",
            "a=%4",
            "a=%zz",
            "a=%ff",
            "a=%C3%28",
            "x=%G0&a=1",
            "a=%2F&b=%ff",
        ] {
            assert_eq!(pick(query, &["a"]), Err(QueryError::BadEncoding), "{query}");
        }
    }

    #[test]
    fn refuses_long_queries() {
        let query = format!("a={}", "x".repeat(MAX_QUERY_LEN));
        assert_eq!(pick(&query, &["a"]), Err(QueryError::TooLong));
    }

    #[test]
    fn finds_every_spelling_a_common_parser_reads_as_the_name() {
        for query in [
            "externalToken=x",
            "a=1&externalToken[]=x",
            "externalToken[0]=x",
            "externalToken%5B%5D=x",
            "externalToken%5b0%5d=x",
            "ExternalToken=x",
            "EXTERNALTOKEN=x",
            "a=1;externalToken=x",
            "externalToken%00=x",
            "externalToken%00junk=x",
            "externalToken%20=x",
            "%20externalToken=x",
            "externalToken+=x",
            "%65xternalToken=x",
            "externalToken.a=x",
            "externalToken",
            "externalToken%zz=1&externalToken",
        ] {
            assert!(reads_as(query, "externalToken"), "{query}");
        }
        for query in [
            "",
            "a=1",
            "referralUrl=https%3A%2F%2Fx%2F%3FexternalToken%3D1",
            "externalTokens=x",
            "myexternalToken=x",
            "x=externalToken",
        ] {
            assert!(!reads_as(query, "externalToken"), "{query}");
        }
        for query in [
            "return.to=/x",
            "return to=/x",
            "Return_To=/x",
            "return_to[]=/x",
        ] {
            assert!(reads_as(query, "return_to"), "{query}");
        }
    }

    #[test]
    fn names_that_a_parser_may_take_for_one_another() {
        for (a, b) in [
            ("ssoToken", "SSOTOKEN"),
            ("ssoToken", "ssotoken"),
            ("ssoToken", "ssoToken.x"),
            ("ssoToken", "ssoToken[]"),
            ("sso.token", "sso_token"),
            ("sso_token", "SSO.TOKEN"),
        ] {
            assert!(names_read_alike(a, b), "{a} {b}");
            assert!(names_read_alike(b, a), "{b} {a}");
        }
        for (a, b) in [
            ("ssoToken", "ssoTokens"),
            ("state", "return_to"),
            ("jwt", "jwt_token"),
        ] {
            assert!(!names_read_alike(a, b), "{a} {b}");
        }
    }

    #[test]
    fn encodes_everything_but_unreserved() {
        assert_eq!(encode("a b&c=/\r\n~").to_string(), "a%20b%26c%3D%2F%0D%0A~");
    }
}
