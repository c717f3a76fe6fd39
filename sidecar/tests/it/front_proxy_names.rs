//! The README's nginx, Caddy and haproxy set-ups for the sidecar answering SSO routes
//! only, run as written (certificate paths and ports aside) over TLS, with the login page on another
//! origin: the public name signs in end to end, and a request naming any other host is
//! refused by the proxy and never reaches the sidecar.

use crate::public_url::{KUSTOMER_ASKED, LOGIN_URL, PUBLIC_URL, sso_only_config};
use crate::support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use http_body_util::Empty;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use support::front::Front;
use support::*;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The README's nginx block, with `{listen}`, `{cert}`, `{key}` and `{sidecar}` where it
/// says `443`, its certificate paths and `127.0.0.1:8080`.
const NGINX: &str = "server {
    listen {listen} ssl default_server;
    ssl_reject_handshake on;
    return 444;
}
server {
    listen {listen} ssl;
    server_name app.acme.com;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location /sso/ {
        proxy_pass http://{sidecar};
        proxy_set_header Host app.acme.com;
        proxy_set_header X-Forwarded-Host app.acme.com;
        proxy_set_header X-Forwarded-Proto https;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
    # location / { ... }: the app, as before
}";

/// The README's Caddy block, with `{sidecar}` for `127.0.0.1:8080`, and what a test on
/// loopback adds: the port (`:{port}`), the listening address and the certificate files.
const CADDY: &str = "https://app.acme.com:{port} {
    bind 127.0.0.1
    tls {cert} {key}
    handle /sso/* {
        reverse_proxy {sidecar} {
            header_up Host app.acme.com
            header_up X-Forwarded-Host app.acme.com
        }
    }
    # handle { ... }: the app, as before
}";

/// The README's haproxy sections, with `{listen}` for `:443`, `{pem}` for its
/// certificate file and `{sidecar}` for `127.0.0.1:8080`.
const HAPROXY: &str = "frontend web
    bind {listen} ssl crt {pem}
    acl sso path_beg /sso/
    use_backend portal_sso if sso
backend portal_sso
    acl public_name hdr(host) -i app.acme.com
    http-request deny deny_status 421 unless public_name
    option forwardfor
    http-request set-header Host app.acme.com
    http-request set-header X-Forwarded-Host app.acme.com
    http-request set-header X-Forwarded-Proto https
    server sidecar {sidecar}";

const PUBLIC_NAME: &str = "app.acme.com";

#[test]
fn the_proxy_blocks_tested_are_the_readmes() {
    let readme = include_str!("../../../README.md");
    let nginx = NGINX
        .replace("{listen}", "443")
        .replace("{cert}", "/etc/ssl/app.acme.com.pem")
        .replace("{key}", "/etc/ssl/app.acme.com.key")
        .replace("{sidecar}", "127.0.0.1:8080");
    let caddy = CADDY
        .replace("https://app.acme.com:{port}", "app.acme.com")
        .replace("    bind 127.0.0.1\n    tls {cert} {key}\n", "")
        .replace("{sidecar}", "127.0.0.1:8080");
    let haproxy = HAPROXY
        .replace("{listen}", ":443")
        .replace("{pem}", "/etc/haproxy/app.acme.com.pem")
        .replace("{sidecar}", "127.0.0.1:8080");
    for block in [nginx, caddy, haproxy] {
        assert!(
            readme.contains(&format!("\n{block}\n")),
            "README.md differs from the block tested:\n{block}"
        );
    }
    assert!(readme.contains(&format!("public_url = \"{PUBLIC_URL}\"")));
}

/// A certificate for the public name, as PEM files in `dir` (certificate, key, and both
/// in one file), and a TLS client trusting it. It names the stray hosts too, so that a
/// handshake refused for one of them is the proxy's doing, not the client's.
fn certificate_for_public_name(dir: &TempDir) -> TlsConnector {
    let names = [PUBLIC_NAME, "evil.example", "127.0.0.1"].map(str::to_owned);
    let made = rcgen::generate_simple_self_signed(names).unwrap();
    let (cert, key) = (made.cert.pem(), made.signing_key.serialize_pem());
    dir.write("cert.pem", &cert);
    dir.write("key.pem", &key);
    dir.write("both.pem", &format!("{cert}{key}"));
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(made.cert.der().to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `addr` asking for `server_name` (an IP address sends no name).
async fn open(
    addr: SocketAddr,
    tls: &TlsConnector,
    server_name: &str,
) -> std::io::Result<SendRequest<Empty<Bytes>>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(server_name.to_owned()).unwrap();
    let stream = tls.connect(name, tcp).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    Ok(sender)
}

/// `GET path` on a new connection named `PUBLIC_NAME`, with `headers`.
async fn ask(
    addr: SocketAddr,
    tls: &TlsConnector,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(StatusCode, HeaderMap), hyper::Error> {
    let mut sender = open(addr, tls, PUBLIC_NAME).await.unwrap();
    let mut request = http::Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender
        .send_request(request.body(Empty::new()).unwrap())
        .await?;
    Ok((response.status(), response.headers().clone()))
}

/// The sidecar answering SSO routes only on `public_url`, and the certificate and key
/// for the public name in a temp dir, for `front` to be started with.
struct Behind {
    app: Upstream,
    sidecar: Sidecar,
    dir: TempDir,
    tls: TlsConnector,
}

impl Behind {
    async fn start() -> Self {
        let app = Upstream::start().await;
        let sidecar = Sidecar::start(&sso_only_config(
            &app,
            &format!("public_url = \"{PUBLIC_URL}\""),
        ));
        let dir = TempDir::new();
        let tls = certificate_for_public_name(&dir);
        Self {
            app,
            sidecar,
            dir,
            tls,
        }
    }

    /// `config` with the certificate, key and sidecar placeholders filled in.
    fn fill(&self, config: &str) -> String {
        config
            .replace("{cert}", &self.dir.0.join("cert.pem").display().to_string())
            .replace("{key}", &self.dir.0.join("key.pem").display().to_string())
            .replace("{pem}", &self.dir.0.join("both.pem").display().to_string())
            .replace("{sidecar}", &self.sidecar.addr.to_string())
    }

    /// The public name, end to end through `front`: signed out, sent to the login page on
    /// another origin with the full URL on `public_url` (a client's `X-Forwarded-Host`
    /// replaced), signed in there, back through `front` and on to the portal with a
    /// token.
    async fn sign_in_through(&self, front: &Front) {
        let (status, headers) = ask(
            front.addr,
            &self.tls,
            KUSTOMER_ASKED,
            &[("host", PUBLIC_NAME), ("x-forwarded-host", "evil.example")],
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::FOUND);
        let login = location(&headers);
        assert!(login.starts_with(&format!("{LOGIN_URL}?next=")), "{login}");
        let back = query_param(&login, "next").unwrap();
        assert_eq!(back, format!("{PUBLIC_URL}{KUSTOMER_ASKED}"));
        let (status, headers, _) = get(
            &format!("{}/login?as=alice&next={}", self.app.url(), escape(&back)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FOUND);
        assert_eq!(location(&headers), back);
        let session = headers[header::SET_COOKIE].to_str().unwrap();
        let session = session.split(';').next().unwrap().to_owned();
        let path = back.strip_prefix(PUBLIC_URL).unwrap();
        let (status, headers) = ask(
            front.addr,
            &self.tls,
            path,
            &[("host", PUBLIC_NAME), ("cookie", &session)],
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::FOUND);
        let portal = location(&headers);
        assert!(
            portal.starts_with("https://acme.kustomer.help/en_us/guide?externalToken="),
            "{portal}"
        );
        let token = query_param(&portal, "externalToken").unwrap();
        assert_eq!(
            decode(&token, KUSTOMER_SECRET)["email"],
            "alice@example.com"
        );
        assert_eq!(self.app.me_calls.load(Ordering::SeqCst), 1);
    }

    /// Requests naming another host than the public one on a connection made for it: each
    /// refused as `refused` says (given the answer), and none reaching the sidecar, which
    /// would ask the app about the session cookie each carries.
    async fn strays_refused_by(
        &self,
        front: &Front,
        refused: impl Fn(&Result<(StatusCode, HeaderMap), hyper::Error>) -> bool,
    ) {
        let introspected = self.app.me_calls.load(Ordering::SeqCst);
        for (index, host) in ["evil.example", "app.acme.com.evil.example", "127.0.0.1"]
            .into_iter()
            .enumerate()
        {
            let cookie = format!("sid=stray-{index}");
            let answer = ask(
                front.addr,
                &self.tls,
                KUSTOMER_ASKED,
                &[
                    ("host", host),
                    ("x-forwarded-host", PUBLIC_NAME),
                    ("cookie", &cookie),
                ],
            )
            .await;
            assert!(refused(&answer), "{host}: {answer:?}");
        }
        assert_eq!(
            self.app.me_calls.load(Ordering::SeqCst),
            introspected,
            "a stray request reached the sidecar"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx; CI runs it with --ignored"]
async fn nginx_passes_the_public_name_only_and_refuses_a_stray_host() {
    let behind = Behind::start().await;
    let front = Front::nginx(&behind.fill(NGINX));
    behind.sign_in_through(&front).await;
    // nginx's 444: the connection is closed without an answer.
    behind.strays_refused_by(&front, Result::is_err).await;
    // Another name, or none, asked for in the TLS handshake: refused there.
    for name in ["evil.example", "127.0.0.1"] {
        assert!(open(front.addr, &behind.tls, name).await.is_err(), "{name}");
    }
    assert!(open(front.addr, &behind.tls, PUBLIC_NAME).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs haproxy; CI runs it with --ignored"]
async fn haproxy_passes_the_public_name_only_and_answers_a_stray_host_421() {
    let behind = Behind::start().await;
    let front = Front::haproxy(&behind.fill(HAPROXY));
    behind.sign_in_through(&front).await;
    behind
        .strays_refused_by(&front, |answer| {
            matches!(answer, Ok((status, _)) if *status == StatusCode::MISDIRECTED_REQUEST)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs caddy; CI runs it with --ignored"]
async fn caddy_passes_the_public_name_only_and_answers_a_stray_host_itself() {
    let behind = Behind::start().await;
    let front = Front::caddy(&behind.fill(CADDY));
    behind.sign_in_through(&front).await;
    // A name no site serves matches no route: Caddy's own empty answer.
    behind
        .strays_refused_by(&front, |answer| {
            matches!(answer, Ok((status, headers))
                if *status == StatusCode::OK && !headers.contains_key(header::LOCATION))
        })
        .await;
}

/// `value` escaped as a query component.
fn escape(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
