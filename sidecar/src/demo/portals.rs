//! The mock portals, each on a port of its own: a Kustomer portal (custom sign-on, and
//! the chat widget the app's pages load) and an Aha! knowledge base (JWT single sign-on
//! with single sign-out both ways). They know the
//! app only by the sidecar's address, as real portals would, and check every token they
//! get with the project's one token checker (`verify`), saying why when they refuse one.

mod aha;
mod chat;
mod kustomer;
mod session;
mod verify;

pub(crate) use aha::router as aha;
pub(crate) use chat::CHAT_SCRIPT_PATH;
pub(crate) use kustomer::router as kustomer;

/// The mock Kustomer portal's login page, where custom sign-on ends with the
/// `externalToken`.
pub(crate) const KUSTOMER_LOGIN_PATH: &str = "/login";
/// The mock Aha! knowledge base's JWT callback.
pub(crate) const AHA_CALLBACK_PATH: &str = "/auth/jwt/callback";
/// The mock Aha! knowledge base's logout, where the app's own logout is sent on to.
pub(crate) const AHA_PORTAL_LOGOUT_PATH: &str = "/portal_session/logout";
