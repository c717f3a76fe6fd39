//! The redirect attack suites against every preset's request-supplied addresses.
//!
//! An absolute URL a portal sends and gets back (Frill's `redirect`, Freshworks'
//! `redirect_uri`, Canny's `redirect`, Helpjuice's `fallback_url`) is held to the rules
//! `kustomerRedirectUri` is: every attack of the table and every line of the peer list is
//! a 400 page, before anyone is looked up and with nothing signed. A same-site path (GitBook's
//! `location`, Help Scout's `returnTo`, Mintlify's and ReadMe's `redirect`, Aha!'s and
//! Zendesk's `return_to`) is held to Aha!'s `return_to` rules: the browser never leaves the
//! portal's site because of it.

// Vendor names (GitBook, ReadMe) are prose here, not code.
#![allow(clippy::doc_markdown)]

use crate::common;

use common::attacks::{
    ALLOWED, DOT_SEGMENT_PATHS, attack_table, go_query_unescape, peer_origins, read_peer_list,
};
use common::tokens::{alice_in_full, private_key, signed_in};
use common::*;
use http::StatusCode;
use percent_encoding::{NON_ALPHANUMERIC, percent_encode};
use portal_sso::{JwtPortal, Secret, TokenIn};
use url::Url;

const SECRET: &str = "a-preset-secret-for-attacks-0123456789ab";

/// One parameter carrying an absolute URL: the portal, the route, the other parameters
/// the vendor sends, the parameter's name and the token parameter a target could plant.
struct UrlParam {
    portal: fn(Vec<String>) -> JwtPortal,
    route: &'static str,
    others: &'static str,
    name: &'static str,
    token_param: &'static str,
}

fn url_params() -> [UrlParam; 4] {
    [
        UrlParam {
            portal: |origins| JwtPortal::frill(Secret::new(SECRET)).with_redirect_origins(origins),
            route: "/sso/frill",
            others: "",
            name: "redirect",
            token_param: "ssoToken",
        },
        UrlParam {
            portal: |origins| {
                JwtPortal::freshworks(private_key("test-only-rsa-private.pem"))
                    .with_redirect_origins(origins)
            },
            route: "/sso/freshworks",
            others: "response_type=id_token&state=s1&nonce=n1&",
            name: "redirect_uri",
            token_param: "id_token",
        },
        UrlParam {
            portal: |origins| JwtPortal::canny(Secret::new(SECRET)).with_redirect_origins(origins),
            route: "/sso/canny",
            others: "companyID=c1&",
            name: "redirect",
            token_param: "ssoToken",
        },
        UrlParam {
            portal: |origins| {
                JwtPortal::helpjuice(Secret::new(SECRET), "https://helpjuice.com/jwt/acme")
                    .with_redirect_origins(origins)
            },
            route: "/sso/helpjuice",
            others: "service=helpjuice&",
            name: "fallback_url",
            token_param: "jwt",
        },
    ]
}

/// The layer with `param`'s portal allowing `origins`, counting look-ups and tokens.
fn harness(param: &UrlParam, origins: Vec<String>) -> (portal_sso::Sso<axum::Router>, Counts) {
    let counts = Counts::default();
    let app = app(counts
        .builder_for(alice_in_full())
        .with_portal((param.portal)(origins)));
    (app, counts)
}

/// Sends `uri` and says what went wrong if it was not refused with nothing signed.
async fn refused(
    app: &portal_sso::Sso<axum::Router>,
    counts: &Counts,
    uri: &str,
) -> Result<(), String> {
    let before = (counts.identity_calls(), counts.tokens_issued());
    let reply = send(app, get_req(uri)).await;
    let after = (counts.identity_calls(), counts.tokens_issued());
    let mut problems = Vec::new();
    if reply.status != StatusCode::BAD_REQUEST {
        problems.push(format!("status {}", reply.status));
    }
    if reply.has_location() {
        problems.push(format!("Location {}", reply.location()));
    }
    if after != before {
        problems.push("identity asked or token issued".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join(", "))
    }
}

fn uri_for(param: &UrlParam, value: &str) -> String {
    format!("{}?{}{}={value}", param.route, param.others, param.name)
}

#[tokio::test]
async fn control_an_allowed_address_is_signed_for_every_url_parameter() {
    for param in url_params() {
        let (app, counts) = harness(&param, vec![ALLOWED.to_owned()]);
        let target =
            percent_encode(b"https://acme.kustomer.help/login?x=1", NON_ALPHANUMERIC).to_string();
        let reply = send(&app, get_req(&uri_for(&param, &target))).await;
        assert_eq!(
            reply.status,
            StatusCode::FOUND,
            "{}: {}",
            param.route,
            reply.text()
        );
        assert_eq!(counts.tokens_issued(), 1, "{}", param.route);
    }
}

#[tokio::test]
async fn every_attack_in_the_table_is_refused_for_every_url_parameter() {
    let mut failures = Vec::new();
    let mut sent = 0;
    for param in url_params() {
        let (app, counts) = harness(&param, vec![ALLOWED.to_owned()]);
        for (class, target) in attack_table() {
            let escaped = percent_encode(target.as_bytes(), NON_ALPHANUMERIC).to_string();
            let raw = uri_for(&param, &target);
            let mut uris = vec![uri_for(&param, &escaped)];
            // As the vendors' examples send it, unescaped, wherever that is a request target
            // the parser then reads whole.
            if target.contains("://")
                && !target.contains(['&', '#'])
                && raw.parse::<http::Uri>().is_ok()
            {
                uris.push(raw);
            }
            for uri in uris {
                sent += 1;
                if let Err(problem) = refused(&app, &counts, &uri).await {
                    failures.push(format!("{} [{class}] {target:?}: {problem}", param.name));
                }
            }
        }
        assert_eq!((counts.identity_calls(), counts.tokens_issued()), (0, 0));
    }
    println!(
        "{}/{sent} table attacks refused across the URL parameters",
        sent - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_line_of_the_peer_list_is_refused_for_every_url_parameter() {
    let Some(text) = read_peer_list() else {
        return;
    };
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 559, "the list changed");
    let mut failures = Vec::new();
    for param in url_params() {
        let (app, counts) = harness(&param, peer_origins());
        for line in &lines {
            let target = go_query_unescape(line).unwrap_or_else(|| line.as_bytes().to_vec());
            let uri = uri_for(
                &param,
                &percent_encode(&target, NON_ALPHANUMERIC).to_string(),
            );
            if let Err(problem) = refused(&app, &counts, &uri).await {
                failures.push(format!("{}: {line:?}: {problem}", param.name));
            }
        }
        assert_eq!(
            (counts.identity_calls(), counts.tokens_issued()),
            (0, 0),
            "{}",
            param.name
        );
    }
    println!(
        "{} of {} lines refused for each of 4 URL parameters",
        lines.len(),
        lines.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every spelling a common parser reads as `name`, planted in an allowed address.
fn planted(name: &str) -> Vec<String> {
    let mut upper = name.to_owned();
    upper[..1].make_ascii_uppercase();
    let first = name.as_bytes()[0];
    [
        format!("{name}=planted"),
        format!("{name}[]=planted"),
        format!("{name}[0]=planted"),
        format!("{name}%5B%5D=planted"),
        format!("{upper}=planted"),
        format!("{}=planted", name.to_ascii_uppercase()),
        format!("a=1;{name}=planted"),
        format!("{name}%00=planted"),
        format!("{name}%20=planted"),
        format!("%{first:02X}{}=planted", &name[1..]),
        format!("{name}.x=planted"),
        format!("r=1#{name}=planted"),
    ]
    .into_iter()
    .map(|query| format!("{ALLOWED}/login?{query}"))
    .collect()
}

#[tokio::test]
async fn an_address_that_already_carries_the_token_parameter_is_refused() {
    for param in url_params() {
        let (app, counts) = harness(&param, vec![ALLOWED.to_owned()]);
        let mut names = vec![param.token_param];
        if param.route == "/sso/freshworks" {
            names.push("state");
        }
        for name in names {
            for target in planted(name) {
                let escaped = percent_encode(target.as_bytes(), NON_ALPHANUMERIC).to_string();
                if let Err(problem) = refused(&app, &counts, &uri_for(&param, &escaped)).await {
                    panic!("{} {target}: {problem}", param.name);
                }
            }
        }
    }
}

/// One same-site path parameter: the portal, its route, the parameter, the portal's site.
struct PathParam {
    portal: fn() -> JwtPortal,
    route: &'static str,
    name: &'static str,
    token_param: &'static str,
    site: &'static str,
}

fn path_params() -> [PathParam; 6] {
    [
        PathParam {
            portal: || JwtPortal::gitbook(Secret::new(SECRET), "https://docs.acme.com/space"),
            route: "/sso/gitbook",
            name: "location",
            token_param: "jwt_token",
            site: "https://docs.acme.com/space",
        },
        PathParam {
            portal: || {
                JwtPortal::helpscout(Secret::new(SECRET), "https://docs.acme.com/authcallback")
            },
            route: "/sso/helpscout",
            name: "returnTo",
            token_param: "token",
            site: "https://docs.acme.com",
        },
        PathParam {
            portal: || {
                JwtPortal::mintlify(
                    private_key("test-only-ed25519-private.pem"),
                    "https://docs.acme.com/login/jwt-callback",
                )
            },
            route: "/sso/mintlify",
            name: "redirect",
            token_param: "",
            site: "https://docs.acme.com",
        },
        PathParam {
            portal: || JwtPortal::readme(Secret::new(SECRET), "https://docs.acme.com/"),
            route: "/sso/readme",
            name: "redirect",
            token_param: "auth_token",
            site: "https://docs.acme.com",
        },
        PathParam {
            portal: || {
                JwtPortal::aha(
                    Secret::new(SECRET),
                    "https://acme.aha.site/auth/jwt/callback",
                )
            },
            route: "/sso/aha",
            name: "return_to",
            token_param: "jwt",
            site: "https://acme.aha.site",
        },
        PathParam {
            portal: || {
                JwtPortal::zendesk(Secret::new(SECRET), "https://acme.zendesk.com/access/jwt")
                    .with_token_in(TokenIn::Query)
            },
            route: "/sso/zendesk",
            name: "return_to",
            token_param: "jwt",
            site: "https://acme.zendesk.com",
        },
    ]
}

/// The path attacks of Aha!'s suite beyond [`DOT_SEGMENT_PATHS`]: each must be left out.
const PATH_ATTACKS: &[&str] = &[
    "//evil.com",
    "//evil.com/ideas",
    "https://evil.com",
    "/\\evil.com",
    "javascript:alert(1)",
    "/ideas\r\nLocation: https://evil.com",
    "\t/evil.com",
];

/// What `reply` did with a same-site path sent as `name`: `Ok` when it was refused, left
/// out, or passed on and still on `site`.
fn stays_on_site(reply: &Reply, param: &PathParam) -> Result<(), String> {
    if reply.status == StatusCode::BAD_REQUEST && !reply.has_location() {
        return Ok(());
    }
    if reply.status != StatusCode::FOUND {
        return Err(format!("status {}", reply.status));
    }
    let site = Url::parse(param.site).unwrap();
    let location = Url::parse(reply.location()).map_err(|e| format!("Location unparsable: {e}"))?;
    if location.origin() != site.origin()
        || !location
            .path()
            .starts_with(site.path().trim_end_matches('/'))
    {
        return Err(format!("left the site: {location}"));
    }
    for (key, value) in location.query_pairs() {
        if key == param.name {
            let resolved = site.join(&value).map_err(|e| format!("{value:?}: {e}"))?;
            if !value.starts_with('/')
                || value.starts_with("//")
                || value.contains('\\')
                || resolved.origin() != site.origin()
            {
                return Err(format!("passed on {value:?}"));
            }
        }
        if !param.token_param.is_empty() && key == param.token_param && value == "planted" {
            return Err("a planted token".to_owned());
        }
    }
    Ok(())
}

#[tokio::test]
async fn same_site_paths_never_take_the_browser_off_the_site() {
    let lines = read_peer_list().unwrap_or_default();
    let mut attacks: Vec<Vec<u8>> = DOT_SEGMENT_PATHS
        .iter()
        .chain(PATH_ATTACKS)
        .map(|a| a.as_bytes().to_vec())
        .collect();
    attacks.extend(
        attack_table()
            .into_iter()
            .map(|(_, target)| target.into_bytes()),
    );
    attacks.extend(
        lines
            .lines()
            .map(|line| go_query_unescape(line).unwrap_or_else(|| line.as_bytes().to_vec())),
    );
    attacks.push(b"/kb?jwt=planted&jwt_token=planted&token=planted&auth_token=planted".to_vec());
    let mut failures = Vec::new();
    for param in path_params() {
        let app = signed_in((param.portal)(), alice_in_full(), &Recorder::default());
        for attack in &attacks {
            let escaped = percent_encode(attack, NON_ALPHANUMERIC).to_string();
            let reply = send(
                &app,
                get_req(&format!("{}?{}={escaped}", param.route, param.name)),
            )
            .await;
            if let Err(problem) = stays_on_site(&reply, &param) {
                failures.push(format!(
                    "{} {}: {:?}: {problem}",
                    param.route,
                    param.name,
                    String::from_utf8_lossy(attack)
                ));
            }
        }
        // The same suite is not vacuous: a plain path is passed on.
        let reply = send(
            &app,
            get_req(&format!("{}?{}=%2Fguides%2Fsetup", param.route, param.name)),
        )
        .await;
        assert!(
            reply.location().contains("guides"),
            "{}: {}",
            param.route,
            reply.location()
        );
    }
    println!(
        "{} attacks sent to each of 6 same-site path parameters",
        attacks.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
