#![doc = include_str!("../README.md")]

mod body;
mod config;
mod error;
pub mod events;
mod future;
mod handler;
mod identity;
mod layer;
pub mod origins;
mod portal;
mod query;
mod response;
mod secret;
mod service;
mod text;
pub mod token;

#[cfg(feature = "sidecar")]
pub mod sidecar;

pub use body::SsoBody;
pub use error::ConfigError;
pub use events::{EventKind, EventObserver, SsoEvent};
pub use future::ResponseFuture;
pub use identity::{
    ClaimPointers, Identity, IdentityError, IdentityErrorKind, IdentityResolver, JwtCookie,
    SignedCookie, SignedCookieMode, find_cookie, find_cookies,
};
pub use layer::{DEFAULT_MAX_COOKIE_BYTES, SessionCookie, SsoLayer, SsoLayerBuilder};
pub use origins::{RedirectOrigins, RedirectRejection};
pub use portal::{
    AhaPortal, Claim, DEFAULT_TOKEN_TTL_SECS, JwtPortal, KustomerPortal, PassParam, Portal,
    TimeUnit, TokenIn,
};
pub use query::append_query_param;
pub use secret::{MIN_SECRET_LEN, Secret};
pub use service::Sso;
pub use token::JwtAlgorithm;
