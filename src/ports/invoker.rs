//! The self-invoke port: the continuation the function sends itself, and the tick a rollout
//! gets when one of its clusters' upgrades ends.

use crate::domain::event::rollout::RolloutTick;
use crate::domain::Continuation;
use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("self-invoke: {0}")]
pub struct InvokeError(pub String);

/// Sends the function a continuation, asynchronously (InvocationType Event).
pub trait SelfInvoker: Send + Sync {
    fn send(&self, continuation: &Continuation) -> impl Future<Output = Result<(), InvokeError>> + Send;

    /// `{"rolloutTick": ...}`, asynchronously.
    fn send_tick(&self, tick: &RolloutTick) -> impl Future<Output = Result<(), InvokeError>> + Send;
}

#[cfg(any(test, feature = "test-util"))]
pub use recording::RecordingInvoker;

#[cfg(any(test, feature = "test-util"))]
mod recording {
    use super::{InvokeError, SelfInvoker};
    use crate::domain::event::rollout::RolloutTick;
    use crate::domain::Continuation;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    /// Keeps the continuations it was asked to send; drops them while `dropping` is set.
    #[derive(Debug, Clone, Default)]
    pub struct RecordingInvoker {
        pub sent: Arc<Mutex<Vec<Continuation>>>,
        pub ticks: Arc<Mutex<Vec<RolloutTick>>>,
        pub dropping: Arc<AtomicBool>,
    }

    impl RecordingInvoker {
        pub fn take(&self) -> Vec<Continuation> {
            std::mem::take(&mut *self.sent.lock().expect("lock"))
        }

        pub fn take_ticks(&self) -> Vec<RolloutTick> {
            std::mem::take(&mut *self.ticks.lock().expect("lock"))
        }
    }

    impl SelfInvoker for RecordingInvoker {
        async fn send(&self, continuation: &Continuation) -> Result<(), InvokeError> {
            tokio::task::yield_now().await;
            if self.dropping.load(Ordering::SeqCst) {
                return Err(InvokeError("TooManyRequestsException: Rate exceeded".to_owned()));
            }
            self.sent.lock().expect("lock").push(continuation.clone());
            Ok(())
        }

        async fn send_tick(&self, tick: &RolloutTick) -> Result<(), InvokeError> {
            tokio::task::yield_now().await;
            if self.dropping.load(Ordering::SeqCst) {
                return Err(InvokeError("TooManyRequestsException: Rate exceeded".to_owned()));
            }
            self.ticks.lock().expect("lock").push(tick.clone());
            Ok(())
        }
    }
}
