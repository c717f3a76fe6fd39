//! Open-redirect attacks shared by the suites that attack a return address: a table of
//! tricks by class, each aimed at `https://acme.kustomer.help` as the one allowed origin,
//! and the peer project's open-redirect list from shared/testdata (its README says where
//! it comes from).

/// The one origin the table's attacks try to pass for.
pub const ALLOWED: &str = "https://acme.kustomer.help";

/// Same-site-looking paths that leave the site once a browser or a framework resolves
/// their dot segments, doubled or escaped slashes and invisible characters (Aha!'s
/// `return_to` suite).
pub const DOT_SEGMENT_PATHS: &[&str] = &[
    "/..//evil.com",
    "/.//evil.com",
    "/%2e%2e//evil.com",
    "/%2E%2E/%2Fevil.com",
    "/ideas/../../evil.com",
    "/ideas/%2e/x",
    "/a//evil.com",
    "/%2F%2Fevil.com",
    "/%5Cevil.com",
    "/ideas/\u{200B}x",
];

/// Every class of open-redirect trick, each expected to be refused.
#[allow(clippy::too_many_lines)] // a table: one line per attack reads better than helpers
pub fn attack_table() -> Vec<(&'static str, String)> {
    let mut table: Vec<(&'static str, String)> = Vec::new();
    let mut add = |class: &'static str, targets: &[&str]| {
        for target in targets {
            table.push((class, (*target).to_owned()));
        }
    };
    add(
        "backslash",
        &[
            "https://evil.com\\@acme.kustomer.help/",
            "https://acme.kustomer.help\\@evil.com/",
            "https://acme.kustomer.help\\.evil.com/",
            "https:\\\\evil.com/",
            "https:/\\evil.com/",
            "https:\\/evil.com/",
            "/\\evil.com",
            "\\\\evil.com",
            "\\/evil.com",
            "/\\/evil.com",
            "https://acme.kustomer.help/\\evil.com",
            "https://acme.kustomer.help/\\\\evil.com/",
            "https://evil.com\\.acme.kustomer.help/",
        ],
    );
    add(
        "whitespace between slashes",
        &[
            "/\t/evil.com",
            "/\n/evil.com",
            "/\r/evil.com",
            "/ /evil.com",
            "https:/\t/evil.com",
            "https:/\n/evil.com",
            "https:/\r\n/evil.com",
            "https:/ /evil.com",
            "https://\tevil.com",
            "https://acme.kustomer.help\t.evil.com/",
            "https://acme.kustomer.help\n.evil.com/",
            "https://acme.kustomer.help /",
            " https://acme.kustomer.help/",
            "https://acme.kustomer.help/\t",
            "https://acme.kustomer.help/\r\nSet-Cookie: a=b",
            "\thttps://acme.kustomer.help/",
            "https://acme.kustomer.help/\u{0b}",
            "https://acme.kustomer.help/\u{0c}",
            "https://acme.kustomer.help/\u{a0}",
            "https://acme.kustomer.help/\u{2028}",
            "https://acme.\u{200b}kustomer.help/",
            "https://acme.kustomer.help\u{feff}/",
            "https://acme.kustomer.help/\u{202e}",
            "https://acme.kustomer.help/\0",
            "https://acme.kustomer.help/\u{7f}",
        ],
    );
    add(
        "escaped whitespace between slashes (left escaped after one decode)",
        &[
            "/%09/evil.com",
            "/%0a/evil.com",
            "/%0d/evil.com",
            "/%20/evil.com",
            "https:/%09/evil.com",
            "https:%0a//evil.com",
            "https://%09evil.com",
            "https://acme.kustomer.help%09.evil.com/",
            "https://acme.kustomer.help%20/",
            "https://acme.kustomer.help%0d%0a/",
        ],
    );
    add(
        "dot segments",
        &[
            "https://acme.kustomer.help/../../evil.com",
            "/../evil.com",
            "/./evil.com",
            "./evil.com",
            "../evil.com",
            "https://acme.kustomer.help.evil.com/../",
            "https://evil.com/./acme.kustomer.help/",
            "https://evil.com/%2e%2e/acme.kustomer.help/",
            "https://acme.kustomer.help%2f..%2f@evil.com/",
        ],
    );
    add(
        "suffix without a dot boundary",
        &[
            "https://evilacme.kustomer.help/",
            "https://cme.kustomer.help/",
            "https://acme.kustomer.help.evil.com/",
            "https://acme.kustomer.help.evil.com",
            "https://acme.kustomer.helpevil.com/",
            "https://acme-kustomer.help/",
            "https://acme.kustomer.help-evil.com/",
            "https://kustomer.help/",
            "https://x.acme.kustomer.help/",
            "https://evil.com/acme.kustomer.help",
            "https://evil.com?acme.kustomer.help",
            "https://evil.com#acme.kustomer.help",
            "https://evil.com/https://acme.kustomer.help/",
        ],
    );
    add(
        "userinfo",
        &[
            "https://acme.kustomer.help@evil.com/",
            "https://acme.kustomer.help:443@evil.com/",
            "https://user@acme.kustomer.help/",
            "https://user:pass@acme.kustomer.help/",
            "https://:@acme.kustomer.help/",
            "https://@acme.kustomer.help/",
            "https://evil.com@acme.kustomer.help/",
            "https://acme.kustomer.help%40evil.com/",
            "https://acme.kustomer.help@@evil.com/",
            "https://evil.com#@acme.kustomer.help/",
            "https://evil.com?@acme.kustomer.help/",
            "https://acme.kustomer.help&@evil.com/",
            "https://acme.kustomer.help;@evil.com/",
            "//acme.kustomer.help@evil.com/",
        ],
    );
    add(
        "escapes in the host",
        &[
            "https://acme%2ekustomer.help/",
            "https://acme%2Ekustomer%2Ehelp/",
            "https://acme.kustomer.help%2f@evil.com/",
            "https://acme.kustomer.help%2F.evil.com/",
            "https://acme.kustomer.help%5c@evil.com/",
            "https://acme.kustomer.help%5C.evil.com/",
            "https://evil.com%2f@acme.kustomer.help/",
            "https://%61cme.kustomer.help/",
            "https://acme.kustomer.help%00.evil.com/",
            "https://acme.kustomer.help%252f@evil.com/",
            "https://acme.kustomer.help%3a443@evil.com/",
            "https://acme.kustomer.help%23@evil.com/",
            "https%3a%2f%2fevil.com/",
            "https:%2f%2facme.kustomer.help/",
        ],
    );
    add(
        "IDNA, homoglyphs, fullwidth and compatibility forms",
        &[
            // Cyrillic а, Greek ο, dotless ı: different hosts that look the same.
            "https://\u{430}cme.kustomer.help/",
            "https://acme.kust\u{3bf}mer.help/",
            "https://acme.kustomer.help\u{131}/",
            "https://xn--cme-8cd.kustomer.help/",
            // Fullwidth letters and dots, ideographic full stop, one dot leader: they fold
            // to ASCII, so what is shown is not what is written. Refused outright.
            "https://\u{ff41}\u{ff43}\u{ff4d}\u{ff45}.kustomer.help/",
            "https://acme\u{ff0e}kustomer\u{ff0e}help/",
            "https://acme\u{3002}kustomer\u{3002}help/",
            "https://acme\u{ff61}kustomer.help/",
            "https://acme\u{2024}kustomer.help/",
            "https://evil.com\u{ff0f}acme.kustomer.help/",
            "https://evil.com\u{ff3c}acme.kustomer.help/",
            "https://acme.kustomer.help\u{ff20}evil.com/",
            "https://evil.com\u{2044}acme.kustomer.help/",
            "https://evil.com\u{2215}acme.kustomer.help/",
            "https://\u{212a}ustomer.help/",
            "https://acme.\u{1d428}ustomer.help/",
            "https://acme.kustomer.he\u{fb01}p/",
            "https://ac\u{ad}me.kustomer.help/",
            "https://acme.kustomer.help\u{3000}/",
            "\u{ff48}ttps://acme.kustomer.help/",
            "https\u{ff1a}//acme.kustomer.help/",
            "https:\u{ff0f}\u{ff0f}acme.kustomer.help/",
        ],
    );
    add(
        "trailing dots and empty labels",
        &[
            "https://acme.kustomer.help../",
            "https://acme.kustomer.help.../",
            "https://acme..kustomer.help/",
            "https://.acme.kustomer.help/",
            "https://acme.kustomer.help.evil.com./",
            "https://evil.com./",
            "https://./",
            "https://../",
        ],
    );
    add(
        "uppercase forms of attacks",
        &[
            "HTTPS://ACME.KUSTOMER.HELP.EVIL.COM/",
            "HTTPS://EVILACME.KUSTOMER.HELP/",
            "JAVASCRIPT:alert(1)",
            "JaVaScRiPt:alert(1)//https://acme.kustomer.help/",
            "HTTP://ACME.KUSTOMER.HELP/",
            "//ACME.KUSTOMER.HELP/",
            "HTTPS://ACME%2EKUSTOMER.HELP/",
            "HTTPS:\\\\ACME.KUSTOMER.HELP/",
        ],
    );
    add(
        "ports",
        &[
            "https://acme.kustomer.help:8443/",
            "https://acme.kustomer.help:80/",
            "https://acme.kustomer.help:0/",
            "https://acme.kustomer.help:65536/",
            "https://acme.kustomer.help:99999999999/",
            "https://acme.kustomer.help:-443/",
            "https://acme.kustomer.help:+443/",
            "https://acme.kustomer.help:0443/",
            "https://acme.kustomer.help:00443/",
            "https://acme.kustomer.help:443:443/",
            "https://acme.kustomer.help:/",
            "https://acme.kustomer.help:443a/",
            "https://acme.kustomer.help: 443/",
            "https://acme.kustomer.help:%34%34%33/",
            "https://acme.kustomer.help:https/",
        ],
    );
    add(
        "IPv4 forms",
        &[
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0x7f.0.0.1/",
            "https://0177.0.0.1/",
            "https://017700000001/",
            "https://127.1/",
            "https://127.0.1/",
            "https://127.0.0.1.nip.io/",
            "https://0/",
            "https://3232235777/",
            "https://0xC0A80101/",
            "https://1.1.1.1/",
            "https://999.999.999.999/",
            "https://1.2.3.4.5/",
        ],
    );
    add(
        "IPv6",
        &[
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[0:0:0:0:0:0:0:1]/",
            "https://[fe80::1%25eth0]/",
            "https://[::1]:443/",
            "https://[acme.kustomer.help]/",
            "https://[::1/",
            "https://::1/",
            "https://[::1]acme.kustomer.help/",
        ],
    );
    add(
        "other schemes",
        &[
            "javascript:alert(1)",
            "javascript://acme.kustomer.help/%0aalert(1)",
            "javascript:alert(1)//https://acme.kustomer.help/",
            "java\tscript:alert(1)",
            "\u{1}javascript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "ftp://acme.kustomer.help/",
            "ws://acme.kustomer.help/",
            "wss://acme.kustomer.help/",
            "blob:https://acme.kustomer.help/x",
            "view-source:https://acme.kustomer.help/",
            "about:blank",
            "mailto:a@acme.kustomer.help",
            "intent://acme.kustomer.help/#Intent;scheme=https;end",
            "httpss://acme.kustomer.help/",
            "https+evil://acme.kustomer.help/",
        ],
    );
    add(
        "relative, scheme-relative and malformed slashes",
        &[
            "//evil.com",
            "//evil.com/",
            "///evil.com",
            "////evil.com",
            "//acme.kustomer.help/",
            "https:evil.com",
            "https:acme.kustomer.help/",
            "https:/acme.kustomer.help/",
            "https:///acme.kustomer.help/",
            "https:////acme.kustomer.help/",
            "https:///evil.com/",
            "/evil.com",
            "evil.com",
            "acme.kustomer.help",
            "acme.kustomer.help/login",
            "/login",
            "?x=1",
            "#x",
        ],
    );
    add(
        "http when only https is configured",
        &[
            "http://acme.kustomer.help/",
            "http://acme.kustomer.help:443/",
            "http://acme.kustomer.help:80/",
        ],
    );
    let long_path = format!("https://acme.kustomer.help/{}", "a".repeat(5000));
    let long_host = format!("https://{}.acme.kustomer.help/", "a".repeat(300));
    table.push(("empty", String::new()));
    table.push(("very long", long_path));
    table.push(("very long", long_host));
    table
}

pub const PEER_LIST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/testdata/oauth2-proxy-openredirects.txt"
);

/// The upstream test's allowed domains, as far as origin patterns can say them. Upstream
/// `.bar.foo` means the domain and its subdomains: here that is two patterns. Upstream
/// `:*` (any port) has no equivalent: those entries are given their default port only.
/// Each origin is allowed over both `https` and `http`, so a list entry cannot pass or
/// fail on its scheme alone.
pub const PEER_ORIGINS: &[&str] = &[
    "foo.bar",
    "bar.foo",
    "*.bar.foo",
    "port.bar:8080",
    "sub.port.bar:8080",
    "*.sub.port.bar:8080",
    "anyport.bar",
    "sub.anyport.bar",
    "*.sub.anyport.bar",
    "www.whitelisteddomain.tld",
    "*.wildcard.sub.port.bar:8080",
    "*.wildcard.sub.anyport.bar",
    "*.wildcard.bar",
    "*.wildcard.proxy.foo.bar",
];

pub fn peer_origins() -> Vec<String> {
    PEER_ORIGINS
        .iter()
        .flat_map(|authority| {
            [
                format!("https://{authority}"),
                format!("http://{authority}"),
            ]
        })
        .collect()
}

/// Go's `url.QueryUnescape`: `%XX` decoded, `+` read as a space; `None` when an escape is
/// broken.
pub fn go_query_unescape(line: &str) -> Option<Vec<u8>> {
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Some(out)
}

pub fn read_peer_list() -> Option<String> {
    match std::fs::read_to_string(PEER_LIST) {
        Ok(text) => Some(text),
        Err(error) => {
            assert!(
                std::env::var("PORTAL_SSO_REQUIRE_TESTDATA").as_deref() != Ok("1"),
                "PORTAL_SSO_REQUIRE_TESTDATA=1 but {PEER_LIST} cannot be read: {error}"
            );
            println!("skipped: {PEER_LIST} cannot be read ({error}); it lives in shared/testdata");
            None
        }
    }
}
