//! The notifications port: publishing the outbox (EventBridge PutEvents).

use crate::domain::record::outbox::Notification;
use std::future::Future;

/// Publishing failed, wholly or in part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notifications: {message}")]
pub struct NotifyError {
    pub message: String,
    /// The ids of the notifications that did go out before or beside the failure: they leave
    /// the outbox, so they are not sent twice.
    pub published: Vec<String>,
}

impl NotifyError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            published: Vec::new(),
        }
    }
}

/// Publishes notifications (EventBridge PutEvents). A failure never fails the upgrade: the
/// notifications stay in the record's outbox and go out with the next change.
pub trait Notifier: Send + Sync {
    /// Whether notifications are published at all. Off (no `EVENT_BUS_NAME`), records keep no
    /// outbox, so a change is one write.
    fn enabled(&self) -> bool {
        true
    }

    fn publish(&self, notifications: &[Notification]) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

#[cfg(any(test, feature = "test-util"))]
pub use recording::RecordingNotifier;

#[cfg(any(test, feature = "test-util"))]
mod recording {
    use super::{Notifier, NotifyError};
    use crate::domain::record::outbox::Notification;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    /// Keeps what it published; fails while `failing` is set; says notifications are off
    /// while `off` is set (as without `EVENT_BUS_NAME`).
    #[derive(Debug, Clone, Default)]
    pub struct RecordingNotifier {
        pub published: Arc<Mutex<Vec<Notification>>>,
        pub failing: Arc<AtomicBool>,
        pub off: Arc<AtomicBool>,
        /// While set, a batch is accepted up to this many entries; the rest is refused.
        pub accept_only: Arc<Mutex<Option<usize>>>,
    }

    impl RecordingNotifier {
        pub fn all(&self) -> Vec<Notification> {
            self.published.lock().expect("lock").clone()
        }
    }

    impl Notifier for RecordingNotifier {
        fn enabled(&self) -> bool {
            !self.off.load(Ordering::SeqCst)
        }

        async fn publish(&self, notifications: &[Notification]) -> Result<(), NotifyError> {
            tokio::task::yield_now().await;
            if self.failing.load(Ordering::SeqCst) {
                return Err(NotifyError::new(
                    "AccessDeniedException: not authorized to perform events:PutEvents",
                ));
            }
            if let Some(accepted) = *self.accept_only.lock().expect("lock") {
                if notifications.len() > accepted {
                    let sent = &notifications[..accepted];
                    self.published.lock().expect("lock").extend(sent.iter().cloned());
                    return Err(NotifyError {
                        message: "PutEvents refused entries: ThrottlingException".into(),
                        published: sent.iter().map(|n| n.id.clone()).collect(),
                    });
                }
            }
            self.published
                .lock()
                .expect("lock")
                .extend(notifications.iter().cloned());
            Ok(())
        }
    }
}
