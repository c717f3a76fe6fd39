//! Properties of the redirect check and of adding a token to a URL, for generated inputs.
//!
//! Whatever `RedirectOrigins::check` accepts is on a configured origin and stays there
//! when serialised and parsed again; `append_query_param` keeps every byte around the
//! parameter it adds, which is then read back exactly once.

use portal_sso::RedirectOrigins;
use portal_sso::append_query_param;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use url::{Host, Url};

const CASES: u32 = 1024;

/// The configured origins as (scheme, host, port), and the wildcard ones by suffix.
const EXACT: &[(&str, &str, u16)] = &[
    ("https", "acme.kustomer.help", 443),
    ("http", "127.0.0.1", 8081),
    ("https", "xn--bcher-kva.example", 443),
    ("https", "port.bar", 8080),
    ("http", "[::1]", 8080),
];
const WILDCARD: &[(&str, &str, u16)] = &[("https", ".wild.example", 443)];

fn origins() -> RedirectOrigins {
    RedirectOrigins::parse([
        "https://acme.kustomer.help",
        "http://127.0.0.1:8081",
        "https://bücher.example",
        "https://port.bar:8080",
        "http://[::1]:8080",
        "https://*.wild.example",
    ])
    .unwrap()
}

fn host_of(url: &Url) -> String {
    match url.host() {
        Some(Host::Domain(domain)) => domain.to_owned(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        None => String::new(),
    }
}

fn on_configured_origin(url: &Url) -> bool {
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

/// The invariants of an accepted target; `Err` says which one broke.
fn accepted_is_sound(url: &Url) -> Result<(), String> {
    if !on_configured_origin(url) {
        return Err(format!(
            "origin {} is not configured",
            url.origin().ascii_serialization()
        ));
    }
    let text = url.as_str();
    if text
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(format!("{text:?} serialises with folded characters"));
    }
    let again = Url::parse(text).map_err(|err| format!("{text:?} does not parse again: {err}"))?;
    if again.origin() != url.origin() || !on_configured_origin(&again) {
        return Err(format!("{text:?} parses again to another origin"));
    }
    let with_token = append_query_param(text, "externalToken", "e30.e30.c2ln");
    let with_token =
        Url::parse(&with_token).map_err(|err| format!("{with_token:?} does not parse: {err}"))?;
    let tokens = with_token
        .query_pairs()
        .filter(|(name, value)| name == "externalToken" && value == "e30.e30.c2ln")
        .count();
    if with_token.origin() != url.origin() || tokens != 1 {
        return Err(format!("{with_token} moved or holds {tokens} tokens"));
    }
    Ok(())
}

/// URL-ish strings built from parts near the configured origins, with tricks mixed in.
#[allow(clippy::too_many_lines)] // one list of parts per URL component, read top to bottom
fn near_targets() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        12 => Just("https"),
        2 => Just("http"),
        1 => Just("HTTPS"),
        1 => Just("hTtPs"),
        1 => Just("javascript"),
        1 => Just("data"),
        1 => Just("ftp"),
        1 => Just(""),
    ];
    let separator = prop_oneof![
        30 => Just("://"),
        1 => Just(":"),
        1 => Just(":/"),
        1 => Just(":///"),
        1 => Just(":\\\\"),
        1 => Just(":/\\"),
        1 => Just(":/\t/"),
        1 => Just(":/%09/"),
        1 => Just(":%2f%2f"),
        1 => Just("//"),
    ];
    let userinfo = prop_oneof![
        20 => Just(""),
        1 => Just("user@"),
        1 => Just("user:pw@"),
        1 => Just("acme.kustomer.help@"),
        1 => Just("evil.com\\@"),
        1 => Just("@"),
    ];
    let host = prop_oneof![
        4 => Just("acme.kustomer.help".to_owned()),
        1 => Just("ACME.Kustomer.Help".to_owned()),
        1 => Just("acme.kustomer.help.".to_owned()),
        1 => Just("acme.kustomer.help..".to_owned()),
        1 => Just("evilacme.kustomer.help".to_owned()),
        1 => Just("acme.kustomer.help.evil.com".to_owned()),
        1 => Just("acme.kustomer.helpevil.com".to_owned()),
        4 => Just("a.wild.example".to_owned()),
        4 => Just("a.b.wild.example".to_owned()),
        1 => Just("wild.example".to_owned()),
        1 => Just(".wild.example".to_owned()),
        1 => Just("awild.example".to_owned()),
        1 => Just("b\u{fc}cher.example".to_owned()),
        4 => Just("xn--bcher-kva.example".to_owned()),
        1 => Just("\u{ff41}cme.kustomer.help".to_owned()),
        1 => Just("acme\u{3002}kustomer.help".to_owned()),
        1 => Just("\u{430}cme.kustomer.help".to_owned()),
        1 => Just("127.0.0.1".to_owned()),
        1 => Just("2130706433".to_owned()),
        1 => Just("0x7f.0.0.1".to_owned()),
        1 => Just("[::1]".to_owned()),
        1 => Just("[::ffff:127.0.0.1]".to_owned()),
        1 => Just("port.bar".to_owned()),
        1 => Just("acme%2ekustomer.help".to_owned()),
        1 => "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}".prop_map(String::from),
    ];
    let port = prop_oneof![
        6 => Just(""),
        1 => Just(":443"),
        1 => Just(":80"),
        1 => Just(":8080"),
        1 => Just(":8081"),
        1 => Just(":0443"),
        1 => Just(":"),
        1 => Just(":65536"),
    ];
    let path = "(/[a-zA-Z0-9.%~_\\-]{0,6}){0,3}";
    let tail = prop_oneof![
        Just(String::new()),
        "\\?[a-z=&%2F]{0,10}",
        "#[a-z/@]{0,6}",
        "\\?[a-z=]{0,6}#[a-z]{0,4}",
    ];
    let trick = prop_oneof![
        30 => Just(""),
        1 => Just("@evil.com"),
        1 => Just("\\"),
        1 => Just("%5c"),
        1 => Just("%2f"),
        1 => Just("\t"),
        1 => Just("\n"),
        1 => Just(" "),
        1 => Just("\u{200b}"),
        1 => Just("/.."),
    ];
    (
        scheme,
        separator,
        userinfo,
        host,
        port,
        path,
        tail,
        trick,
        any::<prop::sample::Index>(),
    )
        .prop_map(
            |(scheme, separator, userinfo, host, port, path, tail, trick, at)| {
                let mut target = format!("{scheme}{separator}{userinfo}{host}{port}{path}{tail}");
                if !trick.is_empty() {
                    let mut cut = at.index(target.len() + 1);
                    while !target.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    target.insert_str(cut, trick);
                }
                target
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_strings_accepted_only_on_configured_origins(target in any::<String>()) {
        if let Ok(url) = origins().check(&target) {
            prop_assert!(accepted_is_sound(&url).is_ok(), "{target:?}: {:?}", accepted_is_sound(&url));
        }
    }

    #[test]
    fn url_shaped_strings_accepted_only_on_configured_origins(
        target in "(https?|HTTPS|javascript):[/\\\\]{0,3}[a-z.@:%0-9\\[\\]\\\\]{0,30}[/?#]?.{0,10}",
    ) {
        if let Ok(url) = origins().check(&target) {
            prop_assert!(accepted_is_sound(&url).is_ok(), "{target:?}: {:?}", accepted_is_sound(&url));
        }
    }

    #[test]
    fn near_targets_accepted_only_on_configured_origins(target in near_targets()) {
        if let Ok(url) = origins().check(&target) {
            prop_assert!(accepted_is_sound(&url).is_ok(), "{target:?}: {:?}", accepted_is_sound(&url));
        }
    }

    #[test]
    fn appending_keeps_every_byte_and_adds_the_param_once(
        origin in prop_oneof![
            Just("https://acme.kustomer.help"),
            Just("https://a.wild.example"),
            Just("http://127.0.0.1:8081"),
            Just("https://acme.aha.site"),
        ],
        path in "(/[a-zA-Z0-9._~%!$'()*+,;=:@-]{0,8}){0,3}",
        query in prop::option::of("[a-zA-Z0-9._~%!$'()*+,;=:@/?&-]{0,20}"),
        fragment in prop::option::of("[a-zA-Z0-9._~%!$'()*+,;=:@/?#&-]{0,12}"),
        name in prop_oneof![Just("externalToken"), Just("jwt"), Just("state"), Just("return_to")],
        value in "[A-Za-z0-9_.~-]{0,60}",
    ) {
        let mut input = format!("{origin}{path}");
        if let Some(query) = &query {
            input.push('?');
            input.push_str(query);
        }
        if let Some(fragment) = &fragment {
            input.push('#');
            input.push_str(fragment);
        }
        let parsed_input = Url::parse(&input).unwrap();
        let already = parsed_input.query_pairs().filter(|(k, _)| k == name).count();

        let out = append_query_param(&input, name, &value);

        let split = input.find('#').unwrap_or(input.len());
        let (before, after) = input.split_at(split);
        prop_assert!(out.starts_with(before), "{out:?} lost bytes of {before:?}");
        prop_assert!(out.ends_with(after), "{out:?} lost the fragment {after:?}");
        let parsed = Url::parse(&out).unwrap();
        prop_assert_eq!(parsed.origin(), parsed_input.origin());
        prop_assert_eq!(parsed.path(), parsed_input.path());
        prop_assert_eq!(parsed.fragment(), parsed_input.fragment());
        let found: Vec<String> = parsed
            .query_pairs()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect();
        prop_assert_eq!(found.len(), already + 1, "{:?}", out);
        prop_assert_eq!(found.last().unwrap(), &value);
        // The pairs that were there are all still there, in order, before ours.
        let old: Vec<_> = parsed_input.query_pairs().collect();
        let new: Vec<_> = parsed.query_pairs().collect();
        prop_assert_eq!(&new[..old.len()], &old[..]);
        prop_assert_eq!(new.len(), old.len() + 1);
    }
}

/// The near-target generator is not vacuous: it produces both accepted and refused
/// targets, and every accepted one is sound.
#[test]
fn near_targets_hit_both_sides_of_the_check() {
    let origins = origins();
    let strategy = near_targets();
    let mut runner = TestRunner::deterministic();
    let (mut accepted, mut refused) = (0u32, 0u32);
    for _ in 0..CASES {
        let target = strategy.new_tree(&mut runner).unwrap().current();
        match origins.check(&target) {
            Ok(url) => {
                accepted += 1;
                accepted_is_sound(&url).unwrap_or_else(|problem| panic!("{target:?}: {problem}"));
            }
            Err(_) => refused += 1,
        }
    }
    println!("near targets: {accepted} accepted, {refused} refused of {CASES}");
    assert!(accepted > 50, "only {accepted} accepted");
    assert!(refused > 50, "only {refused} refused");
}
