//! [`Sso`]: the service the layer wraps around the app.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::config::{Config, Route};
use crate::future::ResponseFuture;
use crate::handler::{self, Begin};
use crate::request_origin::RequestOrigin;

/// Answers the SSO routes and passes everything else to `S` untouched.
///
/// Made by [`SsoLayer`](crate::SsoLayer). Responses are the inner service's own type: a
/// passed-on request's response comes back as the app wrote it, and the layer's pages
/// and redirects are made from text (`ResBody: From<String>`; see [`SsoBody`] for other
/// bodies). Errors are the inner service's too: the layer itself always answers with a
/// response.
///
/// [`SsoBody`]: crate::SsoBody
#[derive(Clone)]
pub struct Sso<S> {
    inner: S,
    config: Arc<Config>,
    origin: RequestOrigin,
}

impl<S> Sso<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        let origin = config.request_origin;
        Self {
            inner,
            config,
            origin,
        }
    }

    /// Reads the origin of this service's requests as `origin` says, instead of as the
    /// layer was built to: for a server that makes a service per connection and knows
    /// whether the peer is a proxy it trusts, or whether the connection is TLS. A layer
    /// built [`with_public_url`](crate::SsoLayerBuilder::with_public_url) reads no
    /// request's origin, so this changes nothing there.
    #[must_use]
    pub const fn with_request_origin(mut self, origin: RequestOrigin) -> Self {
        self.origin = origin;
        self
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for Sso<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Sso<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        match self.config.route(request.uri().path()) {
            None => ResponseFuture::passthrough(self.inner.call(request)),
            Some(route) => call_sso(&mut self.inner, &self.config, self.origin, route, request),
        }
    }
}

/// A request for one of the layer's routes. Out of line, so that the passthrough branch
/// above inlines into the caller as a path comparison and the inner call, nothing more.
#[cold]
#[inline(never)]
fn call_sso<S, ReqBody, ResBody>(
    inner: &mut S,
    config: &Arc<Config>,
    origin: RequestOrigin,
    route: Route,
    request: Request<ReqBody>,
) -> ResponseFuture<S::Future>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    if route == Route::AppLogout {
        // The session ends here: a source that remembers it forgets it now.
        let (parts, body) = request.into_parts();
        config.resolver.forget(&parts);
        let request = Request::from_parts(parts, body);
        let from_remote_logout = handler::came_from_remote_logout(config, request.headers());
        let path = request.uri().path().to_owned();
        let future = inner.call(request);
        return ResponseFuture::app_logout(future, Arc::clone(config), path, from_remote_logout);
    }
    let (parts, _body) = request.into_parts();
    match handler::begin(config, route, parts, origin) {
        Begin::Respond(response) => ResponseFuture::ready(response),
        Begin::Resolve(future) => ResponseFuture::resolving(future),
    }
}
