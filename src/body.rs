//! [`SsoBody`]: the app's own body, or one the layer wrote.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The inner service's body, passed through frame by frame, or a short page written
    /// by the layer.
    ///
    /// [`Sso`](crate::Sso) answers with the inner service's own body type, which must be
    /// one it can make its pages from (`From<String>`). A service whose body cannot be (a
    /// boxed body, a body streamed from elsewhere) wraps its responses in this one under
    /// the layer:
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use http_body_util::{BodyExt as _, Full, combinators::BoxBody};
    /// use portal_sso::{Identity, JwtPortal, Secret, SsoBody, SsoLayer};
    /// use tower::{ServiceBuilder, ServiceExt as _};
    ///
    /// type AppBody = BoxBody<Bytes, std::convert::Infallible>;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sso = SsoLayer::builder()
    ///     .with_identity(|_parts: &http::request::Parts| async {
    ///         Ok(Some(Identity::new("alice@example.com")?))
    ///     })
    ///     .with_portal(
    ///         JwtPortal::kustomer(Secret::new("the-kustomer-knowledge-base-secret"))
    ///             .with_redirect_origins(["https://acme.kustomer.help"]),
    ///     )
    ///     .build()?;
    /// let app = ServiceBuilder::new()
    ///     .layer(sso)
    ///     .map_response(|response: Response<AppBody>| response.map(SsoBody::inner))
    ///     .service_fn(|_request: Request<String>| async {
    ///         Ok::<_, std::convert::Infallible>(Response::new(
    ///             Full::new(Bytes::from_static(b"home")).boxed(),
    ///         ))
    ///     });
    ///
    /// let home = app.clone().oneshot(Request::new(String::new())).await?;
    /// assert_eq!(home.into_body().collect().await?.to_bytes(), "home");
    /// let sign_in = app
    ///     .oneshot(
    ///         Request::get("/sso/kustomer?kustomerRedirectUri=https://acme.kustomer.help/")
    ///             .body(String::new())?,
    ///     )
    ///     .await?;
    /// assert_eq!(sign_in.status(), 302);
    /// # Ok(())
    /// # }
    /// ```
    pub struct SsoBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Full { data: Option<Bytes> },
    }
}

impl<B> SsoBody<B> {
    /// Wraps the inner service's body.
    pub const fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    /// A body made of `data`.
    pub fn full(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        Self {
            kind: Kind::Full {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }
}

impl<B> Body for SsoBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Full { data } => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

/// A page the layer wrote.
impl<B> From<String> for SsoBody<B> {
    fn from(text: String) -> Self {
        Self::full(text)
    }
}
