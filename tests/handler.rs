//! The handler against in-memory ports: every branch of the workflow, driven through the real
//! driver (claims, conditional writes, continuations, the sweep).

use eks_upgrade_orchestrator::domain::workflow::Limits;
use eks_upgrade_orchestrator::domain::{
    EksFailure, EksUpdateError, FailureKind, ItemStatus, KubeVersion, Step, UpdateState, UpgradeStatus,
};
use eks_upgrade_orchestrator::fakes::FakeEks;
use eks_upgrade_orchestrator::handler::{HandlerError, Invocation};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

mod common;
use common::*;

fn request(version: &str) -> Value {
    json!({ "cluster": "devel", "targetVersion": version })
}

#[tokio::test]
async fn scheduled_upgrade_runs_to_successful_with_one_update() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 3));
    let answer = h.send_ok(request("1.31")).await;

    assert_eq!(answer["status"], "SUCCEEDED");
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert_eq!(record.step, Step::Done);
    assert_eq!(record.from_version, Some(KubeVersion::new(1, 30)));
    assert_eq!(answer["updateId"], json!(record.update_id.clone().unwrap()));
    assert_eq!(
        uuid::Uuid::parse_str(&record.client_request_token)
            .unwrap()
            .get_version_num(),
        4
    );
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
    assert_eq!(h.app.eks.cluster_version("devel"), KubeVersion::new(1, 31));
    assert!(record.expires_at.is_some(), "finished records get a TTL");
    assert!(
        record.sweep_bucket.is_none(),
        "finished records leave the sweep's index"
    );
    assert_eq!(record.lease_owner, None);
    let statuses: Vec<_> = record.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        [
            UpgradeStatus::Pending,
            UpgradeStatus::InProgress,
            UpgradeStatus::Succeeded
        ]
    );
    // Polled by update id, every 30 s.
    assert_eq!(record.finished_at.unwrap() - record.update_started_at.unwrap(), 4 * 30);
}

#[tokio::test]
async fn the_token_is_written_before_eks_is_called() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 0));
    // The write that would follow UpdateClusterVersion fails: the call went out, so the token
    // it carried must already be on disk.
    h.app.store.fail_next_write_where(|r| r.update_id.is_some());
    let err = h.send(request("1.31")).await.unwrap_err();
    assert!(matches!(err, HandlerError::Store(_)));
    let stored = h.record("to-1.31");
    let sent = h.app.eks.lock().updates.values().next().unwrap().token.clone().unwrap();
    assert_eq!(stored.client_request_token, sent);
    assert_eq!(stored.step, Step::StartUpdate);
}

#[tokio::test]
async fn same_event_twice_gives_one_record_and_one_update() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    let first = h.send_ok(request("1.31")).await;
    let second = h.send_ok(request("1.31")).await;

    assert_eq!(first["status"], "SUCCEEDED");
    assert_eq!(second["status"], "SUCCEEDED");
    assert_eq!(first["updateId"], second["updateId"]);
    assert_eq!(first["clientRequestToken"], second["clientRequestToken"]);
    assert!(
        second["outcome"].as_str().unwrap().contains("already handled"),
        "{second}"
    );
    assert_eq!(h.app.store.all().len(), 1);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
}

#[tokio::test]
async fn concurrent_duplicates_converge_on_one_record_and_one_update() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    let (a, b, c) = tokio::join!(
        h.send(request("1.31")),
        h.send(request("1.31")),
        h.send(request("1.31"))
    );
    let answers = [a.unwrap(), b.unwrap(), c.unwrap()];

    assert_eq!(h.app.store.all().len(), 1);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
    assert_eq!(
        h.app.eks.update_cluster_version_calls(),
        1,
        "only the lease holder calls EKS"
    );
    let tokens: std::collections::HashSet<_> = answers.iter().map(|a| a["clientRequestToken"].clone()).collect();
    assert_eq!(tokens.len(), 1, "{answers:?}");
    let busy = answers
        .iter()
        .filter(|a| a["outcome"].as_str().unwrap().contains("another invocation"))
        .count();
    assert_eq!(busy, 2, "{answers:?}");
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Succeeded);
}

#[tokio::test]
async fn crash_after_update_call_resumes_with_the_same_token_and_update() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    h.app.store.fail_next_write_where(|r| r.update_id.is_some());
    h.send(request("1.31"))
        .await
        .expect_err("the write after UpdateClusterVersion fails");
    let stranded = h.record("to-1.31");
    assert_eq!(stranded.step, Step::StartUpdate);
    assert_eq!(stranded.update_id, None);
    let first_update = h.app.eks.lock().updates.keys().next().cloned().unwrap();

    // Nothing happens until the lease of the crashed invocation ends and the heartbeat is stale.
    assert_eq!(h.send_ok(json!({ "sweep": {} })).await["resumed"], json!([]));
    h.app.clock.advance_secs(900 + 300);
    let sweep = h.send_ok(json!({ "sweep": {} })).await;
    assert_eq!(sweep["resumed"].as_array().unwrap().len(), 1, "{sweep}");
    h.deliver_continuations().await;

    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert_eq!(record.update_id.as_deref(), Some(first_update.as_str()));
    assert_eq!(record.client_request_token, stranded.client_request_token);
    assert_eq!(
        h.app.eks.update_cluster_version_calls(),
        2,
        "the resume sent the call again..."
    );
    assert_eq!(
        h.app.eks.updates_created_by_tokens(),
        1,
        "...and EKS gave back the same update"
    );
}

#[tokio::test]
async fn resource_in_use_adopts_an_update_to_our_target() {
    let eks = FakeEks::with_cluster("devel", "1.30", 2);
    let theirs = eks.start_foreign_update("devel", "VersionUpdate", Some("1.31"), 3);
    // DescribeCluster may still read ACTIVE right after someone else started an update.
    eks.lock().clusters.get_mut("devel").unwrap().0 = "ACTIVE".into();
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;

    let record = h.record("to-1.31");
    assert_eq!(answer["status"], "SUCCEEDED");
    assert_eq!(record.update_id.as_deref(), Some(theirs.as_str()));
    assert!(record.adopted);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 0, "adopted, started none");
    assert_eq!(h.app.eks.cluster_version("devel"), KubeVersion::new(1, 31));
}

#[tokio::test]
async fn an_update_in_progress_is_found_among_a_long_history_whatever_the_listing_order() {
    // EKS documents no order for ListUpdates: the update in progress may come last among many.
    let eks = FakeEks::with_cluster("devel", "1.30", 2);
    for _ in 0..40 {
        let old = eks.start_foreign_update("devel", "EndpointAccessUpdate", None, 0);
        eks.lock().updates.get_mut(&old).unwrap().state = UpdateState::Successful;
    }
    let theirs = eks.start_foreign_update("devel", "VersionUpdate", Some("1.31"), 3);
    let listed = eks.lock().updates.keys().position(|id| *id == theirs).unwrap();
    assert!(listed >= 25, "listed past the first 25 ({listed})");
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "SUCCEEDED");
    let record = h.record("to-1.31");
    assert_eq!(record.update_id.as_deref(), Some(theirs.as_str()), "adopted");
    assert_eq!(h.app.eks.updates_created_by_tokens(), 0, "adopted, started none");
}

#[tokio::test]
async fn an_update_listed_then_gone_does_not_hide_the_one_in_progress() {
    let eks = FakeEks::with_cluster("devel", "1.30", 2);
    eks.lock().vanished_updates = vec!["gone-1".into()];
    let theirs = eks.start_foreign_update("devel", "VersionUpdate", Some("1.31"), 3);
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "SUCCEEDED");
    assert_eq!(
        h.record("to-1.31").update_id.as_deref(),
        Some(theirs.as_str()),
        "adopted"
    );
    assert_eq!(h.app.eks.updates_created_by_tokens(), 0, "adopted, started none");
}

#[tokio::test]
async fn resource_in_use_by_another_kind_of_update_waits_then_upgrades() {
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    let theirs = eks.start_foreign_update("devel", "EndpointAccessUpdate", None, 4);
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;

    assert_eq!(answer["status"], "SUCCEEDED");
    let record = h.record("to-1.31");
    assert!(!record.adopted);
    assert_ne!(record.update_id.as_deref(), Some(theirs.as_str()));
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
    let calls = h.app.eks.lock().calls.clone();
    let first_update_call = calls.iter().position(|c| c == "UpdateClusterVersion").unwrap();
    assert!(calls[..first_update_call].contains(&"ListUpdates".to_string()) || first_update_call > 0);
    assert!(
        calls.iter().filter(|c| *c == "UpdateClusterVersion").count() == 1,
        "{calls:?}"
    );
    assert!(record.history.iter().all(|e| e.status != UpgradeStatus::Failed));
}

#[tokio::test]
async fn resource_in_use_after_update_call_waits_for_the_other_update() {
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    // The cluster reads ACTIVE, but an add-on update holds it: UpdateClusterVersion says 409.
    eks.start_foreign_update("devel", "AddonUpdate", None, 2);
    eks.lock().clusters.get_mut("devel").unwrap().0 = "ACTIVE".into();
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;

    assert_eq!(answer["status"], "SUCCEEDED");
    assert_eq!(
        h.app.eks.update_cluster_version_calls(),
        2,
        "refused once with 409, then accepted"
    );
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
}

#[tokio::test]
async fn invalid_parameter_fails_with_the_eks_message() {
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    let refusal = "unsupported Kubernetes version";
    eks.lock().update_refusal = Some(EksFailure::new(
        FailureKind::InvalidParameter,
        "InvalidParameterException",
        refusal,
    ));
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;

    assert_eq!(answer["status"], "FAILED");
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Failed);
    assert_eq!(record.message.as_deref(), Some(refusal));
    assert_eq!(h.app.eks.updates_created_by_tokens(), 0);
}

#[tokio::test]
async fn a_version_eks_does_not_offer_fails_clearly() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.35", 1));
    let answer = h.send_ok(request("1.40")).await;
    assert_eq!(answer["status"], "FAILED");
    assert!(
        answer["message"].as_str().unwrap().contains("not a version EKS offers"),
        "{answer}"
    );
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
}

#[tokio::test]
async fn invalid_state_blocks_then_force_overrides() {
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    eks.lock().blocking_insights.push("devel".into());
    let h = Harness::new(eks);

    let blocked = h.send_ok(request("1.31")).await;
    assert_eq!(blocked["status"], "BLOCKED");
    let record = h.record("to-1.31");
    assert!(record
        .message
        .as_deref()
        .unwrap()
        .starts_with("Upgrade readiness issues detected."));
    assert!(record.message.as_deref().unwrap().contains("\"force\": true"));
    assert_eq!(record.wait_until, Some(T0 + 3600), "the sweep checks again in an hour");
    let blocked_token = record.client_request_token.clone();

    // The same request again tries again (the insights may have cleared); still blocked here.
    assert_eq!(h.send_ok(request("1.31")).await["status"], "BLOCKED");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 2);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 0);

    let forced = h
        .send_ok(json!({ "cluster": "devel", "targetVersion": "1.31", "force": true }))
        .await;
    assert_eq!(forced["status"], "SUCCEEDED", "{forced}");
    let record = h.record("to-1.31");
    assert!(record.force);
    assert_ne!(
        record.client_request_token, blocked_token,
        "a new attempt gets a new token"
    );
    let updates = h.app.eks.lock().updates.values().cloned().collect::<Vec<_>>();
    assert_eq!(updates.len(), 1);
    assert!(updates[0].force, "force is passed to EKS");
}

#[tokio::test]
async fn failed_update_is_recorded_with_its_errors() {
    let eks = FakeEks::with_cluster("devel", "1.30", 2);
    let errors = vec![EksUpdateError {
        error_code: "ClusterUnreachable".into(),
        error_message: "The cluster's control plane could not be reached".into(),
        resource_ids: vec!["devel".into()],
    }];
    eks.lock().next_outcome = Some((UpdateState::Failed, errors.clone()));
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;

    assert_eq!(answer["status"], "FAILED");
    let record = h.record("to-1.31");
    assert_eq!(record.eks_errors, errors);
    assert!(record.message.as_deref().unwrap().contains("ClusterUnreachable"));
    assert_eq!(h.app.eks.cluster_version("devel"), KubeVersion::new(1, 30));
}

#[tokio::test]
async fn an_update_eks_cancelled_is_recorded_as_a_failure() {
    // CANCELLED is an operator's `cancel` (a rollout's skip); an update EKS did not complete
    // is a failure.
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    eks.lock().next_outcome = Some((UpdateState::Cancelled, Vec::new()));
    let h = Harness::new(eks);
    assert_eq!(h.send_ok(request("1.31")).await["status"], "FAILED");
    assert!(h.record("to-1.31").message.unwrap().contains("Cancelled by EKS"));
}

#[tokio::test]
async fn deadline_reached_sends_a_continuation_that_carries_on() {
    // 60 polls of 30 s: 30 minutes, two invocations at least.
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 60));
    let first = h.send_ok(request("1.31")).await;
    assert_eq!(first["status"], "IN_PROGRESS");
    assert!(first["outcome"].as_str().unwrap().contains("new invocation"));
    let handed = h.record("to-1.31");
    assert!(handed.handoff.is_some());
    assert_eq!(handed.lease_owner, None);
    let sent = h.app.invoker.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(Some(sent[0].handoff.clone()), handed.handoff);
    // It stopped with at least the safety margin left.
    assert!(handed.heartbeat_at <= T0 + 900 - 45);

    // A duplicate delivery of the same continuation, after the first one ran, does nothing.
    let duplicate = json!({ "continuation": sent[0] });
    h.deliver_continuations().await;
    let after = h.send_ok(duplicate).await;
    assert!(after["outcome"].as_str().unwrap().contains("does not match"), "{after}");

    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert!(record.invocations >= 2);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
}

#[tokio::test]
async fn chain_bound_ends_timed_out_and_the_sweep_leaves_it() {
    let limits = Limits {
        max_invocations: 2,
        ..Limits::default()
    };
    let h = Harness::with_limits(FakeEks::with_cluster("devel", "1.30", 10_000), limits);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;

    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::TimedOut);
    assert_eq!(record.invocations, 2);
    let said = record.message.clone().unwrap();
    let update_id = record.update_id.clone().unwrap();
    assert!(
        said.contains("to follow by hand") && said.contains(&format!("control-plane update {update_id}")),
        "names the update still running: {said}"
    );
    h.app.clock.advance_secs(3600);
    assert_eq!(h.send_ok(json!({ "sweep": {} })).await["checked"], 0);
}

#[tokio::test]
async fn time_bound_ends_timed_out() {
    let limits = Limits {
        max_attempt_secs: 1800,
        ..Limits::default()
    };
    let h = Harness::with_limits(FakeEks::with_cluster("devel", "1.30", 10_000), limits);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::TimedOut);
    assert!(record.finished_at.unwrap() - record.attempt_started_at <= 1800);
}

#[tokio::test]
async fn sweep_resumes_an_upgrade_whose_continuation_was_lost() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 60));
    h.app.invoker.dropping.store(true, Ordering::SeqCst);
    let first = h.send_ok(request("1.31")).await;
    assert!(
        first["outcome"].as_str().unwrap().contains("sweep will resume"),
        "{first}"
    );
    h.app.invoker.dropping.store(false, Ordering::SeqCst);

    // Not yet stale: the sweep leaves it.
    h.app.clock.advance_secs(60);
    assert_eq!(h.send_ok(json!({ "sweep": {} })).await["resumed"], json!([]));
    h.app.clock.advance_secs(300);
    let sweep = h.send_ok(json!({ "sweep": {} })).await;
    assert_eq!(
        sweep["resumed"],
        json!([{ "cluster": "devel", "requestId": "to-1.31" }])
    );
    // A second sweep right after does not send another continuation.
    assert_eq!(h.send_ok(json!({ "sweep": {} })).await["resumed"], json!([]));
    h.deliver_continuations().await;

    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Succeeded);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
}

#[tokio::test]
async fn faults_delay_but_do_not_fail_the_upgrade() {
    let eks = FakeEks::with_cluster("devel", "1.30", 2);
    eks.inject_faults((0..4).map(|i| {
        if i % 2 == 0 {
            EksFailure::new(FailureKind::Transient, "ThrottlingException", "Rate exceeded")
        } else {
            EksFailure::new(
                FailureKind::Transient,
                "ServiceUnavailableException",
                "Service unavailable",
            )
        }
    }));
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "SUCCEEDED");
    let record = h.record("to-1.31");
    // The first fault met the enrollment check at request time (which lets the preflight check
    // again); the workflow met the other three.
    assert_eq!(record.faults, 3);
    assert!(record.last_error.as_deref().unwrap().contains("Exception"));
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
}

#[tokio::test]
async fn table_unreachable_writes_nothing_and_reports_it() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    h.app.store.unavailable.store(true, Ordering::SeqCst);
    let err = h.send(request("1.31")).await.unwrap_err();
    assert!(matches!(err, HandlerError::Store(_)));
    assert_eq!(
        h.app.eks.lock().calls,
        ["DescribeCluster"],
        "only the enrollment check's read: no EKS change without the token stored first"
    );
}

#[tokio::test]
async fn cluster_not_found_fails_clearly() {
    let h = Harness::new(FakeEks::with_cluster("other", "1.30", 1));
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "FAILED");
    assert_eq!(
        answer["message"],
        "cluster devel not found: No cluster found for name: devel."
    );
}

#[tokio::test]
async fn already_at_target_is_a_no_op_success() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.32", 1));
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "SUCCEEDED");
    assert!(
        answer["message"].as_str().unwrap().contains("past the target"),
        "{answer}"
    );
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
}

#[tokio::test]
async fn malformed_and_unknown_events_write_nothing() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 1));
    for (event, field) in [
        (json!({ "cluster": "devel", "targetVersion": "1.3a" }), "targetVersion"),
        (json!({ "cluster": "de/vel", "targetVersion": "1.31" }), "cluster"),
        (json!({ "targetVersion": "1.31" }), "cluster"),
        (
            json!({ "cluster": "devel", "targetVersion": "1.31", "force": 1 }),
            "force",
        ),
        (
            json!({ "continuation": { "cluster": "devel" } }),
            "continuation.requestId",
        ),
        (json!({ "hello": "world" }), ""),
        (json!([1, 2]), ""),
    ] {
        let err = h.send(event.clone()).await.unwrap_err();
        let HandlerError::InvalidEvent(invalid) = &err else {
            panic!("{event}: {err}")
        };
        assert_eq!(invalid.field, field, "{event}: {err}");
        let diagnostic: lambda_runtime::Diagnostic = err.into();
        assert_eq!(diagnostic.error_type, "InvalidEvent");
    }
    assert!(h.app.store.all().is_empty());
    assert_eq!(h.app.store.writes.load(Ordering::SeqCst), 0);
    assert!(h.app.eks.lock().calls.is_empty());
}

#[tokio::test]
async fn forged_continuations_change_nothing() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 60));
    h.send_ok(request("1.31")).await;
    let before = h.record("to-1.31");
    let writes = h.app.store.writes.load(Ordering::SeqCst);

    let forged = h
        .send_ok(json!({ "continuation": { "cluster": "devel", "requestId": "to-1.31", "handoff": "forged" } }))
        .await;
    assert!(forged["outcome"].as_str().unwrap().contains("does not match"));
    let unknown = h
        .send_ok(json!({ "continuation": { "cluster": "devel", "requestId": "nope", "handoff": "x" } }))
        .await;
    assert!(unknown["outcome"].as_str().unwrap().contains("no such upgrade"));
    assert_eq!(h.record("to-1.31"), before);
    assert_eq!(h.app.store.writes.load(Ordering::SeqCst), writes);
}

#[tokio::test]
async fn a_request_id_names_one_target() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 1));
    h.send_ok(json!({ "cluster": "devel", "targetVersion": "1.31", "requestId": "chg-1" }))
        .await;
    let err = h
        .send(json!({ "cluster": "devel", "targetVersion": "1.32", "requestId": "chg-1" }))
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::ConflictingRequest { .. }), "{err}");
}

#[tokio::test]
async fn status_query_returns_the_records() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 1));
    h.send_ok(request("1.31")).await;
    let status = h.send_ok(json!({ "status": { "cluster": "devel" } })).await;
    let records = status["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "SUCCEEDED");
    assert_eq!(records[0]["targetVersion"], "1.31");
    let one = h
        .send_ok(json!({ "status": { "cluster": "devel", "requestId": "to-1.31" } }))
        .await;
    assert_eq!(one["records"], status["records"]);
    let none = h
        .send_ok(json!({ "status": { "cluster": "devel", "requestId": "nope" } }))
        .await;
    assert_eq!(none["records"], json!([]));
}

#[tokio::test]
async fn eventbridge_envelope_is_accepted() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 1));
    let answer = h
        .send_ok(json!({
            "version": "0", "id": "e1", "detail-type": "EKS upgrade requested", "source": "platform",
            "account": "123456789012", "time": "2026-11-24T03:00:00Z", "region": "us-east-1", "resources": [],
            "detail": { "cluster": "devel", "targetVersion": "1.31", "requestId": "chg-7" }
        }))
        .await;
    assert_eq!(answer["status"], "SUCCEEDED");
    assert_eq!(answer["requestId"], "chg-7");
}

#[test]
fn deadline_from_lambda_or_from_cargo_lambda_watch() {
    let now = 1_795_490_803_225;
    // Lambda: epoch milliseconds.
    assert_eq!(
        Invocation::from_context("r".into(), 1_795_490_900_000, now).deadline_ms,
        1_795_490_900_000
    );
    // cargo lambda watch: the timeout in milliseconds.
    assert_eq!(
        Invocation::from_context("r".into(), 600_000, now).deadline_ms,
        now + 600_000
    );
}

#[tokio::test]
async fn dry_run_plans_every_hop_and_changes_nothing() {
    use eks_upgrade_orchestrator::domain::eks::{AddonVersionOption, AddonView, NodegroupView};
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    {
        let mut s = eks.lock();
        s.nodegroups = vec![
            NodegroupView {
                name: "ng-a".into(),
                version: Some(KubeVersion::new(1, 30)),
                status: "ACTIVE".into(),
                ..Default::default()
            },
            NodegroupView {
                name: "ng-b".into(),
                version: Some(KubeVersion::new(1, 29)),
                status: "ACTIVE".into(),
                ..Default::default()
            },
        ];
        s.addons = vec![AddonView {
            name: "kube-proxy".into(),
            version: "v1.30.3-eksbuild.2".into(),
            status: "ACTIVE".into(),
            ..Default::default()
        }];
        s.addon_catalog = vec![(
            "kube-proxy".into(),
            (30..=33)
                .map(|m| AddonVersionOption {
                    version: format!("v1.{m}.3-eksbuild.2"),
                    compatible: vec![(KubeVersion::new(1, m), true)],
                })
                .collect(),
        )];
    }
    let h = Harness::new(eks);
    let answer = h
        .send_ok(json!({ "cluster": "devel", "targetVersion": "1.33", "dryRun": true }))
        .await;

    let plan = &answer["plan"];
    assert_eq!(answer["dryRun"], true);
    assert_eq!(plan["fromVersion"], "1.30");
    assert_eq!(plan["targetVersion"], "1.33");
    let hops = plan["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 3);
    assert_eq!(hops[2]["addons"][0]["to"], "v1.33.3-eksbuild.2");
    assert_eq!(hops[0]["nodegroups"].as_array().unwrap().len(), 2);
    assert_eq!(plan["nodeGroupsFirst"][0]["name"], "ng-b");
    assert_eq!(plan["blockers"], json!([]));
    assert!(h.app.store.all().is_empty(), "nothing written");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);

    let latest = h
        .send_ok(json!({ "cluster": "devel", "targetVersion": "latest", "dryRun": true }))
        .await;
    assert_eq!(latest["plan"]["targetVersion"], "1.36");
    assert!(latest["plan"]["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b.as_str().unwrap().contains("kube-proxy")));

    let down = h
        .send(json!({ "cluster": "devel", "targetVersion": "1.29", "dryRun": true }))
        .await
        .unwrap_err();
    assert!(matches!(down, HandlerError::Plan(_)), "{down}");
    assert!(h.app.store.all().is_empty());

    // A real run to "latest" names the version in the record, and stops where the plan's gate
    // says: kube-proxy has no version for 1.34.
    let latest_run = h
        .send_ok(json!({ "cluster": "devel", "targetVersion": "latest" }))
        .await;
    h.deliver_continuations().await;
    assert_eq!(latest_run["requestId"], "to-1.36", "{latest_run}");
    let record = h.record("to-1.36");
    assert_eq!(record.status, UpgradeStatus::Blocked, "{:?}", record.message);
    assert!(
        record.message.as_deref().unwrap().contains("kube-proxy"),
        "{:?}",
        record.message
    );
    assert_eq!(h.app.eks.cluster_version("devel"), KubeVersion::new(1, 33));
    // The same "latest" request again reopens the blocked record (still blocked here).
    let again = h
        .send_ok(json!({ "cluster": "devel", "targetVersion": "latest" }))
        .await;
    assert_eq!(again["requestId"], "to-1.36");
    assert_eq!(
        h.record("to-1.36").attempt_started_at,
        h.app.clock.now_ms.load(Ordering::SeqCst) / 1000
    );
}

#[tokio::test]
async fn outside_the_window_it_parks_and_the_sweep_wakes_it_when_the_window_opens() {
    // T0 is 14:13:20 UTC; the window opens daily at 16:30 for two hours.
    let opens = T0 + 8200;
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    let request = json!({
        "cluster": "devel", "targetVersion": "1.31",
        "maintenanceWindow": { "start": "16:30", "durationMinutes": 120, "timeZone": "UTC" }
    });
    let parked = h.send_ok(request.clone()).await;
    assert_eq!(parked["status"], "WAITING_FOR_WINDOW", "{parked}");
    assert!(parked["outcome"].as_str().unwrap().contains("parked"), "{parked}");
    let record = h.record("to-1.31");
    assert_eq!(record.wait_until, Some(opens));
    assert_eq!(record.lease_owner, None);
    assert!(h.app.invoker.take().is_empty(), "no busy re-invoking while parked");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);

    // A sweep before the window opens leaves it parked.
    h.app.clock.advance_secs(3600);
    assert_eq!(h.send_ok(json!({ "sweep": {} })).await["resumed"], json!([]));
    // The same request again while parked: checked again, parked again, nothing started.
    assert_eq!(h.send_ok(request).await["status"], "WAITING_FOR_WINDOW");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);

    h.app.clock.advance_secs(opens - T0 - 3600);
    let sweep = h.send_ok(json!({ "sweep": {} })).await;
    assert_eq!(
        sweep["resumed"],
        json!([{ "cluster": "devel", "requestId": "to-1.31" }]),
        "{sweep}"
    );
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert!(record.update_started_at.unwrap() >= opens);
    let statuses: Vec<_> = record.history.iter().map(|e| e.status).collect();
    assert!(statuses.contains(&UpgradeStatus::WaitingForWindow), "{statuses:?}");
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
}

#[tokio::test]
async fn an_invalid_window_is_refused_naming_the_field() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    let err = h
        .send(json!({
            "cluster": "devel", "targetVersion": "1.31",
            "maintenanceWindow": { "start": "25:00", "durationMinutes": 120 }
        }))
        .await
        .unwrap_err();
    let HandlerError::InvalidEvent(invalid) = &err else {
        panic!("{err}")
    };
    assert_eq!(invalid.field, "maintenanceWindow.start", "{err}");
    assert!(h.app.store.all().is_empty());
}

/// A cluster at 1.30 with kube-proxy (a version per Kubernetes minor) and two node groups.
fn fleet_versions(h: &Harness) -> (KubeVersion, String, Vec<Option<KubeVersion>>) {
    let s = h.app.eks.lock();
    (
        s.clusters["devel"].1,
        s.addons[0].version.clone(),
        s.nodegroups.iter().map(|n| n.version).collect(),
    )
}

fn count_updates(h: &Harness) -> (usize, usize, usize) {
    let s = h.app.eks.lock();
    let of = |kind: &str, item: bool| {
        s.updates
            .values()
            .filter(|u| u.token.is_some() && u.kind == kind && u.target.is_some() == item)
            .count()
    };
    (
        of("VersionUpdate", false),
        of("AddonUpdate", true),
        of("VersionUpdate", true),
    )
}

#[tokio::test]
async fn three_hops_with_add_ons_and_node_groups() {
    let h = Harness::new(fleet_cluster("1.30"));
    let answer = h.send_ok(request("1.33")).await;
    h.deliver_continuations().await;

    let record = h.record("to-1.33");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{answer} {:?}", record.message);
    let k = KubeVersion::new;
    assert_eq!(
        fleet_versions(&h),
        (
            k(1, 33),
            "v1.33.3-eksbuild.2".to_string(),
            vec![Some(k(1, 33)), Some(k(1, 33))]
        )
    );
    // Three control-plane updates, three add-on updates, two node groups times three hops.
    assert_eq!(count_updates(&h), (3, 3, 6));
    assert_eq!(record.control_plane_updates.len(), 3);
    assert!(
        record.message.as_deref().unwrap().contains("from 1.30 to 1.33"),
        "{:?}",
        record.message
    );
    // Each step had its own token, all different.
    let mut tokens: Vec<_> = record.items.iter().map(|i| i.client_request_token.clone()).collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 9);
    // Within a hop: control plane, then add-ons, then node groups.
    let calls = h.app.eks.lock().calls.clone();
    let order: Vec<&str> = calls
        .iter()
        .map(String::as_str)
        .filter(|c| ["UpdateClusterVersion", "UpdateAddon", "UpdateNodegroupVersion"].contains(c))
        .collect();
    assert_eq!(
        order[..4],
        [
            "UpdateClusterVersion",
            "UpdateAddon",
            "UpdateNodegroupVersion",
            "UpdateNodegroupVersion"
        ]
    );
}

#[tokio::test]
async fn node_groups_behind_at_the_start_are_upgraded_first() {
    let h = Harness::new(fleet_cluster("1.29"));
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;

    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    let first = &record.items[0];
    assert_eq!((first.name.as_str(), first.version.as_str()), ("ng-b", "1.30"));
    assert_eq!(count_updates(&h), (1, 1, 3));
    let k = KubeVersion::new;
    assert_eq!(fleet_versions(&h).2, vec![Some(k(1, 31)), Some(k(1, 31))]);
}

#[tokio::test]
async fn a_crash_at_every_step_boundary_resumes_without_a_duplicate_update() {
    for point in [
        "after:DescribeCluster",
        "after:Survey",
        "after:UpdateClusterVersion",
        "after:DescribeUpdate",
        "after:UpdateAddon",
        "after:UpdateNodegroupVersion",
        "after:DescribeItemUpdate",
        "before:continuation",
    ] {
        let h = Harness::new(fleet_cluster("1.30"));
        if point == "before:continuation" {
            // Updates long enough that the first invocation hands off.
            h.app.eks.lock().update_polls = 40;
        }
        h.app.crash_points.arm(point);
        let crashed = h.send(request("1.32")).await;
        assert!(matches!(crashed, Err(HandlerError::Crashed(_))), "{point}: {crashed:?}");
        // Resume as the sweep does once the dead invocation's lease ran out, until done.
        for _ in 0..20 {
            h.app.clock.advance_secs(900 + 300);
            h.send_ok(json!({ "sweep": {} })).await;
            h.deliver_continuations().await;
            if h.record("to-1.32").is_finished() {
                break;
            }
        }
        let record = h.record("to-1.32");
        assert_eq!(record.status, UpgradeStatus::Succeeded, "{point}: {:?}", record.message);
        assert_eq!(count_updates(&h), (2, 2, 4), "{point}: no duplicate update");
    }
}

fn detail_types(h: &Harness) -> Vec<String> {
    h.app.notifier.all().iter().map(|n| n.detail_type.clone()).collect()
}

#[tokio::test]
async fn notifications_are_emitted_once_per_event_in_order() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    h.send_ok(request("1.31")).await;
    assert_eq!(
        detail_types(&h),
        [
            "EKS Upgrade Planned",
            "EKS Upgrade Step Started",
            "EKS Upgrade Step Succeeded",
            "EKS Upgrade Ended"
        ]
    );
    let published = h.app.notifier.all();
    let ids: Vec<&str> = published.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "devel/to-1.31/1",
            "devel/to-1.31/2",
            "devel/to-1.31/3",
            "devel/to-1.31/4"
        ]
    );
    let ended = &published[3].detail;
    assert_eq!(
        (ended["status"].as_str(), ended["notificationId"].as_str()),
        (Some("SUCCEEDED"), Some("devel/to-1.31/4"))
    );
    assert_eq!(published[1].detail["step"], "CONTROL_PLANE");
    assert!(
        h.record("to-1.31").outbox.is_empty(),
        "published, so the outbox is empty"
    );

    // The same request again changes nothing, so says nothing.
    h.send_ok(request("1.31")).await;
    assert_eq!(h.app.notifier.all().len(), 4);
}

#[tokio::test]
async fn with_notifications_off_a_change_is_one_write_and_no_outbox() {
    let writes_for = |off: bool| async move {
        let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
        h.app.notifier.off.store(off, Ordering::SeqCst);
        h.send_ok(request("1.31")).await;
        let record = h.record("to-1.31");
        assert_eq!(record.status, UpgradeStatus::Succeeded);
        (h.app.store.writes.load(Ordering::SeqCst), record)
    };
    let (writes_on, on) = writes_for(false).await;
    let (writes_off, off) = writes_for(true).await;
    assert_eq!(on.notifications, 4);
    assert_eq!((off.notifications, off.outbox.len()), (0, 0), "nothing queued when off");
    // On: each change that makes notifications is written, published, then written again
    // without them (4 notifications over the changes of this upgrade).
    assert!(
        writes_off < writes_on,
        "off: {writes_off} writes; on: {writes_on} writes"
    );
    // Off: one write per change: the cluster's lock, the insert, then one per revision.
    assert_eq!(writes_off as u64, off.revision + 2);
}

#[tokio::test]
async fn a_multi_hop_upgrade_notifies_each_step() {
    let h = Harness::new(fleet_cluster("1.30"));
    h.send_ok(request("1.32")).await;
    h.deliver_continuations().await;
    let types = detail_types(&h);
    let count = |t: &str| types.iter().filter(|x| x.as_str() == t).count();
    // Per hop: a plan, then control plane, one add-on and two node groups, each started and done.
    assert_eq!(count("EKS Upgrade Planned"), 2, "{types:?}");
    assert_eq!(count("EKS Upgrade Step Started"), 8, "{types:?}");
    assert_eq!(count("EKS Upgrade Step Succeeded"), 8, "{types:?}");
    assert_eq!(types.last().map(String::as_str), Some("EKS Upgrade Ended"));
    assert_eq!(count("EKS Upgrade Ended"), 1);
    let ids: Vec<String> = h.app.notifier.all().iter().map(|n| n.id.clone()).collect();
    let expected: Vec<String> = (1..=ids.len()).map(|n| format!("devel/to-1.32/{n}")).collect();
    assert_eq!(ids, expected, "numbered in order, none twice");
}

#[tokio::test]
async fn blocked_and_parked_upgrades_say_so() {
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    eks.lock().blocking_insights.push("devel".into());
    let h = Harness::new(eks);
    h.send_ok(request("1.31")).await;
    assert_eq!(detail_types(&h).last().map(String::as_str), Some("EKS Upgrade Blocked"));

    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 1));
    h.send_ok(json!({
        "cluster": "devel", "targetVersion": "1.31",
        "maintenanceWindow": { "start": "16:30", "durationMinutes": 120 }
    }))
    .await;
    let parked = h.app.notifier.all().pop().unwrap();
    assert_eq!(parked.detail_type, "EKS Upgrade Parked");
    assert_eq!(parked.detail["waitUntil"], T0 + 8200);
}

#[tokio::test]
async fn a_failing_event_bus_never_fails_the_upgrade_and_loses_nothing() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 60));
    h.app.notifier.failing.store(true, Ordering::SeqCst);
    let first = h.send_ok(request("1.31")).await;
    assert_eq!(first["status"], "IN_PROGRESS");
    assert!(h.app.notifier.all().is_empty());
    assert_eq!(
        h.record("to-1.31").outbox.len(),
        2,
        "kept in the record: planned, started"
    );

    h.app.notifier.failing.store(false, Ordering::SeqCst);
    h.deliver_continuations().await;
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Succeeded);
    assert_eq!(
        detail_types(&h),
        [
            "EKS Upgrade Planned",
            "EKS Upgrade Step Started",
            "EKS Upgrade Step Succeeded",
            "EKS Upgrade Ended"
        ]
    );
    assert!(h.record("to-1.31").outbox.is_empty());
}

#[tokio::test]
async fn the_sweep_picks_a_blocked_upgrade_up_once_the_reason_is_gone() {
    use eks_upgrade_orchestrator::domain::eks::InsightView;
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    eks.lock().insights = vec![InsightView {
        name: "Deprecated APIs removed in Kubernetes v1.31".into(),
        category: "UPGRADE_READINESS".into(),
        kubernetes_version: Some("1.31".into()),
        status: "ERROR".into(),
        reason: "flowcontrol.apiserver.k8s.io/v1beta3 in use".into(),
    }];
    let h = Harness::new(eks);
    let blocked = h.send_ok(request("1.31")).await;
    assert_eq!(blocked["status"], "BLOCKED", "{blocked}");
    assert!(
        blocked["message"].as_str().unwrap().contains("flowcontrol"),
        "{blocked}"
    );
    assert_eq!(
        h.app.eks.update_cluster_version_calls(),
        0,
        "the gate blocked before EKS was asked"
    );

    // Still blocked an hour later: the sweep looks, the gate still fails, nothing is started.
    h.app.clock.advance_secs(3600);
    assert_eq!(
        h.send_ok(json!({ "sweep": {} })).await["resumed"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    h.deliver_continuations().await;
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Blocked);
    assert_eq!(
        h.send_ok(json!({ "sweep": {} })).await["resumed"],
        json!([]),
        "not before the next hour"
    );

    // The team fixed the deprecated API use; the next check goes ahead.
    h.app.eks.lock().insights[0].status = "PASSING".into();
    h.app.clock.advance_secs(3600);
    h.send_ok(json!({ "sweep": {} })).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
    assert!(record.expires_at.is_some());
}

#[tokio::test]
async fn a_dry_run_tells_when_the_window_next_opens() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 1));
    let answer = h
        .send_ok(json!({
            "cluster": "devel", "targetVersion": "1.31", "dryRun": true,
            "maintenanceWindow": { "start": "16:30", "durationMinutes": 120 }
        }))
        .await;
    assert_eq!(answer["window"]["openNow"], false);
    assert_eq!(answer["window"]["nextOpening"], T0 + 8200);
    let open = h
        .send_ok(json!({ "cluster": "devel", "targetVersion": "1.31", "dryRun": true }))
        .await;
    assert_eq!(open["window"]["openNow"], true);
    assert!(h.app.store.all().is_empty());
}

#[tokio::test]
async fn node_groups_update_side_by_side_when_configured() {
    let limits = Limits {
        nodegroup_parallelism: 2,
        ..Limits::default()
    };
    let h = Harness::with_limits(fleet_cluster("1.30"), limits);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Succeeded);
    assert_eq!(count_updates(&h), (1, 1, 2));
    // Both node-group updates were asked for before either was described.
    let calls = h.app.eks.lock().calls.clone();
    let first_ng = calls.iter().position(|c| c == "UpdateNodegroupVersion").unwrap();
    assert_eq!(calls[first_ng + 1], "UpdateNodegroupVersion", "{calls:?}");
}

#[tokio::test]
async fn node_groups_update_one_at_a_time_by_default() {
    let h = Harness::new(fleet_cluster("1.30"));
    h.send_ok(request("1.31")).await;
    let calls = h.app.eks.lock().calls.clone();
    let first_ng = calls.iter().position(|c| c == "UpdateNodegroupVersion").unwrap();
    assert_ne!(calls[first_ng + 1], "UpdateNodegroupVersion", "{calls:?}");
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Succeeded);
}

#[tokio::test]
async fn a_cluster_that_did_not_opt_in_is_refused_and_nothing_is_written() {
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    eks.lock().unenrolled.push("devel".into());
    let h = Harness::new(eks);
    let err = h.send(request("1.31")).await.unwrap_err();
    assert!(matches!(&err, HandlerError::NotEnrolled(_)), "{err}");
    assert!(err.to_string().contains("upgrade-orchestrator/enabled=true"), "{err}");
    let diagnostic: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "NotEnrolled");
    assert!(h.app.store.all().is_empty());
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);

    // A dry run still plans (it changes nothing) and says so.
    let dry = h
        .send_ok(json!({ "cluster": "devel", "targetVersion": "1.31", "dryRun": true }))
        .await;
    assert_eq!(dry["enrolled"], false);

    // Listed in ALLOWED_CLUSTERS, it may be upgraded without the tag.
    let limits = Limits {
        allowed_clusters: vec!["devel".into()],
        ..Limits::default()
    };
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    eks.lock().unenrolled.push("devel".into());
    let h = Harness::with_limits(eks, limits);
    assert_eq!(h.send_ok(request("1.31")).await["status"], "SUCCEEDED");
}

#[tokio::test]
async fn a_cluster_taken_out_of_enrollment_mid_upgrade_is_not_touched_again() {
    let h = Harness::new(fleet_cluster("1.30"));
    h.app.eks.lock().update_polls = 40;
    h.send_ok(request("1.32")).await;
    // The first hop runs; then the tag is removed.
    h.app.eks.lock().unenrolled.push("devel".into());
    h.deliver_continuations().await;
    let record = h.record("to-1.32");
    assert_eq!(record.status, UpgradeStatus::Blocked, "{:?}", record.message);
    assert!(record.message.as_deref().unwrap().contains("not enrolled"));
    assert_eq!(count_updates(&h).0, 1, "the second hop never started");
}

#[tokio::test]
async fn access_denied_blocks_at_once_with_the_eks_message_instead_of_retrying_for_hours() {
    let eks = FakeEks::with_cluster("devel", "1.30", 2);
    let message = "User: arn:aws:sts::123456789012:assumed-role/orchestrator/s is not authorized to perform: \
                   eks:UpdateClusterVersion on resource: arn:aws:eks:us-east-1:123456789012:cluster/devel";
    eks.lock().update_refusal = Some(EksFailure::new(
        FailureKind::AccessDenied,
        "AccessDeniedException",
        message,
    ));
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "BLOCKED");
    let record = h.record("to-1.31");
    let said = record.message.clone().unwrap();
    assert!(
        said.contains("UpdateClusterVersion: AccessDeniedException") && said.contains(message),
        "{said}"
    );
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1, "not retried every poll");
    assert_eq!(record.faults, 0);
    assert!(h.app.invoker.take().is_empty(), "no continuation: nothing to poll");
}

#[tokio::test]
async fn a_client_error_fails_the_step_with_its_code_and_message() {
    let eks = FakeEks::with_cluster("devel", "1.30", 2);
    eks.lock().update_refusal = Some(EksFailure::new(
        FailureKind::Rejected,
        "ClientException",
        "Cluster has an unsupported configuration",
    ));
    let h = Harness::new(eks);
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "FAILED");
    assert_eq!(
        h.record("to-1.31").message.as_deref(),
        Some("UpdateClusterVersion: ClientException: Cluster has an unsupported configuration")
    );
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
}

#[tokio::test]
async fn a_degraded_node_group_blocks_the_upgrade_with_the_eks_message() {
    let eks = fleet_cluster("1.30");
    let refusal = "Nodegroup ng-a is in DEGRADED state. Update is invalid given the state of the cluster.";
    eks.lock().item_refusals.insert(
        "ng-a".into(),
        EksFailure::new(FailureKind::InvalidRequest, "InvalidRequestException", refusal),
    );
    let h = Harness::new(eks);
    h.send_ok(json!({"cluster": "devel", "targetVersion": "1.31"})).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Blocked, "{:?}", record.message);
    let said = record.message.clone().unwrap();
    assert!(
        said.contains("node group ng-a to 1.31: InvalidRequestException: ") && said.contains(refusal),
        "{said}"
    );
    let calls = h.app.eks.lock().calls.clone();
    assert_eq!(
        calls.iter().filter(|c| *c == "UpdateNodegroupVersion").count(),
        1,
        "asked once, not every poll: {calls:?}"
    );
}

#[tokio::test]
async fn force_overrides_readiness_insights_not_pod_disruption_budgets() {
    let forced_nodegroups = |event: Value| async move {
        let h = Harness::new(fleet_cluster("1.30"));
        h.send_ok(event).await;
        h.deliver_continuations().await;
        assert_eq!(h.record("to-1.31").status, UpgradeStatus::Succeeded);
        let s = h.app.eks.lock();
        let nodegroups: Vec<bool> = s
            .updates
            .values()
            .filter(|u| u.target.as_deref().is_some_and(|t| t.starts_with("ng-")))
            .map(|u| u.force)
            .collect();
        let control_plane: Vec<bool> = s
            .updates
            .values()
            .filter(|u| u.target.is_none())
            .map(|u| u.force)
            .collect();
        (nodegroups, control_plane)
    };
    // `force` reaches the control-plane update only: node groups still respect PDBs.
    let (nodegroups, control_plane) =
        forced_nodegroups(json!({"cluster": "devel", "targetVersion": "1.31", "force": true})).await;
    assert_eq!((nodegroups, control_plane), (vec![false, false], vec![true]));
    // Overriding PDBs is its own field, for node groups only.
    let (nodegroups, control_plane) =
        forced_nodegroups(json!({"cluster": "devel", "targetVersion": "1.31", "overridePodDisruptionBudgets": true}))
            .await;
    assert_eq!((nodegroups, control_plane), (vec![true, true], vec![false]));
}

#[tokio::test]
async fn node_groups_side_by_side_are_all_followed_to_their_end_when_one_fails() {
    let eks = fleet_cluster("1.30");
    {
        let mut s = eks.lock();
        let errors = vec![EksUpdateError {
            error_code: "NodeCreationFailure".into(),
            error_message: "Instances failed to join the kubernetes cluster".into(),
            resource_ids: vec!["i-0abc".into()],
        }];
        s.item_outcomes.insert("ng-a".into(), (UpdateState::Failed, errors));
        // ng-b is busy once (409) when first asked, then takes longer than ng-a.
        s.item_busy.insert("ng-b".into(), 1);
        s.item_polls.insert("ng-b".into(), 6);
    }
    let limits = Limits {
        nodegroup_parallelism: 2,
        ..Limits::default()
    };
    let h = Harness::with_limits(eks, limits);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Failed, "{:?}", record.message);
    let ng = |name: &str| record.items.iter().find(|i| i.name == name).unwrap().clone();
    assert_eq!(ng("ng-a").status, ItemStatus::Failed);
    assert_eq!(ng("ng-a").errors[0].error_code, "NodeCreationFailure");
    assert_eq!(
        ng("ng-b").status,
        ItemStatus::Succeeded,
        "the other node group was followed to its end, not abandoned mid-rollout"
    );
    let said = record.message.clone().unwrap();
    assert!(
        said.contains("node group ng-a to 1.31") && said.contains("NodeCreationFailure"),
        "{said}"
    );
    assert_eq!(record.eks_errors.len(), 1);
    // ng-b's 409 did not stop ng-a from being described meanwhile.
    let calls = h.app.eks.lock().calls.clone();
    let first_busy = calls.iter().position(|c| c == "UpdateNodegroupVersion").unwrap();
    assert!(calls[first_busy..].iter().any(|c| c == "DescribeUpdate"), "{calls:?}");
}

#[tokio::test]
async fn each_update_has_its_own_bound_so_long_node_group_rollouts_finish() {
    // Two node groups of 100 minutes each after the control plane: more than the old 3-hour
    // bound on the whole hop, well within each node group's own bound.
    let eks = fleet_cluster("1.30");
    {
        let mut s = eks.lock();
        s.item_polls.insert("ng-a".into(), 200);
        s.item_polls.insert("ng-b".into(), 200);
    }
    let h = Harness::new(eks);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert!(record.finished_at.unwrap() - record.created_at > 3 * 3600);
}

#[tokio::test]
async fn a_node_group_past_its_bound_times_out_naming_its_own_update() {
    let eks = fleet_cluster("1.30");
    eks.lock().item_polls.insert("ng-a".into(), 100_000);
    let limits = Limits {
        nodegroup_update_timeout_secs: 3600,
        ..Limits::default()
    };
    let h = Harness::with_limits(eks, limits);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::TimedOut);
    let ng_a = record.items.iter().find(|i| i.name == "ng-a").unwrap();
    let said = record.message.clone().unwrap();
    let control_plane = record.control_plane_updates[0].clone();
    assert!(
        said.starts_with(&format!(
            "node group ng-a update {} still in progress after 1h",
            ng_a.update_id.clone().unwrap()
        )),
        "{said}"
    );
    assert!(said.contains("NODEGROUP_UPDATE_TIMEOUT_SECONDS"), "{said}");
    assert!(
        !said.contains(&control_plane),
        "not the control-plane update that ended long ago: {said}"
    );
}

#[tokio::test]
async fn a_request_sent_again_to_an_upgrade_parked_between_items_starts_nothing() {
    use eks_upgrade_orchestrator::domain::{
        ClusterName, ItemKind, TargetVersion, UpgradeRecord, UpgradeRequest, WorkItem,
    };
    let eks = fleet_cluster("1.30");
    eks.lock().clusters.get_mut("devel").unwrap().1 = KubeVersion::new(1, 31);
    let h = Harness::new(eks);
    // The control plane is at 1.31; node group ng-a is planned but the window closed: parked.
    let request_body = UpgradeRequest::new(
        ClusterName::parse("devel").unwrap(),
        TargetVersion::Exact(KubeVersion::new(1, 31)),
    );
    let mut parked = UpgradeRecord::new(
        &request_body,
        KubeVersion::new(1, 31),
        "0b7c3a9e-7f3c-4b36-9c1e-6f1e2d3c4b5a".into(),
        T0,
    );
    parked.status = UpgradeStatus::WaitingForWindow;
    parked.step = Step::RunItems;
    parked.hop_version = Some(KubeVersion::new(1, 31));
    parked.wait_until = Some(T0 + 6 * 3600);
    parked.items.push(WorkItem {
        kind: ItemKind::Nodegroup,
        name: "ng-a".into(),
        version: "1.31".into(),
        from: Some("1.30".into()),
        hop: KubeVersion::new(1, 31),
        client_request_token: "5d1e8f0a-2b7c-4e9d-8a6f-3c2b1a0e9d8c".into(),
        status: ItemStatus::Planned,
        update_id: None,
        started_at: None,
        finished_at: None,
        polled_at: None,
        deferred: false,
        errors: Vec::new(),
        launch_template: None,
        from_launch_template: None,
        purpose: Default::default(),
    });
    h.app.store.put(parked);
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "WAITING_FOR_WINDOW");
    assert!(
        answer["outcome"].as_str().unwrap().contains("nothing started"),
        "{answer}"
    );
    assert!(
        !h.app.eks.lock().calls.iter().any(|c| c == "UpdateNodegroupVersion"),
        "no node-group update outside the window"
    );
}

#[tokio::test]
async fn a_window_too_short_for_a_hop_and_a_sweep_period_is_refused_at_request_time() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    // 45 minutes of hop estimate + 10 minutes of sweep period: 50 minutes can never be met.
    let err = h
        .send(json!({
            "cluster": "devel", "targetVersion": "1.31",
            "maintenanceWindow": { "start": "02:00", "durationMinutes": 50 }
        }))
        .await
        .unwrap_err();
    let HandlerError::InvalidEvent(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.field, "maintenanceWindow.durationMinutes");
    assert!(e.problem.starts_with("expected at least 55 minutes"), "{}", e.problem);
    assert!(h.app.store.all().is_empty(), "nothing written");
    // 55 minutes fits.
    h.send_ok(json!({
        "cluster": "devel", "targetVersion": "1.31",
        "maintenanceWindow": { "start": "02:00", "durationMinutes": 55 }
    }))
    .await;
    assert_eq!(h.app.store.all().len(), 1);
}

fn with_custom_ami_nodegroup(eks: &FakeEks) {
    use eks_upgrade_orchestrator::domain::eks::{LaunchTemplateRef, NodegroupView};
    eks.lock().nodegroups.push(NodegroupView {
        name: "ng-custom".into(),
        version: Some(KubeVersion::new(1, 30)),
        status: "ACTIVE".into(),
        ami_type: "CUSTOM".into(),
        launch_template: Some(LaunchTemplateRef {
            id: Some("lt-0123456789abcdef0".into()),
            name: Some("custom-nodes".into()),
            version: Some("6".into()),
        }),
        ..Default::default()
    });
}

#[tokio::test]
async fn already_at_the_target_means_the_whole_cluster_node_groups_and_add_ons_follow() {
    let eks = fleet_cluster("1.31");
    eks.lock().clusters.get_mut("devel").unwrap().1 = KubeVersion::new(1, 31);
    let h = Harness::new(eks);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
    let done: Vec<(String, String)> = record
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Succeeded)
        .map(|i| (i.name.clone(), i.version.clone()))
        .collect();
    assert_eq!(
        done,
        [
            ("ng-a".to_owned(), "1.31".to_owned()),
            ("kube-proxy".to_owned(), "v1.31.3-eksbuild.2".to_owned())
        ],
        "the node group behind the control plane, then the add-on behind its default"
    );
    let said = record.message.unwrap();
    assert!(
        said.contains("finished at 1.31") && said.contains("2 add-on and node-group update(s)"),
        "{said}"
    );
    let versions = fleet_versions(&h);
    assert_eq!(versions.2, vec![Some(KubeVersion::new(1, 31)); 2]);
}

#[tokio::test]
async fn a_custom_ami_node_group_is_never_sent_a_version_and_the_operator_is_told() {
    let eks = fleet_cluster("1.30");
    with_custom_ami_nodegroup(&eks);
    let h = Harness::new(eks);
    // The dry run shows it, and what the EKS API can't see.
    let dry = h
        .send_ok(json!({"cluster": "devel", "targetVersion": "1.31", "dryRun": true}))
        .await;
    assert_eq!(dry["plan"]["hops"][0]["nodegroupsForOperator"][0]["name"], "ng-custom");
    assert!(dry["plan"]["notes"][0].as_str().unwrap().contains("Karpenter"), "{dry}");
    assert_eq!(dry["plan"]["hops"][0]["nodegroups"].as_array().unwrap().len(), 2);
    // The run: the managed node groups follow; the custom one gets no `version` (EKS would
    // refuse it); the cluster is not finished until the operator rolls it.
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Blocked, "{:?}", record.message);
    let said = record.message.clone().unwrap();
    assert!(
        said.contains("node group ng-custom runs a custom AMI") && said.contains("launch template"),
        "{said}"
    );
    let targets = h.app.eks.lock().nodegroup_targets.clone();
    assert!(targets.iter().all(|(ng, _)| ng != "ng-custom"), "{targets:?}");
    assert_eq!(h.app.eks.cluster_version("devel"), KubeVersion::new(1, 31));
}

#[tokio::test]
async fn a_custom_ami_node_group_rolls_by_the_launch_template_version_the_request_names() {
    let eks = fleet_cluster("1.30");
    with_custom_ami_nodegroup(&eks);
    let h = Harness::new(eks);
    h.send_ok(json!({
        "cluster": "devel", "targetVersion": "1.31",
        "nodegroupLaunchTemplates": {"ng-custom": {"1.31": "7"}}
    }))
    .await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    let targets = h.app.eks.lock().nodegroup_targets.clone();
    assert!(
        targets.contains(&("ng-custom".to_owned(), "launchTemplate:7".to_owned())),
        "{targets:?}"
    );
    assert!(
        targets.contains(&("ng-a".to_owned(), "version:1.31".to_owned())),
        "{targets:?}"
    );
}

#[tokio::test]
async fn a_custom_ami_node_group_left_behind_gates_the_next_hop_as_eks_does() {
    let eks = fleet_cluster("1.30");
    with_custom_ami_nodegroup(&eks);
    let h = Harness::new(eks);
    h.send_ok(request("1.32")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.32");
    assert_eq!(record.status, UpgradeStatus::Blocked, "{:?}", record.message);
    assert_eq!(
        h.app.eks.cluster_version("devel"),
        KubeVersion::new(1, 31),
        "the first hop went"
    );
    let said = record.message.unwrap();
    assert!(
        said.starts_with("hop 1.31 to 1.32 blocked: node groups at the control plane's version: ng-custom (1.30)"),
        "{said}"
    );
    assert_eq!(
        h.app.eks.update_cluster_version_calls(),
        1,
        "EKS was not asked for the second hop"
    );
}

fn blocked_by_insights() -> FakeEks {
    use eks_upgrade_orchestrator::domain::eks::InsightView;
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    eks.lock().insights = vec![InsightView {
        name: "Deprecated APIs removed in Kubernetes v1.31".into(),
        category: "UPGRADE_READINESS".into(),
        kubernetes_version: Some("1.31".into()),
        status: "ERROR".into(),
        reason: "flowcontrol.apiserver.k8s.io/v1beta3 in use".into(),
    }];
    eks
}

/// One sweep an hour later, and whatever it sets off.
async fn an_hour_later(h: &Harness) -> usize {
    h.app.clock.advance_secs(3601);
    let swept = h.send_ok(json!({ "sweep": {} })).await;
    h.deliver_continuations().await;
    swept["resumed"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_thousand_rechecks_of_a_blocked_upgrade_keep_the_item_small_and_the_notifications_few() {
    let limits = Limits {
        blocked_give_up_secs: 0, // never give up: the worst case for growth
        ..Limits::default()
    };
    let h = Harness::with_limits(blocked_by_insights(), limits);
    h.send_ok(request("1.31")).await;
    let first = h.record("to-1.31");
    assert_eq!(first.status, UpgradeStatus::Blocked);
    let size = |r: &eks_upgrade_orchestrator::domain::UpgradeRecord| serde_json::to_vec(r).unwrap().len();
    let first_size = size(&first);
    for _ in 0..1000 {
        assert_eq!(an_hour_later(&h).await, 1, "checked again every hour");
    }
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Blocked);
    assert_eq!(record.rechecks, 1000);
    assert!(
        size(&record) < first_size + 2048,
        "the item stays small: {} bytes after 1000 re-checks, {first_size} at first",
        size(&record)
    );
    assert!(record.history.len() <= 40, "{}", record.history.len());
    let blocked = detail_types(&h).iter().filter(|t| *t == "EKS Upgrade Blocked").count();
    assert_eq!(blocked, 1, "one notification for one reason, not one an hour");
    assert!(h.app.notifier.all().len() <= 3);
}

#[tokio::test]
async fn rechecks_of_a_blocked_upgrade_stop_after_a_week_with_a_final_message() {
    let h = Harness::new(blocked_by_insights());
    h.send_ok(request("1.31")).await;
    let mut rechecks = 0;
    while an_hour_later(&h).await == 1 {
        rechecks += 1;
        assert!(rechecks < 200, "re-checks never stopped");
    }
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Blocked);
    assert!((165..=169).contains(&rechecks), "{rechecks} hourly re-checks in 7 days");
    let said = record.message.clone().unwrap();
    assert!(
        said.contains("re-checks stopped (BLOCKED_GIVE_UP_AFTER_SECONDS)"),
        "{said}"
    );
    assert_eq!((record.sweep_bucket.as_deref(), record.wait_until), (None, None));
    assert!(record.expires_at.is_some());
    let blocked = detail_types(&h).iter().filter(|t| *t == "EKS Upgrade Blocked").count();
    assert_eq!(blocked, 2, "the block, and the final word");
    assert_eq!(an_hour_later(&h).await, 0);
}

#[tokio::test]
async fn a_blocked_upgrade_of_a_cluster_that_left_enrollment_is_not_checked_again() {
    let h = Harness::new(blocked_by_insights());
    h.send_ok(request("1.31")).await;
    h.app.eks.lock().unenrolled.push("devel".into());
    assert_eq!(an_hour_later(&h).await, 1);
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Blocked);
    assert!(record.message.as_deref().unwrap().contains("not enrolled"));
    assert_eq!(record.sweep_bucket, None, "not resumable any more");
    assert_eq!(an_hour_later(&h).await, 0);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
}

#[tokio::test]
async fn one_upgrade_per_cluster_a_second_request_is_refused_naming_the_holder() {
    let h = Harness::new(fleet_cluster("1.30"));
    // The weekly schedule's upgrade parks outside its window (T0 is 14:13 UTC).
    let parked = h
        .send_ok(json!({
            "cluster": "devel", "targetVersion": "1.31", "requestId": "weekly-1",
            "maintenanceWindow": { "start": "16:30", "durationMinutes": 120 }
        }))
        .await;
    assert_eq!(parked["status"], "WAITING_FOR_WINDOW");
    // A manual request beside it, for another target: refused, nothing written, nothing started.
    let err = h
        .send(json!({"cluster": "devel", "targetVersion": "1.32", "requestId": "manual-1"}))
        .await
        .unwrap_err();
    let said = err.to_string();
    assert!(
        matches!(err, HandlerError::ClusterBusy { ref holder, .. } if holder == "weekly-1"),
        "{said}"
    );
    assert!(
        said.contains("WaitingForWindow") && said.contains("\"cancel\""),
        "{said}"
    );
    assert_eq!(h.app.store.all().len(), 1);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
    // The operator cancels the parked one; the manual request goes on, alone.
    let cancelled = h
        .send_ok(json!({"cancel": {"cluster": "devel", "requestId": "weekly-1"}}))
        .await;
    assert_eq!(cancelled["status"], "CANCELLED");
    h.send_ok(json!({"cluster": "devel", "targetVersion": "1.32", "requestId": "manual-1"}))
        .await;
    h.deliver_continuations().await;
    assert_eq!(h.record("manual-1").status, UpgradeStatus::Succeeded);
    assert_eq!(h.record("weekly-1").status, UpgradeStatus::Cancelled);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 2, "two hops of one upgrade");
    assert_eq!(h.app.store.lock_of("devel").unwrap().holder, "manual-1");
    // Once that one has ended, another may take the cluster.
    h.app.eks.lock().clusters.get_mut("devel").unwrap().1 = KubeVersion::new(1, 32);
    let next = h
        .send_ok(json!({"cluster": "devel", "targetVersion": "1.32", "requestId": "weekly-2"}))
        .await;
    assert_eq!(next["status"], "SUCCEEDED");
}

#[tokio::test]
async fn two_requests_at_once_for_one_cluster_start_one_upgrade() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    let (a, b) = futures::join!(
        h.send(json!({"cluster": "devel", "targetVersion": "1.31", "requestId": "a"})),
        h.send(json!({"cluster": "devel", "targetVersion": "1.31", "requestId": "b"}))
    );
    let busy = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(HandlerError::ClusterBusy { .. })))
        .count();
    assert_eq!(busy, 1, "{a:?} {b:?}");
    assert_eq!(h.app.store.all().len(), 1);
    h.deliver_continuations().await;
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
}

#[tokio::test]
async fn a_cancel_of_an_upgrade_that_is_running_an_update_is_refused() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 1000));
    h.send_ok(request("1.31")).await;
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::InProgress);
    let err = h
        .send(json!({"cancel": {"cluster": "devel", "requestId": "to-1.31"}}))
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::NotCancelled(_)), "{err}");
    assert!(err.to_string().contains("can't be stopped"), "{err}");
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::InProgress);
}

#[tokio::test]
async fn a_record_that_does_not_decode_is_skipped_and_reported_by_the_sweep_and_the_status_query() {
    use eks_upgrade_orchestrator::ports::Unreadable;
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 60));
    h.app.invoker.dropping.store(true, Ordering::SeqCst);
    h.send_ok(request("1.31")).await; // hands off; the continuation is lost
    h.app.invoker.dropping.store(false, Ordering::SeqCst);
    h.app.store.unreadable.lock().unwrap().push(Unreadable {
        cluster: "devel".into(),
        request_id: "from-a-newer-build".into(),
        error: "stored record does not decode: unknown variant `ROLLING_BACK`".into(),
    });
    h.app.clock.advance_secs(600);
    let swept = h.send_ok(json!({ "sweep": {} })).await;
    assert_eq!(swept["resumed"].as_array().unwrap().len(), 1, "{swept}");
    assert_eq!(swept["skipped"][0]["requestId"], "from-a-newer-build", "{swept}");
    let status = h.send_ok(json!({"status": {"cluster": "devel"}})).await;
    assert_eq!(status["records"].as_array().unwrap().len(), 1, "{status}");
    assert!(
        status["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("ROLLING_BACK"),
        "{status}"
    );
}

#[tokio::test]
async fn steps_in_a_row_are_bounded_per_invocation_and_the_upgrade_still_ends() {
    let invocations_with = |max_steps: u32| async move {
        let h = Harness::new(fleet_cluster("1.30"));
        let mut app_config = h.app.config.clone();
        app_config.max_steps_per_invocation = max_steps;
        let h = Harness {
            app: eks_upgrade_orchestrator::handler::Orchestrator {
                config: app_config,
                ..h.app
            },
            invocations: Default::default(),
        };
        h.send_ok(request("1.31")).await;
        h.deliver_continuations().await;
        let record = h.record("to-1.31");
        assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
        assert_eq!(h.app.eks.updates_created_by_tokens(), 4);
        record.invocations
    };
    let bounded = invocations_with(2).await;
    let default = invocations_with(100).await;
    assert!(
        bounded > default,
        "2 steps in a row: {bounded} invocations; 100: {default}"
    );
}

#[tokio::test]
async fn an_invocation_too_short_to_make_progress_is_refused_naming_the_settings() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    let short = Invocation {
        request_id: "short".into(),
        deadline_ms: h.app.clock.now_ms.load(Ordering::SeqCst) + 60_000,
    };
    let err = h.app.handle(&request("1.31"), &short).await.unwrap_err();
    assert!(matches!(err, HandlerError::Misconfigured(_)), "{err}");
    assert!(
        err.to_string()
            .contains("SAFETY_MARGIN_SECONDS (45) + POLL_INTERVAL_SECONDS (30)"),
        "{err}"
    );
    assert!(h.app.store.all().is_empty(), "nothing written");
}

#[tokio::test]
async fn a_refused_node_group_is_asked_again_once_the_operator_fixed_it() {
    let eks = fleet_cluster("1.30");
    eks.lock().item_refusals.insert(
        "ng-b".into(),
        EksFailure::new(
            FailureKind::AccessDenied,
            "AccessDeniedException",
            "not authorized to perform: eks:UpdateNodegroupVersion",
        ),
    );
    let h = Harness::new(eks);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Blocked);
    // The role is fixed; the hourly re-check asks again and the upgrade finishes.
    h.app.eks.lock().item_refusals.clear();
    assert_eq!(an_hour_later(&h).await, 1);
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(fleet_versions(&h).2, vec![Some(KubeVersion::new(1, 31)); 2]);
}

#[tokio::test]
async fn a_node_group_started_beside_a_busy_one_is_recorded_as_itself() {
    use eks_upgrade_orchestrator::domain::eks::NodegroupView;
    let eks = fleet_cluster("1.30");
    {
        let mut s = eks.lock();
        s.nodegroups.push(NodegroupView {
            name: "ng-c".into(),
            version: Some(KubeVersion::new(1, 30)),
            status: "ACTIVE".into(),
            ..Default::default()
        });
        s.item_busy.insert("ng-b".into(), 1);
        s.item_polls.insert("ng-a".into(), 6);
    }
    let limits = Limits {
        nodegroup_parallelism: 2,
        ..Limits::default()
    };
    let h = Harness::with_limits(eks, limits);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    let s = h.app.eks.lock();
    for item in record
        .items
        .iter()
        .filter(|i| i.kind == eks_upgrade_orchestrator::domain::ItemKind::Nodegroup)
    {
        let update = &s.updates[item.update_id.as_deref().unwrap()];
        assert_eq!(update.target.as_deref(), Some(item.name.as_str()), "{item:?}");
    }
    let mut updated: Vec<&str> = s.nodegroup_targets.iter().map(|(n, _)| n.as_str()).collect();
    updated.sort();
    updated.dedup();
    assert_eq!(updated, ["ng-a", "ng-b", "ng-c"]);
}

#[tokio::test]
async fn a_node_group_refused_beside_a_running_one_does_not_abandon_it() {
    let eks = fleet_cluster("1.30");
    {
        let mut s = eks.lock();
        s.item_polls.insert("ng-a".into(), 6);
        s.item_refusals.insert(
            "ng-b".into(),
            EksFailure::new(
                FailureKind::Rejected,
                "ClientException",
                "Nodegroup ng-b has an unsupported configuration",
            ),
        );
    }
    let limits = Limits {
        nodegroup_parallelism: 2,
        ..Limits::default()
    };
    let h = Harness::with_limits(eks, limits);
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Failed, "{:?}", record.message);
    let ng = |name: &str| record.items.iter().find(|i| i.name == name).unwrap().status;
    assert_eq!(ng("ng-a"), ItemStatus::Succeeded, "followed to its end");
    assert_eq!(ng("ng-b"), ItemStatus::Failed);
    assert!(
        record.message.as_deref().unwrap().contains("ClientException"),
        "{:?}",
        record.message
    );
}

#[tokio::test]
async fn a_blocked_upgrade_with_a_node_group_still_rolling_cannot_be_cancelled() {
    let eks = fleet_cluster("1.30");
    {
        let mut s = eks.lock();
        s.item_polls.insert("ng-a".into(), 100_000);
        s.item_refusals.insert(
            "ng-b".into(),
            EksFailure::new(
                FailureKind::InvalidRequest,
                "InvalidRequestException",
                "Nodegroup ng-b is in DEGRADED state.",
            ),
        );
    }
    let limits = Limits {
        nodegroup_parallelism: 2,
        ..Limits::default()
    };
    let h = Harness::with_limits(eks, limits);
    h.send_ok(request("1.31")).await;
    let err = h
        .send(json!({"cancel": {"cluster": "devel", "requestId": "to-1.31"}}))
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::NotCancelled(_)), "{err}");
}

#[tokio::test]
async fn a_finished_holder_gives_its_cluster_up_and_cannot_be_reopened_after() {
    let h = Harness::new(blocked_by_insights());
    h.send_ok(json!({"cluster": "devel", "targetVersion": "1.31", "requestId": "old"}))
        .await;
    // Taken out of enrollment: BLOCKED for good, no longer holding the cluster.
    h.app.eks.lock().unenrolled.push("devel".into());
    assert_eq!(an_hour_later(&h).await, 1);
    assert!(!h.record("old").holds_cluster());
    h.app.eks.lock().unenrolled.clear();
    h.app.eks.lock().insights.clear();
    // A new request takes the cluster; the old one marked as having given it up.
    h.send_ok(json!({"cluster": "devel", "targetVersion": "1.31", "requestId": "new"}))
        .await;
    assert_eq!(h.record("old").released_to.as_deref(), Some("new"));
    assert_eq!(h.app.store.lock_of("devel").unwrap().holder, "new");
    // The old request sent again can't take it back (so two never drive the cluster).
    let again = h
        .send_ok(json!({"cluster": "devel", "targetVersion": "1.31", "requestId": "old"}))
        .await;
    assert!(
        again["outcome"]
            .as_str()
            .unwrap()
            .contains("gave its cluster to upgrade new"),
        "{again}"
    );
    assert_eq!(h.record("old").status, UpgradeStatus::Blocked);
    assert_eq!(h.app.store.lock_of("devel").unwrap().holder, "new");
}

#[tokio::test]
async fn an_upgrade_recorded_before_locks_still_holds_its_cluster() {
    use eks_upgrade_orchestrator::domain::{ClusterName, TargetVersion, UpgradeRecord, UpgradeRequest};
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    let legacy = UpgradeRequest::new(
        ClusterName::parse("devel").unwrap(),
        TargetVersion::Exact(KubeVersion::new(1, 31)),
    );
    let mut running = UpgradeRecord::new(
        &legacy,
        KubeVersion::new(1, 31),
        "0b7c3a9e-7f3c-4b36-9c1e-6f1e2d3c4b5a".into(),
        T0,
    );
    running.status = UpgradeStatus::InProgress;
    running.step = Step::TrackUpdate;
    h.app.store.put(running);
    let err = h
        .send(json!({"cluster": "devel", "targetVersion": "1.31", "requestId": "new"}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, HandlerError::ClusterBusy { ref holder, .. } if holder == "to-1.31"),
        "{err}"
    );
    assert!(err.to_string().contains("before clusters had locks"), "{err}");
}

#[tokio::test]
async fn a_holder_whose_record_cannot_be_read_is_named_not_taken_over() {
    use eks_upgrade_orchestrator::domain::record::lock::ClusterLock;
    use eks_upgrade_orchestrator::ports::Unreadable;
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    h.app
        .store
        .put_lock_as_is(ClusterLock::new("devel", "from-a-newer-build", T0 - 86_400, 4));
    h.app.store.unreadable.lock().unwrap().push(Unreadable {
        cluster: "devel".into(),
        request_id: "from-a-newer-build".into(),
        error: "stored record does not decode: unknown variant `ROLLING_BACK`".into(),
    });
    let err = h.send(request("1.31")).await.unwrap_err();
    assert!(
        matches!(err, HandlerError::ClusterBusy { ref holder, .. } if holder == "from-a-newer-build"),
        "{err}"
    );
    assert!(err.to_string().contains("can't be read"), "{err}");
    let status = h
        .send_ok(json!({"status": {"cluster": "devel", "requestId": "from-a-newer-build"}}))
        .await;
    assert!(
        status["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("ROLLING_BACK"),
        "{status}"
    );
}

#[tokio::test]
async fn notifications_that_went_out_are_not_sent_again_after_a_partial_failure() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 2));
    *h.app.notifier.accept_only.lock().unwrap() = Some(1);
    h.send_ok(request("1.31")).await;
    *h.app.notifier.accept_only.lock().unwrap() = None;
    h.send_ok(request("1.31")).await; // nothing changes; a later change publishes the rest
    h.app.clock.advance_secs(3600);
    let published: Vec<String> = h.app.notifier.all().iter().map(|n| n.id.clone()).collect();
    let mut unique = published.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(published.len(), unique.len(), "none twice: {published:?}");
}

#[tokio::test]
async fn a_parked_upgrade_woken_late_after_its_window_closed_starts_nothing() {
    use eks_upgrade_orchestrator::domain::{
        ClusterName, ItemKind, TargetVersion, UpgradeRecord, UpgradeRequest, WorkItem,
    };
    let eks = fleet_cluster("1.30");
    eks.lock().clusters.get_mut("devel").unwrap().1 = KubeVersion::new(1, 31);
    let h = Harness::new(eks);
    let mut request_body = UpgradeRequest::new(
        ClusterName::parse("devel").unwrap(),
        TargetVersion::Exact(KubeVersion::new(1, 31)),
    );
    // 02:00-03:00 UTC; T0 is 14:13 UTC: the sweep comes long after the window it was due for.
    request_body.maintenance_window =
        Some(serde_json::from_value(json!({ "start": "02:00", "durationMinutes": 60 })).unwrap());
    let mut parked = UpgradeRecord::new(
        &request_body,
        KubeVersion::new(1, 31),
        "0b7c3a9e-7f3c-4b36-9c1e-6f1e2d3c4b5a".into(),
        T0 - 86_400,
    );
    parked.status = UpgradeStatus::WaitingForWindow;
    parked.step = Step::RunItems;
    parked.hop_version = Some(KubeVersion::new(1, 31));
    parked.wait_until = Some(T0 - 40_000);
    parked.heartbeat_at = T0 - 86_400;
    parked.items.push(WorkItem {
        kind: ItemKind::Nodegroup,
        name: "ng-a".into(),
        version: "1.31".into(),
        from: Some("1.30".into()),
        hop: KubeVersion::new(1, 31),
        client_request_token: "5d1e8f0a-2b7c-4e9d-8a6f-3c2b1a0e9d8c".into(),
        status: ItemStatus::Planned,
        update_id: None,
        started_at: None,
        finished_at: None,
        polled_at: None,
        deferred: false,
        errors: Vec::new(),
        launch_template: None,
        from_launch_template: None,
        purpose: Default::default(),
    });
    h.app.store.put(parked);
    h.send_ok(json!({ "sweep": {} })).await;
    h.deliver_continuations().await;
    assert!(
        !h.app.eks.lock().calls.iter().any(|c| c == "UpdateNodegroupVersion"),
        "no node-group update outside the window"
    );
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::WaitingForWindow);
}

#[tokio::test]
async fn updates_planned_for_a_hop_wait_for_its_control_plane_after_a_block() {
    let eks = fleet_cluster("1.30");
    eks.lock().update_refusal = Some(EksFailure::new(
        FailureKind::AccessDenied,
        "AccessDeniedException",
        "not authorized to perform: eks:UpdateClusterVersion",
    ));
    let h = Harness::new(eks);
    h.send_ok(request("1.31")).await;
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Blocked);
    let before = h.app.eks.lock().calls.len();
    h.send_ok(request("1.31")).await;
    h.deliver_continuations().await;
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Succeeded);
    let calls = h.app.eks.lock().calls[before..].to_vec();
    let first = |name: &str| calls.iter().position(|c| c == name).unwrap();
    assert!(
        first("UpdateClusterVersion") < first("UpdateAddon")
            && first("UpdateClusterVersion") < first("UpdateNodegroupVersion"),
        "the hop's add-ons and node groups after its control plane: {calls:?}"
    );
}
