#![doc = include_str!("../README.md")]

mod body;
mod error;
pub mod events;
mod flow;
mod future;
mod identity;
mod layer;
mod portal;
mod query;
pub mod redirect;
mod response;
mod secret;
mod service;
mod token;

#[cfg(feature = "sidecar")]
pub mod sidecar;

pub use body::SsoBody;
pub use error::ConfigError;
pub use events::{EventKind, EventObserver, SsoEvent};
pub use future::ResponseFuture;
pub use identity::{
    ClaimPointers, Identity, IdentityError, IdentityErrorKind, IdentityResolver, JwtCookie,
    SignedCookie, SignedCookieMode, find_cookie,
};
pub use layer::{DEFAULT_MAX_COOKIE_BYTES, SessionCookie, SsoLayer, SsoLayerBuilder};
pub use portal::{AhaPortal, KustomerPortal, Portal};
pub use redirect::{RedirectOrigins, RedirectRejection};
pub use secret::{MIN_SECRET_LEN, Secret};
pub use service::Sso;
