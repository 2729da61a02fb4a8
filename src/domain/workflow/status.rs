//! How a record's status changes: a new status with its history line, the end of an attempt,
//! and the chain bound. Shared by every step.

use super::rollback::{followed_until, timeout_minutes};
use super::{Limits, Next};
use crate::domain::eks::{policy, Action, EksFailure, FailureKind, Operation, UpdateView};
use crate::domain::record::{HistoryEntry, ItemKind, ItemStatus, Step, UpgradeRecord, UpgradeStatus, RESUMABLE};
use crate::domain::text::human_duration;

/// Sets the status and the message; a change of status is written to the history.
pub(super) fn set_status(r: &mut UpgradeRecord, status: UpgradeStatus, note: String, now: i64) {
    // The same status for the same reason again (a re-check that found the same block) is not
    // a new line of history.
    let repeated = r.history.last().is_some_and(|h| h.status == status && h.note == note);
    if r.status != status && !repeated {
        r.history.push(HistoryEntry {
            at: now,
            status,
            note: note.clone(),
        });
    }
    if matches!(status, UpgradeStatus::InProgress | UpgradeStatus::Succeeded) {
        // Progress: a later block counts its age afresh.
        r.blocked_since = None;
    }
    r.status = status;
    r.message = Some(note);
}

/// Ends the attempt with `status`. A BLOCKED record stays resumable: the sweep checks it again
/// after `blocked_recheck_secs`, until it has been blocked for `blocked_give_up_secs`.
pub(super) fn finish(r: &mut UpgradeRecord, status: UpgradeStatus, note: String, now: i64, limits: &Limits) -> Next {
    // During a rollback, whatever ends it short of its end is a failed rollback.
    let status = match status {
        UpgradeStatus::Failed | UpgradeStatus::Cancelled | UpgradeStatus::Blocked | UpgradeStatus::TimedOut
            if r.rollback.is_some() =>
        {
            UpgradeStatus::RollbackFailed
        }
        other => other,
    };
    if status != UpgradeStatus::Blocked {
        return end(r, status, note, now, limits);
    }
    let since = *r.blocked_since.get_or_insert(now);
    let given_up = limits.blocked_give_up_secs > 0 && now - since >= limits.blocked_give_up_secs;
    if limits.blocked_recheck_secs == 0 || given_up {
        let note = if given_up {
            format!(
                "{note}. Still blocked after {}: re-checks stopped (BLOCKED_GIVE_UP_AFTER_SECONDS); send the request \
                 again once the reason is gone",
                human_duration(now - since)
            )
        } else {
            note
        };
        return end(r, status, note, now, limits);
    }
    end(r, status, note, now, limits);
    // Parked, not over: the sweep looks again later, once the reason may be gone.
    r.sweep_bucket = Some(RESUMABLE.to_owned());
    r.wait_until = Some(now + limits.blocked_recheck_secs);
    r.expires_at = None;
    Next::Stop
}

/// BLOCKED for good: an operator must act (a cluster taken out of enrollment), so the sweep
/// does not check it again.
pub(super) fn block_for_good(r: &mut UpgradeRecord, note: String, now: i64, limits: &Limits) -> Next {
    r.blocked_since.get_or_insert(now);
    end(r, UpgradeStatus::Blocked, note, now, limits)
}

/// Cancelled by an operator (see `exclusion::cancel`).
pub(super) fn end_cancelled(r: &mut UpgradeRecord, now: i64, limits: &Limits) {
    let note = format!(
        "cancelled by request while {:?}; the cluster is free for another upgrade",
        r.status
    );
    end(r, UpgradeStatus::Cancelled, note, now, limits);
}

/// Given up by its rollout before its first change: CANCELLED (the rollout already counts the
/// cluster as not started or skipped).
pub(super) fn end_given_up(r: &mut UpgradeRecord, note: String, now: i64, limits: &Limits) {
    end(r, UpgradeStatus::Cancelled, note, now, limits);
}

fn end(r: &mut UpgradeRecord, status: UpgradeStatus, note: String, now: i64, limits: &Limits) -> Next {
    set_status(r, status, note, now);
    r.step = Step::Done;
    r.finished_at = Some(now);
    r.sweep_bucket = None;
    r.handoff = None;
    r.lease_owner = None;
    r.lease_until = 0;
    r.wait_until = None;
    r.expires_at = Some(now + limits.retention_secs);
    Next::Stop
}

/// Ends the attempt when going on would pass a bound: the update being followed has run longer
/// than its kind may, or the whole attempt is older than `max_attempt_secs`.
pub(super) fn bound(r: &mut UpgradeRecord, next: Next, now: i64, limits: &Limits) -> Next {
    let Next::After(secs) = next else {
        return next;
    };
    let at = now + secs;
    let timeout = |u: &RunningUpdate| u.bound.unwrap_or_else(|| limits.update_timeout_secs(u.kind));
    if let Some(late) = running_updates(r).into_iter().find(|u| at > u.started + timeout(u)) {
        let note = format!(
            "{} still in progress after {} (bound {} = {}); it may still be running in EKS: follow it with DescribeUpdate",
            late.describe(),
            human_duration(now - late.started),
            match (late.bound, late.kind) {
                (Some(_), _) => "the rollback's timeoutMinutes and an hour",
                (None, None) => "CONTROL_PLANE_UPDATE_TIMEOUT_SECONDS",
                (None, Some(ItemKind::Addon)) => "ADDON_UPDATE_TIMEOUT_SECONDS",
                (None, Some(ItemKind::Nodegroup)) => "NODEGROUP_UPDATE_TIMEOUT_SECONDS",
            },
            human_duration(timeout(&late))
        );
        return finish(r, UpgradeStatus::TimedOut, note, now, limits);
    }
    let rollback_followed = followed_until(r).is_some_and(|until| at <= until);
    if at > r.attempt_started_at + limits.max_attempt_secs && !rollback_followed {
        let note = format!(
            "gave up after {} (bound MAX_TRACKING_SECONDS = {}){}",
            human_duration(now - r.attempt_started_at),
            human_duration(limits.max_attempt_secs),
            still_running(r)
        );
        return finish(r, UpgradeStatus::TimedOut, note, now, limits);
    }
    next
}

/// An update of ours the record is following: the hop's control-plane update, or an add-on's
/// or node group's.
pub(super) struct RunningUpdate {
    pub id: String,
    pub kind: Option<ItemKind>,
    pub name: String,
    pub started: i64,
    /// Its own bound, instead of its kind's (a control-plane rollback: EKS cancels it after
    /// the `timeoutMinutes` it was given).
    pub bound: Option<i64>,
}

impl RunningUpdate {
    fn describe(&self) -> String {
        match self.kind {
            None => format!("control-plane update {} to {}", self.id, self.name),
            Some(ItemKind::Addon) => format!("add-on {} update {}", self.name, self.id),
            Some(ItemKind::Nodegroup) => format!("node group {} update {}", self.name, self.id),
        }
    }
}

/// The updates of ours running now.
pub(super) fn running_updates(r: &UpgradeRecord) -> Vec<RunningUpdate> {
    let mut running = Vec::new();
    if r.step == Step::TrackUpdate && r.status == UpgradeStatus::InProgress {
        if let (Some(id), Some(started)) = (&r.update_id, r.update_started_at) {
            let hop = r.hop_version.unwrap_or(r.target_version);
            running.push(RunningUpdate {
                id: id.clone(),
                kind: None,
                name: hop.to_string(),
                started,
                bound: None,
            });
        }
    }
    if let Some(rollback) = r.rollback.as_ref().filter(|_| r.step == Step::TrackRollback) {
        if let (Some(id), Some(started)) = (&rollback.update_id, rollback.update_started_at) {
            running.push(RunningUpdate {
                id: id.clone(),
                kind: None,
                name: rollback.to.to_string(),
                started,
                bound: Some(i64::from(timeout_minutes(rollback)) * 60 + 3600),
            });
        }
    }
    for item in r.items.iter().filter(|i| i.status == ItemStatus::InProgress) {
        if let (Some(id), Some(started)) = (&item.update_id, item.started_at) {
            running.push(RunningUpdate {
                id: id.clone(),
                kind: Some(item.kind),
                name: item.name.clone(),
                started,
                bound: None,
            });
        }
    }
    running
}

/// For a message: the updates that may still be running in EKS when the record stops, to
/// follow by hand.
pub(super) fn still_running(r: &UpgradeRecord) -> String {
    let running: Vec<String> = running_updates(r).iter().map(RunningUpdate::describe).collect();
    if running.is_empty() {
        String::new()
    } else {
        format!(
            "; still running in EKS, to follow by hand with DescribeUpdate: {}",
            running.join(", ")
        )
    }
}

/// An EKS refusal that trying again will not change: BLOCKED when an operator can fix its
/// cause (access denied, a resource in a state that refuses updates, readiness insights),
/// FAILED otherwise; the message names the call and carries EKS's code and message.
pub(super) fn refused(
    r: &mut UpgradeRecord,
    op: Operation,
    what: &str,
    e: &EksFailure,
    now: i64,
    limits: &Limits,
) -> Next {
    r.last_error = Some(e.to_string());
    let (status, note) = refusal(op, what, e);
    finish(r, status, note, now, limits)
}

/// What a refusal of `op` makes of the record (BLOCKED or FAILED, as the failure policy says)
/// and how it reads.
pub(super) fn refusal(op: Operation, what: &str, e: &EksFailure) -> (UpgradeStatus, String) {
    match policy(op, e) {
        Action::Block if e.kind == FailureKind::AccessDenied => (
            UpgradeStatus::Blocked,
            format!(
                "{what}: {e}. Grant it to the function's role; a blocked upgrade is checked again after \
                 BLOCKED_RECHECK_SECONDS, or send the request again"
            ),
        ),
        Action::Block => (UpgradeStatus::Blocked, format!("{what}: {e}")),
        // EKS's message says why, verbatim.
        Action::Fail if e.kind == FailureKind::InvalidParameter => {
            (UpgradeStatus::Failed, format!("{what}: {}", e.message))
        }
        // Can never succeed as asked: FAILED, with EKS's code and message. (What is retried,
        // reconcile retries before it comes here; a step that waits or skips does so first.)
        Action::Fail | Action::Gone | Action::WaitForOther | Action::Retry => {
            (UpgradeStatus::Failed, format!("{what}: {e}"))
        }
    }
}

/// A BLOCKED record the sweep may check again now.
pub(super) fn recheck_due(record: &UpgradeRecord, now: i64) -> bool {
    record.status == UpgradeStatus::Blocked
        && record.sweep_bucket.is_some()
        && record.wait_until.is_some_and(|t| t <= now)
}

/// EKS's errors on a finished update, for a message.
pub(super) fn describe_errors(update: &UpdateView) -> String {
    if update.errors.is_empty() {
        return "EKS reported no errors".to_owned();
    }
    update
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.error_code, e.error_message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::testing::*;
    #[test]
    fn waiting_past_the_bound_times_out() {
        let r = record_at(Step::TrackUpdate);
        let late = r.attempt_started_at + limits().max_attempt_secs - 10;
        let t = reconcile(
            &r,
            Answer::DescribeUpdate(Ok(update("u-ours", UpdateState::InProgress, "VersionUpdate", None))),
            late,
            &limits(),
        );
        assert_eq!((t.record.status, t.next), (UpgradeStatus::TimedOut, Next::Stop));
        assert!(t.record.message.as_deref().unwrap().contains("u-ours"));
        assert_eq!(t.record.sweep_bucket, None);
    }
}
