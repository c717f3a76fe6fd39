//! [`ResponseFuture`]: the future returned by [`Sso`](crate::Sso).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use crate::body::SsoBody;
use crate::flow;
use crate::identity::BoxLoginFuture;
use crate::layer::Config;
use crate::response::{Written, set_cookie};

pin_project! {
    /// Response future of [`Sso`](crate::Sso).
    ///
    /// A passthrough request polls the inner service's future in place: no box, no
    /// allocation. Only SSO routes hold the identity source's (boxed) future.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Passthrough { #[pin] future: F },
        AppLogout { #[pin] future: F, after: Box<AfterAppLogout> },
        Resolving { future: BoxLoginFuture },
        Ready { response: Option<Written> },
    }
}

/// What the app logout route needs once the app has answered. Boxed, so that it does
/// not make every passthrough future larger (each one is moved at least once).
struct AfterAppLogout {
    config: Arc<Config>,
    path: String,
    from_remote_logout: bool,
}

impl<F> ResponseFuture<F> {
    pub(crate) const fn passthrough(future: F) -> Self {
        Self {
            state: State::Passthrough { future },
        }
    }

    pub(crate) fn app_logout(
        future: F,
        config: Arc<Config>,
        path: String,
        from_remote_logout: bool,
    ) -> Self {
        Self {
            state: State::AppLogout {
                future,
                after: Box::new(AfterAppLogout {
                    config,
                    path,
                    from_remote_logout,
                }),
            },
        }
    }

    pub(crate) fn resolving(future: BoxLoginFuture) -> Self {
        Self {
            state: State::Resolving { future },
        }
    }

    pub(crate) fn ready(response: Written) -> Self {
        Self {
            state: State::Ready {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<SsoBody<B>>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Passthrough { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map(SsoBody::inner)))
            }
            sso => poll_sso(sso, cx),
        }
    }
}

/// The SSO routes' states, kept out of line so the passthrough poll above stays a few
/// instructions with a small stack frame when the compiler inlines it into the caller.
#[cold]
#[inline(never)]
fn poll_sso<F, B, E>(
    state: StateProj<'_, F>,
    cx: &mut Context<'_>,
) -> Poll<Result<Response<SsoBody<B>>, E>>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    match state {
        StateProj::Passthrough { .. } => unreachable!("polled inline by ResponseFuture::poll"),
        StateProj::AppLogout { future, after } => {
            let AfterAppLogout {
                config,
                path,
                from_remote_logout,
            } = &**after;
            let response = ready!(future.poll(cx))?;
            if *from_remote_logout {
                let (mut parts, body) = response.into_parts();
                let mut marker = Response::new(bytes::Bytes::new());
                set_cookie(&mut marker, &flow::remote_logout_marker_removal());
                for value in marker.headers_mut().drain().map(|(_, v)| v) {
                    parts.headers.append(http::header::SET_COOKIE, value);
                }
                return Poll::Ready(Ok(Response::from_parts(parts, SsoBody::inner(body))));
            }
            Poll::Ready(Ok(match flow::after_app_logout(config, path, response) {
                Ok(written) => written.map(SsoBody::full),
                Err(untouched) => untouched.map(SsoBody::inner),
            }))
        }
        StateProj::Resolving { future } => {
            let written = ready!(future.as_mut().poll(cx));
            Poll::Ready(Ok(written.map(SsoBody::full)))
        }
        StateProj::Ready { response } => {
            let response = response
                .take()
                .expect("ResponseFuture polled after completion");
            Poll::Ready(Ok(response.map(SsoBody::full)))
        }
    }
}
