//! "Every other request is [passed to the app], unchanged", over a real connection: a
//! plain hyper service (its responses wrapped in `SsoBody`) behind the layer, served with
//! hyper-util on 127.0.0.1 and called with a real client, with bodies of several
//! megabytes streamed both ways.

use crate::common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::*;
use http::header::{CONTENT_TYPE, COOKIE, HOST, LOCATION, SET_COOKIE, TRANSFER_ENCODING};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use portal_sso::SsoBody;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};

type InnerBody = BoxBody<Bytes, Infallible>;

/// Deterministic bytes: `chunks` chunks of `size` bytes, streamed one frame at a time with
/// no length announced, so HTTP/1.1 sends them chunked.
struct Pattern {
    next: usize,
    chunks: usize,
    size: usize,
}

impl Pattern {
    fn chunk(index: usize, size: usize) -> Bytes {
        (0..size)
            .map(|j| u8::try_from((index * 31 + j * 7) % 251).unwrap())
            .collect::<Vec<_>>()
            .into()
    }

    fn digest(chunks: usize, size: usize) -> String {
        let mut hasher = Sha256::new();
        for index in 0..chunks {
            hasher.update(Self::chunk(index, size));
        }
        hex(&hasher.finalize())
    }
}

impl HttpBody for Pattern {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.next == self.chunks {
            return Poll::Ready(None);
        }
        let chunk = Self::chunk(self.next, self.size);
        self.next += 1;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The plain hyper app: `/upload` hashes the streamed body, `/download?chunks=N` streams
/// N chunks of 64 KiB, anything else echoes method, URI and headers.
async fn plain_app(request: Request<Incoming>) -> Result<Response<InnerBody>, Infallible> {
    let (parts, mut body) = request.into_parts();
    let response = match parts.uri.path() {
        "/upload" => {
            let mut hasher = Sha256::new();
            let (mut length, mut frames) = (0usize, 0usize);
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.unwrap().into_data() {
                    length += data.len();
                    frames += 1;
                    hasher.update(&data);
                }
            }
            let answer = json!({
                "length": length,
                "frames": frames,
                "sha256": hex(&hasher.finalize()),
                "transfer_encoding": parts.headers.get(TRANSFER_ENCODING).map(|v| v.to_str().unwrap()),
            });
            Response::new(Full::new(Bytes::from(answer.to_string())).boxed())
        }
        "/download" => {
            let chunks = parts
                .uri
                .query()
                .and_then(|q| q.strip_prefix("chunks="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let mut response = Response::new(
                Pattern {
                    next: 0,
                    chunks,
                    size: 64 * 1024,
                }
                .boxed(),
            );
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            response
        }
        _ => {
            let headers: Vec<_> = parts
                .headers
                .iter()
                .map(|(n, v)| json!([n.as_str(), v.to_str().unwrap()]))
                .collect();
            let answer = json!({"method": parts.method.as_str(), "uri": parts.uri.to_string(), "headers": headers});
            let mut response = Response::new(Full::new(Bytes::from(answer.to_string())).boxed());
            *response.status_mut() = StatusCode::ACCEPTED;
            response
                .headers_mut()
                .insert("x-plain", HeaderValue::from_static("yes"));
            response
                .headers_mut()
                .append(SET_COOKIE, HeaderValue::from_static("a=1"));
            response
                .headers_mut()
                .append(SET_COOKIE, HeaderValue::from_static("b=2"));
            response
        }
    };
    Ok(response)
}

/// Serves the layered plain app on 127.0.0.1:0 until the test ends.
async fn serve() -> SocketAddr {
    // A boxed body cannot be made from the layer's text, so the app's responses are
    // wrapped in `SsoBody`, which can: the way to layer any such service.
    let service = tower::ServiceBuilder::new()
        .layer(layer())
        .map_response(|response: Response<InnerBody>| response.map(SsoBody::inner))
        .service_fn(plain_app);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn fetch<B>(addr: SocketAddr, request: Request<B>) -> Response<Incoming>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender.send_request(request).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_real_connection_requests_and_responses_are_unchanged() {
    let addr = serve().await;
    let request = Request::get("/reports?year=2024&q=caf%C3%A9")
        .header(HOST, addr.to_string())
        .header("x-trace", "t-9")
        .header("accept", "a/b")
        .header("accept", "c/d")
        .header(COOKIE, "sid=whatever")
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    let sent: Vec<_> = request
        .headers()
        .iter()
        .map(|(n, v)| json!([n.as_str(), v.to_str().unwrap()]))
        .collect();
    let response = fetch(addr, request).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers()["x-plain"], "yes");
    let cookies: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let seen: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["uri"], "/reports?year=2024&q=caf%C3%A9");
    assert_eq!(seen["headers"], Value::Array(sent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_request_body_of_several_megabytes_arrives_intact() {
    let addr = serve().await;
    let (chunks, size) = (64, 64 * 1024); // 4 MiB
    let request = Request::post("/upload")
        .header(HOST, addr.to_string())
        .body(Pattern {
            next: 0,
            chunks,
            size,
        })
        .unwrap();
    let response = fetch(addr, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let seen: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(seen["length"], chunks * size);
    assert_eq!(seen["sha256"], Pattern::digest(chunks, size));
    assert_eq!(seen["transfer_encoding"], "chunked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_chunked_response_of_several_megabytes_arrives_intact() {
    let addr = serve().await;
    let chunks = 96; // 6 MiB
    let request = Request::get(format!("/download?chunks={chunks}"))
        .header(HOST, addr.to_string())
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    let response = fetch(addr, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[TRANSFER_ENCODING], "chunked");
    assert_eq!(response.headers()[CONTENT_TYPE], "application/octet-stream");
    let mut body = response.into_body();
    let (mut hasher, mut length, mut frames) = (Sha256::new(), 0usize, 0usize);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            length += data.len();
            frames += 1;
            hasher.update(&data);
        }
    }
    assert_eq!(length, chunks * 64 * 1024);
    assert!(frames > 1, "streamed, not buffered into one frame");
    assert_eq!(hex(&hasher.finalize()), Pattern::digest(chunks, 64 * 1024));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_real_connection_the_sso_routes_are_answered_by_the_layer() {
    let addr = serve().await;
    let request = Request::get(
        "/sso/kustomer?trackingToken=t&kustomerRedirectUri=https://acme.kustomer.help/login",
    )
    .header(HOST, addr.to_string())
    .header(COOKIE, format!("sid={ALICE_SID}"))
    .body(http_body_util::Empty::<Bytes>::new())
    .unwrap();
    let response = fetch(addr, request).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(response.headers().get("x-plain").is_none());
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let token = token_in(&location, "externalToken");
    assert_eq!(
        verify(&token, KUSTOMER_SECRET).unwrap()["email"],
        "alice@example.com"
    );
    // A POST body sent to an SSO route is not read by the app.
    let request = Request::post("/sso/aha")
        .header(HOST, addr.to_string())
        .body(Full::new(Bytes::from_static(b"ignored")))
        .unwrap();
    assert_eq!(
        fetch(addr, request).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}
