//! The sidecar binary against slow or hostile browsers: one that stops reading is closed
//! at the send timeout, a slowloris head at the header timeout, which runs only between
//! requests.

use crate::support;

use std::time::{Duration, Instant};

use http::StatusCode;
use support::stack::setup_with;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A browser that asks for a large response and reads none of it (a slow-read attack)
/// has its connection closed once its socket has been full for the send timeout: the
/// response ends short instead of holding the connection for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_stops_reading_is_closed_at_the_send_timeout() {
    const SIZE: usize = 48 * 1024 * 1024;
    let (_upstream, sidecar) = setup_with("", "send_timeout_secs = 1").await;
    let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
    stream
        .write_all(
            format!("GET /download?size={SIZE} HTTP/1.1\r\nHost: app.example\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    // Read nothing while the kernel's buffers fill and the timeout runs out.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut received = 0;
    let mut buf = vec![0u8; 256 * 1024];
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received += n,
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the connection was still open after 20 s");
    assert!(
        received < SIZE,
        "{received} bytes: the whole response arrived, the connection was not cut"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_connection_is_closed_at_the_header_timeout() {
    let (_upstream, sidecar) = setup_with("", "header_read_timeout_secs = 2").await;
    let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
    let head = b"GET /echo HTTP/1.1\r\nHost: app.example\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut closed_after = None;
    for byte in head {
        if stream.write_all(&[*byte]).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 256];
        // Still open means a timeout or some bytes (an error response such as 408 may
        // come before the close).
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await
        {
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("the connection was never closed");
    eprintln!("slowloris connection closed after {closed_after:?}");
    // Closed at the timeout, long before the whole head (about 80 bytes, one a second)
    // was sent.
    assert!(
        closed_after >= Duration::from_millis(1800),
        "{closed_after:?}"
    );
    assert!(closed_after < Duration::from_secs(4), "{closed_after:?}");
}

/// The header read timeout counts only while the connection waits for a request head:
/// from the end of one response to the next head. A slow answer from the app, or a
/// response body that streams for longer than the timeout, is not cut short, and a
/// kept-alive connection left idle is closed once the timeout has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_timeout_runs_only_between_requests() {
    let (_upstream, sidecar) = setup_with("", "header_read_timeout_secs = 1").await;
    let mut connection = OneConnection::open(sidecar.addr).await;

    // The app takes 1.5 s to answer: longer than the header timeout.
    let started = Instant::now();
    let (status, body) = connection.get("/slow?ms=1500").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"slow done");
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // A body streaming for about 1.5 s on the same connection.
    let started = Instant::now();
    let (status, body) = connection.get("/chunked?gap_ms=500").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"part0;part1;part2;");
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // Within the timeout, the connection still takes a request.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, _) = connection.get("/echo").await;
    assert_eq!(status, StatusCode::OK);
    let answered = Instant::now();
    assert!(
        !connection.closed.is_finished(),
        "closed while a request was expected"
    );

    // Then nothing: the sidecar closes the connection after about a second.
    let closed_at = tokio::time::timeout(Duration::from_secs(10), connection.closed)
        .await
        .expect("the idle connection was never closed")
        .unwrap();
    let idle = closed_at.duration_since(answered);
    eprintln!("idle connection closed after {idle:?}");
    assert!(idle >= Duration::from_millis(800), "{idle:?}");
    assert!(idle < Duration::from_secs(3), "{idle:?}");
}
