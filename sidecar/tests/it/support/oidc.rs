//! Signing in through an OpenID provider: panva's `oidc-provider` run with node on
//! 127.0.0.1 (`tests/oidc-provider/`), a browser's cookie jar, clicking through the
//! provider's development login form, and the sidecar config for it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;

use super::{PORTALS, empty, full, location, send};

pub const CLIENT_ID: &str = "portal-sso";
pub const CLIENT_SECRET: &str = "oidc-client-secret-for-the-tests-0123456789";
/// A second client whose ID tokens are signed with ES256.
pub const ES256_CLIENT_ID: &str = "portal-sso-es256";

/// The provider's directory (its `package.json`, lockfile and `provider.js`).
fn provider_dir() -> String {
    format!("{}/tests/oidc-provider", env!("CARGO_MANIFEST_DIR"))
}

/// Fails, saying what to run, unless node and the pinned oidc-provider are installed.
pub fn require_provider() {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|out| out.status.success()),
        "node not found: install the Debian packages nodejs and npm"
    );
    let installed = std::path::Path::new(&provider_dir()).join("node_modules/oidc-provider");
    assert!(
        installed.exists(),
        "oidc-provider is not installed: run `npm ci` in {}",
        provider_dir()
    );
}

/// The clients registered at the provider for a sidecar on `sidecar`.
pub fn clients(sidecar: SocketAddr) -> String {
    let client = |id: &str, alg: &str| {
        serde_json::json!({
            "client_id": id,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("http://{sidecar}/sso/oidc/callback")],
            "post_logout_redirect_uris": [format!("http://{sidecar}/signed-out")],
            "id_token_signed_response_alg": alg,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        })
    };
    serde_json::json!([client(CLIENT_ID, "RS256"), client(ES256_CLIENT_ID, "ES256")]).to_string()
}

/// `oidc-provider` running under node, killed when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
    pub port: u16,
}

impl Provider {
    /// Starts the provider with `clients` on `port` (0: any), its signing keys named by
    /// `generation`, and waits until it listens.
    pub fn start(clients: &str, port: u16, generation: &str) -> Self {
        require_provider();
        let mut child = Command::new("node")
            .arg("provider.js")
            .current_dir(provider_dir())
            .env("CLIENTS", clients)
            .env("PORT", port.to_string())
            .env("KEY_GENERATION", generation)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(issuer) = line.strip_prefix("listening on ") {
                    let _ = tx.send(issuer.to_owned());
                }
            }
        });
        let issuer = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("oidc-provider listens within 30 s");
        let port = issuer.rsplit(':').next().unwrap().parse().unwrap();
        Self {
            child,
            issuer,
            port,
        }
    }

    /// Stops the provider.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sidecar config on `listen` signing in through `issuer` as `client_id`, with both
/// portals; `provider` is added to the `[session.oidc]` table.
pub fn config(listen: SocketAddr, issuer: &str, client_id: &str, provider: &str) -> String {
    config_with(
        listen,
        &format!(
            r#"[session.oidc]
issuer = "{issuer}"
client_id = "{client_id}"
client_secret = {{ env = "OIDC_CLIENT_SECRET" }}
scopes = ["openid", "email", "profile", "groups"]
{provider}"#
        ),
    )
}

/// A sidecar config on `listen` with the `session` tables `session` and both portals.
pub fn config_with(listen: SocketAddr, session: &str) -> String {
    format!(
        r#"
listen = "{listen}"
admin_listen = "127.0.0.1:0"
public_url = "http://{listen}"

{session}

{PORTALS}"#
    )
}

/// The environment the OIDC sidecar reads its client secret from.
pub fn env() -> [(&'static str, &'static str); 1] {
    [("OIDC_CLIENT_SECRET", CLIENT_SECRET)]
}

/// A browser: one cookie jar for every host of 127.0.0.1 (browsers do not tell ports
/// apart for cookies), no redirect followed unless asked.
#[derive(Default)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
}

/// An answer: status, headers, body.
pub type Answer = (StatusCode, HeaderMap, Bytes);

impl Browser {
    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Keeps each `Set-Cookie` of `headers`; one with `Max-Age=0` or an `Expires` in the
    /// past removes the cookie.
    pub fn keep(&mut self, headers: &HeaderMap) {
        for set in headers.get_all(header::SET_COOKIE) {
            let cookie = cookie::Cookie::parse(set.to_str().unwrap().to_owned()).unwrap();
            let expired = cookie
                .max_age()
                .is_some_and(cookie::time::Duration::is_zero)
                || cookie
                    .expires_datetime()
                    .is_some_and(|at| at < cookie::time::OffsetDateTime::now_utc());
            if expired {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
    }

    /// `GET url` with the jar's cookies; keeps what it sets.
    pub async fn get(&mut self, url: &str) -> Answer {
        let mut request = http::Request::get(url);
        if let Some(cookie) = self.cookie_header() {
            request = request.header(header::COOKIE, cookie);
        }
        let answer = send(request.body(empty()).unwrap()).await;
        self.keep(&answer.1);
        answer
    }

    /// `POST url` with a form body.
    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = http::Request::post(url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = self.cookie_header() {
            request = request.header(header::COOKIE, cookie);
        }
        let answer = send(request.body(full(body)).unwrap()).await;
        self.keep(&answer.1);
        answer
    }

    /// Follows redirects from `url` (relative ones against the last URL) until an answer
    /// that is not one, or one to a URL starting with `stop`: that URL and its answer.
    pub async fn follow(&mut self, url: &str, stop: &str) -> (String, Answer) {
        let mut url = url.to_owned();
        for _ in 0..20 {
            let answer = self.get(&url).await;
            if !answer.0.is_redirection() {
                return (url, answer);
            }
            let next = url::Url::parse(&url)
                .unwrap()
                .join(&location(&answer.1))
                .unwrap()
                .to_string();
            if next.starts_with(stop) {
                return (next, answer);
            }
            url = next;
        }
        panic!("more than 20 redirects from {url}");
    }

    /// At the provider's login form (reached by following `url`), signs in as `user` and
    /// follows the provider's redirects: the URL it sends the browser to on `back_to`.
    pub async fn sign_in_at_idp(
        &mut self,
        url: &str,
        issuer: &str,
        user: &str,
        back_to: &str,
    ) -> String {
        let (form_url, (status, _, body)) = self.follow(url, back_to).await;
        if form_url.starts_with(back_to) {
            return form_url; // the provider's own session signed the browser in silently
        }
        assert_eq!(status, StatusCode::OK, "the login form at {form_url}");
        let page = String::from_utf8_lossy(&body);
        assert!(page.contains("name=\"login\""), "a login form: {page}");
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the form's action")
            .to_owned();
        let post = url::Url::parse(&form_url)
            .unwrap()
            .join(&action)
            .unwrap()
            .to_string();
        assert!(post.starts_with(issuer), "the form posts to {post}");
        let (status, headers, _) = self
            .post_form(
                &post,
                &[("prompt", "login"), ("login", user), ("password", "any")],
            )
            .await;
        assert!(status.is_redirection(), "the login form answered {status}");
        let resume = url::Url::parse(&post)
            .unwrap()
            .join(&location(&headers))
            .unwrap();
        let (back, _) = self.follow(resume.as_str(), back_to).await;
        assert!(
            back.starts_with(back_to),
            "the provider sent the browser to {back}"
        );
        back
    }
}
