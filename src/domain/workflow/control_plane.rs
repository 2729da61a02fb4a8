//! The control-plane update of a hop: `StartUpdate` (UpdateClusterVersion with the stored
//! token), `FindUpdateInProgress` and `AwaitOtherUpdate` when EKS says another update runs, and
//! `TrackUpdate` (DescribeUpdate until it ends).

use super::flow::Flow;
use super::status::{describe_errors, finish, refused, set_status};
use super::{Limits, Next};
use crate::domain::eks::{policy, Action, EksFailure, FailureKind, Operation, UpdateState, UpdateView};
use crate::domain::record::{HistoryEntry, ItemStatus, Step, UpgradeRecord, UpgradeStatus};
use crate::domain::text::human_duration;

/// `StartUpdate`: what UpdateClusterVersion answered.
pub(super) fn on_update_started(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    let e = match answer {
        Ok(update) => {
            if r.update_id.as_deref() != Some(update.id.as_str()) {
                // Ours, started with our token: not an adopted one.
                r.adopted = false;
            }
            r.update_id = Some(update.id.clone());
            r.update_started_at.get_or_insert(now);
            r.step = Step::TrackUpdate;
            set_status(
                r,
                UpgradeStatus::InProgress,
                format!("update {} started", update.id),
                now,
            );
            return track(r, &update, now, limits);
        }
        Err(e) => e,
    };
    let op = Operation::UpdateClusterVersion;
    match policy(op, &e) {
        Action::WaitForOther => {
            r.step = Step::FindUpdateInProgress;
            r.message = Some(e.message);
            Next::Now.into()
        }
        // Upgrade-readiness insights: they may be overridden.
        Action::Block if e.kind == FailureKind::InvalidState => {
            let hint = if r.force {
                ""
            } else {
                " Send the request again with \"force\": true to override."
            };
            finish(r, UpgradeStatus::Blocked, format!("{}{hint}", e.message), now, limits).into()
        }
        Action::Fail if e.kind == FailureKind::NotFound => {
            let note = format!("cluster {} not found: {}", r.cluster, e.message);
            finish(r, UpgradeStatus::Failed, note, now, limits).into()
        }
        // EKS will refuse again; its message says why.
        Action::Fail if e.kind == FailureKind::InvalidParameter => {
            finish(r, UpgradeStatus::Failed, e.message, now, limits).into()
        }
        // (A fault never comes here: reconcile retries it.)
        Action::Block | Action::Fail | Action::Gone | Action::Retry => {
            refused(r, op, "UpdateClusterVersion", &e, now, limits).into()
        }
    }
}

/// `FindUpdateInProgress`: the updates in progress, after EKS said one blocks ours.
pub(super) fn on_updates_in_progress(
    r: &mut UpgradeRecord,
    answer: Result<Vec<UpdateView>, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    let poll = limits.update_poll_secs;
    let updates = match answer {
        Ok(updates) => updates,
        // An update that ended and went between the listing and its description.
        Err(e) if policy(Operation::ListUpdates, &e) == Action::Gone => {
            r.step = Step::InspectCluster;
            return Next::After(poll).into();
        }
        Err(e) => return refused(r, Operation::ListUpdates, "ListUpdates/DescribeUpdate", &e, now, limits).into(),
    };
    // The version this hop goes to (the target itself on the last hop).
    let target = r.hop_version.unwrap_or(r.target_version).to_string();
    let ours = updates.iter().find(|u| {
        u.state == UpdateState::InProgress && u.kind == "VersionUpdate" && u.version.as_deref() == Some(target.as_str())
    });
    if let Some(update) = ours {
        // Our own update, found again (after a block, a lost answer): tracked, not adopted.
        let own = r.update_id.as_deref() == Some(update.id.as_str()) || r.control_plane_updates.contains(&update.id);
        r.update_id = Some(update.id.clone());
        r.update_started_at.get_or_insert(now);
        r.step = Step::TrackUpdate;
        let note = if own {
            format!("found our update {} to {target} still in progress", update.id)
        } else {
            // Someone else already asked for our target: track theirs, start none. It
            // describes this hop only.
            r.adopted = true;
            r.adopted_hop = r.hop_version.or(Some(r.target_version));
            format!("adopted update {} to {target}, already in progress", update.id)
        };
        set_status(r, UpgradeStatus::InProgress, note, now);
    } else if let Some(other) = updates.iter().find(|u| u.state == UpdateState::InProgress) {
        r.awaited_update_id = Some(other.id.clone());
        r.step = Step::AwaitOtherUpdate;
        r.message = Some(format!(
            "waiting for update {} ({}) to end before starting ours",
            other.id, other.kind
        ));
    } else {
        // It ended between EKS's refusal and our look: start over.
        r.step = Step::InspectCluster;
    }
    Next::After(poll).into()
}

/// `AwaitOtherUpdate`: someone else's update, until it ends.
pub(super) fn on_other_update(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    match answer {
        Ok(other) if matches!(other.state, UpdateState::InProgress | UpdateState::Other(_)) => {
            Next::After(limits.update_poll_secs).into()
        }
        Ok(other) => {
            r.awaited_update_id = None;
            r.step = Step::InspectCluster;
            r.message = Some(format!("update {} ended; trying again", other.id));
            Next::Now.into()
        }
        Err(e) if policy(Operation::DescribeOtherUpdate, &e) == Action::Gone => {
            r.awaited_update_id = None;
            r.step = Step::InspectCluster;
            Next::Now.into()
        }
        Err(e) => refused(
            r,
            Operation::DescribeOtherUpdate,
            "DescribeUpdate of the update in the way",
            &e,
            now,
            limits,
        )
        .into(),
    }
}

/// `TrackUpdate`: our control-plane update, until it ends.
pub(super) fn on_update(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    match answer {
        Ok(update) => track(r, &update, now, limits),
        Err(e) if policy(Operation::DescribeUpdate, &e) == Action::Fail && e.kind == FailureKind::NotFound => {
            let id = r.update_id.clone().unwrap_or_default();
            let note = format!("EKS no longer knows update {id}: {}", e.message);
            finish(r, UpgradeStatus::Failed, note, now, limits).into()
        }
        Err(e) => {
            let id = r.update_id.clone().unwrap_or_default();
            let what = format!("DescribeUpdate of update {id}");
            refused(r, Operation::DescribeUpdate, &what, &e, now, limits).into()
        }
    }
}

fn track(r: &mut UpgradeRecord, update: &UpdateView, now: i64, limits: &Limits) -> Flow {
    r.eks_errors = update.errors.clone();
    let took = r
        .update_started_at
        .map(|start| format!(" in {}", human_duration(now - start)))
        .unwrap_or_default();
    match &update.state {
        UpdateState::InProgress | UpdateState::Other(_) => Next::After(limits.update_poll_secs).into(),
        UpdateState::Successful if has_more_work(r) || r.verify.is_some() => {
            let hop = r.hop_version.unwrap_or(r.target_version);
            r.control_plane_version = Some(hop);
            r.hop_reached = Some(hop);
            r.hop_finished_at = Some(now);
            r.hop_created_at = Some(eks_time_of(update, r.update_started_at, now));
            if !r.control_plane_updates.contains(&update.id) {
                r.control_plane_updates.push(update.id.clone());
            }
            r.message = Some(format!("control plane at {hop} (update {}{took})", update.id));
            r.history.push(HistoryEntry {
                at: now,
                status: r.status,
                note: format!("control plane at {hop}: update {} Successful{took}", update.id),
            });
            r.update_started_at = None;
            Flow::Items
        }
        UpdateState::Successful => {
            r.hop_reached = Some(r.hop_version.unwrap_or(r.target_version));
            r.hop_finished_at = Some(now);
            r.hop_created_at = Some(eks_time_of(update, r.update_started_at, now));
            if !r.control_plane_updates.contains(&update.id) {
                r.control_plane_updates.push(update.id.clone());
            }
            let from = r.from_version.map(|v| format!(" from {v}")).unwrap_or_default();
            let note = format!(
                "update {} Successful: {}{from} to {}{took}",
                update.id, r.cluster, r.target_version
            );
            finish(r, UpgradeStatus::Succeeded, note, now, limits).into()
        }
        UpdateState::Failed => {
            let note = format!("update {} Failed{took}: {}", update.id, describe_errors(update));
            finish(r, UpgradeStatus::Failed, note, now, limits).into()
        }
        UpdateState::Cancelled => {
            // EKS did not complete it: a failure (only an operator's `cancel` is CANCELLED, which
            // a rollout counts as a skip).
            let note = format!(
                "update {} Cancelled by EKS{took}: {}",
                update.id,
                describe_errors(update)
            );
            finish(r, UpgradeStatus::Failed, note, now, limits).into()
        }
    }
}

/// When the hop's update began by EKS's clock (its `createdAt`), else when we asked for it: an
/// earlier, safe bound of its completion, from which EKS's 7 days for a rollback are counted.
fn eks_time_of(update: &UpdateView, started_at: Option<i64>, now: i64) -> i64 {
    update.created_at.or(started_at).map_or(now, |at| at.min(now))
}

/// After a control-plane hop: add-ons and node groups of the hop, or the next hop.
fn has_more_work(r: &UpgradeRecord) -> bool {
    r.items
        .iter()
        .any(|i| matches!(i.status, ItemStatus::Planned | ItemStatus::InProgress))
        || r.hop_version.is_some_and(|h| h < r.target_version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::testing::*;
    #[test]
    fn started_update_is_tracked() {
        let r = record_at(Step::StartUpdate);
        let t = step(
            &r,
            Answer::UpdateClusterVersion(Ok(update(
                "u-1",
                UpdateState::InProgress,
                "VersionUpdate",
                Some("1.31"),
            ))),
        );
        assert_eq!(t.next, Next::After(30));
        assert_eq!(t.record.status, UpgradeStatus::InProgress);
        assert_eq!(t.record.step, Step::TrackUpdate);
        assert_eq!(t.record.update_id.as_deref(), Some("u-1"));
        assert_eq!(t.record.update_started_at, Some(NOW + 10));
        assert!(!t.record.adopted);
        assert_eq!(t.record.history.last().unwrap().status, UpgradeStatus::InProgress);
    }

    #[test]
    fn replayed_token_of_a_finished_update_finishes() {
        let t = step(
            &record_at(Step::StartUpdate),
            Answer::UpdateClusterVersion(Ok(update(
                "u-1",
                UpdateState::Successful,
                "VersionUpdate",
                Some("1.31"),
            ))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Succeeded);
        assert_eq!(t.record.update_id.as_deref(), Some("u-1"));
    }

    #[test]
    fn update_refusals() {
        let r = record_at(Step::StartUpdate);
        let t = step(
            &r,
            Answer::UpdateClusterVersion(Err(failure(FailureKind::ResourceInUse, "Cannot VersionUpdate"))),
        );
        assert_eq!(
            (t.record.step, t.next, t.record.status),
            (Step::FindUpdateInProgress, Next::Now, UpgradeStatus::Pending)
        );

        let msg = "Unsupported Kubernetes minor version update from 1.29 to 1.31";
        let t = step(
            &r,
            Answer::UpdateClusterVersion(Err(failure(FailureKind::InvalidParameter, msg))),
        );
        assert_eq!((t.record.status, t.next), (UpgradeStatus::Failed, Next::Stop));
        assert_eq!(t.record.message.as_deref(), Some(msg));

        let t = step(
            &r,
            Answer::UpdateClusterVersion(Err(failure(
                FailureKind::InvalidState,
                "Upgrade readiness issues detected.",
            ))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Blocked);
        assert!(t.record.message.as_deref().unwrap().contains("\"force\": true"));
        assert_eq!(t.record.sweep_bucket.as_deref(), Some(RESUMABLE), "checked again later");
        assert_eq!(t.record.wait_until, Some(NOW + 10 + limits().blocked_recheck_secs));

        let mut forced = r.clone();
        forced.force = true;
        let t = step(
            &forced,
            Answer::UpdateClusterVersion(Err(failure(
                FailureKind::InvalidState,
                "Upgrade readiness issues detected.",
            ))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Blocked);
        assert_eq!(t.record.message.as_deref(), Some("Upgrade readiness issues detected."));

        let t = step(
            &r,
            Answer::UpdateClusterVersion(Err(failure(FailureKind::NotFound, "No cluster found for name: devel."))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Failed);
        assert!(t
            .record
            .message
            .as_deref()
            .unwrap()
            .starts_with("cluster devel not found"));
    }

    #[test]
    fn finding_the_update_in_progress() {
        let r = record_at(Step::FindUpdateInProgress);
        let ours = update("u-9", UpdateState::InProgress, "VersionUpdate", Some("1.31"));
        let other = update("u-8", UpdateState::InProgress, "EndpointAccessUpdate", None);
        let older = update("u-7", UpdateState::InProgress, "VersionUpdate", Some("1.30"));

        let t = step(&r, Answer::FindUpdatesInProgress(Ok(vec![other.clone(), ours])));
        assert_eq!(
            (t.record.step, t.record.status, t.next),
            (Step::TrackUpdate, UpgradeStatus::InProgress, Next::After(30))
        );
        assert_eq!(t.record.update_id.as_deref(), Some("u-9"));
        assert!(t.record.adopted);

        for blocking in [other, older] {
            let t = step(&r, Answer::FindUpdatesInProgress(Ok(vec![blocking.clone()])));
            assert_eq!(
                (t.record.step, t.record.status, t.next),
                (Step::AwaitOtherUpdate, UpgradeStatus::Pending, Next::After(30))
            );
            assert_eq!(t.record.awaited_update_id, Some(blocking.id.clone()));
            assert_eq!(t.record.update_id, None);
        }

        let t = step(&r, Answer::FindUpdatesInProgress(Ok(vec![])));
        assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::After(30)));
        let t = step(
            &r,
            Answer::FindUpdatesInProgress(Err(failure(FailureKind::NotFound, "gone"))),
        );
        assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::After(30)));
    }

    #[test]
    fn awaiting_another_update() {
        let r = record_at(Step::AwaitOtherUpdate);
        let t = step(
            &r,
            Answer::DescribeOtherUpdate(Ok(update("u-other", UpdateState::InProgress, "AddonUpdate", None))),
        );
        assert_eq!((t.record.step, t.next), (Step::AwaitOtherUpdate, Next::After(30)));
        for ended in [UpdateState::Successful, UpdateState::Failed, UpdateState::Cancelled] {
            let t = step(
                &r,
                Answer::DescribeOtherUpdate(Ok(update("u-other", ended, "AddonUpdate", None))),
            );
            assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::Now));
            assert_eq!(t.record.awaited_update_id, None);
            assert_eq!(t.record.status, UpgradeStatus::Pending);
        }
        let t = step(
            &r,
            Answer::DescribeOtherUpdate(Err(failure(FailureKind::NotFound, "No update found"))),
        );
        assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::Now));
    }

    #[test]
    fn tracking_to_each_end() {
        let r = record_at(Step::TrackUpdate);
        let t = step(
            &r,
            Answer::DescribeUpdate(Ok(update(
                "u-ours",
                UpdateState::InProgress,
                "VersionUpdate",
                Some("1.31"),
            ))),
        );
        assert_eq!((t.record.status, t.next), (UpgradeStatus::InProgress, Next::After(30)));
        let t = step(
            &r,
            Answer::DescribeUpdate(Ok(update(
                "u-ours",
                UpdateState::Other("Rolling".into()),
                "VersionUpdate",
                None,
            ))),
        );
        assert_eq!(t.next, Next::After(30));

        let t = step(
            &r,
            Answer::DescribeUpdate(Ok(update(
                "u-ours",
                UpdateState::Successful,
                "VersionUpdate",
                Some("1.31"),
            ))),
        );
        assert_eq!(
            (t.record.status, t.record.step, t.next),
            (UpgradeStatus::Succeeded, Step::Done, Next::Stop)
        );
        assert_eq!(t.record.finished_at, Some(NOW + 10));

        let mut failed = update("u-ours", UpdateState::Failed, "VersionUpdate", Some("1.31"));
        failed.errors = vec![EksUpdateError {
            error_code: "NodeCreationFailure".into(),
            error_message: "Instances failed to join".into(),
            resource_ids: vec!["i-1".into()],
        }];
        let t = step(&r, Answer::DescribeUpdate(Ok(failed.clone())));
        assert_eq!(t.record.status, UpgradeStatus::Failed);
        assert_eq!(t.record.eks_errors, failed.errors);
        assert!(t
            .record
            .message
            .as_deref()
            .unwrap()
            .contains("NodeCreationFailure: Instances failed to join"));

        let t = step(
            &r,
            Answer::DescribeUpdate(Ok(update("u-ours", UpdateState::Cancelled, "VersionUpdate", None))),
        );
        // EKS did not complete it: FAILED (CANCELLED is an operator's cancel, a rollout's skip).
        assert_eq!(t.record.status, UpgradeStatus::Failed);
        assert!(t.record.message.unwrap().contains("Cancelled by EKS"));

        let t = step(
            &r,
            Answer::DescribeUpdate(Err(failure(FailureKind::NotFound, "No update found for ID: u-ours"))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Failed);
    }

    #[test]
    fn our_own_update_found_again_after_a_block_is_not_adopted() {
        // Our update u-ours was started, then a block; the re-check finds it still running.
        let mut r = record_at(Step::FindUpdateInProgress);
        r.update_id = Some("u-ours".into());
        let ours = update("u-ours", UpdateState::InProgress, "VersionUpdate", Some("1.31"));
        let t = step(&r, Answer::FindUpdatesInProgress(Ok(vec![ours])));
        assert_eq!(t.record.step, Step::TrackUpdate);
        assert!(!t.record.adopted, "our own update");
        assert_eq!(t.record.adopted_hop, None);
        // Someone else's update to our hop is adopted, for this hop.
        let theirs = update("u-9", UpdateState::InProgress, "VersionUpdate", Some("1.31"));
        let t = step(&r, Answer::FindUpdatesInProgress(Ok(vec![theirs])));
        assert!(t.record.adopted);
        assert_eq!(t.record.adopted_hop, Some(KubeVersion::new(1, 31)));
    }
}
