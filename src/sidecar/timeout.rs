//! [`LazyTimeout`]: a timeout that restarts often and rarely fires.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// A timeout counted from a moment the caller keeps and moves at will: the start of a
/// wait for a request head, the last part of a response body.
///
/// Moving that moment costs the caller a store; the sleep under it is not touched. The
/// sleep is always set no later than the deadline, so it never fires late; when it fires
/// early it is moved on to the deadline. A busy connection therefore touches the
/// runtime's timer wheel about once per timeout, not once per request.
pub(crate) struct LazyTimeout {
    sleep: Pin<Box<Sleep>>,
    timeout: Duration,
}

impl LazyTimeout {
    /// A timeout of `timeout`, its sleep set to fire `timeout` from now.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(timeout)),
            timeout,
        }
    }

    pub(crate) const fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Ready once `timeout` has passed since `since`; never while `since` is `None`.
    ///
    /// `since` may only move forward from one call to the next (`None`, then a moment
    /// after it, is forward too): the sleep is never set later than `timeout` after a
    /// moment already given.
    pub(crate) fn poll_expired(
        &mut self,
        cx: &mut Context<'_>,
        since: Option<Instant>,
    ) -> Poll<()> {
        loop {
            ready!(self.sleep.as_mut().poll(cx));
            let now = Instant::now();
            let due = match since {
                Some(since) if now.duration_since(since) >= self.timeout => {
                    return Poll::Ready(());
                }
                Some(since) => since + self.timeout,
                None => now + self.timeout,
            };
            self.sleep.as_mut().reset(due);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(timeout: &mut LazyTimeout, since: Option<Instant>) -> Poll<()> {
        timeout.poll_expired(&mut Context::from_waker(std::task::Waker::noop()), since)
    }

    #[tokio::test(start_paused = true)]
    async fn fires_at_the_deadline_counted_from_the_latest_moment() {
        let mut timeout = LazyTimeout::new(Duration::from_secs(10));
        let start = Instant::now();
        assert!(poll(&mut timeout, Some(start)).is_pending());
        // Moved on at 6 s: the sleep fires at 10 s, early, and is moved to 16 s.
        tokio::time::advance(Duration::from_secs(6)).await;
        let moved = Instant::now();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(poll(&mut timeout, Some(moved)).is_pending());
        tokio::time::advance(Duration::from_millis(4_900)).await;
        assert!(poll(&mut timeout, Some(moved)).is_pending());
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(poll(&mut timeout, Some(moved)).is_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn never_fires_while_stopped() {
        let mut timeout = LazyTimeout::new(Duration::from_secs(1));
        for _ in 0..5 {
            tokio::time::advance(Duration::from_secs(3)).await;
            assert!(poll(&mut timeout, None).is_pending());
        }
        // Started again: a full timeout from then.
        let started = Instant::now();
        tokio::time::advance(Duration::from_millis(999)).await;
        assert!(poll(&mut timeout, Some(started)).is_pending());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(poll(&mut timeout, Some(started)).is_ready());
    }
}
