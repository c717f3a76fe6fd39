//! Request bodies without their trailers: header fields a browser sends after a chunked
//! body would reach the app past the header cleaning, so they are not forwarded.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// A body passed on frame by frame, its trailers dropped.
    pub struct WithoutTrailers<B> {
        #[pin]
        body: B,
    }
}

impl<B> WithoutTrailers<B> {
    /// `body`, to be passed on without its trailers.
    pub const fn new(body: B) -> Self {
        Self { body }
    }
}

impl<B: Body> Body for WithoutTrailers<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut body = self.project().body;
        loop {
            match ready!(body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) if frame.is_trailers() => {}
                other => return Poll::Ready(other),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderMap;
    use http_body_util::{BodyExt as _, Full};

    #[tokio::test]
    async fn the_data_passes_and_the_trailers_do_not() {
        let mut trailers = HeaderMap::new();
        trailers.insert("x-forwarded-user", "admin@example.com".parse().unwrap());
        let body = Full::new(Bytes::from_static(b"hello"))
            .with_trailers(async { Some(Ok::<_, std::convert::Infallible>(trailers)) });
        let collected = WithoutTrailers::new(body).collect().await.unwrap();
        assert!(collected.trailers().is_none());
        assert_eq!(collected.to_bytes(), "hello");
    }
}
