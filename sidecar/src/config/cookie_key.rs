//! The key of the layer's own cookies (the login-loop count, the remote-logout marker),
//! derived from the secrets the config already holds, so that replicas run with the same
//! config read each other's cookies without a setting of their own, and a rotated secret
//! gives a new key.

use hkdf::HkdfExtract;
use sha2::Sha256;

use portal_sso::Secret;

/// HKDF's `info`: what the derived key is for, so it is unrelated to any other key made
/// from the same secrets.
const INFO: &[u8] = b"portal-sso sidecar: layer cookie signing key, v1";

/// Where a secret fed into the key comes from; each is fed with its own tag.
#[derive(Clone, Copy)]
#[repr(u8)]
pub(super) enum Origin {
    /// A `[[portal]]`'s `secret` or `private_key`.
    Portal = 1,
    /// `session.jwt.secret`.
    SessionJwt = 2,
    /// `session.signed.key`.
    SessionSigned = 3,
    /// A `session.oidc` provider's `client_secret`.
    SessionOidc = 4,
}

/// HKDF-SHA256 over `secrets`, in the order given: each fed as its tag, its length (eight
/// bytes, big-endian) and its bytes, so that no two different lists feed the same input.
/// 32 bytes out, as `SsoLayerBuilder::with_cookie_key` takes them.
pub(super) fn derive<'a>(secrets: impl IntoIterator<Item = (Origin, &'a [u8])>) -> Secret {
    let mut extract = HkdfExtract::<Sha256>::new(None);
    for (origin, secret) in secrets {
        extract.input_ikm(&[origin as u8]);
        extract.input_ikm(&(secret.len() as u64).to_be_bytes());
        extract.input_ikm(secret);
    }
    let (_, hkdf) = extract.finalize();
    let mut key = [0u8; 32];
    hkdf.expand(INFO, &mut key)
        .expect("32 bytes is within HKDF-SHA256's output limit");
    Secret::new(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_secrets_in_the_same_order_give_the_same_key() {
        let one = derive([(Origin::Portal, &b"a"[..]), (Origin::Portal, b"b")]);
        let again = derive([(Origin::Portal, &b"a"[..]), (Origin::Portal, b"b")]);
        assert_eq!(one.expose(), again.expose());
        assert_eq!(one.len(), 32);
    }

    #[test]
    fn any_change_in_the_secrets_gives_another_key() {
        let base = derive([(Origin::Portal, &b"ab"[..]), (Origin::Portal, b"c")]);
        for other in [
            derive([(Origin::Portal, &b"ab"[..]), (Origin::Portal, b"d")]),
            derive([(Origin::Portal, &b"c"[..]), (Origin::Portal, b"ab")]),
            derive([(Origin::Portal, &b"a"[..]), (Origin::Portal, b"bc")]),
            derive([(Origin::Portal, &b"ab"[..]), (Origin::SessionJwt, b"c")]),
            derive([(Origin::Portal, &b"ab"[..])]),
        ] {
            assert_ne!(base.expose(), other.expose());
        }
    }

    #[test]
    fn the_key_never_prints() {
        let key = derive([(Origin::Portal, &b"a-portal-secret"[..])]);
        assert_eq!(format!("{key:?}"), "Secret(REDACTED)");
    }

    /// Two loads of one config behind a round-robin balancer, driven through the layers.
    mod replicas {
        use std::convert::Infallible;
        use std::future::{Ready, ready};
        use std::path::PathBuf;
        use std::task::{Context, Poll};

        use http::{Request, Response, StatusCode, header};
        use tower_layer::Layer as _;
        use tower_service::Service;

        use crate::config::SidecarConfig;

        /// The app behind the layer; the test only visits the SSO route.
        #[derive(Clone)]
        struct App;

        impl Service<Request<String>> for App {
            type Response = Response<String>;
            type Error = Infallible;
            type Future = Ready<Result<Response<String>, Infallible>>;

            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, _: Request<String>) -> Self::Future {
                ready(Ok(Response::new(String::new())))
            }
        }

        /// Secret files for the portal and the session, removed when dropped.
        struct Secrets(Vec<PathBuf>);

        impl Secrets {
            fn new(portal: &str, session: &str) -> Self {
                static COUNTER: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let paths = [portal, session]
                    .iter()
                    .enumerate()
                    .map(|(i, value)| {
                        let path = std::env::temp_dir().join(format!(
                            "portal-sso-loop-key-{}-{n}-{i}",
                            std::process::id()
                        ));
                        std::fs::write(&path, value).unwrap();
                        path
                    })
                    .collect();
                Self(paths)
            }

            /// The config file, a JWT session read with the second secret.
            fn config(&self) -> String {
                format!(
                    r#"
listen = "127.0.0.1:8080"
upstream = "http://127.0.0.1:3000"
[session]
cookie = "sid"
jwt = {{ secret = {{ file = "{}" }} }}
[[portal]]
kind = "aha"
secret = {{ file = "{}" }}
callback_url = "https://acme.aha.site/auth/jwt/callback"
"#,
                    self.0[1].display(),
                    self.0[0].display()
                )
            }

            fn load(&self) -> SidecarConfig {
                SidecarConfig::from_toml(&self.config()).unwrap()
            }
        }

        impl Drop for Secrets {
            fn drop(&mut self) {
                for path in &self.0 {
                    let _ = std::fs::remove_file(path);
                }
            }
        }

        const PORTAL: &str = "aha-portal-secret-aha-portal-secret-0123";
        const SESSION: &str = "app-session-jwt-secret-app-session-0123";

        /// The statuses of four signed-out visits to `/sso/aha`, alternating between
        /// `first` and `second`, the loop cookie carried from each answer to the next.
        async fn alternate(first: &SidecarConfig, second: &SidecarConfig) -> Vec<StatusCode> {
            let layers = [
                first.layer(Vec::new(), None).unwrap(),
                second.layer(Vec::new(), None).unwrap(),
            ];
            let mut cookie: Option<String> = None;
            let mut statuses = Vec::new();
            for visit in 0..4 {
                let mut request = Request::get("/sso/aha");
                if let Some(cookie) = &cookie {
                    request = request.header(header::COOKIE, cookie);
                }
                let response = layers[visit % 2]
                    .layer(App)
                    .call(request.body(String::new()).unwrap())
                    .await
                    .unwrap();
                statuses.push(response.status());
                if let Some(set) = response.headers().get(header::SET_COOKIE) {
                    let set = set.to_str().unwrap();
                    cookie = Some(set.split(';').next().unwrap().to_owned());
                }
            }
            statuses
        }

        const FIRED: [StatusCode; 4] = [
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::INTERNAL_SERVER_ERROR,
        ];

        #[tokio::test]
        async fn two_loads_of_one_config_read_each_others_loop_cookie() {
            let secrets = Secrets::new(PORTAL, SESSION);
            let (first, second) = (secrets.load(), secrets.load());
            assert_eq!(first.cookie_key.expose(), second.cookie_key.expose());
            assert_eq!(alternate(&first, &second).await, FIRED);
        }

        #[tokio::test]
        async fn a_changed_secret_gives_another_key() {
            let secrets = Secrets::new(PORTAL, SESSION);
            let config = secrets.load();
            for (portal, session) in [
                (PORTAL.replace('0', "9"), SESSION.to_owned()),
                (PORTAL.to_owned(), SESSION.replace('0', "9")),
            ] {
                let rotated = Secrets::new(&portal, &session).load();
                assert_ne!(config.cookie_key.expose(), rotated.cookie_key.expose());
                assert_eq!(
                    alternate(&config, &rotated).await,
                    [StatusCode::FOUND; 4],
                    "a cookie signed with the old key counts nothing"
                );
            }
        }
    }
}
