//! One upgrade per cluster: whether a request may take its cluster's lock ([`may_hold`]), and
//! how an operator ends a parked or blocked upgrade to make room for another ([`cancel`]).

use super::calls::RolloutConsent;
use super::status::end_given_up;
use super::{Limits, Next};
use crate::domain::eks::EksFailure;
use crate::domain::record::lock::ClusterLock;
use crate::domain::record::{ItemStatus, Step, UpgradeRecord, UpgradeStatus};

/// What a request may do about its cluster's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Nobody holds it, or the holder is done: write the lock (conditionally on this revision,
    /// none for a new lock).
    Take { expected: Option<u64> },
    /// The request holds it already.
    Mine,
    /// Another upgrade holds it; `why` says which and how it stands.
    Held { holder: String, why: String },
}

/// Whether `me` may hold the cluster, given its lock and the record of the lock's holder.
pub fn may_hold(
    lock: Option<&ClusterLock>,
    holder: Option<&UpgradeRecord>,
    me: &str,
    now: i64,
    limits: &Limits,
) -> Hold {
    let Some(lock) = lock else {
        return Hold::Take { expected: None };
    };
    if lock.holder == me {
        return Hold::Mine;
    }
    let free = Hold::Take {
        expected: Some(lock.revision),
    };
    match holder {
        // Taken by a request whose record never came (it crashed between the two writes): free
        // once that is surely not still on its way.
        None if now - lock.since > limits.stale_after_secs => free,
        None => Hold::Held {
            holder: lock.holder.clone(),
            why: "is being recorded right now".to_owned(),
        },
        Some(record) if !record.holds_cluster() => free,
        Some(record) => Hold::Held {
            holder: lock.holder.clone(),
            why: format!(
                "is {:?}{}",
                record.status,
                record.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ),
        },
    }
}

/// Ends an upgrade nothing is running for (parked outside its window, BLOCKED, or not yet
/// started), so its cluster can take another: CANCELLED, not checked again. `Err` says why not.
pub fn cancel(record: &UpgradeRecord, now: i64, limits: &Limits) -> Result<UpgradeRecord, String> {
    if record.lease_until > now && record.lease_owner.is_some() {
        return Err("an invocation is working on it right now; send the cancel again in a minute".into());
    }
    let running = record.items.iter().any(|i| i.status == ItemStatus::InProgress)
        || matches!(
            record.step,
            Step::StartUpdate | Step::TrackUpdate | Step::FindUpdateInProgress | Step::AwaitOtherUpdate
        );
    let cancellable = !running
        && match record.status {
            UpgradeStatus::Blocked => record.holds_cluster(),
            UpgradeStatus::WaitingForWindow | UpgradeStatus::Pending => true,
            _ => false,
        };
    if !cancellable {
        return Err(format!(
            "it is {:?} at step {:?}: only an upgrade that is parked, BLOCKED or not yet started can be cancelled \
             (an update EKS is running can't be stopped; it is followed to its end)",
            record.status, record.step
        ));
    }
    let mut r = record.clone();
    super::status::end_cancelled(&mut r, now, limits);
    Ok(r)
}

/// What a rollout's upgrade about to make its first change heard from its rollout: started,
/// it goes on (and does not ask again); not yet, it looks again shortly; given up, it ends
/// CANCELLED before anything changed, freeing the cluster.
pub(super) fn on_rollout_consent(
    r: &mut UpgradeRecord,
    answer: Result<RolloutConsent, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Next {
    match answer {
        Ok(RolloutConsent::Started) => {
            r.rollout_started = true;
            Next::Now
        }
        // The tick that started it writes RUNNING within seconds; past the grace it likely died
        // first, and the driver sends the rollout a tick at each look.
        Ok(RolloutConsent::NotYet { since }) if now - since.unwrap_or(r.created_at) < ROLLOUT_CONSENT_GRACE_SECS => {
            Next::After(ROLLOUT_CONSENT_POLL_SECS.min(limits.poll_interval_secs))
        }
        Ok(RolloutConsent::NotYet { .. }) => Next::After(limits.poll_interval_secs),
        Ok(RolloutConsent::GivenUp(why)) => {
            let note = format!("not started: {why}; nothing was changed, and the cluster is free");
            end_given_up(r, note, now, limits);
            Next::Stop
        }
        // (A fault is retried by reconcile before it comes here.)
        Err(e) => {
            let note = format!("not started: its rollout could not be read: {e}");
            end_given_up(r, note, now, limits);
            Next::Stop
        }
    }
}

/// How soon a rollout's upgrade looks again at a rollout that has not shown it started yet.
const ROLLOUT_CONSENT_POLL_SECS: i64 = 5;

/// How long a rollout's upgrade waits for the tick that started it to write RUNNING before it
/// asks for a tick itself (sooner, its ticks would collide with that one's).
pub const ROLLOUT_CONSENT_GRACE_SECS: i64 = 60;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::testing::*;

    #[test]
    fn a_lock_is_free_when_its_holder_is_done_or_never_came() {
        let limits = limits();
        let lock = ClusterLock::new("devel", "old", NOW, 3);
        assert_eq!(may_hold(None, None, "new", NOW, &limits), Hold::Take { expected: None });
        assert_eq!(may_hold(Some(&lock), None, "old", NOW, &limits), Hold::Mine);
        let mut holder = record_at(Step::TrackUpdate);
        assert!(
            matches!(may_hold(Some(&lock), Some(&holder), "new", NOW, &limits), Hold::Held { holder, .. } if holder == "old")
        );
        holder.status = UpgradeStatus::Succeeded;
        holder.sweep_bucket = None;
        assert_eq!(
            may_hold(Some(&lock), Some(&holder), "new", NOW, &limits),
            Hold::Take { expected: Some(3) }
        );
        // BLOCKED and checked again by the sweep still holds it.
        holder.status = UpgradeStatus::Blocked;
        holder.sweep_bucket = Some(RESUMABLE.into());
        assert!(matches!(
            may_hold(Some(&lock), Some(&holder), "new", NOW, &limits),
            Hold::Held { .. }
        ));
        // No record behind the lock: held while it may still be on its way, free after.
        assert!(matches!(
            may_hold(Some(&lock), None, "new", NOW + 1, &limits),
            Hold::Held { .. }
        ));
        assert_eq!(
            may_hold(Some(&lock), None, "new", NOW + limits.stale_after_secs + 1, &limits),
            Hold::Take { expected: Some(3) }
        );
    }

    #[test]
    fn only_an_upgrade_with_nothing_running_can_be_cancelled() {
        let mut parked = record_at(Step::InspectCluster);
        parked.status = UpgradeStatus::WaitingForWindow;
        let cancelled = cancel(&parked, NOW, &limits()).unwrap();
        assert_eq!(
            (cancelled.status, cancelled.step),
            (UpgradeStatus::Cancelled, Step::Done)
        );
        assert!(!cancelled.holds_cluster());
        assert!(cancel(&record_at(Step::TrackUpdate), NOW, &limits()).is_err());
        assert!(cancel(&record_at(Step::StartUpdate), NOW, &limits()).is_err());
        let mut leased = parked.clone();
        leased.lease_owner = Some("inv".into());
        leased.lease_until = NOW + 100;
        assert!(cancel(&leased, NOW, &limits()).unwrap_err().contains("working on it"));
    }
}
