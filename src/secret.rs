//! [`Secret`]: key material that never prints.

use std::fmt;
use std::sync::Arc;

/// The shortest secret accepted without
/// [`SsoLayerBuilder::allow_short_secrets`](crate::SsoLayerBuilder::allow_short_secrets):
/// 32 bytes, the output size of SHA-256, as RFC 7518 section 3.2 asks for HS256 keys.
pub const MIN_SECRET_LEN: usize = 32;

/// Key material: a portal's signing secret or the app's session key.
///
/// Cloning is cheap (the bytes are shared). `Debug` prints `Secret(REDACTED)` and there is
/// no `Display`, so a secret cannot reach a log line or an error message by accident.
///
/// ```
/// use portal_sso::Secret;
///
/// let secret = Secret::new("a-knowledge-base-secret-of-32-bytes!");
/// assert_eq!(format!("{secret:?}"), "Secret(REDACTED)");
/// assert_eq!(secret.len(), 36);
/// ```
#[derive(Clone)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    /// Wraps the secret's bytes.
    pub fn new(bytes: impl AsRef<[u8]>) -> Self {
        Self(Arc::from(bytes.as_ref()))
    }

    /// The number of bytes in the secret.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret's bytes, for handing to a signing or verifying key.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<Vec<u8>> for Secret {
    fn from(value: Vec<u8>) -> Self {
        Self::new(value)
    }
}
