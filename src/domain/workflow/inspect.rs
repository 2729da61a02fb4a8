//! `InspectCluster`: DescribeCluster decides whether there is anything to do, whether the
//! maintenance window allows it, and whether someone else's update must end first.

use super::flow::Flow;
use super::status::{finish, refused, set_status};
use super::work::needs_verification;
use super::{Limits, Next};
use crate::domain::eks::{policy, Action, ClusterView, EksFailure, FailureKind, Operation};
use crate::domain::record::{Step, UpgradeRecord, UpgradeStatus};
use crate::domain::window::{self, Decision};

/// The step's function: the answer to DescribeCluster.
pub(super) fn on_cluster(
    r: &mut UpgradeRecord,
    answer: Result<ClusterView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    // Also reached from a tracking step that lost its update id: it starts over from here.
    r.step = Step::InspectCluster;
    match answer {
        Ok(cluster) => inspect_cluster(r, &cluster, now, limits),
        Err(e) if policy(Operation::DescribeCluster, &e) == Action::Fail && e.kind == FailureKind::NotFound => {
            let note = format!("cluster {} not found: {}", r.cluster, e.message);
            finish(r, UpgradeStatus::Failed, note, now, limits).into()
        }
        Err(e) => refused(r, Operation::DescribeCluster, "DescribeCluster", &e, now, limits).into(),
    }
}

fn inspect_cluster(r: &mut UpgradeRecord, cluster: &ClusterView, now: i64, limits: &Limits) -> Flow {
    if let Some(current) = cluster.version {
        if let Some(reached) = r
            .hop_reached
            .filter(|h| current < *h && !r.control_plane_updates.is_empty())
        {
            // Our hop to `reached` succeeded, yet the control plane is below it: someone rolled
            // it back. This upgrade does not fight that.
            let note = format!(
                "the control plane went down from {reached} to {current} under this upgrade (a rollback by someone \
                 else?): stopped; send a new request to upgrade again"
            );
            return finish(r, UpgradeStatus::Failed, note, now, limits).into();
        }
        r.from_version.get_or_insert(current);
        r.control_plane_version = Some(current);
        // Back after a block or a park with a hop done but not yet verified: verify it first.
        if needs_verification(r) {
            return Flow::Verify;
        }
        if current >= r.target_version {
            // The control plane is there; the preflight finishes the rest of the cluster (node
            // groups to its version, add-ons to their default for it) or says it is done.
            r.step = Step::Preflight;
            return Next::Now.into();
        }
    }
    match cluster.status.as_str() {
        "ACTIVE" => in_window(r, now, limits).into(),
        "UPDATING" => {
            r.step = Step::FindUpdateInProgress;
            Next::Now.into()
        }
        "DELETING" | "FAILED" => finish(
            r,
            UpgradeStatus::Failed,
            format!("cluster {} is {}; it can't be upgraded", r.cluster, cluster.status),
            now,
            limits,
        )
        .into(),
        other => {
            r.message = Some(format!("cluster {} is {other}; waiting for ACTIVE", r.cluster));
            Next::After(limits.poll_interval_secs).into()
        }
    }
}

/// ACTIVE and below the target: the preflight, if the maintenance window allows a hop now.
fn in_window(r: &mut UpgradeRecord, now: i64, limits: &Limits) -> Next {
    let decision = window::can_start(
        r.maintenance_window.as_ref(),
        &r.exclusions,
        now,
        limits.hop_estimate_secs,
    );
    match decision {
        Decision::Go => {
            r.step = Step::Preflight;
            r.wait_until = None;
            Next::Now
        }
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
    use crate::domain::workflow::testing::*;
    #[test]
    fn active_cluster_below_target_goes_to_preflight() {
        let t = step(
            &record_at(Step::InspectCluster),
            Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))),
        );
        assert_eq!(t.next, Next::Now);
        assert_eq!(t.record.step, Step::Preflight);
        assert_eq!(t.record.status, UpgradeStatus::Pending);
        assert_eq!(t.record.from_version, Some(KubeVersion::new(1, 30)));
        assert_eq!(t.record.heartbeat_at, NOW + 10);
    }

    #[test]
    fn cluster_at_or_past_target_is_a_no_op_success_once_nothing_is_behind() {
        for (version, words) in [("1.31", "already at 1.31"), ("1.32", "past the target")] {
            let t = step(
                &record_at(Step::InspectCluster),
                Answer::DescribeCluster(Ok(cluster("ACTIVE", version))),
            );
            // The control plane is there: the preflight looks at the rest of the cluster.
            assert_eq!((t.record.step, t.next), (Step::Preflight, Next::Now));
            let t = step(&t.record, Answer::Survey(Ok(survey_at(version))));
            assert_eq!(t.next, Next::Stop);
            assert_eq!(t.record.status, UpgradeStatus::Succeeded);
            assert!(
                t.record.message.as_deref().unwrap().contains(words),
                "{:?}",
                t.record.message
            );
            assert_eq!(t.record.update_id, None);
            assert_eq!(t.record.expires_at, Some(NOW + 10 + limits().retention_secs));
            assert_eq!(t.record.sweep_bucket, None);
        }
    }

    #[test]
    fn cluster_status_decides_what_comes_next() {
        let r = record_at(Step::InspectCluster);
        let t = step(&r, Answer::DescribeCluster(Ok(cluster("UPDATING", "1.30"))));
        assert_eq!((t.record.step, t.next), (Step::FindUpdateInProgress, Next::Now));
        for waiting in ["CREATING", "PENDING"] {
            let t = step(&r, Answer::DescribeCluster(Ok(cluster(waiting, "1.30"))));
            assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::After(30)));
            assert_eq!(t.record.status, UpgradeStatus::Pending);
        }
        for dead in ["DELETING", "FAILED"] {
            let t = step(&r, Answer::DescribeCluster(Ok(cluster(dead, "1.30"))));
            assert_eq!(t.record.status, UpgradeStatus::Failed);
            assert!(t.record.message.as_deref().unwrap().contains(dead));
        }
    }

    #[test]
    fn missing_cluster_fails() {
        let t = step(
            &record_at(Step::InspectCluster),
            Answer::DescribeCluster(Err(failure(FailureKind::NotFound, "No cluster found for name: devel."))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Failed);
        assert_eq!(
            t.record.message.as_deref(),
            Some("cluster devel not found: No cluster found for name: devel.")
        );
    }

    #[test]
    fn the_maintenance_window_decides_when_the_update_starts() {
        // NOW + 10 is 14:13:30 UTC.
        let mut r = record_at(Step::InspectCluster);
        r.maintenance_window = Some(window(serde_json::json!({ "start": "16:30", "durationMinutes": 120 })));
        let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!(
            (t.record.status, t.record.step, t.next),
            (UpgradeStatus::WaitingForWindow, Step::InspectCluster, Next::Park)
        );
        assert_eq!(t.record.wait_until, Some(NOW + 8200));
        assert!(
            t.record.message.as_deref().unwrap().contains("window"),
            "{:?}",
            t.record.message
        );
        assert!(
            !is_stale(&t.record, NOW + 8199, &limits()),
            "not due before the window opens"
        );
        assert!(is_stale(&t.record, NOW + 8200, &limits()));

        // Open, but only 30 minutes left of it: less than the 45-minute estimate.
        r.maintenance_window = Some(window(serde_json::json!({ "start": "13:45", "durationMinutes": 60 })));
        let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!(t.record.status, UpgradeStatus::WaitingForWindow);

        // Open with time to spare.
        r.maintenance_window = Some(window(serde_json::json!({ "start": "14:00", "durationMinutes": 120 })));
        let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!((t.record.step, t.next), (Step::Preflight, Next::Now));

        // A window shorter than a hop can never fit one: an operator must change it.
        r.maintenance_window = Some(window(serde_json::json!({ "start": "16:30", "durationMinutes": 30 })));
        let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!(t.record.status, UpgradeStatus::Blocked, "{:?}", t.record.message);
    }
}
