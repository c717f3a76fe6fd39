//! Single sign-on from your web app into hosted help centers, knowledge bases, docs sites
//! and feedback boards, as a tower [`Layer`](tower_layer::Layer) around any hyper or axum
//! service.
//!
//! A portal sends the browser to a login URL on your side. [`SsoLayer`] answers that
//! route itself: it asks your app who is signed in (an [`IdentityResolver`]: a closure
//! over the request's headers, [`JwtCookie`], [`SignedCookie`], or your own type), signs
//! the short-lived JWT the vendor expects with the vendor's secret, and sends the browser
//! back to the portal. A signed-out browser goes to your login page with a parameter that
//! brings it back. Every other request passes to your service untouched, at the cost of a
//! path comparison: no allocation, no header parsing.
//!
//! ```
//! use axum::{Router, routing::get};
//! use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sso = SsoLayer::builder()
//!     // Who is signed in? Read your app's session however you already do.
//!     .with_identity(|parts: &http::request::Parts| {
//!         let sid = portal_sso::find_cookie(&parts.headers, "sid").map(str::to_owned);
//!         async move {
//!             Ok(match sid.as_deref() {
//!                 Some("alice-session") => Some(Identity::new("alice@example.com")?),
//!                 _ => None, // signed out: sent to /login?next=...
//!             })
//!         }
//!     })
//!     .with_portal(
//!         JwtPortal::kustomer(Secret::new("the-kustomer-knowledge-base-secret"))
//!             .with_redirect_origins(["https://acme.kustomer.help"]),
//!     )
//!     .build()?;
//!
//! let app = Router::new().route("/", get(|| async { "home" })).layer(sso);
//!
//! let response = app
//!     .oneshot(
//!         http::Request::get("/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login")
//!             .header("cookie", "sid=alice-session")
//!             .body(axum::body::Body::empty())?,
//!     )
//!     .await?;
//! assert_eq!(response.status(), 302);
//! let location = response.headers()["location"].to_str()?;
//! assert!(location.starts_with("https://acme.kustomer.help/login?externalToken=ey"));
//! # Ok(())
//! # }
//! ```
//!
//! # Where to apply it
//!
//! Outside your routes and inside anything that must see every request (tracing,
//! compression), so the SSO routes are answered before your router's fallback and your
//! session cookie is readable. The layer answers with the inner service's own response
//! type: its pages need `ResBody: From<String>` (axum's `Body`, `Full<Bytes>`, `String`);
//! a service with another body wraps its responses in [`SsoBody::inner`].
//!
//! # Portals
//!
//! Every portal is one [`JwtPortal`]: its algorithm and key, its claims ([`Claim`]), where
//! the browser goes (a fixed callback, a request-supplied target checked against the
//! configured origins, or a same-site path), how the token travels ([`TokenIn`]) and which
//! request parameters come back ([`PassParam`]). Each vendor is a [`Preset`] of it, one
//! constructor each, as the vendor documents: `JwtPortal::kustomer` (custom sign-on:
//! `externalToken` added to `kustomerRedirectUri`), `JwtPortal::aha` (`jwt` on the
//! callback, with `state`, `return_to` and remote logout), `zendesk`, `gitbook`, `canny`,
//! `helpscout`, `frill`, `readme`, `mintlify`, `helpjuice`, `helpdocs` and `freshworks`;
//! [`Preset::named`] finds one by its kind name, for tools and config files. [`token`]
//! signs with a portal's key, for tools and tests.
//!
//! # In-app widgets
//!
//! The same vendors' chat and feedback widgets run inside your own pages and are told who
//! the user is with a value signed on the server. A [`Widget`]
//! ([`SsoLayerBuilder::with_widget`]) gets a route (`/sso/widget/<kind>`) that answers
//! your page's `fetch` with JSON: a JWT and when it expires (`kustomer_chat`,
//! `zendesk_messaging`, `intercom`, `canny`), or a hex HMAC-SHA256 and the value it signs
//! (`helpscout_beacon`, `front_chat`, `intercom_hmac`, `crisp`); signed out, a 401. Only
//! your own pages may read it: a cross-site request gets a 403 and nothing is signed.
//! [`WidgetSigner`] signs the same value for a page rendered on the server;
//! [`WidgetPreset::named`] finds a widget by its kind name.
//!
//! # Security
//!
//! - A token goes only to an origin the configuration names ([`RedirectOrigins`]):
//!   exact scheme, host and port, wildcards only where written, and anything a browser
//!   and a parser could read differently refused outright.
//! - A token is signed only for the user your app says is signed in: cookies are read
//!   pair by pair on bytes, and a session cookie sent twice naming different users is
//!   signed out, not guessed.
//! - A return address already carrying a parameter the layer adds, in any spelling a
//!   common parser reads, is refused; `return_to` is passed only as a plain same-site
//!   path ([`is_same_site_path`]).
//! - Identity fields carry no control or invisible characters; secrets shorter than 32
//!   bytes are refused; secrets, tokens and cookies never reach logs, events, pages or
//!   `Debug`; token responses are `no-store` and `no-referrer`.
//! - A session the layer cannot read ends on an explanation after a few trips to the
//!   login page, never an endless redirect loop; a failing identity source is a 503.
//!
//! Every decision is one [`SsoEvent`] (a `tracing` event and a call to each
//! [`EventObserver`]), so "why did this sign-in fail" is answered from the log.
//!
//! For apps in other languages, the `portal-sso` sidecar (the `portal-sso-sidecar` crate
//! of this repository) runs this layer in a reverse proxy in front of the app.

mod body;
mod config;
mod error;
pub mod events;
mod future;
mod handler;
mod identity;
mod layer;
pub mod origins;
pub mod page;
mod portal;
mod query;
mod request_origin;
mod response;
mod same_origin;
mod secret;
mod service;
mod text;
pub mod token;
mod widget;

pub use body::SsoBody;
pub use config::SessionCookie;
pub use error::ConfigError;
pub use events::{EventKind, EventObserver, SsoEvent};
pub use future::{ResponseFuture, SsoAnswered};
pub use identity::{
    ClaimPointers, Identity, IdentityError, IdentityErrorKind, IdentityResolver, JwtCookie,
    SignedCookie, SignedCookieMode, find_cookie, find_cookies,
};
pub use layer::{DEFAULT_MAX_COOKIE_BYTES, SsoLayer, SsoLayerBuilder};
pub use origins::{RedirectOrigins, RedirectRejection};
pub use portal::is_same_site_path;
pub use portal::{
    CUSTOM_KIND, Claim, ClaimSource, DEFAULT_TOKEN_TTL_SECS, ECHO_CLAIMS, JwtPortal, PassParam,
    Preset, Setting, TimeRules, TimeUnit, TokenIn, WidgetPreset, WidgetSetting,
};
pub use query::append_query_param;
pub use request_origin::RequestOrigin;
pub use secret::{MIN_SECRET_LEN, Secret};
pub use service::Sso;
pub use token::JwtAlgorithm;
pub use widget::{
    DEFAULT_WIDGET_TTL_SECS, HMAC_KIND, Widget, WidgetFormat, WidgetSignError, WidgetSigner,
    WidgetValue,
};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
