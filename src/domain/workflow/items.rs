//! `RunItems`: a hop's add-on and node-group updates, each with its own token, one at a time
//! (node groups up to `nodegroupParallelism` side by side), each inside the maintenance window.

use super::calls::item_operation;
use super::flow::Flow;
use super::status::{describe_errors, finish, refusal, set_status};
use super::work::{in_phase, item_to_poll, next_startable};
use super::{Limits, Next};
use crate::domain::eks::{policy, Action, EksFailure, EksUpdateError, FailureKind, Operation, UpdateState, UpdateView};
use crate::domain::record::{HistoryEntry, ItemKind, ItemStatus, Step, UpgradeRecord, UpgradeStatus, WorkItem};
use crate::domain::text::human_duration;
use crate::domain::window::{self, Decision};

/// What UpdateAddon or UpdateNodegroupVersion answered for the item [`next_startable`] chose.
pub(super) fn on_item_started(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    // The item next_call chose, from the same record.
    let chosen = next_startable(r).map(|item| item.client_request_token.clone());
    let Some(i) = chosen.and_then(|token| r.items.iter().position(|i| i.client_request_token == token)) else {
        return Next::Now.into();
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
                Flow::Driver(Next::After(_)) if next_startable(r).is_some() => Next::Now.into(),
                other => other,
            }
        }
        // Another update of that node group or add-on: follow the ones running, then try again
        // (inside the window).
        Err(e) if policy(item_operation(r.items[i].kind), &e) == Action::WaitForOther => {
            r.items[i].deferred = true;
            r.message = Some(format!("{}: {}; trying again", item_label(&r.items[i]), e.message));
            let running = r.items.iter().any(|i| i.status == ItemStatus::InProgress);
            let poll = limits.poll_interval_secs;
            let margin = start_margin(r.items[i].kind);
            match window::can_start(r.maintenance_window.as_ref(), &r.exclusions, now + poll, margin) {
                Decision::Wait { until, reason } if !running => park(r, until, reason, now, limits).into(),
                _ => Next::After(poll).into(),
            }
        }
        Err(e) if policy(item_operation(r.items[i].kind), &e) == Action::Gone => {
            r.items[i].status = ItemStatus::Skipped;
            r.items[i].finished_at = Some(now);
            r.message = Some(format!("{} is gone: {}", item_label(&r.items[i]), e.message));
            next_item(r, now, limits)
        }
        Err(e) => item_refused(r, i, item_operation(r.items[i].kind), &e, now, limits),
    }
}

/// What DescribeUpdate answered for the item [`item_to_poll`] chose.
pub(super) fn on_item_update(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    let Some(i) = item_to_poll(r) else {
        return Next::Now.into();
    };
    match answer {
        Ok(update) => {
            if r.items.iter().filter(|i| i.status == ItemStatus::InProgress).count() > 1 {
                r.items[i].polled_at = Some(now);
            }
            // The running ones were looked at: a deferred item may be asked for again, if the
            // window is open; while it is closed, nothing new starts (the running ones are
            // followed to their end, then the upgrade parks).
            let margin = next_startable_kind(r).map_or(1, start_margin);
            let closed = window::can_start(r.maintenance_window.as_ref(), &r.exclusions, now, margin) != Decision::Go;
            for item in r.items.iter_mut().filter(|i| i.status == ItemStatus::Planned) {
                item.deferred = closed;
            }
            item_progress(r, i, &update, now, limits)
        }
        Err(e) => item_refused(r, i, Operation::DescribeItemUpdate, &e, now, limits),
    }
}

/// EKS refused item `i` (its start, or the description of its update): the item is marked
/// BLOCKED (an operator can fix it: access denied, a DEGRADED resource, a custom AMI) or FAILED
/// with EKS's code and message; the others running are followed to their end first, then the
/// upgrade ends with every refusal.
fn item_refused(r: &mut UpgradeRecord, i: usize, op: Operation, e: &EksFailure, now: i64, limits: &Limits) -> Flow {
    let label = item_label(&r.items[i]);
    let custom_ami = policy(op, e) == Action::Block && e.kind == FailureKind::InvalidParameter;
    let (blocked, note) = if custom_ami {
        // A launch template naming an image the node group's amiType did not show: the
        // operator rolls it (or names a launch template version for it).
        let note = format!(
            "{label}: {e}: it runs a custom AMI; roll it with a new launch template version, or name that version \
             in nodegroupLaunchTemplates and send the request again"
        );
        (true, note)
    } else if r.items[i].status == ItemStatus::InProgress && e.kind == FailureKind::NotFound {
        (false, format!("EKS no longer knows the {label} update: {}", e.message))
    } else {
        let (status, note) = refusal(op, &label, e);
        (status == UpgradeStatus::Blocked, note)
    };
    let name = r.items[i].name.clone();
    let item = &mut r.items[i];
    item.status = if blocked {
        ItemStatus::Blocked
    } else {
        ItemStatus::Failed
    };
    item.finished_at = Some(now);
    item.errors = vec![EksUpdateError {
        error_code: e.code.clone(),
        error_message: e.message.clone(),
        resource_ids: vec![name],
    }];
    r.last_error = Some(e.to_string());
    r.message = Some(note.clone());
    if r.items.iter().any(|i| i.status == ItemStatus::InProgress) {
        return next_item(r, now, limits);
    }
    let failed = r
        .items
        .iter()
        .filter(|i| in_phase(r, i) && i.status.is_failure())
        .count();
    if failed > 1 {
        return finish_failed(r, now, limits).into();
    }
    let status = if blocked {
        UpgradeStatus::Blocked
    } else {
        UpgradeStatus::Failed
    };
    finish(r, status, note, now, limits).into()
}

pub(super) fn item_label(item: &WorkItem) -> String {
    match item.kind {
        ItemKind::Addon => format!("add-on {} to {}", item.name, item.version),
        ItemKind::Nodegroup => format!("node group {} to {}", item.name, item.version),
    }
}

/// Tracks item `i`'s update.
fn item_progress(r: &mut UpgradeRecord, i: usize, update: &UpdateView, now: i64, limits: &Limits) -> Flow {
    let label = item_label(&r.items[i]);
    let (status, state) = match &update.state {
        // A node group's rolling replacement takes up to hours; an add-on's update minutes.
        UpdateState::InProgress | UpdateState::Other(_) => {
            let poll = match r.items[i].kind {
                ItemKind::Nodegroup => limits.update_poll_secs,
                ItemKind::Addon => limits.poll_interval_secs,
            };
            return Next::After(poll).into();
        }
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
        UpdateState::Failed => (ItemStatus::Failed, "Failed"),
        UpdateState::Cancelled => (ItemStatus::Cancelled, "Cancelled"),
    };
    let item = &mut r.items[i];
    item.status = status;
    item.finished_at = Some(now);
    item.errors = update.errors.clone();
    r.message = Some(format!(
        "{label}: update {} {state}: {}",
        update.id,
        describe_errors(update)
    ));
    next_item(r, now, limits)
}

/// Every item that failed, with EKS's errors, once none is running any more.
fn finish_failed(r: &mut UpgradeRecord, now: i64, limits: &Limits) -> Next {
    let failed: Vec<&WorkItem> = r
        .items
        .iter()
        .filter(|i| in_phase(r, i) && i.status.is_failure())
        .collect();
    // An update EKS cancelled is a failure too: only an operator's `cancel` is CANCELLED.
    let status = if failed.iter().all(|i| i.status == ItemStatus::Blocked) {
        // Only refusals an operator can fix: checked again later.
        UpgradeStatus::Blocked
    } else {
        UpgradeStatus::Failed
    };
    let note = failed
        .iter()
        .map(|i| {
            let state = match i.status {
                ItemStatus::Failed => "Failed",
                ItemStatus::Blocked => "refused",
                _ => "Cancelled by EKS",
            };
            let errors = i
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.error_code, e.error_message))
                .collect::<Vec<_>>();
            let errors = if errors.is_empty() {
                "EKS reported no errors".to_owned()
            } else {
                errors.join("; ")
            };
            let id = i.update_id.as_deref().unwrap_or_default();
            format!("{}: update {id} {state}: {errors}", item_label(i))
        })
        .collect::<Vec<_>>()
        .join(" | ");
    r.eks_errors = failed.iter().flat_map(|i| i.errors.iter().cloned()).collect();
    finish(r, status, note, now, limits)
}

/// The next planned item, inside the window; none left: what follows the items.
pub(super) fn next_item(r: &mut UpgradeRecord, now: i64, limits: &Limits) -> Flow {
    if r.items.iter().any(|i| i.status == ItemStatus::InProgress) {
        // Node groups still updating side by side: follow them (a failed one does not stop
        // the others being followed to their end).
        r.step = Step::RunItems;
        return Next::Now.into();
    }
    if r.items.iter().any(|i| in_phase(r, i) && i.status.is_failure()) {
        return finish_failed(r, now, limits).into();
    }
    if next_startable(r).is_none() {
        // Nothing that may start now (items of a later hop wait for its control plane): what
        // follows the items (`transitions.rs`).
        return Flow::ItemsDone;
    }
    r.step = Step::RunItems;
    if r.status == UpgradeStatus::Pending && r.update_id.is_some() {
        set_status(r, UpgradeStatus::InProgress, "add-ons and node groups".into(), now);
    }
    if r.rollback.is_some() {
        // A rollback does not wait for the window: it undoes a hop that failed.
        return Next::Now.into();
    }
    // A step starts only inside the maintenance window, with time left to get going.
    let margin = next_startable_kind(r).map_or(1, start_margin);
    match window::can_start(r.maintenance_window.as_ref(), &r.exclusions, now, margin) {
        Decision::Go => Next::Now.into(),
        Decision::Wait { until, reason } => park(r, until, reason, now, limits).into(),
    }
}

/// How much of the window an update needs left to start: an add-on's takes minutes; a node
/// group's replaces every node, so it starts only with half an hour left (it is followed to its
/// end whatever the window, but should not begin as the window closes).
fn start_margin(kind: ItemKind) -> i64 {
    match kind {
        ItemKind::Addon => 10 * 60,
        ItemKind::Nodegroup => 30 * 60,
    }
}

fn next_startable_kind(r: &UpgradeRecord) -> Option<ItemKind> {
    next_startable(r).map(|i| i.kind)
}

/// Outside the window: parked until it opens (the sweep wakes it), or BLOCKED if it never does.
fn park(r: &mut UpgradeRecord, until: Option<i64>, reason: String, now: i64, limits: &Limits) -> Next {
    match until {
        Some(until) => {
            r.wait_until = Some(until);
            set_status(r, UpgradeStatus::WaitingForWindow, reason, now);
            Next::Park
        }
        None => finish(r, UpgradeStatus::Blocked, reason, now, limits),
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
