//! A cluster as the model holds it: its status, its VPC, what it owns, a version change.

use super::addon::Addon;
use super::insight::Insight;
use super::last_upgrade::LastUpgrade;
use super::nodegroup::Nodegroup;
use super::token::TokenTable;
use super::update::Update;
use crate::seed::HealthIssue;
use std::collections::BTreeMap;

eks_enum! {
    /// Status of a cluster.
    ClusterStatus {
        Creating = "CREATING",
        Active = "ACTIVE",
        Deleting = "DELETING",
        Failed = "FAILED",
        Updating = "UPDATING",
        Pending = "PENDING",
    }
}

impl ClusterStatus {
    /// The statuses a seed may give a cluster.
    pub(in crate::model) const SEEDABLE: [ClusterStatus; 4] = [
        ClusterStatus::Active,
        ClusterStatus::Creating,
        ClusterStatus::Failed,
        ClusterStatus::Pending,
    ];
}

#[derive(Debug, Clone)]
pub(crate) struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
    pub public_access_cidrs: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub name: String,
    pub arn: String,
    pub uid: String,
    pub created_at: f64,
    pub version: String,
    pub platform_version: String,
    pub status: ClusterStatus,
    pub(in crate::model) ready_at: Option<f64>,
    pub(in crate::model) delete_at: Option<f64>,
    pub role_arn: String,
    pub tags: BTreeMap<String, String>,
    pub support_type: String,
    pub vpc: VpcConfig,
    pub client_request_token: Option<String>,
    pub(in crate::model) nodegroups: BTreeMap<String, Nodegroup>,
    pub(in crate::model) addons: BTreeMap<String, Addon>,
    pub(in crate::model) insights: Vec<Insight>,
    pub(in crate::model) updates: Vec<Update>,
    /// Tokens of UpdateClusterVersion, CreateNodegroup, UpdateNodegroupVersion,
    /// CreateAddon and UpdateAddon on this cluster.
    pub(in crate::model) tokens: TokenTable,
    /// The in-place upgrade that brought it to its version, which a rollback may undo.
    pub(in crate::model) last_upgrade: Option<LastUpgrade>,
    /// `health.issues` (injected).
    pub health: Vec<HealthIssue>,
    /// EKS Auto Mode (compute, block storage and load balancing capabilities enabled).
    pub auto_mode: bool,
}
