//! Reading a redirect target strictly: refused outright when a browser and a parser
//! could read it differently.

use std::borrow::Cow;

use url::{Host, Url};

use super::{MAX_REDIRECT_LEN, RedirectRejection};

/// Characters refused anywhere in a target: anything a browser strips, folds or reads as
/// a separator while a parser might not.
fn forbidden(c: char) -> bool {
    c.is_whitespace() || c == '\\' || crate::text::is_control_or_invisible(c)
}

/// Whether any character of `text` is [`forbidden`].
fn has_forbidden(text: &str) -> bool {
    text.chars().any(forbidden)
}

pub(super) fn parse_absolute(target: &str) -> Result<Url, RedirectRejection> {
    if target.is_empty() {
        return Err(RedirectRejection::Empty);
    }
    if target.len() > MAX_REDIRECT_LEN {
        return Err(RedirectRejection::TooLong);
    }
    if has_forbidden(target) {
        return Err(RedirectRejection::ForbiddenCharacter);
    }
    let rest = strip_prefix_ignore_case(target, "https://")
        .or_else(|| strip_prefix_ignore_case(target, "http://"))
        .ok_or(RedirectRejection::NotAbsoluteHttp)?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.is_empty() {
        return Err(RedirectRejection::NotAbsoluteHttp);
    }
    if authority.contains(['@', '%']) {
        return Err(RedirectRejection::Userinfo);
    }
    let path_end = rest.find(['?', '#']).unwrap_or(rest.len());
    if has_dot_segment(&rest[authority_end..path_end]) {
        return Err(RedirectRejection::NotCanonical);
    }
    let mut url = Url::parse(target).map_err(|_| RedirectRejection::Unparseable)?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(RedirectRejection::NotAbsoluteHttp);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RedirectRejection::Userinfo);
    }
    if !written_plainly(authority, &url) {
        return Err(RedirectRejection::NotCanonical);
    }
    if let Some(Host::Domain(domain)) = url.host()
        && let Some(trimmed) = domain.strip_suffix('.')
    {
        let trimmed = trimmed.to_owned();
        url.set_host(Some(&trimmed))
            .map_err(|_| RedirectRejection::Unparseable)?;
    }
    Ok(url)
}

/// Whether a path (as written, still escaped) has a `.` or `..` segment, escaped or not.
pub(crate) fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(is_dot_segment)
}

/// `.`, `..`, or either with any of its dots written `%2e` / `%2E`.
fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(b".") {
            rest = after;
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"%2e") {
            rest = &rest[3..];
        } else {
            return false;
        }
        dots += 1;
        if dots > 2 {
            return false;
        }
    }
    dots > 0
}

/// Whether the authority as written is the one the parser read: the host is the parsed
/// one up to ASCII case and one trailing dot, with no empty label, each non-ASCII
/// character stays non-ASCII under IDNA (so nothing folds into the ASCII being compared),
/// IP addresses are in their canonical form, and a port is plain digits without leading
/// zeros.
fn written_plainly(authority: &str, url: &Url) -> bool {
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => authority.split_at(end + 1),
            None => return false,
        }
    } else {
        match authority.find(':') {
            Some(colon) => authority.split_at(colon),
            None => (authority, ""),
        }
    };
    if let Some(digits) = port.strip_prefix(':') {
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return false;
        }
    } else if !port.is_empty() {
        return false;
    }
    match url.host() {
        Some(Host::Ipv4(ip)) => host == ip.to_string(),
        Some(Host::Ipv6(ip)) => host.eq_ignore_ascii_case(&format!("[{ip}]")),
        Some(Host::Domain(domain)) => {
            let parsed = domain.strip_suffix('.').unwrap_or(domain);
            if parsed.is_empty() || parsed.starts_with('.') || parsed.split('.').any(str::is_empty)
            {
                return false;
            }
            if host.is_ascii() {
                host.strip_suffix('.')
                    .unwrap_or(host)
                    .eq_ignore_ascii_case(parsed)
            } else {
                host.chars().filter(|c| !c.is_ascii()).all(|c| {
                    url::quirks::domain_to_ascii(c.encode_utf8(&mut [0; 4])).starts_with("xn--")
                })
            }
        }
        None => false,
    }
}

/// The URL's host in the form origins are compared in. Domains are borrowed: the `url`
/// crate has already lower-cased and IDNA-mapped them.
pub(super) fn normalise_host(url: &Url) -> Option<Cow<'_, str>> {
    let host = match url.host()? {
        Host::Domain(domain) => Cow::Borrowed(domain.trim_end_matches('.')),
        Host::Ipv4(ip) => Cow::Owned(ip.to_string()),
        Host::Ipv6(ip) => Cow::Owned(format!("[{ip}]")),
    };
    (!host.is_empty()).then_some(host)
}

pub(super) fn strip_prefix_ignore_case<'a>(input: &'a str, prefix: &str) -> Option<&'a str> {
    let head = input.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &input[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_are_refused_anywhere() {
        for text in [
            "https://a.example/\u{200B}",
            "https://a.example/é\u{85}",
            "https://a.example/\\",
            "https://a.example/\u{7f}",
        ] {
            assert!(has_forbidden(text), "{text:?}");
        }
        assert!(!has_forbidden("https://a.example/é"));
    }

    #[test]
    fn dot_segments_are_found_in_any_spelling() {
        for dot in [".", "..", "%2e", "%2E", "%2e%2E", ".%2e", "%2e."] {
            assert!(is_dot_segment(dot), "{dot}");
        }
        for other in [
            "",
            "...",
            "a.",
            ".a",
            "%2",
            "%2ea",
            "%2f",
            "%2e%2e%2e",
            "...",
        ] {
            assert!(!is_dot_segment(other), "{other}");
        }
        assert!(has_dot_segment("/a/%2E%2e/b"));
        assert!(!has_dot_segment("/a/.b/c./d"));
    }
}
