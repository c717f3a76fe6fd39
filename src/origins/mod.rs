//! Where a token may go: the origin allow-list.
//!
//! A token in a query string is a signed-in session on the portal, so the place it is sent
//! is checked before anything is signed. The check is deliberately narrow: an absolute
//! `http`/`https` URL, written plainly, whose scheme, host and port are exactly one of the
//! configured origins (or under a `*.` wildcard written in the configuration). Everything
//! a browser might read differently from a parser is refused outright rather than
//! "cleaned": backslashes, white space, control and invisible characters, userinfo,
//! `%`-escapes in the host, `//`-relative and scheme-relative forms.

mod pattern;
mod target;

use std::fmt;

use url::Url;

pub use pattern::OriginPattern;
pub(crate) use target::has_dot_segment;
use target::{normalise_host, parse_absolute};

/// The longest redirect target accepted.
pub const MAX_REDIRECT_LEN: usize = 4096;

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

    /// The origins `patterns`, already parsed.
    pub(crate) fn from_patterns(patterns: Vec<OriginPattern>) -> Self {
        Self { patterns }
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
    fn compares_idna_hosts_normalised() {
        let o = RedirectOrigins::parse(["https://bücher.example"]).unwrap();
        assert!(o.check("https://xn--bcher-kva.example/").is_ok());
        assert!(o.check("https://BÜCHER.example/").is_ok());
    }
}
