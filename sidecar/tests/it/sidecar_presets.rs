//! Every preset kind through the real binary, with each setting its kind takes: one
//! sign-in per kind, and each setting seen in the answer (where the browser goes, how the
//! token travels, the lifetime, `aud`, a pinned value, the logout route). What each
//! vendor's token holds is pinned by the library's preset tests; this shows the file's
//! keys reach the builder.

use crate::support;

use http::{StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use support::presets::{
    CANNY_SECRET, HELPJUICE_SECRET, ZENDESK_SECRET, alice, assert_near, env, hs, key_bytes, now,
    preset_config, verify,
};
use support::*;

/// The secret of the presets below that have no constant of their own.
const DOCS_SECRET: &str = "docs-sites-shared-secret-0123456789abcdef";

/// Where one kind's token is found in the answer.
enum Carried {
    /// `?name=` (or `&name=`) in `Location`.
    Query(&'static str),
    /// The whole fragment of `Location`.
    Fragment,
    /// A hidden form field on a 200 page, posted to the target.
    Form(&'static str),
}

/// One kind: its `[[portal]]` entry, the request the vendor sends, where the browser must
/// go, how the token comes, how to verify it, and what else the settings decide.
struct Case {
    entry: String,
    request: &'static str,
    target: &'static str,
    carried: Carried,
    alg: Algorithm,
    key: DecodingKey,
    check: fn(&Value, &str),
}

#[allow(clippy::too_many_lines)] // one entry per kind
fn cases() -> Vec<Case> {
    let pem = key_path;
    let ed25519 = DecodingKey::from_ed_pem(&key_bytes("test-only-ed25519-public.pem")).unwrap();
    let rsa = DecodingKey::from_rsa_pem(&key_bytes("test-only-rsa-public.pem")).unwrap();
    let none: fn(&Value, &str) = |_, _| {};
    vec![
        Case {
            entry: "kind = \"kustomer\"\nsecret = { env = \"DOCS_SECRET\" }\n\
                    redirect_origins = [\"https://acme.kustomer.help\"]\n\
                    default_redirect = \"https://acme.kustomer.help/login\"\n"
                .to_owned(),
            request: "/sso/kustomer?trackingToken=x",
            target: "https://acme.kustomer.help/login?externalToken=",
            carried: Carried::Query("externalToken"),
            alg: Algorithm::HS256,
            key: hs(DOCS_SECRET),
            check: none,
        },
        Case {
            entry: "kind = \"aha\"\nsecret = { env = \"DOCS_SECRET\" }\n\
                    callback_url = \"https://acme.aha.site/auth/jwt/callback\"\n\
                    logout_path = \"/sso/aha/bye\"\nlogout_redirect = \"/signed-out\"\n"
                .to_owned(),
            request: "/sso/aha?state=s1",
            target: "https://acme.aha.site/auth/jwt/callback?jwt=",
            carried: Carried::Query("jwt"),
            alg: Algorithm::HS256,
            key: hs(DOCS_SECRET),
            check: |_, location| assert!(location.ends_with("&state=s1"), "{location}"),
        },
        Case {
            entry: "kind = \"zendesk\"\nsecret = { env = \"ZENDESK_JWT_SECRET\" }\n\
                    callback_url = \"https://acme.zendesk.com/access/jwt\"\n\
                    form_action_origins = [\"https://support.acme.com\"]\n"
                .to_owned(),
            request: "/sso/zendesk?brand_id=360001",
            target: "https://acme.zendesk.com/access/jwt?brand_id=360001",
            carried: Carried::Form("jwt"),
            alg: Algorithm::HS256,
            key: hs(ZENDESK_SECRET),
            check: none,
        },
        Case {
            entry: "kind = \"zendesk\"\npath = \"/sso/zendesk-q\"\n\
                    secret = { env = \"ZENDESK_JWT_SECRET\" }\n\
                    callback_url = \"https://acme.zendesk.com/access/jwt\"\ntoken_in = \"query\"\n"
                .to_owned(),
            request: "/sso/zendesk-q",
            target: "https://acme.zendesk.com/access/jwt?jwt=",
            carried: Carried::Query("jwt"),
            alg: Algorithm::HS256,
            key: hs(ZENDESK_SECRET),
            check: none,
        },
        Case {
            entry: "kind = \"gitbook\"\nsecret = { env = \"DOCS_SECRET\" }\n\
                    callback_url = \"https://docs.acme.com\"\ntoken_ttl_secs = 600\n"
                .to_owned(),
            request: "/sso/gitbook?location=guides%2Fsetup",
            target: "https://docs.acme.com/guides/setup?jwt_token=",
            carried: Carried::Query("jwt_token"),
            alg: Algorithm::HS256,
            key: hs(DOCS_SECRET),
            check: |claims, _| assert_near(&claims["exp"], now() + 600, 1),
        },
        Case {
            entry: "kind = \"canny\"\nsecret = { env = \"CANNY_SSO_KEY\" }\n\
                    redirect_origins = [\"https://acme.canny.io\"]\n\
                    pinned_params = { companyID = \"5f0c\" }\n"
                .to_owned(),
            request: "/sso/canny?redirect=https%3A%2F%2Facme.canny.io%2Fideas",
            target: "https://canny.io/api/redirects/sso?ssoToken=",
            carried: Carried::Query("ssoToken"),
            alg: Algorithm::HS256,
            key: hs(CANNY_SECRET),
            check: |_, location| {
                assert!(
                    location
                        .ends_with("&companyID=5f0c&redirect=https%3A%2F%2Facme.canny.io%2Fideas"),
                    "{location}"
                );
            },
        },
        Case {
            entry: "kind = \"helpscout\"\nsecret = { env = \"DOCS_SECRET\" }\n\
                    callback_url = \"https://docs.acme.com/authcallback\"\ntoken_ttl_secs = 120\n"
                .to_owned(),
            request: "/sso/helpscout?returnTo=%2Farticle%2F12",
            target: "https://docs.acme.com/authcallback?token=",
            carried: Carried::Query("token"),
            alg: Algorithm::HS512,
            key: hs(DOCS_SECRET),
            check: |claims, _| assert_near(&claims["exp"], now() + 120, 1),
        },
        Case {
            entry: "kind = \"frill\"\nsecret = { env = \"DOCS_SECRET\" }\n\
                    redirect_origins = [\"https://acme.frill.co\"]\n\
                    default_redirect = \"https://acme.frill.co/b/roadmap\"\n"
                .to_owned(),
            request: "/sso/frill",
            target: "https://acme.frill.co/b/roadmap?ssoToken=",
            carried: Carried::Query("ssoToken"),
            alg: Algorithm::HS256,
            key: hs(DOCS_SECRET),
            check: none,
        },
        Case {
            entry: "kind = \"readme\"\nsecret = { env = \"DOCS_SECRET\" }\n\
                    callback_url = \"https://hub.acme.com/\"\n"
                .to_owned(),
            request: "/sso/readme?redirect=%2Fdocs",
            target: "https://hub.acme.com/?auth_token=",
            carried: Carried::Query("auth_token"),
            alg: Algorithm::HS256,
            key: hs(DOCS_SECRET),
            check: none,
        },
        Case {
            entry: format!(
                "kind = \"mintlify\"\nprivate_key = {{ file = \"{}\" }}\n\
                 callback_url = \"https://docs.acme.com/login/jwt-callback\"\ntoken_ttl_secs = 900\n",
                pem("test-only-ed25519-private.pem")
            ),
            request: "/sso/mintlify?redirect=%2Fquickstart",
            target: "https://docs.acme.com/login/jwt-callback?redirect=%2Fquickstart#",
            carried: Carried::Fragment,
            alg: Algorithm::EdDSA,
            key: ed25519,
            check: |claims, _| assert_near(&claims["expiresAt"], now() + 900, 1),
        },
        Case {
            entry: "kind = \"helpjuice\"\nsecret = { env = \"HELPJUICE_JWT_SECRET\" }\n\
                    callback_url = \"https://helpjuice.com/jwt/acme\"\n\
                    redirect_origins = [\"https://acme.helpjuice.com\"]\n"
                .to_owned(),
            request: "/sso/helpjuice?fallback_url=https%3A%2F%2Facme.helpjuice.com%2Fsetup",
            target: "https://helpjuice.com/jwt/acme?jwt=",
            carried: Carried::Query("jwt"),
            alg: Algorithm::HS256,
            key: hs(HELPJUICE_SECRET),
            check: |_, location| assert!(location.contains("&fallback_url=https%3A%2F%2Facme")),
        },
        Case {
            entry: "kind = \"helpdocs\"\nsecret = { env = \"DOCS_SECRET\" }\n\
                    callback_url = \"https://acme.helpdocs.io/\"\n\
                    audience = \"https://docs.acme.com\"\n"
                .to_owned(),
            request: "/sso/helpdocs",
            target: "https://acme.helpdocs.io/?jwt=",
            carried: Carried::Query("jwt"),
            alg: Algorithm::HS256,
            key: hs(DOCS_SECRET),
            check: |claims, _| assert_eq!(claims["aud"], "https://docs.acme.com"),
        },
        Case {
            entry: format!(
                "kind = \"freshworks\"\nprivate_key = {{ file = \"{}\" }}\n\
                 redirect_origins = [\"https://acme.freshworks.com\"]\n\
                 default_redirect = \"https://acme.freshworks.com/sp/OIDC/7/implicit\"\n",
                pem("test-only-rsa-private.pem")
            ),
            request: "/sso/freshworks?state=st-1&nonce=n-0S6",
            target: "https://acme.freshworks.com/sp/OIDC/7/implicit?id_token=",
            carried: Carried::Query("id_token"),
            alg: Algorithm::RS256,
            key: rsa,
            check: |claims, location| {
                assert_eq!(claims["nonce"], "n-0S6");
                assert!(location.ends_with("&state=st-1"), "{location}");
            },
        },
    ]
}

/// The token the answer carries as `carried` says, and where the browser goes.
fn token_and_target(
    carried: &Carried,
    status: StatusCode,
    headers: &http::HeaderMap,
    body: &str,
) -> (String, String) {
    match carried {
        Carried::Form(field) => {
            assert_eq!(status, StatusCode::OK, "{body}");
            let action = body
                .split_once("action=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .unwrap()
                .0
                .replace("&amp;", "&");
            let marker = format!("name=\"{field}\" value=\"");
            let token = body
                .split_once(&marker)
                .unwrap()
                .1
                .split('"')
                .next()
                .unwrap();
            (token.to_owned(), action)
        }
        Carried::Query(name) => {
            assert_eq!(status, StatusCode::FOUND, "{body}");
            let target = location(headers);
            let token = query_param(&target, name).unwrap_or_else(|| panic!("{target}"));
            (token, target)
        }
        Carried::Fragment => {
            assert_eq!(status, StatusCode::FOUND, "{body}");
            let target = location(headers);
            let token = target.split_once('#').unwrap().1.to_owned();
            (token, target)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kinds_keys_reach_the_builder() {
    let upstream = Upstream::start().await;
    let cases = cases();
    let portals = cases.iter().fold(String::new(), |mut portals, case| {
        portals.push_str("[[portal]]\n");
        portals.push_str(&case.entry);
        portals.push('\n');
        portals
    });
    let config = preset_config(&upstream, "id = \"/email\"", &portals);
    let mut env = env();
    env.push(("DOCS_SECRET", DOCS_SECRET));
    let sidecar = Sidecar::start_with_env(&config, &env);
    for case in &cases {
        let (status, headers, body) = get(&sidecar.url(case.request), Some(&alice())).await;
        let body = String::from_utf8_lossy(&body).into_owned();
        let (token, target) = token_and_target(&case.carried, status, &headers, &body);
        assert!(
            target.starts_with(case.target),
            "{}: {target} does not start with {}",
            case.request,
            case.target
        );
        let claims = verify(&token, case.alg, &case.key);
        (case.check)(&claims, &target);
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "no-store",
            "{}",
            case.request
        );
        if let Carried::Form(_) = case.carried {
            let policy = headers["content-security-policy"].to_str().unwrap();
            assert!(
                policy.contains("form-action https://acme.zendesk.com https://support.acme.com;"),
                "{policy}"
            );
        }
    }
    // Aha!'s logout keys: its remote logout route, landing where configured.
    let (status, headers, _) = get(&sidecar.url("/sso/aha/bye"), Some(&alice())).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location(&headers), "/signed-out");
    // Signed out, any kind's route sends the browser to the app's login page first.
    let (status, headers, _) = get(&sidecar.url("/sso/zendesk"), None).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        location(&headers).starts_with("/login?next="),
        "{headers:?}"
    );
}
