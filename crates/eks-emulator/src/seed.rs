//! The seed document: clusters, node groups, add-ons, insights, supported Kubernetes
//! versions and the add-on catalogue. Loaded with `--seed FILE`, `POST /_emulator/seed`
//! or [`crate::Emulator::seed`]. All keys are camelCase; unknown keys are rejected so
//! that typos do not go unnoticed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole seed document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Free text, ignored (JSON has no comments).
    #[serde(rename = "_comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<serde_json::Value>,
    /// Account id used in ARNs from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Region used in ARNs and endpoints from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Replaces the table of Kubernetes versions when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_versions: Option<Vec<SeedVersion>>,
    /// Replaces the add-on catalogue when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_catalog: Option<Vec<AddonCatalogEntry>>,
    /// Clusters to create (a cluster with the same name is replaced).
    #[serde(default)]
    pub clusters: Vec<SeedCluster>,
    /// Alarms of the CloudWatch stand-in (not EKS): set, an alarm with the same name is
    /// replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<SeedAlarm>,
    /// Other accounts (hub and spoke): the roles STS `AssumeRole` may give callers there, and
    /// the regions they have not enabled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<SeedAccount>,
}

/// An account besides the emulator's own: its roles that other accounts may assume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAccount {
    /// The 12-digit account id.
    pub id: String,
    /// Roles of the account that callers of other accounts may assume.
    #[serde(default)]
    pub roles: Vec<SeedRole>,
    /// Regions the account has not enabled: a call there with its credentials is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_regions: Vec<String>,
}

/// A role and who may assume it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRole {
    /// The role's name (its ARN is `arn:aws:iam::<account>:role/<name>`).
    pub name: String,
    /// The accounts whose callers its trust policy allows (the emulator's own by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusts: Vec<String>,
    /// The external id its trust policy requires, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// A CloudWatch alarm of the stand-in served beside EKS (`DescribeAlarms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAlarm {
    /// AlarmName, e.g. "api-5xx".
    pub name: String,
    /// StateValue: OK, ALARM or INSUFFICIENT_DATA.
    pub state: String,
    /// StateReason (default: a sentence naming the state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A composite alarm's AlarmRule, e.g. "ALARM(api-5xx) OR ALARM(api-latency)" (none: a
    /// metric alarm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The account the alarm lives in (default: the emulator's own), as a member cluster's
    /// alarms live in its account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region the alarm lives in (default: the emulator's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The in-place version update a cluster or node group went through last, which a
/// rollback may undo within 7 days of `completedAt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedLastUpgrade {
    /// The version it was upgraded from: the previous minor of its version.
    pub from_version: String,
    /// When the upgrade completed (default: the seeding time, on the emulator's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateValue>,
}

impl Seed {
    /// Parses a seed document from JSON text.
    pub fn from_json(text: &str) -> Result<Seed, SeedError> {
        serde_json::from_str(text).map_err(|e| SeedError(format!("invalid seed document: {e}")))
    }

    /// Reads and parses a seed file.
    pub fn from_file(path: &std::path::Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SeedError(format!("cannot read seed file {}: {e}", path.display())))?;
        Seed::from_json(&text).map_err(|e| SeedError(format!("{}: {}", path.display(), e.0)))
    }
}

/// A seed that could not be parsed or applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError(pub String);

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SeedError {}

/// A date: epoch seconds (number) or text "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM:SSZ".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DateValue {
    /// Epoch seconds.
    Epoch(f64),
    /// An ISO-8601 date or date-time (UTC).
    Text(String),
}

impl DateValue {
    pub(crate) fn resolve(&self) -> Result<f64, SeedError> {
        match self {
            DateValue::Epoch(v) => Ok(*v),
            DateValue::Text(s) => {
                crate::util::parse_date(s).ok_or_else(|| SeedError(format!("invalid date {s:?} (expected YYYY-MM-DD)")))
            }
        }
    }
}

/// One supported Kubernetes version (DescribeClusterVersions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVersion {
    /// "1.31".
    pub version: String,
    /// STANDARD_SUPPORT (default), EXTENDED_SUPPORT or UNSUPPORTED (not accepted by updates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_status: Option<String>,
    /// Whether this is the default version for CreateCluster.
    #[serde(default)]
    pub default_version: bool,
    /// Platform version a cluster gets when it moves to this version (default "eks.1").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
    /// Release date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<DateValue>,
    /// End of standard support (default: release date + 14 months).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_standard_support_date: Option<DateValue>,
    /// End of extended support (default: release date + 26 months).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_extended_support_date: Option<DateValue>,
    /// "1.31.13"; also used to build node-group AMI release versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_patch_version: Option<String>,
}

/// One add-on of the catalogue (DescribeAddonVersions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddonCatalogEntry {
    /// "vpc-cni".
    pub addon_name: String,
    /// "networking" by default.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub addon_type: Option<String>,
    /// "eks" by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// "aws" by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Versions, any order (answers list them newest first).
    pub versions: Vec<AddonCatalogVersion>,
}

/// One add-on version and the Kubernetes versions it is compatible with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddonCatalogVersion {
    /// "v1.19.2-eksbuild.1".
    pub addon_version: String,
    /// Kubernetes versions this add-on version supports.
    pub cluster_versions: Vec<String>,
    /// Kubernetes versions for which this is the default add-on version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_for: Vec<String>,
}

/// A cluster in a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedCluster {
    /// Cluster name.
    pub name: String,
    /// Its account, if not the emulator's own (hub and spoke).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Its region, if not the emulator's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Kubernetes version, e.g. "1.30".
    pub version: String,
    /// Platform version (default: the version table's, normally "eks.1").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
    /// ACTIVE (default), CREATING, FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Cluster IAM role (default: arn:aws:iam::ACCOUNT:role/eks-cluster-role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// STANDARD or EXTENDED (default EXTENDED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_type: Option<String>,
    /// Creation time (default: now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateValue>,
    /// Managed node groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodegroups: Vec<SeedNodegroup>,
    /// Installed add-ons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addons: Vec<SeedAddon>,
    /// Insights (ListInsights). An UPGRADE_READINESS insight with status ERROR for
    /// version V blocks UpdateClusterVersion to V unless force=true.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insights: Vec<SeedInsight>,
    /// `health.issues` of DescribeCluster (codes: the model's ClusterIssueCode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health: Vec<HealthIssue>,
    /// EKS Auto Mode: DescribeCluster shows `computeConfig`, `storageConfig.blockStorage`
    /// and `kubernetesNetworkConfig.elasticLoadBalancing` enabled; a rollback rolls the
    /// Auto Mode nodes back first, a phase CancelUpdate may cancel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_mode: bool,
    /// The in-place upgrade that brought the cluster to `version` (default: none, as for a
    /// cluster created at its version, which cannot be rolled back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_upgrade: Option<SeedLastUpgrade>,
}

/// A managed node group in a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedNodegroup {
    /// Node group name.
    #[serde(alias = "nodegroupName")]
    pub name: String,
    /// Kubernetes version (default: the cluster's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// AMI release version (default: latest for the version, e.g. "1.30.14-20261101").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
    /// ACTIVE (default), DEGRADED, CREATE_FAILED, ... (DEGRADED and CREATE_FAILED refuse
    /// UpdateNodegroupVersion with InvalidRequestException).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Instance types (default ["t3.medium"]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_types: Vec<String>,
    /// Scaling (default 1/3/2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_config: Option<ScalingConfig>,
    /// AMI type (default AL2023_x86_64_STANDARD); CUSTOM for a custom AMI named by the
    /// launch template (UpdateNodegroupVersion then refuses `version` and `releaseVersion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_type: Option<String>,
    /// ON_DEMAND (default) or SPOT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_type: Option<String>,
    /// Kubernetes labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The launch template the node group was created with (default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_template: Option<SeedLaunchTemplate>,
    /// Emulator extension: launch-template version -> Kubernetes version of the AMI in it,
    /// e.g. `{"4": "1.31", "5": "1.32"}`. A CUSTOM node group moved to launch-template
    /// version V gets the version mapped for V (the cluster's when V is not mapped).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub launch_template_versions: BTreeMap<String, String>,
    /// `health.issues` of DescribeNodegroup (codes: the model's NodegroupIssueCode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health: Vec<HealthIssue>,
    /// The in-place upgrade that brought the node group to its version (default: none),
    /// which UpdateNodegroupVersion may roll back within 7 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_upgrade: Option<SeedLastUpgrade>,
}

/// A node group's launch template, the service model's LaunchTemplateSpecification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedLaunchTemplate {
    /// Launch template name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Launch template version (default "1").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Launch template id (default: `lt-0` and 16 hex digits derived from the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One entry of `health.issues` (the model's ClusterIssue, Issue and AddonIssue shapes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthIssue {
    /// A code of the model's ClusterIssueCode, NodegroupIssueCode or AddonIssueCode,
    /// e.g. "NodeCreationFailure".
    pub code: String,
    /// Description of the issue.
    #[serde(default)]
    pub message: String,
    /// Resources concerned (instance ids, ...).
    #[serde(default)]
    pub resource_ids: Vec<String>,
}

impl HealthIssue {
    /// An issue with a code, a message and the resources concerned.
    pub fn new(code: &str, message: &str, resource_ids: &[&str]) -> Self {
        HealthIssue {
            code: code.to_string(),
            message: message.to_string(),
            resource_ids: resource_ids.iter().map(|r| r.to_string()).collect(),
        }
    }
}

/// Node group scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingConfig {
    /// Minimum size.
    pub min_size: i64,
    /// Maximum size.
    pub max_size: i64,
    /// Desired size.
    pub desired_size: i64,
}

/// An installed add-on in a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAddon {
    /// Add-on name, e.g. "coredns".
    #[serde(alias = "addonName")]
    pub name: String,
    /// Add-on version (default: the catalogue's default for the cluster version).
    #[serde(default, alias = "addonVersion", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// ACTIVE (default), DEGRADED (refuses UpdateAddon with InvalidRequestException), ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Configuration values (JSON/YAML text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_values: Option<String>,
    /// Service-account role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_role_arn: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// `health.issues` of DescribeAddon (codes: the model's AddonIssueCode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health: Vec<HealthIssue>,
}

/// An insight in a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedInsight {
    /// Id (default: derived from cluster, name and version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name, e.g. "Deprecated APIs removed in Kubernetes v1.31".
    pub name: String,
    /// UPGRADE_READINESS (default), MISCONFIGURATION, ROLLBACK_READINESS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Kubernetes version the insight is about (default: the cluster's next minor; for
    /// ROLLBACK_READINESS its previous minor). An ERROR ROLLBACK_READINESS insight for V
    /// blocks a rollback to V unless force=true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// PASSING, WARNING, ERROR, UNKNOWN.
    pub status: String,
    /// Reason text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Description (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
