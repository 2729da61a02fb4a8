//! Which step follows which, in one place: a step's function returns a [`Flow`]; a hand-over to
//! another step is run here, until one gives the driver its next move. With `reconcile`'s
//! dispatch (`mod.rs`: which function takes which answer) this is the whole graph of steps
//! drawn at the top of `mod.rs`.

use super::flow::{Flow, Next};
use super::limits::Limits;
use super::work::needs_verification;
use super::{items, rollback, verify};
use crate::domain::record::{Step, UpgradeRecord};

/// Runs the hand-overs of `flow` until the driver's next move.
pub(super) fn follow(r: &mut UpgradeRecord, flow: Flow, now: i64, limits: &Limits) -> Next {
    let mut flow = flow;
    loop {
        flow = match flow {
            Flow::Driver(next) => return next,
            // After the control plane's update, a preflight, a rollback's preflight or its
            // VersionRollback: the items, each inside the window.
            Flow::Items => items::next_item(r, now, limits),
            Flow::ItemsDone if r.rollback.is_some() => rollback::after_items(r, now, limits).into(),
            Flow::ItemsDone if needs_verification(r) => Flow::Verify,
            Flow::ItemsDone => {
                r.step = Step::InspectCluster;
                Flow::Driver(Next::Now)
            }
            Flow::Verify => verify::start(r, now).into(),
            Flow::Rollback { cause, reason } => rollback::begin(r, cause, reason, false, now).into(),
        };
    }
}
