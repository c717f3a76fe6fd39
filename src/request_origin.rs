//! [`RequestOrigin`]: how the layer tells the origin (scheme, host, port) a browser used,
//! for a return address that must be a full URL because the app's login page is on
//! another origin, when no public origin is configured.

use http::HeaderMap;
use http::header::{self, HeaderName};
use http::request::Parts;
use http::uri::Authority;

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// How the layer reads the origin a request was sent to: the scheme of the connection it
/// came in on, and the `Host` header, or, from a proxy trusted to set them,
/// `X-Forwarded-Proto` and `X-Forwarded-Host`.
///
/// The default is plain HTTP, forwarding headers ignored. Set it for every request with
/// [`SsoLayerBuilder::with_request_origin`](crate::SsoLayerBuilder::with_request_origin),
/// or per connection with [`Sso::with_request_origin`](crate::Sso::with_request_origin)
/// (a server that knows which peers are its proxies). It matters only when the login page
/// is on another origin than the request; otherwise the return address is a path. When
/// the public origin is known, pin it with
/// [`SsoLayerBuilder::with_public_url`](crate::SsoLayerBuilder::with_public_url): this
/// type is then not consulted, and no request's `Host` can choose where the login page
/// sends the browser back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestOrigin {
    https: bool,
    forwarded: bool,
}

impl RequestOrigin {
    /// Requests arrive over plain HTTP.
    pub const fn http() -> Self {
        Self {
            https: false,
            forwarded: false,
        }
    }

    /// Requests arrive over HTTPS.
    pub const fn https() -> Self {
        Self {
            https: true,
            forwarded: false,
        }
    }

    /// `X-Forwarded-Proto` and `X-Forwarded-Host`, when present and well formed, say the
    /// origin. Only for requests from a proxy that sets them: anyone else could name any
    /// host.
    #[must_use]
    pub const fn trusting_forwarded(mut self) -> Self {
        self.forwarded = true;
        self
    }

    /// `scheme://host[:port]` of the request, or `None` when it names no well-formed host.
    pub(crate) fn of(self, parts: &Parts) -> Option<String> {
        let mut scheme = if self.https { "https" } else { "http" };
        let mut host = parts
            .headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| parts.uri.authority().map(Authority::as_str));
        if self.forwarded {
            match first_value(&parts.headers, &X_FORWARDED_PROTO) {
                Some(proto) if proto.eq_ignore_ascii_case("https") => scheme = "https",
                Some(proto) if proto.eq_ignore_ascii_case("http") => scheme = "http",
                _ => {}
            }
            if let Some(forwarded) = first_value(&parts.headers, &X_FORWARDED_HOST) {
                host = Some(forwarded);
            }
        }
        let host = host.and_then(plain_authority)?;
        Some(format!("{scheme}://{}", host.as_str().to_ascii_lowercase()))
    }
}

/// The first of a header's comma-separated values (the one the first proxy set), trimmed.
fn first_value<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    let value = headers.get(name)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

/// `value` as a host and optional port: no user info, nothing after the port.
fn plain_authority(value: &str) -> Option<Authority> {
    if value.contains('@') {
        return None;
    }
    value.parse::<Authority>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::get("/sso/kustomer?x=1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn host_and_the_connections_scheme_by_default() {
        let request = parts(&[
            ("host", "App.Example:8443"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            RequestOrigin::http().of(&request).as_deref(),
            Some("http://app.example:8443")
        );
        assert_eq!(
            RequestOrigin::https().of(&request).as_deref(),
            Some("https://app.example:8443")
        );
    }

    #[test]
    fn a_trusted_proxys_first_forwarded_values_win() {
        let request = parts(&[
            ("host", "127.0.0.1:9000"),
            ("x-forwarded-host", "help.example, 10.0.0.1"),
            ("x-forwarded-proto", "HTTPS, http"),
        ]);
        assert_eq!(
            RequestOrigin::http()
                .trusting_forwarded()
                .of(&request)
                .as_deref(),
            Some("https://help.example")
        );
    }

    #[test]
    fn malformed_hosts_give_no_origin_and_unknown_schemes_are_ignored() {
        let trusted = RequestOrigin::http().trusting_forwarded();
        for host in [
            "user@evil.example",
            "evil.example/path",
            "a b",
            "evil.example?x",
        ] {
            let request = parts(&[("host", "app.example"), ("x-forwarded-host", host)]);
            assert_eq!(trusted.of(&request), None, "{host:?}");
        }
        // An empty forwarded host is no forwarded host.
        let request = parts(&[("host", "app.example"), ("x-forwarded-host", " ")]);
        assert_eq!(trusted.of(&request).as_deref(), Some("http://app.example"));
        let request = parts(&[("host", "app.example"), ("x-forwarded-proto", "javascript")]);
        assert_eq!(trusted.of(&request).as_deref(), Some("http://app.example"));
        assert_eq!(RequestOrigin::http().of(&parts(&[])), None);
    }
}
