//! The demo app: its own login form, its own session cookie, a home page, a "who am I"
//! endpoint and its own logout, and no single sign-on code at all. It stands for an app
//! in any language: the sidecar in front of it answers the SSO routes, reading who is
//! signed in from [`WHO_AM_I_PATH`] with the browser's cookies.
//!
//! The session is a private cookie (the `cookie` crate's encrypted jar) holding
//! `{"email", "first_name", "last_name"}`, which only the app can read.
//!
//! Every page carries a chat widget, as an app would carry a vendor's: a script from the
//! mock Kustomer portal that fetches the chat's token from the sidecar's widget route,
//! [`CHAT_WIDGET_PATH`]. The page's Content-Security-Policy allows that script's origin
//! and nothing else.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use cookie::{Cookie, CookieJar, Key};
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use sha2::{Digest, Sha256};

use super::page::{self, APP, escape};
use super::portals::CHAT_SCRIPT_PATH;
use super::query_param;
use super::sites::Sites;
use portal_sso::{find_cookie, is_same_site_path};

/// The app's session cookie.
pub(crate) const SESSION_COOKIE: &str = "demo_session";
/// The app's login form.
pub(crate) const LOGIN_PATH: &str = "/login";
/// The login form's parameter that carries where to go once signed in.
pub(crate) const RETURN_PARAM: &str = "next";
/// The app's own logout.
pub(crate) const LOGOUT_PATH: &str = "/logout";
/// "Who am I": the signed-in user as JSON, or 401.
pub(crate) const WHO_AM_I_PATH: &str = "/api/me";
/// The chat widget's token, answered by the sidecar (its `[[widget]]`, at the default
/// path of `kind = "kustomer-chat"`).
pub(crate) const CHAT_WIDGET_PATH: &str = "/sso/widget/kustomer-chat";

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

/// The app's routes; `key` encrypts its session cookie.
pub(crate) fn router(sites: Arc<Sites>, key: Key) -> Router {
    let state = Arc::new(AppState { key, sites });
    Router::new()
        .route("/", get(home))
        .route(LOGIN_PATH, get(login_form).post(login_submit))
        .route(LOGOUT_PATH, get(logout))
        .route(WHO_AM_I_PATH, get(who_am_i))
        .with_state(state)
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
             <p><a class=\"button\" href=\"{LOGOUT_PATH}\">Log out</a></p>\n{portals}",
            first = escape(user.first_name),
            last = escape(user.last_name),
            email = escape(user.email),
        ),
        None => format!(
            "<p>You are not signed in.</p>\n\
             <p><a class=\"button\" href=\"{LOGIN_PATH}\">Log in</a></p>\n{portals}"
        ),
    };
    render(sites, &headers, StatusCode::OK, "Home", &body)
}

/// "Who am I", as the sidecar's introspection asks it: the signed-in user's email and
/// names as JSON, or 401 when the request carries no valid session.
async fn who_am_i(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (status, json) = match signed_in(&state, &headers) {
        Some(user) => (
            StatusCode::OK,
            serde_json::json!({
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
            }),
        ),
        None => (
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "error": "signed_out" }),
        ),
    };
    let mut response = Response::new(Body::from(json.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    crate::page::protect(&mut response);
    response
}

async fn login_form(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    let next = query_param(uri.query(), RETURN_PARAM)
        .ok()
        .flatten()
        .filter(|next| is_same_site_path(next));
    if signed_in(&state, &headers).is_some() {
        return page::redirect(StatusCode::FOUND, next.as_deref().unwrap_or("/"), &[]);
    }
    login_page(&state, &headers, StatusCode::OK, next.as_deref(), "", None)
}

async fn login_submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = |name: &str| {
        url::form_urlencoded::parse(&body)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let email = form("email").unwrap_or_default();
    let password = form("password").unwrap_or_default();
    let next = form(RETURN_PARAM).filter(|next| is_same_site_path(next));
    let Some(user) = USERS
        .iter()
        .find(|user| user.email.eq_ignore_ascii_case(email.trim()))
        .filter(|user| same_password(user.password, &password))
    else {
        return login_page(
            &state,
            &headers,
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

/// The app's own logout: ends the app session and goes home. The sidecar, which has this
/// path as `app_logout_path`, sends the browser on to the knowledge base's
/// `/portal_session/logout` instead.
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
    state: &AppState,
    headers: &HeaderMap,
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
            "<input type=\"hidden\" name=\"{RETURN_PARAM}\" value=\"{}\">\n",
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
        "{purpose}{error}<form method=\"post\" action=\"{LOGIN_PATH}\">\n{next}\
         <label for=\"email\">Email</label>\n\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\">\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <p><button type=\"submit\">Log in</button></p>\n</form>\n\
         <p class=\"muted\">Demo users:</p>\n<ul class=\"muted\">{users}</ul>",
        email = escape(email),
    );
    render(&state.sites, headers, status, "Log in", &body)
}

/// Every page of the app, rendered in this one place: `body` in the app's layout, with the
/// chat widget and a line saying how the request reached the app.
fn render(
    sites: &Sites,
    headers: &HeaderMap,
    status: StatusCode,
    title: &str,
    body: &str,
) -> Response {
    let body = format!(
        "{body}\n{}\n{}",
        chat_widget(sites),
        reached_through(headers)
    );
    let mut response = page::html(&APP, status, title, &body);
    // The layout's policy, plus the chat: its script from the mock Kustomer portal, which
    // fetches the widget route here and talks to that portal.
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src {chat}; \
         connect-src 'self' {chat}",
        chat = chat_source(sites)
    );
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// The chat's origin as a Content-Security-Policy source. The policy's host grammar has
/// no IPv6 address (browsers ignore such a source), so there it is any host on the
/// chat's port.
fn chat_source(sites: &Sites) -> String {
    if sites.kustomer_listen.is_ipv6() {
        format!("http://*:{}", sites.kustomer_listen.port())
    } else {
        sites.kustomer.clone()
    }
}

/// The chat widget: where the script shows whom the chat talks to, and the script,
/// told where the token is and where to show it.
fn chat_widget(sites: &Sites) -> String {
    format!(
        "<aside class=\"chat\"><strong id=\"chat-status\">Chat: connecting\u{2026}</strong>\n\
         <span class=\"muted\">A mock Kustomer Chat: its script, served by the mock Kustomer \
         portal, fetches a token from the sidecar's <code>{CHAT_WIDGET_PATH}</code> and has \
         the portal check it.</span></aside>\n\
         <script src=\"{script}\" data-token-url=\"{CHAT_WIDGET_PATH}\" \
         data-status=\"chat-status\"></script>",
        script = escape(&format!("{}{CHAT_SCRIPT_PATH}", sites.kustomer)),
    )
}

/// How the request reached the app, from the `X-Forwarded-*` headers the sidecar sets on
/// every request it passes on (and which nothing else here sets).
fn reached_through(headers: &HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(escape)
    };
    match header("x-forwarded-for") {
        Some(client) => format!(
            "<p class=\"muted\" id=\"reached-through\">This page reached the app through \
             the portal-sso sidecar: X-Forwarded-For <code>{client}</code>, X-Forwarded-Host \
             <code>{host}</code>, X-Forwarded-Proto <code>{proto}</code>.</p>",
            host = header("x-forwarded-host").unwrap_or_default(),
            proto = header("x-forwarded-proto").unwrap_or_default(),
        ),
        None => "<p class=\"muted\" id=\"reached-through\">This page reached the app \
                 directly, not through the portal-sso sidecar: single sign-on works at the \
                 sidecar's address.</p>"
            .to_owned(),
    }
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

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

    use super::*;

    #[test]
    fn the_chat_is_named_in_the_policy_as_browsers_read_it() {
        let v4 = Sites::new(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8080))).unwrap();
        assert_eq!(chat_source(&v4), "http://127.0.0.1:8081");
        let v6 = Sites::new(SocketAddr::from((Ipv6Addr::LOCALHOST, 9000))).unwrap();
        assert_eq!(chat_source(&v6), "http://*:9001");
    }
}
