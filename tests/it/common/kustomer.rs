//! The Kustomer login request as the vendor's article shows it, and signing in with it,
//! shared by the Kustomer test files.

use http::StatusCode;

use super::{ALICE_SID, Reply, Users, default_app, get_as, send, token_in};

/// The login URL as the vendor's article shows it: `kustomerRedirectUri` sent as is.
pub const RAW_REQUEST: &str = "/sso/kustomer?trackingToken=eyJhbGciOiJub25lIn0.eyJ0IjoxfQ.&kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen";
/// The redirect URI in that request, byte for byte.
pub const REDIRECT_URI: &str =
    "https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen";

/// Alice's sign-in at `uri` with the usual app: the redirect, which must be a 302, and
/// the `externalToken` it carries.
pub async fn issue(uri: &str) -> (Reply, String) {
    let users = Users::default();
    let reply = send(&default_app(&users), get_as(uri, ALICE_SID)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let token = token_in(reply.location(), "externalToken");
    (reply, token)
}
