//! HTTPS on `listen` and to an `https://` app, through the real binary, with
//! certificates made by the test: the certificate served, its replacement on SIGHUP with
//! a request in flight, the scheme the app is told, a TLS 1.2 client, and a bad key or an
//! app the configured CA does not vouch for.

use crate::support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use support::*;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A self-signed certificate for `localhost`, as PEM files and as DER.
struct Certificate {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

impl Certificate {
    fn new() -> Self {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        Self {
            cert_pem: made.cert.pem(),
            key_pem: made.signing_key.serialize_pem(),
            der: made.cert.der().clone(),
        }
    }

    fn write_to(&self, dir: &TempDir) {
        dir.write("cert.pem", &self.cert_pem);
        dir.write("key.pem", &self.key_pem);
    }
}

/// The usual config served over HTTPS with the files in `dir`.
fn tls_config(app: &Upstream, dir: &TempDir, login_url: &str) -> String {
    let config = config(
        &app.url(),
        &format!("{}/api/me", app.url()),
        "public_url = \"https://app.example\"",
        "",
    )
    .replace("url = \"/login\"", &format!("url = \"{login_url}\""));
    format!(
        "{config}\n[tls]\ncert = {{ file = \"{}\" }}\nkey = {{ file = \"{}\" }}\n",
        dir.0.join("cert.pem").display(),
        dir.0.join("key.pem").display()
    )
}

/// A client that trusts `roots` only and speaks `versions` of TLS.
fn connector(
    roots: &[&CertificateDer<'static>],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> TlsConnector {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add((*root).clone()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// One HTTPS connection to `addr`: the certificate it was served and a request sender.
async fn open(
    addr: SocketAddr,
    connector: &TlsConnector,
) -> (
    CertificateDer<'static>,
    hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let stream = connector.connect(name, tcp).await.unwrap();
    let served = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    (served, sender)
}

async fn ask(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    path: &str,
) -> (StatusCode, http::HeaderMap, Bytes) {
    let request = http::Request::get(path)
        .header(header::HOST, "localhost")
        .body(Empty::new())
        .unwrap();
    sender.ready().await.unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_served_and_a_new_certificate_on_sighup_keeps_requests_in_flight() {
    let app = Upstream::start().await;
    let dir = TempDir::new();
    let first = Certificate::new();
    first.write_to(&dir);
    let sidecar = Sidecar::start(&tls_config(&app, &dir, "/login"));
    let second = Certificate::new();
    let connector = connector(&[&first.der, &second.der], rustls::DEFAULT_VERSIONS);

    let (served, mut sender) = open(sidecar.addr, &connector).await;
    assert_eq!(served, first.der);
    let (status, _, body) = ask(&mut sender, "/echo").await;
    assert_eq!(status, StatusCode::OK);
    let echoed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echoed["headers"]["x-forwarded-proto"][0], "https");

    // A request in flight while the files are replaced and the sidecar reloads.
    let (_, mut in_flight) = open(sidecar.addr, &connector).await;
    let slow = tokio::spawn(async move { ask(&mut in_flight, "/slow?ms=1500").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    second.write_to(&dir);
    sidecar.signal("HUP");
    sidecar.log_once_it_has("config reloaded", Duration::from_secs(10));

    let (served, mut sender) = open(sidecar.addr, &connector).await;
    assert_eq!(
        served, second.der,
        "new connections get the new certificate"
    );
    assert_eq!(ask(&mut sender, "/echo").await.0, StatusCode::OK);
    let (status, _, body) = slow.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"slow done");
    // No part of a private key is logged.
    let log = sidecar.log();
    for key in [&first.key_pem, &second.key_pem] {
        assert!(!log.contains(&key[40..80]), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls12_client_is_served() {
    let app = Upstream::start().await;
    let dir = TempDir::new();
    let certificate = Certificate::new();
    certificate.write_to(&dir);
    let sidecar = Sidecar::start(&tls_config(&app, &dir, "https://accounts.example/login"));
    // A client that speaks TLS 1.2 only is served too.
    let tls12 = connector(&[&certificate.der], &[&rustls::version::TLS12]);
    let (_, mut sender) = open(sidecar.addr, &tls12).await;
    let (status, headers, _) = ask(&mut sender, "/sso/kustomer").await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        query_param(&location(&headers), "next").unwrap(),
        "https://app.example/sso/kustomer"
    );
}

#[test]
fn a_key_that_is_not_pem_is_named() {
    let dir = TempDir::new();
    Certificate::new().write_to(&dir);
    dir.write("key.pem", "not a key");
    let path = dir.write(
        "portal-sso.toml",
        &tls_config_for_check(&dir, "http://127.0.0.1:9"),
    );
    let output = run_cli(
        &["check-config", "--config", path.to_str().unwrap()],
        &secret_env(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("tls.key: holds no PEM private key"),
        "{stderr}"
    );
}

/// A config for `check-config` only: no app needed.
fn tls_config_for_check(dir: &TempDir, upstream: &str) -> String {
    format!(
        "{}\n[tls]\ncert = {{ file = \"{}\" }}\nkey = {{ file = \"{}\" }}\n",
        config(upstream, "http://127.0.0.1:9/api/me", "", ""),
        dir.0.join("cert.pem").display(),
        dir.0.join("key.pem").display()
    )
}

/// The app behind TLS: a terminator on a port of its own passing bytes to `app`.
async fn app_over_tls(app: &Upstream, certificate: &Certificate) -> SocketAddr {
    let key = PrivateKeyDer::from_pem_slice(certificate.key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certificate.der.clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let plain = app.addr;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut app = TcpStream::connect(plain).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut app).await;
            });
        }
    });
    addr
}

/// The test app reached over TLS with a certificate of its own, whose CA is written in
/// `dir`.
struct TlsApp {
    app: Upstream,
    addr: SocketAddr,
    dir: TempDir,
    ca: PathBuf,
}

impl TlsApp {
    async fn start() -> Self {
        let app = Upstream::start().await;
        let certificate = Certificate::new();
        let addr = app_over_tls(&app, &certificate).await;
        let dir = TempDir::new();
        let ca = dir.write("app-ca.pem", &certificate.cert_pem);
        Self { app, addr, dir, ca }
    }

    /// A CA that did not sign the app's certificate.
    fn other_ca(&self) -> PathBuf {
        self.dir.write("other-ca.pem", &Certificate::new().cert_pem)
    }
}

/// `config` with `upstream_ca` set to the file `ca`.
fn trusting(config: &str, ca: &Path) -> String {
    config.replace(
        "admin_listen = \"127.0.0.1:0\"",
        &format!(
            "admin_listen = \"127.0.0.1:0\"\nupstream_ca = {{ file = \"{}\" }}",
            ca.display()
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_app_is_verified_with_the_configured_ca() {
    let tls = TlsApp::start().await;
    let app = &tls.app;
    let upstream = format!("https://localhost:{}", tls.addr.port());
    let with_ca = |ca: &Path| {
        trusting(
            &config(&upstream, &format!("{}/api/me", app.url()), "", ""),
            ca,
        )
    };

    let sidecar = Sidecar::start(&with_ca(&tls.ca));
    let (status, _, body) = get(&sidecar.url("/echo"), None).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let echoed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echoed["uri"], "/echo");

    // A CA that did not sign the app's certificate: the app is not trusted.
    let sidecar = Sidecar::start(&with_ca(&tls.other_ca()));
    let (status, _, _) = get(&sidecar.url("/echo"), None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    // Only the first sidecar's request reached the app.
    assert_eq!(app.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_session_endpoint_is_verified_with_the_configured_ca() {
    let tls = TlsApp::start().await;
    let app = &tls.app;
    let me = format!("https://localhost:{}/api/me", tls.addr.port());
    let with_ca = |ca: &Path| trusting(&config(&app.url(), &me, "", ""), ca);
    let alice = format!("sid={ALICE_SESSION}");

    let sidecar = Sidecar::start(&with_ca(&tls.ca));
    let (status, headers, _) = get(&sidecar.url("/sso/kustomer"), Some(&alice)).await;
    assert_eq!(status, StatusCode::FOUND);
    let token = query_param(&location(&headers), "externalToken").expect("a token");
    assert_eq!(
        decode(&token, KUSTOMER_SECRET)["email"],
        "alice@example.com"
    );

    // A CA that did not sign the endpoint's certificate: the session cannot be read.
    let sidecar = Sidecar::start(&with_ca(&tls.other_ca()));
    let (status, headers, _) = get(&sidecar.url("/sso/kustomer"), Some(&alice)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::LOCATION).is_none());
    assert_eq!(app.me_calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}
