//! [`LazyTimeout`]: a timeout that restarts often and rarely fires.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// A timeout counted from a moment the caller keeps and moves at will: the start of a
/// wait for a request head, the last part of a response body.
///
/// Moving that moment costs the caller a store; the sleep under it is not touched. The
/// sleep is always set no later than the deadline, so it never fires late; when it fires
/// early it is moved on to the deadline. A busy connection therefore touches the
/// runtime's timer wheel about once per timeout, not once per request.
///
/// Once a poll has left the sleep waiting with a task's waker, polling it again for the
/// same task would only register the same waker again: until the sleep fires, the
/// answer is a look at its state.
pub(crate) struct LazyTimeout {
    sleep: Pin<Box<Sleep>>,
    timeout: Duration,
    /// The waker the sleep is waiting with, if a poll is known to have registered it.
    armed: Option<Waker>,
}

impl LazyTimeout {
    /// A timeout of `timeout`, its sleep set to fire `timeout` from now.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(timeout)),
            timeout,
            armed: None,
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
        // The sleep is never set later than the deadline: while it has not fired, the
        // timeout has not passed.
        if self
            .armed
            .as_ref()
            .is_some_and(|armed| armed.will_wake(cx.waker()))
            && !self.sleep.is_elapsed()
        {
            return Poll::Pending;
        }
        // A poll turned away for want of the task's budget registers no waker.
        let registers = tokio::task::coop::has_budget_remaining();
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                self.armed = registers.then(|| cx.waker().clone());
                return Poll::Pending;
            }
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
    async fn the_sleep_wakes_the_task_that_polled_it_last() {
        let (first, second) = (CountingWaker::new(), CountingWaker::new());
        let (first_waker, second_waker) = (first.waker(), second.waker());
        let mut timeout = LazyTimeout::new(Duration::from_secs(1));
        let start = Instant::now();
        for waker in [&first_waker, &first_waker, &second_waker] {
            let mut cx = Context::from_waker(waker);
            assert!(timeout.poll_expired(&mut cx, Some(start)).is_pending());
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!((first.woken(), second.woken()), (0, 1));
        let mut cx = Context::from_waker(&second_waker);
        assert!(timeout.poll_expired(&mut cx, Some(start)).is_ready());
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

/// A waker that counts how often it is woken, for tests of what wakes a task.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct CountingWaker(std::sync::Arc<CountingWake>);

#[cfg(test)]
#[derive(Default)]
struct CountingWake(std::sync::atomic::AtomicUsize);

#[cfg(test)]
impl std::task::Wake for CountingWake {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
impl CountingWaker {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn waker(&self) -> Waker {
        Waker::from(std::sync::Arc::clone(&self.0))
    }

    pub(crate) fn woken(&self) -> usize {
        self.0.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
