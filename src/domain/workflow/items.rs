//! `RunItems`: a hop's add-on and node-group updates, each with its own token, one at a time
//! (node groups up to `nodegroupParallelism` side by side), each inside the maintenance window.

use super::status::{describe_errors, finish, refused, set_status};
use super::{Limits, Next};
use crate::domain::eks::{EksFailure, FailureKind, UpdateState, UpdateView};
use crate::domain::record::{HistoryEntry, ItemKind, ItemStatus, Step, UpgradeRecord, UpgradeStatus, WorkItem};
use crate::domain::text::human_duration;
use crate::domain::window::{self, Decision};

/// What UpdateAddon or UpdateNodegroupVersion answered for the item [`next_startable`] chose.
pub(super) fn on_item_started(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Next {
    let Some(i) = r.items.iter().position(|i| i.status == ItemStatus::Planned) else {
        return Next::Now;
    };
    match answer {
        Ok(update) => {
            let item = &mut r.items[i];
            item.status = ItemStatus::InProgress;
            item.update_id = Some(update.id.clone());
            item.started_at = Some(now);
            r.message = Some(format!("{} update {} started", item_label(&r.items[i]), update.id));
            match item_progress(r, i, &update, now, limits) {
                // More node groups may start side by side.
                Next::After(_) if next_startable(r).is_some() => Next::Now,
                other => other,
            }
        }
        // Another update of that node group or add-on: try again later.
        Err(e) if e.kind == FailureKind::ResourceInUse => Next::After(limits.poll_interval_secs),
        Err(e) if e.kind == FailureKind::NotFound => {
            r.items[i].status = ItemStatus::Skipped;
            r.items[i].finished_at = Some(now);
            r.message = Some(format!("{} is gone: {}", item_label(&r.items[i]), e.message));
            next_item(r, now, limits)
        }
        Err(e) if e.kind == FailureKind::InvalidParameter => {
            let note = format!("{}: {}", item_label(&r.items[i]), e.message);
            finish(r, UpgradeStatus::Failed, note, now, limits)
        }
        Err(e) => {
            let label = item_label(&r.items[i]);
            refused(r, &label, &e, now, limits)
        }
    }
}

/// What DescribeUpdate answered for the item [`item_to_poll`] chose.
pub(super) fn on_item_update(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Next {
    let Some(i) = item_to_poll(r) else {
        return Next::Now;
    };
    match answer {
        Ok(update) => {
            if r.items.iter().filter(|i| i.status == ItemStatus::InProgress).count() > 1 {
                r.items[i].polled_at = Some(now);
            }
            item_progress(r, i, &update, now, limits)
        }
        Err(e) if e.kind == FailureKind::NotFound => {
            let note = format!(
                "EKS no longer knows the {} update: {}",
                item_label(&r.items[i]),
                e.message
            );
            finish(r, UpgradeStatus::Failed, note, now, limits)
        }
        Err(e) => {
            let what = format!("DescribeUpdate of the {} update", item_label(&r.items[i]));
            refused(r, &what, &e, now, limits)
        }
    }
}

/// The planned item that may start now: the next one when nothing runs, or the next node group
/// while fewer than `nodegroupParallelism` node groups (and nothing else) run.
pub(super) fn next_startable(record: &UpgradeRecord) -> Option<&WorkItem> {
    let planned = record.items.iter().find(|i| i.status == ItemStatus::Planned)?;
    let running: Vec<&WorkItem> = record
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::InProgress)
        .collect();
    let room = running.is_empty()
        || (planned.kind == ItemKind::Nodegroup
            && running.iter().all(|i| i.kind == ItemKind::Nodegroup)
            && running.len() < record.nodegroup_parallelism.max(1) as usize);
    room.then_some(planned)
}

/// The running item whose update to describe next: the least recently described, so that node
/// groups updating side by side are each followed in turn (a single one is simply followed).
pub(super) fn item_to_poll(record: &UpgradeRecord) -> Option<usize> {
    record
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.status == ItemStatus::InProgress)
        .min_by_key(|(index, i)| (i.polled_at.unwrap_or(0), *index))
        .map(|(index, _)| index)
}

pub(super) fn item_label(item: &WorkItem) -> String {
    match item.kind {
        ItemKind::Addon => format!("add-on {} to {}", item.name, item.version),
        ItemKind::Nodegroup => format!("node group {} to {}", item.name, item.version),
    }
}

/// Tracks item `i`'s update.
fn item_progress(r: &mut UpgradeRecord, i: usize, update: &UpdateView, now: i64, limits: &Limits) -> Next {
    let label = item_label(&r.items[i]);
    let (status, state) = match &update.state {
        UpdateState::InProgress | UpdateState::Other(_) => return Next::After(limits.poll_interval_secs),
        UpdateState::Successful => {
            r.items[i].status = ItemStatus::Succeeded;
            r.items[i].finished_at = Some(now);
            let took = r.items[i]
                .started_at
                .map(|s| human_duration(now - s))
                .unwrap_or_default();
            r.history.push(HistoryEntry {
                at: now,
                status: r.status,
                note: format!("{label}: Successful in {took}"),
            });
            return next_item(r, now, limits);
        }
        UpdateState::Failed => (UpgradeStatus::Failed, "Failed"),
        UpdateState::Cancelled => (UpgradeStatus::Cancelled, "Cancelled"),
    };
    r.eks_errors = update.errors.clone();
    let note = format!("{label}: update {} {state}: {}", update.id, describe_errors(update));
    finish(r, status, note, now, limits)
}

/// The next planned item, inside the window; none left: back to the cluster for the next hop.
pub(super) fn next_item(r: &mut UpgradeRecord, now: i64, limits: &Limits) -> Next {
    if r.items.iter().any(|i| i.status == ItemStatus::InProgress) {
        // Node groups still updating side by side: follow them.
        r.step = Step::RunItems;
        return Next::Now;
    }
    if !r.items.iter().any(|i| i.status == ItemStatus::Planned) {
        r.step = Step::InspectCluster;
        return Next::Now;
    }
    r.step = Step::RunItems;
    if r.status == UpgradeStatus::Pending && r.update_id.is_some() {
        set_status(r, UpgradeStatus::InProgress, "add-ons and node groups".into(), now);
    }
    // A step starts only inside the maintenance window.
    match window::can_start(r.maintenance_window.as_ref(), &r.exclusions, now, 1) {
        Decision::Go => Next::Now,
        Decision::Wait {
            until: Some(until),
            reason,
        } => {
            r.wait_until = Some(until);
            set_status(r, UpgradeStatus::WaitingForWindow, reason, now);
            Next::Park
        }
        Decision::Wait { until: None, reason } => finish(r, UpgradeStatus::Blocked, reason, now, limits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::preflight::add_item;
    use crate::domain::workflow::testing::*;
    #[test]
    fn node_groups_running_side_by_side_are_each_polled_in_turn() {
        let mut r = record_at(Step::RunItems);
        r.status = UpgradeStatus::InProgress;
        for (name, id) in [("ng-a", "u-a"), ("ng-b", "u-b")] {
            add_item(
                &mut r,
                ItemKind::Nodegroup,
                name,
                "1.31",
                None,
                KubeVersion::new(1, 31),
                "base",
            );
            let item = r.items.last_mut().unwrap();
            item.status = ItemStatus::InProgress;
            item.update_id = Some(id.into());
        }
        let polled = |r: &UpgradeRecord| match next_call(r) {
            Some(Call::DescribeItemUpdate { update_id, .. }) => update_id,
            other => panic!("{other:?}"),
        };
        assert_eq!(polled(&r), "u-a");
        let r = step(
            &r,
            Answer::DescribeItemUpdate(Ok(update("u-a", UpdateState::InProgress, "VersionUpdate", None))),
        )
        .record;
        assert_eq!(polled(&r), "u-b", "the other node group is described next");
        // ng-b ends first: it is ng-b that is marked, and ng-a is still followed.
        let t = step(
            &r,
            Answer::DescribeItemUpdate(Ok(update("u-b", UpdateState::Successful, "VersionUpdate", None))),
        );
        assert_eq!(t.record.items[1].status, ItemStatus::Succeeded);
        assert_eq!(t.record.items[0].status, ItemStatus::InProgress);
        assert_eq!(polled(&t.record), "u-a");
    }
}
