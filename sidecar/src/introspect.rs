//! [`Introspect`]: asks the app who is signed in, by calling its "who am I" endpoint with
//! the browser's cookies.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, COOKIE};
use http::request::Parts;
use http::{HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use sha2::{Digest, Sha256};

use crate::http_client;
use portal_sso::{ClaimPointers, Identity, IdentityError, IdentityResolver, find_cookies};

/// The largest "who am I" answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// How long opening a connection to the app may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads the user by calling the app's "who am I" endpoint (`GET /api/me`, say) with only
/// the browser's `Cookie` header.
///
/// - 2xx with a JSON body: signed in, the email and names read through [`ClaimPointers`]
///   (a JSON answer without an email reads as signed out);
/// - 401 or 403: signed out;
/// - anything else, a body that is not JSON, or no answer within the timeout: the source
///   is unavailable, and the layer answers 503 instead of sending the browser to log in.
///
/// A request without the session cookie is signed out without calling the app.
/// Signed-in answers are cached for a short time, keyed by the SHA-256 of exactly the
/// `Cookie` header sent to the app (never the value itself): the app decides on the whole
/// header, so an answer is only reused for a request it would decide on alike. A request
/// that carries the session cookie more than once is never answered from the cache nor
/// cached. [`forget`](IdentityResolver::forget) (remote logout, the app's logout route)
/// drops every answer cached for the request's session.
#[derive(Clone)]
pub struct Introspect {
    url: Uri,
    cookie: String,
    claims: Arc<ClaimPointers>,
    timeout: Duration,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    cache: Option<Arc<Cache>>,
}

impl Introspect {
    /// Calls `url` for requests carrying the cookie `cookie`. Defaults: 2 s timeout, a
    /// 30 s cache of at most 10 000 sessions, [`ClaimPointers::default`].
    ///
    /// # Panics
    /// Never in practice: only if rustls's ring provider refused its own default TLS
    /// versions.
    pub fn new(url: Uri, cookie: &str) -> Self {
        Self {
            url,
            cookie: cookie.to_owned(),
            claims: Arc::new(ClaimPointers::default()),
            timeout: Duration::from_secs(2),
            client: http_client::https(CONNECT_TIMEOUT)
                .expect("ring supports the default TLS versions"),
            cache: Cache::new(Duration::from_secs(30), 10_000).map(Arc::new),
        }
    }

    /// Verifies an `https://` URL's certificate with `tls`'s roots. Default: the webpki
    /// roots (Mozilla's).
    #[must_use]
    pub fn with_tls(mut self, tls: &rustls::ClientConfig) -> Self {
        self.client = http_client::with_tls(CONNECT_TIMEOUT, tls);
        self
    }

    /// Sets where the email and names sit in the answer. Default:
    /// [`ClaimPointers::default`].
    #[must_use]
    pub fn with_claims(mut self, claims: ClaimPointers) -> Self {
        self.claims = Arc::new(claims);
        self
    }

    /// Sets how long a signed-in answer is reused and how many are kept; a `ttl` of zero
    /// turns the cache off. Default: 30 s, 10 000 sessions.
    #[must_use]
    pub fn with_cache(mut self, ttl: Duration, max_entries: usize) -> Self {
        self.cache = Cache::new(ttl, max_entries).map(Arc::new);
        self
    }

    /// Sets how long the app may take to answer. Default: 2 s.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl fmt::Debug for Introspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspect")
            .field("url", &self.url)
            .field("cookie", &self.cookie)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

type IdentityFuture =
    Pin<Box<dyn Future<Output = Result<Option<Identity>, IdentityError>> + Send + 'static>>;

impl IdentityResolver for Introspect {
    type Future = IdentityFuture;

    fn resolve(&self, parts: &Parts) -> Self::Future {
        let mut sessions = find_cookies(&parts.headers, &self.cookie);
        let Some(session) = sessions.next() else {
            return Box::pin(std::future::ready(Ok(None)));
        };
        let sent_once = sessions.next().is_none();
        let cookies: Vec<HeaderValue> = parts.headers.get_all(COOKIE).iter().cloned().collect();
        let Some(header) = join_cookies(&cookies) else {
            return Box::pin(std::future::ready(Err(IdentityError::unavailable(
                "the browser's cookies could not be passed on",
            ))));
        };
        let cache = self.cache.as_ref().filter(|_| sent_once);
        let key = CacheKey {
            header: Sha256::digest(header.as_bytes()).into(),
            session: Sha256::digest(session.as_bytes()).into(),
        };
        if let Some(identity) = cache.and_then(|c| c.get(&key.header)) {
            return Box::pin(std::future::ready(Ok(Some(identity))));
        }
        let cache = cache.cloned();
        let this = self.clone();
        Box::pin(async move {
            let answer = tokio::time::timeout(this.timeout, ask(&this, header))
                .await
                .unwrap_or_else(|_| {
                    Err(IdentityError::unavailable(format!(
                        "the session endpoint did not answer within {} ms",
                        this.timeout.as_millis()
                    )))
                });
            if let (Ok(Some(identity)), Some(cache)) = (&answer, cache) {
                cache.put(key, identity.clone());
            }
            answer
        })
    }

    fn forget(&self, parts: &Parts) {
        if let Some(cache) = &self.cache {
            for session in find_cookies(&parts.headers, &self.cookie) {
                cache.forget(&Sha256::digest(session.as_bytes()).into());
            }
        }
    }
}

async fn ask(inner: &Introspect, cookie: HeaderValue) -> Result<Option<Identity>, IdentityError> {
    // Only the cookies: the browser's other headers are none of the endpoint's business.
    let request = Request::get(inner.url.clone())
        .header(ACCEPT, "application/json")
        .header(COOKIE, cookie)
        .body(Empty::new())
        .map_err(|_| IdentityError::unavailable("the session endpoint URL is not usable"))?;
    let response = inner.client.request(request).await.map_err(|err| {
        IdentityError::unavailable(if err.is_connect() {
            "the session endpoint refused the connection"
        } else {
            "the session endpoint failed to answer"
        })
    })?;
    let status = response.status();
    if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(IdentityError::unavailable(format!(
            "the session endpoint answered {}",
            status.as_u16()
        )));
    }
    let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|_| {
            IdentityError::unavailable("the session endpoint's answer was cut or too long")
        })?
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| IdentityError::unavailable("the session endpoint's answer is not JSON"))?;
    inner.claims.identity_from(&json)
}

/// One `Cookie` header out of the browser's (HTTP/2 may split them; RFC 9113 §8.2.3).
fn join_cookies(cookies: &[HeaderValue]) -> Option<HeaderValue> {
    match cookies {
        [] => None,
        [one] => Some(one.clone()),
        many => {
            let mut joined = Vec::new();
            for (i, value) in many.iter().enumerate() {
                if i > 0 {
                    joined.extend_from_slice(b"; ");
                }
                joined.extend_from_slice(value.as_bytes());
            }
            HeaderValue::from_bytes(&joined).ok()
        }
    }
}

/// Where a signed-in answer is kept: the hash of the `Cookie` header it was given for,
/// and the hash of the session cookie's value in it, by which it is forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheKey {
    header: [u8; 32],
    session: [u8; 32],
}

/// A cached answer: when it came, who, and for which session.
struct Entry {
    at: Instant,
    identity: Identity,
    session: [u8; 32],
}

/// Signed-in answers by `Cookie` header hash, each kept for `ttl`.
struct Cache {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl Cache {
    fn new(ttl: Duration, max_entries: usize) -> Option<Self> {
        (!ttl.is_zero() && max_entries > 0).then(|| Self {
            ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, header: &[u8; 32]) -> Option<Identity> {
        self.lock()
            .get(header)
            .filter(|entry| entry.at.elapsed() < self.ttl)
            .map(|entry| entry.identity.clone())
    }

    fn put(&self, key: CacheKey, identity: Identity) {
        let mut entries = self.lock();
        if entries.len() >= self.max_entries {
            entries.retain(|_, entry| entry.at.elapsed() < self.ttl);
            if entries.len() >= self.max_entries {
                // Still full of live entries: start over rather than grow without bound.
                entries.clear();
            }
        }
        let entry = Entry {
            at: Instant::now(),
            identity,
            session: key.session,
        };
        entries.insert(key.header, entry);
    }

    /// Drops every answer given for the session cookie value hashed as `session`.
    fn forget(&self, session: &[u8; 32]) {
        self.lock().retain(|_, entry| entry.session != *session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(header: u8, session: u8) -> CacheKey {
        CacheKey {
            header: [header; 32],
            session: [session; 32],
        }
    }

    #[test]
    fn the_cache_is_bounded_and_expires() {
        let cache = Cache::new(Duration::from_secs(60), 2).unwrap();
        let alice = Identity::new("alice@example.com").unwrap();
        cache.put(key(1, 1), alice.clone());
        cache.put(key(2, 2), alice.clone());
        cache.put(key(3, 3), alice.clone());
        assert!(cache.entries.lock().unwrap().len() <= 2);
        assert_eq!(cache.get(&[3; 32]), Some(alice));
        assert!(Cache::new(Duration::ZERO, 10).is_none());
    }

    #[test]
    fn forgetting_a_session_drops_every_header_it_was_cached_under() {
        let cache = Cache::new(Duration::from_secs(60), 10).unwrap();
        let alice = Identity::new("alice@example.com").unwrap();
        cache.put(key(1, 7), alice.clone());
        cache.put(key(2, 7), alice.clone());
        cache.put(key(3, 8), alice.clone());
        cache.forget(&[7; 32]);
        assert_eq!(cache.get(&[1; 32]), None);
        assert_eq!(cache.get(&[2; 32]), None);
        assert_eq!(cache.get(&[3; 32]), Some(alice));
    }

    #[test]
    fn split_cookie_headers_are_joined() {
        let joined = join_cookies(&[
            HeaderValue::from_static("a=1"),
            HeaderValue::from_static("sid=x"),
        ]);
        assert_eq!(joined.unwrap(), "a=1; sid=x");
    }
}
