//! The key of portal-sso's own cookies (the login-loop count, the remote-logout marker):
//! `cookie_key` when the file names one, which replicas share, else a key made at random
//! once per process and kept across reloads. It is never derived from a portal's secret:
//! the vendor holds that one, and could forge the cookies.

use std::fmt;
use std::sync::OnceLock;

use portal_sso::Secret;

use super::secret_ref::SecretRef;

/// Where the cookie key comes from.
#[derive(Clone)]
pub(crate) enum CookieKey {
    /// `cookie_key` in the file.
    Configured { key: Secret, from: SecretRef },
    /// Made at random by this process: other replicas have their own.
    PerProcess(Secret),
}

impl CookieKey {
    /// The key material.
    pub(crate) fn secret(&self) -> &Secret {
        match self {
            CookieKey::Configured { key, .. } | CookieKey::PerProcess(key) => key,
        }
    }
}

impl fmt::Display for CookieKey {
    /// How the summary names it, never its value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CookieKey::Configured { from, .. } => {
                write!(f, "REDACTED (from {from}): replicas given it agree")
            }
            CookieKey::PerProcess(_) => f.write_str(
                "made at random by this process (no cookie_key): each replica has its own",
            ),
        }
    }
}

/// This process's random cookie key: made on first use, the same from then on, so a
/// reload keeps the login-loop counts and markers already set.
pub(super) fn per_process() -> Secret {
    static KEY: OnceLock<Secret> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random source");
        Secret::new(key)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_per_process_key_is_random_and_stays_the_same() {
        let key = per_process();
        assert_eq!(key.len(), 32);
        assert_ne!(key.expose(), [0u8; 32]);
        assert_eq!(per_process().expose(), key.expose());
    }
}
