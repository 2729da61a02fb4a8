//! The one place a record is made ready to be written: its revision, its timestamps, its chain
//! counters and its notification outbox are derived here from the record as read and the record
//! as changed, so no step has to remember them. The driver calls [`commit`] before every write.

use crate::domain::record::outbox::{notifications_for, Notification, DETAIL_BLOCKED};
use crate::domain::record::{
    Step, UpgradeRecord, UpgradeStatus, HISTORY_HEAD, MAX_HISTORY, MAX_OUTBOX, MAX_OUTBOX_BYTES,
};

/// How a record is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitOptions {
    /// Now, in epoch seconds.
    pub now: i64,
    /// Notifications are published (`EVENT_BUS_NAME` set): each change queues them in the
    /// record's outbox. Off: no outbox, so no second write to empty it.
    pub notify: bool,
}

/// `next` ready to replace `previous` (the record as read): revision + 1, `updatedAt` and
/// `heartbeatAt` now, the chain counters, and the notifications the change makes.
pub fn commit(previous: &UpgradeRecord, mut next: UpgradeRecord, options: CommitOptions) -> UpgradeRecord {
    let now = options.now;
    next.revision = previous.revision + 1;
    next.updated_at = now;
    next.heartbeat_at = now;
    if starts_attempt(previous, &next) {
        // The chain bound counts per attempt, from a reopened or woken request (a wait for the
        // window or a block does not count). The invocation holding it counts as one.
        next.attempt_started_at = now;
        next.invocations = u32::from(next.lease_owner.is_some());
    } else if next.lease_owner.is_some() && next.lease_owner != previous.lease_owner && !woken(previous, now) {
        // A claim: one more invocation in the chain. Not the wake-up of a park, at its time: a
        // park waits for time to pass, so it can't spin (the attempt's time bound holds it).
        // Anyone claiming a parked record before then counts.
        next.invocations += 1;
    }
    if options.notify {
        queue(previous, &mut next);
    }
    bound_history(&mut next);
    next
}

/// Whether a claim at `now` of `previous` is the wake-up of its park (Scheduler fires within the
/// minute it names).
fn woken(previous: &UpgradeRecord, now: i64) -> bool {
    previous.wake_at.is_some_and(|at| now >= at - 60)
}

/// Keeps the first entries and the latest, and counts what it drops: however long an upgrade
/// waits, its record stays small.
fn bound_history(r: &mut UpgradeRecord) {
    if r.history.len() <= MAX_HISTORY {
        return;
    }
    let drop = r.history.len() - MAX_HISTORY;
    r.history.drain(HISTORY_HEAD..HISTORY_HEAD + drop);
    r.history_dropped += drop as u32;
}

/// Whether the change from `previous` to `next` begins a new attempt: a BLOCKED or parked
/// record going again, the next control-plane hop, a hop's verification (its soak has its own
/// time), a rollback (it may come days after the upgrade), or a rollback's add-ons once its
/// control plane is back (EKS may have taken days over it, past the attempt's own bounds).
pub fn starts_attempt(previous: &UpgradeRecord, next: &UpgradeRecord) -> bool {
    let resumed = matches!(
        previous.status,
        UpgradeStatus::Blocked | UpgradeStatus::WaitingForWindow
    ) && next.status == UpgradeStatus::Pending;
    let next_hop = next.hop_version.is_some() && next.hop_version != previous.hop_version;
    let verifying = next.step == Step::Verify && previous.step != Step::Verify;
    let rolling_back = next.status == UpgradeStatus::RollingBack && previous.status != UpgradeStatus::RollingBack;
    let control_plane_back = next.status == UpgradeStatus::RollingBack
        && previous.step == Step::TrackRollback
        && next.step != Step::TrackRollback;
    resumed || next_hop || verifying || rolling_back || control_plane_back
}

/// Adds the notifications of the change from `old` to `new` to `new`'s outbox, numbered. A
/// "Blocked" for the reason already notified is not sent again; a full outbox drops its oldest.
fn queue(old: &UpgradeRecord, new: &mut UpgradeRecord) {
    for (detail_type, detail) in notifications_for(old, new) {
        if detail_type == DETAIL_BLOCKED {
            if new.blocked_notice.is_some() && new.blocked_notice == new.message {
                continue;
            }
            new.blocked_notice = new.message.clone();
        }
        new.notifications += 1;
        let id = format!("{}/{}/{}", new.cluster, new.request_id, new.notifications);
        let mut detail = detail;
        if let Some(fields) = detail.as_object_mut() {
            fields.insert("notificationId".into(), id.clone().into());
        }
        new.outbox.push(Notification {
            id,
            detail_type,
            detail,
        });
    }
    // Bounded in number and in size (a notification carries the plan's blockers and warnings).
    let size = |outbox: &[Notification]| outbox.iter().map(|n| n.detail.to_string().len()).sum::<usize>();
    while new.outbox.len() > MAX_OUTBOX || (new.outbox.len() > 1 && size(&new.outbox) > MAX_OUTBOX_BYTES) {
        new.outbox.remove(0);
        new.notifications_dropped += 1;
    }
}
