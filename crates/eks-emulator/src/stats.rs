//! Counters read by tests (`GET /_emulator/stats`, [`crate::Emulator::stats`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything the emulator counted since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// EKS requests.
    pub requests: RequestStats,
    /// Per cluster name (also names that do not exist, if called).
    pub clusters: BTreeMap<String, ClusterStats>,
    /// The Lambda invoke relay.
    pub relay: RelayStats,
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

/// Lambda relay counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayStats {
    /// Event invocations answered 202 and queued.
    pub accepted: u64,
    /// Event invocations delivered (the target answered 2xx without a function error).
    pub delivered: u64,
    /// Delivery attempts that were retries.
    pub retried: u64,
    /// Event invocations dropped (retries exhausted, not retryable, or injected).
    pub dropped: u64,
    /// Of `dropped`, the ones dropped by the drop-next switch.
    pub dropped_injected: u64,
    /// Attempts answered with X-Amz-Function-Error.
    pub function_errors: u64,
    /// RequestResponse invocations proxied.
    pub sync_invocations: u64,
    /// RequestResponse invocations that could not reach the target.
    pub sync_failures: u64,
    /// Event invocations queued or being delivered now.
    pub pending: u64,
    /// Event invocations the drop-next switch will still drop.
    pub drop_next_events: u64,
    /// The same counters per function name.
    pub by_function: BTreeMap<String, RelayFunctionStats>,
    /// The last 100 dropped invocations.
    pub dropped_invocations: Vec<DroppedInvocation>,
}

/// Relay counters of one function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayFunctionStats {
    /// See [`RelayStats::accepted`].
    pub accepted: u64,
    /// See [`RelayStats::delivered`].
    pub delivered: u64,
    /// See [`RelayStats::retried`].
    pub retried: u64,
    /// See [`RelayStats::dropped`].
    pub dropped: u64,
    /// See [`RelayStats::function_errors`].
    pub function_errors: u64,
    /// See [`RelayStats::sync_invocations`].
    pub sync_invocations: u64,
}

/// A dropped Event invocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedInvocation {
    /// Function name as invoked.
    pub function: String,
    /// The request id the 202 answer carried.
    pub request_id: String,
    /// Why it was dropped.
    pub reason: String,
    /// Delivery attempts made.
    pub attempts: u32,
}
