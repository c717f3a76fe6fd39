//! An axum app that already has its own login, given single sign-on into a Kustomer
//! knowledge base and an Aha! knowledge base by wrapping it in [`SsoLayer`].
//!
//! ```sh
//! KUSTOMER_SSO_SECRET=... AHA_SSO_SECRET=... cargo run --example axum
//! ```
//!
//! Then, on <http://127.0.0.1:3000>:
//! - `/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login` is what Kustomer
//!   sends the browser to: signed out, you land on `/login?next=...`; after signing in you
//!   come back and are sent to Kustomer with `externalToken=<jwt>`.
//! - `/sso/aha?state=xyz` does the same for Aha! (`jwt=<jwt>&state=xyz`).
//! - `/logout` is the app's own logout; the layer then sends the browser on to Aha!'s
//!   `/portal_session/logout`. `/sso/aha/logout` is the "Remote logout URL" for Aha!.
//!
//! The app knows nothing about SSO: the layer reads the app's session through the closure
//! given to `with_identity`. Stop with Ctrl-C.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use axum::{Router, extract::State};
use base64::Engine as _;
use portal_sso::{Identity, JwtPortal, Secret, SessionCookie, SsoEvent, SsoLayer, find_cookie};
use serde::Deserialize;

/// The app's own session store: session id -> signed-in user. A real app has a database
/// or a signed cookie here; the layer only needs a way to ask "who is this?".
#[derive(Clone, Default)]
struct Sessions(Arc<Mutex<HashMap<String, User>>>);

#[derive(Clone)]
struct User {
    email: String,
    name: String,
}

impl Sessions {
    fn get(&self, id: &str) -> Option<User> {
        self.0.lock().ok()?.get(id).cloned()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .init();
    let sessions = Sessions::default();

    // 1. Tell the layer how to find the signed-in user. Copy what the lookup needs out of
    //    the request before the `async` block; `Ok(None)` means "signed out".
    let store = sessions.clone();
    let identity = move |parts: &Parts| {
        let user = find_cookie(&parts.headers, "sid").and_then(|id| store.get(id));
        async move {
            let Some(user) = user else {
                return Ok(None);
            };
            // `Identity::new` refuses anything but exactly one email address.
            Ok(Some(Identity::new(user.email)?.with_first_name(user.name)))
        }
    };

    // 2. Configure the portals. Secrets come from the environment, never from code.
    let sso = SsoLayer::builder()
        .with_identity(identity)
        .with_portal(
            JwtPortal::kustomer(secret("KUSTOMER_SSO_SECRET"))
                .with_redirect_origins(["https://acme.kustomer.help"])
                .with_default_redirect("https://acme.kustomer.help/login"),
        )
        .with_portal(
            JwtPortal::aha(
                secret("AHA_SSO_SECRET"),
                "https://acme.aha.site/auth/jwt/callback",
            )
            .with_portal_logout_url("https://acme.aha.site/portal_session/logout"),
        )
        // Where signed-out users go, and the parameter that brings them back.
        .with_login_url("/login")
        .with_return_param("next")
        // The app's session cookie: expired by the remote logout route, and named on the
        // page shown if the browser keeps coming back without it.
        .with_session_cookie(SessionCookie::new("sid"))
        // After the app's own /logout, send the browser on to the portal's logout.
        .with_app_logout_path("/logout")
        // An audit trail: one event per decision, with the email masked.
        .with_observer(|event: &SsoEvent| {
            println!(
                "sso {} portal={} email={}",
                event.kind,
                event.portal,
                event.email.as_deref().unwrap_or("-")
            );
        })
        .build()?;

    // 3. The app itself, unchanged, with the layer around it.
    let app = Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", get(logout))
        .with_state(sessions)
        .layer(sso);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// A secret from the environment; a demo value (never for production) when unset.
fn secret(var: &str) -> Secret {
    std::env::var(var).map_or_else(
        |_| {
            eprintln!("{var} is not set: using a demo secret");
            Secret::new(format!("demo-only-{var}-0123456789abcdef"))
        },
        Secret::new,
    )
}

async fn home(State(sessions): State<Sessions>, parts: Parts) -> Html<String> {
    let user = find_cookie(&parts.headers, "sid").and_then(|id| sessions.get(id));
    Html(match user {
        Some(user) => format!(
            "<p>Signed in as {}.</p><p><a href=\"/sso/kustomer\">Help center</a> · \
             <a href=\"/sso/aha\">Ideas</a> · <a href=\"/logout\">Log out</a></p>",
            escape(&user.email)
        ),
        None => "<p><a href=\"/login\">Log in</a></p>".to_owned(),
    })
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn login_form(Query(Next { next }): Query<Next>) -> Html<String> {
    Html(format!(
        "<form method=\"post\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
         <input name=\"email\" placeholder=\"you@example.com\"><button>Log in</button></form>",
        escape(next.as_deref().unwrap_or("/"))
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    next: Option<String>,
}

/// The app's own login (a demo: no password). Creates a session, then goes back to `next`
/// when it is a path on this site, so a signed-out SSO request resumes where it started.
async fn login(State(sessions): State<Sessions>, Form(form): Form<LoginForm>) -> impl IntoResponse {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).expect("the operating system's random source");
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id);
    let name = form.email.split('@').next().unwrap_or_default().to_owned();
    if let Ok(mut store) = sessions.0.lock() {
        store.insert(
            id.clone(),
            User {
                email: form.email,
                name,
            },
        );
    }
    let next = form
        .next
        .filter(|next| next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'))
        .unwrap_or_else(|| "/".to_owned());
    (
        [(
            SET_COOKIE,
            format!("sid={id}; Path=/; HttpOnly; SameSite=Lax"),
        )],
        Redirect::to(&next),
    )
}

/// The app's own logout. The layer lets it run, keeps its `Set-Cookie`, and then sends the
/// browser to Aha!'s `/portal_session/logout`.
async fn logout(State(sessions): State<Sessions>, parts: Parts) -> impl IntoResponse {
    if let (Some(id), Ok(mut store)) = (find_cookie(&parts.headers, "sid"), sessions.0.lock()) {
        store.remove(id);
    }
    (
        [(SET_COOKIE, "sid=; Path=/; Max-Age=0; HttpOnly")],
        Redirect::to("/"),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
