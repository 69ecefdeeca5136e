//! Counting in-flight calls so a shutdown can wait for them, and no longer than it must.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{body::Body, extract::Request, middleware::Next, response::Response};
use futures::StreamExt;
use tokio::sync::Notify;

/// Shared counter of calls that have been accepted but not yet answered.
#[derive(Debug, Clone, Default)]
pub struct Drain {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    count: AtomicUsize,
    idle: Notify,
}

/// Held while a call is in flight; dropping it settles the call.
#[derive(Debug)]
pub struct InFlight {
    inner: Arc<Inner>,
}

impl Drain {
    /// Marks one call as started.
    pub fn begin(&self) -> InFlight {
        self.inner.count.fetch_add(1, Ordering::SeqCst);
        InFlight {
            inner: self.inner.clone(),
        }
    }

    /// Calls in flight now.
    pub fn count(&self) -> usize {
        self.inner.count.load(Ordering::SeqCst)
    }

    /// Resolves once no call is in flight.
    pub async fn idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            tokio::pin!(notified);
            // Register before reading the count so a settle in between is not missed.
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.inner.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.idle.notify_waiters();
        }
    }
}

/// Middleware: a POST stays in flight until its whole response body has been sent, so a call
/// answered over an SSE response stream counts until its result is out.
pub(crate) async fn track_posts(
    axum::extract::State(drain): axum::extract::State<Drain>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != http::Method::POST {
        return next.run(request).await;
    }
    let guard = drain.begin();
    let response = next.run(request).await;
    response.map(|body| {
        Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _held = &guard;
            chunk
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_waits_for_the_last_call() {
        let drain = Drain::default();
        let a = drain.begin();
        let b = drain.begin();
        let waiter = tokio::spawn({
            let drain = drain.clone();
            async move { drain.idle().await }
        });
        drop(a);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(b);
        waiter.await.unwrap();
        assert_eq!(drain.count(), 0);
    }
}
