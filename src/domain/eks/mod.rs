//! What EKS reports, reduced to what the workflow decides on. Adapters translate the SDK's
//! types into these, so the state machine never sees an SDK type.

mod failure;

pub use failure::{classify, decide, policy, Action, Answered, EksFailure, FailureKind, Operation};

use super::version::KubeVersion;
use serde::{Deserialize, Serialize};

/// An error EKS reported on a finished update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EksUpdateError {
    pub error_code: String,
    pub error_message: String,
    #[serde(default)]
    pub resource_ids: Vec<String>,
}

/// A health issue EKS reports on a cluster, node group or add-on (`health.issues`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthIssue {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_ids: Vec<String>,
}

/// DescribeCluster, reduced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterView {
    /// ACTIVE, UPDATING, CREATING, DELETING, FAILED, PENDING (kept as text: EKS may add more).
    pub status: String,
    pub version: Option<KubeVersion>,
    pub platform_version: Option<String>,
    pub tags: std::collections::BTreeMap<String, String>,
    /// `health.issues`: empty when healthy.
    pub health: Vec<HealthIssue>,
    /// `upgradePolicy.supportType`: STANDARD or EXTENDED.
    pub support_type: Option<String>,
}

/// The status of an EKS update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateState {
    InProgress,
    Successful,
    Failed,
    Cancelled,
    /// A status this build does not know; treated as still running.
    Other(String),
}

/// An EKS update (DescribeUpdate, UpdateClusterVersion), reduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateView {
    pub id: String,
    pub state: UpdateState,
    /// VersionUpdate, AddonUpdate, EndpointAccessUpdate, ...
    pub kind: String,
    /// The `Version` parameter of a version update.
    pub version: Option<String>,
    pub errors: Vec<EksUpdateError>,
    /// EKS's `createdAt` (epoch seconds), by EKS's clock.
    pub created_at: Option<i64>,
}

/// A Kubernetes version EKS offers (DescribeClusterVersions), reduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedVersion {
    pub version: KubeVersion,
    /// STANDARD_SUPPORT, EXTENDED_SUPPORT, UNSUPPORTED.
    pub status: String,
    pub default: bool,
    /// `endOfStandardSupportDate`, `endOfExtendedSupportDate` (epoch seconds), as EKS reports
    /// them: never a calendar of our own.
    pub end_of_standard: Option<i64>,
    pub end_of_extended: Option<i64>,
}

/// The launch template a managed node group was created with (DescribeNodegroup).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchTemplateRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A managed node group (DescribeNodegroup), reduced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodegroupView {
    pub name: String,
    pub version: Option<KubeVersion>,
    pub status: String,
    /// AL2023_x86_64_STANDARD, BOTTLEROCKET_ARM_64, ... or CUSTOM (a launch template names the
    /// image: EKS will not take a `version` for it).
    pub ami_type: String,
    pub launch_template: Option<LaunchTemplateRef>,
    /// `health.issues`: empty when healthy.
    pub health: Vec<HealthIssue>,
}

impl NodegroupView {
    /// A node group on a custom AMI: the operator rolls it (by a launch template version), EKS
    /// refuses `version` for it.
    pub fn custom_ami(&self) -> bool {
        self.ami_type == "CUSTOM"
    }
}

/// An installed EKS add-on (DescribeAddon), reduced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddonView {
    pub name: String,
    pub version: String,
    pub status: String,
    /// `health.issues`: empty when healthy.
    pub health: Vec<HealthIssue>,
}

/// One version of an add-on and the Kubernetes versions it runs on (DescribeAddonVersions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonVersionOption {
    pub version: String,
    /// (Kubernetes version, whether this is the default add-on version for it).
    pub compatible: Vec<(KubeVersion, bool)>,
}

/// An upgrade insight (ListInsights), reduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightView {
    pub name: String,
    /// UPGRADE_READINESS, MISCONFIGURATION, ...
    pub category: String,
    pub kubernetes_version: Option<String>,
    /// PASSING, WARNING, ERROR, UNKNOWN.
    pub status: String,
    pub reason: String,
}

/// Which insights ListInsights is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsightCategory {
    /// Before an upgrade.
    UpgradeReadiness,
    /// Before a version rollback: an ERROR blocks it unless `force`.
    RollbackReadiness,
}

impl InsightCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpgradeReadiness => "UPGRADE_READINESS",
            Self::RollbackReadiness => "ROLLBACK_READINESS",
        }
    }
}

/// A CloudWatch alarm (DescribeAlarms), reduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmView {
    pub name: String,
    /// OK, ALARM, INSUFFICIENT_DATA.
    pub state: String,
    pub reason: String,
}

/// What a hop's verification looks at: the cluster's, add-ons' and node groups' health, and
/// the named alarms (those CloudWatch does not know are absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyEvidence {
    pub cluster: ClusterView,
    pub nodegroups: Vec<NodegroupView>,
    pub addons: Vec<AddonView>,
    pub alarms: Vec<AlarmView>,
}

/// What a rollback's prerequisites are checked on, by read-only calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackSurvey {
    pub cluster: ClusterView,
    pub versions: Vec<OfferedVersion>,
    /// The cluster's updates in progress.
    pub updates_in_progress: Vec<UpdateView>,
    /// ROLLBACK_READINESS insights.
    pub insights: Vec<InsightView>,
    pub nodegroups: Vec<NodegroupView>,
    /// The installed add-ons (their status).
    pub addons: Vec<AddonView>,
    /// Add-on name to its versions (for the add-ons to go back).
    pub addon_versions: Vec<(String, Vec<AddonVersionOption>)>,
}

/// Everything a plan is made from: read-only answers, safe to ask again at any time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    pub cluster: ClusterView,
    pub versions: Vec<OfferedVersion>,
    pub nodegroups: Vec<NodegroupView>,
    pub addons: Vec<AddonView>,
    /// Add-on name to its versions.
    pub addon_versions: Vec<(String, Vec<AddonVersionOption>)>,
    pub insights: Vec<InsightView>,
    /// The alarms the request's `verify` names, each with what CloudWatch said of it (`None`:
    /// CloudWatch has no metric alarm of that name). Read before the hop: one in ALARM blocks
    /// it.
    pub alarms: Vec<(String, Option<AlarmView>)>,
}
