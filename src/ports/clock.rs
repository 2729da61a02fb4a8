//! The clock port: wall-clock time and waiting.

use std::future::Future;

/// Wall-clock time and waiting, so tests can run hours of polling in no time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> i64;
    fn sleep_ms(&self, ms: u64) -> impl Future<Output = ()> + Send;

    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }

    async fn sleep_ms(&self, ms: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use manual::ManualClock;

#[cfg(any(test, feature = "test-util"))]
mod manual {
    use super::Clock;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    /// A clock that jumps forward when asked to sleep.
    #[derive(Debug, Clone)]
    pub struct ManualClock {
        pub now_ms: Arc<AtomicI64>,
    }

    impl ManualClock {
        pub fn at(epoch_secs: i64) -> Self {
            Self {
                now_ms: Arc::new(AtomicI64::new(epoch_secs * 1000)),
            }
        }

        pub fn advance_secs(&self, secs: i64) {
            self.now_ms.fetch_add(secs * 1000, Ordering::SeqCst);
        }
    }

    impl Clock for ManualClock {
        fn now_ms(&self) -> i64 {
            self.now_ms.load(Ordering::SeqCst)
        }

        async fn sleep_ms(&self, ms: u64) {
            self.now_ms.fetch_add(ms as i64, Ordering::SeqCst);
            tokio::task::yield_now().await;
        }
    }
}
