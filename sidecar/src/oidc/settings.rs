//! The checked `session.oidc` settings the routes and the session reader run with.

use std::sync::Arc;
use std::time::Duration;

use portal_sso::{ClaimPointers, Secret, SessionCookie};
use url::Url;

/// Every provider, the public origin and the identity field pointers.
#[derive(Debug)]
pub struct Settings {
    pub(crate) providers: Vec<ProviderSettings>,
    /// The origin browsers reach the sidecar at (`public_url`).
    pub(crate) public_url: Url,
    /// The identity fields, read from the verified ID token, then userinfo.
    pub(crate) claims: ClaimPointers,
    /// The same fields as (name, JSON pointer) pairs: what the session cookie keeps and
    /// what makes userinfo worth asking.
    pub(crate) fields: Vec<(String, String)>,
}

impl Settings {
    /// Whether browsers reach the sidecar over HTTPS: its cookies are then `Secure` and
    /// `__Host-` prefixed, which no sibling subdomain can set.
    pub(crate) fn secure(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The name of portal-sso's own session cookie.
    pub(crate) fn session_cookie_name(&self) -> &'static str {
        if self.secure() {
            "__Host-portal_sso_session"
        } else {
            "portal_sso_session"
        }
    }

    /// The session cookie as the layer knows it: every remote-logout route expires it.
    pub fn session_cookie(&self) -> SessionCookie {
        SessionCookie::new(self.session_cookie_name()).with_secure(self.secure())
    }

    /// The providers, in file order.
    pub fn providers(&self) -> &[ProviderSettings] {
        &self.providers
    }
}

/// One provider's checked table.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// Names the provider in events, cookies and `?provider=`.
    pub name: String,
    /// What the chooser page shows.
    pub label: String,
    /// The issuer, exactly as written: the ID token's `iss` must equal it.
    pub issuer: String,
    /// The client id registered at the provider.
    pub client_id: String,
    pub(crate) client_secret: Secret,
    /// Where the client secret is read from (never its value).
    pub secret_from: String,
    /// The scopes asked for; `openid` among them.
    pub scopes: Vec<String>,
    /// The callback path on this site.
    pub redirect_path: String,
    /// `public_url` joined with `redirect_path`: the redirect URI registered at the IdP.
    pub redirect_uri: Url,
    /// Who may sign in.
    pub rules: Rules,
    /// How long portal-sso's session lasts after a sign-in.
    pub session_ttl: Duration,
    /// Whether `/sso/oidc/logout` goes on to the IdP's end-session endpoint.
    pub end_session: bool,
    /// Where the IdP sends the browser after its logout.
    pub post_logout_redirect_uri: Option<Url>,
    /// The email domains whose `login_hint` picks this provider.
    pub email_domains: Vec<String>,
    /// How an `https://` issuer is verified (the system's roots).
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

/// The access rules: a user who fails one is refused with a page naming it.
#[derive(Debug, Clone)]
pub struct Rules {
    /// `email_verified` must be `true`.
    pub require_email_verified: bool,
    /// When not empty, the email's domain must be one of these (lower case).
    pub allowed_email_domains: Vec<String>,
    /// When not empty, the user must be in one of these groups.
    pub allowed_groups: Vec<String>,
    /// The claim holding the groups: a name, or a JSON pointer.
    pub groups_claim: String,
}
