//! The safety net's steps on their own: a hop's verification, and the rollback of the last hop
//! (prerequisites, node groups, control plane, add-ons), each from a record and EKS's answers.

use crate::domain::eks::{
    AddonVersionOption, AddonView, AlarmView, HealthIssue, InsightView, NodegroupView, OfferedVersion, RollbackSurvey,
    VerifyEvidence,
};
use crate::domain::event::{OnVerifyFailure, VerifySpec};
use crate::domain::record::safety::RollbackCause;
use crate::domain::record::{ItemKind, ItemPurpose, ItemStatus};
use crate::domain::workflow::preflight::add_item;
use crate::domain::workflow::testing::*;

const V30: KubeVersion = KubeVersion::new(1, 30);
const V31: KubeVersion = KubeVersion::new(1, 31);

/// A record whose control plane just reached 1.31 from 1.30 (update u-ours), with node group
/// ng-1 and add-on vpc-cni moved by the hop; verification on.
fn hop_done(on_failure: OnVerifyFailure, soak_minutes: u16) -> UpgradeRecord {
    let mut r = record_at(Step::RunItems);
    r.status = UpgradeStatus::InProgress;
    r.from_version = Some(V30);
    r.hop_version = Some(V31);
    r.hop_reached = Some(V31);
    r.hop_finished_at = Some(NOW);
    r.control_plane_version = Some(V31);
    r.control_plane_updates = vec!["u-ours".into()];
    r.update_id = Some("u-ours".into());
    r.verify = Some(VerifySpec {
        alarms: vec!["api-5xx".into()],
        soak_minutes,
    });
    r.on_verify_failure = on_failure;
    add_item(
        &mut r,
        ItemKind::Addon,
        "vpc-cni",
        "v1.19.0",
        Some("v1.18.0".into()),
        V31,
        "base",
    );
    add_item(
        &mut r,
        ItemKind::Nodegroup,
        "ng-1",
        "1.31",
        Some("1.30".into()),
        V31,
        "base",
    );
    for item in &mut r.items {
        item.status = ItemStatus::Succeeded;
        item.update_id = Some(format!("u-{}", item.name));
    }
    r
}

fn healthy() -> VerifyEvidence {
    VerifyEvidence {
        cluster: cluster("ACTIVE", "1.31"),
        nodegroups: vec![NodegroupView {
            name: "ng-1".into(),
            version: Some(V31),
            status: "ACTIVE".into(),
            ..Default::default()
        }],
        addons: vec![AddonView {
            name: "vpc-cni".into(),
            version: "v1.19.0".into(),
            status: "ACTIVE".into(),
            health: vec![],
        }],
        alarms: vec![AlarmView {
            name: "api-5xx".into(),
            state: "OK".into(),
            reason: "fine".into(),
        }],
    }
}

fn degraded_nodegroup() -> VerifyEvidence {
    let mut evidence = healthy();
    evidence.nodegroups[0].status = "DEGRADED".into();
    evidence.nodegroups[0].health = vec![HealthIssue {
        code: "NodeCreationFailure".into(),
        message: "Instances failed to join the kubernetes cluster".into(),
        resource_ids: vec![],
    }];
    evidence
}

/// Everything a rollback from 1.31 to 1.30 needs, holding.
fn rollback_survey() -> RollbackSurvey {
    RollbackSurvey {
        cluster: cluster("ACTIVE", "1.31"),
        versions: (29..=33)
            .map(|m| OfferedVersion {
                version: KubeVersion::new(1, m),
                status: "STANDARD_SUPPORT".into(),
                default: false,
                end_of_standard: None,
                end_of_extended: None,
            })
            .collect(),
        updates_in_progress: vec![],
        insights: vec![],
        nodegroups: vec![NodegroupView {
            name: "ng-1".into(),
            version: Some(V31),
            status: "ACTIVE".into(),
            ..Default::default()
        }],
        addons: vec![AddonView {
            name: "vpc-cni".into(),
            version: "v1.19.0".into(),
            status: "ACTIVE".into(),
            health: vec![],
        }],
        addon_versions: vec![(
            "vpc-cni".into(),
            vec![
                AddonVersionOption {
                    version: "v1.18.0".into(),
                    compatible: vec![(V30, true), (V31, false)],
                },
                AddonVersionOption {
                    version: "v1.19.0".into(),
                    compatible: vec![(V31, true)],
                },
            ],
        )],
    }
}

/// The record once the hop's last item succeeded: its verification is next.
fn verifying(on_failure: OnVerifyFailure, soak_minutes: u16) -> UpgradeRecord {
    let mut r = hop_done(on_failure, soak_minutes);
    let next = crate::domain::workflow::transitions::follow(&mut r, Flow::Items, NOW, &limits());
    assert_eq!((r.step, next), (Step::Verify, Next::Now));
    assert_eq!(
        next_call(&r),
        Some(Call::Verify {
            alarms: vec!["api-5xx".into()]
        })
    );
    r
}

#[test]
fn a_healthy_hop_is_verified_and_the_upgrade_goes_on() {
    let r = verifying(OnVerifyFailure::Stop, 0);
    let t = step(&r, Answer::Verify(Ok(healthy())));
    assert_eq!(t.record.step, Step::InspectCluster, "{:?}", t.record.message);
    assert_eq!(t.record.verified_hops, vec![V31]);
    let verification = t.record.verification.clone().unwrap();
    assert_eq!(verification.passed, Some(true));
    assert_eq!(
        verification.checks.len(),
        5,
        "cluster status, cluster health, add-on, node group, alarm"
    );
    assert!(verification.checks.iter().all(|c| c.passed));
    // Verified once: the hop is not verified again on the next look.
    let mut again = t.record.clone();
    assert!(!crate::domain::workflow::work::needs_verification(&again));
    again.step = Step::RunItems;
    crate::domain::workflow::transitions::follow(&mut again, Flow::Items, NOW, &limits());
    assert_eq!(again.step, Step::InspectCluster);
}

#[test]
fn a_hop_soaks_until_every_look_held_for_the_soak_time() {
    let r = verifying(OnVerifyFailure::Stop, 10);
    let t = step(&r, Answer::Verify(Ok(healthy())));
    assert_eq!(t.record.step, Step::Verify);
    assert!(matches!(t.next, Next::After(s) if s > 0 && s <= 600), "{:?}", t.next);
    assert_eq!(t.record.verification.as_ref().unwrap().passed, None);
    // Ten minutes on, the look still holds: verified.
    let later = reconcile(&t.record, Answer::Verify(Ok(healthy())), NOW + 601, &limits());
    assert_eq!(later.record.verification.as_ref().unwrap().passed, Some(true));
    assert_eq!(later.record.step, Step::InspectCluster);
}

#[test]
fn an_alarm_firing_during_the_soak_fails_the_hop() {
    let r = verifying(OnVerifyFailure::Stop, 10);
    let t = step(&r, Answer::Verify(Ok(healthy())));
    let mut firing = healthy();
    firing.alarms[0].state = "ALARM".into();
    firing.alarms[0].reason = "Threshold Crossed: 3 datapoints".into();
    let failed = reconcile(&t.record, Answer::Verify(Ok(firing)), NOW + 300, &limits()).record;
    assert_eq!(failed.status, UpgradeStatus::Failed);
    let message = failed.message.clone().unwrap();
    assert!(message.contains("alarm api-5xx: ALARM: Threshold Crossed"), "{message}");
}

#[test]
fn an_alarm_gone_during_the_soak_never_passes_nor_rolls_the_hop_back() {
    // Read at the preflight, then deleted or renamed: no evidence either way. The soak waits
    // for it, then stops with no verdict; `rollback` rolls nothing back on it.
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let mut evidence = healthy();
    evidence.alarms.clear();
    let t = step(&r, Answer::Verify(Ok(evidence.clone())));
    assert_eq!(
        t.record.status,
        UpgradeStatus::InProgress,
        "waits: {:?}",
        t.record.message
    );
    assert_eq!(t.record.step, Step::Verify);
    let late = reconcile(
        &t.record,
        Answer::Verify(Ok(evidence)),
        NOW + crate::domain::workflow::verify::NO_DATA_WAIT_SECS + 60,
        &limits(),
    );
    assert_eq!(late.record.status, UpgradeStatus::Failed, "{:?}", late.record.message);
    assert!(late.record.rollback.is_none(), "no rollback on no evidence");
    assert!(late.record.message.unwrap().contains("no verdict"));
}

#[test]
fn a_failed_verification_with_stop_ends_failed_with_its_evidence() {
    let r = verifying(OnVerifyFailure::Stop, 0);
    let t = step(&r, Answer::Verify(Ok(degraded_nodegroup())));
    assert_eq!(t.record.status, UpgradeStatus::Failed);
    assert!(t.record.rollback.is_none(), "stop rolls nothing back");
    let verification = t.record.verification.clone().unwrap();
    assert_eq!(verification.passed, Some(false));
    let failed: Vec<_> = verification.checks.iter().filter(|c| !c.passed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].check, "node group ng-1");
    assert!(
        failed[0].detail.contains("DEGRADED: NodeCreationFailure"),
        "{}",
        failed[0].detail
    );
    let message = t.record.message.clone().unwrap();
    assert!(message.contains("\"rollback\""), "says how to roll back: {message}");
    assert_eq!(next_call(&t.record), None);
}

/// Takes a rollback from its survey to its end, answering every call as EKS would; returns
/// the record and the calls made, in order.
fn roll_back(mut r: UpgradeRecord, survey: RollbackSurvey) -> (UpgradeRecord, Vec<Call>) {
    let mut calls = Vec::new();
    let mut answer_for = |call: &Call| -> Answer {
        calls.push(call.clone());
        match call {
            Call::RollbackSurvey => Answer::RollbackSurvey(Ok(survey.clone())),
            Call::StartItem { name, .. } => Answer::StartItem(Ok(update(
                &format!("back-{name}"),
                UpdateState::Successful,
                "VersionUpdate",
                None,
            ))),
            Call::DescribeItemUpdate { update_id, .. } => {
                Answer::DescribeItemUpdate(Ok(update(update_id, UpdateState::Successful, "VersionUpdate", None)))
            }
            Call::StartRollback { .. } => Answer::StartRollback(Ok(update(
                "rb-1",
                UpdateState::InProgress,
                "VersionRollback",
                Some("1.30"),
            ))),
            Call::DescribeRollback { update_id } => Answer::DescribeRollback(Ok(update(
                update_id,
                UpdateState::Successful,
                "VersionRollback",
                Some("1.30"),
            ))),
            other => panic!("unexpected call during a rollback: {other:?}"),
        }
    };
    for _ in 0..20 {
        let Some(call) = next_call(&r) else { break };
        let answer = answer_for(&call);
        r = step(&r, answer).record;
    }
    (r, calls)
}

#[test]
fn a_failed_verification_with_rollback_brings_node_groups_control_plane_and_add_ons_back_in_order() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let t = step(&r, Answer::Verify(Ok(degraded_nodegroup())));
    assert_eq!(t.record.status, UpgradeStatus::RollingBack);
    assert_eq!(t.record.step, Step::RollbackPreflight);
    let rollback = t.record.rollback.clone().unwrap();
    assert_eq!(
        (rollback.from, rollback.to, rollback.cause),
        (V31, V30, RollbackCause::VerificationFailed)
    );
    assert!(rollback.reason.contains("node group ng-1"), "{}", rollback.reason);
    let (done, calls) = roll_back(t.record, rollback_survey());
    assert_eq!(done.status, UpgradeStatus::RolledBack, "{:?}", done.message);
    let order: Vec<String> = calls
        .iter()
        .filter_map(|c| match c {
            Call::StartItem {
                kind, name, version, ..
            } => Some(format!("{kind:?} {name} {version}")),
            Call::StartRollback { version, .. } => Some(format!("control plane {version}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        ["Nodegroup ng-1 1.30", "control plane 1.30", "Addon vpc-cni v1.18.0"]
    );
    let starts = calls.iter().filter(|c| matches!(c, Call::StartRollback { .. })).count();
    assert_eq!(starts, 1, "one control-plane rollback");
    let token = match calls.iter().find(|c| matches!(c, Call::StartRollback { .. })) {
        Some(Call::StartRollback { token, .. }) => token.clone(),
        _ => unreachable!(),
    };
    assert_eq!(token, rollback.client_request_token, "the token stored before the call");
    assert_eq!(done.rollback.as_ref().unwrap().update_id.as_deref(), Some("rb-1"));
    let back: Vec<_> = done
        .items
        .iter()
        .filter(|i| i.purpose == ItemPurpose::Rollback)
        .collect();
    assert_eq!(back.len(), 2);
    assert!(back.iter().all(|i| i.status == ItemStatus::Succeeded));
    assert!(done.message.unwrap().contains("rolled back devel from 1.31 to 1.30"));
}

#[test]
fn an_add_on_eks_no_longer_offers_for_the_old_version_stays_with_a_note() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let t = step(&r, Answer::Verify(Ok(degraded_nodegroup())));
    let mut survey = rollback_survey();
    survey.addon_versions[0].1.retain(|o| o.version != "v1.18.0");
    let (done, calls) = roll_back(t.record, survey);
    assert_eq!(done.status, UpgradeStatus::RolledBack);
    assert!(!calls.iter().any(|c| matches!(
        c,
        Call::StartItem {
            kind: ItemKind::Addon,
            ..
        }
    )));
    assert!(done.message.unwrap().contains("add-on vpc-cni stays at v1.19.0"));
}

/// A change to a record or the survey that breaks one prerequisite.
type Change = dyn Fn(&mut UpgradeRecord, &mut RollbackSurvey);

#[test]
fn each_prerequisite_blocks_the_rollback_before_anything_is_touched_and_says_which() {
    let started = || {
        let r = verifying(OnVerifyFailure::Rollback, 0);
        step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record
    };
    let cases: Vec<(&str, Box<Change>)> = vec![
        (
            "within 7 days of the upgrade",
            Box::new(|r, _| r.hop_finished_at = Some(NOW - 8 * 86400)),
        ),
        (
            "exactly one minor down",
            Box::new(|_, s| s.cluster.version = Some(KubeVersion::new(1, 32))),
        ),
        (
            "cluster ACTIVE, no update in progress",
            Box::new(|_, s| s.updates_in_progress = vec![update("u-x", UpdateState::InProgress, "AddonUpdate", None)]),
        ),
        (
            "cluster ACTIVE, no update in progress",
            Box::new(|_, s| s.cluster.status = "UPDATING".into()),
        ),
        (
            "upgrade policy for extended support",
            Box::new(|_, s| {
                s.versions.iter_mut().find(|v| v.version == V30).unwrap().status = "EXTENDED_SUPPORT".into();
                s.cluster.support_type = Some("STANDARD".into());
            }),
        ),
        (
            "rollback readiness insights",
            Box::new(|_, s| {
                s.insights = vec![InsightView {
                    name: "Deprecated APIs in use".into(),
                    category: "ROLLBACK_READINESS".into(),
                    kubernetes_version: Some("1.30".into()),
                    status: "ERROR".into(),
                    reason: "flowcontrol v1 is used".into(),
                }]
            }),
        ),
        (
            "node group ng-2 can go back",
            Box::new(|_, s| {
                let mut other = s.nodegroups[0].clone();
                other.name = "ng-2".into();
                s.nodegroups.push(other);
            }),
        ),
        (
            "upgraded in place by this upgrade",
            Box::new(|r, _| r.hop_reached = Some(KubeVersion::new(1, 29))),
        ),
        // An adopted update may be EKS's own end-of-support upgrade.
        ("upgraded in place by this upgrade", Box::new(|r, _| r.adopted = true)),
        // EKS refuses to update a DEGRADED node group or add-on: nothing may start.
        (
            "node group ng-1 can go back",
            Box::new(|_, s| s.nodegroups[0].status = "DEGRADED".into()),
        ),
        (
            "add-on vpc-cni can go back",
            Box::new(|_, s| s.addons[0].status = "DEGRADED".into()),
        ),
        // A version EKS does not list: whether it needs EXTENDED can't be told.
        (
            "upgrade policy for extended support",
            Box::new(|_, s| s.versions.retain(|v| v.version != V30)),
        ),
        ("cluster enrolled", Box::new(|_, s| s.cluster.tags.clear())),
        // An hour is kept back from EKS's 7 days.
        (
            "within 7 days of the upgrade",
            Box::new(|r, _| r.hop_finished_at = Some(NOW - 7 * 86400 + 1800)),
        ),
    ];
    for (check, change) in cases {
        let mut r = started();
        let mut survey = rollback_survey();
        change(&mut r, &mut survey);
        let t = step(&r, Answer::RollbackSurvey(Ok(survey)));
        assert_eq!(t.record.status, UpgradeStatus::RollbackBlocked, "{check}");
        let message = t.record.message.clone().unwrap();
        assert!(message.contains(check), "{check}: {message}");
        assert!(message.contains("nothing was touched"), "{message}");
        assert!(
            t.record.items.iter().all(|i| i.purpose == ItemPurpose::Upgrade),
            "{check}: no item planned"
        );
        assert_eq!(next_call(&t.record), None, "{check}: no call");
        let failed = &t.record.rollback.as_ref().unwrap().prerequisites;
        assert!(
            failed.iter().any(|c| c.check == check && !c.passed),
            "{check}: {failed:?}"
        );
    }
}

#[test]
fn a_rollback_blocked_by_an_insight_goes_ahead_when_forced_on_request() {
    let mut r = verifying(OnVerifyFailure::Rollback, 0);
    r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    let mut survey = rollback_survey();
    survey.insights = vec![InsightView {
        name: "Deprecated APIs in use".into(),
        category: "ROLLBACK_READINESS".into(),
        kubernetes_version: Some("1.30".into()),
        status: "ERROR".into(),
        reason: "flowcontrol v1 is used".into(),
    }];
    let blocked = step(&r, Answer::RollbackSurvey(Ok(survey.clone()))).record;
    assert_eq!(blocked.status, UpgradeStatus::RollbackBlocked);
    let token = blocked.rollback.as_ref().unwrap().client_request_token.clone();
    let forced = rollback_on_request(&blocked, true, None, NOW + 60).unwrap();
    assert_eq!(forced.status, UpgradeStatus::RollingBack);
    assert!(forced.rollback.as_ref().unwrap().force);
    let (done, calls) = roll_back(forced, survey);
    assert_eq!(done.status, UpgradeStatus::RolledBack, "{:?}", done.message);
    assert!(calls
        .iter()
        .any(|c| matches!(c, Call::StartRollback { force: true, .. })));
    assert_ne!(
        done.rollback.as_ref().unwrap().client_request_token,
        token,
        "a new attempt, a new token"
    );
}

#[test]
fn a_rollback_on_request_is_refused_with_its_reason() {
    let mut succeeded = hop_done(OnVerifyFailure::Stop, 0);
    succeeded.status = UpgradeStatus::Succeeded;
    succeeded.step = Step::Done;
    succeeded.verify = None;
    assert!(rollback_on_request(&succeeded, false, None, NOW + 60).is_ok());
    let late = rollback_on_request(&succeeded, false, None, NOW + ROLLBACK_WINDOW_SECS + 1).unwrap_err();
    assert!(late.contains("only within 7 days"), "{late}");
    let mut no_hop = succeeded.clone();
    no_hop.control_plane_updates.clear();
    no_hop.hop_reached = None;
    let err = rollback_on_request(&no_hop, false, None, NOW + 60).unwrap_err();
    assert!(err.contains("updated no control plane"), "{err}");
    let mut running = succeeded.clone();
    running.status = UpgradeStatus::InProgress;
    let err = rollback_on_request(&running, false, None, NOW + 60).unwrap_err();
    assert!(err.contains("only an upgrade that has stopped"), "{err}");
    let mut taken = succeeded.clone();
    taken.released_to = Some("next-upgrade".into());
    let err = rollback_on_request(&taken, false, None, NOW + 60).unwrap_err();
    assert!(err.contains("taken by upgrade next-upgrade"), "{err}");
}

#[test]
fn a_rollback_leaves_the_upgrades_unstarted_items_alone() {
    let mut r = hop_done(OnVerifyFailure::Stop, 0);
    // A node group of the hop that never started (the upgrade failed on another one).
    add_item(
        &mut r,
        ItemKind::Nodegroup,
        "ng-late",
        "1.31",
        Some("1.30".into()),
        V31,
        "base",
    );
    add_item(
        &mut r,
        ItemKind::Nodegroup,
        "ng-broken",
        "1.31",
        Some("1.30".into()),
        V31,
        "base",
    );
    r.items.last_mut().unwrap().status = ItemStatus::Failed;
    r.status = UpgradeStatus::Failed;
    r.step = Step::Done;
    let requested = rollback_on_request(&r, false, None, NOW + 60).unwrap();
    let (done, calls) = roll_back(requested, rollback_survey());
    assert_eq!(done.status, UpgradeStatus::RolledBack, "{:?}", done.message);
    assert!(!calls
        .iter()
        .any(|c| matches!(c, Call::StartItem { name, .. } if name == "ng-late" || name == "ng-broken")));
}

#[test]
fn a_failed_control_plane_rollback_asked_again_gets_a_new_token() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let mut r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    r = step(&r, Answer::RollbackSurvey(Ok(rollback_survey()))).record;
    // ng-1 goes back.
    r = step(
        &r,
        Answer::StartItem(Ok(update("b1", UpdateState::Successful, "VersionUpdate", None))),
    )
    .record;
    assert_eq!(r.step, Step::StartRollback);
    let first = r.rollback.as_ref().unwrap().client_request_token.clone();
    r = step(
        &r,
        Answer::StartRollback(Ok(update("rb-1", UpdateState::InProgress, "VersionRollback", None))),
    )
    .record;
    let mut failed = update("rb-1", UpdateState::Failed, "VersionRollback", None);
    failed.errors = vec![EksUpdateError {
        error_code: "Unknown".into(),
        error_message: "rollback failed".into(),
        resource_ids: vec![],
    }];
    r = step(&r, Answer::DescribeRollback(Ok(failed))).record;
    assert_eq!(r.status, UpgradeStatus::RollbackFailed);
    assert!(r.message.clone().unwrap().contains("rollback failed"));
    let again = rollback_on_request(&r, false, None, NOW + 600).unwrap();
    let rb = again.rollback.as_ref().unwrap();
    assert_ne!(rb.client_request_token, first);
    assert_eq!(rb.update_id, None);
    // The node group already back is not moved again.
    let mut survey = rollback_survey();
    survey.nodegroups[0].version = Some(V30);
    let (done, calls) = roll_back(again, survey);
    assert_eq!(done.status, UpgradeStatus::RolledBack, "{:?}", done.message);
    assert!(!calls.iter().any(|c| matches!(
        c,
        Call::StartItem {
            kind: ItemKind::Nodegroup,
            ..
        }
    )));
}

#[test]
fn a_version_rollback_in_progress_is_never_adopted_as_our_update() {
    let mut r = record_at(Step::FindUpdateInProgress);
    r.hop_version = Some(V31);
    let theirs = update("u-rb", UpdateState::InProgress, "VersionRollback", Some("1.31"));
    let t = step(&r, Answer::FindUpdatesInProgress(Ok(vec![theirs])));
    assert!(!t.record.adopted);
    assert_ne!(t.record.update_id.as_deref(), Some("u-rb"));
}

#[test]
fn a_control_plane_that_went_down_under_the_upgrade_stops_it_saying_so() {
    let mut r = hop_done(OnVerifyFailure::Stop, 0);
    r.verify = None;
    r.target_version = KubeVersion::new(1, 32);
    r.step = Step::InspectCluster;
    let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))));
    assert_eq!(t.record.status, UpgradeStatus::Failed);
    let message = t.record.message.clone().unwrap();
    assert!(message.contains("went down from 1.31 to 1.30"), "{message}");
    assert_eq!(next_call(&t.record), None);
}

#[test]
fn verification_and_rollback_records_stay_small() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let t = step(&r, Answer::Verify(Ok(degraded_nodegroup())));
    let (done, _) = roll_back(t.record, rollback_survey());
    let size = serde_json::to_vec(&done).unwrap().len();
    assert!(size < 16 * 1024, "{size} bytes");
}

#[test]
fn a_hop_blocked_after_the_last_one_succeeded_is_not_taken_for_a_rollback_by_someone_else() {
    // 1.29 to 1.31: the hop to 1.30 is done; the hop to 1.31 was refused (insights) and the
    // re-check comes back to InspectCluster with the cluster at 1.30.
    let mut r = hop_done(OnVerifyFailure::Stop, 0);
    r.verify = None;
    r.hop_reached = Some(V30);
    r.hop_version = Some(V31);
    r.status = UpgradeStatus::Pending;
    r.step = Step::InspectCluster;
    let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.30"))));
    assert_ne!(t.record.status, UpgradeStatus::Failed, "{:?}", t.record.message);
    assert_eq!(t.record.step, Step::Preflight);
}

#[test]
fn a_hop_left_unverified_by_a_block_is_verified_when_the_upgrade_comes_back() {
    let mut r = hop_done(OnVerifyFailure::Stop, 0);
    // The verification's read was refused (BLOCKED); the re-check starts at InspectCluster.
    r.status = UpgradeStatus::Pending;
    r.step = Step::InspectCluster;
    let t = step(&r, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.31"))));
    assert_eq!(t.record.step, Step::Verify, "{:?}", t.record.message);
    // Not before the hop's own updates are done.
    let mut pending = r.clone();
    pending.items[1].status = ItemStatus::Planned;
    let t = step(&pending, Answer::DescribeCluster(Ok(cluster("ACTIVE", "1.31"))));
    assert_ne!(t.record.step, Step::Verify);
}

#[test]
fn a_cluster_still_updating_fails_its_verification_and_a_soak_restarts_on_return() {
    let r = verifying(OnVerifyFailure::Stop, 10);
    let mut evidence = healthy();
    evidence.cluster.status = "UPDATING".into();
    let t = step(&r, Answer::Verify(Ok(evidence)));
    assert_eq!(t.record.status, UpgradeStatus::Failed);
    assert!(t
        .record
        .message
        .unwrap()
        .contains("cluster ACTIVE at 1.31: cluster is UPDATING"));
    // A soak begun before a block starts again: time nobody looked does not count.
    let mut again = r.clone();
    again.verification.as_mut().unwrap().started_at = NOW - 3600;
    let next = crate::domain::workflow::verify::start(&mut again, NOW);
    assert_eq!(next, Next::Now);
    assert_eq!(again.verification.unwrap().started_at, NOW);
}

#[test]
fn a_rollback_that_times_out_ends_rollback_failed_and_asked_again_keeps_its_token_while_it_may_have_gone_out() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let mut r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    r = step(&r, Answer::RollbackSurvey(Ok(rollback_survey()))).record;
    r = step(
        &r,
        Answer::StartItem(Ok(update("b1", UpdateState::Successful, "VersionUpdate", None))),
    )
    .record;
    assert_eq!(r.step, Step::StartRollback);
    let token = r.rollback.as_ref().unwrap().client_request_token.clone();
    // A fault, then the bound: the call may have reached EKS.
    r = step(
        &r,
        Answer::StartRollback(Err(failure(FailureKind::Transient, "timed out"))),
    )
    .record;
    let timed_out = crate::domain::workflow::status::bound(&mut r.clone(), Next::After(30), NOW + 2 * 86400, &limits());
    assert_eq!(timed_out, Next::Stop);
    let mut ended = r.clone();
    crate::domain::workflow::status::bound(&mut ended, Next::After(30), NOW + 2 * 86400, &limits());
    assert_eq!(ended.status, UpgradeStatus::RollbackFailed, "{:?}", ended.message);
    let again = rollback_on_request(&ended, false, None, NOW + 2 * 86400 + 60).unwrap();
    assert_eq!(
        again.rollback.as_ref().unwrap().client_request_token,
        token,
        "the same token finds the same update"
    );
    let forced = rollback_on_request(&ended, true, None, NOW + 2 * 86400 + 60).unwrap();
    assert_ne!(
        forced.rollback.as_ref().unwrap().client_request_token,
        token,
        "other parameters, a new token"
    );
}

#[test]
fn a_stopped_record_with_a_stale_running_item_can_still_be_rolled_back() {
    let mut r = hop_done(OnVerifyFailure::Stop, 0);
    r.items[0].status = ItemStatus::InProgress;
    r.status = UpgradeStatus::TimedOut;
    r.step = Step::Done;
    assert!(rollback_on_request(&r, false, None, NOW + 60).is_ok());
}

#[test]
fn the_seven_days_are_checked_again_before_the_control_plane_goes_back() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let mut r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    r = step(&r, Answer::RollbackSurvey(Ok(rollback_survey()))).record;
    // The node group took until the window's end.
    r.hop_finished_at = Some(NOW - 7 * 86400);
    let t = step(
        &r,
        Answer::StartItem(Ok(update("b1", UpdateState::Successful, "VersionUpdate", None))),
    );
    assert_eq!(t.record.status, UpgradeStatus::RollbackFailed);
    assert!(t
        .record
        .message
        .clone()
        .unwrap()
        .contains("7 days for a rollback ran out"));
    assert_eq!(next_call(&t.record), None, "no control-plane rollback after the window");
}

#[test]
fn an_add_on_that_failed_to_go_back_is_asked_again_with_a_new_token_and_the_control_plane_is_left_alone() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let mut r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    r = step(&r, Answer::RollbackSurvey(Ok(rollback_survey()))).record;
    r = step(
        &r,
        Answer::StartItem(Ok(update("b1", UpdateState::Successful, "VersionUpdate", None))),
    )
    .record;
    r = step(
        &r,
        Answer::StartRollback(Ok(update("rb-1", UpdateState::Successful, "VersionRollback", None))),
    )
    .record;
    let addon = |r: &UpgradeRecord| {
        r.items
            .iter()
            .find(|i| i.purpose == ItemPurpose::Rollback && i.kind == ItemKind::Addon)
            .cloned()
            .unwrap()
    };
    let first = addon(&r).client_request_token;
    r = step(&r, Answer::StartItem(Err(failure(FailureKind::Rejected, "no")))).record;
    assert_eq!(r.status, UpgradeStatus::RollbackFailed, "{:?}", r.message);
    let again = rollback_on_request(&r, false, None, NOW + 600).unwrap();
    let mut survey = rollback_survey();
    survey.cluster.version = Some(V30);
    survey.nodegroups[0].version = Some(V30);
    let (done, calls) = roll_back(again, survey);
    assert_ne!(addon(&done).client_request_token, first);
    assert_eq!(done.status, UpgradeStatus::RolledBack, "{:?}", done.message);
    assert!(!calls.iter().any(|c| matches!(c, Call::StartRollback { .. })));
    assert!(calls.iter().any(|c| matches!(
        c,
        Call::StartItem {
            kind: ItemKind::Addon,
            ..
        }
    )));
}

#[test]
fn a_failed_node_group_rollback_is_asked_again_with_a_new_token() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let mut r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    // ng-1's way back fails (pods could not be evicted): ROLLBACK_FAILED.
    let mut first_token = None;
    for _ in 0..10 {
        let Some(call) = next_call(&r) else { break };
        let answer = match &call {
            Call::RollbackSurvey => Answer::RollbackSurvey(Ok(rollback_survey())),
            Call::StartItem { token, .. } => {
                first_token = Some(token.clone());
                Answer::StartItem(Ok(update("back-1", UpdateState::InProgress, "VersionUpdate", None)))
            }
            Call::DescribeItemUpdate { update_id, .. } => {
                let mut failed = update(update_id, UpdateState::Failed, "VersionUpdate", None);
                failed.errors = vec![EksUpdateError {
                    error_code: "PodEvictionFailure".into(),
                    error_message: "Reached max retries while trying to evict pods".into(),
                    resource_ids: vec![],
                }];
                Answer::DescribeItemUpdate(Ok(failed))
            }
            other => panic!("unexpected call: {other:?}"),
        };
        r = step(&r, answer).record;
    }
    assert_eq!(r.status, UpgradeStatus::RollbackFailed, "{:?}", r.message);
    let first_token = first_token.unwrap();
    // The operator fixes the cause and asks again: a new token, so EKS starts a new update
    // instead of handing back the failed one. No `force` needed.
    let again = rollback_on_request(&r, false, None, NOW + 3600).unwrap();
    let (done, calls) = roll_back(again, rollback_survey());
    assert_eq!(done.status, UpgradeStatus::RolledBack, "{:?}", done.message);
    let tokens: Vec<&String> = calls
        .iter()
        .filter_map(|c| match c {
            Call::StartItem {
                kind: ItemKind::Nodegroup,
                token,
                ..
            } => Some(token),
            _ => None,
        })
        .collect();
    assert_eq!(tokens.len(), 1);
    assert_ne!(*tokens[0], first_token, "asked again with a new token");
}

#[test]
fn the_seven_days_are_counted_from_eks_time_not_from_when_a_poll_saw_the_end() {
    // The hop's update began 7 days less 30 minutes ago by EKS's clock; a delayed poll saw it
    // succeed only five days ago.
    let mut r = verifying(OnVerifyFailure::Rollback, 0);
    r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    r.hop_finished_at = Some(NOW - 5 * 86400);
    r.hop_created_at = Some(NOW - 7 * 86400 + 1800);
    let t = step(&r, Answer::RollbackSurvey(Ok(rollback_survey())));
    assert_eq!(
        t.record.status,
        UpgradeStatus::RollbackBlocked,
        "{:?}",
        t.record.message
    );
    assert!(t.record.message.unwrap().contains("within 7 days of the upgrade"));
    assert!(
        t.record.items.iter().all(|i| i.purpose == ItemPurpose::Upgrade),
        "nothing rolled back"
    );
}

#[test]
fn the_hop_records_eks_created_at_as_the_start_of_its_rollback_window() {
    let mut r = record_at(Step::TrackUpdate);
    r.verify = Some(VerifySpec {
        alarms: vec![],
        soak_minutes: 0,
    });
    let mut done = update("u-ours", UpdateState::Successful, "VersionUpdate", Some("1.31"));
    done.created_at = Some(NOW - 5 * 3600);
    let t = step(&r, Answer::DescribeUpdate(Ok(done)));
    assert_eq!(t.record.hop_created_at, Some(NOW - 5 * 3600));
    assert_eq!(t.record.rollback_window_start(), Some(NOW - 5 * 3600));
}

#[test]
fn an_adopted_earlier_hop_does_not_block_the_rollback_of_a_later_hop_of_ours() {
    let r = verifying(OnVerifyFailure::Rollback, 0);
    let mut r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    // The hop to 1.30 was adopted; the hop to 1.31 (the one rolled back) was ours.
    r.adopted_hop = Some(V30);
    r.adopted = false;
    let (done, _) = roll_back(r.clone(), rollback_survey());
    assert_eq!(done.status, UpgradeStatus::RolledBack, "{:?}", done.message);
    // The hop rolled back is the adopted one: blocked.
    r.adopted_hop = Some(V31);
    let t = step(&r, Answer::RollbackSurvey(Ok(rollback_survey())));
    assert_eq!(t.record.status, UpgradeStatus::RollbackBlocked);
}

#[test]
fn the_rollback_is_sent_with_eks_default_timeout_or_the_requests_and_followed_for_as_long() {
    let started = |timeout: Option<u32>| {
        let mut r = verifying(OnVerifyFailure::Rollback, 0);
        r.rollback_timeout_minutes = timeout;
        let r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
        let mut r = step(&r, Answer::RollbackSurvey(Ok(rollback_survey()))).record;
        // The node group goes back.
        for _ in 0..4 {
            match next_call(&r) {
                Some(Call::StartItem { .. }) => {
                    r = step(
                        &r,
                        Answer::StartItem(Ok(update("back-ng", UpdateState::Successful, "VersionUpdate", None))),
                    )
                    .record
                }
                Some(Call::DescribeItemUpdate { update_id, .. }) => {
                    r = step(
                        &r,
                        Answer::DescribeItemUpdate(Ok(update(
                            &update_id,
                            UpdateState::Successful,
                            "VersionUpdate",
                            None,
                        ))),
                    )
                    .record
                }
                _ => break,
            }
        }
        r
    };
    let r = started(None);
    assert!(
        matches!(
            next_call(&r),
            Some(Call::StartRollback {
                timeout_minutes: 720,
                ..
            })
        ),
        "EKS's default: {:?}",
        next_call(&r)
    );
    let r = started(Some(4320));
    assert!(matches!(
        next_call(&r),
        Some(Call::StartRollback {
            timeout_minutes: 4320,
            ..
        })
    ));
    // Three days of rollback: followed past MAX_TRACKING_SECONDS (a day), to EKS's own end.
    let running = update("rb-1", UpdateState::InProgress, "VersionRollback", Some("1.30"));
    let mut r = step(&r, Answer::StartRollback(Ok(running.clone()))).record;
    let mut now = NOW;
    while now < NOW + 3 * 86400 {
        now += 3600;
        let t = reconcile(&r, Answer::DescribeRollback(Ok(running.clone())), now, &limits());
        assert_eq!(t.record.status, UpgradeStatus::RollingBack, "{:?}", t.record.message);
        r = t.record;
    }
    // Past its timeout and an hour: it ends, naming the update.
    let t = reconcile(
        &r,
        Answer::DescribeRollback(Ok(running)),
        NOW + 4320 * 60 + 7200,
        &limits(),
    );
    assert_ne!(t.record.status, UpgradeStatus::RollingBack);
}

#[test]
fn the_add_ons_go_back_after_a_control_plane_rollback_that_took_days() {
    let mut r = verifying(OnVerifyFailure::Rollback, 0);
    r.rollback_timeout_minutes = Some(4320);
    let mut r = step(&r, Answer::Verify(Ok(degraded_nodegroup()))).record;
    let mut now = NOW;
    // The node group back, then the control plane's rollback, which EKS takes two days over.
    for _ in 0..200 {
        now += 3600;
        let Some(call) = next_call(&r) else { break };
        let answer = match call {
            Call::RollbackSurvey => Answer::RollbackSurvey(Ok(rollback_survey())),
            Call::StartItem { name, .. } => Answer::StartItem(Ok(update(
                &format!("back-{name}"),
                UpdateState::InProgress,
                "VersionUpdate",
                None,
            ))),
            Call::DescribeItemUpdate { update_id, .. } => {
                Answer::DescribeItemUpdate(Ok(update(&update_id, UpdateState::Successful, "VersionUpdate", None)))
            }
            Call::StartRollback { .. } => Answer::StartRollback(Ok(update(
                "rb-1",
                UpdateState::InProgress,
                "VersionRollback",
                Some("1.30"),
            ))),
            Call::DescribeRollback { update_id } => {
                let state = if now - NOW < 2 * 86400 {
                    UpdateState::InProgress
                } else {
                    UpdateState::Successful
                };
                Answer::DescribeRollback(Ok(update(&update_id, state, "VersionRollback", Some("1.30"))))
            }
            other => panic!("unexpected {other:?}"),
        };
        let t = reconcile(&r, answer, now, &limits());
        r = committed(&r, t.record, now);
    }
    assert_eq!(r.status, UpgradeStatus::RolledBack, "{:?}", r.message);
    let addon_back = r
        .items
        .iter()
        .any(|i| i.purpose == ItemPurpose::Rollback && i.kind == ItemKind::Addon && i.status == ItemStatus::Succeeded);
    assert!(addon_back, "the add-on went back too");
}
