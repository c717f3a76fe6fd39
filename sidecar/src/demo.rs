//! `portal-sso demo`: the whole single sign-on flow on one machine, nothing to configure,
//! with the real sidecar in the middle.
//!
//! Five listeners, with secrets generated at random for each run:
//! - on the `--listen` port P, the sidecar ([`serve`](crate::serve)) in front of the app,
//!   run from a config generated for this run (see `config`): what the browser sees as
//!   the app;
//! - on a loopback port of its own, the app: its own login form and session cookie, a "who
//!   am I" endpoint and its own logout, and no single sign-on code at all (see `app`);
//! - on P+1, a mock Kustomer portal whose "Log in" starts custom sign-on, and which serves
//!   the mock Kustomer Chat that the app's pages load: its script fetches the chat's
//!   token from the sidecar's widget route and hands it to the portal to check;
//! - on P+2, a mock Aha! knowledge base whose "Log in" starts JWT single sign-on, with
//!   single sign-out in both directions;
//! - on loopback port P+3, the sidecar's admin listener (`/metrics`, `/events`).
//!
//! The mocks (see `portals`) check the tokens by the vendors' rules, the ones
//! `portal-sso token inspect` applies (HS256 with the shared secret, header `typ` `JWT`,
//! the required claims present and typed, Kustomer's 15-minute window; the chat's token
//! by Kustomer Chat's rules with the chat's own secret); the mock Aha! also checks its
//! `state`, takes each `jti` once and no token older than 15 minutes. They say why when
//! they refuse one.
//!
//! The library on its own, wrapped around an axum app in-process, is the `axum` example
//! (`cargo run --example axum`).

mod app;
mod config;
mod page;
mod portals;
mod run;
mod sites;

use std::fmt::Write as _;

pub use run::run;

/// 32 random bytes as 64 hex digits.
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    // Without the operating system's random source nothing here would be safe to run.
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
        .iter()
        .fold(String::with_capacity(64), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// The one value of `name` in a query string: `Ok(None)` when absent, an explanation when
/// it is given more than once.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Result<Option<String>, String> {
    let mut found = None;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key == name {
            if found.is_some() {
                return Err(format!("The parameter `{name}` is given more than once."));
            }
            found = Some(value.into_owned());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_decoded_once_and_never_doubled() {
        assert_eq!(
            query_param(Some("a=1&next=%2Fx%3Fy%3D1"), "next").unwrap(),
            Some("/x?y=1".to_owned())
        );
        assert_eq!(query_param(None, "next").unwrap(), None);
        assert!(query_param(Some("jwt=a&jwt=b"), "jwt").is_err());
    }

    #[test]
    fn random_values_are_long_and_fresh() {
        let (a, b) = (random_hex(), random_hex());
        assert!(a.len() >= portal_sso::MIN_SECRET_LEN);
        assert_ne!(a, b);
    }
}
