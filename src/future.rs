//! [`ResponseFuture`]: the future returned by [`Sso`](crate::Sso).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use crate::config::Config;
use crate::handler::{self, BoxLoginFuture};
use crate::response::{Written, set_cookie};

pin_project! {
    /// Response future of [`Sso`](crate::Sso).
    ///
    /// A passthrough request polls the inner service's future in place and hands back
    /// its response as it is: no box, no allocation, no copy of the response. Only SSO
    /// routes hold the identity source's (boxed) future or a response the layer wrote.
    pub struct ResponseFuture<F> {
        // `None` only on SSO routes that do not call the app. Kept apart from `sso`, not
        // in one enum with it, so that the app's future is written straight into place
        // and its response returned without being moved through a wider enum.
        #[pin]
        inner: Option<F>,
        sso: RouteWork,
    }
}

/// What an SSO route still has to do; `None` on passthrough. Every variant is a pointer
/// or two, so the layer adds a few words to the app's future.
enum RouteWork {
    None,
    AppLogout(Box<AfterAppLogout>),
    Resolving(BoxLoginFuture),
    Ready(Option<Box<Written>>),
}

/// What the app logout route needs once the app has answered.
struct AfterAppLogout {
    config: Arc<Config>,
    path: String,
    from_remote_logout: bool,
}

impl<F> ResponseFuture<F> {
    pub(crate) const fn passthrough(future: F) -> Self {
        Self {
            inner: Some(future),
            sso: RouteWork::None,
        }
    }

    pub(crate) fn app_logout(
        future: F,
        config: Arc<Config>,
        path: String,
        from_remote_logout: bool,
    ) -> Self {
        Self {
            inner: Some(future),
            sso: RouteWork::AppLogout(Box::new(AfterAppLogout {
                config,
                path,
                from_remote_logout,
            })),
        }
    }

    pub(crate) fn resolving(future: BoxLoginFuture) -> Self {
        Self {
            inner: None,
            sso: RouteWork::Resolving(future),
        }
    }

    pub(crate) fn ready(response: Written) -> Self {
        Self {
            inner: None,
            sso: RouteWork::Ready(Some(Box::new(response))),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<String>,
{
    type Output = Result<Response<B>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match (this.sso, this.inner.as_pin_mut()) {
            (RouteWork::None, Some(inner)) => inner.poll(cx),
            (sso, inner) => poll_sso(sso, inner, cx),
        }
    }
}

/// The SSO routes' states, kept out of line so the passthrough poll above stays a few
/// instructions with a small stack frame when the compiler inlines it into the caller.
#[cold]
#[inline(never)]
fn poll_sso<F, B, E>(
    sso: &mut RouteWork,
    inner: Option<Pin<&mut F>>,
    cx: &mut Context<'_>,
) -> Poll<Result<Response<B>, E>>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<String>,
{
    let answered = match (sso, inner) {
        (RouteWork::AppLogout(after), Some(inner)) => {
            let mut response = ready!(inner.poll(cx))?;
            if after.from_remote_logout {
                let mut marker = Response::new(String::new());
                for removal in handler::after_remote_logout_removals(&after.config) {
                    set_cookie(&mut marker, &removal);
                }
                for value in marker.headers_mut().drain().map(|(_, v)| v) {
                    response
                        .headers_mut()
                        .append(http::header::SET_COOKIE, value);
                }
                response
            } else {
                match handler::after_app_logout(&after.config, &after.path, response) {
                    Ok(written) => written.map(B::from),
                    Err(untouched) => untouched,
                }
            }
        }
        (RouteWork::Resolving(future), _) => ready!(future.as_mut().poll(cx)).map(B::from),
        (RouteWork::Ready(response), _) => response
            .take()
            .expect("ResponseFuture polled after completion")
            .map(B::from),
        (RouteWork::None | RouteWork::AppLogout(_), _) => {
            panic!("ResponseFuture polled after completion")
        }
    };
    let mut answered = answered;
    answered.extensions_mut().insert(SsoAnswered);
    Poll::Ready(Ok(answered))
}

/// Put in the extensions of every response to a request on one of the layer's own
/// routes (login, logout, the app's logout), so a server around the layer can tell them
/// from the app's (to label its metrics, say) without matching the path again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsoAnswered;
