//! Upgraded connections: which protocol switches are passed to the app, and the tunnel
//! that copies bytes both ways once both sides have switched.

use http::header::{self, HeaderMap, HeaderValue};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::proxy::connection_options;

/// A browser's request to switch protocols, taken from its request.
pub struct Upgrade {
    /// The browser's side of the connection, once the response has switched it.
    pub client: OnUpgrade,
    /// What it asked for (`Upgrade: websocket`).
    pub protocol: HeaderValue,
}

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

/// Copies bytes both ways once both sides have switched protocols.
pub async fn run(client: OnUpgrade, upstream: OnUpgrade) {
    let (client, upstream) = match tokio::try_join!(client, upstream) {
        Ok(both) => both,
        Err(err) => {
            tracing::debug!(target: "portal_sso::proxy", %err, "upgrade failed");
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    if let Err(err) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        tracing::debug!(target: "portal_sso::proxy", %err, "upgraded connection ended");
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
}
