//! A small fake OpenID provider (axum + jsonwebtoken) whose token endpoint hands out
//! whatever ID token a test made: hostile ones included. It counts its key-set fetches
//! and keeps the last token request, for the tests' assertions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::key_path;
use super::oidc::{CLIENT_ID, CLIENT_SECRET};

/// The `kid` of the fake IdP's RSA key.
pub const KID: &str = "fake-rsa-1";

/// What the fake IdP serves and what it saw.
#[derive(Default)]
pub struct FakeState {
    /// The ID token the token endpoint answers with.
    pub id_token: Mutex<String>,
    /// The userinfo endpoint's answer.
    pub userinfo: Mutex<Value>,
    /// The key set served.
    pub jwks: Mutex<Value>,
    pub jwks_fetches: AtomicUsize,
    pub token_requests: AtomicUsize,
    /// The last token request's form, decoded.
    pub last_token_form: Mutex<Vec<(String, String)>>,
    /// The last token request's `Authorization` header.
    pub last_token_auth: Mutex<Option<String>>,
}

/// The fake IdP, on 127.0.0.1; stops when dropped.
pub struct FakeIdp {
    pub issuer: String,
    pub state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeIdp {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    /// The fake IdP on `addr` (a port nothing listened on, say).
    pub async fn start_on(addr: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(FakeState::default());
        *state.jwks.lock().unwrap() = json!({ "keys": [rsa_jwk(KID)] });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state((issuer.clone(), Arc::clone(&state)));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            issuer,
            state,
            task,
        }
    }

    /// Makes the token endpoint answer with `id_token`.
    pub fn hand_out(&self, id_token: &str) {
        id_token.clone_into(&mut self.state.id_token.lock().unwrap());
    }

    /// An ID token's usual claims for this IdP, with `nonce`.
    pub fn claims(&self, nonce: &str) -> Value {
        let now = now();
        json!({
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "alice-sub",
            "email": "alice@acme.test",
            "email_verified": true,
            "given_name": "Alice",
            "family_name": "Liddell",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        })
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `claims` signed RS256 with the test-only RSA key under `kid`.
pub fn rs256(claims: &Value, kid: &str) -> String {
    let pem = std::fs::read(key_path("test-only-rsa-private.pem")).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

/// `claims` signed HS256 with `key`, under the RSA key's `kid`.
pub fn hs256(claims: &Value, key: &[u8]) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
}

/// `claims` with `alg: none` and no signature.
pub fn unsigned(claims: &Value) -> String {
    let b64 =
        |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": KID})),
        b64(claims)
    )
}

/// The test-only RSA public key as a JWK named `kid`.
pub fn rsa_jwk(kid: &str) -> Value {
    let pem = std::fs::read(key_path("test-only-rsa-private.pem")).unwrap();
    let key = EncodingKey::from_rsa_pem(&pem).unwrap();
    let mut jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap(),
    )
    .unwrap();
    jwk["kid"] = json!(kid);
    jwk["use"] = json!("sig");
    jwk
}

/// The test-only RSA public key in PEM, as an attacker would find it.
pub fn public_pem() -> Vec<u8> {
    std::fs::read(key_path("test-only-rsa-public.pem")).unwrap()
}

pub const SECRET: &str = CLIENT_SECRET;

type Shared = (String, Arc<FakeState>);

async fn discovery(State((issuer, _)): State<Shared>) -> Response {
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    }))
    .into_response()
}

async fn jwks(State((_, state)): State<Shared>) -> Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    axum::Json(state.jwks.lock().unwrap().clone()).into_response()
}

async fn token(State((_, state)): State<Shared>, headers: HeaderMap, body: String) -> Response {
    state.token_requests.fetch_add(1, Ordering::SeqCst);
    *state.last_token_form.lock().unwrap() = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    *state.last_token_auth.lock().unwrap() = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let id_token = state.id_token.lock().unwrap().clone();
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({
            "access_token": "fake-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        })),
    )
        .into_response()
}

async fn userinfo(State((_, state)): State<Shared>) -> Response {
    axum::Json(state.userinfo.lock().unwrap().clone()).into_response()
}
