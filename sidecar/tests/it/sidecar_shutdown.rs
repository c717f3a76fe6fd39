//! The sidecar binary on SIGTERM: requests in flight and open WebSocket tunnels finish
//! within the grace period, idle kept-alive connections are closed at once, and the
//! process exits 0.

use crate::support;

use std::time::{Duration, Instant};

use http::StatusCode;
use support::stack::{setup, setup_with};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The sidecar's exit status, once it has exited (within 10 s).
async fn exit_status(mut sidecar: Sidecar) -> std::process::ExitStatus {
    tokio::task::spawn_blocking(move || sidecar.wait(Duration::from_secs(10)))
        .await
        .unwrap()
}

/// On SIGTERM an open WebSocket is drained like a request: it keeps working within the
/// grace period, and the process exits (0) once it has closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_open_websocket_finish_then_exits_0() {
    let (_upstream, sidecar) = setup_with("", "shutdown_grace_secs = 20").await;
    let (head, mut stream) = open_websocket(&sidecar).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    echo_through(&mut stream, b"before").await;
    sidecar.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    echo_through(&mut stream, b"while draining").await;
    let closed = Instant::now();
    drop(stream);
    assert_eq!(exit_status(sidecar).await.code(), Some(0));
    // Well before the 20 s grace period: it was waiting for the tunnel, not the clock.
    assert!(
        closed.elapsed() < Duration::from_secs(5),
        "{:?}",
        closed.elapsed()
    );
}

/// On SIGTERM a kept-alive connection with no request in flight is closed at once: the
/// process exits without waiting out the grace period for browsers to hang up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_idle_kept_alive_connections_and_exits_0() {
    let (_upstream, sidecar) = setup_with("", "shutdown_grace_secs = 20").await;
    let mut streams = Vec::new();
    for _ in 0..4 {
        let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
        stream
            .write_all(b"GET /echo HTTP/1.1\r\nHost: app.example\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
        streams.push(stream);
    }
    let stopped = Instant::now();
    sidecar.terminate();
    for stream in &mut streams {
        let mut buf = [0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "still open after SIGTERM: {read:?}"
        );
    }
    assert_eq!(exit_status(sidecar).await.code(), Some(0));
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "{:?}: waited for the grace period",
        stopped.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let (_upstream, sidecar) = setup().await;
    let url = sidecar.url("/slow?ms=1500");
    let in_flight = tokio::spawn(async move { get(&url, None).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    sidecar.terminate();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _, _) = get(&sidecar.admin_url("/readyz"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"slow done");
    assert_eq!(exit_status(sidecar).await.code(), Some(0));
}
