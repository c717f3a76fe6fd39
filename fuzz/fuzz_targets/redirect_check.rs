//! `RedirectOrigins::check` never panics, and whatever it accepts is on a configured
//! origin, written without anything a browser would read differently, and still on that
//! origin once a token is appended.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portal_sso::RedirectOrigins;
use portal_sso::append_query_param;
use url::{Host, Url};

/// Exact origins (scheme, host, port) and wildcard suffixes the checker is built with.
const EXACT: &[(&str, &str, u16)] = &[
    ("https", "acme.kustomer.help", 443),
    ("http", "127.0.0.1", 8081),
    ("https", "xn--bcher-kva.example", 443),
    ("https", "port.bar", 8080),
    ("http", "[::1]", 8080),
];
const WILDCARD: &[(&str, &str, u16)] = &[("https", ".wild.example", 443)];

fn origins() -> &'static RedirectOrigins {
    static ORIGINS: OnceLock<RedirectOrigins> = OnceLock::new();
    ORIGINS.get_or_init(|| {
        RedirectOrigins::parse([
            "https://acme.kustomer.help",
            "http://127.0.0.1:8081",
            "https://bücher.example",
            "https://port.bar:8080",
            "http://[::1]:8080",
            "https://*.wild.example",
        ])
        .expect("valid origins")
    })
}

fn host_of(url: &Url) -> String {
    match url.host() {
        Some(Host::Domain(domain)) => domain.to_owned(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        None => String::new(),
    }
}

fn allowed(url: &Url) -> bool {
    let scheme = url.scheme();
    let host = host_of(url);
    let Some(port) = url.port_or_known_default() else {
        return false;
    };
    EXACT
        .iter()
        .any(|&(s, h, p)| s == scheme && h == host && p == port)
        || WILDCARD.iter().any(|&(s, suffix, p)| {
            s == scheme
                && p == port
                && host.len() > suffix.len()
                && host.ends_with(suffix)
                && !host[..host.len() - suffix.len()]
                    .split('.')
                    .any(str::is_empty)
        })
}

fuzz_target!(|data: &[u8]| {
    let Ok(target) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(url) = origins().check(target) else {
        return;
    };
    assert!(allowed(&url), "accepted an origin not configured");
    let text = url.as_str();
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\'),
        "accepted URL serialises with characters a browser folds"
    );
    let again = Url::parse(text).expect("the accepted URL parses again");
    assert_eq!(again.origin(), url.origin(), "re-parsing moved the origin");
    let with_token = append_query_param(text, "externalToken", "e30.e30.sig");
    let with_token = Url::parse(&with_token).expect("with the token it still parses");
    assert_eq!(
        with_token.origin(),
        url.origin(),
        "the token moved the origin"
    );
});
