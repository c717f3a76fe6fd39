//! The demo app: its own login, its own session cookie, a home page and a logout link,
//! wrapped by [`SsoLayer`] exactly as a user would wrap their own app.
//!
//! The session is a private cookie (the `cookie` crate's encrypted jar) holding
//! `{"email", "first_name", "last_name"}`; the layer reads it through [`SignedCookie`].

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use cookie::{Cookie, CookieJar, Key};
use http::{HeaderMap, StatusCode, Uri};
use sha2::{Digest, Sha256};

use super::page::{self, APP, escape};
use super::{Sites, query_param};
use portal_sso::is_same_site_path;
use portal_sso::{
    JwtPortal, Secret, SessionCookie, SignedCookie, SignedCookieMode, SsoLayer, find_cookie,
};

/// The app's session cookie.
pub(crate) const SESSION_COOKIE: &str = "demo_session";

/// A demo user.
pub(crate) struct User {
    pub(crate) email: &'static str,
    pub(crate) password: &'static str,
    pub(crate) first_name: &'static str,
    pub(crate) last_name: &'static str,
}

/// The people who can sign in to the demo app.
pub(crate) const USERS: [User; 3] = [
    User {
        email: "alice@example.com",
        password: "wonderland",
        first_name: "Alice",
        last_name: "Liddell",
    },
    User {
        email: "bob@example.com",
        password: "builder",
        first_name: "Bob",
        last_name: "Builder",
    },
    User {
        email: "carol@example.com",
        password: "christmas",
        first_name: "Carol",
        last_name: "Singer",
    },
];

struct AppState {
    key: Key,
    sites: Arc<Sites>,
}

/// The app's routes behind the layer; `key` encrypts its session cookie.
pub(crate) fn router(
    sites: Arc<Sites>,
    key: Key,
    kustomer_secret: Secret,
    aha_secret: Secret,
) -> Result<Router, portal_sso::ConfigError> {
    let layer = SsoLayer::builder()
        .with_identity(SignedCookie::new(
            SESSION_COOKIE,
            key.clone(),
            SignedCookieMode::Private,
        ))
        .with_session_cookie(SessionCookie::new(SESSION_COOKIE))
        .with_login_url("/login")
        .with_return_param("next")
        .with_app_logout_path("/logout")
        .with_portal(
            JwtPortal::kustomer(kustomer_secret)
                .with_redirect_origins([sites.kustomer.as_str()])
                .with_default_redirect(format!("{}/login", sites.kustomer)),
        )
        .with_portal(
            JwtPortal::aha(aha_secret, format!("{}/auth/jwt/callback", sites.aha))
                .with_logout_path(Some("/sso/aha/logout"))
                .with_portal_logout_url(format!("{}/portal_session/logout", sites.aha)),
        )
        .build()?;
    let state = Arc::new(AppState { key, sites });
    Ok(Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", get(logout))
        .with_state(state)
        .layer(layer))
}

/// The signed-in user, read from the app's own session cookie.
fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<&'static User> {
    let raw = find_cookie(headers, SESSION_COOKIE)?;
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(SESSION_COOKIE, raw.to_owned()));
    let cookie = jar.private(&state.key).get(SESSION_COOKIE)?;
    let json: serde_json::Value = serde_json::from_str(cookie.value()).ok()?;
    let email = json.get("email")?.as_str()?;
    USERS.iter().find(|user| user.email == email)
}

async fn home(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let sites = &state.sites;
    let portals = format!(
        "<h2>The portals</h2>\n<ul>\n\
         <li><a href=\"{k}/\">Acme Help Center</a> <span class=\"muted\">(mock Kustomer, {k})</span></li>\n\
         <li><a href=\"{a}/\">Acme Knowledge Base</a> <span class=\"muted\">(mock Aha!, {a})</span></li>\n\
         </ul>\n<p class=\"muted\">Click <em>Log in</em> on either portal: it sends you here, \
         and once you are signed in here you come back signed in there. Logging out here also \
         logs you out of the knowledge base, and the other way round.</p>",
        k = escape(&sites.kustomer),
        a = escape(&sites.aha),
    );
    let body = match signed_in(&state, &headers) {
        Some(user) => format!(
            "<p class=\"ok\">Signed in as <strong>{first} {last}</strong> ({email})</p>\n\
             <p><a class=\"button\" href=\"/logout\">Log out</a></p>\n{portals}",
            first = escape(user.first_name),
            last = escape(user.last_name),
            email = escape(user.email),
        ),
        None => format!(
            "<p>You are not signed in.</p>\n<p><a class=\"button\" href=\"/login\">Log in</a></p>\n{portals}"
        ),
    };
    page::html(&APP, StatusCode::OK, "Home", &body)
}

async fn login_form(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    let next = query_param(uri.query(), "next")
        .ok()
        .flatten()
        .filter(|next| is_same_site_path(next));
    if signed_in(&state, &headers).is_some() {
        return page::redirect(StatusCode::FOUND, next.as_deref().unwrap_or("/"), &[]);
    }
    login_page(StatusCode::OK, next.as_deref(), "", None)
}

async fn login_submit(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let form = |name: &str| {
        url::form_urlencoded::parse(&body)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let email = form("email").unwrap_or_default();
    let password = form("password").unwrap_or_default();
    let next = form("next").filter(|next| is_same_site_path(next));
    let Some(user) = USERS
        .iter()
        .find(|user| user.email.eq_ignore_ascii_case(email.trim()))
        .filter(|user| same_password(user.password, &password))
    else {
        return login_page(
            StatusCode::UNAUTHORIZED,
            next.as_deref(),
            &email,
            Some("Wrong email or password. Try one of the demo users below."),
        );
    };
    let json = serde_json::json!({
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
    });
    let mut jar = CookieJar::new();
    jar.private_mut(&state.key).add(
        Cookie::build((SESSION_COOKIE, json.to_string()))
            .path("/")
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .build(),
    );
    let cookies: Vec<Cookie<'static>> = jar.delta().cloned().collect();
    page::redirect(
        StatusCode::SEE_OTHER,
        next.as_deref().unwrap_or("/"),
        &cookies,
    )
}

/// The app's own logout: ends the app session. The layer then sends the browser on to the
/// knowledge base's `/portal_session/logout`.
async fn logout() -> Response {
    let removal = Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .max_age(cookie::time::Duration::ZERO)
        .expires(cookie::time::OffsetDateTime::UNIX_EPOCH)
        .build();
    page::redirect(StatusCode::SEE_OTHER, "/", &[removal])
}

fn login_page(
    status: StatusCode,
    next: Option<&str>,
    email: &str,
    error: Option<&str>,
) -> Response {
    let purpose = match next {
        Some(next) if next.starts_with("/sso/kustomer") => {
            "<p class=\"muted\">Log in to continue to the Acme Help Center (Kustomer).</p>\n"
        }
        Some(next) if next.starts_with("/sso/aha") => {
            "<p class=\"muted\">Log in to continue to the Acme Knowledge Base (Aha!).</p>\n"
        }
        _ => "",
    };
    let error = error.map_or_else(String::new, |message| {
        format!(
            "<p class=\"error\" role=\"alert\">{}</p>\n",
            escape(message)
        )
    });
    let next = next.map_or_else(String::new, |next| {
        format!(
            "<input type=\"hidden\" name=\"next\" value=\"{}\">\n",
            escape(next)
        )
    });
    let users = USERS.iter().fold(String::new(), |mut out, user| {
        let _ = write!(
            out,
            "<li><code>{}</code> / <code>{}</code></li>",
            user.email, user.password
        );
        out
    });
    let body = format!(
        "{purpose}{error}<form method=\"post\" action=\"/login\">\n{next}\
         <label for=\"email\">Email</label>\n\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\">\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <p><button type=\"submit\">Log in</button></p>\n</form>\n\
         <p class=\"muted\">Demo users:</p>\n<ul class=\"muted\">{users}</ul>",
        email = escape(email),
    );
    page::html(&APP, status, "Log in", &body)
}

/// Compares digests so the time taken does not depend on where the passwords differ.
fn same_password(expected: &str, given: &str) -> bool {
    let expected = Sha256::digest(expected.as_bytes());
    let given = Sha256::digest(given.as_bytes());
    expected
        .iter()
        .zip(given.iter())
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}
