//! The mock Aha! knowledge base: "Log in" issues a `state` and sends the browser to the
//! app's Remote login URL (`/sso/aha?state=...&return_to=...`); `/auth/jwt/callback`
//! checks the `jwt` and the `state`; "Log out" goes on to the app's Remote logout URL; and
//! `/portal_session/logout` (where the app sends the browser after its own logout) ends
//! the session and goes back to the app.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use http::{HeaderMap, StatusCode, Uri};

use super::session::{Memory, Sessions, Visitor};
use super::verify::{REPLAY_WINDOW_SECS, verify};
use crate::demo::page::{self, AHA, claims_block, escape};
use crate::demo::sites::Sites;
use crate::demo::{query_param, random_hex};
use crate::now_unix;
use portal_sso::is_same_site_path;
use portal_sso::{Identity, Secret};

/// The mock knowledge base's session cookie (names differ per site: cookies ignore ports).
const SESSION_COOKIE: &str = "aha_session";
/// The article a "Log in" returns to.
const ARTICLE: &str = "/kb/welcome";

struct KnowledgeBase {
    secret: Secret,
    sessions: Sessions,
    /// `state` values handed out and not yet come back.
    states: Memory,
    /// `jti` values already accepted: each response is used once.
    seen_jti: Memory,
    sites: Arc<Sites>,
}

pub(crate) fn router(sites: Arc<Sites>, secret: Secret) -> Router {
    let state = Arc::new(KnowledgeBase {
        secret,
        sessions: Sessions::new(SESSION_COOKIE),
        states: Memory::new(REPLAY_WINDOW_SECS),
        seen_jti: Memory::new(REPLAY_WINDOW_SECS),
        sites,
    });
    Router::new()
        .route("/", get(home))
        .route(ARTICLE, get(article))
        .route("/login", get(login))
        .route(super::AHA_CALLBACK_PATH, get(callback))
        .route("/logout", get(logout))
        .route(super::AHA_PORTAL_LOGOUT_PATH, get(portal_session_logout))
        .with_state(state)
}

fn login_link(return_to: &str) -> String {
    let return_to: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!(
        "<p><a class=\"button\" id=\"login\" href=\"/login?return_to={}\">Log in</a></p>\n\
         <p class=\"muted\">JWT single sign-on: <em>Log in</em> takes you to the Acme App's \
         Remote login URL, which sends you back with a signed <code>jwt</code>.</p>",
        escape(&return_to)
    )
}

fn signed_in_block(visitor: &Visitor) -> String {
    format!(
        "<p class=\"ok\">Signed in as <strong>{}</strong></p>\n\
         <p><a class=\"button\" href=\"/logout\">Log out</a> \
         <span class=\"muted\">(also logs you out of the Acme App)</span></p>",
        escape(&visitor.email)
    )
}

async fn home(State(kb): State<Arc<KnowledgeBase>>, headers: HeaderMap) -> Response {
    let body = match kb.sessions.get(&headers) {
        Some(visitor) => format!(
            "{}\n<h2>Articles</h2>\n<ul><li><a href=\"{ARTICLE}\">Welcome to Acme</a></li></ul>\n\
             <p class=\"muted\">Signed in with these claims:</p>\n{}",
            signed_in_block(&visitor),
            claims_block(&visitor.claims),
        ),
        None => format!(
            "<p>You are not signed in. Articles are for Acme App users.</p>\n{}",
            login_link(ARTICLE)
        ),
    };
    page::html(&AHA, StatusCode::OK, "Knowledge Base", &body)
}

async fn article(State(kb): State<Arc<KnowledgeBase>>, headers: HeaderMap) -> Response {
    let body = match kb.sessions.get(&headers) {
        Some(visitor) => format!(
            "{}\n<p>This article is only for signed-in users. You reached it through \
             <code>return_to</code>, which the app passed back unchanged.</p>\n\
             <p><a href=\"/\">All articles</a></p>",
            signed_in_block(&visitor)
        ),
        None => format!("<p>You are not signed in.</p>\n{}", login_link(ARTICLE)),
    };
    page::html(&AHA, StatusCode::OK, "Welcome to Acme", &body)
}

/// Starts JWT single sign-on: a fresh `state`, remembered, and the Remote login URL.
async fn login(State(kb): State<Arc<KnowledgeBase>>, uri: Uri) -> Response {
    let return_to = query_param(uri.query(), "return_to")
        .ok()
        .flatten()
        .filter(|path| is_same_site_path(path))
        .unwrap_or_else(|| "/".to_owned());
    let state = random_hex();
    kb.states.insert(state.clone(), now_unix());
    let return_to: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    let location = format!(
        "{}/sso/aha?state={state}&return_to={return_to}",
        kb.sites.app
    );
    page::redirect(StatusCode::FOUND, &location, &[])
}

/// `/auth/jwt/callback?jwt=...&state=...&return_to=...`.
async fn callback(State(kb): State<Arc<KnowledgeBase>>, uri: Uri) -> Response {
    let param = |name| query_param(uri.query(), name);
    let (token, state, return_to) = match (param("jwt"), param("state"), param("return_to")) {
        (Ok(token), Ok(state), Ok(return_to)) => (token, state, return_to),
        (Err(problem), _, _) | (_, Err(problem), _) | (_, _, Err(problem)) => {
            return refused(&problem);
        }
    };
    let Some(token) = token else {
        return refused("The callback has no `jwt` parameter.");
    };
    let now = now_unix();
    let Some(state) = state else {
        return refused(
            "The callback has no `state`, but this knowledge base sent one with the login request; \
             the Remote login URL must pass it back unchanged.",
        );
    };
    if !kb.states.take(&state, now) {
        return refused(
            "The `state` is not one this knowledge base issued (or it was already used, or is \
             older than 15 minutes).",
        );
    }
    let verified = match verify(&token, &kb.secret, aha_preset(), now) {
        Ok(verified) => verified,
        Err(problem) => return refused(&problem),
    };
    let jti = verified.claims["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !kb.seen_jti.insert(jti, now) {
        return refused("The token's `jti` was already used: each JWT response signs in once.");
    }
    let email = verified.claims["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if Identity::new(email.as_str()).is_err() {
        return refused("The claim `email` is not one plain email address.");
    }
    let continue_to = return_to
        .filter(|path| is_same_site_path(path))
        .unwrap_or_else(|| "/".to_owned());
    let body = format!(
        "<p class=\"ok\">Signed in as <strong>{email}</strong></p>\n\
         <p>The <code>jwt</code> passed every check: HS256 signature with the shared secret; \
         <code>iat</code>, <code>jti</code>, <code>first_name</code>, <code>last_name</code> and \
         <code>email</code> present and typed; issued within the last 15 minutes; \
         <code>state</code> is the one issued for this login.</p>\n\
         <p class=\"muted\">Header: alg {alg:?}, typ {typ}. Claims:</p>\n{claims}\n\
         <p><a class=\"button\" href=\"{next}\">Continue to {next_text}</a></p>",
        email = escape(&email),
        alg = verified.alg,
        typ = escape(verified.typ.as_deref().unwrap_or("(none)")),
        claims = claims_block(&verified.claims),
        next = escape(&continue_to),
        next_text = escape(&continue_to),
    );
    let cookie = kb.sessions.start(
        Visitor {
            email,
            claims: verified.claims,
        },
        now,
    );
    let mut response = page::html(&AHA, StatusCode::OK, "Signed in", &body);
    page::set_cookie(&mut response, &cookie);
    response
}

/// The knowledge base's own "Log out": ends its session, then the app's Remote logout URL.
async fn logout(State(kb): State<Arc<KnowledgeBase>>, headers: HeaderMap) -> Response {
    let removal = kb.sessions.end(&headers);
    let location = format!("{}/sso/aha/logout", kb.sites.app);
    page::redirect(StatusCode::FOUND, &location, &[removal])
}

/// Where the app sends the browser after its own logout: end the session, back to the app.
async fn portal_session_logout(
    State(kb): State<Arc<KnowledgeBase>>,
    headers: HeaderMap,
) -> Response {
    let removal = kb.sessions.end(&headers);
    let location = format!("{}/", kb.sites.app);
    page::redirect(StatusCode::FOUND, &location, &[removal])
}

fn refused(problem: &str) -> Response {
    let body = format!(
        "<p class=\"error\" role=\"alert\">Sign-in refused: {}</p>\n\
         <p>You are not signed in to the knowledge base.</p>\n{}",
        escape(problem),
        login_link(ARTICLE),
    );
    page::html(&AHA, StatusCode::UNAUTHORIZED, "Sign-in refused", &body)
}

/// The preset this mock portal checks tokens by.
fn aha_preset() -> &'static portal_sso::Preset {
    portal_sso::Preset::named("aha").expect("a preset of the registry")
}
