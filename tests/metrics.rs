//! The function's metrics, read from its EMF log lines (as CloudWatch Logs reads them): each
//! change counts once, with the dimensions an operator filters by and never the cluster.

use eks_upgrade_orchestrator::domain::metrics::{ALL, NAMESPACE};
use eks_upgrade_orchestrator::domain::{EksUpdateError, UpdateState};
use eks_upgrade_orchestrator::fakes::FakeEks;
use serde_json::{json, Value};

mod common;
use common::*;

const DIMENSIONS: [&str; 5] = ["FunctionName", "Step", "ErrorCode", "Rollout", "State"];

/// Every line, checked as EMF: one metric the function declares, its value, its dimensions.
fn metric_lines(h: &Harness) -> Vec<Value> {
    let lines = h.app.metrics.lines();
    for line in &lines {
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE, "{line}");
        assert!(line["_aws"]["Timestamp"].as_i64().unwrap() > 0, "{line}");
        let name = directive["Metrics"][0]["Name"].as_str().unwrap();
        assert!(ALL.contains(&name), "{name}");
        assert!(line[name].is_number(), "{line}");
        let sets = directive["Dimensions"].as_array().unwrap();
        assert!(sets.len() == 1 || sets[1] == json!(["FunctionName"]), "{line}");
        for key in sets[0].as_array().unwrap() {
            let key = key.as_str().unwrap();
            assert!(DIMENSIONS.contains(&key), "never a per-cluster dimension: {key}");
            assert!(line[key].is_string(), "{line}");
        }
        assert_eq!(line["FunctionName"], "eks-upgrade-orchestrator");
    }
    lines
}

/// The values of `name` (with `dimension` = `value` when given).
fn values(lines: &[Value], name: &str, dimension: Option<(&str, &str)>) -> Vec<f64> {
    lines
        .iter()
        .filter(|l| l["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] == name)
        .filter(|l| dimension.is_none_or(|(k, v)| l[k] == v))
        .map(|l| l[name].as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn an_upgrade_counts_its_start_each_steps_duration_and_its_success_once() {
    let h = Harness::new(fleet_cluster("1.30"));
    let answer = h.send_ok(json!({ "cluster": "devel", "targetVersion": "1.31" })).await;
    assert_eq!(answer["status"], "SUCCEEDED", "{answer}");
    h.send_ok(json!({ "cluster": "devel", "targetVersion": "1.31" })).await;
    let lines = metric_lines(&h);
    assert_eq!(values(&lines, "UpgradesStarted", None), [1.0]);
    assert_eq!(values(&lines, "UpgradesSucceeded", None), [1.0]);
    assert_eq!(values(&lines, "StepDuration", Some(("Step", "CONTROL_PLANE"))).len(), 1);
    assert_eq!(values(&lines, "StepDuration", Some(("Step", "NODEGROUP"))).len(), 2);
    assert_eq!(values(&lines, "StepDuration", Some(("Step", "ADDON"))).len(), 1);
    assert!(values(&lines, "UpgradesFailed", None).is_empty());
    // The cluster is on each line, as a property for Logs Insights.
    assert!(lines.iter().all(|l| l["subject"] == "devel"));
}

#[tokio::test]
async fn a_failed_update_counts_a_failure_and_eks_errors_by_code() {
    let eks = FakeEks::with_cluster("devel", "1.30", 2);
    eks.lock().next_outcome = Some((
        UpdateState::Failed,
        vec![EksUpdateError {
            error_code: "ClusterUnreachable".into(),
            error_message: "The cluster's control plane could not be reached".into(),
            resource_ids: vec![],
        }],
    ));
    let h = Harness::new(eks);
    assert_eq!(
        h.send_ok(json!({ "cluster": "devel", "targetVersion": "1.31" })).await["status"],
        "FAILED"
    );
    let lines = metric_lines(&h);
    assert_eq!(values(&lines, "UpgradesFailed", None), [1.0]);
    assert_eq!(
        values(&lines, "EksErrors", Some(("ErrorCode", "ClusterUnreachable"))),
        [1.0]
    );
    assert!(values(&lines, "UpgradesSucceeded", None).is_empty());
}

#[tokio::test]
async fn a_rollout_counts_its_clusters_by_state_and_a_stop_once() {
    let eks = FakeEks::default();
    for name in ["dev-1", "dev-2"] {
        eks.add_cluster(name, "1.30", &[("env", "dev")]);
    }
    eks.lock().next_outcome = Some((UpdateState::Failed, Vec::new()));
    let h = Harness::new(eks);
    h.send_ok(
        json!({ "rollout": { "name": "fleet", "targetVersion": "1.31", "stages": [
        { "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 1 },
    ] } }),
    )
    .await;
    for _ in 0..100 {
        let (continuations, ticks) = (h.app.invoker.take(), h.app.invoker.take_ticks());
        if continuations.is_empty() && ticks.is_empty() {
            break;
        }
        for c in continuations {
            let _ = h.send(json!({ "continuation": c })).await;
        }
        for t in ticks {
            let _ = h.send(json!({ "rolloutTick": t })).await;
        }
    }
    let lines = metric_lines(&h);
    assert_eq!(
        values(&lines, "RolloutsStopped", Some(("Rollout", "fleet/to-1.31"))),
        [1.0]
    );
    // A gauge is published with its dimensions only.
    let gauge = lines.iter().find(|l| l["RolloutClusters"].is_number()).unwrap();
    assert_eq!(
        gauge["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let pending = values(&lines, "RolloutClusters", Some(("State", "PENDING")));
    assert_eq!(pending.first(), Some(&2.0), "both pending when recorded");
    assert_eq!(
        values(&lines, "RolloutClusters", Some(("State", "FAILED"))).last(),
        Some(&1.0)
    );
}

#[tokio::test]
async fn the_sweep_counts_what_it_found_overdue() {
    let h = Harness::new(FakeEks::with_cluster("devel", "1.30", 3));
    h.send_ok(json!({ "sweep": {} })).await;
    assert_eq!(values(&metric_lines(&h), "OverdueResumed", None), [0.0]);
}
