//! The cluster's lock: one item per cluster that names the upgrade holding it, so that two
//! requests (a weekly `latest` whose target moved, a manual one beside a scheduled one) never
//! drive one cluster. Taken with conditional writes only (no transactions).

use serde::{Deserialize, Serialize};

/// The sort key of a cluster's lock item. `#` is not allowed in a request id, so it can't
/// collide with a record; it sorts before every request id.
pub const LOCK_KEY: &str = "#lock";

/// The lowest sort key a request id can have (its characters: letters, digits, `. _ : + -`):
/// a query from here lists a cluster's records without its lock.
pub const FIRST_REQUEST_ID: &str = "+";

/// Which upgrade holds a cluster, since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterLock {
    /// Partition key: the cluster.
    pub cluster: String,
    /// Sort key: always [`LOCK_KEY`].
    pub request_id: String,
    /// The request id of the upgrade holding the cluster.
    pub holder: String,
    /// When it took the cluster (epoch seconds).
    pub since: i64,
    /// Optimistic lock, as for records.
    pub revision: u64,
}

impl ClusterLock {
    pub fn new(cluster: &str, holder: &str, since: i64, revision: u64) -> Self {
        Self {
            cluster: cluster.to_owned(),
            request_id: LOCK_KEY.to_owned(),
            holder: holder.to_owned(),
            since,
            revision,
        }
    }
}
