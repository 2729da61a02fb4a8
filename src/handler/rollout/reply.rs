//! What rollout events answer: the rollout per stage and cluster (the running clusters with
//! what their upgrade records say), or a dry run's plan per stage and cluster.

use crate::domain::plan::UpgradePlan;
use crate::domain::rollout::{ClusterEntry, RolloutRecord, RolloutStatus};
use crate::domain::{KubeVersion, UpgradeRecord, UpgradeStatus};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A rollout, as a status query, a control or a start answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutReply {
    pub rollout: String,
    pub request_id: String,
    pub status: RolloutStatus,
    pub target_version: KubeVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub stages: Vec<StageReply>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_enrolled: Vec<String>,
    /// Selected by tags but FAILED or DELETING: EKS cannot upgrade them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// What this invocation did.
    pub outcome: String,
}

/// A stage: the stored stage as it is, so a new stage setting shows here with no change to this
/// reply, with its clusters each beside what their upgrade says.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageReply {
    /// Every field of the stored stage but its clusters.
    #[serde(flatten)]
    pub stage: Map<String, Value>,
    /// Clusters by state.
    pub counts: BTreeMap<String, usize>,
    pub clusters: Vec<ClusterReply>,
}

/// A cluster of a stage: as the rollout stores it, with a glance at its upgrade while it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReply {
    #[serde(flatten)]
    pub entry: ClusterEntry,
    /// Its upgrade, while it runs: status, the hop under way, the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeGlance>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeGlance {
    pub request_id: String,
    pub status: UpgradeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_version: Option<KubeVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop_version: Option<KubeVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl RolloutReply {
    /// The rollout, with the upgrade records read for its running clusters.
    pub fn of(record: &RolloutRecord, running: &[UpgradeRecord], outcome: impl Into<String>) -> Self {
        let glance = |name: &str| {
            running.iter().find(|u| u.cluster == name).map(|u| UpgradeGlance {
                request_id: u.request_id.clone(),
                status: u.status,
                from_version: u.from_version,
                hop_version: u.hop_version,
                message: u.message.clone(),
            })
        };
        let stages = record
            .stages
            .iter()
            .map(|s| {
                let mut counts = BTreeMap::new();
                for c in &s.clusters {
                    let state = serde_json::to_value(c.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned));
                    *counts.entry(state.unwrap_or_default()).or_insert(0) += 1;
                }
                let mut stage = match serde_json::to_value(s) {
                    Ok(Value::Object(fields)) => fields,
                    _ => Map::new(),
                };
                stage.remove("clusters");
                StageReply {
                    stage,
                    counts,
                    clusters: s
                        .clusters
                        .iter()
                        .map(|c| ClusterReply {
                            entry: c.clone(),
                            upgrade: c.state.is_active().then(|| glance(&c.name)).flatten(),
                        })
                        .collect(),
                }
            })
            .collect();
        Self {
            rollout: record.name.clone(),
            request_id: record.request_id.clone(),
            status: record.status,
            target_version: record.target_version,
            message: record.message.clone(),
            stages,
            not_enrolled: record.not_enrolled.clone(),
            left_out: record.left_out.clone(),
            created_at: record.created_at,
            finished_at: record.finished_at,
            outcome: outcome.into(),
        }
    }
}

/// A rollout's dry run: the clusters of each stage, each with its plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutDryRunReply {
    pub dry_run: bool,
    pub rollout: String,
    pub request_id: String,
    pub target_version: KubeVersion,
    pub stages: Vec<DryRunStage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_enrolled: Vec<String>,
    /// Selected by tags but FAILED or DELETING: EKS cannot upgrade them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// The accounts and regions discovery could not reach, with why (each a failure of its
    /// stage if the rollout ran).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<UnreachableLocation>,
    pub outcome: String,
}

/// An account and region discovery could not reach.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreachableLocation {
    pub account: String,
    pub region: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunStage {
    pub name: String,
    pub max_concurrent: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_per_account: Option<u32>,
    pub soak_minutes: u32,
    pub failure_budget: u32,
    pub approval: bool,
    pub clusters: Vec<DryRunCluster>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunCluster {
    /// Its key: the name in this function's account and region, the ARN elsewhere.
    pub name: String,
    /// Its account and region, when known (this function's own: `HOME_ACCOUNT_ID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_version: Option<KubeVersion>,
    /// The versions of its hops.
    pub hops: Vec<KubeVersion>,
    pub blockers: Vec<String>,
    pub warnings: Vec<String>,
    /// Why it could not be planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DryRunCluster {
    pub fn planned(name: &str, plan: &UpgradePlan) -> Self {
        Self {
            name: name.to_owned(),
            account: None,
            region: None,
            from_version: Some(plan.from_version),
            hops: plan.hops.iter().map(|h| h.to).collect(),
            blockers: plan.blockers.clone(),
            warnings: plan.warnings.clone(),
            error: None,
        }
    }

    pub fn failed(name: &str, error: String) -> Self {
        Self {
            name: name.to_owned(),
            account: None,
            region: None,
            from_version: None,
            hops: Vec::new(),
            blockers: Vec::new(),
            warnings: Vec::new(),
            error: Some(error),
        }
    }
}
