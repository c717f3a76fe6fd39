//! Kustomer custom sign-on.
//!
//! The portal sends the browser to
//! `/sso/kustomer?trackingToken=UNSIGNED_JWT&kustomerRedirectUri=URL`. `trackingToken` is
//! ignored. The user's email is signed as `{"email", "iat"}` (HS256, `typ: JWT`) and the
//! browser is sent to `kustomerRedirectUri` (or the configured default) with
//! `externalToken=<jwt>` added to its query.

use super::preset::{Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, TimeUnit};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Kustomer's entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "kustomer",
    vendor: "Kustomer",
    algorithm: JwtAlgorithm::HS256,
    build: JwtPortal::kustomer,
    settings: &[Setting::RedirectOrigins, Setting::DefaultRedirect],
    example_callback: None,
    example_origin: Some("https://acme.kustomer.help"),
    // "Signed tokens will only be valid for 15 minutes."
    time_rules: TimeRules::max_age(15 * 60),
    tenant_domains: &["kustomer.help", "kustomerapp.com"],
};

/// The parameter the token is added as.
const TOKEN_PARAM: &str = "externalToken";

impl JwtPortal {
    /// Kustomer custom sign-on: `{"email", "iat"}` (HS256) with the knowledge base's
    /// secret, `externalToken` added to the `kustomerRedirectUri` the portal sends (on one
    /// of [`with_redirect_origins`](JwtPortal::with_redirect_origins), else the
    /// [default](JwtPortal::with_default_redirect)), every byte of it kept. Route:
    /// `/sso/kustomer`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(
    ///         JwtPortal::kustomer(Secret::new("the-kustomer-knowledge-base-secret"))
    ///             .with_redirect_origins(["https://acme.kustomer.help"]),
    ///     )
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(
    ///         http::Request::get("/sso/kustomer?trackingToken=x&kustomerRedirectUri=https://acme.kustomer.help/login?r=%2F")
    ///             .body(axum::body::Body::empty())?,
    ///     )
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://acme.kustomer.help/login?r=%2F&externalToken=ey"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn kustomer(secret: Secret) -> Self {
        Self::of(&PRESET, secret)
            .with_target_param("kustomerRedirectUri")
            .with_token_param(TOKEN_PARAM)
            .with_claim("email", Claim::identity("email"))
            .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::engine::Engine;

    fn portal() -> Engine {
        let portal = JwtPortal::kustomer(Secret::new("k".repeat(32)))
            .with_redirect_origins(["https://acme.kustomer.help"]);
        Engine::build(&portal, "portal").unwrap()
    }

    #[test]
    fn targets_are_read_as_sent_or_decoded_once() {
        let portal = portal();
        let sent = "kustomerRedirectUri=https://ACME.kustomer.help./login?r=%2F";
        assert_eq!(
            portal.prepare(Some(sent)).unwrap().target().as_str(),
            "https://acme.kustomer.help/login?r=%2F"
        );
        let escaped = "kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Flogin";
        assert_eq!(
            portal.prepare(Some(escaped)).unwrap().target().as_str(),
            "https://acme.kustomer.help/login"
        );
    }

    #[test]
    fn refused_targets_stay_refused() {
        let portal = portal();
        for target in [
            "https://evil.example/",
            "https://acme.kustomer.help.evil.example/",
            "https://acme.kustomer.help/login?externalToken=x",
            "https://acme.kustomer.help/../x",
        ] {
            let query = format!("kustomerRedirectUri={target}");
            for _ in 0..3 {
                assert!(portal.prepare(Some(&query)).is_err(), "{target}");
            }
        }
    }

    #[test]
    fn the_claims_are_the_vendors_shape() {
        let alice = crate::Identity::new("alice@example.com").unwrap();
        let portal = JwtPortal::kustomer(Secret::new("k".repeat(32)));
        let context = crate::portal::claim::Context {
            param: |_: &str| None,
            token_ttl_secs: 60,
            target_origin: "https://acme.kustomer.help",
            now: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_763_700_000),
        };
        let made = crate::portal::claim::render(&portal.claims, &alice, &context).unwrap();
        assert_eq!(
            serde_json::Value::Object(made),
            serde_json::json!({"email": "alice@example.com", "iat": 1_763_700_000})
        );
    }
}
