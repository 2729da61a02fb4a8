//! Counters read by tests (`GET /_emulator/stats`, [`crate::Emulator::stats`]): EKS
//! requests and per-cluster calls here; the relay's in `crate::relay`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::relay::RelayStats;

/// Everything the emulator counted since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// EKS requests.
    pub requests: RequestStats,
    /// Clusters with an update of any kind (control plane, node group, add-on) in
    /// progress now, by the emulator's clock.
    #[serde(default)]
    pub clusters_updating_now: u64,
    /// The most clusters that had an update in progress at one moment. Updates count from
    /// their creation until they end (`endsAt`; sooner when finished or cancelled), so
    /// the peak needs no request at that moment.
    #[serde(default)]
    pub peak_clusters_updating: u64,
    /// Per cluster name (also names that do not exist, if called).
    /// Per cluster: its name in the emulator's own account and region, its ARN in any other.
    pub clusters: BTreeMap<String, ClusterStats>,
    /// The Lambda invoke relay.
    pub relay: RelayStats,
    /// The EventBridge Scheduler stand-in.
    #[serde(default)]
    pub schedules: ScheduleStats,
    /// STS `AssumeRole` calls that gave credentials, by the account of the role.
    #[serde(default)]
    pub assume_role_by_account: BTreeMap<String, u64>,
    /// EKS changes (the Update* calls answered: UpdateClusterVersion, UpdateNodegroupVersion, UpdateAddon) made
    /// with an assumed role's credentials, by the session's ARN
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), as CloudTrail names them.
    #[serde(default)]
    pub changes_by_session: BTreeMap<String, u64>,
    /// EKS requests served in other accounts and regions (also counted in `requests`), by
    /// `account/region`.
    #[serde(default)]
    pub requests_by_location: BTreeMap<String, u64>,
}

/// EventBridge Scheduler stand-in counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleStats {
    /// Schedules that have not run yet.
    pub waiting: u64,
    /// Schedules that came due and were handed to the relay.
    pub fired: u64,
}

/// EKS request counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestStats {
    /// All EKS requests, including unknown routes.
    pub total: u64,
    /// Requests per operation name ("UnknownOperation" for unknown routes).
    pub by_operation: BTreeMap<String, u64>,
    /// Error answers per error code (injected ones included).
    pub errors_by_code: BTreeMap<String, u64>,
    /// Requests answered by an injected ThrottlingException.
    pub throttled: u64,
    /// Requests answered by an injected 500/503 (without effect).
    pub server_errors: u64,
    /// Requests that took effect but whose answer was replaced by an injected 500.
    pub lost_responses: u64,
    /// Requests answered 403 AccessDeniedException by a deny rule (without effect).
    #[serde(default)]
    pub denied: u64,
}

/// Per-cluster counters. "Created" counts effects, "calls" counts requests received
/// (faulted and rejected ones included).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStats {
    /// Updates of any kind created.
    pub updates_created: u64,
    /// Control-plane updates created (VersionUpdate and VersionRollback).
    pub cluster_version_updates_created: u64,
    /// Node-group updates created.
    pub nodegroup_updates_created: u64,
    /// Add-on updates created.
    pub addon_updates_created: u64,
    /// UpdateClusterVersion requests received.
    pub update_cluster_version_calls: u64,
    /// UpdateNodegroupVersion requests received.
    pub update_nodegroup_version_calls: u64,
    /// UpdateAddon requests received.
    pub update_addon_calls: u64,
    /// Every clientRequestToken seen on an update call, in first-seen order.
    pub client_request_tokens: Vec<TokenStat>,
}

/// A clientRequestToken and what it produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenStat {
    /// The token.
    pub token: String,
    /// "UpdateClusterVersion", "UpdateNodegroupVersion" or "UpdateAddon".
    pub operation: String,
    /// The update this token produced (null if none yet, e.g. the call was rejected).
    pub update_id: Option<String>,
    /// Requests received with this token.
    pub calls: u64,
}
