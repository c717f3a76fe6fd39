//! Aha! knowledge base (and ideas portal) JWT single sign-on.
//!
//! The knowledge base sends the browser to the "Remote login URL" (`/sso/aha`), possibly
//! with `state` and `return_to`. The user is signed as
//! `{"iat", "jti", "first_name", "last_name", "email"}` and the browser sent to the
//! configured callback with `jwt=<token>`, `state` as received, and `return_to` when it is a
//! path on the knowledge base.

use super::preset::{LOGOUT, Preset, Setting, TimeRules};
use super::{Claim, JwtPortal, PassParam, TimeUnit};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// Aha!'s entry in the preset registry.
pub(super) static PRESET: Preset = Preset {
    kind: "aha",
    vendor: "Aha!",
    algorithm: JwtAlgorithm::HS256,
    build: portal,
    settings: &[Setting::CallbackUrl, LOGOUT[0], LOGOUT[1], LOGOUT[2]],
    example_callback: Some("https://acme.aha.site/auth/jwt/callback"),
    example_origin: None,
    time_rules: TimeRules::UNDOCUMENTED,
    tenant_domains: &["aha.io", "aha.site"],
};

/// Aha!'s portal with `secret`, its callback still to give.
fn portal(secret: Secret) -> JwtPortal {
    JwtPortal::of(&PRESET, secret)
        .with_token_param("jwt")
        .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
        .with_claim("jti", Claim::random())
        .with_claim("first_name", Claim::identity("first_name"))
        .with_claim("last_name", Claim::identity("last_name"))
        .with_claim("email", Claim::identity("email"))
        .with_pass_param(PassParam::echo("state"))
        .with_pass_param(PassParam::path("return_to"))
        .with_logout_under_path()
}

impl JwtPortal {
    /// Aha! knowledge base (or ideas portal) JWT single sign-on: `{"iat", "jti",
    /// "first_name", "last_name", "email"}` (HS256, names possibly empty strings) with
    /// the shared secret, to `callback_url` as `jwt`, with `state` as received and
    /// `return_to` when it is a path on the knowledge base. Routes: `/sso/aha`, and the
    /// Remote logout URL `/sso/aha/logout` (the login route's path and `/logout`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoLayer};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_: &http::request::Parts| async { Ok(Some(Identity::new("alice@example.com")?)) })
    ///     .with_portal(JwtPortal::aha(
    ///         Secret::new("the-shared-secret-from-the-aha-jwt-screen"),
    ///         "https://acme.aha.site/auth/jwt/callback",
    ///     ))
    ///     .build()?;
    /// let response = sso
    ///     .layer(axum::Router::new())
    ///     .oneshot(http::Request::get("/sso/aha?state=kb1&return_to=/ideas/APP-I-469").body(axum::body::Body::empty())?)
    ///     .await?;
    /// assert_eq!(response.status(), 302);
    /// let location = response.headers()["location"].to_str()?;
    /// assert!(location.starts_with("https://acme.aha.site/auth/jwt/callback?jwt=ey"));
    /// assert!(location.ends_with("&state=kb1&return_to=%2Fideas%2FAPP-I-469"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn aha(secret: Secret, callback_url: impl Into<String>) -> Self {
        portal(secret).with_callback_url(callback_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::portal::Issued;
    use crate::portal::engine::Engine;
    use crate::portal::is_same_site_path;
    use crate::token::TokenSigner;

    #[test]
    fn return_to_must_be_a_plain_path() {
        for ok in [
            "/ideas/APP-I-469",
            "/",
            "/kb?x=1#y",
            "/a.b/c..d/.e",
            "/kb?q=a%2Fb",
            "/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login",
        ] {
            assert!(is_same_site_path(ok), "{ok}");
        }
        for bad in [
            "/..//evil.com",
            "/.//evil.com",
            "/%2e%2e//evil.com",
            "/%2E%2E/evil.com",
            "/ideas/../..",
            "/ideas/./x",
            "/a//b",
            "/%2F%2Fevil.com",
            "/%5cevil.com",
            "/ideas\u{200B}",
            "/ideas\u{202E}",
            "//evil.com",
            "/\\evil.com",
            "https://evil.com/",
            "ideas",
            "",
            "/a\r\nb",
            "/a b",
            "/\tevil",
        ] {
            assert!(!is_same_site_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn location_adds_jwt_then_state_then_return_to() {
        let identity = Identity::new("a@example.com").unwrap();
        let secret = Secret::new("k".repeat(32));
        let signer = TokenSigner::new(JwtAlgorithm::HS256, &secret).unwrap();
        for (callback, expected) in [
            (
                "https://acme.aha.site/auth/jwt/callback",
                "https://acme.aha.site/auth/jwt/callback?jwt=T&state=a%20b%26c%3D%2F%C3%A9&return_to=%2Fkb",
            ),
            (
                "https://acme.aha.site/cb?x=1&",
                "https://acme.aha.site/cb?x=1&jwt=T&state=a%20b%26c%3D%2F%C3%A9&return_to=%2Fkb",
            ),
            (
                "https://acme.aha.site/cb?#frag",
                "https://acme.aha.site/cb?jwt=T&state=a%20b%26c%3D%2F%C3%A9&return_to=%2Fkb#frag",
            ),
        ] {
            let aha = Engine::build(&JwtPortal::aha(secret.clone(), callback), "p").unwrap();
            let prepared = aha
                .prepare(Some("state=a+b%26c%3D%2F%C3%A9&return_to=%2Fkb"))
                .unwrap();
            let Issued::Sent { response, .. } = aha.issue(&signer, &prepared, &identity) else {
                panic!("signed");
            };
            let location = response.headers()[http::header::LOCATION].to_str().unwrap();
            let token = location
                .split(['?', '&', '#'])
                .find_map(|pair| pair.strip_prefix("jwt="))
                .unwrap();
            assert_eq!(location.replace(token, "T"), expected);
        }
    }
}
