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
mod text;
mod token;

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
pub use portal::{AhaPortal, KustomerPortal, Portal};
pub use redirect::{RedirectOrigins, RedirectRejection};
pub use secret::{MIN_SECRET_LEN, Secret};
pub use service::Sso;

/// Internals the benchmarks in `benches/` measure. Not part of the API: no stability
/// promise, may change in any release.
#[doc(hidden)]
pub mod __bench {
    use crate::identity::Identity;
    use crate::portal::{aha, kustomer};
    use crate::secret::Secret;

    /// The signer a portal builds from its secret.
    pub struct Signer(crate::token::Signer);

    impl Signer {
        /// The HS256 signer for `secret`, as the layer builds it.
        pub fn new(secret: &Secret) -> Self {
            Self(crate::token::Signer::hs256(secret))
        }

        /// The Kustomer token for `identity`, as `/sso/kustomer` signs it.
        ///
        /// # Panics
        /// If signing fails, which it does not for these claims.
        pub fn kustomer(&self, identity: &Identity, iat: u64) -> String {
            self.0
                .sign(&kustomer::Claims::new(identity, iat))
                .expect("Kustomer claims serialize")
        }

        /// The Aha! token for `identity` with the given `jti` (the flow draws a fresh one
        /// per response; see [`aha_fresh_jti`](Self::aha_fresh_jti)).
        ///
        /// # Panics
        /// If signing fails, which it does not for these claims.
        pub fn aha(&self, identity: &Identity, iat: u64, jti: &str) -> String {
            let claims = aha::Claims {
                iat,
                jti: jti.to_owned(),
                first_name: identity.first_name(),
                last_name: identity.last_name(),
                email: identity.email(),
            };
            self.0.sign(&claims).expect("Aha! claims serialize")
        }

        /// The Aha! token for `identity` with a fresh random `jti`, as `/sso/aha` signs it.
        ///
        /// # Panics
        /// If the operating system's random source fails.
        pub fn aha_fresh_jti(&self, identity: &Identity, iat: u64) -> String {
            let claims = aha::Claims::new(identity, iat).expect("random source");
            self.0.sign(&claims).expect("Aha! claims serialize")
        }
    }
}
