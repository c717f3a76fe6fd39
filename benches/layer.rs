//! The layer in-process: passthrough against the bare inner service, and a whole
//! `/sso/kustomer` (and `/sso/aha`) issuance against the raw signing floor.
//!
//! `cargo bench --bench layer`. Every future here is ready on its first poll (the inner
//! services and the identity closure answer at once), so each iteration is `poll_ready`,
//! `call` and one poll with a no-op waker: no runtime, nothing but the service stack is
//! timed. Issuance requests are built outside the timed routine (`iter_batched`); each
//! response is dropped inside it, as a server drops it once written (kept alive in a
//! batch, thousands of responses would make the allocator's work that of the batch).

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use criterion::{BatchSize, Criterion};
use hmac::Mac as _;
use http::{Request, Response, StatusCode, Uri, header};
use http_body_util::{Empty, Full};
use portal_sso::token::TokenSigner;
use portal_sso::{Identity, JwtAlgorithm, JwtPortal, Secret, SsoLayer};
use tower::{Layer as _, Service, ServiceExt as _};

const KUSTOMER_SECRET: &str = "kustomer-secret-kustomer-secret-0123456789";
const AHA_SECRET: &str = "aha-secret-aha-secret-aha-secret-0123456789";
const APP_PATH: &str = "/api/items/42";
const KUSTOMER_URI: &str = "/sso/kustomer?trackingToken=eyJhbGciOiJub25lIn0.eyJ0IjoxfQ.\
    &kustomerRedirectUri=https://acme.kustomer.help/login?referralUrl=https%3A%2F%2Facme.kustomer.help%2Fen_us";
const AHA_URI: &str = "/sso/aha?state=7d1f0c2b&return_to=/ideas/APP-I-469";

/// Polls a future that must be ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("every future in this benchmark is ready on its first poll"),
    }
}

/// `poll_ready`, `call`, one poll: one request through `service`.
fn serve<S, B>(service: &mut S, request: Request<B>) -> S::Response
where
    S: Service<Request<B>>,
    S::Error: std::fmt::Debug,
{
    ready(service.ready()).expect("the service is ready");
    ready(service.call(request)).expect("the service answers")
}

fn app_request() -> Request<Empty<Bytes>> {
    Request::get(APP_PATH)
        .header(header::HOST, "app.example.com")
        .header(header::COOKIE, "sid=alice")
        .body(Empty::new())
        .expect("valid request")
}

fn sso_request(uri: &str) -> Request<Empty<Bytes>> {
    Request::get(uri)
        .header(header::HOST, "app.example.com")
        .header(header::COOKIE, "sid=alice")
        .body(Empty::new())
        .expect("valid request")
}

fn layer() -> SsoLayer {
    SsoLayer::builder()
        .with_identity(|_parts: &http::request::Parts| async {
            Ok(Some(
                Identity::new("alice.example@example.com")?
                    .with_first_name("Alice")
                    .with_last_name("Example"),
            ))
        })
        .with_portal(
            JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
                .with_redirect_origins(["https://acme.kustomer.help"]),
        )
        // Three routes: /sso/kustomer, /sso/aha and (by default) /sso/aha/logout.
        .with_portal(JwtPortal::aha(
            Secret::new(AHA_SECRET),
            "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456",
        ))
        .build()
        .expect("valid layer")
}

/// The token in a redirect's `Location` after `param=`.
fn token_in<B>(response: &Response<B>, param: &str) -> String {
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ASCII location");
    let start = location.find(param).expect("the token parameter") + param.len();
    location[start..]
        .split(['&', '#'])
        .next()
        .expect("a value")
        .to_owned()
}

/// A request to the app that costs no allocation to build or drop: a static URI, no
/// headers, an empty body. Built inside the timed routine, the same for both sides.
fn cheap_app_request(uri: &Uri) -> Request<Empty<Bytes>> {
    let mut request = Request::new(Empty::new());
    *request.uri_mut() = uri.clone();
    request
}

fn passthrough(c: &mut Criterion, started: SystemTime, paired: &mut Vec<(&'static str, Vec<f64>)>) {
    let inner = tower::service_fn(|_request: Request<Empty<Bytes>>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(Full::new(
            Bytes::from_static(b"ok"),
        ))))
    });
    let mut bare = inner;
    let mut layered = layer().layer(inner);
    assert_eq!(serve(&mut layered, app_request()).status(), StatusCode::OK);

    let router =
        axum::Router::new().route("/api/items/{id}", axum::routing::get(|| async { "ok" }));
    let mut bare_router = router.clone();
    let mut layered_router = layer().layer(router);
    assert_eq!(
        serve(&mut layered_router, app_request()).status(),
        StatusCode::OK
    );

    // Same length as `/sso/kustomer`, so the route lookup compares bytes, not just lengths.
    let uri = Uri::from_static(APP_PATH);
    let mut group = c.benchmark_group("passthrough");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("request_only", |b| {
        b.iter(|| cheap_app_request(black_box(&uri)));
    });
    group.bench_function("bare", |b| {
        b.iter(|| serve(&mut bare, cheap_app_request(black_box(&uri))));
    });
    group.bench_function("layer", |b| {
        b.iter(|| serve(&mut layered, cheap_app_request(black_box(&uri))));
    });
    // A realistic inner service: an axum Router matching a path with a parameter.
    group.bench_function("axum_bare", |b| {
        b.iter(|| serve(&mut bare_router, cheap_app_request(black_box(&uri))));
    });
    group.bench_function("axum_layer", |b| {
        b.iter(|| serve(&mut layered_router, cheap_app_request(black_box(&uri))));
    });
    group.finish();

    if common::estimate_ns("passthrough/axum_layer", started).is_some() {
        let ratios = common::paired(
            PAIRED_ROUNDS,
            || {
                common::ns_per_call(20_000, || {
                    serve(&mut layered_router, cheap_app_request(&uri))
                })
            },
            || common::ns_per_call(20_000, || serve(&mut bare_router, cheap_app_request(&uri))),
        );
        paired.push(("passthrough: layer / bare axum Router", ratios));
    }
    if common::estimate_ns("passthrough/layer", started).is_some() {
        let ratios = common::paired(
            PAIRED_ROUNDS,
            || common::ns_per_call(200_000, || serve(&mut layered, cheap_app_request(&uri))),
            || common::ns_per_call(200_000, || serve(&mut bare, cheap_app_request(&uri))),
        );
        paired.push(("passthrough: layer / bare service_fn", ratios));
    }
}

fn issuance(c: &mut Criterion, started: SystemTime, paired: &mut Vec<(&'static str, Vec<f64>)>) {
    let inner = tower::service_fn(|_request: Request<Empty<Bytes>>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(Full::new(
            Bytes::from_static(b"ok"),
        ))))
    });
    let mut layered = layer().layer(inner);

    let kustomer_token = token_in(
        &serve(&mut layered, sso_request(KUSTOMER_URI)),
        "externalToken=",
    );
    let aha_token = token_in(&serve(&mut layered, sso_request(AHA_URI)), "jwt=");
    let article_token = token_in(
        &serve(
            &mut layered,
            sso_request(&format!("{KUSTOMER_URI}%2Farticles%2F7")),
        ),
        "externalToken=",
    );
    assert_eq!(article_token.matches('.').count(), 2, "a compact JWS");
    let kustomer_input = common::signing_input(&kustomer_token).as_bytes().to_vec();
    let aha_input = common::signing_input(&aha_token).as_bytes().to_vec();
    let kustomer_keyed =
        common::HmacSha256::new_from_slice(KUSTOMER_SECRET.as_bytes()).expect("any key length");
    let signer = TokenSigner::new(JwtAlgorithm::HS256, &Secret::new(KUSTOMER_SECRET)).unwrap();
    let identity = Identity::new("alice.example@example.com").expect("valid email");

    let mut group = c.benchmark_group("issuance");
    group.bench_function("floor_kustomer", |b| {
        b.iter(|| {
            common::floor(
                black_box(KUSTOMER_SECRET.as_bytes()),
                black_box(&kustomer_input),
            )
        });
    });
    group.bench_function("floor_prekeyed_kustomer", |b| {
        b.iter(|| common::floor_prekeyed(black_box(&kustomer_keyed), black_box(&kustomer_input)));
    });
    group.bench_function("sign_kustomer", |b| {
        b.iter(|| {
            signer
                .sign(&serde_json::json!({
                    "email": black_box(&identity).email(),
                    "iat": black_box(1_763_700_000u64),
                }))
                .expect("Kustomer claims serialize")
        });
    });
    group.bench_function("kustomer", |b| {
        b.iter_batched(
            || sso_request(KUSTOMER_URI),
            |r| drop(serve(&mut layered, r)),
            BatchSize::SmallInput,
        );
    });
    // A portal sends its few login addresses again and again, and the layer remembers the
    // ones it accepted: the line above is the usual case. Here every request names one
    // of 1024 different articles, more than the layer remembers, so each target is
    // parsed and checked in full: the cost when targets do not repeat.
    let mut article = 0u32;
    group.bench_function("kustomer_distinct_targets", |b| {
        b.iter_batched(
            || {
                article = (article + 1) % 1024;
                sso_request(&format!("{KUSTOMER_URI}%2Farticles%2F{article}"))
            },
            |r| drop(serve(&mut layered, r)),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("floor_aha", |b| {
        b.iter(|| common::floor(black_box(AHA_SECRET.as_bytes()), black_box(&aha_input)));
    });
    group.bench_function("aha", |b| {
        b.iter_batched(
            || sso_request(AHA_URI),
            |r| drop(serve(&mut layered, r)),
            BatchSize::SmallInput,
        );
    });
    group.finish();

    if common::estimate_ns("issuance/kustomer", started).is_some() {
        let ratios = common::paired(
            PAIRED_ROUNDS,
            || {
                // As the criterion bench above: requests built untimed, in batches small
                // enough to stay in cache.
                let mut timed = std::time::Duration::ZERO;
                for _ in 0..100 {
                    let requests: Vec<_> = (0..100).map(|_| sso_request(KUSTOMER_URI)).collect();
                    let batch = std::time::Instant::now();
                    for request in requests {
                        drop(serve(&mut layered, request));
                    }
                    timed += batch.elapsed();
                }
                timed.as_secs_f64() * 1e9 / 10_000.0
            },
            || {
                common::ns_per_call(10_000, || {
                    common::floor(KUSTOMER_SECRET.as_bytes(), &kustomer_input)
                })
            },
        );
        paired.push(("/sso/kustomer issuance / floor", ratios));
    }
}

/// Rounds of each alternating measurement.
const PAIRED_ROUNDS: usize = 31;

fn main() {
    let started = SystemTime::now();
    let mut paired = Vec::new();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    passthrough(&mut criterion, started, &mut paired);
    issuance(&mut criterion, started, &mut paired);
    criterion.final_summary();
    common::report(
        "ratios (this run)",
        started,
        &[
            (
                "passthrough: layer / bare service_fn",
                "passthrough/layer",
                "passthrough/bare",
            ),
            (
                "passthrough: layer / bare axum Router",
                "passthrough/axum_layer",
                "passthrough/axum_bare",
            ),
            (
                "/sso/kustomer issuance / floor",
                "issuance/kustomer",
                "issuance/floor_kustomer",
            ),
            (
                "/sso/kustomer, targets not repeated / floor",
                "issuance/kustomer_distinct_targets",
                "issuance/floor_kustomer",
            ),
            (
                "/sso/kustomer issuance / prekeyed floor",
                "issuance/kustomer",
                "issuance/floor_prekeyed_kustomer",
            ),
            (
                "kustomer signing / floor",
                "issuance/sign_kustomer",
                "issuance/floor_kustomer",
            ),
            (
                "/sso/aha issuance / floor",
                "issuance/aha",
                "issuance/floor_aha",
            ),
        ],
    );
    let estimate = |id| common::estimate_ns(id, started);
    if let (Some(request), Some(bare), Some(layer)) = (
        estimate("passthrough/request_only"),
        estimate("passthrough/bare"),
        estimate("passthrough/layer"),
    ) {
        println!(
            "  {:<44} {:>10.1} ns / {:>10.1} ns = {:>6.3}x",
            "passthrough net of building the request",
            layer - request,
            bare - request,
            (layer - request) / (bare - request)
        );
    }
    if !paired.is_empty() {
        println!("\nratios taken in alternation, round by round (this run)");
        for (label, ratios) in &paired {
            common::report_paired(label, ratios);
        }
    }
}
