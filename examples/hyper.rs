//! A plain hyper service (no framework) whose session is a JWT cookie it signs itself,
//! given Kustomer single sign-on by wrapping it in [`SsoLayer`] with the built-in
//! [`JwtCookie`] identity source.
//!
//! ```sh
//! APP_JWT_SECRET=... KUSTOMER_SSO_SECRET=... cargo run --example hyper
//! ```
//!
//! Then on <http://127.0.0.1:3001>: `/login?email=alice@example.com` signs you in (a demo
//! without password), and `/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/login`
//! sends you to Kustomer with `externalToken=<jwt>`. Stop with Ctrl-C.

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use jsonwebtoken::{EncodingKey, Header};
use portal_sso::{ClaimPointers, JwtCookie, JwtPortal, Secret, SsoLayer};
use tokio::net::TcpListener;
use tower::Layer as _;

/// The cookie the app keeps its session in.
const SESSION_COOKIE: &str = "session";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app_key = secret("APP_JWT_SECRET");

    // The layer verifies the app's own session JWT (HS256, `exp` honoured) and reads the
    // user from its claims: here `/email` and `/name/first`, `/name/last`.
    let identity = JwtCookie::hs256(SESSION_COOKIE, &app_key).with_claims(
        ClaimPointers::default()
            .with_first_name("/name/first")
            .with_last_name("/name/last"),
    );
    let sso = SsoLayer::builder()
        .with_identity(identity)
        .with_portal(
            JwtPortal::kustomer(secret("KUSTOMER_SSO_SECRET"))
                .with_redirect_origins(["https://acme.kustomer.help"])
                .with_default_redirect("https://acme.kustomer.help/login"),
        )
        .with_login_url("/login")
        .build()?;

    // The app, as a tower service; the layer wraps it and answers `/sso/kustomer` itself.
    let signing_key = EncodingKey::from_secret(app_key.expose());
    let service = sso.layer(tower::service_fn(move |request: Request<Incoming>| {
        let response = app(&request, &signing_key);
        async move { Ok::<_, Infallible>(response) }
    }));

    let listener = TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(err) = connection.await {
                eprintln!("connection: {err}");
            }
        });
    }
}

/// The app: `/login?email=...&next=...` sets the session cookie, `/` says hello.
fn app(request: &Request<Incoming>, key: &EncodingKey) -> Response<Full<Bytes>> {
    if request.uri().path() != "/login" {
        return text(StatusCode::OK, "Hello. Try /login?email=you@example.com\n");
    }
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let Some(email) = param("email") else {
        return text(StatusCode::OK, "Log in with /login?email=you@example.com\n");
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let claims = serde_json::json!({
        "email": email,
        "name": {"first": "Demo", "last": "User"},
        "exp": now + 3600,
    });
    let Ok(jwt) = jsonwebtoken::encode(&Header::default(), &claims, key) else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not sign the session\n",
        );
    };
    // Back to where the SSO route sent us from, when that is a path on this site.
    let next = param("next")
        .filter(|next| next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'))
        .unwrap_or_else(|| "/".to_owned());
    Response::builder()
        .status(StatusCode::FOUND)
        .header(LOCATION, next)
        .header(
            SET_COOKIE,
            format!("{SESSION_COOKIE}={jwt}; Path=/; HttpOnly; SameSite=Lax"),
        )
        .body(Full::new(Bytes::new()))
        .unwrap_or_else(|_| text(StatusCode::BAD_REQUEST, "bad next\n"))
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
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
