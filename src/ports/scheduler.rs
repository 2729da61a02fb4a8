//! The wake-up port: an event delivered to the function at a later time (EventBridge
//! Scheduler one-time schedules), so that waiting runs nothing.

use crate::domain::event::wake::Wake;
use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("wake-up: {0}")]
pub struct ScheduleError(pub String);

/// Arranges and withdraws wake-ups.
pub trait WakeScheduler: Send + Sync {
    /// Arranges `wake`; one of the same name already arranged is success (the same wake-up).
    fn arrange(&self, wake: &Wake) -> impl Future<Output = Result<(), ScheduleError>> + Send;

    /// Withdraws the wake-up named `name`; one already gone (delivered, or never arranged) is
    /// success.
    fn withdraw(&self, name: &str) -> impl Future<Output = Result<(), ScheduleError>> + Send;
}

#[cfg(any(test, feature = "test-util"))]
pub use recording::RecordingScheduler;

#[cfg(any(test, feature = "test-util"))]
mod recording {
    use super::{ScheduleError, WakeScheduler};
    use crate::domain::event::wake::Wake;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    /// Keeps the wake-ups arranged (by name, as Scheduler does) until a test delivers them;
    /// refuses every call while `failing` is set.
    #[derive(Debug, Clone, Default)]
    pub struct RecordingScheduler {
        pub arranged: Arc<Mutex<Vec<Wake>>>,
        pub withdrawn: Arc<Mutex<Vec<String>>>,
        /// Calls to `arrange`, duplicates included.
        pub calls: Arc<Mutex<u32>>,
        pub failing: Arc<AtomicBool>,
    }

    impl RecordingScheduler {
        /// The wake-ups due at `now` (epoch seconds), removed as Scheduler deletes a one-time
        /// schedule after it ran.
        pub fn take_due(&self, now: i64) -> Vec<Wake> {
            let mut arranged = self.arranged.lock().expect("lock");
            let (due, later) = arranged.drain(..).partition(|w| w.at <= now);
            *arranged = later;
            due
        }

        /// The earliest wake-up still arranged.
        pub fn next(&self) -> Option<Wake> {
            self.arranged.lock().expect("lock").iter().min_by_key(|w| w.at).cloned()
        }

        pub fn pending(&self) -> Vec<Wake> {
            self.arranged.lock().expect("lock").clone()
        }
    }

    impl WakeScheduler for RecordingScheduler {
        async fn arrange(&self, wake: &Wake) -> Result<(), ScheduleError> {
            tokio::task::yield_now().await;
            *self.calls.lock().expect("lock") += 1;
            if self.failing.load(Ordering::SeqCst) {
                return Err(ScheduleError("ThrottlingException: Rate exceeded".to_owned()));
            }
            let mut arranged = self.arranged.lock().expect("lock");
            if !arranged.iter().any(|w| w.name == wake.name) {
                arranged.push(wake.clone());
            }
            Ok(())
        }

        async fn withdraw(&self, name: &str) -> Result<(), ScheduleError> {
            tokio::task::yield_now().await;
            if self.failing.load(Ordering::SeqCst) {
                return Err(ScheduleError("ThrottlingException: Rate exceeded".to_owned()));
            }
            self.arranged.lock().expect("lock").retain(|w| w.name != name);
            self.withdrawn.lock().expect("lock").push(name.to_owned());
            Ok(())
        }
    }
}
