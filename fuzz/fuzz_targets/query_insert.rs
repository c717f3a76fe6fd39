//! Adding `externalToken` / `jwt` (and the escaped `state`) to a URL keeps every byte of
//! the URL around it, and the result, where the URL was one, parses with the parameter
//! present exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use portal_sso::append_query_param;
use url::Url;

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFAYi5jIn0.c2ln";

fn check(input: &str, name: &str, value: &str) {
    let out = append_query_param(input, name, value);
    let (before, fragment) = input.split_at(input.find('#').unwrap_or(input.len()));
    assert!(out.starts_with(before), "bytes before the fragment changed");
    assert!(out.ends_with(fragment), "the fragment changed");
    let added = &out[before.len()..out.len() - fragment.len()];
    let pair = format!("{name}={value}");
    assert!(
        added == pair || added == format!("&{pair}") || added == format!("?{pair}"),
        "added more than one separator and the pair"
    );
    // The callers pass serialised URLs (`Url::as_str` of a checked target, or of the
    // configured callback): no controls or spaces, which the parser would strip at the
    // ends or drop inside, and which would then sit inside the result.
    if input.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return;
    }
    let Ok(parsed_input) = Url::parse(input) else {
        return;
    };
    if !matches!(parsed_input.scheme(), "http" | "https") {
        return;
    }
    let already = parsed_input
        .query_pairs()
        .filter(|(k, _)| k == name)
        .count();
    let parsed = Url::parse(&out).expect("a URL with a parameter added parses");
    assert_eq!(parsed.origin(), parsed_input.origin());
    assert_eq!(parsed.fragment(), parsed_input.fragment());
    let found: Vec<_> = parsed
        .query_pairs()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(found.len(), already + 1, "parameter not added exactly once");
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .expect("value is UTF-8");
    assert_eq!(found.last().map(String::as_str), Some(&*decoded));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The last line, if any, is a `state` value; the rest is the URL.
    let (input, state) = text.rsplit_once('\n').unwrap_or((text, "abc"));
    check(input, "externalToken", TOKEN);
    check(input, "jwt", TOKEN);
    let state = utf8_percent_encode(state, NON_ALPHANUMERIC).to_string();
    check(input, "state", &state);
});
