//! Upgraded connections: which protocol switches are passed to the app, and the tunnel
//! that copies bytes both ways once both sides have switched, holding its browser
//! connection's place in `server.max_connections` and closed when idle.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use portal_sso::SsoBody;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::headers::{connection_options, strip_hop_by_hop};
use super::{AppAddress, Proxy, ProxyBody, ProxyError, RequestBody, WithoutTrailers};

/// The protocol the browser asks to switch to (`Connection: upgrade` + `Upgrade: x`).
///
/// Not `h2c`: the sidecar speaks HTTP/1.1 to the app, so a request offering it goes on
/// as a plain request, its `Upgrade` and `HTTP2-Settings` removed as hop-by-hop.
pub fn requested(headers: &HeaderMap) -> Option<HeaderValue> {
    if !connection_options(headers).any(|token| token.eq_ignore_ascii_case("upgrade")) {
        return None;
    }
    let protocol = headers.get(header::UPGRADE)?;
    let offers_h2c = protocol.to_str().is_ok_and(|offered| {
        offered
            .split(',')
            .any(|p| p.trim().eq_ignore_ascii_case("h2c"))
    });
    (!offers_h2c).then(|| protocol.clone())
}

impl Proxy {
    /// The app's response to a request to switch to `protocol`, on a connection to the
    /// app of its own; when the app switches, the tunnel between the two runs on a task
    /// of its own.
    pub(super) async fn tunnel(
        self,
        mut request: Request<Incoming>,
        protocol: HeaderValue,
    ) -> Response<ProxyBody> {
        let Some(app) = &self.upstream.app else {
            return super::errors::not_found();
        };
        let started = std::time::Instant::now();
        let client_side = hyper::upgrade::on(&mut request);
        super::headers::prepare(&mut request, &self.peer(app), Some(&protocol));
        let answer = self
            .switch(
                app,
                request.map(WithoutTrailers::new),
                client_side,
                protocol,
            )
            .await;
        self.answered(app, started, answer)
    }

    /// Sends the request to switch on a new connection to the app, and starts the tunnel
    /// when the app switches.
    async fn switch(
        &self,
        app: &AppAddress,
        request: Request<RequestBody>,
        client_side: OnUpgrade,
        protocol: HeaderValue,
    ) -> Result<Response<ProxyBody>, ProxyError> {
        let upstream = &self.upstream;
        // An upgraded connection to the app is the tunnel's for good: a new one.
        let mut sender = upstream.connect(app, true).await?;
        let mut response = tokio::time::timeout(
            upstream.settings.response_timeout,
            sender.send_request(request),
        )
        .await
        .map_err(|_| ProxyError::ResponseTimeout)?
        .map_err(|_| ProxyError::Upstream)?;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return self.app_response(response);
        }
        let app_side = hyper::upgrade::on(&mut response);
        tokio::spawn(run(
            client_side,
            app_side,
            Arc::clone(&self.connection.slot),
            upstream.tunnel_idle_timeout,
        ));
        let (mut parts, _) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let answered = parts.headers.get(header::UPGRADE).cloned();
        parts
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        parts
            .headers
            .insert(header::UPGRADE, answered.unwrap_or(protocol));
        Ok(Response::from_parts(parts, SsoBody::full(Bytes::new())))
    }
}

/// A browser connection's place in `server.max_connections`, shared by the connection
/// and a tunnel made from it: the place is free once both are over.
pub type Slot = Arc<OwnedSemaphorePermit>;

/// Copies bytes both ways once both sides have switched protocols, until either side
/// ends it or no byte has gone either way for `idle_timeout`. `slot` is held until then.
pub async fn run(client: OnUpgrade, upstream: OnUpgrade, slot: Slot, idle_timeout: Duration) {
    let (client, upstream) = match tokio::try_join!(client, upstream) {
        Ok(both) => both,
        Err(err) => {
            tracing::debug!(target: "portal_sso::proxy", %err, "upgrade failed");
            return;
        }
    };
    copy_until_idle(TokioIo::new(client), TokioIo::new(upstream), idle_timeout).await;
    drop(slot);
}

/// Copies bytes between `a` and `b` until either side ends it or no byte has gone either
/// way for `idle_timeout`: `copy_bidirectional`, raced against a timer moved on to the
/// last read plus the timeout whenever it fires early.
async fn copy_until_idle<A, B>(a: A, b: B, idle_timeout: Duration)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let activity = Arc::new(Activity::new());
    let mut a = Noting::new(a, &activity);
    let mut b = Noting::new(b, &activity);
    let copying = tokio::io::copy_bidirectional(&mut a, &mut b);
    tokio::pin!(copying);
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    loop {
        tokio::select! {
            ended = &mut copying => {
                if let Err(err) = ended {
                    tracing::debug!(target: "portal_sso::proxy", %err, "upgraded connection ended");
                }
                return;
            }
            () = &mut idle => {
                let deadline = activity.last() + idle_timeout;
                if deadline <= Instant::now() {
                    tracing::debug!(target: "portal_sso::proxy", "upgraded connection idle: closed");
                    return;
                }
                idle.as_mut().reset(deadline);
            }
        }
    }
}

/// When a tunnel last read a byte from either side.
struct Activity {
    opened: Instant,
    /// Milliseconds from `opened`.
    last_read: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            last_read: AtomicU64::new(0),
        }
    }

    fn note(&self) {
        let millis = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_read.store(millis, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_read.load(Ordering::Relaxed))
    }
}

/// One side of a tunnel, noting in its [`Activity`] each read that brings bytes.
struct Noting<T> {
    io: T,
    activity: Arc<Activity>,
}

impl<T> Noting<T> {
    fn new(io: T, activity: &Arc<Activity>) -> Self {
        Self {
            io,
            activity: Arc::clone(activity),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Noting<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.note();
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Noting<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(connection: &str, upgrade: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, connection.parse().unwrap());
        headers.insert(header::UPGRADE, upgrade.parse().unwrap());
        headers
    }

    #[test]
    fn a_websocket_upgrade_is_passed_and_h2c_is_not() {
        assert_eq!(
            requested(&headers("Upgrade", "websocket")).unwrap(),
            "websocket"
        );
        assert_eq!(requested(&headers("keep-alive", "websocket")), None);
        assert_eq!(requested(&headers("Upgrade, HTTP2-Settings", "h2c")), None);
        assert_eq!(requested(&headers("upgrade", "H2C, websocket")), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_tunnel_ends_after_the_idle_timeout_counted_from_the_last_byte() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let (mut browser, client) = tokio::io::duplex(64);
        let (mut app, upstream) = tokio::io::duplex(64);
        let started = Instant::now();
        let tunnel = tokio::spawn(copy_until_idle(client, upstream, Duration::from_secs(10)));

        // A byte each way at 8 s and 16 s: each moves the end on.
        for at in [8, 16] {
            tokio::time::sleep_until(started + Duration::from_secs(at)).await;
            browser.write_all(b"x").await.unwrap();
            let mut byte = [0u8; 1];
            app.read_exact(&mut byte).await.unwrap();
            app.write_all(b"y").await.unwrap();
            browser.read_exact(&mut byte).await.unwrap();
        }
        tunnel.await.unwrap();
        assert_eq!(started.elapsed().as_secs(), 26);
        let mut rest = Vec::new();
        assert_eq!(browser.read_to_end(&mut rest).await.unwrap(), 0, "closed");
    }
}
