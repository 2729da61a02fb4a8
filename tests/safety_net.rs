//! The safety net through the handler: each hop verified, a failed hop rolled back (node groups,
//! control plane by a VersionRollback, add-ons), a rollback on request, each exactly once.

use eks_upgrade_orchestrator::domain::eks::InsightView;
use eks_upgrade_orchestrator::domain::{ItemStatus, KubeVersion, UpgradeRecord, UpgradeStatus};
use eks_upgrade_orchestrator::fakes::FakeEks;
use eks_upgrade_orchestrator::handler::HandlerError;
use serde_json::{json, Value};

mod common;
use common::*;

const V30: KubeVersion = KubeVersion::new(1, 30);
const V31: KubeVersion = KubeVersion::new(1, 31);

fn verified(target: &str, on_failure: &str) -> Value {
    json!({
        "cluster": "devel",
        "targetVersion": target,
        "requestId": "safe",
        "verify": { "alarms": ["api-5xx"], "soakMinutes": 10 },
        "onVerifyFailure": on_failure,
    })
}

fn rollback(force: bool) -> Value {
    json!({ "rollback": { "cluster": "devel", "requestId": "safe", "force": force } })
}

/// Runs whatever is in flight to its end: continuations, then the sweep after leases run out.
/// An injected crash is a dead invocation: what it left is picked up like any other.
async fn settle(h: &Harness, request_id: &str) -> UpgradeRecord {
    let survive = |answer: Result<Value, HandlerError>| match answer {
        Ok(_) | Err(HandlerError::Crashed(_)) => {}
        Err(e) => panic!("{e}"),
    };
    for _ in 0..30 {
        loop {
            let sent = h.app.invoker.take();
            if sent.is_empty() {
                break;
            }
            for continuation in sent {
                survive(h.send(json!({ "continuation": continuation })).await);
            }
        }
        if h.record(request_id).is_finished() {
            break;
        }
        h.app.clock.advance_secs(900 + 300);
        survive(h.send(json!({ "sweep": {} })).await);
    }
    h.record(request_id)
}

/// The updates EKS made, by kind, in the order they were made.
fn updates(h: &Harness) -> Vec<(String, String, String)> {
    let s = h.app.eks.lock();
    let mut all: Vec<_> = s.updates.values().filter(|u| u.token.is_some()).collect();
    let order = |id: &str| id.rsplit('-').next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
    all.sort_by_key(|u| order(&u.id));
    all.iter()
        .map(|u| {
            (
                u.kind.clone(),
                u.target.clone().unwrap_or_else(|| "control plane".into()),
                u.version.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn versions(h: &Harness) -> (KubeVersion, Vec<Option<KubeVersion>>, String) {
    let s = h.app.eks.lock();
    (
        s.clusters["devel"].1,
        s.nodegroups.iter().map(|n| n.version).collect(),
        s.addons[0].version.clone(),
    )
}

fn detail_types(h: &Harness) -> Vec<String> {
    h.app.notifier.all().iter().map(|n| n.detail_type.clone()).collect()
}

#[tokio::test]
async fn each_hop_is_verified_through_its_soak_and_the_upgrade_goes_on() {
    let h = Harness::new(fleet_cluster("1.30"));
    h.app.alarms.set("api-5xx", "OK", "fine");
    h.send_ok(verified("1.32", "rollback")).await;
    let record = settle(&h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(record.verified_hops, vec![V31, KubeVersion::new(1, 32)]);
    let verification = record.verification.clone().unwrap();
    assert_eq!(verification.passed, Some(true));
    assert!(
        verification.checked_at - verification.started_at >= 600,
        "soaked 10 minutes"
    );
    assert!(h.app.alarms.calls() >= 4, "alarms looked at through each soak");
    assert_eq!(versions(&h).0, KubeVersion::new(1, 32));
    let verified = detail_types(&h).iter().filter(|t| *t == "EKS Upgrade Verified").count();
    assert_eq!(verified, 2, "one verdict per hop");
    assert_eq!(h.app.eks.version_rollbacks(), 0);
}

#[tokio::test]
async fn a_failed_verification_with_stop_ends_failed_with_its_evidence_and_rolls_nothing_back() {
    let h = Harness::new(fleet_cluster("1.30"));
    // It fires once the hop changed the cluster (an alarm in ALARM before blocks the hop).
    h.app
        .alarms
        .set_after_reads("api-5xx", 2, "ALARM", "Threshold Crossed: 5xx above 1%");
    h.send_ok(verified("1.32", "stop")).await;
    let record = settle(&h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::Failed);
    let message = record.message.clone().unwrap();
    assert!(message.contains("alarm api-5xx: ALARM: Threshold Crossed"), "{message}");
    let evidence = record.verification.clone().unwrap();
    assert_eq!(evidence.hop, V31);
    assert_eq!(evidence.passed, Some(false));
    assert!(record.rollback.is_none());
    assert_eq!(versions(&h).0, V31, "the cluster stays at the hop; 1.32 never starts");
    assert_eq!(h.app.eks.version_rollbacks(), 0);
    let notified = h.app.notifier.all();
    let failed = notified
        .iter()
        .find(|n| n.detail_type == "EKS Upgrade Verification Failed")
        .expect("a verdict notification");
    assert_eq!(failed.detail["checks"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn a_failed_verification_with_rollback_brings_the_hop_back_node_groups_first() {
    let h = Harness::new(fleet_cluster("1.30"));
    h.app.alarms.set_after_reads("api-5xx", 2, "ALARM", "Threshold Crossed");
    h.send_ok(verified("1.31", "rollback")).await;
    let record = settle(&h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::RolledBack, "{:?}", record.message);
    assert_eq!(
        versions(&h),
        (V30, vec![Some(V30), Some(V30)], "v1.30.3-eksbuild.2".into())
    );
    assert_eq!(h.app.eks.version_rollbacks(), 1);
    let made: Vec<String> = updates(&h).iter().map(|(k, t, v)| format!("{k} {t} {v}")).collect();
    assert_eq!(
        made,
        [
            "VersionUpdate control plane 1.31",
            "AddonUpdate kube-proxy v1.31.3-eksbuild.2",
            "VersionUpdate ng-a 1.31",
            "VersionUpdate ng-b 1.31",
            "VersionUpdate ng-a 1.30",
            "VersionUpdate ng-b 1.30",
            "VersionRollback control plane 1.30",
            "AddonUpdate kube-proxy v1.30.3-eksbuild.2",
        ]
    );
    let rollback = record.rollback.clone().unwrap();
    assert!(
        rollback.prerequisites.iter().all(|c| c.passed),
        "{:?}",
        rollback.prerequisites
    );
    let back = record
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Succeeded && i.version.contains("1.30"))
        .count();
    assert_eq!(back, 3);
    let types = detail_types(&h);
    let at = |t: &str| {
        types
            .iter()
            .position(|x| x == t)
            .unwrap_or_else(|| panic!("{t} in {types:?}"))
    };
    assert!(at("EKS Upgrade Verification Failed") < at("EKS Rollback Started"));
    assert!(at("EKS Rollback Started") < at("EKS Upgrade Ended"));
    let ended = h.app.notifier.all().into_iter().last().unwrap();
    assert_eq!(ended.detail["status"], "ROLLED_BACK");
}

#[tokio::test]
async fn a_crash_at_every_boundary_of_a_rollback_adds_no_update() {
    for point in [
        "after:Verify",
        "after:RollbackSurvey",
        "after:UpdateNodegroupVersion",
        "after:UpdateClusterVersion(rollback)",
        "after:DescribeUpdate(rollback)",
        "after:UpdateAddon",
        "after:DescribeItemUpdate",
    ] {
        let h = Harness::new(fleet_cluster("1.30"));
        h.app.alarms.set_after_reads("api-5xx", 2, "ALARM", "Threshold Crossed");
        let mut request = verified("1.31", "rollback");
        request["verify"]["soakMinutes"] = json!(0);
        // Run the upgrade to its failed verification first, then crash inside the rollback.
        h.app.crash_points.arm("after:Verify");
        let first = h.send(request).await;
        assert!(matches!(first, Err(HandlerError::Crashed(_))), "{point}: {first:?}");
        assert_eq!(h.record("safe").status, UpgradeStatus::InProgress, "{point}");
        if point != "after:Verify" {
            // The next time the point is reached, it is inside the rollback.
            h.app.crash_points.arm(point);
        }
        let record = settle(&h, "safe").await;
        assert!(!h.app.crash_points.is_armed(), "{point}: the crash fired");
        assert_eq!(
            record.status,
            UpgradeStatus::RolledBack,
            "{point}: {:?}",
            record.message
        );
        assert_eq!(h.app.eks.version_rollbacks(), 1, "{point}: one VersionRollback");
        assert_eq!(updates(&h).len(), 8, "{point}: no duplicate update: {:?}", updates(&h));
        assert_eq!(versions(&h).0, V30, "{point}");
    }
}

#[tokio::test]
async fn the_write_after_the_rollback_call_fails_and_the_resume_finds_the_same_update() {
    let h = Harness::new(fleet_cluster("1.30"));
    h.app.alarms.set_after_reads("api-5xx", 2, "ALARM", "Threshold Crossed");
    // The write recording the VersionRollback's id fails: the call went out with the stored
    // token, so the resume must get the same update back.
    h.app
        .store
        .fail_next_write_where(|r| r.rollback.as_ref().is_some_and(|rb| rb.update_id.is_some()));
    let failed = h.send(verified("1.31", "rollback")).await;
    assert!(matches!(failed, Err(HandlerError::Store(_))), "{failed:?}");
    let stranded = h.record("safe");
    assert_eq!(stranded.rollback.as_ref().unwrap().update_id, None);
    let record = settle(&h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::RolledBack, "{:?}", record.message);
    assert_eq!(h.app.eks.version_rollbacks(), 1);
    assert!(
        h.app.eks.update_cluster_version_calls() >= 3,
        "the call was made again, with the same token"
    );
}

fn blocking_insight() -> InsightView {
    InsightView {
        name: "Kubelet version skew".into(),
        category: "ROLLBACK_READINESS".into(),
        kubernetes_version: Some("1.30".into()),
        status: "ERROR".into(),
        reason: "Nodes would run a kubelet newer than the control plane".into(),
    }
}

/// An upgrade to 1.31 without verification, finished.
async fn upgraded(h: &Harness) -> UpgradeRecord {
    h.send_ok(json!({ "cluster": "devel", "targetVersion": "1.31", "requestId": "safe" }))
        .await;
    let record = settle(h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    record
}

#[tokio::test]
async fn a_rollback_on_request_blocked_by_an_insight_touches_nothing_then_goes_ahead_with_force() {
    let h = Harness::new(fleet_cluster("1.30"));
    upgraded(&h).await;
    h.app.eks.lock().insights.push(blocking_insight());
    let before = updates(&h).len();
    let answer = h.send_ok(rollback(false)).await;
    assert_eq!(answer["status"], "ROLLBACK_BLOCKED", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("Kubelet version skew"), "{message}");
    assert!(message.contains("\"force\": true"), "{message}");
    assert_eq!(updates(&h).len(), before, "nothing touched");
    assert_eq!(versions(&h).1, vec![Some(V31), Some(V31)]);
    let answer = h.send_ok(rollback(true)).await;
    let record = settle(&h, "safe").await;
    assert_eq!(
        record.status,
        UpgradeStatus::RolledBack,
        "{answer} {:?}",
        record.message
    );
    assert_eq!(versions(&h).0, V30);
    assert_eq!(h.app.eks.version_rollbacks(), 1);
    let forced = h
        .app
        .eks
        .lock()
        .updates
        .values()
        .find(|u| u.kind == "VersionRollback")
        .map(|u| u.force);
    assert_eq!(forced, Some(true));
}

#[tokio::test]
async fn a_rollback_request_outside_the_seven_days_is_refused_and_writes_nothing() {
    let h = Harness::new(fleet_cluster("1.30"));
    let done = upgraded(&h).await;
    h.app.clock.advance_secs(7 * 86400 + 60);
    let err = h.send(rollback(false)).await.unwrap_err();
    assert!(matches!(err, HandlerError::NotRolledBack(_)), "{err:?}");
    assert!(err.to_string().contains("only within 7 days"), "{err}");
    assert_eq!(h.record("safe"), done, "nothing written");
    assert_eq!(h.app.eks.version_rollbacks(), 0);
}

#[tokio::test]
async fn a_rollback_request_is_refused_with_its_reason() {
    let h = Harness::new(fleet_cluster("1.30"));
    // No such upgrade.
    let err = h.send(rollback(false)).await.unwrap_err();
    assert!(err.to_string().contains("no such upgrade"), "{err}");
    // An upgrade that found the cluster already at its target updated no control plane.
    h.app.eks.lock().clusters.get_mut("devel").unwrap().1 = V31;
    for ng in h.app.eks.lock().nodegroups.iter_mut() {
        ng.version = Some(V31);
    }
    h.app.eks.lock().addons[0].version = "v1.31.3-eksbuild.2".into();
    h.send_ok(json!({ "cluster": "devel", "targetVersion": "1.31", "requestId": "safe" }))
        .await;
    assert_eq!(h.record("safe").status, UpgradeStatus::Succeeded);
    let err = h.send(rollback(false)).await.unwrap_err();
    assert!(err.to_string().contains("updated no control plane"), "{err}");
    // A malformed request names its field.
    let err = h.send(json!({ "rollback": { "cluster": "devel" } })).await.unwrap_err();
    assert!(err.to_string().contains("requestId"), "{err}");
}

#[tokio::test]
async fn a_cluster_not_at_the_hop_any_more_blocks_the_rollback_naming_the_prerequisite() {
    let h = Harness::new(fleet_cluster("1.30"));
    upgraded(&h).await;
    // Someone moved it on meanwhile.
    h.app.eks.lock().clusters.get_mut("devel").unwrap().1 = KubeVersion::new(1, 32);
    let answer = h.send_ok(rollback(false)).await;
    assert_eq!(answer["status"], "ROLLBACK_BLOCKED");
    assert!(
        answer["message"].as_str().unwrap().contains("exactly one minor down"),
        "{answer}"
    );
    assert_eq!(h.app.eks.version_rollbacks(), 0);
}

#[tokio::test]
async fn a_rollback_dry_run_shows_what_would_go_back_and_changes_nothing() {
    let h = Harness::new(fleet_cluster("1.30"));
    let done = upgraded(&h).await;
    h.app.eks.lock().insights.push(blocking_insight());
    let made = updates(&h).len();
    let answer = h
        .send_ok(json!({ "rollback": { "cluster": "devel", "requestId": "safe", "dryRun": true } }))
        .await;
    assert_eq!(answer["dryRun"], true);
    assert_eq!(
        (answer["from"].as_str(), answer["to"].as_str()),
        (Some("1.31"), Some("1.30"))
    );
    assert_eq!(answer["wouldStart"], false);
    let failed: Vec<&str> = answer["prerequisites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["rollback readiness insights"]);
    assert_eq!(answer["nodegroups"], json!(["ng-a", "ng-b"]));
    assert_eq!(answer["addonsBack"][0]["to"], "v1.30.3-eksbuild.2");
    assert_eq!(h.record("safe"), done, "nothing written");
    assert_eq!(updates(&h).len(), made, "nothing started");
    let forced = h
        .send_ok(json!({ "rollback": { "cluster": "devel", "requestId": "safe", "dryRun": true, "force": true } }))
        .await;
    assert_eq!(forced["wouldStart"], true, "{forced}");
}

#[tokio::test]
async fn a_rollback_by_someone_else_mid_upgrade_stops_it_saying_so() {
    let eks = fleet_cluster("1.30");
    // Long updates: the upgrade hands on to continuations between its steps.
    eks.lock().update_polls = 40;
    let h = Harness::new(eks);
    h.send_ok(json!({ "cluster": "devel", "targetVersion": "1.32", "requestId": "safe" }))
        .await;
    // Deliver continuations until the first hop's control plane is at 1.31.
    for _ in 0..40 {
        if h.app.eks.cluster_version("devel") == V31 {
            break;
        }
        for continuation in h.app.invoker.take() {
            h.send_ok(json!({ "continuation": continuation })).await;
        }
    }
    assert_eq!(h.app.eks.cluster_version("devel"), V31);
    assert!(!h.record("safe").is_finished());
    // Someone rolls the control plane back: their VersionRollback is never taken for ours.
    let theirs = h
        .app
        .eks
        .start_foreign_update("devel", "VersionRollback", Some("1.30"), 2);
    for ng in h.app.eks.lock().nodegroups.iter_mut() {
        ng.version = Some(V30);
    }
    let record = settle(&h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::Failed, "{:?}", record.message);
    assert_ne!(record.update_id.as_deref(), Some(theirs.as_str()));
    assert!(!record.adopted);
    let message = record.message.clone().unwrap();
    assert!(message.contains("went down from 1.31 to 1.30"), "{message}");
    assert_eq!(h.app.eks.cluster_version("devel"), V30, "not fought");
}

#[tokio::test]
async fn a_rollback_request_while_another_upgrade_holds_the_cluster_is_refused() {
    let h = Harness::new(fleet_cluster("1.30"));
    upgraded(&h).await;
    // A new upgrade took the cluster since.
    h.app.eks.lock().update_polls = 1000;
    h.send_ok(json!({ "cluster": "devel", "targetVersion": "1.32", "requestId": "next" }))
        .await;
    let err = h.send(rollback(false)).await.unwrap_err();
    assert!(err.to_string().contains("taken by upgrade next"), "{err}");
    assert_eq!(h.app.eks.version_rollbacks(), 0);
}

#[tokio::test]
async fn a_verification_request_is_checked_field_by_field() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 1));
    for (event, field) in [
        (
            json!({ "cluster": "devel", "targetVersion": "1.31", "onVerifyFailure": "rollback" }),
            "onVerifyFailure",
        ),
        (
            json!({ "cluster": "devel", "targetVersion": "1.31", "verify": { "soakMinutes": 5000 } }),
            "verify.soakMinutes",
        ),
        (
            json!({ "cluster": "devel", "targetVersion": "1.31", "verify": { "alarms": [""] } }),
            "verify.alarms",
        ),
        (
            json!({ "cluster": "devel", "targetVersion": "1.31", "onVerifyFailure": "panic", "verify": {} }),
            "onVerifyFailure",
        ),
    ] {
        let err = h.send(event.clone()).await.unwrap_err();
        assert!(err.to_string().contains(field), "{event}: {err}");
    }
    assert!(h.app.store.all().is_empty(), "nothing written");
}

#[tokio::test]
async fn an_alarm_the_function_may_not_read_is_refused_at_once() {
    let limits = eks_upgrade_orchestrator::domain::workflow::Limits {
        verify_alarm_prefix: Some("eks-upgrade-".into()),
        ..Default::default()
    };
    let h = Harness::with_limits(fleet_cluster("1.30"), limits);
    let err = h.send(verified("1.31", "stop")).await.unwrap_err();
    let said = err.to_string();
    assert!(
        said.contains("verify.alarms[0]") && said.contains("eks-upgrade-"),
        "{said}"
    );
    assert!(h.app.store.all().is_empty(), "nothing written");
    let mut allowed = verified("1.31", "stop");
    allowed["verify"]["alarms"] = json!(["eks-upgrade-api-5xx"]);
    h.app.alarms.set("eks-upgrade-api-5xx", "OK", "fine");
    h.send_ok(allowed).await;
    assert_eq!(settle(&h, "safe").await.status, UpgradeStatus::Succeeded);
}

#[tokio::test]
async fn a_rollback_requested_days_after_the_upgrade_runs_to_its_end() {
    let h = Harness::new(fleet_cluster("1.30"));
    upgraded(&h).await;
    // Past MAX_TRACKING_SECONDS since the upgrade began: the rollback is an attempt of its own.
    h.app.clock.advance_secs(3 * 86400);
    h.send_ok(rollback(false)).await;
    let record = settle(&h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::RolledBack, "{:?}", record.message);
    assert_eq!(h.app.eks.version_rollbacks(), 1);
    assert_eq!(
        h.app.eks.lock().rollback_timeouts,
        [eks_upgrade_orchestrator::domain::workflow::ROLLBACK_TIMEOUT_MINUTES],
        "EKS is told when to give up, so its end is what we see"
    );
}

#[tokio::test]
async fn a_soak_longer_than_the_attempt_bound_is_refused_at_once() {
    let h = Harness::new(fleet_cluster("1.30"));
    let mut request = verified("1.31", "stop");
    request["verify"]["soakMinutes"] = json!(1440);
    let err = h.send(request).await.unwrap_err();
    assert!(err.to_string().contains("verify.soakMinutes"), "{err}");
    assert!(err.to_string().contains("MAX_TRACKING_SECONDS"), "{err}");
    assert!(h.app.store.all().is_empty());
}

#[tokio::test]
async fn an_alarm_already_in_alarm_blocks_the_hop_before_anything_changes() {
    let h = Harness::new(fleet_cluster("1.30"));
    h.app.alarms.set("api-5xx", "ALARM", "Threshold Crossed: 5xx above 1%");
    h.send_ok(verified("1.31", "rollback")).await;
    let record = h.record("safe");
    assert_eq!(record.status, UpgradeStatus::Blocked, "{:?}", record.message);
    let message = record.message.clone().unwrap();
    assert!(
        message.contains("api-5xx is in ALARM: Threshold Crossed: 5xx above 1%"),
        "{message}"
    );
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0, "the hop never started");
    assert!(updates(&h).is_empty(), "nothing changed: {:?}", updates(&h));
    assert_eq!(h.app.eks.version_rollbacks(), 0);
}

#[tokio::test]
async fn an_alarm_cloudwatch_does_not_know_is_refused_with_the_request_and_nothing_is_written() {
    let h = Harness::new(fleet_cluster("1.30"));
    // A mistyped name (or a composite alarm: the function reads metric alarms only).
    let refused = h.send(verified("1.31", "rollback")).await;
    match refused {
        Err(HandlerError::InvalidEvent(e)) => {
            assert_eq!(e.field, "verify.alarms[0]");
            assert!(e.problem.contains("no metric alarm named \"api-5xx\""), "{}", e.problem);
            assert!(e.problem.contains("composite"), "{}", e.problem);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(h.app.store.record("devel", "safe").is_none(), "nothing written");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
}

#[tokio::test]
async fn alarms_that_can_never_be_read_are_refused_with_the_request_and_a_passing_outage_is_not() {
    use eks_upgrade_orchestrator::domain::{EksFailure, FailureKind};
    let h = Harness::new(fleet_cluster("1.30"));
    h.app.alarms.set("api-5xx", "OK", "fine");
    // The permission missing where the cluster is (a spoke stack without DescribeAlarms).
    h.app.alarms.fail_with(Some(EksFailure::new(
        FailureKind::AccessDenied,
        "AccessDenied",
        "User: arn:aws:sts::210987654321:assumed-role/eks-upgrade-spoke/x is not authorized to perform: cloudwatch:DescribeAlarms",
    )));
    match h.send(verified("1.31", "rollback")).await {
        Err(HandlerError::InvalidEvent(e)) => {
            assert_eq!(e.field, "verify.alarms");
            assert!(e.problem.contains("cloudwatch:DescribeAlarms"), "{}", e.problem);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(h.app.store.record("devel", "safe").is_none(), "nothing written");
    // CloudWatch briefly unavailable: accepted, each hop's preflight reads them again.
    h.app.alarms.fail_with(Some(EksFailure::new(
        FailureKind::Transient,
        "ServiceUnavailable",
        "try later",
    )));
    assert!(h.send(verified("1.31", "rollback")).await.is_ok());
    assert!(h.app.store.record("devel", "safe").is_some());
}

#[tokio::test]
async fn an_alarm_without_data_never_rolls_a_healthy_hop_back() {
    let h = Harness::new(fleet_cluster("1.30"));
    // A new alarm (or one on a metric that reports only errors): INSUFFICIENT_DATA throughout.
    h.app.alarms.set(
        "api-5xx",
        "INSUFFICIENT_DATA",
        "Insufficient Data: 1 datapoint was unknown",
    );
    h.send_ok(verified("1.31", "rollback")).await;
    let record = settle(&h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::Failed, "{:?}", record.message);
    let message = record.message.clone().unwrap();
    assert!(
        message.contains("no verdict") && message.contains("api-5xx"),
        "{message}"
    );
    assert_eq!(h.app.eks.version_rollbacks(), 0, "no rollback on no evidence");
    assert!(record.rollback.is_none());
    assert_eq!(versions(&h).0, V31, "the cluster stays at the hop");
    let verification = record.verification.unwrap();
    assert!(
        verification.checked_at - verification.started_at >= 600 + 3600,
        "waited the soak and an hour for data"
    );
}

#[tokio::test]
async fn data_that_arrives_during_the_wait_gives_the_verdict() {
    let h = Harness::new(fleet_cluster("1.30"));
    h.app.alarms.set("api-5xx", "INSUFFICIENT_DATA", "Insufficient Data");
    h.send_ok(verified("1.31", "rollback")).await;
    // The metric starts reporting: the alarm is OK, and the hop is verified.
    h.app
        .alarms
        .set_after_reads("api-5xx", 6, "OK", "Threshold not crossed");
    let record = settle(&h, "safe").await;
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(record.verified_hops, vec![V31]);
    assert_eq!(h.app.eks.version_rollbacks(), 0);
}
