//! Fault injection settings and update durations.

use serde::{Deserialize, Serialize};

use crate::seed::HealthIssue;

/// Faults applied to EKS requests (never to the admin API or the Lambda relay).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Fraction (0..=1) of EKS requests answered 429 ThrottlingException "Rate exceeded".
    pub throttle_rate: f64,
    /// Fraction (0..=1) of EKS requests answered 500 ServerException or 503
    /// ServiceUnavailableException (half each), without effect.
    pub error_rate: f64,
    /// Fraction (0..=1) of successful mutating requests (Create*, Update*, Delete*,
    /// CancelUpdate) that take effect but answer 500 ServerException, as when an
    /// answer is lost on the way back. The SDKs retry them with the same token.
    pub lost_response_rate: f64,
    /// Delay in milliseconds before every EKS answer.
    pub latency_ms: u64,
    /// For this many milliseconds after an UpdateClusterVersion the cluster still
    /// reads ACTIVE (EKS's status change is eventually consistent). 0 = off.
    pub stale_status_ms: u64,
    /// Operation names (e.g. "UpdateClusterVersion") the rate faults apply to;
    /// empty = all EKS operations.
    pub operations: Vec<String>,
    /// Pending "the next update ... ends Failed" rules, consumed in order.
    pub fail_next_updates: Vec<FailNextUpdate>,
    /// Operations answered 403 AccessDeniedException until cleared (or reset).
    pub denied_operations: Vec<DenyRule>,
}

impl Faults {
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("throttleRate", self.throttle_rate),
            ("errorRate", self.error_rate),
            ("lostResponseRate", self.lost_response_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} must be between 0 and 1, got {v}"));
            }
        }
        for rule in &self.fail_next_updates {
            rule.validate()?;
        }
        for rule in &self.denied_operations {
            rule.validate()?;
        }
        Ok(())
    }

    /// Applies the fields set in `patch`.
    pub fn apply(&mut self, patch: &FaultsPatch) {
        if let Some(v) = patch.throttle_rate {
            self.throttle_rate = v;
        }
        if let Some(v) = patch.error_rate {
            self.error_rate = v;
        }
        if let Some(v) = patch.lost_response_rate {
            self.lost_response_rate = v;
        }
        if let Some(v) = patch.latency_ms {
            self.latency_ms = v;
        }
        if let Some(v) = patch.stale_status_ms {
            self.stale_status_ms = v;
        }
        if let Some(v) = &patch.operations {
            self.operations = v.clone();
        }
        if let Some(v) = &patch.fail_next_updates {
            self.fail_next_updates = v.clone();
        }
        if let Some(v) = &patch.denied_operations {
            self.denied_operations = v.clone();
        }
    }
}

/// A partial change of [`Faults`]: only the fields given are changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultsPatch {
    /// See [`Faults::throttle_rate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle_rate: Option<f64>,
    /// See [`Faults::error_rate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// See [`Faults::lost_response_rate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_response_rate: Option<f64>,
    /// See [`Faults::latency_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// See [`Faults::stale_status_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_status_ms: Option<u64>,
    /// See [`Faults::operations`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// Replaces the pending [`Faults::fail_next_updates`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_next_updates: Option<Vec<FailNextUpdate>>,
    /// Replaces [`Faults::denied_operations`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_operations: Option<Vec<DenyRule>>,
}

/// "Operation X is denied (on cluster C)": such requests answer HTTP 403
/// AccessDeniedException `User: arn:aws:sts::ACCOUNT:assumed-role/eks-upgrade-orchestrator/session
/// is not authorized to perform: eks:X on resource: ARN`, without effect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DenyRule {
    /// An EKS operation name, e.g. "UpdateClusterVersion".
    pub operation: String,
    /// Only requests about this cluster (default: every cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

impl DenyRule {
    /// Denies `operation`, on `cluster` only if given.
    pub fn new(operation: &str, cluster: Option<&str>) -> Self {
        DenyRule {
            operation: operation.to_string(),
            cluster: cluster.map(str::to_string),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !crate::eks::OPERATIONS.contains(&self.operation.as_str()) {
            return Err(format!(
                "unknown operation {:?}; one of: {}",
                self.operation,
                crate::eks::OPERATIONS.join(", ")
            ));
        }
        Ok(())
    }
}

/// Injected health (`POST /_emulator/health`, [`crate::Emulator::set_health`]): the
/// `health.issues` of a cluster, or of one of its node groups or add-ons, and optionally
/// the node group's or add-on's status.
///
/// ```
/// use eks_emulator::{HealthIssue, SetHealth};
/// let h = SetHealth::nodegroup("demo", "ng-1")
///     .issue(HealthIssue::new("NodeCreationFailure", "Instances failed to join the kubernetes cluster", &["i-0abc"]))
///     .status("DEGRADED");
/// assert_eq!(h.issues.as_ref().map(Vec::len), Some(1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetHealth {
    /// Cluster name.
    pub cluster: String,
    /// A node group of the cluster (then the issues are the node group's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodegroup: Option<String>,
    /// An add-on of the cluster (then the issues are the add-on's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<String>,
    /// The issues, replacing the previous ones; `[]` clears them, absent keeps them.
    /// Codes must be of the model's ClusterIssueCode, NodegroupIssueCode or
    /// AddonIssueCode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues: Option<Vec<HealthIssue>>,
    /// New status of the node group or add-on, e.g. "DEGRADED" or "ACTIVE" (not for a
    /// cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl SetHealth {
    /// The cluster's own health.
    pub fn cluster(cluster: &str) -> Self {
        SetHealth {
            cluster: cluster.to_string(),
            ..Default::default()
        }
    }

    /// A node group's health.
    pub fn nodegroup(cluster: &str, nodegroup: &str) -> Self {
        SetHealth {
            nodegroup: Some(nodegroup.to_string()),
            ..SetHealth::cluster(cluster)
        }
    }

    /// An add-on's health.
    pub fn addon(cluster: &str, addon: &str) -> Self {
        SetHealth {
            addon: Some(addon.to_string()),
            ..SetHealth::cluster(cluster)
        }
    }

    /// Adds an issue (the issues given replace the resource's previous ones).
    pub fn issue(mut self, issue: HealthIssue) -> Self {
        self.issues.get_or_insert_with(Vec::new).push(issue);
        self
    }

    /// Clears the resource's issues.
    pub fn clear_issues(mut self) -> Self {
        self.issues = Some(Vec::new());
        self
    }

    /// Also sets the node group's or add-on's status.
    pub fn status(mut self, status: &str) -> Self {
        self.status = Some(status.to_string());
        self
    }
}

/// Which updates a [`FailNextUpdate`] rule matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateKind {
    /// Any update of the cluster.
    #[default]
    Any,
    /// Control-plane version updates (UpdateClusterVersion).
    Cluster,
    /// Node-group updates (UpdateNodegroupVersion).
    Nodegroup,
    /// Add-on updates (UpdateAddon).
    Addon,
}

/// "The next update of cluster X ends Failed with these errors."
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailNextUpdate {
    /// Cluster name.
    pub cluster: String,
    /// Which kind of update (default any).
    #[serde(default)]
    pub kind: UpdateKind,
    /// Only updates of this node group / add-on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Error codes, e.g. ["NodeCreationFailure"]; messages and resource ids are
    /// filled in. Default ["Unknown"] when neither this nor `errors` is given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<String>,
    /// Message used for every code in `error_codes` (default: a realistic one per code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Resource ids used for every code in `error_codes` (default: the updated resource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_ids: Option<Vec<String>>,
    /// Complete error details, used as given (after those from `error_codes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<UpdateErrorDetail>,
    /// EKS cancels the update instead (status Cancelled, with these errors and a
    /// `cancellation`), as it does with a rollback past its `timeoutMinutes`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
}

impl FailNextUpdate {
    /// A rule failing the next update of `cluster` with the given error codes.
    pub fn new(cluster: &str, error_codes: &[&str]) -> Self {
        FailNextUpdate {
            cluster: cluster.to_string(),
            error_codes: error_codes.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    /// Restricts the rule to one kind of update.
    pub fn kind(mut self, kind: UpdateKind) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.cluster.is_empty() {
            return Err("failNextUpdate needs a cluster".into());
        }
        Ok(())
    }
}

/// An entry of an update's `errors` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateErrorDetail {
    /// e.g. "NodeCreationFailure".
    pub error_code: String,
    /// Human-readable message.
    #[serde(default)]
    pub error_message: String,
    /// Resources concerned.
    #[serde(default)]
    pub resource_ids: Vec<String>,
}

/// How long things take, in milliseconds of wall-clock time. Progress is evaluated
/// lazily when the emulator is asked, so no background task is involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Durations {
    /// UpdateClusterVersion (default 60000).
    pub cluster_update_ms: u64,
    /// UpdateNodegroupVersion (default 60000).
    pub nodegroup_update_ms: u64,
    /// UpdateAddon (default 60000).
    pub addon_update_ms: u64,
    /// CREATING to ACTIVE for clusters, node groups and add-ons (default 0: active on the next call).
    pub create_ms: u64,
    /// DELETING to gone for clusters (default 0).
    pub delete_ms: u64,
}

impl Default for Durations {
    fn default() -> Self {
        Durations {
            cluster_update_ms: 60_000,
            nodegroup_update_ms: 60_000,
            addon_update_ms: 60_000,
            create_ms: 0,
            delete_ms: 0,
        }
    }
}

impl Durations {
    /// The same duration for every kind of update.
    pub fn updates(ms: u64) -> Self {
        Durations {
            cluster_update_ms: ms,
            nodegroup_update_ms: ms,
            addon_update_ms: ms,
            ..Default::default()
        }
    }

    /// Applies the fields set in `patch` (`updateMs` first, then the specific ones).
    pub fn apply(&mut self, p: &DurationsPatch) {
        if let Some(v) = p.update_ms {
            self.cluster_update_ms = v;
            self.nodegroup_update_ms = v;
            self.addon_update_ms = v;
        }
        if let Some(v) = p.cluster_update_ms {
            self.cluster_update_ms = v;
        }
        if let Some(v) = p.nodegroup_update_ms {
            self.nodegroup_update_ms = v;
        }
        if let Some(v) = p.addon_update_ms {
            self.addon_update_ms = v;
        }
        if let Some(v) = p.create_ms {
            self.create_ms = v;
        }
        if let Some(v) = p.delete_ms {
            self.delete_ms = v;
        }
    }
}

/// A partial change of [`Durations`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DurationsPatch {
    /// Sets all three update durations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_ms: Option<u64>,
    /// See [`Durations::cluster_update_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_update_ms: Option<u64>,
    /// See [`Durations::nodegroup_update_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodegroup_update_ms: Option<u64>,
    /// See [`Durations::addon_update_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_update_ms: Option<u64>,
    /// See [`Durations::create_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_ms: Option<u64>,
    /// See [`Durations::delete_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_ms: Option<u64>,
}

/// A realistic message for an update error code.
pub(crate) fn default_error_message(code: &str, resource: &str) -> String {
    match code {
        "NodeCreationFailure" => "Instances failed to join the kubernetes cluster".into(),
        "PodEvictionFailure" => format!(
            "Reached max retries while trying to evict pods from nodes in node group {resource}"
        ),
        "InsufficientFreeAddresses" => {
            "One or more of the subnets associated with your cluster does not have enough available IP addresses for Amazon EKS to perform cluster management operations.".into()
        }
        "ClusterUnreachable" => "Amazon EKS is unable to communicate with your Kubernetes cluster API server.".into(),
        "AccessDenied" => "Amazon EKS or one or more of your managed nodes is failing to authenticate or authorize with your Kubernetes cluster API server.".into(),
        "ConfigurationConflict" => "Conflicts found when applying the add-on configuration.".into(),
        "AdmissionRequestDenied" => "An admission webhook denied the add-on update.".into(),
        _ => "An unexpected error occurred during the update.".into(),
    }
}
