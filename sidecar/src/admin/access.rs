//! Who the admin port answers: on a loopback address, only requests addressed to a
//! loopback name (a page on another site cannot reach it through DNS rebinding); and,
//! with `admin_token`, `/metrics` and `/events` only with `Authorization: Bearer <token>`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{AUTHORIZATION, HOST, WWW_AUTHENTICATE};
use http::uri::Authority;
use http::{HeaderMap, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use super::{Admin, text};
use portal_sso::Secret;

/// The paths that want the token when one is configured.
const GUARDED: [&str; 2] = ["/metrics", "/events"];

/// Refuses a request the admin port does not answer (see the module docs), before any
/// route sees it.
pub(super) async fn guard(State(admin): State<Admin>, request: Request, next: Next) -> Response {
    if admin.bound.ip().is_loopback() && !addressed_to_loopback(&request, admin.bound) {
        return text(
            StatusCode::MISDIRECTED_REQUEST,
            "text/plain",
            format!(
                "This admin port answers only requests addressed to localhost, 127.0.0.1, \
                 [::1] or {}: another name here may be a DNS rebinding attack.\n",
                admin.bound.ip()
            ),
        );
    }
    if GUARDED.contains(&request.uri().path())
        && let Some(token) = admin.state.token()
    {
        match bearer(request.headers()) {
            Some(given) if matches(given, &token) => {}
            given => return unauthorized(given.is_some()),
        }
    }
    next.run(request).await
}

/// Whether the request's `Host` (and its absolute-form target's authority, when it has
/// one) names loopback, `localhost` or `bound`'s address, with or without a port.
fn addressed_to_loopback(request: &Request, bound: SocketAddr) -> bool {
    let names_loopback = |authority: &Authority| {
        let host = authority.host();
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| {
                    ip == IpAddr::from([127, 0, 0, 1])
                        || ip == IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1])
                        || ip == bound.ip()
                })
    };
    let mut hosts = request.headers().get_all(HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return false;
    };
    let Ok(host) = Authority::try_from(host.as_bytes()) else {
        return false;
    };
    // `Authority` takes `user@host`, which no `Host` header should carry.
    !host.as_str().contains('@')
        && names_loopback(&host)
        && request.uri().authority().is_none_or(names_loopback)
}

/// The token of the one `Authorization: Bearer <token>` header, the scheme in any case.
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return None;
    };
    let value = value.as_bytes();
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, token) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = token.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Whether `given` is the token, compared in constant time: both are hashed first, so
/// neither the bytes nor the length of the token shows in the time taken.
fn matches(given: &[u8], token: &Secret) -> bool {
    let given = Sha256::digest(given);
    let token = Sha256::digest(token.expose());
    given.ct_eq(&token).into()
}

/// 401, with the challenge RFC 6750 asks for; `invalid` when a token was given.
fn unauthorized(invalid: bool) -> Response {
    let challenge = if invalid {
        r#"Bearer realm="portal-sso admin", error="invalid_token""#
    } else {
        r#"Bearer realm="portal-sso admin""#
    };
    let mut response = text(
        StatusCode::UNAUTHORIZED,
        "text/plain",
        "/metrics and /events want Authorization: Bearer <admin_token>\n".into(),
    );
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: Option<&str>, uri: &str) -> Request {
        let mut builder = http::Request::get(uri);
        if let Some(host) = host {
            builder = builder.header(HOST, host);
        }
        builder.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn loopback_names_with_or_without_a_port_and_the_bound_address() {
        let bound: SocketAddr = "127.0.0.2:9901".parse().unwrap();
        for host in [
            "localhost",
            "LOCALHOST:80",
            "127.0.0.1",
            "127.0.0.1:9901",
            "[::1]",
            "[::1]:1",
            "127.0.0.2:9901",
        ] {
            assert!(
                addressed_to_loopback(&request(Some(host), "/healthz"), bound),
                "{host}"
            );
        }
        for host in [
            "attacker.example",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "127.0.0.3",
            "user@localhost",
            "",
        ] {
            assert!(
                !addressed_to_loopback(&request(Some(host), "/healthz"), bound),
                "{host}"
            );
        }
        assert!(!addressed_to_loopback(&request(None, "/healthz"), bound));
        let absolute = request(Some("localhost"), "http://attacker.example/healthz");
        assert!(!addressed_to_loopback(&absolute, bound));
    }

    #[test]
    fn the_bearer_scheme_in_any_case_and_one_header_only() {
        let headers = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for value in values {
                map.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            }
            map
        };
        assert_eq!(bearer(&headers(&["Bearer abc"])), Some(&b"abc"[..]));
        assert_eq!(bearer(&headers(&["bEaReR  abc "])), Some(&b"abc"[..]));
        assert_eq!(bearer(&headers(&["Basic abc"])), None);
        assert_eq!(bearer(&headers(&["Bearer"])), None);
        assert_eq!(bearer(&headers(&["Bearer "])), None);
        assert_eq!(bearer(&headers(&["Bearer abc", "Bearer abc"])), None);
        let token = Secret::new("abc");
        assert!(matches(b"abc", &token));
        assert!(!matches(b"ab", &token) && !matches(b"abcd", &token));
    }
}
