//! EKS upgrade orchestrator: a Lambda function that runs scheduled EKS control-plane upgrades
//! exactly once, resumes them after any crash, and tracks them to the end.
//!
//! - [`domain`]: events, the stored record, and the workflow state machine (no I/O);
//! - [`ports`]: the small traits the workflow's driver needs (EKS, the record store, the
//!   self-invoke, the clock);
//! - [`adapters`]: those traits over the AWS SDK;
//! - [`handler`]: the entry point that decodes an event and drives the workflow;
//! - `fakes`: in-memory implementations of the ports, for tests only (feature `test-util`).
//!
//! `ARCHITECTURE.md` at the repository's root tells where each kind of change goes.

pub mod adapters;
pub mod config;
pub mod crash;
pub mod domain;
pub mod handler;
pub mod ports;

/// In-memory doubles of the ports, for tests: compiled only with the feature `test-util` (which
/// the crate's own tests turn on), so the Lambda binary does not carry them.
#[cfg(any(test, feature = "test-util"))]
pub mod fakes {
    pub use crate::ports::alarms::FakeAlarms;
    pub use crate::ports::clock::ManualClock;
    pub use crate::ports::eks_fake::{FakeEks, FakeEksState, FakeUpdate};
    pub use crate::ports::invoker::RecordingInvoker;
    pub use crate::ports::notifier::RecordingNotifier;
    pub use crate::ports::scheduler::RecordingScheduler;
    pub use crate::ports::store_memory::MemoryStore;
}
