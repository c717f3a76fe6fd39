//! Where a token may go: the origin allow-list.
//!
//! A token in a query string is a signed-in session on the portal, so the place it is sent
//! is checked before anything is signed. The check is deliberately narrow: an absolute
//! `http`/`https` URL, written plainly, whose scheme, host and port are exactly one of the
//! configured origins (or under a `*.` wildcard written in the configuration). Everything
//! a browser might read differently from a parser is refused outright rather than
//! "cleaned": backslashes, white space, control and invisible characters, userinfo,
//! `%`-escapes in the host, `//`-relative and scheme-relative forms.

use std::borrow::Cow;
use std::fmt;

use url::{Host, Url};

/// The longest redirect target accepted.
pub const MAX_REDIRECT_LEN: usize = 4096;

/// One configured origin: `https://acme.kustomer.help`, `http://127.0.0.1:8081`, or
/// `https://*.example.com` (any subdomain, at least one label deep, not the apex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: Scheme,
    host: String,
    wildcard: bool,
    port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl OriginPattern {
    /// Parses `scheme://host[:port]`, optionally `scheme://*.host[:port]`. A trailing `/`
    /// is allowed; a path, query, fragment or userinfo is not.
    pub fn parse(input: &str) -> Result<Self, String> {
        let (scheme, rest) = if let Some(rest) = strip_prefix_ignore_case(input, "https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(input, "http://") {
            (Scheme::Http, rest)
        } else {
            return Err(format!("`{input}` must start with https:// or http://"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\', '%']) {
            return Err(format!(
                "`{input}` must be an origin only: scheme, host and optional port"
            ));
        }
        let (wildcard, authority) = match rest.strip_prefix("*.") {
            Some(authority) => (true, authority),
            None => (false, rest),
        };
        if authority.contains('*') {
            return Err(format!(
                "`{input}`: a wildcard is only allowed as the whole first label (`*.example.com`)"
            ));
        }
        let url = Url::parse(&format!("{}://{authority}/", scheme.as_str()))
            .map_err(|err| format!("`{input}` is not a valid origin: {err}"))?;
        let host = normalise_host(&url).ok_or_else(|| format!("`{input}` has no host"))?;
        if wildcard && !matches!(url.host(), Some(Host::Domain(_))) {
            return Err(format!(
                "`{input}`: a wildcard needs a domain name after `*.`"
            ));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("`{input}` has no port"))?;
        Ok(Self {
            scheme,
            host: host.into_owned(),
            wildcard,
            port,
        })
    }

    fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        if self.scheme.as_str() != scheme || self.port != port {
            return false;
        }
        if self.wildcard {
            // Under the wildcard: one or more whole labels of letters, digits and hyphens
            // (IDNA names are already `xn--` ASCII here), nothing a parser might split.
            host.strip_suffix(self.host.as_str())
                .and_then(|sub| sub.strip_suffix('.'))
                .is_some_and(|sub| {
                    sub.split('.').all(|label| {
                        !label.is_empty()
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
                })
        } else {
            host == self.host
        }
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default_port = match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        write!(f, "{}://", self.scheme.as_str())?;
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if self.port != default_port {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// The set of origins a token may be sent to.
///
/// ```
/// use portal_sso::RedirectOrigins;
///
/// let origins = RedirectOrigins::parse(["https://acme.kustomer.help"])?;
/// let url = origins.check("https://acme.kustomer.help/login?referralUrl=x")?;
/// assert_eq!(url.as_str(), "https://acme.kustomer.help/login?referralUrl=x");
///
/// assert!(origins.check("https://acme.kustomer.help.evil.com/").is_err());
/// assert!(origins.check("https://evil.com\\@acme.kustomer.help/").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectOrigins {
    patterns: Vec<OriginPattern>,
}

impl RedirectOrigins {
    /// Parses each origin with [`OriginPattern::parse`]; the error names the first bad one.
    pub fn parse<I, T>(origins: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let patterns = origins
            .into_iter()
            .map(|origin| OriginPattern::parse(origin.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// Whether no origin is configured (then every target is refused).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The configured origins.
    pub fn patterns(&self) -> &[OriginPattern] {
        &self.patterns
    }

    /// Checks `target` and returns it parsed and re-serialised (host lower-cased, IDNA
    /// applied, trailing dot removed), ready to carry a token.
    pub fn check(&self, target: &str) -> Result<Url, RedirectRejection> {
        let url = parse_absolute(target)?;
        let host = normalise_host(&url).ok_or(RedirectRejection::NoHost)?;
        let port = url
            .port_or_known_default()
            .ok_or(RedirectRejection::NoHost)?;
        if self
            .patterns
            .iter()
            .any(|pattern| pattern.matches(url.scheme(), &host, port))
        {
            Ok(url)
        } else {
            Err(RedirectRejection::NotAllowed {
                origin: url.origin().ascii_serialization(),
            })
        }
    }
}

/// Why a redirect target was refused. `Display` gives a sentence for the error page; it
/// never repeats the target itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectRejection {
    /// Empty.
    Empty,
    /// Longer than [`MAX_REDIRECT_LEN`].
    TooLong,
    /// Contains white space, control or invisible characters (zero-width, soft hyphen, bidi
    /// and tag characters), or a backslash.
    ForbiddenCharacter,
    /// Not an absolute `http://` or `https://` URL written with `//` and a host.
    NotAbsoluteHttp,
    /// Carries `user:password@`, or an `@` or `%` in the host part.
    Userinfo,
    /// Does not parse as a URL.
    Unparseable,
    /// Has no host.
    NoHost,
    /// Not written plainly: a `.` or `..` path segment, a port with leading zeros or none
    /// after its `:`, an empty host label, an IP address in another form than dotted
    /// decimal (or RFC 5952 for IPv6), or host characters that fold to other ones (`ａ`,
    /// `。`). A browser and a parser could disagree on where such a URL
    /// goes, so it is refused rather than normalised.
    NotCanonical,
    /// A well-formed URL whose origin is not configured.
    NotAllowed {
        /// The origin that was asked for (scheme, host, port), for the operator.
        origin: String,
    },
}

impl RedirectRejection {
    /// A stable short code for events and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            RedirectRejection::Empty => "empty",
            RedirectRejection::TooLong => "too_long",
            RedirectRejection::ForbiddenCharacter => "forbidden_character",
            RedirectRejection::NotAbsoluteHttp => "not_absolute_http",
            RedirectRejection::Userinfo => "userinfo",
            RedirectRejection::Unparseable => "unparseable",
            RedirectRejection::NoHost => "no_host",
            RedirectRejection::NotCanonical => "not_canonical",
            RedirectRejection::NotAllowed { .. } => "origin_not_allowed",
        }
    }
}

impl fmt::Display for RedirectRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectRejection::Empty => f.write_str("The return address is empty."),
            RedirectRejection::TooLong => f.write_str("The return address is too long."),
            RedirectRejection::ForbiddenCharacter => f.write_str(
                "The return address contains white space, control characters or a backslash.",
            ),
            RedirectRejection::NotAbsoluteHttp => f.write_str(
                "The return address must be an absolute https:// (or configured http://) URL.",
            ),
            RedirectRejection::Userinfo => {
                f.write_str("The return address has a user name, an '@' or a '%' in its host.")
            }
            RedirectRejection::Unparseable => f.write_str("The return address is not a valid URL."),
            RedirectRejection::NoHost => f.write_str("The return address has no host."),
            RedirectRejection::NotCanonical => f.write_str(
                "The return address is not written plainly (dot segments, an unusual port or \
                 IP address form, or host characters that stand for other ones).",
            ),
            RedirectRejection::NotAllowed { origin } => write!(
                f,
                "The return address's origin {origin} is not one this sign-in is configured to send tokens to."
            ),
        }
    }
}

impl std::error::Error for RedirectRejection {}

/// Characters refused anywhere in a target: anything a browser strips, folds or reads as
/// a separator while a parser might not.
fn forbidden(c: char) -> bool {
    c.is_whitespace() || c == '\\' || crate::text::is_control_or_invisible(c)
}

/// Whether any character of `text` is [`forbidden`].
fn has_forbidden(text: &str) -> bool {
    text.chars().any(forbidden)
}

fn parse_absolute(target: &str) -> Result<Url, RedirectRejection> {
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
fn normalise_host(url: &Url) -> Option<Cow<'_, str>> {
    let host = match url.host()? {
        Host::Domain(domain) => Cow::Borrowed(domain.trim_end_matches('.')),
        Host::Ipv4(ip) => Cow::Owned(ip.to_string()),
        Host::Ipv6(ip) => Cow::Owned(format!("[{ip}]")),
    };
    (!host.is_empty()).then_some(host)
}

fn strip_prefix_ignore_case<'a>(input: &'a str, prefix: &str) -> Option<&'a str> {
    let head = input.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &input[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> RedirectOrigins {
        RedirectOrigins::parse([
            "https://acme.kustomer.help",
            "https://*.wild.example",
            "http://127.0.0.1:8081",
        ])
        .unwrap()
    }

    #[test]
    fn accepts_configured_origins_and_normalises() {
        let o = origins();
        for (input, expected) in [
            (
                "https://acme.kustomer.help/login",
                "https://acme.kustomer.help/login",
            ),
            (
                "HTTPS://ACME.Kustomer.HELP/x?a=B",
                "https://acme.kustomer.help/x?a=B",
            ),
            (
                "https://acme.kustomer.help./x",
                "https://acme.kustomer.help/x",
            ),
            (
                "https://acme.kustomer.help:443/x",
                "https://acme.kustomer.help/x",
            ),
            ("https://a.wild.example/", "https://a.wild.example/"),
            ("https://a.b.wild.example/", "https://a.b.wild.example/"),
            ("http://127.0.0.1:8081/login", "http://127.0.0.1:8081/login"),
        ] {
            assert_eq!(
                o.check(input).map(|u| u.to_string()).as_deref(),
                Ok(expected),
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_everything_else() {
        let o = origins();
        for input in [
            "",
            "/login",
            "//acme.kustomer.help/",
            "https:acme.kustomer.help/",
            "https:/acme.kustomer.help/",
            "https:///acme.kustomer.help/",
            "http://acme.kustomer.help/",
            "https://acme.kustomer.help:8443/",
            "https://acme.kustomer.help.evil.com/",
            "https://evilacme.kustomer.help/",
            "https://user@acme.kustomer.help/",
            "https://acme.kustomer.help@evil.com/",
            "https://evil.com\\@acme.kustomer.help/",
            "https://acme.kustomer.help\\.evil.com/",
            "https://acme%2ekustomer.help/",
            "https://acme.kustomer.help%2f@evil.com/",
            " https://acme.kustomer.help/",
            "https://acme.kustomer.help/\r\nSet-Cookie: x",
            "https://acme.kustomer.help/\t",
            "javascript:alert(1)//https://acme.kustomer.help/",
            "https://wild.example/",
            "https://.wild.example/",
            "https://xwild.example/",
            "http://127.0.0.1:8082/",
            "https://127.0.0.1:8081/",
            "https://acme.kustomer\u{200B}.help/",
            "https://a_b.wild.example/",
            "https://a!b.wild.example/",
            "https://a$b.wild.example/",
            "https://evil.com&.wild.example/",
            "https://a..wild.example/",
            "https://ac\u{ad}me.kustomer.help/",
        ] {
            assert!(o.check(input).is_err(), "accepted {input:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_written_plainly() {
        let o = origins();
        for input in [
            "https://acme.kustomer.help/../evil.com",
            "https://acme.kustomer.help/a/%2E%2e/b",
            "https://acme.kustomer.help/./",
            "https://acme.kustomer.help../",
            "https://acme..kustomer.help/",
            "https://acme.kustomer.help:0443/",
            "https://acme.kustomer.help:/",
            "https://\u{ff41}cme.kustomer.help/",
            "https://acme\u{3002}kustomer.help/",
            "http://2130706433:8081/",
            "http://0x7f.0.0.1:8081/",
            "http://0177.0.0.1:8081/",
            "http://127.1:8081/",
        ] {
            assert_eq!(
                o.check(input),
                Err(RedirectRejection::NotCanonical),
                "{input:?}"
            );
        }
        // Dots elsewhere are plain text.
        assert!(
            o.check("https://acme.kustomer.help/a..b/.x?p=../#..")
                .is_ok()
        );
    }

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

    #[test]
    fn compares_idna_hosts_normalised() {
        let o = RedirectOrigins::parse(["https://bücher.example"]).unwrap();
        assert!(o.check("https://xn--bcher-kva.example/").is_ok());
        assert!(o.check("https://BÜCHER.example/").is_ok());
    }

    #[test]
    fn refuses_malformed_patterns() {
        for bad in [
            "acme.kustomer.help",
            "ftp://acme.kustomer.help",
            "https://acme.kustomer.help/path",
            "https://a*.example.com",
            "https://*.*.example.com",
            "https://user@acme.kustomer.help",
            "https://*.127.0.0.1",
            "https://",
        ] {
            assert!(
                OriginPattern::parse(bad).is_err(),
                "accepted pattern {bad:?}"
            );
        }
    }

    #[test]
    fn displays_patterns_as_written_in_canonical_form() {
        assert_eq!(
            OriginPattern::parse("HTTPS://*.Example.com:443/")
                .unwrap()
                .to_string(),
            "https://*.example.com"
        );
        assert_eq!(
            OriginPattern::parse("http://127.0.0.1:8081")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:8081"
        );
    }
}
