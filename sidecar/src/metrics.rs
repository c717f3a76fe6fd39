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

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use http::request::Parts;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
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

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// Every counter and histogram the sidecar keeps, and the registry that writes them out.
pub struct Metrics {
    registry: Registry,
    requests: RequestCounts,
    events: Family<EventLabels, Counter>,
    tokens: Family<PortalLabels, Counter>,
    logins: Family<PortalLabels, Counter>,
    rejected: Family<PortalLabels, Counter>,
    identity_errors: Counter,
    identity_latency: Histogram,
    upstream_errors: Family<KindLabels, Counter>,
    upstream_latency: ShardedHistogram,
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
        let requests = RequestCounts::default();
        let events = Family::default();
        let tokens = Family::default();
        let logins = Family::default();
        let rejected = Family::default();
        let identity_errors = Counter::default();
        // 1 ms .. ~16 s
        let identity_latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        let upstream_errors = Family::default();
        let upstream_latency =
            ShardedHistogram::new(std::array::from_fn(|i| 0.001 * f64::from(1_u32 << i)));
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
        }
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
        self.requests.inc(route, status);
    }

    /// Records the time to the app's response head.
    pub fn upstream_latency(&self, elapsed: Duration) {
        self.upstream_latency.observe(elapsed);
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

/// Shards of the metrics written on every proxied request; each thread writes to its
/// own, and a scrape adds them up.
///
/// prometheus-client's `Histogram` takes a lock and its `Counter` is one atomic, each
/// shared by every thread: on every request their cache line moved between the cores
/// serving requests (22 ns per observation and increment on one thread, 100-135 ns with
/// two threads at them, measured here). Threads beyond this many share shards, which
/// stays correct.
const SHARDS: usize = 16;

/// The shard of the calling thread.
fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// A value alone on its cache lines (two, as adjacent lines are fetched together).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

/// The status classes, as `portal_sso_http_requests_total` names them.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// `portal_sso_http_requests_total`, by route class (`sso`, `proxy`) and status class.
/// A series appears once it has counted a request.
#[derive(Debug, Clone)]
struct RequestCounts {
    shards: Arc<[Padded<[[AtomicU64; 5]; 2]>]>,
}

impl Default for RequestCounts {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Padded::default()).collect(),
        }
    }
}

impl RequestCounts {
    fn inc(&self, route: usize, status: usize) {
        self.shards[shard()].0[route][status].fetch_add(1, Ordering::Relaxed);
    }

    fn total(&self, route: usize, status: usize) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.0[route][status].load(Ordering::Relaxed))
            .sum()
    }
}

impl EncodeMetric for RequestCounts {
    fn encode(&self, mut encoder: MetricEncoder) -> std::fmt::Result {
        for (route_index, route) in ["sso", "proxy"].into_iter().enumerate() {
            for (status_index, status) in STATUS_CLASSES.into_iter().enumerate() {
                let total = self.total(route_index, status_index);
                if total > 0 {
                    encoder
                        .encode_family(&RequestLabels { route, status })?
                        .encode_counter::<NoLabelSet, u64, u64>(&total, None)?;
                }
            }
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }
}

/// Upper bounds of `portal_sso_upstream_duration_seconds`: 1 ms, doubling, to ~65 s.
const LATENCY_BOUNDS: usize = 17;

/// A histogram of durations, in seconds: [`LATENCY_BOUNDS`] buckets and `+Inf`.
#[derive(Debug, Clone)]
struct ShardedHistogram {
    /// Upper bounds, ascending.
    bounds: [f64; LATENCY_BOUNDS],
    shards: Arc<[Padded<HistogramShard>]>,
}

/// One thread's counts, all inside its own [`Padded`] lines.
#[derive(Debug, Default)]
struct HistogramShard {
    count: AtomicU64,
    nanos: AtomicU64,
    /// One per bound, then `+Inf`.
    buckets: [AtomicU64; LATENCY_BOUNDS + 1],
}

impl ShardedHistogram {
    fn new(bounds: [f64; LATENCY_BOUNDS]) -> Self {
        Self {
            bounds,
            shards: (0..SHARDS).map(|_| Padded::default()).collect(),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = self
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(self.bounds.len());
        let shard = &self.shards[shard()].0;
        shard.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        shard.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        shard.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The sum in seconds, the count, and each bucket's own count.
    fn totals(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let load = |value: &AtomicU64| value.load(Ordering::Relaxed);
        let count = self.shards.iter().map(|s| load(&s.0.count)).sum();
        let nanos: u64 = self.shards.iter().map(|s| load(&s.0.nanos)).sum();
        let buckets = self
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .enumerate()
            .map(|(i, bound)| {
                let total = self.shards.iter().map(|s| load(&s.0.buckets[i])).sum();
                (bound, total)
            })
            .collect();
        #[allow(clippy::cast_precision_loss)] // nanoseconds, summed into seconds
        let seconds = nanos as f64 / 1e9;
        (seconds, count, buckets)
    }
}

impl EncodeMetric for ShardedHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> std::fmt::Result {
        let (sum, count, buckets) = self.totals();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
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
    fn shards_written_from_several_threads_add_up_when_scraped() {
        let metrics = Arc::new(Metrics::new());
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let metrics = Arc::clone(&metrics);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        metrics.request(RouteClass::Proxy, StatusCode::OK);
                        metrics.upstream_latency(Duration::from_millis(3));
                    }
                    metrics.request(RouteClass::Sso, StatusCode::FOUND);
                    // On a bucket's bound: counted in that bucket (`le`).
                    metrics.upstream_latency(Duration::from_millis(1));
                    metrics.upstream_latency(Duration::from_secs(100));
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let text = metrics.encode();
        for line in [
            "portal_sso_http_requests_total{route=\"proxy\",status=\"2xx\"} 3000\n",
            "portal_sso_http_requests_total{route=\"sso\",status=\"3xx\"} 3\n",
            "portal_sso_upstream_duration_seconds_count 3006\n",
            "portal_sso_upstream_duration_seconds_sum 309.003\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"0.001\"} 3\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"0.002\"} 3\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"0.004\"} 3003\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"65.536\"} 3003\n",
            "portal_sso_upstream_duration_seconds_bucket{le=\"+Inf\"} 3006\n",
            "# TYPE portal_sso_http_requests counter\n",
            "# TYPE portal_sso_upstream_duration_seconds histogram\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(
            !text.contains("status=\"5xx\""),
            "a series before its first request"
        );
    }
}
