//! Fleet rollouts through the handler, over in-memory ports: stages in order, soaks on a
//! controllable clock, `maxConcurrent`, failure budgets, approvals, controls, duplicates and
//! crashes at each boundary of the rollout's own steps.

use eks_upgrade_orchestrator::domain::rollout::{ClusterState, RolloutRecord, RolloutStatus, StageStatus};
use eks_upgrade_orchestrator::domain::{KubeVersion, UpdateState, UpgradeStatus};
use eks_upgrade_orchestrator::fakes::FakeEks;
use eks_upgrade_orchestrator::handler::HandlerError;
use eks_upgrade_orchestrator::ports::Clock;
use serde_json::{json, Value};

mod common;
use common::*;

const V31: KubeVersion = KubeVersion::new(1, 31);

/// Six clusters at 1.30: dev-1, dev-2 (env=dev), stg-1, stg-2 (env=staging), prod-1, prod-2
/// (env=prod); each update takes two polls.
fn fleet() -> FakeEks {
    let eks = FakeEks::default();
    eks.lock().update_polls = 2;
    for (name, env) in [
        ("dev-1", "dev"),
        ("dev-2", "dev"),
        ("stg-1", "staging"),
        ("stg-2", "staging"),
        ("prod-1", "prod"),
        ("prod-2", "prod"),
    ] {
        eks.add_cluster(name, "1.30", &[("env", env)]);
    }
    eks
}

fn rollout(stages: Value) -> Value {
    json!({ "rollout": { "name": "fleet", "targetVersion": "1.31", "stages": stages } })
}

fn three_stages() -> Value {
    rollout(json!([
        { "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 1 },
        { "name": "staging", "tags": { "env": "staging" }, "maxConcurrent": 2, "soakMinutes": 30 },
        { "name": "prod", "tags": { "env": "prod" }, "maxConcurrent": 2, "approval": true },
    ]))
}

fn control(action: &str, extra: Value) -> Value {
    let mut body = json!({ "name": "fleet", "action": action });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    json!({ "rolloutControl": body })
}

fn record(h: &Harness) -> RolloutRecord {
    let all = h.app.store.rollouts();
    assert_eq!(all.len(), 1, "one rollout");
    all[0].clone()
}

/// Delivers what the function sent itself (continuations, ticks) until nothing is left;
/// checks after each that no stage has more than its `maxConcurrent` clusters going.
async fn drain(h: &Harness) {
    for _ in 0..10_000 {
        let continuations = h.app.invoker.take();
        let ticks = h.app.invoker.take_ticks();
        if continuations.is_empty() && ticks.is_empty() {
            return;
        }
        for c in continuations {
            survive(h.send(json!({ "continuation": c })).await);
            bounded(h);
        }
        for t in ticks {
            survive(h.send(json!({ "rolloutTick": t })).await);
            bounded(h);
        }
    }
    panic!("never settled");
}

fn survive(answer: Result<Value, HandlerError>) {
    match answer {
        Ok(_) | Err(HandlerError::Crashed(_)) => {}
        Err(e) => panic!("{e}"),
    }
}

fn bounded(h: &Harness) {
    for r in h.app.store.rollouts() {
        for stage in &r.stages {
            assert!(
                stage.active() <= stage.max_concurrent as usize,
                "stage {}: {} active",
                stage.name,
                stage.active()
            );
        }
        let most = r.stages.iter().map(|s| s.max_concurrent as usize).max().unwrap_or(0);
        assert!(
            h.app.eks.clusters_updating() <= most,
            "{} clusters updating",
            h.app.eks.clusters_updating()
        );
    }
}

/// Sweeps (as the schedule does) after `secs`, then delivers what follows.
async fn later(h: &Harness, secs: i64) {
    h.app.clock.advance_secs(secs);
    survive(h.send(json!({ "sweep": {} })).await);
    drain(h).await;
}

fn started_at(r: &RolloutRecord, cluster: &str) -> i64 {
    let (s, c) = r.find(cluster).unwrap();
    r.stages[s].clusters[c].started_at.unwrap()
}

#[tokio::test]
async fn a_three_stage_rollout_succeeds_in_order_with_its_soak_and_approval() {
    let h = Harness::new(fleet());
    let answer = h.send_ok(three_stages()).await;
    assert_eq!(answer["status"], "RUNNING", "{answer}");
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.stages[0].status, StageStatus::Succeeded);
    assert_eq!(r.stages[1].status, StageStatus::Soaking, "{:?}", r.message);
    let soak_until = r.stages[1].soak_until.unwrap();
    // A sweep well before the soak ends starts nothing (one within an invocation's time of it
    // waits for it, no longer).
    later(&h, soak_until - h.app.clock.now_secs() - 1000).await;
    let r = record(&h);
    assert_eq!(
        (r.stages[1].status, r.stages[2].status),
        (StageStatus::Soaking, StageStatus::Waiting)
    );
    later(&h, 1000).await;
    let r = record(&h);
    assert!(r.stages[1].finished_at.unwrap() >= soak_until, "the soak was honoured");
    assert_eq!(r.stages[2].status, StageStatus::AwaitingApproval);
    let types: Vec<String> = h.app.notifier.all().iter().map(|n| n.detail_type.clone()).collect();
    assert!(types.contains(&"EKS Rollout Approval Needed".to_owned()), "{types:?}");
    assert_eq!(
        h.app.eks.cluster_version("prod-1"),
        KubeVersion::new(1, 30),
        "waits for its approval"
    );
    let approved = h.send_ok(control("approve", json!({ "stage": "prod" }))).await;
    assert_eq!(approved["stages"][2]["status"], "RUNNING", "{approved}");
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
    for cluster in ["dev-1", "dev-2", "stg-1", "stg-2", "prod-1", "prod-2"] {
        assert_eq!(h.app.eks.cluster_version(cluster), V31, "{cluster}");
        assert_eq!(
            h.app.eks.cluster_updates(cluster),
            1,
            "{cluster}: one control-plane update"
        );
        let child = h.record_of(cluster, "rollout:fleet:to-1.31");
        assert_eq!(child.status, UpgradeStatus::Succeeded);
    }
    // In order: dev one at a time, staging after dev, prod after the soak.
    assert!(started_at(&r, "dev-2") >= r.stages[0].clusters[0].finished_at.unwrap());
    assert!(started_at(&r, "stg-1") >= r.stages[0].finished_at.unwrap());
    assert!(started_at(&r, "prod-1") >= r.stages[1].soak_until.unwrap());
    let types: Vec<String> = h.app.notifier.all().iter().map(|n| n.detail_type.clone()).collect();
    for kind in [
        "EKS Rollout Started",
        "EKS Rollout Stage Started",
        "EKS Rollout Stage Soaking",
        "EKS Rollout Stage Done",
        "EKS Rollout Ended",
    ] {
        assert!(types.iter().any(|t| t == kind), "{kind} in {types:?}");
    }
}

#[tokio::test]
async fn max_concurrent_is_never_exceeded() {
    let eks = FakeEks::default();
    eks.lock().update_polls = 3;
    for i in 0..12 {
        eks.add_cluster(&format!("c{i:02}"), "1.30", &[("env", "prod")]);
    }
    let h = Harness::new(eks);
    h.send_ok(rollout(
        json!([{ "name": "all", "tags": { "env": "prod" }, "maxConcurrent": 3 }]),
    ))
    .await;
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 12);
}

#[tokio::test]
async fn a_failure_over_a_zero_budget_stops_the_rollout_and_the_next_stage_never_starts() {
    let eks = fleet();
    // The first update of ours (dev-1's) fails.
    eks.lock().next_outcome = Some((
        UpdateState::Failed,
        vec![eks_upgrade_orchestrator::domain::EksUpdateError {
            error_code: "ClusterUnreachable".into(),
            error_message: "the control plane could not be reached".into(),
            resource_ids: vec![],
        }],
    ));
    let h = Harness::new(eks);
    h.send_ok(three_stages()).await;
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Stopped, "{:?}", r.message);
    let message = r.message.clone().unwrap();
    assert!(
        message.contains("dev-1") && message.contains("ClusterUnreachable"),
        "{message}"
    );
    assert_eq!(r.stages[0].count(ClusterState::Failed), 1);
    assert_eq!(r.stages[0].count(ClusterState::Pending), 1, "dev-2 never started");
    for cluster in ["dev-2", "stg-1", "prod-1"] {
        assert!(
            h.app.store.record(cluster, "rollout:fleet:to-1.31").is_none(),
            "{cluster} never started"
        );
        assert_eq!(h.app.eks.cluster_updates(cluster), 0);
    }
    let ended = h
        .app
        .notifier
        .all()
        .into_iter()
        .filter(|n| n.detail_type == "EKS Rollout Stopped")
        .count();
    assert_eq!(ended, 1);
}

#[tokio::test]
async fn an_update_eks_cancelled_is_a_failure_against_the_budget_not_a_skip() {
    let eks = fleet();
    // EKS ends dev-1's control-plane update Cancelled: only an operator's cancel is a skip.
    eks.lock().next_outcome = Some((UpdateState::Cancelled, vec![]));
    let h = Harness::new(eks);
    h.send_ok(three_stages()).await;
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Stopped, "{:?}", r.message);
    assert_eq!(r.stages[0].count(ClusterState::Failed), 1, "dev-1 failed");
    assert_eq!(r.stages[0].count(ClusterState::Skipped), 0);
    let child = h.app.store.record("dev-1", "rollout:fleet:to-1.31").unwrap();
    assert_eq!(child.status, UpgradeStatus::Failed, "{:?}", child.message);
    assert!(child.message.unwrap().contains("Cancelled"), "says what EKS did");
    for cluster in ["stg-1", "prod-1"] {
        assert_eq!(h.app.eks.cluster_updates(cluster), 0, "{cluster} never started");
    }
}

#[tokio::test]
async fn pause_resume_skip_and_cancel() {
    let h = Harness::new(fleet());
    h.send_ok(three_stages()).await;
    let paused = h.send_ok(control("pause", json!({}))).await;
    assert_eq!(paused["status"], "PAUSED");
    drain(&h).await;
    // dev-1 was running: it finished; dev-2 did not start.
    let r = record(&h);
    assert_eq!(r.stages[0].clusters[0].state, ClusterState::Succeeded);
    assert_eq!(r.stages[0].clusters[1].state, ClusterState::Pending);
    let skipped = h.send_ok(control("skip", json!({ "cluster": "dev-2" }))).await;
    assert_eq!(skipped["stages"][0]["clusters"][1]["state"], "SKIPPED");
    let err = h
        .send(control("skip", json!({ "cluster": "dev-1" })))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already Succeeded"), "{err}");
    h.send_ok(control("resume", json!({}))).await;
    drain(&h).await;
    assert_eq!(record(&h).stages[1].status, StageStatus::Soaking);
    let cancelled = h.send_ok(control("cancel", json!({}))).await;
    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
    assert_eq!(h.app.eks.cluster_version("dev-2"), KubeVersion::new(1, 30), "skipped");
    assert_eq!(h.app.eks.cluster_updates("prod-1"), 0, "cancelled before prod");
    let err = h.send(control("resume", json!({}))).await.unwrap_err();
    assert!(err.to_string().contains("ended"), "{err}");
}

#[tokio::test]
async fn a_cancel_lets_running_upgrades_finish_and_starts_nothing_new() {
    let h = Harness::new(fleet());
    h.send_ok(rollout(
        json!([{ "name": "all", "tags": { "env": "dev" }, "maxConcurrent": 1 }]),
    ))
    .await;
    let cancelling = h.send_ok(control("cancel", json!({}))).await;
    assert_eq!(cancelling["status"], "CANCELLING");
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Cancelled);
    assert_eq!(h.app.eks.cluster_version("dev-1"), V31, "the running one finished");
    assert_eq!(h.app.eks.cluster_updates("dev-2"), 0, "nothing new started");
}

#[tokio::test]
async fn duplicate_rollout_events_converge_on_one_rollout_and_one_update_per_cluster() {
    let h = Harness::new(fleet());
    let event = rollout(json!([{ "name": "all", "tags": { "env": "dev" }, "maxConcurrent": 2 }]));
    let (a, b, c) = tokio::join!(h.send(event.clone()), h.send(event.clone()), h.send(event.clone()));
    for answer in [a, b, c] {
        answer.expect("answered");
    }
    h.send_ok(event).await;
    drain(&h).await;
    assert_eq!(h.app.store.rollouts().len(), 1);
    assert_eq!(record(&h).status, RolloutStatus::Succeeded);
    assert_eq!(h.app.eks.cluster_updates("dev-1"), 1);
    assert_eq!(h.app.eks.cluster_updates("dev-2"), 1);
}

#[tokio::test]
async fn a_crash_at_each_boundary_of_the_rollouts_steps_adds_no_update_and_loses_no_cluster() {
    for point in [
        "rollout:before-starts",
        "rollout:after-starts",
        "after:UpdateClusterVersion",
        "before:continuation",
    ] {
        let eks = fleet();
        let h = Harness::new(eks);
        h.app.crash_points.arm(point);
        let event = rollout(json!([
            { "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 2 },
            { "name": "staging", "tags": { "env": "staging" }, "maxConcurrent": 2 },
        ]));
        survive(h.send(event).await);
        drain(&h).await;
        for _ in 0..10 {
            if h.app.store.rollouts().first().is_some_and(|r| r.is_finished()) {
                break;
            }
            later(&h, 900 + 600).await;
        }
        let r = record(&h);
        assert!(!h.app.crash_points.is_armed(), "{point}: the crash fired");
        assert_eq!(r.status, RolloutStatus::Succeeded, "{point}: {:?}", r.message);
        for cluster in ["dev-1", "dev-2", "stg-1", "stg-2"] {
            assert_eq!(h.app.eks.cluster_updates(cluster), 1, "{point}: {cluster} once");
            assert_eq!(h.app.eks.cluster_version(cluster), V31, "{point}: {cluster}");
        }
    }
}

#[tokio::test]
async fn a_cluster_busy_with_another_upgrade_waits_for_it() {
    let eks = fleet();
    eks.lock().update_polls = 6;
    let h = Harness::new(eks);
    // Someone's upgrade of dev-1 is under way (its invocation hands on at once).
    h.app.crash_points.arm("after:UpdateClusterVersion");
    survive(
        h.send(json!({ "cluster": "dev-1", "targetVersion": "1.31", "requestId": "manual" }))
            .await,
    );
    let answer = h
        .send_ok(rollout(
            json!([{ "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 2 }]),
        ))
        .await;
    let dev1 = &answer["stages"][0]["clusters"][0];
    assert_eq!(dev1["state"], "WAITING", "{answer}");
    assert!(
        dev1["note"].as_str().unwrap().contains("held by upgrade manual"),
        "{dev1}"
    );
    // The manual upgrade goes on (the sweep resumes it) and ends; the rollout's turn comes.
    for _ in 0..10 {
        if h.app.store.rollouts()[0].is_finished() {
            break;
        }
        later(&h, 900 + 600).await;
    }
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
    assert_eq!(
        h.app.eks.cluster_updates("dev-1"),
        1,
        "the manual upgrade's only: never doubled"
    );
    assert_eq!(
        h.record_of("dev-1", "rollout:fleet:to-1.31").status,
        UpgradeStatus::Succeeded
    );
}

#[tokio::test]
async fn bad_specs_are_refused_naming_the_field_and_write_nothing() {
    let h = Harness::new(fleet());
    for (event, field) in [
        (
            rollout(json!([{ "name": "a", "clusters": ["nope"] }])),
            "rollout.stages[0].clusters[0]",
        ),
        (
            rollout(json!([{ "name": "a", "tags": { "env": "qa" } }])),
            "rollout.stages[0]",
        ),
        (
            rollout(json!([{ "name": "a", "tags": { "env": "dev" } }, { "name": "b", "clusters": ["dev-1"] }])),
            "rollout.stages[1].tags",
        ),
        (
            rollout(json!([{ "name": "a", "clusters": ["dev-1"], "soakMinutes": -1 }])),
            "rollout.stages[0].soakMinutes",
        ),
        // An upgrade request's own checks, named where the option was set.
        (
            json!({ "rollout": { "name": "fleet", "targetVersion": "1.31",
                "options": { "maintenanceWindow": { "start": "02:00", "durationMinutes": 30 } },
                "stages": [{ "name": "a", "clusters": ["dev-1"] }] } }),
            "rollout.options.maintenanceWindow.durationMinutes",
        ),
        (
            rollout(json!([{ "name": "a", "clusters": ["dev-1"] },
                           { "name": "b", "clusters": ["dev-2"],
                             "options": { "verify": { "alarms": [], "soakMinutes": 1440 } } }])),
            "rollout.stages[1].options.verify.soakMinutes",
        ),
    ] {
        let err = h.send(event.clone()).await.unwrap_err();
        assert!(err.to_string().contains(field), "{event}: {err}");
    }
    assert!(h.app.store.rollouts().is_empty());
    assert!(h.app.store.all().is_empty());
    assert_eq!(h.app.eks.updates_created_by_tokens(), 0);
}

#[tokio::test]
async fn a_dry_run_shows_each_stage_with_each_clusters_plan_and_changes_nothing() {
    let h = Harness::new(fleet());
    let mut event = three_stages();
    event["rollout"]["dryRun"] = json!(true);
    let answer = h.send_ok(event).await;
    assert_eq!(answer["dryRun"], true);
    assert_eq!(answer["stages"].as_array().unwrap().len(), 3);
    let dev1 = &answer["stages"][0]["clusters"][0];
    assert_eq!(
        (dev1["name"].as_str(), dev1["hops"].clone()),
        (Some("dev-1"), json!(["1.31"]))
    );
    assert!(h.app.store.rollouts().is_empty());
    assert_eq!(h.app.eks.updates_created_by_tokens(), 0);
}

#[tokio::test]
async fn the_status_query_answers_per_stage_and_cluster() {
    let h = Harness::new(fleet());
    h.send_ok(three_stages()).await;
    let status = h.send_ok(json!({ "rolloutStatus": { "name": "fleet" } })).await;
    let dev = &status["stages"][0];
    assert_eq!(dev["status"], "RUNNING");
    assert_eq!(dev["clusters"][0]["state"], "RUNNING");
    assert_eq!(dev["clusters"][0]["upgrade"]["requestId"], "rollout:fleet:to-1.31");
    assert_eq!(dev["counts"]["PENDING"], 1);
    assert_eq!(status["stages"][2]["approval"], true);
}

#[tokio::test]
async fn a_tick_from_a_cluster_the_rollout_already_saw_end_changes_nothing() {
    let h = Harness::new(fleet());
    h.send_ok(rollout(json!([
        { "name": "dev", "clusters": ["dev-1", "dev-2", "stg-1"], "maxConcurrent": 2 },
        { "name": "prod", "tags": { "env": "prod" }, "maxConcurrent": 2 },
    ])))
    .await;
    // Both first clusters' upgrades run to their end; their ticks are held back.
    let mut held = Vec::new();
    loop {
        held.extend(h.app.invoker.take_ticks());
        let continuations = h.app.invoker.take();
        if continuations.is_empty() {
            break;
        }
        for c in continuations {
            survive(h.send(json!({ "continuation": c })).await);
        }
    }
    let told: Vec<String> = held
        .iter()
        .filter_map(|t| t.cluster.as_ref().map(|c| c.to_string()))
        .collect();
    assert_eq!(told, ["dev-1", "dev-2"], "each child names itself");
    // The first tick sees both ends and starts stg-1.
    survive(h.send(json!({ "rolloutTick": held[0] })).await);
    let after_first = record(&h);
    assert_eq!(after_first.stages[0].count(ClusterState::Succeeded), 2);
    // The second finds its cluster already seen: no look, no write, nothing started again.
    survive(h.send(json!({ "rolloutTick": held[1] })).await);
    let after_second = record(&h);
    assert_eq!(after_second.revision, after_first.revision);
    assert_eq!(after_second.ticks, after_first.ticks);
    // A sweep's tick (no cluster) still looks.
    survive(
        h.send(json!({ "rolloutTick": { "name": "fleet", "requestId": "to-1.31" } }))
            .await,
    );
    assert_eq!(record(&h).ticks, after_first.ticks + 1);
    drain(&h).await;
    let done = record(&h);
    assert_eq!(done.status, RolloutStatus::Succeeded, "{:?}", done.message);
    for cluster in ["dev-1", "dev-2", "stg-1", "prod-1", "prod-2"] {
        assert_eq!(h.app.eks.cluster_updates(cluster), 1, "{cluster}");
    }
}

#[tokio::test]
async fn a_stop_with_a_cluster_waiting_for_another_upgrade_ends_stopped_without_starting_it() {
    let eks = fleet();
    eks.lock().update_polls = 6;
    let h = Harness::new(eks);
    // Someone's upgrade of dev-2 is under way; then the next update (dev-1's) fails.
    h.app.crash_points.arm("after:UpdateClusterVersion");
    survive(
        h.send(json!({ "cluster": "dev-2", "targetVersion": "1.31", "requestId": "manual" }))
            .await,
    );
    h.app.eks.lock().next_outcome = Some((UpdateState::Failed, vec![]));
    let answer = h
        .send_ok(rollout(
            json!([{ "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 2 }]),
        ))
        .await;
    assert_eq!(answer["stages"][0]["clusters"][1]["state"], "WAITING", "{answer}");
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Stopped, "{:?}", r.message);
    let (s, c) = r.find("dev-2").unwrap();
    assert_eq!(r.stages[s].clusters[c].state, ClusterState::Pending);
    assert!(r.stages[s].clusters[c].note.as_deref().unwrap().contains("not started"));
    assert!(h.app.store.record("dev-2", "rollout:fleet:to-1.31").is_none());
    assert_eq!(h.app.eks.cluster_updates("dev-2"), 1, "the manual upgrade's only");
}

#[tokio::test]
async fn a_child_upgrade_cancelled_by_an_operator_counts_as_skipped_not_failed() {
    // T0 is 14:13:20 UTC: a window opening at 16:30 parks dev-1's upgrade.
    let h = Harness::new(fleet());
    h.send_ok(rollout(json!([
        { "name": "dev", "clusters": ["dev-1"],
          "options": { "maintenanceWindow": { "start": "16:30", "durationMinutes": 120 } } },
        { "name": "prod", "tags": { "env": "prod" }, "maxConcurrent": 2 },
    ])))
    .await;
    drain(&h).await;
    assert_eq!(
        h.record_of("dev-1", "rollout:fleet:to-1.31").status,
        UpgradeStatus::WaitingForWindow
    );
    h.send_ok(json!({ "cancel": { "cluster": "dev-1", "requestId": "rollout:fleet:to-1.31" } }))
        .await;
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.stages[0].clusters[0].state, ClusterState::Skipped, "{:?}", r.message);
    assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
    assert_eq!(h.app.eks.cluster_updates("dev-1"), 0);
    assert_eq!(h.app.eks.cluster_updates("prod-1"), 1);
}

#[tokio::test]
async fn only_a_stage_awaiting_its_approval_can_be_approved() {
    let h = Harness::new(fleet());
    h.send_ok(three_stages()).await;
    let err = h
        .send(control("approve", json!({ "stage": "prod" })))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only a stage AWAITING_APPROVAL"), "{err}");
    assert!(!record(&h).stages[2].approved);
}

#[tokio::test]
async fn a_failure_over_budget_stops_a_paused_rollout() {
    let eks = fleet();
    eks.lock().next_outcome = Some((UpdateState::Failed, vec![]));
    let h = Harness::new(eks);
    h.send_ok(three_stages()).await;
    assert_eq!(h.send_ok(control("pause", json!({}))).await["status"], "PAUSED");
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Stopped, "{:?}", r.message);
    assert!(r.message.as_deref().unwrap().contains("dev-1"));
    let err = h.send(control("resume", json!({}))).await.unwrap_err();
    assert!(err.to_string().contains("ended"), "{err}");
}

#[tokio::test]
async fn a_control_answers_at_once_during_a_soak() {
    let h = Harness::new(fleet());
    h.send_ok(three_stages()).await;
    drain(&h).await;
    // dev done, staging ran; it soaks 30 minutes.
    while record(&h).stages[1].status != StageStatus::Soaking {
        later(&h, 60).await;
    }
    // A minute before the soak ends: within an invocation's time, which a tick would wait.
    let soak_until = record(&h).stages[1].soak_until.unwrap();
    h.app.clock.advance_secs(soak_until - 60 - h.app.clock.now_secs());
    let before = h.app.clock.now_secs();
    h.send_ok(control("pause", json!({}))).await;
    let resumed = h.send_ok(control("resume", json!({}))).await;
    assert_eq!(resumed["stages"][1]["status"], "SOAKING", "{resumed}");
    assert_eq!(h.app.clock.now_secs(), before, "no control waited out the soak");
}

#[tokio::test]
async fn a_skip_is_refused_for_a_cluster_whose_upgrade_record_exists() {
    let eks = fleet();
    eks.lock().update_polls = 6;
    let h = Harness::new(eks);
    h.send_ok(rollout(
        json!([{ "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 1 }]),
    ))
    .await;
    // Whatever the rollout says (here forced back to WAITING), a started upgrade is not skipped.
    let mut r = record(&h);
    let (s, c) = r.find("dev-1").unwrap();
    r.stages[s].clusters[c].state = ClusterState::Waiting;
    let revision = r.revision;
    r.revision += 1;
    use eks_upgrade_orchestrator::ports::RolloutStore;
    h.app.store.replace_rollout(&r, revision).await.unwrap();
    let err = h
        .send(control("skip", json!({ "cluster": "dev-1" })))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has started"), "{err}");
    assert_ne!(record(&h).stages[s].clusters[c].state, ClusterState::Skipped);
}

#[tokio::test]
async fn a_dry_run_plans_each_cluster_with_its_stages_options() {
    use eks_upgrade_orchestrator::domain::eks::{LaunchTemplateRef, NodegroupView};
    let eks = fleet();
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
    let h = Harness::new(eks);
    let answer = h
        .send_ok(
            json!({ "rollout": { "name": "fleet", "targetVersion": "1.31", "dryRun": true, "stages": [
            { "name": "dev", "clusters": ["dev-1"],
              "options": { "nodegroupLaunchTemplates": { "ng-custom": { "1.31": "7" } } } },
            { "name": "prod", "clusters": ["prod-1"] },
        ] } }),
        )
        .await;
    let said = |stage: usize| answer["stages"][stage]["clusters"][0].to_string();
    assert!(
        !said(0).contains("ng-custom"),
        "rolled by its launch template: {}",
        said(0)
    );
    assert!(said(1).contains("ng-custom"), "left to the operator: {}", said(1));
    assert!(h.app.store.rollouts().is_empty());
}

#[tokio::test]
async fn a_start_never_crosses_a_cancel_that_gave_the_cluster_up() {
    let eks = fleet();
    let h = Harness::new(eks);
    // The start's tick writes dev-1 STARTING, then dies before starting it.
    h.app.crash_points.arm("rollout:before-starts");
    survive(
        h.send(rollout(
            json!([{ "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 1 }]),
        ))
        .await,
    );
    assert_eq!(record(&h).stages[0].count(ClusterState::Starting), 1);
    // Tick B starts dev-1 again and is slow (its DescribeCluster waits), while the rollout is
    // cancelled, and tick C, past the start's grace, gives dev-1 up as not started.
    let slow = std::sync::Arc::new(tokio::sync::Notify::new());
    h.app.eks.lock().describe_gates.insert("dev-1".into(), slow.clone());
    let tick = json!({ "rolloutTick": { "name": "fleet", "requestId": "to-1.31" } });
    let (b, ()) = tokio::join!(h.send(tick.clone()), async {
        // B is waiting in its DescribeCluster.
        while !h.app.eks.lock().describe_gates.is_empty() {
            tokio::task::yield_now().await;
        }
        h.send_ok(control("cancel", json!({}))).await;
        h.app
            .clock
            .advance_secs(eks_upgrade_orchestrator::domain::rollout::advance::START_GRACE_SECS + 60);
        survive(h.send(tick.clone()).await);
        let r = record(&h);
        assert_eq!(r.status, RolloutStatus::Cancelled, "{:?}", r.message);
        assert_eq!(r.stages[0].clusters[0].state, ClusterState::Pending, "given up");
        slow.notify_one();
    });
    survive(b);
    drain(&h).await;
    // B's late start must not upgrade a cluster the rollout gave up.
    assert_eq!(
        h.app.eks.cluster_updates("dev-1"),
        0,
        "no update the rollout never counts"
    );
    let r = record(&h);
    assert_eq!(r.stages[0].clusters[0].state, ClusterState::Pending);
    if let Some(child) = h.app.store.record("dev-1", "rollout:fleet:to-1.31") {
        assert!(child.is_finished(), "{:?}", child.status);
        assert!(!child.holds_cluster(), "the cluster is free");
    }
}

#[tokio::test]
async fn a_stage_verifying_an_alarm_cloudwatch_does_not_know_is_refused_before_anything_starts() {
    let h = Harness::new(fleet());
    h.app.alarms.set("eks-upgrade-dev-5xx", "OK", "fine");
    let refused = h
        .send(rollout(json!([
            { "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 1,
              "options": { "verify": { "alarms": ["eks-upgrade-dev-5xx"] } } },
            { "name": "prod", "tags": { "env": "prod" }, "maxConcurrent": 1,
              "options": { "verify": { "alarms": ["eks-upgrade-prod-5xxx"] } } },
        ])))
        .await;
    match refused {
        Err(HandlerError::InvalidEvent(e)) => {
            assert_eq!(e.field, "rollout.stages[1].options.verify.alarms[0]");
            assert!(e.problem.contains("eks-upgrade-prod-5xxx"), "{}", e.problem);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(h.app.store.rollouts().is_empty(), "nothing written");
    assert_eq!(h.app.eks.updates_created_by_tokens(), 0);
}

#[tokio::test]
async fn a_fleet_dry_run_asks_what_is_the_same_for_every_cluster_once() {
    use eks_upgrade_orchestrator::domain::eks::{AddonVersionOption, AddonView};
    let eks = fleet();
    {
        let mut s = eks.lock();
        s.addons = ["coredns", "kube-proxy"]
            .map(|name| AddonView {
                name: name.into(),
                version: "v1.30.0-eksbuild.1".into(),
                status: "ACTIVE".into(),
                ..Default::default()
            })
            .to_vec();
        s.addon_catalog = ["coredns", "kube-proxy"]
            .map(|name| {
                let versions = (30..=31)
                    .map(|m| AddonVersionOption {
                        version: format!("v1.{m}.0-eksbuild.1"),
                        compatible: vec![(KubeVersion::new(1, m), true)],
                    })
                    .collect();
                (name.to_owned(), versions)
            })
            .to_vec();
    }
    let h = Harness::new(eks);
    let mut event = three_stages();
    event["rollout"]["dryRun"] = json!(true);
    let answer = h.send_ok(event).await;
    let planned: usize = answer["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["clusters"].as_array().unwrap().len())
        .sum();
    assert_eq!(planned, 6, "{answer}");
    let calls = h.app.eks.lock().calls.clone();
    let count = |name: &str| calls.iter().filter(|c| *c == name).count();
    assert_eq!(count("DescribeAddonVersions"), 2, "once per add-on, not per cluster");
    assert_eq!(count("DescribeClusterVersions"), 1, "once, not per cluster");
    assert_eq!(count("ListInsights"), 6, "per cluster");
    assert!(h.app.store.rollouts().is_empty(), "a dry run writes nothing");
}

/// Delivers continuations and ticks, then the earliest wake-up at its time, until nothing is
/// arranged any more.
async fn drain_with_wakes(h: &Harness) {
    for _ in 0..1_000 {
        drain(h).await;
        let Some(next) = h.app.scheduler.next() else { return };
        let now = h.app.clock.now_secs();
        h.app.clock.advance_secs((next.at - now).max(0));
        for wake in h.app.scheduler.take_due(h.app.clock.now_secs()) {
            survive(h.send(wake.event).await);
            bounded(h);
        }
    }
    panic!("never settled");
}

#[tokio::test]
async fn with_wake_ups_a_soak_ends_on_time_without_a_sweep_and_nothing_sleeps() {
    let h = Harness::with_wakes(fleet());
    h.send_ok(three_stages()).await;
    drain_with_wakes(&h).await;
    let r = record(&h);
    let soak_until = r.stages[1].soak_until.unwrap();
    // At the first whole minute after the soak's end: Scheduler fires within the minute it
    // names, so the wake-up is never arranged before the end.
    assert_eq!(
        r.stages[1].finished_at,
        Some((soak_until + 59) / 60 * 60),
        "the soak's wake-up ticked the rollout at its end"
    );
    assert_eq!(r.stages[2].status, StageStatus::AwaitingApproval, "{:?}", r.message);
    h.send_ok(control("approve", json!({ "stage": "prod" }))).await;
    drain_with_wakes(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
    for cluster in ["dev-1", "dev-2", "stg-1", "stg-2", "prod-1", "prod-2"] {
        assert_eq!(
            h.app.eks.cluster_updates(cluster),
            1,
            "{cluster}: one control-plane update"
        );
    }
}

#[tokio::test]
async fn a_tick_that_starts_a_large_stage_hands_on_in_batches_and_starts_each_cluster_once() {
    let eks = FakeEks::default();
    for i in 0..120 {
        eks.add_cluster(&format!("c{i:03}"), "1.30", &[("env", "prod")]);
    }
    let h = Harness::new(eks);
    h.send_ok(rollout(
        json!([{ "name": "all", "tags": { "env": "prod" }, "maxConcurrent": 1000 }]),
    ))
    .await;
    // One invocation makes a bounded number of starts (each is several calls), then hands the
    // rest on to a fresh tick rather than running into Lambda's timeout.
    let made = h.app.store.all().len();
    assert!(
        made > 0 && made <= 50,
        "{made} upgrades started by the first invocation"
    );
    let r = record(&h);
    let starting = r.stages[0].count(ClusterState::Starting);
    assert_eq!(starting, 120 - made, "the rest are written STARTING");
    let ticks = h.app.invoker.take_ticks();
    assert_eq!(ticks.len(), 1, "one tick handed on: {ticks:?}");
    for t in ticks {
        survive(h.send(json!({ "rolloutTick": t })).await);
    }
    drain(&h).await;
    let r = record(&h);
    assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
    assert_eq!(h.app.store.all().len(), 120, "one upgrade record per cluster");
    assert_eq!(h.app.eks.updates_created_by_tokens(), 120, "one update per cluster");
}

#[tokio::test]
async fn clusters_busy_with_other_upgrades_never_make_ticks_hand_on_for_ever() {
    let eks = FakeEks::default();
    for i in 0..120 {
        eks.add_cluster(&format!("c{i:03}"), "1.30", &[("env", "prod")]);
    }
    let h = Harness::new(eks);
    // The first 60 clusters are each held by an upgrade of their own, which goes on.
    for i in 0..60 {
        h.send_ok(
            json!({ "cluster": format!("c{i:03}"), "targetVersion": "1.31", "requestId": "by-hand",
                          "maintenanceWindow": { "start": "03:00", "durationMinutes": 240 } }),
        )
        .await;
    }
    h.app.invoker.take();
    h.send_ok(rollout(
        json!([{ "name": "all", "tags": { "env": "prod" }, "maxConcurrent": 1000 }]),
    ))
    .await;
    let mut handed_on = 0;
    loop {
        let ticks = h.app.invoker.take_ticks();
        h.app.invoker.take();
        if ticks.is_empty() {
            break;
        }
        handed_on += ticks.len();
        assert!(handed_on < 10, "ticks kept handing on: {handed_on}");
        for t in ticks {
            survive(h.send(json!({ "rolloutTick": t })).await);
        }
    }
    let r = record(&h);
    assert_eq!(r.stages[0].count(ClusterState::Waiting), 60, "the held ones wait");
    assert_eq!(
        r.stages[0].count(ClusterState::Running),
        60,
        "every cluster nobody held started"
    );
}
