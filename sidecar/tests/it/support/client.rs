//! The browser's side: an HTTP/1.1 client that does not follow redirects, request
//! bodies, a single kept-alive connection, a WebSocket through the sidecar, and reading
//! `Location` and query parameters.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::Sidecar;

pub type TestBody = BoxBody<Bytes, Infallible>;

/// A plain HTTP/1.1 client that does not follow redirects.
pub fn client() -> Client<HttpConnector, TestBody> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub fn empty() -> TestBody {
    Full::new(Bytes::new()).boxed()
}

pub fn full(data: impl Into<Bytes>) -> TestBody {
    Full::new(data.into()).boxed()
}

/// `data` as a stream of `chunk`-byte frames, with no length known in advance.
pub fn streamed(data: &[u8], chunk: usize) -> TestBody {
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = data
        .chunks(chunk)
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames)).boxed()
}

/// Sends a GET with optional `Cookie` and returns status, headers and body.
pub async fn get(url: &str, cookie: Option<&str>) -> (StatusCode, HeaderMap, Bytes) {
    let mut request = http::Request::get(url);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(request.body(empty()).unwrap()).await
}

pub async fn send(request: http::Request<TestBody>) -> (StatusCode, HeaderMap, Bytes) {
    let response = client().request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, body)
}

/// One HTTP/1.1 connection to `addr`, for what happens to the requests of a single
/// browser connection. `closed` finishes, with the time, when the connection closes.
pub struct OneConnection {
    sender: hyper::client::conn::http1::SendRequest<TestBody>,
    pub closed: tokio::task::JoinHandle<Instant>,
}

impl OneConnection {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        let closed = tokio::spawn(async move {
            let _ = connection.await;
            Instant::now()
        });
        Self { sender, closed }
    }

    /// `GET path` on this connection: the status and the whole body.
    pub async fn get(&mut self, path: &str) -> (StatusCode, Bytes) {
        let (status, _, body) = self.get_with_cookie(path, None).await;
        (status, body)
    }

    /// `GET path` on this connection with an optional `Cookie`: the status, the headers
    /// and the whole body.
    pub async fn get_with_cookie(
        &mut self,
        path: &str,
        cookie: Option<&str>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = http::Request::get(path).header(header::HOST, "app.example");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.sender.ready().await.unwrap();
        let response = self
            .sender
            .send_request(request.body(empty()).unwrap())
            .await
            .unwrap_or_else(|err| panic!("{path}: {err:?}"));
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (parts.status, parts.headers, body)
    }
}

/// A response read off the wire as curl prints it: status, headers (names lower-cased,
/// in order) and body.
pub struct RawReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawReply {
    /// The one value of header `name`, if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        let value = values.next().map(|(_, v)| v.as_str());
        assert!(values.next().is_none(), "{name} sent twice");
        value
    }
}

/// Sends `head` (the request line and header lines, without the blank line) to `addr`
/// as written, byte for byte, with `Connection: close` added, and reads the answer: what a
/// client that forges any header it likes (curl, a script) sends.
pub async fn raw(addr: SocketAddr, head: &str) -> RawReply {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{}\r\nConnection: close\r\n\r\n",
        head.trim_end().replace('\n', "\r\n")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the answer within 10 s")
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    RawReply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// The `Location` header.
pub fn location(headers: &HeaderMap) -> String {
    headers[header::LOCATION].to_str().unwrap().to_owned()
}

/// The value of query parameter `name` in `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Opens a WebSocket through the sidecar (the app's `/ws` is a byte echo): the response
/// head, lower-cased, and the stream after it.
pub async fn open_websocket(sidecar: &Sidecar) -> (String, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("the response head within 5 s")
            .unwrap();
        assert_eq!(read, 1, "closed during the head");
        head.push(byte[0]);
    }
    (
        String::from_utf8(head).unwrap().to_ascii_lowercase(),
        stream,
    )
}

/// Sends `message` down a tunnel and reads it back from the app's echo.
pub async fn echo_through(stream: &mut tokio::net::TcpStream, message: &[u8]) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    stream.write_all(message).await.unwrap();
    let mut echoed = vec![0u8; message.len()];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut echoed))
        .await
        .expect("echo within 5 s")
        .unwrap();
    assert_eq!(echoed, message);
}

/// Writes `request` to `addr` as it is (it asks to close the connection) and reads the
/// whole answer: the head, and the body after it.
pub async fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("an answer within 5 s")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.to_owned(), body.to_owned())
}
