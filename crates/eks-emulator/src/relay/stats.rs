//! Relay counters (the `relay` part of `GET /_emulator/stats`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
    /// Event invocations being delivered now (each one a busy function instance).
    pub in_flight: u64,
    /// The most Event invocations ever delivered at once since the counters were zeroed.
    pub peak_in_flight: u64,
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
