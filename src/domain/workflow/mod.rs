//! The upgrade workflow as a state machine, with no I/O.
//!
//! A record says which EKS call comes next ([`next_call`]); the driver makes the call and hands
//! what EKS answered to [`reconcile`], which dispatches to the function of the record's step and
//! returns the new record and when to go on ([`Next`]). The driver [`commit`]s the new record and
//! writes it (conditionally on its revision) *before* it makes the next call, so whatever the
//! function knew before a call is on disk when the call goes out: a crash at any point resumes
//! from the stored step with the stored token. [`lease`] decides which invocation may work on a
//! record.
//!
//! Steps (`step`) and, in capitals, statuses (`status`):
//!
//! ```text
//!            new request ─▶ PENDING
//!                              │
//!  ┌──────────────────▶ InspectCluster ── at/past target ─────────────────────────▶ SUCCEEDED
//!  │                      │  │  │ DELETING/FAILED, not found ────────────────────────▶ FAILED
//!  │   outside the window │  │  └ UPDATING ─▶ FindUpdateInProgress ─ VersionUpdate to our hop: adopt ─┐
//!  │   WAITING_FOR_WINDOW ◀┘  │                 │ other update ─▶ AwaitOtherUpdate ─ it ended ─▶ (Inspect)
//!  │   (parked; the sweep     │ ACTIVE, in the window                                                │
//!  │    wakes it at waitUntil)▼                                                                      │
//!  │                      Preflight ── node groups behind ─▶ RunItems (them first) ─▶ (Inspect)      │
//!  │                          │  │ a gate fails, not enrolled ───────────────────────────▶ BLOCKED   │
//!  │                          │ token + items written                                                │
//!  │                          ▼                                                                      │
//!  │                      StartUpdate ── InvalidState ──▶ BLOCKED   InvalidParameter ──▶ FAILED      │
//!  │                          │  └ ResourceInUse ─▶ FindUpdateInProgress                             │
//!  │                          ▼ IN_PROGRESS                                                          │
//!  │                      TrackUpdate ◀──────────────────────────────────────────────────────────────┘
//!  │                          │ Failed / Cancelled by EKS ──▶ FAILED (with EKS's errors)
//!  │                          │ Successful, last hop, no items ──▶ SUCCEEDED
//!  │                          ▼ Successful
//!  │                      RunItems: add-ons, then node groups, each UpdateX + DescribeUpdate,
//!  │                          │     each inside the window (else WAITING_FOR_WINDOW)
//!  │                          │ an item Failed / Cancelled by EKS ──▶ FAILED
//!  │                          │ all done, `verify` set
//!  │                          ▼
//!  │                      Verify: health + alarms through the soak ── fails, stop ──▶ FAILED
//!  └──── all done / held ─────┘                 │ fails, onVerifyFailure rollback (or a
//!                                               ▼ `rollback` event) ─▶ ROLLING_BACK
//!                         RollbackPreflight ── a prerequisite fails ──▶ ROLLBACK_BLOCKED
//!                               ▼ rollback items (node groups) written
//!                         RunItems (node groups back) ─▶ StartRollback (token stored)
//!                               ─▶ TrackRollback (VersionRollback) ─▶ RunItems (add-ons back)
//!                               ─▶ ROLLED_BACK      (any failure on the way: ROLLBACK_FAILED)
//!
//!  Done: the step of every finished record (SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, BLOCKED,
//!  ROLLED_BACK, ROLLBACK_FAILED, ROLLBACK_BLOCKED).
//!  BLOCKED is left by the sweep after BLOCKED_RECHECK_SECONDS (back to PENDING, InspectCluster)
//!  or by the same request sent again (with `force` for insights).
//!  Faults (throttling, 5xx, ...) at any step: same step, retry after the poll interval.
//!  A rollout's upgrade, before its first change (an Update* call) at any step, asks its
//!  rollout (ConfirmRolloutStart): RUNNING goes on; STARTING/WAITING looks again; skipped or
//!  given up ──▶ CANCELLED, nothing changed.
//!  Past the chain bound (time or invocations): TIMED_OUT.
//! ```

mod calls;
mod commit;
mod control_plane;
mod exclusion;
mod flow;
mod inspect;
mod items;
mod lease;
mod limits;
mod preflight;
mod rollback;
mod status;
mod transitions;
mod verify;
mod work;

#[cfg(test)]
mod testing;

pub use calls::{next_call, Answer, Call, RolloutConsent};
pub use commit::{commit, CommitOptions};
pub use exclusion::{cancel, may_hold, Hold, ROLLOUT_CONSENT_GRACE_SECS};
pub use flow::Next;
pub use lease::{
    claim, hand_off, is_stale, look_moment, park, recheck_at, release, reopen, resume_stale, wake_moment, Claim,
    WAKE_GRACE_SECS,
};
pub use limits::{Limits, DEFAULT_ENROLLMENT_TAG};
pub use rollback::{
    begin_on_request as rollback_on_request, preview as rollback_preview, ROLLBACK_TIMEOUT_MINUTES,
    ROLLBACK_WINDOW_SECS,
};
pub use work::derived_token;

use crate::domain::eks::{policy, Action, EksFailure};
use crate::domain::record::ItemKind;
use crate::domain::record::UpgradeRecord;
use flow::Flow;

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub record: UpgradeRecord,
    pub next: Next,
}

/// The heart of it: from the stored record and what EKS answered to its call, the new record and
/// when to go on.
pub fn reconcile(record: &UpgradeRecord, answer: Answer, now: i64, limits: &Limits) -> Transition {
    let mut r = record.clone();
    if r.is_finished() {
        return Transition {
            record: r,
            next: Next::Stop,
        };
    }
    if !next_call(record).is_some_and(|call| answer.answers(&call)) {
        // Not the answer to this record's call (the record changed meanwhile): change nothing.
        return Transition {
            record: r,
            next: Next::Now,
        };
    }
    let next = match fault(&r, &answer).map(ToString::to_string) {
        Some(fault) => {
            // A fault delays the upgrade and never ends it: same step, later.
            r.faults += 1;
            r.last_error = Some(fault);
            Next::After(limits.poll_interval_secs)
        }
        None => {
            let flow = dispatch(&mut r, answer, now, limits);
            transitions::follow(&mut r, flow, now, limits)
        }
    };
    let next = status::bound(&mut r, next, now, limits);
    Transition { record: r, next }
}

/// Hands the answer to the function of the step that asked for it (what it hands over to next,
/// `transitions::follow` runs).
fn dispatch(r: &mut UpgradeRecord, answer: Answer, now: i64, limits: &Limits) -> Flow {
    match answer {
        Answer::DescribeCluster(a) => inspect::on_cluster(r, a, now, limits),
        Answer::Survey(a) => preflight::on_survey(r, a, now, limits),
        Answer::UpdateClusterVersion(a) => control_plane::on_update_started(r, a, now, limits),
        Answer::FindUpdatesInProgress(a) => control_plane::on_updates_in_progress(r, a, now, limits),
        Answer::DescribeOtherUpdate(a) => control_plane::on_other_update(r, a, now, limits),
        Answer::DescribeUpdate(a) => control_plane::on_update(r, a, now, limits),
        Answer::StartItem(a) => items::on_item_started(r, a, now, limits),
        Answer::DescribeItemUpdate(a) => items::on_item_update(r, a, now, limits),
        Answer::Verify(a) => verify::on_evidence(r, a, now, limits),
        Answer::RollbackSurvey(a) => rollback::on_survey(r, a, now, limits),
        Answer::StartRollback(a) => rollback::on_started(r, a, now, limits),
        Answer::DescribeRollback(a) => rollback::on_update(r, a, now, limits),
        Answer::ConfirmRolloutStart(a) => exclusion::on_rollout_consent(r, a, now, limits).into(),
    }
}

/// The failure in `answer` if the failure policy retries it (a fault: throttling, 5xx,
/// time-outs, connection errors; from the survey, a node group or add-on that vanished between
/// its listing and its description) rather than an answer for the step to act on.
fn fault<'a>(r: &UpgradeRecord, answer: &'a Answer) -> Option<&'a EksFailure> {
    let item = work::next_startable(r).map_or(ItemKind::Nodegroup, |i| i.kind);
    answer
        .failure()
        .filter(|failure| policy(answer.operation(item), failure) == Action::Retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::testing::*;
    fn answer_at(step_now: Step, e: EksFailure) -> Answer {
        match step_now {
            Step::InspectCluster => Answer::DescribeCluster(Err(e)),
            Step::StartUpdate => Answer::UpdateClusterVersion(Err(e)),
            Step::FindUpdateInProgress => Answer::FindUpdatesInProgress(Err(e)),
            Step::AwaitOtherUpdate => Answer::DescribeOtherUpdate(Err(e)),
            _ => Answer::DescribeUpdate(Err(e)),
        }
    }

    const STEPS: [Step; 5] = [
        Step::InspectCluster,
        Step::StartUpdate,
        Step::FindUpdateInProgress,
        Step::AwaitOtherUpdate,
        Step::TrackUpdate,
    ];

    #[test]
    fn faults_keep_the_step_and_retry_later() {
        for step_now in STEPS {
            let r = record_at(step_now);
            let t = step(
                &r,
                answer_at(step_now, failure(FailureKind::Transient, "Rate exceeded")),
            );
            assert_eq!(t.next, Next::After(30), "{step_now:?}");
            assert_eq!(t.record.step, step_now);
            assert_eq!(t.record.status, r.status);
            assert_eq!(t.record.faults, 1);
            assert!(t.record.last_error.as_deref().unwrap().contains("Rate exceeded"));
        }
    }

    #[test]
    fn refusals_that_never_succeed_end_the_step_with_the_eks_code_and_message() {
        for step_now in STEPS {
            // An operator can fix access: BLOCKED (checked again later), not retried each poll.
            let denied = failure(FailureKind::AccessDenied, "not authorized to perform: eks:X");
            let t = step(&record_at(step_now), answer_at(step_now, denied));
            assert_eq!(
                (t.record.status, t.next),
                (UpgradeStatus::Blocked, Next::Stop),
                "{step_now:?}"
            );
            let message = t.record.message.clone().unwrap();
            assert!(
                message.contains("AccessDeniedException: not authorized to perform: eks:X"),
                "{message}"
            );
            assert!(t.record.wait_until.is_some(), "checked again by the sweep");
            // A client error can never succeed: FAILED at once, with the code.
            let rejected = failure(FailureKind::Rejected, "bad client");
            let t = step(&record_at(step_now), answer_at(step_now, rejected));
            assert_eq!(
                (t.record.status, t.next),
                (UpgradeStatus::Failed, Next::Stop),
                "{step_now:?}"
            );
            assert!(t
                .record
                .message
                .as_deref()
                .unwrap()
                .contains("RejectedException: bad client"));
            assert_eq!(t.record.faults, 0, "not counted as a fault to retry");
        }
    }

    #[test]
    fn a_cluster_gone_during_the_preflight_fails_instead_of_being_retried() {
        let gone = failure(FailureKind::NotFound, "No cluster found for name: devel.");
        let t = step(&record_at(Step::Preflight), Answer::Survey(Err(gone)));
        assert_eq!((t.record.status, t.next), (UpgradeStatus::Failed, Next::Stop));
        assert!(t.record.message.unwrap().contains("No cluster found for name: devel."));
    }

    #[test]
    fn finished_records_do_not_move() {
        let mut r = record_at(Step::Done);
        r.status = UpgradeStatus::Succeeded;
        let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!((t.record, t.next), (r, Next::Stop));
    }

    #[test]
    fn an_answer_to_another_call_changes_nothing() {
        let r = record_at(Step::TrackUpdate);
        let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!(t.record, r);
        assert_eq!(t.next, Next::Now);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_state() -> impl Strategy<Value = UpdateState> {
            prop_oneof![
                Just(UpdateState::InProgress),
                Just(UpdateState::Successful),
                Just(UpdateState::Failed),
                Just(UpdateState::Cancelled),
                Just(UpdateState::Other("X".into())),
            ]
        }

        fn any_failure() -> impl Strategy<Value = EksFailure> {
            prop_oneof![
                Just(FailureKind::ResourceInUse),
                Just(FailureKind::InvalidParameter),
                Just(FailureKind::InvalidState),
                Just(FailureKind::NotFound),
                Just(FailureKind::Transient),
                Just(FailureKind::AccessDenied),
                Just(FailureKind::InvalidRequest),
                Just(FailureKind::Rejected),
            ]
            .prop_map(|kind| EksFailure::new(kind, "Code", "message"))
        }

        fn any_answer() -> impl Strategy<Value = Answer> {
            let update = || {
                (
                    any_state(),
                    prop_oneof![Just("VersionUpdate"), Just("AddonUpdate")],
                    prop_oneof![Just(None), Just(Some("1.31")), Just(Some("1.30"))],
                )
                    .prop_map(|(state, kind, version)| update("u-x", state, kind, version))
            };
            let status = prop_oneof![Just("ACTIVE"), Just("UPDATING"), Just("CREATING"), Just("DELETING")];
            let version = prop_oneof![Just("1.29"), Just("1.30"), Just("1.31"), Just("1.32")];
            prop_oneof![
                prop_oneof![
                    (status, version).prop_map(|(s, v)| Ok(cluster(s, v))),
                    any_failure().prop_map(Err)
                ]
                .prop_map(Answer::DescribeCluster),
                prop_oneof![update().prop_map(Ok), any_failure().prop_map(Err)].prop_map(Answer::UpdateClusterVersion),
                prop_oneof![
                    proptest::collection::vec(update(), 0..3).prop_map(Ok),
                    any_failure().prop_map(Err)
                ]
                .prop_map(Answer::FindUpdatesInProgress),
                prop_oneof![update().prop_map(Ok), any_failure().prop_map(Err)].prop_map(Answer::DescribeUpdate),
                prop_oneof![update().prop_map(Ok), any_failure().prop_map(Err)].prop_map(Answer::DescribeOtherUpdate),
            ]
        }

        proptest! {
            /// Whatever EKS answers, in any order: the token never changes, a finished record
            /// never moves again, a running update's id is never dropped, and a record in
            /// progress always has an update id to track.
            #[test]
            fn invariants_hold_for_any_answers(observations in proptest::collection::vec(any_answer(), 1..40)) {
                let mut r = record_at(Step::InspectCluster);
                let token = r.client_request_token.clone();
                let mut now = NOW;
                for observed in observations {
                    now += 30;
                    let before = r.clone();
                    let t = reconcile(&r, observed, now, &limits());
                    prop_assert_eq!(&t.record.client_request_token, &token);
                    if before.is_finished() {
                        prop_assert_eq!(&t.record, &before);
                        prop_assert_eq!(t.next, Next::Stop);
                    }
                    if t.record.status == UpgradeStatus::Blocked {
                        // Checked again later by the sweep; never expires while blocked.
                        prop_assert!(t.record.sweep_bucket.is_some() && t.record.expires_at.is_none());
                        prop_assert!(t.record.wait_until.is_some());
                    } else if t.record.is_finished() {
                        prop_assert_eq!(t.next, Next::Stop);
                        prop_assert_eq!(t.record.step, Step::Done);
                        prop_assert!(t.record.sweep_bucket.is_none() && t.record.expires_at.is_some());
                    } else {
                        prop_assert!(t.next != Next::Stop);
                        prop_assert!(t.record.sweep_bucket.is_some());
                    }
                    if t.record.status == UpgradeStatus::InProgress {
                        prop_assert!(t.record.update_id.is_some());
                    }
                    if before.update_id.is_some() {
                        prop_assert_eq!(&t.record.update_id, &before.update_id);
                    }
                    r = t.record;
                }
            }
        }
    }
}
