//! Bounds and pacing of the workflow, from configuration; and who may be upgraded.

use crate::domain::eks::ClusterView;
use crate::domain::window;

/// Bounds and pacing, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Seconds between two DescribeUpdate calls (and between retries after a fault).
    pub poll_interval_secs: i64,
    /// An attempt older than this ends TIMED_OUT.
    pub max_attempt_secs: i64,
    /// An attempt that took more invocations than this ends TIMED_OUT.
    pub max_invocations: u32,
    /// A finished record expires (DynamoDB TTL) this long after it finished.
    pub retention_secs: i64,
    /// The sweep resumes an unfinished record whose heartbeat is older than this.
    pub stale_after_secs: i64,
    /// How long a control-plane hop is assumed to take: it starts only if the maintenance window
    /// has that long left.
    pub hop_estimate_secs: i64,
    /// A BLOCKED upgrade is checked again by the sweep this long after it blocked (0: never;
    /// only a new request then).
    pub blocked_recheck_secs: i64,
    /// How many managed node groups update at once.
    pub nodegroup_parallelism: u32,
    /// Clusters opt in: the tag `<enrollment_tag>=true` on the cluster ...
    pub enrollment_tag: String,
    /// ... or their name in this list.
    pub allowed_clusters: Vec<String>,
}

/// The tag that enrolls a cluster, unless configured otherwise (`ENROLLMENT_TAG`).
pub const DEFAULT_ENROLLMENT_TAG: &str = "upgrade-orchestrator/enabled";

impl Limits {
    /// Whether the cluster opted in to upgrades by this function.
    pub fn admits(&self, name: &str, cluster: &ClusterView) -> bool {
        self.allowed_clusters.iter().any(|c| c == name)
            || cluster
                .tags
                .get(&self.enrollment_tag)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Why a cluster is refused, for operators.
    pub fn not_enrolled(&self, name: &str) -> String {
        format!(
            "cluster {name} is not enrolled for upgrades: tag it {}=true, or list it in ALLOWED_CLUSTERS",
            self.enrollment_tag
        )
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            poll_interval_secs: 30,
            max_attempt_secs: 3 * 3600,
            max_invocations: 100,
            retention_secs: 90 * 86400,
            stale_after_secs: 300,
            hop_estimate_secs: window::DEFAULT_HOP_ESTIMATE_SECS,
            blocked_recheck_secs: 3600,
            nodegroup_parallelism: 1,
            enrollment_tag: DEFAULT_ENROLLMENT_TAG.to_owned(),
            allowed_clusters: Vec::new(),
        }
    }
}
