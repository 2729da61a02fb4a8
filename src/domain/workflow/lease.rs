//! Who works on a record: one invocation at a time holds a lease until its deadline
//! ([`claim`]); it hands the record to a continuation named by a nonce ([`hand_off`]) or lets
//! it go ([`release`]), or parks it until a wake-up ([`park`]); a BLOCKED request sent again starts a new attempt ([`reopen`]); the
//! sweep resumes records nobody works on ([`is_stale`], [`resume_stale`]).

use super::commit::starts_attempt;
use super::rollback::followed_until;
use super::status::{finish, recheck_due, set_status, still_running};
use super::Limits;
use crate::domain::event::UpgradeRequest;
use crate::domain::record::{ItemStatus, Step, UpgradeRecord, UpgradeStatus, RESUMABLE};
use crate::domain::text::human_duration;
use crate::domain::version::TargetVersion;

/// The outcome of an invocation's attempt to take a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Ours until the lease ends; write it (conditionally) before doing anything.
    Claimed(UpgradeRecord),
    /// Another invocation holds a live lease.
    Busy { owner: String, until: i64 },
    /// Nothing left to do.
    Finished,
    /// Past the chain bound: write it, and stop.
    TimedOut(UpgradeRecord),
    /// Parked outside its maintenance window until `until`: nothing may start before, so a
    /// request sent again wakes nothing (the sweep wakes it then).
    Parked { until: i64 },
}

/// Takes a record for the invocation `owner` until `lease_until` (epoch seconds).
pub fn claim(record: &UpgradeRecord, owner: &str, lease_until: i64, now: i64, limits: &Limits) -> Claim {
    if record.is_finished() && !recheck_due(record, now) {
        return Claim::Finished;
    }
    if record.status == UpgradeStatus::WaitingForWindow {
        if let Some(until) = record.wait_until.filter(|t| *t > now) {
            return Claim::Parked { until };
        }
    }
    if let Some(holder) = &record.lease_owner {
        if holder != owner && record.lease_until > now {
            return Claim::Busy {
                owner: holder.clone(),
                until: record.lease_until,
            };
        }
    }
    let mut r = record.clone();
    if recheck_due(&r, now) {
        // Blocked a while ago: look again whether the reason is gone, as a new attempt. Not a
        // line of history: only a change of reason, or progress, is one.
        r.wait_until = None;
        r.finished_at = None;
        r.step = Step::InspectCluster;
        r.rechecks += 1;
        r.status = UpgradeStatus::Pending;
        retry_refused_items(&mut r);
    }
    if r.status == UpgradeStatus::WaitingForWindow {
        // The wait does not count against the chain bound: the attempt starts when it wakes.
        // It looks at the cluster first (the window, enrollment), so a sweep late past the
        // window's end starts nothing outside it.
        r.wait_until = None;
        r.step = Step::InspectCluster;
        let note = "woken to check the maintenance window".into();
        set_status(&mut r, UpgradeStatus::Pending, note, now);
    }
    // A control-plane rollback is followed for as long as EKS may take over it (its own bound).
    let rollback_followed = followed_until(&r).is_some_and(|until| now <= until);
    let past_bound = (r.invocations >= limits.max_invocations || now - r.attempt_started_at > limits.max_attempt_secs)
        && !rollback_followed;
    if past_bound && !starts_attempt(record, &r) {
        let note = format!(
            "gave up after {} invocations over {} (bounds: MAX_INVOCATIONS = {}, MAX_TRACKING_SECONDS = {}){}",
            r.invocations,
            human_duration(now - r.attempt_started_at),
            limits.max_invocations,
            human_duration(limits.max_attempt_secs),
            still_running(&r)
        );
        finish(&mut r, UpgradeStatus::TimedOut, note, now, limits);
        return Claim::TimedOut(r);
    }
    r.lease_owner = Some(owner.to_owned());
    r.lease_until = lease_until;
    // Whoever claims takes over the chain: a continuation still in flight (or a wake-up
    // still to come) becomes stale.
    r.handoff = None;
    r.wake_at = None;
    Claim::Claimed(r)
}

/// Hands the record to a continuation named `nonce`, and lets go of the lease.
pub fn hand_off(record: &UpgradeRecord, nonce: &str) -> UpgradeRecord {
    let mut r = release(record);
    r.handoff = Some(nonce.to_owned());
    // A continuation now, not a wake-up later.
    r.wake_at = None;
    r
}

/// Parks the record until `wake_at`: the lease let go, and the wake-up that carries the
/// continuation `nonce` the only one that may go on (or the sweep, once that is overdue).
pub fn park(record: &UpgradeRecord, nonce: &str, wake_at: i64) -> UpgradeRecord {
    let mut r = hand_off(record, nonce);
    r.wake_at = Some(wake_at);
    r
}

/// How long after its time a wake-up for a window's opening or a re-check may be before the
/// sweep takes over: EventBridge Scheduler fires within the minute it names, so one more
/// minute means it failed.
pub const WAKE_GRACE_SECS: i64 = 120;

/// The moment a wake-up for `at` is arranged: no sooner than `min_lead` from `now` (a schedule
/// already due when it is created might never run), and, for something that must not be woken
/// early (a window's opening, a re-check: `not_before`), on the next whole minute, since
/// Scheduler fires anywhere within the minute it names. A look at an update may come early.
pub fn wake_moment(at: i64, now: i64, min_lead: i64, not_before: bool) -> i64 {
    let at = at.max(now + min_lead);
    if not_before {
        (at + 59).div_euclid(60) * 60
    } else {
        at
    }
}

/// When a look `after` seconds from `now` is woken: that late, plus a few seconds that differ
/// from record to record and from look to look (up to a sixth of `after`, at least one), so
/// the looks of upgrades started in the same second (a rollout's stage) drift apart instead of
/// all waking together. Derived from the record (its key and revision), not drawn at random,
/// so it is the same for the same record.
pub fn look_moment(record: &UpgradeRecord, now: i64, after: i64) -> i64 {
    let spread = (after / 6).max(1) as u64;
    let key = format!("{}/{}/{}", record.cluster, record.request_id, record.revision);
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    now + after + (hash % (spread + 1)) as i64
}

/// When a BLOCKED record that is checked again by itself is next due: a wake-up then.
pub fn recheck_at(record: &UpgradeRecord) -> Option<i64> {
    (record.status == UpgradeStatus::Blocked && record.sweep_bucket.is_some())
        .then_some(record.wait_until)
        .flatten()
}

/// Lets go of the lease.
pub fn release(record: &UpgradeRecord) -> UpgradeRecord {
    let mut r = record.clone();
    r.lease_owner = None;
    r.lease_until = 0;
    r
}

/// A BLOCKED request sent again starts a new attempt, with the new request's `force` and a new
/// token (EKS refused the old one, so no update carries it). Anything else is left as it is.
pub fn reopen(record: &UpgradeRecord, request: &UpgradeRequest, token: String, now: i64) -> Option<UpgradeRecord> {
    if record.status != UpgradeStatus::Blocked || request.target_version != TargetVersion::Exact(record.target_version)
    {
        return None;
    }
    if record.rollout.is_some() && !record.holds_cluster() {
        // Its rollout counted it when it stopped holding the cluster: going on now would
        // upgrade the cluster behind the rollout's back (a new requestId may).
        return None;
    }
    let mut r = record.clone();
    r.client_request_token = token;
    r.force = request.force;
    r.override_pod_disruption_budgets = request.override_pod_disruption_budgets;
    r.nodegroup_launch_templates = request.nodegroup_launch_templates.clone();
    r.maintenance_window = request.maintenance_window.clone();
    r.exclusions = request.exclusions.clone();
    r.wait_until = None;
    r.step = Step::InspectCluster;
    r.finished_at = None;
    r.expires_at = None;
    r.sweep_bucket = Some(RESUMABLE.to_owned());
    r.blocked_since = None;
    retry_refused_items(&mut r);
    // A custom-AMI node group not started yet goes by the launch template version the new
    // request names.
    for item in r.items.iter_mut().filter(|i| i.status == ItemStatus::Planned) {
        if let (Some(template), Some(version)) = (
            item.launch_template.as_mut(),
            request.nodegroup_launch_templates.version_for(&item.name, item.hop),
        ) {
            template.version = Some(version.to_owned());
        }
    }
    let note = format!("requested again{}", if request.force { " with force" } else { "" });
    set_status(&mut r, UpgradeStatus::Pending, note, now);
    Some(r)
}

/// Items EKS refused for a reason an operator could fix are asked again (with the same token:
/// a refused call made no update).
fn retry_refused_items(r: &mut UpgradeRecord) {
    for item in r.items.iter_mut().filter(|i| i.status == ItemStatus::Blocked) {
        item.status = ItemStatus::Planned;
        item.finished_at = None;
        item.errors.clear();
    }
}

/// Whether the sweep should resume the record: unfinished, no live lease, and no sign of life
/// for `stale_after_secs` (a dropped continuation, a crash, a throttled invoke). A record with
/// a wake-up arranged is left to it until it is overdue by `stale_after_secs` (never created,
/// not delivered).
pub fn is_stale(record: &UpgradeRecord, now: i64, limits: &Limits) -> bool {
    if record.lease_until > now {
        return false;
    }
    let margin = match (record.wake_at, record.status) {
        (None, _) => 0,
        // A window's opening or a re-check: late by more than Scheduler's minute is a wake-up
        // that failed, and a window waits for nobody.
        (Some(_), UpgradeStatus::Blocked | UpgradeStatus::WaitingForWindow) => WAKE_GRACE_SECS,
        (Some(_), _) => limits.stale_after_secs,
    };
    if record.status == UpgradeStatus::Blocked {
        return recheck_due(record, now - margin);
    }
    if record.status == UpgradeStatus::WaitingForWindow {
        // Parked: due when its window opens, not before.
        return record.wait_until.is_some_and(|t| t <= now - margin);
    }
    if let Some(wake_at) = record.wake_at {
        return !record.is_finished() && wake_at <= now - margin;
    }
    !record.is_finished() && record.heartbeat_at <= now - limits.stale_after_secs
}

/// Takes a stale record for a continuation sent by the sweep.
pub fn resume_stale(record: &UpgradeRecord, nonce: &str) -> UpgradeRecord {
    hand_off(record, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::testing::*;

    #[test]
    fn a_rollouts_upgrade_its_rollout_counted_is_not_reopened_behind_its_back() {
        let mut r = record_at(Step::Done);
        r.status = UpgradeStatus::Blocked;
        r.rollout = Some(crate::domain::event::rollout::RolloutKey {
            name: crate::domain::event::rollout::Name::parse("fleet").unwrap(),
            request_id: RequestId::parse("to-1.31").unwrap(),
        });
        // Still re-checked (it holds its cluster, the rollout counts it running): reopened.
        r.sweep_bucket = Some(RESUMABLE.to_owned());
        assert!(reopen(&r, &request(true), "t2".into(), NOW).is_some());
        // Blocked for good: it let its cluster go and the rollout counted it failed.
        r.sweep_bucket = None;
        assert_eq!(reopen(&r, &request(true), "t2".into(), NOW), None);
    }
    #[test]
    fn claims() {
        let r = record_at(Step::InspectCluster);
        let Claim::Claimed(mine) = claim(&r, "inv-a", NOW + 900, NOW, &limits()) else {
            panic!()
        };
        let mine = committed(&r, mine, NOW);
        assert_eq!(mine.lease_owner.as_deref(), Some("inv-a"));
        assert_eq!((mine.lease_until, mine.invocations), (NOW + 900, 1));

        assert_eq!(
            claim(&mine, "inv-b", NOW + 900, NOW + 1, &limits()),
            Claim::Busy {
                owner: "inv-a".into(),
                until: NOW + 900
            }
        );
        assert!(
            matches!(claim(&mine, "inv-a", NOW + 900, NOW + 1, &limits()), Claim::Claimed(_)),
            "the holder may claim again"
        );
        assert!(
            matches!(
                claim(&mine, "inv-b", NOW + 2000, NOW + 901, &limits()),
                Claim::Claimed(_)
            ),
            "an expired lease is free"
        );

        let mut handed = committed(&mine, hand_off(&mine, "nonce"), NOW + 5);
        assert_eq!(
            (handed.lease_owner.clone(), handed.handoff.as_deref()),
            (None, Some("nonce"))
        );
        let Claim::Claimed(taken) = claim(&handed, "inv-c", NOW + 900, NOW + 6, &limits()) else {
            panic!()
        };
        assert_eq!(taken.handoff, None, "a claim makes any continuation in flight stale");

        handed.invocations = limits().max_invocations;
        let Claim::TimedOut(ended) = claim(&handed, "inv-d", NOW + 900, NOW + 7, &limits()) else {
            panic!()
        };
        assert_eq!(ended.status, UpgradeStatus::TimedOut);
        assert_eq!(ended.lease_owner, None);

        let old = record_at(Step::TrackUpdate);
        assert!(matches!(
            claim(&old, "x", NOW, NOW + limits().max_attempt_secs + 1, &limits()),
            Claim::TimedOut(_)
        ));

        let mut done = r.clone();
        done.status = UpgradeStatus::Failed;
        assert_eq!(claim(&done, "x", NOW + 900, NOW, &limits()), Claim::Finished);
    }

    #[test]
    fn reopening_a_blocked_request() {
        let blocked = step(
            &record_at(Step::StartUpdate),
            Answer::UpdateClusterVersion(Err(failure(
                FailureKind::InvalidState,
                "Upgrade readiness issues detected.",
            ))),
        )
        .record;
        let reopened = reopen(&blocked, &request(true), "new-token".into(), NOW + 100).unwrap();
        let reopened = committed(&blocked, reopened, NOW + 100);
        assert_eq!(
            (reopened.status, reopened.step),
            (UpgradeStatus::Pending, Step::InspectCluster)
        );
        assert!(reopened.force);
        assert_eq!(reopened.client_request_token, "new-token");
        assert_eq!((reopened.attempt_started_at, reopened.invocations), (NOW + 100, 0));
        assert_eq!(reopened.sweep_bucket.as_deref(), Some(RESUMABLE));
        assert_eq!(reopened.expires_at, None);

        let mut other_target = request(true);
        other_target.target_version = crate::domain::version::TargetVersion::Exact(KubeVersion::new(1, 32));
        assert_eq!(reopen(&blocked, &other_target, "t".into(), NOW), None);
        assert_eq!(
            reopen(&record_at(Step::TrackUpdate), &request(true), "t".into(), NOW),
            None
        );
    }

    #[test]
    fn staleness() {
        let limits = limits();
        let r = record_at(Step::TrackUpdate);
        assert!(!is_stale(&r, NOW + 10, &limits));
        assert!(is_stale(&r, NOW + limits.stale_after_secs, &limits));
        let mut leased = r.clone();
        leased.lease_until = NOW + 10_000;
        assert!(!is_stale(&leased, NOW + 1000, &limits), "a live lease is not stale");
        let mut done = r.clone();
        done.status = UpgradeStatus::Succeeded;
        assert!(!is_stale(&done, NOW + 10_000, &limits));
        let resumed = committed(&r, resume_stale(&r, "n"), NOW + 1000);
        assert!(
            !is_stale(&resumed, NOW + 1000, &limits),
            "a resumed record is fresh again"
        );
    }

    #[test]
    fn a_parked_record_is_left_to_its_wake_up_until_that_is_overdue() {
        let limits = limits();
        let r = record_at(Step::TrackUpdate);
        let parked = committed(&r, park(&r, "n1", NOW + 600), NOW);
        assert_eq!(
            (parked.handoff.as_deref(), parked.wake_at),
            (Some("n1"), Some(NOW + 600))
        );
        assert_eq!(parked.lease_owner, None);
        // The heartbeat is older than STALE_AFTER_SECONDS, but the wake-up is not due yet...
        assert!(!is_stale(&parked, NOW + 600, &limits));
        // ... nor overdue by the margin...
        assert!(!is_stale(&parked, NOW + 600 + limits.stale_after_secs - 1, &limits));
        // ... then the sweep takes it (the schedule was never created, or not delivered).
        assert!(is_stale(&parked, NOW + 600 + limits.stale_after_secs, &limits));

        let Claim::Claimed(woken) = claim(&parked, "inv", NOW + 1500, NOW + 601, &limits) else {
            panic!()
        };
        assert_eq!(
            (woken.handoff.clone(), woken.wake_at),
            (None, None),
            "a claim ends the park"
        );
        let woken = committed(&parked, woken, NOW + 601);
        assert_eq!(
            woken.invocations, r.invocations,
            "a wake-up after a park is no step of a runaway chain"
        );

        let mut blocked = r.clone();
        blocked.status = UpgradeStatus::Blocked;
        blocked.wait_until = Some(NOW + 3600);
        assert_eq!(recheck_at(&blocked), Some(NOW + 3600));
        let parked = park(&blocked, "n2", NOW + 3600);
        assert!(
            !is_stale(&parked, NOW + 3600 + WAKE_GRACE_SECS - 1, &limits),
            "left to its wake-up"
        );
        assert!(
            is_stale(&parked, NOW + 3600 + WAKE_GRACE_SECS, &limits),
            "a re-check waits only Scheduler's minute more"
        );
        blocked.sweep_bucket = None;
        assert_eq!(recheck_at(&blocked), None, "blocked for good: nothing to wake");
    }

    #[test]
    fn looks_of_upgrades_started_together_are_spread_never_early() {
        let mut seconds = std::collections::BTreeSet::new();
        for i in 0..100 {
            let mut r = record_at(Step::TrackUpdate);
            r.cluster = format!("fleet-{i:04}");
            let at = look_moment(&r, NOW, 60);
            assert!(
                (NOW + 60..=NOW + 70).contains(&at),
                "{at}: at most a sixth late, never early"
            );
            assert_eq!(look_moment(&r, NOW, 60), at, "the same for the same record");
            seconds.insert(at);
        }
        assert!(seconds.len() >= 8, "100 looks over {} seconds only", seconds.len());
        let r = record_at(Step::TrackUpdate);
        assert!(
            (NOW + 2..=NOW + 3).contains(&look_moment(&r, NOW, 2)),
            "a short look is spread by a second"
        );
    }

    #[test]
    fn a_wake_up_is_never_due_too_soon_and_a_window_is_never_woken_early() {
        // 14:13:20; a look a minute on may come at any second.
        assert_eq!(wake_moment(NOW + 60, NOW, 60, false), NOW + 60);
        // A window opening at 16:30:00 is woken at 16:30:00; one at 16:30:10 at 16:31:00.
        let opens = NOW + 8200;
        assert_eq!(wake_moment(opens, NOW, 60, true), opens);
        assert_eq!(wake_moment(opens + 10, NOW, 60, true), opens + 60);
        // An opening seconds away (or past) is not arranged in the past.
        assert_eq!(wake_moment(NOW + 5, NOW, 60, false), NOW + 60);
        assert_eq!(wake_moment(NOW - 5, NOW, 60, true), NOW + 100);
    }

    #[test]
    fn waking_a_parked_record_starts_a_new_attempt() {
        let mut r = record_at(Step::InspectCluster);
        r.status = UpgradeStatus::WaitingForWindow;
        r.wait_until = Some(NOW + 86_400);
        r.invocations = 7;
        let Claim::Claimed(woken) = claim(&r, "inv", NOW + 87_000, NOW + 86_400, &limits()) else {
            panic!()
        };
        let woken = committed(&r, woken, NOW + 86_400);
        assert_eq!(
            (woken.status, woken.invocations, woken.attempt_started_at),
            (UpgradeStatus::Pending, 1, NOW + 86_400)
        );
        assert_eq!(woken.wait_until, None);
    }
}
