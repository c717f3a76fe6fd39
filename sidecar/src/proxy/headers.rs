//! The request as the app gets it: hop-by-hop headers removed (RFC 9110 §7.6.1), the
//! forwarding headers cleaned and set as [`forwarding`] says, origin-form target.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Request, Uri, Version};

use crate::forwarding;

/// Headers that concern one connection only, never forwarded (RFC 9110 §7.6.1), plus
/// the proxy authentication pair, which is for this hop (RFC 9110 §11.7), and
/// `HTTP2-Settings`, which only means something with `Upgrade: h2c` (RFC 7540 §3.2.1).
pub static HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::TE,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    HeaderName::from_static("http2-settings"),
];

/// What the proxy knows of the browser connection a request came on.
pub struct Peer<'a> {
    /// The peer's address, IPv4-mapped addresses read as IPv4.
    pub ip: IpAddr,
    /// Whether the peer is one of `trusted_proxies`.
    pub trusted: bool,
    /// Whether the browser's connection is TLS.
    pub https: bool,
    /// `ip` as an `X-Forwarded-For` value, made once per connection.
    pub forwarded_for: Option<&'a HeaderValue>,
    /// The `Host` to send when the request named none: the app's authority.
    pub default_host: &'a HeaderValue,
}

/// Turns the browser's request into the one for the app, in place.
///
/// `upgrade`: the protocol the browser asked to switch to and the app will be asked for
/// (`Connection: upgrade`, `Upgrade: <protocol>`); `None` for a plain request.
pub fn prepare<B>(request: &mut Request<B>, peer: &Peer<'_>, upgrade: Option<&HeaderValue>) {
    let sent_host = request.headers().get(header::HOST).cloned();
    // An absolute-form target carries the host in the URI (the server has refused one
    // that names another host than `Host`).
    let original_host = sent_host.clone().or_else(|| {
        request
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    if request.uri().scheme().is_some() || request.uri().path_and_query().is_none() {
        let path_and_query = request
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        *request.uri_mut() = Uri::from(path_and_query);
    }
    *request.version_mut() = Version::HTTP_11;
    let headers = request.headers_mut();
    if sent_host.is_none() {
        headers.insert(header::HOST, peer.default_host.clone());
    }
    strip_hop_by_hop(headers);
    // The server has already answered `Expect: 100-continue`.
    headers.remove(header::EXPECT);
    // Request trailers are not forwarded (see `WithoutTrailers`).
    headers.remove(header::TRAILER);
    forwarding::strip(headers, peer.trusted);
    forwarding::set_forwarded(
        headers,
        peer.trusted,
        Some(peer.ip),
        peer.forwarded_for,
        peer.https,
        original_host,
    );
    if let Some(protocol) = upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, protocol.clone());
    }
}

/// The options the `Connection` headers list (RFC 9110 §7.6.1), trimmed.
pub fn connection_options(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// Removes the hop-by-hop headers and those the `Connection` header names. Only the
/// names found are removed: most messages carry none but `Connection` itself.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut found: Vec<HeaderName> = headers
        .keys()
        .filter(|name| HOP_BY_HOP.contains(name))
        .cloned()
        .collect();
    found.extend(
        connection_options(headers)
            // `Connection: close, host` must not remove the end-to-end Host header, and
            // `close` names no header of its own.
            .filter(|token| {
                !["host", "close"]
                    .iter()
                    .any(|n| token.eq_ignore_ascii_case(n))
            })
            .filter(|token| headers.contains_key(*token))
            .filter_map(|token| HeaderName::from_bytes(token.as_bytes()).ok()),
    );
    for name in found {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn names(headers: &HeaderMap) -> Vec<&str> {
        headers.keys().map(HeaderName::as_str).collect()
    }

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_removed() {
        let mut h = headers(&[
            ("connection", "keep-alive, x-secret-hop, Host, close"),
            ("keep-alive", "timeout=5"),
            ("x-secret-hop", "1"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("http2-settings", "AAMAAABkAARAAAAAAAIAAAAA"),
            ("proxy-authorization", "Basic x"),
            ("host", "app.example"),
            ("x-kept", "1"),
            (
                "close",
                "a header of that name is not the connection option",
            ),
        ]);
        strip_hop_by_hop(&mut h);
        // The order of different names carries no meaning (RFC 9110 §5.3).
        let mut kept = names(&h);
        kept.sort_unstable();
        assert_eq!(kept, ["close", "host", "x-kept"]);

        // An option in another case than the header's name, and one naming no header.
        let mut h = headers(&[
            ("connection", "X-Secret-Hop, x-absent"),
            ("x-secret-hop", "1"),
            ("x-kept", "1"),
        ]);
        strip_hop_by_hop(&mut h);
        assert_eq!(names(&h), ["x-kept"]);
    }

    #[test]
    fn the_request_goes_in_origin_form_with_the_forwarding_headers_set() {
        let default_host = HeaderValue::from_static("127.0.0.1:3000");
        let peer = Peer {
            ip: "10.1.2.3".parse().unwrap(),
            trusted: false,
            https: false,
            forwarded_for: None,
            default_host: &default_host,
        };
        let mut request = Request::get("http://app.example/a?b=1")
            .header("x-forwarded-for", "6.6.6.6")
            .header("expect", "100-continue")
            .header("trailer", "x-forwarded-user")
            .body(())
            .unwrap();
        prepare(&mut request, &peer, None);
        assert_eq!(request.uri(), "/a?b=1");
        let h = request.headers();
        assert_eq!(h["host"], "127.0.0.1:3000");
        assert_eq!(h["x-forwarded-for"], "10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "app.example");
        assert!(h.get("expect").is_none() && h.get("trailer").is_none());

        let mut upgrade = Request::get("/ws")
            .header("host", "app.example")
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .body(())
            .unwrap();
        prepare(
            &mut upgrade,
            &peer,
            Some(&HeaderValue::from_static("websocket")),
        );
        assert_eq!(upgrade.headers()["connection"], "upgrade");
        assert_eq!(upgrade.headers()["upgrade"], "websocket");
        assert_eq!(upgrade.headers()["host"], "app.example");
    }
}
