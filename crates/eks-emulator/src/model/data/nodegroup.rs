//! A node group as the model holds it, and a node-group version change.

use super::super::launch_templates::LaunchTemplate;
use super::last_upgrade::LastUpgrade;
use crate::seed::{HealthIssue, ScalingConfig};
use std::collections::BTreeMap;

eks_enum_open! {
    /// Status of a node group.
    NodegroupStatus {
        Creating = "CREATING",
        Active = "ACTIVE",
        Updating = "UPDATING",
        Deleting = "DELETING",
        CreateFailed = "CREATE_FAILED",
        DeleteFailed = "DELETE_FAILED",
        Degraded = "DEGRADED",
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Nodegroup {
    pub name: String,
    pub arn: String,
    pub version: String,
    pub release_version: String,
    pub created_at: f64,
    pub modified_at: f64,
    pub status: NodegroupStatus,
    pub(in crate::model) ready_at: Option<f64>,
    pub instance_types: Vec<String>,
    pub scaling: ScalingConfig,
    pub subnets: Vec<String>,
    pub node_role: String,
    pub ami_type: String,
    pub capacity_type: String,
    pub disk_size: i64,
    pub labels: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// Name of the Auto Scaling group.
    pub asg: String,
    /// The launch template it was created with.
    pub launch_template: Option<LaunchTemplate>,
    /// Seed extension: launch-template version -> Kubernetes version of its AMI (CUSTOM).
    pub(in crate::model) ami_versions: BTreeMap<String, String>,
    /// `health.issues` (injected).
    pub health: Vec<HealthIssue>,
    /// The in-place upgrade that brought it to its version, which UpdateNodegroupVersion
    /// may roll back.
    pub(in crate::model) last_upgrade: Option<LastUpgrade>,
}
