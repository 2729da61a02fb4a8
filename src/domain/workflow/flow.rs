//! What a step's function decides: the driver's next move ([`Next`]), or another step to enter
//! ([`Flow`]), which `transitions.rs` runs. So no step calls another: every hand-over between
//! steps is in one place.

use crate::domain::record::safety::RollbackCause;

/// When the driver goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Make the next call now.
    Now,
    /// Make the next call after this many seconds: in this invocation if its deadline allows,
    /// else in a continuation.
    After(i64),
    /// The record is finished.
    Stop,
    /// Parked until `waitUntil` (outside the maintenance window): no continuation; the sweep
    /// wakes it.
    Park,
}

/// What a step's function returns.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Flow {
    /// The driver's next move.
    Driver(Next),
    /// The next item of the hop or of the rollback (add-ons, node groups), or, when none may
    /// start, what follows them.
    Items,
    /// No item may start: the rollback's next step, the hop's verification, or back to the
    /// cluster for the next hop.
    ItemsDone,
    /// The hop's verification begins (a hop done but not yet verified).
    Verify,
    /// A rollback of the hop begins (its verification failed, `onVerifyFailure: rollback`).
    Rollback { cause: RollbackCause, reason: String },
}

impl From<Next> for Flow {
    fn from(next: Next) -> Self {
        Self::Driver(next)
    }
}
