use http::HeaderMap;
use http::header::COOKIE;

use super::{Identity, IdentityError};

/// The value of the first cookie called `name` in the request's `Cookie` headers, as sent
/// (not percent-decoded).
///
/// Cookies are read pair by pair on the header's bytes: a pair that is not UTF-8 (a
/// browser sends raw UTF-8 and a sibling subdomain may plant `pref=café`) or has no `=`
/// is skipped alone, and every other cookie of the header is still found.
pub fn find_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    find_cookies(headers, name).next()
}

/// Every value of the cookies called `name`, in the order sent, across all `Cookie`
/// headers; read as [`find_cookie`] reads them.
///
/// A browser sends the same name more than once when cookies of different paths or
/// domains match (one may be planted by a sibling subdomain), and apps differ in which
/// one they read: a source that decides on one value must look at all of them.
pub fn find_cookies<'h>(headers: &'h HeaderMap, name: &str) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&byte| byte == b';'))
        .filter_map(move |pair| {
            let (key, value) = pair.split_at(pair.iter().position(|&byte| byte == b'=')?);
            let matches = trim(key) == name.as_bytes();
            matches
                .then(|| std::str::from_utf8(trim(&value[1..])).ok())
                .flatten()
        })
}

/// The user a session cookie names, from what each of its values says (`None` for a
/// value that does not verify or names no one).
///
/// A cookie sent more than once signs in only when every value that verifies names the
/// same user; values naming different users are a conflict (one may be planted by a
/// sibling subdomain, and the app may read the other), which the layer treats as signed
/// out and reports.
pub(crate) fn one_user(
    cookie: &str,
    answers: impl Iterator<Item = Result<Option<Identity>, IdentityError>>,
) -> Result<Option<Identity>, IdentityError> {
    let mut agreed: Option<Identity> = None;
    for answer in answers {
        let Some(identity) = answer? else { continue };
        match &agreed {
            None => agreed = Some(identity),
            Some(first) if first.email() == identity.email() => {}
            Some(_) => {
                return Err(IdentityError::conflict(format!(
                    "the session cookie `{cookie}` was sent more than once, naming different users"
                )));
            }
        }
    }
    Ok(agreed)
}

/// `bytes` without the spaces and tabs around it (RFC 6265's optional white space).
fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |byte: &u8| *byte == b' ' || *byte == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |at| at + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn finds_the_first_cookie_by_name_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "a=1; sid=abc".parse().unwrap());
        headers.append(COOKIE, "sid=second".parse().unwrap());
        assert_eq!(find_cookie(&headers, "sid"), Some("abc"));
        assert_eq!(find_cookie(&headers, "a"), Some("1"));
        assert_eq!(find_cookie(&headers, "missing"), None);
        assert_eq!(find_cookie(&headers, "si"), None);
        assert_eq!(
            find_cookies(&headers, "sid").collect::<Vec<_>>(),
            ["abc", "second"]
        );
    }

    #[test]
    fn one_odd_pair_hides_only_itself() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_bytes(b"pref=caf\xc3\xa9; bad=\xff\xfe; noequals; sid=abc;\tx = 1 ")
                .unwrap(),
        );
        assert_eq!(find_cookie(&headers, "sid"), Some("abc"));
        assert_eq!(find_cookie(&headers, "pref"), Some("café"));
        assert_eq!(find_cookie(&headers, "x"), Some("1"));
        assert_eq!(find_cookie(&headers, "bad"), None);
        assert_eq!(find_cookie(&headers, "noequals"), None);
        assert_eq!(find_cookie(&headers, "sid=abc"), None);
    }

    #[test]
    fn empty_and_spaced_values() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "a=; b= 2 ;c==3".parse().unwrap());
        assert_eq!(find_cookie(&headers, "a"), Some(""));
        assert_eq!(find_cookie(&headers, "b"), Some("2"));
        assert_eq!(find_cookie(&headers, "c"), Some("=3"));
    }
}
