//! [`OriginPattern`]: one configured origin, with an optional `*.` wildcard.

use std::fmt;

use url::{Host, Url};

use super::target::{normalise_host, strip_prefix_ignore_case};

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

    /// The domain under the `*.` wildcard (`example.com` for `https://*.example.com`);
    /// `None` for an exact origin.
    pub fn wildcard_domain(&self) -> Option<&str> {
        self.wildcard.then_some(self.host.as_str())
    }

    pub(super) fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
