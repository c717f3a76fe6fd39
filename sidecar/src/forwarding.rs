//! The request headers an app takes as facts about the request or its user: which ones
//! the sidecar removes, and the `X-Forwarded-For`, `-Proto` and `-Host` it sets.

use std::net::IpAddr;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use ipnet::IpNet;

/// Who may send a header of [`FORWARDING_HEADERS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentBy {
    /// A peer in `trusted_proxies` (a load balancer, an auth proxy); removed when anyone
    /// else sends it.
    TrustedProxy,
    /// The sidecar alone; removed whoever sends it.
    Sidecar,
}

/// Request headers an app or its framework may believe about the client (its address,
/// scheme, host, port, path) or the user (name, email, groups, tokens), as a proxy in
/// front of it would set them. Names match in any case; one ending in `-` is a family.
///
/// | Header | From a peer in `trusted_proxies` | From any other peer |
/// |---|---|---|
/// | `X-Forwarded` and `X-Forwarded-*` (every name: `-For`, `-Proto`, `-Host`, `-Port`, `-Prefix`, `-User`, `-Email`, `-Access-Token`, ...) | kept, `X-Forwarded-For` extended with the peer's address | removed; `X-Forwarded-For`, `-Proto` and `-Host` then set by the sidecar |
/// | `Forwarded`, `X-Original-URL`, `X-Rewrite-URL`, `X-Real-IP`, `True-Client-IP`, `X-Client-IP`, `X-Cluster-Client-IP`, `CF-Connecting-IP`, `Remote-User`, `X-Auth-Request-*` | kept | removed |
/// | `X-Portal-Sso-*` (reserved for what the sidecar tells the app) | removed | removed |
///
/// Besides these, [`strip`] removes every header whose name holds a `_`, from every peer.
pub static FORWARDING_HEADERS: [(&str, SentBy); 13] = [
    ("x-forwarded-", SentBy::TrustedProxy),
    ("x-forwarded", SentBy::TrustedProxy),
    ("forwarded", SentBy::TrustedProxy),
    ("x-original-url", SentBy::TrustedProxy),
    ("x-rewrite-url", SentBy::TrustedProxy),
    ("x-real-ip", SentBy::TrustedProxy),
    ("true-client-ip", SentBy::TrustedProxy),
    ("x-client-ip", SentBy::TrustedProxy),
    ("x-cluster-client-ip", SentBy::TrustedProxy),
    ("cf-connecting-ip", SentBy::TrustedProxy),
    ("remote-user", SentBy::TrustedProxy),
    ("x-auth-request-", SentBy::TrustedProxy),
    ("x-portal-sso-", SentBy::Sidecar),
];

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Whether `peer` is one of `trusted_proxies`.
pub fn is_trusted(peer: Option<IpAddr>, trusted_proxies: &[IpNet]) -> bool {
    peer.is_some_and(|ip| trusted_proxies.iter().any(|net| net.contains(&ip)))
}

/// Removes the headers of [`FORWARDING_HEADERS`] that the peer (`trusted` or not) may not
/// send, and every header whose name holds a `_`: one pass over the names, then a
/// removal for each one found.
///
/// CGI, WSGI and Rack read `_` and `-` in a name alike (`Transfer_Encoding` is their
/// `HTTP_TRANSFER_ENCODING`, as `Transfer-Encoding` is), so such a name could pass for a
/// header this proxy handles or a trusted proxy sets; nginx drops them by default too.
pub fn strip(headers: &mut HeaderMap, trusted: bool) {
    let refused: Vec<HeaderName> = headers
        .keys()
        .filter(|name| !may_send(name.as_str(), trusted))
        .cloned()
        .collect();
    for name in refused {
        headers.remove(name);
    }
}

/// Whether a peer may send the (lower-case) header `name`.
fn may_send(name: &str, trusted: bool) -> bool {
    if name.contains('_') {
        return false;
    }
    match sent_by(name) {
        None => true,
        Some(sent_by) => trusted && sent_by == SentBy::TrustedProxy,
    }
}

/// Who may send the (lower-case) header `name`; `None` for a header that is not in
/// [`FORWARDING_HEADERS`].
fn sent_by(name: &str) -> Option<SentBy> {
    FORWARDING_HEADERS.iter().find_map(|&(known, sent_by)| {
        let matches = if known.ends_with('-') {
            name.len() > known.len() && name.starts_with(known)
        } else {
            name == known
        };
        matches.then_some(sent_by)
    })
}

/// Sets `X-Forwarded-For`, `-Proto` and `-Host`, after [`strip`]. A trusted peer's
/// values are kept (and its `X-Forwarded-For` extended with its address); for anyone
/// else they are the peer's address (`own_forwarded_for` when given: the same, made
/// once per connection), the scheme the connection came in on (`https` or `http`), and
/// the `host` the request named.
pub fn set_forwarded(
    headers: &mut HeaderMap,
    trusted: bool,
    peer: Option<IpAddr>,
    own_forwarded_for: Option<&HeaderValue>,
    https: bool,
    host: Option<HeaderValue>,
) {
    let extended = if trusted {
        peer.and_then(|ip| extended_chain(headers, ip))
    } else {
        None
    };
    let forwarded_for = extended
        .or_else(|| own_forwarded_for.cloned())
        .or_else(|| peer.and_then(|ip| HeaderValue::try_from(ip.to_string()).ok()));
    match forwarded_for {
        Some(value) => {
            headers.insert(X_FORWARDED_FOR, value);
        }
        None => {
            headers.remove(X_FORWARDED_FOR);
        }
    }

    if !(trusted && headers.contains_key(X_FORWARDED_PROTO)) {
        let proto = if https { "https" } else { "http" };
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    }
    if !(trusted && headers.contains_key(X_FORWARDED_HOST)) {
        match host {
            Some(host) => {
                headers.insert(X_FORWARDED_HOST, host);
            }
            None => {
                headers.remove(X_FORWARDED_HOST);
            }
        }
    }
}

/// A trusted peer's `X-Forwarded-For` chain with `peer` added, or `None` when it sent
/// none.
fn extended_chain(headers: &HeaderMap, peer: IpAddr) -> Option<HeaderValue> {
    let prior: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if prior.is_empty() {
        return None;
    }
    HeaderValue::try_from(format!("{}, {peer}", prior.join(", "))).ok()
}

/// `::ffff:10.0.0.1` is `10.0.0.1`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    /// The names left in `h`, sorted (removals do not keep the map's order).
    fn names(h: &HeaderMap) -> Vec<&str> {
        let mut names: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn every_row_of_the_table_matches() {
        for &(known, sent_by) in &FORWARDING_HEADERS {
            let name = if known.ends_with('-') {
                format!("{known}user")
            } else {
                known.to_owned()
            };
            assert_eq!(super::sent_by(&name), Some(sent_by), "{name}");
        }
        for other in [
            "host",
            "x-forwardedx",
            "x-portal-ssoish",
            "forwarded-for",
            "x-real-ipx",
        ] {
            assert_eq!(super::sent_by(other), None, "{other}");
        }
    }

    #[test]
    fn an_untrusted_peer_keeps_none_of_the_table_and_no_underscored_name() {
        let mut h = headers(&[
            ("x-forwarded-user", "mallory"),
            ("x-forwarded", "for=6.6.6.6"),
            ("x_forwarded_for", "6.6.6.6"),
            ("forwarded", "for=6.6.6.6"),
            ("remote_user", "mallory"),
            ("x-auth-request-email", "mallory"),
            ("x-portal-sso-user", "mallory"),
            ("transfer_encoding", "chunked"),
            ("accept", "*/*"),
            ("x-portal-ssoish", "kept"),
        ]);
        strip(&mut h, false);
        assert_eq!(names(&h), ["accept", "x-portal-ssoish"]);
    }

    #[test]
    fn a_trusted_peer_keeps_dash_spellings_only_and_never_reserved_names() {
        let mut h = headers(&[
            ("x-forwarded-user", "alice"),
            ("x-forwarded", "for=203.0.113.7"),
            ("x-real-ip", "203.0.113.7"),
            ("x_forwarded_user", "mallory"),
            ("X-Portal_Sso-Email", "mallory"),
            ("x-portal-sso-user", "mallory"),
            ("x-auth_request-email", "mallory"),
            ("content_length", "5"),
        ]);
        strip(&mut h, true);
        assert_eq!(names(&h), ["x-forwarded", "x-forwarded-user", "x-real-ip"]);
    }

    #[test]
    fn forwarded_for_is_replaced_for_untrusted_peers_and_extended_for_trusted() {
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let mut h = headers(&[("x-forwarded-for", "6.6.6.6")]);
        strip(&mut h, false);
        set_forwarded(
            &mut h,
            false,
            Some(peer),
            None,
            false,
            Some(HeaderValue::from_static("app")),
        );
        assert_eq!(h["x-forwarded-for"], "10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "app");

        let mut h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
        ]);
        strip(&mut h, true);
        set_forwarded(
            &mut h,
            true,
            Some(peer),
            None,
            false,
            Some(HeaderValue::from_static("app")),
        );
        assert_eq!(h["x-forwarded-for"], "1.2.3.4, 10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-host"], "app");
    }

    #[test]
    fn trust_is_read_from_the_configured_networks() {
        let nets: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert!(is_trusted(Some("10.1.2.3".parse().unwrap()), &nets));
        assert!(!is_trusted(Some("11.1.2.3".parse().unwrap()), &nets));
        assert!(!is_trusted(None, &nets));
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert!(is_trusted(Some(canonical(mapped)), &nets));
    }
}
