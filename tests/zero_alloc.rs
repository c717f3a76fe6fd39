//! "A request that is not for an SSO route costs a path comparison and nothing else: no
//! allocation." Proved with a counting global allocator in this test binary
//! (`allocation-counter`, which counts per thread).
//!
//! The inner service hands out responses built before the measurement, so whatever is
//! counted is the layer's own doing; the bare inner service is measured the same way.

#[path = "it/common/mod.rs"]
mod common;

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use allocation_counter::measure;
use common::*;
use http::{Request, Response};
use portal_sso::{SessionCookie, SsoLayer};
use tower::{Layer as _, Service};

/// How many requests each measurement sends.
const ROUNDS: usize = 1_000;

/// An inner service whose responses already exist: calling it allocates nothing.
struct Prebuilt {
    responses: Vec<Response<String>>,
}

impl Prebuilt {
    fn new() -> Self {
        Self {
            responses: (0..ROUNDS)
                .map(|i| {
                    Response::builder()
                        .header("x-app", "1")
                        .body(format!("response {i}"))
                        .unwrap()
                })
                .collect(),
        }
    }
}

impl Service<Request<()>> for Prebuilt {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<()>) -> Self::Future {
        ready(Ok(self.responses.pop().expect("a prebuilt response")))
    }
}

/// Requests for the app's own pages, with the headers a browser sends, built up front.
fn requests() -> Vec<Request<()>> {
    let uris = [
        "/",
        "/dashboard?tab=billing",
        "/sso/kustomer/extra",
        "/sso/kustomerx",
        "/SSO/aha",
        "/sso/aha/logout/",
        "/api/v1/orders/42?expand=items&page=2",
    ];
    (0..ROUNDS)
        .map(|i| {
            Request::get(uris[i % uris.len()])
                .header("cookie", format!("sid={ALICE_SID}; theme=dark"))
                .header("accept", "text/html")
                .body(())
                .unwrap()
        })
        .collect()
}

/// Calls and polls `service` once per request (a ready future is polled once), keeping
/// the responses so their drop is not measured; returns the allocations counted.
fn drive<S, B>(service: &mut S) -> (u64, usize)
where
    S: Service<Request<()>, Response = Response<B>, Error = Infallible>,
{
    let mut requests = requests();
    let mut responses = Vec::with_capacity(ROUNDS);
    let mut cx = Context::from_waker(Waker::noop());
    let info = measure(|| {
        for request in requests.drain(..) {
            assert!(service.poll_ready(&mut cx).is_ready());
            let future = pin!(service.call(request));
            let Poll::Ready(Ok(response)) = future.poll(&mut cx) else {
                panic!("a ready response");
            };
            responses.push(response);
        }
    });
    (info.count_total, responses.len())
}

fn full_layer() -> SsoLayer {
    builder(&Users::default())
        .with_portal(
            kustomer_portal()
                .with_name("brand-b")
                .with_path("/sso/kustomer/brand-b"),
        )
        .with_portal(
            aha_portal()
                .with_path("/sso/aha-ideas")
                .with_logout_path(Some("/sso/aha-ideas/logout"))
                .with_portal_logout_url("https://acme.aha.site/portal_session/logout"),
        )
        .with_app_logout_path("/logout")
        .with_session_cookie(SessionCookie::new(SESSION_COOKIE))
        .with_observer(|_: &portal_sso::SsoEvent| {})
        .build()
        .unwrap()
}

#[test]
fn the_bare_service_allocates_nothing_as_measured() {
    let (allocations, answered) = drive(&mut Prebuilt::new());
    assert_eq!(answered, ROUNDS);
    assert_eq!(allocations, 0);
}

#[test]
fn passthrough_allocates_nothing_beyond_the_bare_service() {
    let (bare, _) = drive(&mut Prebuilt::new());
    let mut sso = full_layer().layer(Prebuilt::new());
    let (layered, answered) = drive(&mut sso);
    assert_eq!(answered, ROUNDS);
    assert_eq!(
        layered, bare,
        "the layer allocated {layered} times over {ROUNDS} passthrough requests"
    );
}

#[test]
fn passthrough_with_the_smallest_config_allocates_nothing() {
    let layer = SsoLayer::builder()
        .with_identity(Users::default())
        .with_portal(kustomer_portal())
        .build()
        .unwrap();
    let (layered, _) = drive(&mut layer.layer(Prebuilt::new()));
    assert_eq!(layered, 0);
}

// The counter does see allocations: an SSO route (which builds a response) is counted.
#[test]
fn the_counter_sees_the_sso_routes_allocations() {
    let mut sso = full_layer().layer(Prebuilt::new());
    let request = Request::get("/sso/aha")
        .header("cookie", format!("sid={ALICE_SID}"))
        .body(())
        .unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    let info = measure(|| {
        let future = pin!(sso.call(request));
        let Poll::Ready(Ok(response)) = future.poll(&mut cx) else {
            panic!("the identity source is ready");
        };
        assert_eq!(response.status(), http::StatusCode::FOUND);
    });
    assert!(info.count_total > 0);
}
