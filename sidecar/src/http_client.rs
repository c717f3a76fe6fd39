//! The client for the sidecar's own requests: introspection's "who am I" calls,
//! `portal-sso kustomer-secret`'s call to Kustomer and `portal-sso healthcheck`. The proxy
//! keeps its own connections.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper_rustls::builderstates::WantsSchemes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A client for `http://` URLs, sending bodiless requests.
pub(crate) fn http(connect_timeout: Duration) -> Client<HttpConnector, Empty<Bytes>> {
    Client::builder(TokioExecutor::new()).build(tcp(connect_timeout))
}

/// A client for `https://` URLs (rustls, trusting the webpki roots) and `http://` ones,
/// sending requests with bodies of type `B` (`Empty` for bodiless ones). Fails only when
/// rustls cannot be set up.
pub(crate) fn https<B: SendBody>(
    connect_timeout: Duration,
) -> Result<Client<HttpsConnector<HttpConnector>, B>, rustls::Error> {
    let tls = HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())?;
    Ok(over(tls, connect_timeout))
}

/// A client for `https://` URLs verified with `tls`'s roots, and `http://` ones, sending
/// requests with bodies of type `B`.
pub(crate) fn with_tls<B: SendBody>(
    connect_timeout: Duration,
    tls: &rustls::ClientConfig,
) -> Client<HttpsConnector<HttpConnector>, B> {
    over(
        HttpsConnectorBuilder::new().with_tls_config(tls.clone()),
        connect_timeout,
    )
}

/// The client for both schemes over `tls`, HTTP/1.1.
fn over<B: SendBody>(
    tls: HttpsConnectorBuilder<WantsSchemes>,
    connect_timeout: Duration,
) -> Client<HttpsConnector<HttpConnector>, B> {
    let mut tcp = tcp(connect_timeout);
    // The TLS connector reads the scheme; the TCP one below it must let https through.
    tcp.enforce_http(false);
    let connector = tls.https_or_http().enable_http1().wrap_connector(tcp);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// A request body the clients can send.
pub(crate) trait SendBody:
    http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
    + Send
    + Unpin
    + 'static
{
}

impl<B> SendBody for B where
    B: http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + Unpin
        + 'static
{
}

fn tcp(connect_timeout: Duration) -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(connect_timeout));
    connector
}
