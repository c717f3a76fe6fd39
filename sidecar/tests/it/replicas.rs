//! Two sidecar replicas with one config, behind a real nginx balancing round-robin with no
//! stickiness, in front of one app: to the browser they behave as one. The login-loop
//! breaker counts the trips made on either replica, a remote logout begun on one ends on
//! the other, and a token from either verifies with the configured key.
//!
//! nginx adds `X-Upstream: <replica address>` to every answer, so each step says which
//! replica served it. These tests need `/usr/sbin/nginx` (Debian's nginx-light).

use crate::support;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use http::{HeaderMap, StatusCode, header};
use support::front::Front;
use support::*;

const PORTAL_LOGOUT: &str = "https://acme.aha.site/portal_session/logout";

/// nginx balancing round-robin over `replicas`: no upstream keepalive (one connection
/// per request, so nothing ties a browser to a replica), no retry on another replica,
/// none ever marked down, and `X-Upstream` naming the replica that answered.
fn balancer(replicas: &[SocketAddr]) -> Front {
    let servers = replicas
        .iter()
        .map(|replica| format!("        server {replica} max_fails=0;"))
        .collect::<Vec<_>>()
        .join("\n");
    Front::nginx(&format!(
        r"
    upstream replicas {{
{servers}
    }}
    server {{
        listen {{listen}};
        location / {{
            proxy_pass http://replicas;
            proxy_set_header Host $http_host;
            proxy_next_upstream off;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
"
    ))
}

/// A browser's cookie store for one host: cookies by name and path, sent to the paths
/// under theirs, dropped when a `Max-Age=0` arrives.
#[derive(Default)]
struct Browser {
    cookies: BTreeMap<(String, String), String>,
}

/// One answer, and the replica that gave it (nginx's `X-Upstream`).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
    replica: String,
}

impl Browser {
    /// `GET path_and_query` through `nginx`, sending and keeping cookies.
    async fn get(&mut self, nginx: &Front, path_and_query: &str) -> Answer {
        let path = path_and_query.split('?').next().unwrap_or("/");
        let sent: Vec<String> = self
            .cookies
            .iter()
            .filter(|((_, cookie_path), _)| {
                cookie_path == "/"
                    || path == cookie_path
                    || path.starts_with(&format!("{cookie_path}/"))
            })
            .map(|((name, _), value)| format!("{name}={value}"))
            .collect();
        let cookie_header = (!sent.is_empty()).then(|| sent.join("; "));
        let url = nginx.url(path_and_query);
        let (status, headers, body) = get(&url, cookie_header.as_deref()).await;
        for value in headers.get_all(header::SET_COOKIE) {
            let given = cookie::Cookie::parse(value.to_str().unwrap().to_owned()).unwrap();
            let key = (
                given.name().to_owned(),
                given.path().unwrap_or("/").to_owned(),
            );
            if given.max_age().is_some_and(cookie::time::Duration::is_zero) {
                self.cookies.remove(&key);
            } else {
                self.cookies.insert(key, given.value().to_owned());
            }
        }
        let replica = headers
            .get("x-upstream")
            .unwrap_or_else(|| panic!("{path_and_query}: no X-Upstream from nginx"))
            .to_str()
            .unwrap()
            .to_owned();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            replica,
        }
    }

    fn has(&self, name: &str) -> bool {
        self.cookies.keys().any(|(cookie, _)| cookie == name)
    }
}

/// The app, two replicas of one config in front of it, and nginx in front of them.
struct Deployment {
    upstream: Upstream,
    replicas: [Sidecar; 2],
    nginx: Front,
}

impl Deployment {
    /// `edit` changes the config both replicas are given.
    async fn start(edit: impl Fn(String) -> String) -> Self {
        let upstream = Upstream::start().await;
        let me = format!("{}/api/me", upstream.url());
        let config = edit(config(&upstream.url(), &me, COOKIE_KEY_LINE, ""));
        let replicas = [Sidecar::start(&config), Sidecar::start(&config)];
        let nginx = balancer(&[replicas[0].addr, replicas[1].addr]);
        Self {
            upstream,
            replicas,
            nginx,
        }
    }

    /// Asserts that each replica counted requests it served, in its own `/metrics`.
    async fn assert_both_served(&self) {
        for replica in &self.replicas {
            let (status, _, body) = get(&replica.admin_url("/metrics"), None).await;
            assert_eq!(status, StatusCode::OK);
            let served: f64 = String::from_utf8_lossy(&body)
                .lines()
                .filter(|line| line.starts_with("portal_sso_http_requests_total{"))
                .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
                .sum();
            assert!(
                served > 0.0,
                "replica {} served nothing: {}",
                replica.addr,
                String::from_utf8_lossy(&body)
            );
        }
    }
}

/// Every answer in `answers` came from a replica other than the one before it.
fn assert_alternates(answers: &[&Answer]) {
    for pair in answers.windows(2) {
        assert_ne!(
            pair[0].replica, pair[1].replica,
            "two steps in a row on one replica"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx; CI runs it with --ignored"]
async fn the_login_loop_breaker_counts_trips_made_on_either_replica() {
    // The sidecar expects a session cookie the app does not set: every sign-in at the
    // app leaves the sidecar with a browser it cannot read.
    let deployment =
        Deployment::start(|config| config.replace("cookie = \"sid\"", "cookie = \"app_session\""))
            .await;
    let nginx = &deployment.nginx;
    let mut browser = Browser::default();
    let mut sso_visits = Vec::new();
    for trip in 1..=3 {
        let sent = browser.get(nginx, "/sso/aha").await;
        assert_eq!(sent.status, StatusCode::FOUND, "trip {trip}: {}", sent.body);
        let login = location(&sent.headers);
        assert_eq!(login, "/login?next=%2Fsso%2Faha", "trip {trip}");
        assert!(browser.has("portal_sso_login_trips"), "trip {trip}");
        // The login page, then signing in there, which sends the browser back.
        let page = browser.get(nginx, &login).await;
        assert_eq!(page.status, StatusCode::OK, "trip {trip}");
        let signed_in = browser.get(nginx, &format!("{login}&as=alice")).await;
        assert_eq!(signed_in.status, StatusCode::FOUND, "trip {trip}");
        assert_eq!(location(&signed_in.headers), "/sso/aha", "trip {trip}");
        assert!(browser.has("sid"), "trip {trip}");
        assert_alternates(&[&sent, &page, &signed_in]);
        sso_visits.push(sent);
    }
    let explained = browser.get(nginx, "/sso/aha").await;
    assert_eq!(
        explained.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "the fourth visit, after three trips, is explained: {}",
        explained.body
    );
    assert!(
        explained.body.contains("Sign-in cannot complete"),
        "{}",
        explained.body
    );
    assert!(
        explained.body.contains("sent to sign in 3 times"),
        "{}",
        explained.body
    );
    assert!(
        explained.body.contains("`app_session`"),
        "{}",
        explained.body
    );
    sso_visits.push(explained);
    // The SSO route was visited on both replicas, in turn.
    assert_alternates(&sso_visits.iter().collect::<Vec<_>>());
    deployment.assert_both_served().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx; CI runs it with --ignored"]
async fn a_remote_logout_begun_on_one_replica_ends_on_the_other() {
    // Remote logout goes through the app's own logout, which is also the route after
    // which the browser would be sent on to the portal's logout.
    let deployment = Deployment::start(|config| {
        let config = config.replace(
            "[server]",
            "app_logout_path = \"/logout\"\napp_logout_url = \"/logout\"\n\n[server]",
        );
        format!("{config}portal_logout_url = \"{PORTAL_LOGOUT}\"\n")
    })
    .await;
    let nginx = &deployment.nginx;
    let mut browser = Browser::default();
    let signed_in = browser.get(nginx, "/login?next=%2F&as=alice").await;
    assert_eq!(signed_in.status, StatusCode::FOUND);
    assert!(browser.has("sid"));
    let before = deployment
        .upstream
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);

    // The portal sends the browser to its Remote logout URL.
    let begun = browser.get(nginx, "/sso/aha/logout").await;
    assert_eq!(begun.status, StatusCode::FOUND, "{}", begun.body);
    assert_eq!(location(&begun.headers), "/logout");
    assert!(browser.has("portal_sso_remote_logout"));
    assert!(
        browser.has("sid"),
        "the session goes with the browser to the app's logout, which ends it"
    );

    // The app's logout, on the other replica: the app ends its session, and the browser
    // lands where the app says, not back at the portal it came from.
    let ended = browser.get(nginx, "/logout").await;
    assert_ne!(
        begun.replica, ended.replica,
        "the logout stayed on one replica"
    );
    assert_eq!(ended.status, StatusCode::FOUND, "{}", ended.body);
    assert_eq!(location(&ended.headers), "/", "sent on instead of ending");
    let app_cookies: Vec<&str> = ended
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        app_cookies.contains(&"sid=; Path=/; Max-Age=0; HttpOnly"),
        "the app's own logout answered: {app_cookies:?}"
    );
    assert!(
        !browser.has("portal_sso_remote_logout"),
        "the marker is spent"
    );
    // Of the two steps, the app saw exactly one: its logout.
    let after = deployment
        .upstream
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(after - before, 1);

    // The app's logout used on its own, on either replica, still goes on to the portal.
    for _ in 0..2 {
        let own = browser.get(nginx, "/logout").await;
        assert_eq!(location(&own.headers), PORTAL_LOGOUT, "on {}", own.replica);
    }
    deployment.assert_both_served().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx; CI runs it with --ignored"]
async fn a_token_from_either_replica_verifies_with_the_configured_secret() {
    let deployment = Deployment::start(|config| config).await;
    let nginx = &deployment.nginx;
    let mut browser = Browser::default();
    browser.get(nginx, "/login?next=%2F&as=alice").await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let issued = browser.get(nginx, "/sso/aha").await;
        assert_eq!(issued.status, StatusCode::FOUND, "{}", issued.body);
        let token = query_param(&location(&issued.headers), "jwt").expect("a token");
        let claims = decode(&token, AHA_SECRET);
        assert_eq!(claims["email"], "alice@example.com");
        tokens.push(issued);
    }
    assert_ne!(tokens[0].replica, tokens[1].replica);
    deployment.assert_both_served().await;
}
