//! The mock Kustomer Chat, served by the mock Kustomer portal from its own origin, as
//! Kustomer serves its widget: `/chat.js`, the script the app's pages load, and
//! `/chat/login`, where the script hands over the token it fetched from the app's widget
//! route (`Kustomer.login({ jwtToken })`). The token is checked as Kustomer Chat checks
//! it, with the chat's own secret, and the answer names whom the chat talks to.
//!
//! `/chat/login` is called from the app's origin, so it allows that one origin to read
//! its answer (CORS, without credentials: the token is the proof). portal-sso's widget
//! route itself never sends CORS headers.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, StatusCode};
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::verify::verify_widget;
use crate::demo::sites::Sites;
use crate::now_unix;
use crate::page::protect;
use portal_sso::{Identity, Secret, Widget, WidgetPreset};

/// The chat's script, as the app's pages load it.
pub(crate) const CHAT_SCRIPT_PATH: &str = "/chat.js";
/// Where the script hands over the token (the script names it too).
const CHAT_LOGIN_PATH: &str = "/chat/login";
/// The script.
const SCRIPT: &str = include_str!("chat.js");

struct Chat {
    /// The chat widget as the sidecar signs for it: its claims and Kustomer's rules.
    widget: Widget,
    secret: Secret,
}

/// The chat's routes, for the portal's router; `secret` is the chat's own.
pub(super) fn routes(sites: &Sites, secret: Secret) -> Router {
    let preset = WidgetPreset::named("kustomer-chat").expect("a preset of the registry");
    let chat = Arc::new(Chat {
        widget: preset.widget(secret.clone()),
        secret,
    });
    // Named only to the app's origin: another origin gets no `Access-Control-*` header.
    let app = AllowOrigin::list(HeaderValue::from_str(&sites.app).ok());
    let cors = CorsLayer::new()
        .allow_origin(app)
        .allow_methods([Method::POST])
        .allow_headers([CONTENT_TYPE]);
    Router::new()
        .route(CHAT_SCRIPT_PATH, get(script))
        .route(CHAT_LOGIN_PATH, post(login).layer(cors))
        .with_state(chat)
}

async fn script() -> Response {
    let mut response = Response::new(Body::from(SCRIPT));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    protect(&mut response);
    response
}

/// `{"jwtToken": "..."}`: `200 {"email"}` when Kustomer Chat would take the token,
/// `401 {"error"}` saying why not.
async fn login(State(chat): State<Arc<Chat>>, body: Bytes) -> Response {
    let token = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|body| body.get("jwtToken")?.as_str().map(str::to_owned));
    let Some(token) = token else {
        let problem = "The body is not {\"jwtToken\": \"<token>\"}.";
        return answer(StatusCode::BAD_REQUEST, &json!({ "error": problem }));
    };
    let verified = match verify_widget(&token, &chat.widget, &chat.secret, now_unix()) {
        Ok(verified) => verified,
        Err(problem) => return answer(StatusCode::UNAUTHORIZED, &json!({ "error": problem })),
    };
    let email = verified.claims["email"].as_str().unwrap_or_default();
    if Identity::new(email).is_err() {
        let problem = "The claim `email` is not one plain email address.";
        return answer(StatusCode::UNAUTHORIZED, &json!({ "error": problem }));
    }
    answer(StatusCode::OK, &json!({ "email": email }))
}

fn answer(status: StatusCode, json: &Value) -> Response {
    let mut response = Response::new(Body::from(json.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    protect(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_hands_the_token_to_this_login() {
        assert!(SCRIPT.contains(&format!("${{chat}}{CHAT_LOGIN_PATH}")));
        assert!(SCRIPT.contains("'Chat: anonymous'"));
    }
}
