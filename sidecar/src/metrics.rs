//! The sidecar's Prometheus metrics, served by the admin listener at `/metrics`.
//!
//! | metric | labels |
//! | --- | --- |
//! | `portal_sso_http_requests_total` | `route` (`sso`, `proxy`), `status` (`2xx`, ...) |
//! | `portal_sso_events_total` | `event` (`token_issued`, ...), `portal` |
//! | `portal_sso_tokens_issued_total` | `portal` |
//! | `portal_sso_login_redirects_total` | `portal` |
//! | `portal_sso_redirects_rejected_total` | `portal` |
//! | `portal_sso_identity_errors_total` | |
//! | `portal_sso_identity_duration_seconds` | histogram |
//! | `portal_sso_upstream_errors_total` | `kind` (`connect`, `timeout`, ...) |
//! | `portal_sso_upstream_duration_seconds` | histogram, time to the response head |
//! | `portal_sso_config_reloads_total` | `result` (`ok`, `error`) |
//! | `portal_sso_oidc_events_total` | `event` (`oidc_signed_in`, `oidc_refused`, ...), `provider`, `reason` |

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use http::request::Parts;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use portal_sso::{EventKind, EventObserver, Identity, IdentityError, IdentityResolver, SsoEvent};

/// Which part of the sidecar answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// An SSO route, answered by the layer.
    Sso,
    /// Everything else, forwarded to the app.
    Proxy,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
    portal: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortalLabels {
    portal: String,
}

/// The `status` label's values, in the order of [`Metrics::request`]'s index.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OidcLabels {
    event: &'static str,
    provider: String,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// Every counter and histogram the sidecar keeps, and the registry that writes them out.
pub struct Metrics {
    registry: Registry,
    /// `portal_sso_http_requests_total`'s counters, by route class and status class,
    /// made once: every request adds to one, so none is looked up per request.
    requests: [[Counter; 5]; 2],
    events: Family<EventLabels, Counter>,
    tokens: Family<PortalLabels, Counter>,
    logins: Family<PortalLabels, Counter>,
    rejected: Family<PortalLabels, Counter>,
    identity_errors: Counter,
    identity_latency: Histogram,
    upstream_errors: Family<KindLabels, Counter>,
    upstream_latency: Histogram,
    reloads: Family<ResultLabels, Counter>,
    oidc: Family<OidcLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("portal_sso");
        let requests: Family<RequestLabels, Counter> = Family::default();
        let events = Family::default();
        let tokens = Family::default();
        let logins = Family::default();
        let rejected = Family::default();
        let identity_errors = Counter::default();
        // 1 ms .. ~16 s
        let identity_latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        let upstream_errors = Family::default();
        // 1 ms .. ~65 s
        let upstream_latency = Histogram::new(exponential_buckets(0.001, 2.0, 17));
        let reloads: Family<ResultLabels, Counter> = Family::default();
        // Both results are written from the start, so an alert can compare them.
        for result in ["ok", "error"] {
            let _ = reloads.get_or_create(&ResultLabels { result });
        }
        registry.register(
            "http_requests",
            "Requests answered, by route class and status class",
            requests.clone(),
        );
        registry.register(
            "events",
            "SSO decisions, by event and portal",
            events.clone(),
        );
        registry.register(
            "tokens_issued",
            "Tokens signed and sent to a portal",
            tokens.clone(),
        );
        registry.register(
            "login_redirects",
            "Signed-out browsers sent to the app's login page",
            logins.clone(),
        );
        registry.register(
            "redirects_rejected",
            "Redirect targets refused because no configured origin allows them",
            rejected.clone(),
        );
        registry.register(
            "identity_errors",
            "Identity source failures (answered 503)",
            identity_errors.clone(),
        );
        registry.register(
            "identity_duration_seconds",
            "Time the identity source took to answer",
            identity_latency.clone(),
        );
        registry.register(
            "upstream_errors",
            "Requests the app could not answer, by kind",
            upstream_errors.clone(),
        );
        registry.register(
            "upstream_duration_seconds",
            "Time until the app's response head",
            upstream_latency.clone(),
        );
        let oidc: Family<OidcLabels, Counter> = Family::default();
        registry.register(
            "oidc_events",
            "Sign-ins through an OpenID provider and what became of them, by event, provider and reason",
            oidc.clone(),
        );
        registry.register(
            "config_reloads",
            "Config reloads on SIGHUP, by result",
            reloads.clone(),
        );
        let requests = ["sso", "proxy"].map(|route| {
            STATUS_CLASSES.map(|status| {
                requests
                    .get_or_create(&RequestLabels { route, status })
                    .clone()
            })
        });
        Self {
            registry,
            requests,
            events,
            tokens,
            logins,
            rejected,
            identity_errors,
            identity_latency,
            upstream_errors,
            upstream_latency,
            reloads,
            oidc,
        }
    }

    /// Counts one OpenID-provider decision (see `oidc::events`).
    pub fn oidc_event(&self, event: &'static str, provider: &str, reason: &'static str) {
        self.oidc
            .get_or_create(&OidcLabels {
                event,
                provider: provider.to_owned(),
                reason,
            })
            .inc();
    }

    /// Counts a config reload, applied (`ok`) or refused.
    pub fn config_reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.reloads.get_or_create(&ResultLabels { result }).inc();
    }

    /// Counts one answered request.
    pub fn request(&self, class: RouteClass, status: StatusCode) {
        let route = match class {
            RouteClass::Sso => 0,
            RouteClass::Proxy => 1,
        };
        let status = match status.as_u16() {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            _ => 4,
        };
        self.requests[route][status].inc();
    }

    /// Records the time to the app's response head.
    pub fn upstream_latency(&self, elapsed: Duration) {
        self.upstream_latency.observe(elapsed.as_secs_f64());
    }

    /// Counts a request the app could not answer.
    pub fn upstream_error(&self, kind: &'static str) {
        self.upstream_errors
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl EventObserver for Metrics {
    fn on_event(&self, event: &SsoEvent) {
        self.events
            .get_or_create(&EventLabels {
                event: event.kind.name(),
                portal: event.portal.clone(),
            })
            .inc();
        let portal = || PortalLabels {
            portal: event.portal.clone(),
        };
        match event.kind {
            EventKind::TokenIssued => {
                self.tokens.get_or_create(&portal()).inc();
            }
            EventKind::LoginRequired => {
                self.logins.get_or_create(&portal()).inc();
            }
            EventKind::RedirectRejected => {
                self.rejected.get_or_create(&portal()).inc();
            }
            EventKind::IdentityError => {
                self.identity_errors.inc();
            }
            _ => {}
        }
    }
}

/// An identity source whose answers are timed into the metrics.
pub struct Timed<R> {
    inner: R,
    metrics: Arc<Metrics>,
}

impl<R> Timed<R> {
    /// Times `inner`.
    pub fn new(inner: R, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

type TimedFuture =
    Pin<Box<dyn Future<Output = Result<Option<Identity>, IdentityError>> + Send + 'static>>;

impl<R: IdentityResolver> IdentityResolver for Timed<R> {
    type Future = TimedFuture;

    fn resolve(&self, parts: &Parts) -> Self::Future {
        let future = self.inner.resolve(parts);
        let metrics = Arc::clone(&self.metrics);
        let started = Instant::now();
        Box::pin(async move {
            let answer = future.await;
            metrics
                .identity_latency
                .observe(started.elapsed().as_secs_f64());
            answer
        })
    }

    fn forget(&self, parts: &Parts) {
        self.inner.forget(parts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_counts_and_upstream_latency_are_exposed_as_documented() {
        let metrics = Metrics::new();
        metrics.request(RouteClass::Proxy, StatusCode::OK);
        metrics.request(RouteClass::Proxy, StatusCode::NO_CONTENT);
        metrics.request(RouteClass::Sso, StatusCode::FOUND);
        // On a bucket's bound: counted in that bucket (`le`).
        metrics.upstream_latency(Duration::from_millis(1));
        metrics.upstream_latency(Duration::from_millis(3));
        metrics.upstream_latency(Duration::from_secs(100));
        let text = metrics.encode();
        for line in [
            "# TYPE portal_sso_http_requests counter\n",
            "portal_sso_http_requests_total{route=\"proxy\",status=\"2xx\"} 2\n",
            "portal_sso_http_requests_total{route=\"sso\",status=\"3xx\"} 1\n",
            "# TYPE portal_sso_upstream_duration_seconds histogram\n",
            "portal_sso_upstream_duration_seconds_count 3\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"0.001\"} 1\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"0.002\"} 1\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"0.004\"} 2\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"65.536\"} 2\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"+Inf\"} 3\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // Every route and status class is there from the start, at zero until counted.
        assert!(
            text.contains("portal_sso_http_requests_total{route=\"proxy\",status=\"5xx\"} 0\n"),
            "{text}"
        );
    }
}
