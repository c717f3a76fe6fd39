//! The cost of one sign-in through an OpenID provider: the real `portal-sso` binary, a
//! fake IdP in this process (RS256 ID tokens), and sign-ins one after another. Prints the
//! callback's latency (median, p90), the IdP's share of it (its token endpoint), the
//! sidecar's CPU time per sign-in (from /proc), and the session cookie's size.
//!
//! `cargo bench -p portal-sso-sidecar --bench oidc_callback` (`SIGN_INS=N`, default 300).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const SECRET: &str = "oidc-client-secret-for-the-bench-0123456789";

/// The fake IdP: the nonce of the sign-in in progress, and the time its token endpoint took.
#[derive(Default)]
struct Idp {
    issuer: String,
    nonce: Mutex<String>,
    token_time: Mutex<Duration>,
}

fn key() -> EncodingKey {
    let path = format!(
        "{}/../tests/keys/test-only-rsa-private.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    EncodingKey::from_rsa_pem(&std::fs::read(path).unwrap()).unwrap()
}

async fn start_idp() -> Arc<Idp> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let idp = Arc::new(Idp {
        issuer: format!("http://{}", listener.local_addr().unwrap()),
        ..Idp::default()
    });
    let mut jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key(), Algorithm::RS256).unwrap(),
    )
    .unwrap();
    jwk["kid"] = json!("bench");
    let jwks = json!({ "keys": [jwk] });
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(idp): State<Arc<Idp>>| async move {
                let i = &idp.issuer;
                axum::Json(json!({
                    "issuer": i, "authorization_endpoint": format!("{i}/auth"),
                    "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
                    "response_types_supported": ["code"], "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }))
            }),
        )
        .route("/jwks", get(move || async move { axum::Json(jwks) }))
        .route(
            "/token",
            post(|State(idp): State<Arc<Idp>>| async move {
                let started = Instant::now();
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                let claims = json!({
                    "iss": idp.issuer, "aud": "portal-sso", "sub": "alice", "email": "alice@acme.test",
                    "email_verified": true, "given_name": "Alice", "family_name": "Liddell",
                    "name": "Alice Liddell", "iat": now, "exp": now + 300,
                    "nonce": idp.nonce.lock().unwrap().clone(),
                });
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some("bench".to_owned());
                let token = jsonwebtoken::encode(&header, &claims, &key()).unwrap();
                *idp.token_time.lock().unwrap() = started.elapsed();
                axum::Json(json!({"access_token": "at", "token_type": "Bearer", "id_token": token}))
            }),
        )
        .with_state(Arc::clone(&idp));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    idp
}

/// The sidecar's user + system CPU time so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .unwrap()
        .1
        .into_owned()
}

/// Starts the release binary on `listen`, signing in through `issuer`, and waits for
/// its start line: the process and its temp dir.
fn start_sidecar(
    listen: std::net::SocketAddr,
    issuer: &str,
) -> (std::process::Child, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("portal-sso-oidc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("portal-sso.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"{listen}\"\npublic_url = \"http://{listen}\"\n[session.oidc]\nissuer = \"{issuer}\"\n\
             client_id = \"portal-sso\"\nclient_secret = {{ env = \"OIDC_CLIENT_SECRET\" }}\n\
             [[portal]]\nkind = \"aha\"\nsecret = {{ env = \"AHA_SSO_SECRET\" }}\n\
             callback_url = \"https://acme.aha.site/auth/jwt/callback\"\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal-sso"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("OIDC_CLIENT_SECRET", SECRET)
        .env(
            "AHA_SSO_SECRET",
            "aha-shared-secret-from-the-jwt-screen-0123456789",
        )
        .env("RUST_LOG", "warn,portal_sso::server=info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.contains("portal-sso started") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (child, dir)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sign_ins: usize = std::env::var("SIGN_INS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let idp = start_idp().await;
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (mut child, dir) = start_sidecar(listen, &idp.issuer);
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let get = |url: String, cookie: Option<String>| {
        let client = client.clone();
        async move {
            let mut request = http::Request::get(url);
            if let Some(cookie) = cookie {
                request = request.header(http::header::COOKIE, cookie);
            }
            let response = client
                .request(request.body(Empty::new()).unwrap())
                .await
                .unwrap();
            let (parts, body) = response.into_parts();
            body.collect().await.unwrap();
            parts
        }
    };
    let (mut callback, mut idp_share, mut cookie_size) = (Vec::new(), Vec::new(), 0);
    let mut cpu = 0u64;
    for round in 0..sign_ins + 20 {
        let login = get(
            format!("http://{listen}/sso/oidc/login?next=%2Fsso%2Faha"),
            None,
        )
        .await;
        assert_eq!(login.status, 302);
        let auth = login.headers[http::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        let flow = login.headers[http::header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        *idp.nonce.lock().unwrap() = param(&auth, "nonce");
        let url = format!(
            "http://{listen}/sso/oidc/callback?code=c&state={}",
            param(&auth, "state")
        );
        let before = cpu_ticks(child.id());
        let started = Instant::now();
        let answer = get(url, Some(flow)).await;
        let took = started.elapsed();
        assert_eq!(answer.status, 302, "sign-in {round}");
        if round >= 20 {
            callback.push(took);
            idp_share.push(*idp.token_time.lock().unwrap());
            cpu += cpu_ticks(child.id()) - before;
        }
        let session = answer
            .headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with("portal_sso_session="))
            .unwrap();
        cookie_size = session.split(';').next().unwrap().len();
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    callback.sort_unstable();
    idp_share.sort_unstable();
    // Linux counts CPU time in ticks of 10 ms (USER_HZ = 100).
    let per_callback = Duration::from_millis(cpu * 10) / u32::try_from(callback.len()).unwrap();
    let at = |v: &[Duration], percent: usize| v[(v.len() - 1) * percent / 100];
    println!("sign-ins measured          {}", callback.len());
    println!("callback latency median    {:?}", at(&callback, 50));
    println!("callback latency p90       {:?}", at(&callback, 90));
    println!(
        "  of which the IdP signing {:?} (median)",
        at(&idp_share, 50)
    );
    println!("sidecar CPU per callback   {per_callback:?}");
    println!("session cookie             {cookie_size} bytes (name=value)");
}
