//! The sidecar's own HTTP client, as `openidconnect` calls it: any async function from
//! `http::Request<Vec<u8>>` to `http::Response<Vec<u8>>`. Redirects are not followed, an
//! answer is read up to 1 MiB, and each request has a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::http_client;

/// The largest answer read from the IdP (a discovery document, a key set, a token).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// How long opening a connection to the IdP may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a whole request to the IdP may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for one provider's endpoints.
#[derive(Clone)]
pub(crate) struct IdpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl IdpClient {
    /// A client verifying `https://` endpoints with `tls`, or the webpki roots.
    pub(crate) fn new(tls: Option<&rustls::ClientConfig>) -> Self {
        let client = match tls {
            Some(tls) => http_client::with_tls(CONNECT_TIMEOUT, tls),
            None => {
                http_client::https(CONNECT_TIMEOUT).expect("ring supports the default TLS versions")
            }
        };
        Self { client }
    }

    /// Sends `request` and reads the whole answer, whatever its status (`openidconnect`
    /// reads error answers too); a redirect is returned as it is, never followed.
    pub(crate) async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, IdpError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let response = self.client.request(request).await.map_err(|err| {
                IdpError(if err.is_connect() {
                    "the connection was refused or failed".to_owned()
                } else {
                    "the answer was cut".to_owned()
                })
            })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|_| IdpError("the answer was cut or larger than 1 MiB".to_owned()))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body.to_vec()))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(IdpError(format!(
                    "no answer within {} s",
                    REQUEST_TIMEOUT.as_secs()
                )))
            })
    }
}

/// A request's answer, boxed and owning all it needs: `openidconnect`'s futures hold it
/// across awaits, and a connection's future must stay `Send`.
pub(crate) type Answer =
    Pin<Box<dyn Future<Output = Result<http::Response<Vec<u8>>, IdpError>> + Send + 'static>>;

impl IdpClient {
    /// The client as `openidconnect` calls it.
    pub(crate) fn caller(&self) -> impl Fn(http::Request<Vec<u8>>) -> Answer + Send + Sync + use<> {
        let client = self.clone();
        move |request| {
            let client = client.clone();
            Box::pin(async move { client.send(request).await })
        }
    }
}

/// Why a request to the IdP failed, in words fit for a page and a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdpError(pub(crate) String);

impl fmt::Display for IdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IdpError {}
