//! The metrics each change of an upgrade or rollout record makes, as CloudWatch embedded metric
//! format (EMF) log lines: CloudWatch Logs extracts them from the function's log, with no API
//! call and no permission beyond writing logs. Pure: the handler prints what this returns after
//! the change is written, so a change counts once (a lost write counts nothing).
//!
//! Dimensions are the ones an operator filters by, never the cluster (a dimension per cluster
//! would make a metric per cluster, each billed); the cluster is a plain property of the line,
//! for Logs Insights.

use crate::domain::record::{ItemStatus, UpgradeRecord, UpgradeStatus};
use crate::domain::rollout::{ClusterState, RolloutRecord, RolloutStatus};
use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "EksUpgradeOrchestrator";

/// An upgrade made its first change to the cluster.
pub const UPGRADES_STARTED: &str = "UpgradesStarted";
pub const UPGRADES_SUCCEEDED: &str = "UpgradesSucceeded";
/// Ended FAILED, TIMED_OUT or ROLLBACK_FAILED.
pub const UPGRADES_FAILED: &str = "UpgradesFailed";
/// A gate or EKS refused (BLOCKED).
pub const UPGRADES_BLOCKED: &str = "UpgradesBlocked";
pub const UPGRADES_ROLLED_BACK: &str = "UpgradesRolledBack";
/// Seconds from an update's start to its success; dimension `Step` (CONTROL_PLANE, ADDON,
/// NODEGROUP).
pub const STEP_DURATION: &str = "StepDuration";
/// EKS's update errors of a failed update; dimension `ErrorCode`.
pub const EKS_ERRORS: &str = "EksErrors";
/// A rollout's clusters in a state, when a count changed; dimensions `Rollout`
/// (`<name>/<requestId>`), `State`.
pub const ROLLOUT_CLUSTERS: &str = "RolloutClusters";
/// A rollout stopped (its failure budget spent, or an operator's stop); dimension `Rollout`
/// (`<name>/<requestId>`).
pub const ROLLOUTS_STOPPED: &str = "RolloutsStopped";
/// Records the sweep found overdue (no progress past their wake-up or lease) and resumed.
pub const OVERDUE_RESUMED: &str = "OverdueResumed";

/// Every metric name the function emits (the template's dashboard and alarms name only these).
pub const ALL: [&str; 10] = [
    UPGRADES_STARTED,
    UPGRADES_SUCCEEDED,
    UPGRADES_FAILED,
    UPGRADES_BLOCKED,
    UPGRADES_ROLLED_BACK,
    STEP_DURATION,
    EKS_ERRORS,
    ROLLOUT_CLUSTERS,
    ROLLOUTS_STOPPED,
    OVERDUE_RESUMED,
];

/// One value of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    pub name: &'static str,
    pub value: f64,
    /// `Count` or `Seconds`.
    pub unit: &'static str,
    /// Besides `FunctionName`, which every point has.
    pub dimensions: Vec<(&'static str, String)>,
    /// Which cluster or rollout (a property, not a dimension).
    pub subject: String,
    /// Also published by `FunctionName` alone (what an alarm reads); not for a gauge, whose
    /// values of several rollouts and states would only add up to nonsense.
    pub rollup: bool,
}

fn count(name: &'static str, subject: &str) -> MetricPoint {
    MetricPoint {
        name,
        value: 1.0,
        unit: "Count",
        dimensions: Vec::new(),
        subject: subject.to_owned(),
        rollup: true,
    }
}

fn changed_anything(r: &UpgradeRecord) -> bool {
    r.update_id.is_some() || !r.control_plane_updates.is_empty() || r.items.iter().any(|i| i.update_id.is_some())
}

/// What the change of an upgrade record from `old` to `new` (at `now`) counts.
pub fn upgrade_metrics(old: &UpgradeRecord, new: &UpgradeRecord, now: i64) -> Vec<MetricPoint> {
    let subject = new.cluster.as_str();
    let mut out = Vec::new();
    if changed_anything(new) && !changed_anything(old) {
        out.push(count(UPGRADES_STARTED, subject));
    }
    let step = |kind: String, seconds: i64| MetricPoint {
        name: STEP_DURATION,
        value: seconds.max(0) as f64,
        unit: "Seconds",
        dimensions: vec![("Step", kind)],
        subject: subject.to_owned(),
        rollup: true,
    };
    let new_hops = new
        .control_plane_updates
        .len()
        .saturating_sub(old.control_plane_updates.len());
    if let (1, Some(started)) = (new_hops, old.update_started_at) {
        out.push(step("CONTROL_PLANE".into(), now - started));
    }
    for item in &new.items {
        let before = old
            .items
            .iter()
            .find(|o| o.client_request_token == item.client_request_token);
        let was = before.map(|o| o.status);
        if item.status == ItemStatus::Succeeded && was != Some(ItemStatus::Succeeded) {
            if let Some(started) = item.started_at {
                let kind = serde_json::to_value(item.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned));
                out.push(step(
                    kind.unwrap_or_default(),
                    item.finished_at.unwrap_or(now) - started,
                ));
            }
        }
    }
    if new.status != old.status {
        let ended = match new.status {
            UpgradeStatus::Succeeded => Some(UPGRADES_SUCCEEDED),
            UpgradeStatus::Failed | UpgradeStatus::TimedOut | UpgradeStatus::RollbackFailed => Some(UPGRADES_FAILED),
            UpgradeStatus::Blocked => Some(UPGRADES_BLOCKED),
            UpgradeStatus::RolledBack => Some(UPGRADES_ROLLED_BACK),
            _ => None,
        };
        out.extend(ended.map(|name| count(name, subject)));
        if matches!(new.status, UpgradeStatus::Failed | UpgradeStatus::Cancelled) {
            for e in &new.eks_errors {
                // CloudWatch takes no empty dimension value.
                let code = if e.error_code.is_empty() {
                    "Unknown"
                } else {
                    e.error_code.as_str()
                };
                out.push(MetricPoint {
                    dimensions: vec![("ErrorCode", code.to_owned())],
                    ..count(EKS_ERRORS, subject)
                });
            }
        }
    }
    out
}

const STATES: [ClusterState; 7] = [
    ClusterState::Pending,
    ClusterState::Starting,
    ClusterState::Waiting,
    ClusterState::Running,
    ClusterState::Succeeded,
    ClusterState::Failed,
    ClusterState::Skipped,
];

fn by_state(r: &RolloutRecord) -> Vec<(ClusterState, usize)> {
    STATES
        .iter()
        .map(|&state| (state, r.stages.iter().map(|s| s.count(state)).sum()))
        .collect()
}

/// What the change of a rollout record counts: its clusters by state when a count changed,
/// and a stop.
pub fn rollout_metrics(old: Option<&RolloutRecord>, new: &RolloutRecord) -> Vec<MetricPoint> {
    // A rollout is its name and request: a weekly one reuses its name for each version.
    let rollout = format!("{}/{}", new.name, new.request_id);
    let subject = rollout.as_str();
    let mut out = Vec::new();
    let now = by_state(new);
    if old.map(by_state) != Some(now.clone()) {
        for (state, n) in now {
            let state = serde_json::to_value(state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            out.push(MetricPoint {
                name: ROLLOUT_CLUSTERS,
                value: n as f64,
                unit: "Count",
                dimensions: vec![("Rollout", subject.to_owned()), ("State", state.unwrap_or_default())],
                subject: subject.to_owned(),
                rollup: false,
            });
        }
    }
    let stopped = |r: &RolloutRecord| matches!(r.status, RolloutStatus::Stopping | RolloutStatus::Stopped);
    if stopped(new) && !old.is_some_and(stopped) {
        out.push(MetricPoint {
            dimensions: vec![("Rollout", subject.to_owned())],
            ..count(ROLLOUTS_STOPPED, subject)
        });
    }
    out
}

/// The records a sweep resumed because they were overdue.
pub fn overdue_resumed(resumed: usize) -> Vec<MetricPoint> {
    vec![MetricPoint {
        value: resumed as f64,
        ..count(OVERDUE_RESUMED, "sweep")
    }]
}

/// Each point as one EMF log line of `function` at `timestamp_ms` (one line per point: two
/// values of a metric with different dimensions can't share a line), published both with its
/// dimensions and by function alone.
pub fn emf_lines(points: &[MetricPoint], function: &str, timestamp_ms: i64) -> Vec<String> {
    points
        .iter()
        .map(|p| {
            let mut keys = vec!["FunctionName"];
            keys.extend(p.dimensions.iter().map(|(k, _)| *k));
            // Also by function alone, so an alarm needs no other dimension's value.
            let sets = if keys.len() > 1 && p.rollup {
                json!([keys, ["FunctionName"]])
            } else {
                json!([keys])
            };
            let mut line = Map::new();
            line.insert(
                "_aws".into(),
                json!({
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": sets,
                        "Metrics": [{ "Name": p.name, "Unit": p.unit }],
                    }],
                }),
            );
            line.insert("FunctionName".into(), json!(function));
            for (k, v) in &p.dimensions {
                line.insert((*k).into(), json!(v));
            }
            line.insert(p.name.into(), json!(p.value));
            line.insert("subject".into(), json!(p.subject));
            Value::Object(line).to_string()
        })
        .collect()
}
