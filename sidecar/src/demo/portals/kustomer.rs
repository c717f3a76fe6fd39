//! The mock Kustomer portal: a "Log in" link that sends the browser to the app's
//! `/sso/kustomer` with an unsigned `trackingToken` and a `kustomerRedirectUri` back to its
//! own `/login?referralUrl=...`, and a `/login` that checks the `externalToken` it gets back.
//! It also serves the chat widget (see `chat`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, StatusCode, Uri};

use super::session::{Sessions, Visitor};
use super::verify::verify;
use crate::demo::page::{self, KUSTOMER, claims_block, escape};
use crate::demo::sites::Sites;
use crate::demo::{query_param, random_hex};
use crate::now_unix;
use portal_sso::{Identity, Secret};

/// The mock portal's session cookie (names differ per site: cookies ignore ports).
const SESSION_COOKIE: &str = "kustomer_session";

struct Portal {
    secret: Secret,
    sessions: Sessions,
    sites: Arc<Sites>,
}

/// The portal's routes, checking tokens with its knowledge-base `secret`, and its chat's,
/// checking the chat's tokens with `chat_secret`.
pub(crate) fn router(sites: Arc<Sites>, secret: Secret, chat_secret: Secret) -> Router {
    let chat = super::chat::routes(&sites, chat_secret);
    let state = Arc::new(Portal {
        secret,
        sessions: Sessions::new(SESSION_COOKIE),
        sites,
    });
    Router::new()
        .route("/", get(home))
        .route(super::KUSTOMER_LOGIN_PATH, get(login))
        .route("/logout", get(logout))
        .with_state(state)
        .merge(chat)
}

/// Where the portal's "Log in" sends the browser, as Kustomer builds it:
/// `{login URL}?trackingToken=UNSIGNED_JWT&kustomerRedirectUri={portal}/login?referralUrl=...`.
fn login_url(sites: &Sites) -> String {
    let referral: String =
        url::form_urlencoded::byte_serialize(format!("{}/", sites.kustomer).as_bytes()).collect();
    format!(
        "{app}/sso/kustomer?trackingToken={tracking}&kustomerRedirectUri={portal}{login}?referralUrl={referral}",
        app = sites.app,
        tracking = tracking_token(),
        portal = sites.kustomer,
        login = super::KUSTOMER_LOGIN_PATH,
    )
}

/// An unsigned JWT (`alg: none`, empty signature), as Kustomer sends for its own tracking.
fn tracking_token() -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = serde_json::json!({ "trackingId": random_hex(), "iat": now_unix() });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{claims}.")
}

fn login_link(sites: &Sites) -> String {
    format!(
        "<p><a class=\"button\" id=\"login\" href=\"{}\">Log in</a></p>\n\
         <p class=\"muted\">Custom sign-on: <em>Log in</em> takes you to the Acme App's login, \
         which sends you back here with a signed <code>externalToken</code>.</p>",
        escape(&login_url(sites))
    )
}

async fn home(State(portal): State<Arc<Portal>>, headers: HeaderMap) -> Response {
    let body = match portal.sessions.get(&headers) {
        Some(visitor) => format!(
            "<p class=\"ok\">Signed in as <strong>{}</strong></p>\n\
             <p>Your conversations and secure articles would be here.</p>\n\
             <p class=\"muted\">Signed in with these claims:</p>\n{}\n\
             <p><a href=\"/logout\">Log out of the help center</a></p>",
            escape(&visitor.email),
            claims_block(&visitor.claims),
        ),
        None => format!(
            "<p>You are not signed in.</p>\n{}",
            login_link(&portal.sites)
        ),
    };
    page::html(&KUSTOMER, StatusCode::OK, "Help Center", &body)
}

/// Kustomer's login page: with `externalToken`, the end of custom sign-on.
async fn login(State(portal): State<Arc<Portal>>, headers: HeaderMap, uri: Uri) -> Response {
    let token = match query_param(uri.query(), "externalToken") {
        Ok(Some(token)) => token,
        Ok(None) => {
            if portal.sessions.get(&headers).is_some() {
                return page::redirect(StatusCode::FOUND, "/", &[]);
            }
            let body = format!(
                "<p>This help center uses custom sign-on.</p>\n{}",
                login_link(&portal.sites)
            );
            return page::html(&KUSTOMER, StatusCode::OK, "Log in", &body);
        }
        Err(problem) => return refused(&portal.sites, &problem),
    };
    let now = now_unix();
    let verified = match verify(&token, &portal.secret, kustomer_preset(), now) {
        Ok(verified) => verified,
        Err(problem) => return refused(&portal.sites, &problem),
    };
    let email = verified.claims["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if Identity::new(email.as_str()).is_err() {
        return refused(
            &portal.sites,
            "The claim `email` is not one plain email address.",
        );
    }
    let continue_to = query_param(uri.query(), "referralUrl")
        .ok()
        .flatten()
        .filter(|url| url.starts_with(&format!("{}/", portal.sites.kustomer)))
        .unwrap_or_else(|| "/".to_owned());
    let body = format!(
        "<p class=\"ok\">Signed in as <strong>{email}</strong></p>\n\
         <p>The <code>externalToken</code> passed every check: HS256 signature with the \
         knowledge base secret, <code>email</code> and <code>iat</code> present and typed, \
         issued within the last 15 minutes.</p>\n\
         <p class=\"muted\">Header: alg {alg:?}, typ {typ}. Claims:</p>\n{claims}\n\
         <p><a class=\"button\" href=\"{next}\">Continue to the help center</a></p>",
        email = escape(&email),
        alg = verified.alg,
        typ = escape(verified.typ.as_deref().unwrap_or("(none)")),
        claims = claims_block(&verified.claims),
        next = escape(&continue_to),
    );
    let cookie = portal.sessions.start(
        Visitor {
            email,
            claims: verified.claims,
        },
        now,
    );
    let mut response = page::html(&KUSTOMER, StatusCode::OK, "Signed in", &body);
    page::set_cookie(&mut response, &cookie);
    response
}

async fn logout(State(portal): State<Arc<Portal>>, headers: HeaderMap) -> Response {
    let removal = portal.sessions.end(&headers);
    page::redirect(StatusCode::FOUND, "/", &[removal])
}

fn refused(sites: &Sites, problem: &str) -> Response {
    let body = format!(
        "<p class=\"error\" role=\"alert\">Sign-in refused: {}</p>\n\
         <p>You are not signed in to the help center.</p>\n{}",
        escape(problem),
        login_link(sites),
    );
    page::html(
        &KUSTOMER,
        StatusCode::UNAUTHORIZED,
        "Sign-in refused",
        &body,
    )
}

/// The preset this mock portal checks tokens by.
fn kustomer_preset() -> &'static portal_sso::Preset {
    portal_sso::Preset::named("kustomer").expect("a preset of the registry")
}
