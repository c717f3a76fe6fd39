//! The test app with a sidecar in front of it, as the `sidecar_*` test files start them,
//! and the cookies of alice's browser.

use super::{ALICE_SESSION, Sidecar, Upstream, config};

/// A Kustomer login as the portal sends it, with a `trackingToken` and a
/// `kustomerRedirectUri` whose own query is escaped.
pub const KUSTOMER_LOGIN: &str = "/sso/kustomer?trackingToken=eyJhbGciOiJub25lIn0.eyJ0cmFjayI6MX0.&kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen_us";

/// The app and a sidecar in front of it, with the config as `config` writes it.
pub async fn setup() -> (Upstream, Sidecar) {
    setup_with("", "").await
}

/// The app and a sidecar in front of it, with `top` and `server` lines added to the
/// config's top level and `[server]` table.
pub async fn setup_with(top: &str, server: &str) -> (Upstream, Sidecar) {
    let upstream = Upstream::start().await;
    let me = format!("{}/api/me", upstream.url());
    let sidecar = Sidecar::start(&config(&upstream.url(), &me, top, server));
    (upstream, sidecar)
}

/// The `Cookie` header of alice's browser: the app's session beside a cookie of its own.
pub fn alice() -> String {
    format!("theme=dark; sid={ALICE_SESSION}")
}
