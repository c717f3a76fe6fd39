//! What the integration tests share: the app being wrapped, the users it knows, requests
//! as a browser sends them, and reading the answers (tokens, `Location`, cookies).

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

pub mod attacks;
pub mod browser;
pub mod kustomer;
pub mod tokens;

use std::future::{Ready, ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{LOCATION, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portal_sso::{
    EventKind, EventObserver, Identity, IdentityError, IdentityResolver, JwtPortal, Secret, Sso,
    SsoEvent, SsoLayer, SsoLayerBuilder, find_cookie,
};
use serde_json::{Map, Value};
use tower::{Layer as _, Service, ServiceExt as _};
use url::Url;

/// The Kustomer knowledge base's secret (brand A).
pub const KUSTOMER_SECRET: &str = "kustomer-kb-secret-acme-0123456789abcdef";
/// A second Kustomer brand's secret.
pub const KUSTOMER_B_SECRET: &str = "kustomer-kb-secret-brandb-fedcba9876543210";
/// The Aha! JWT configuration's shared secret.
pub const AHA_SECRET: &str = "aha-jwt-shared-secret-acme-0123456789abcdef";
/// A secret nobody configured.
pub const OTHER_SECRET: &str = "somebody-elses-secret-somebody-elses-secret";

/// The Kustomer portal's origin.
pub const KUSTOMER_ORIGIN: &str = "https://acme.kustomer.help";
/// The configured default redirect.
pub const KUSTOMER_DEFAULT: &str = "https://acme.kustomer.help/login";
/// The Aha! callback in the shape of the vendor's first example.
pub const AHA_CALLBACK: &str =
    "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456";
/// The Aha! callback in the shape of the vendor's second example.
pub const AHA_SITE_CALLBACK: &str = "https://acme.aha.site/auth/jwt/callback";

/// The app's session cookie name.
pub const SESSION_COOKIE: &str = "sid";
/// Alice's session: signed in, with both names.
pub const ALICE_SID: &str = "alice-session-7f3a9c2e5b1d";
/// Bob's session: signed in, no names.
pub const BOB_SID: &str = "bob-session-44e0aa91c7";
/// A session whose store is down: the source answers "unavailable".
pub const DOWN_SID: &str = "store-down-session-0b3f";
/// A session holding an email that names two mailboxes.
pub const EVIL_SID: &str = "evil-session-9d1c6e";

/// The app's identity source as the tests use it: reads `sid`, counts its calls.
#[derive(Clone, Default)]
pub struct Users {
    calls: Arc<AtomicUsize>,
}

impl Users {
    /// How many times the layer asked who is signed in.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl IdentityResolver for Users {
    type Future = Ready<Result<Option<Identity>, IdentityError>>;

    fn resolve(&self, parts: &Parts) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        ready(match find_cookie(&parts.headers, SESSION_COOKIE) {
            Some(ALICE_SID) => Identity::new("alice@example.com")
                .map(|alice| Some(alice.with_first_name("Alice").with_last_name("Liddell"))),
            Some(BOB_SID) => Identity::new("bob@example.com").map(Some),
            Some(DOWN_SID) => Err(IdentityError::unavailable(
                "the session store did not answer",
            )),
            Some(EVIL_SID) => Identity::new("a@evil.com@corp.com").map(Some),
            _ => Ok(None),
        })
    }
}

/// Kustomer brand A: its origin allowed, its login page as the default.
pub fn kustomer_portal() -> JwtPortal {
    JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
        .with_redirect_origins([KUSTOMER_ORIGIN])
        .with_default_redirect(KUSTOMER_DEFAULT)
}

/// The Aha! knowledge base, with the vendor's first callback shape.
pub fn aha_portal() -> JwtPortal {
    JwtPortal::aha(Secret::new(AHA_SECRET), AHA_CALLBACK)
}

/// A builder with `users` and both portals.
pub fn builder(users: &Users) -> SsoLayerBuilder {
    SsoLayer::builder()
        .with_identity(users.clone())
        .with_portal(kustomer_portal())
        .with_portal(aha_portal())
}

/// The layer with both portals and the default users, to put around any service.
pub fn layer() -> SsoLayer {
    builder(&Users::default()).build().expect("valid config")
}

/// The app being wrapped: a home page and a fallback that says which path it got.
pub fn inner_app() -> Router {
    Router::new().route("/", get(|| async { "home" })).fallback(
        |request: Request<Body>| async move {
            (
                StatusCode::OK,
                [("x-app", "reached")],
                format!("app saw {}", request.uri()),
            )
        },
    )
}

/// The app wrapped in the layer built from `builder`.
pub fn app(builder: SsoLayerBuilder) -> Sso<Router> {
    builder.build().expect("valid config").layer(inner_app())
}

/// The usual app: both portals, `users`.
pub fn default_app(users: &Users) -> Sso<Router> {
    app(builder(users))
}

/// A GET with no cookies.
pub fn get_req(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// A GET carrying the session cookie `sid`.
pub fn get_as(uri: &str, sid: &str) -> Request<Body> {
    Request::get(uri)
        .header(http::header::COOKIE, format!("{SESSION_COOKIE}={sid}"))
        .body(Body::empty())
        .expect("request")
}

/// A response, read to the end.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The `Location` header; panics when there is none.
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .unwrap_or_else(|| panic!("no Location on a {} answer", self.status))
            .to_str()
            .expect("Location is ASCII")
    }

    /// Whether there is a `Location` header.
    pub fn has_location(&self) -> bool {
        self.headers.contains_key(LOCATION)
    }

    /// `Location`, resolved against the app's origin when relative.
    pub fn location_url(&self) -> Url {
        Url::parse("https://app.example.com/")
            .expect("base")
            .join(self.location())
            .expect("Location is a URL")
    }

    /// The decoded values of the query parameter `name` in `Location`.
    pub fn location_params(&self, name: &str) -> Vec<String> {
        self.location_url()
            .query_pairs()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .collect()
    }

    /// The one decoded value of `name` in `Location`.
    pub fn location_param(&self, name: &str) -> String {
        let mut values = self.location_params(name);
        assert_eq!(values.len(), 1, "{name} once in {}", self.location());
        values.remove(0)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("UTF-8 body")
    }

    /// The `Set-Cookie` headers, parsed.
    pub fn set_cookies(&self) -> Vec<cookie::Cookie<'static>> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| {
                cookie::Cookie::parse(value.to_str().expect("ASCII").to_owned())
                    .expect("a Set-Cookie")
            })
            .collect()
    }

    /// The `Set-Cookie` for `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<cookie::Cookie<'static>> {
        self.set_cookies().into_iter().find(|c| c.name() == name)
    }
}

/// Sends `request` through a clone of `service` and reads the whole answer.
pub async fn send<S, B>(service: &S, request: Request<Body>) -> Reply
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let response = service
        .clone()
        .oneshot(request)
        .await
        .expect("the layer answers, never errors");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// The token carried in `Location`'s parameter `name`, as it stands in the URL.
pub fn token_in(location: &str, name: &str) -> String {
    let query = location
        .split_once('?')
        .map(|(_, query)| query.split('#').next().unwrap_or(query))
        .expect("Location has a query");
    let prefix = format!("{name}=");
    let values: Vec<_> = query
        .split('&')
        .filter_map(|pair| pair.strip_prefix(&prefix))
        .collect();
    assert_eq!(values.len(), 1, "{name} once in {location}");
    values[0].to_owned()
}

/// Verifies an HS256 token with `secret` (no claim is required) and returns its claims.
pub fn verify(
    token: &str,
    secret: &str,
) -> Result<Map<String, Value>, jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
}

/// The token's JOSE header, as the JSON text it was signed with.
pub fn header_json(token: &str) -> String {
    let header = token.split('.').next().expect("a header segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64url header");
    String::from_utf8(bytes).expect("UTF-8 header")
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Percent-decodes a query value the way a login page reading `next` would.
pub fn decode_component(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .expect("UTF-8")
        .into_owned()
}

/// What a layer did, counted: how often it asked who is signed in, how many tokens it
/// signed. For tests that must show a bad request got neither far.
#[derive(Clone, Default)]
pub struct Counts {
    identity_calls: Arc<AtomicUsize>,
    tokens_issued: Arc<AtomicUsize>,
}

impl Counts {
    /// A builder whose identity source (alice@example.com, first name Alice) and event
    /// observer count into these counts; portals are for the caller to add.
    pub fn builder(&self) -> SsoLayerBuilder {
        self.builder_for(
            Identity::new("alice@example.com")
                .expect("an address")
                .with_first_name("Alice"),
        )
    }

    /// [`builder`](Counts::builder), signing `identity` in.
    pub fn builder_for(&self, identity: Identity) -> SsoLayerBuilder {
        let calls = Arc::clone(&self.identity_calls);
        let issued = Arc::clone(&self.tokens_issued);
        SsoLayer::builder()
            .with_identity(move |_parts: &Parts| {
                calls.fetch_add(1, Ordering::SeqCst);
                let identity = identity.clone();
                async move { Ok(Some(identity)) }
            })
            .with_observer(move |event: &SsoEvent| {
                if event.kind == EventKind::TokenIssued {
                    issued.fetch_add(1, Ordering::SeqCst);
                }
            })
    }

    /// How many times the identity source was asked.
    pub fn identity_calls(&self) -> usize {
        self.identity_calls.load(Ordering::SeqCst)
    }

    /// How many tokens were signed.
    pub fn tokens_issued(&self) -> usize {
        self.tokens_issued.load(Ordering::SeqCst)
    }
}

/// Collects the events the layer reports.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<SsoEvent>>>);

impl Recorder {
    /// An observer feeding this recorder.
    pub fn observer(&self) -> impl EventObserver + use<> {
        let events = Arc::clone(&self.0);
        move |event: &SsoEvent| events.lock().expect("lock").push(event.clone())
    }

    /// The events so far, emptying the recorder.
    pub fn take(&self) -> Vec<SsoEvent> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

/// Asserts that `reply` is the 403 for an identity field that cannot go into a claim, and
/// that the one event `recorder` took since its last `take` is `identity_rejected` with a
/// reason naming `field` first.
pub fn assert_field_refused(reply: &Reply, recorder: &Recorder, field: &str) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert!(!reply.has_location());
    let events = recorder.take();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, EventKind::IdentityRejected);
    let reason = events[0].reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with(&format!("{field}: ")), "{reason}");
}
