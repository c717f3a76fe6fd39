//! The sidecar without `upstream`, behind the app's own reverse proxy (real nginx and
//! Caddy) that sends it `/sso/` only: Kustomer and Aha! sign-ins walked through the proxy
//! like a browser, the return address on `public_url` whatever host the proxy passes on,
//! and a 404 for anything else sent to the sidecar.

use crate::support;

use http::{StatusCode, header};
use support::front::Front;
use support::*;

const KUSTOMER_ASKED: &str =
    "/sso/kustomer?kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Fen_us%2Fguide";
const AHA_ASKED: &str = "/sso/aha?state=s-42&return_to=%2Fideas%2FAPP-1";

/// The sidecar answering SSO routes only, trusting the loopback proxy, with the app's
/// login page at `login_url` and `top` added at the top level.
fn start_sidecar(app: &Upstream, login_url: &str, top: &str) -> Sidecar {
    let text = config("unused", &format!("{}/api/me", app.url()), top, "")
        .replace("upstream = \"unused\"\n", "")
        .replace(
            "admin_listen = \"127.0.0.1:0\"",
            "admin_listen = \"127.0.0.1:0\"\ntrusted_proxies = [\"127.0.0.1/32\"]",
        )
        .replace("url = \"/login\"", &format!("url = \"{login_url}\""));
    assert!(!text.contains("upstream ="), "{text}");
    Sidecar::start(&text)
}

/// nginx sending `/sso/` to the sidecar and everything else to the app, as a TLS
/// terminator would (`X-Forwarded-Proto: https`).
fn nginx(sidecar: &Sidecar, app: &Upstream) -> Front {
    Front::nginx(&format!(
        "server {{
            listen {{listen}};
            location /sso/ {{
                proxy_pass http://{sidecar};
                proxy_set_header Host $http_host;
                proxy_set_header X-Forwarded-Host $http_host;
                proxy_set_header X-Forwarded-Proto https;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            }}
            location / {{
                proxy_pass http://{app};
                proxy_set_header Host $http_host;
            }}
        }}",
        sidecar = sidecar.addr,
        app = app.addr,
    ))
}

/// Caddy doing the same, with the forwarding headers it sets itself.
fn caddy(sidecar: &Sidecar, app: &Upstream) -> Front {
    Front::caddy(&format!(
        "http://{{listen}} {{
            bind 127.0.0.1
            handle /sso/* {{
                reverse_proxy {sidecar}
            }}
            handle {{
                reverse_proxy {app}
            }}
        }}",
        sidecar = sidecar.addr,
        app = app.addr,
    ))
}

/// A signed-out browser asks `asked` through `front`, signs in on the app's login page
/// (through `front` too), comes back, and ends on the portal: its `Location`.
async fn sign_in_through(front: &Front, asked: &str) -> String {
    let (status, headers, _) = get(&front.url(asked), None).await;
    assert_eq!(status, StatusCode::FOUND, "{asked}");
    let login = location(&headers);
    assert!(login.starts_with("/login?next="), "{login}");
    assert_eq!(
        query_param(&format!("http://x{login}"), "next").as_deref(),
        Some(asked)
    );
    // The app's login page is the app's, reached through the same proxy.
    let (status, headers, _) = get(&front.url(&format!("{login}&as=alice")), None).await;
    assert_eq!(status, StatusCode::FOUND);
    let session = headers[header::SET_COOKIE].to_str().unwrap();
    let session = session.split(';').next().unwrap().to_owned();
    let back = location(&headers);
    assert_eq!(back, asked);
    let (status, headers, _) = get(&front.url(&back), Some(&session)).await;
    assert_eq!(status, StatusCode::FOUND);
    location(&headers)
}

async fn walk_kustomer_and_aha(front: &Front, sidecar: &Sidecar, app: &Upstream) {
    let portal = sign_in_through(front, KUSTOMER_ASKED).await;
    assert!(
        portal.starts_with("https://acme.kustomer.help/en_us/guide?externalToken="),
        "{portal}"
    );
    let token = query_param(&portal, "externalToken").unwrap();
    assert_eq!(
        decode(&token, KUSTOMER_SECRET)["email"],
        "alice@example.com"
    );

    let portal = sign_in_through(front, AHA_ASKED).await;
    assert!(
        portal.starts_with(
            "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456?jwt="
        ),
        "{portal}"
    );
    assert_eq!(query_param(&portal, "state").as_deref(), Some("s-42"));
    assert_eq!(
        query_param(&portal, "return_to").as_deref(),
        Some("/ideas/APP-1")
    );
    let claims = decode(&query_param(&portal, "jwt").unwrap(), AHA_SECRET);
    assert_eq!(claims["email"], "alice@example.com");

    // The proxy sends the rest to the app; the sidecar answers it with a 404 page.
    let (status, _, body) = get(&front.url("/echo"), None).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let (status, headers, body) = get(&sidecar.url("/echo"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(String::from_utf8_lossy(&body).contains("sign-in routes only"));
    // The sidecar asked the app directly who the session is, once (then cached).
    assert_eq!(app.me_calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx; CI runs it with --ignored"]
async fn kustomer_and_aha_sign_in_through_nginx() {
    let app = Upstream::start().await;
    let sidecar = start_sidecar(&app, "/login", "");
    let front = nginx(&sidecar, &app);
    walk_kustomer_and_aha(&front, &sidecar, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs caddy; CI runs it with --ignored"]
async fn kustomer_and_aha_sign_in_through_caddy() {
    let app = Upstream::start().await;
    let sidecar = start_sidecar(&app, "/login", "");
    let front = caddy(&sidecar, &app);
    walk_kustomer_and_aha(&front, &sidecar, &app).await;
}

/// A signed-out request for `asked` through `front` naming `host`: where the login page
/// is told to send the browser back.
async fn return_address_through(front: &Front, asked: &str, host: &str) -> String {
    let request = http::Request::get(front.url(asked))
        .header(header::HOST, host)
        .header("x-forwarded-host", host)
        .body(empty())
        .unwrap();
    let (status, headers, _) = send(request).await;
    assert_eq!(status, StatusCode::FOUND, "{asked}");
    let login = location(&headers);
    assert!(
        login.starts_with("https://accounts.example/login?next="),
        "{login}"
    );
    query_param(&login, "next").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx and caddy; CI runs it with --ignored"]
async fn a_login_page_on_another_origin_gets_the_full_url_on_public_url() {
    let app = Upstream::start().await;
    let sidecar = start_sidecar(
        &app,
        "https://accounts.example/login",
        "public_url = \"https://app.example\"",
    );
    // Even behind a proxy that passes on whatever Host the client sent (this nginx has no
    // server_name), the address is on public_url, and so it is behind Caddy, whose site
    // here answers its own address only.
    let nginx = nginx(&sidecar, &app);
    let caddy = caddy(&sidecar, &app);
    for (front, host) in [
        (&nginx, nginx.addr.to_string()),
        (&nginx, "evil.example".to_owned()),
        (&caddy, caddy.addr.to_string()),
    ] {
        for asked in [KUSTOMER_ASKED, AHA_ASKED] {
            assert_eq!(
                return_address_through(front, asked, &host).await,
                format!("https://app.example{asked}"),
                "{host}"
            );
        }
    }
}
