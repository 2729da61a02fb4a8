//! An update as the model holds it: its type, status, parameters, target and effect.

use crate::error::ApiError;
use crate::faults::{UpdateErrorDetail, UpdateKind};

eks_enum! {
    /// Status of an update.
    UpdateStatus {
        InProgress = "InProgress",
        Failed = "Failed",
        Cancelled = "Cancelled",
        Successful = "Successful",
    }
}

eks_enum! {
    /// Type of an update.
    UpdateType {
        VersionUpdate = "VersionUpdate",
        VersionRollback = "VersionRollback",
        AddonUpdate = "AddonUpdate",
    }
}

eks_enum! {
    /// Type of an update parameter.
    UpdateParamType {
        Version = "Version",
        PlatformVersion = "PlatformVersion",
        ReleaseVersion = "ReleaseVersion",
        AddonVersion = "AddonVersion",
        ResolveConflicts = "ResolveConflicts",
        ConfigurationValues = "ConfigurationValues",
        ServiceAccountRoleArn = "ServiceAccountRoleArn",
        LaunchTemplateName = "LaunchTemplateName",
        LaunchTemplateVersion = "LaunchTemplateVersion",
    }
}

/// One `{type, value}` of an update's `params`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UpdateParam {
    pub kind: UpdateParamType,
    pub value: String,
}

impl UpdateParam {
    pub(in crate::model) fn new(kind: UpdateParamType, value: impl Into<String>) -> Self {
        UpdateParam {
            kind,
            value: value.into(),
        }
    }
}

/// What an update changes: the control plane, a node group or an add-on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Cluster,
    Nodegroup(String),
    Addon(String),
}

impl Target {
    pub(in crate::model) fn kind(&self) -> UpdateKind {
        match self {
            Target::Cluster => UpdateKind::Cluster,
            Target::Nodegroup(_) => UpdateKind::Nodegroup,
            Target::Addon(_) => UpdateKind::Addon,
        }
    }

    /// The updated resource's name.
    pub(in crate::model) fn resource<'a>(&'a self, cluster: &'a str) -> &'a str {
        match self {
            Target::Cluster => cluster,
            Target::Nodegroup(n) | Target::Addon(n) => n,
        }
    }

    /// Names the node group or add-on in an error about this target.
    pub(in crate::model) fn scope(&self, e: ApiError) -> ApiError {
        match self {
            Target::Cluster => e,
            Target::Nodegroup(n) => e.nodegroup(n),
            Target::Addon(a) => e.addon(a),
        }
    }
}

/// What a successful update applies; each resource module applies its own.
#[derive(Debug, Clone)]
pub(in crate::model) enum Effect {
    Cluster(VersionChange),
    Nodegroup(NodegroupChange),
    Addon(AddonChange),
}

/// The `cancellation` of a cancelled update.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cancellation {
    pub status: UpdateStatus,
    pub reason: String,
}

/// An update of a cluster, node group or add-on.
#[derive(Debug, Clone)]
pub(crate) struct Update {
    pub id: String,
    pub target: Target,
    pub kind: UpdateType,
    pub status: UpdateStatus,
    pub params: Vec<UpdateParam>,
    pub created_at: f64,
    pub ends_at: f64,
    /// When the control plane starts changing: `created_at`, except for an Auto Mode
    /// rollback, whose node phase comes first (and may be cancelled).
    pub control_plane_at: f64,
    pub errors: Vec<UpdateErrorDetail>,
    /// The errors it will end Failed (or Cancelled) with (from a fail-next-update rule).
    pub(in crate::model) planned_errors: Option<Vec<UpdateErrorDetail>>,
    /// It ends Cancelled by EKS rather than Failed.
    pub(in crate::model) planned_cancel: bool,
    pub(in crate::model) effect: Effect,
    pub cancellation: Option<Cancellation>,
}

impl Update {
    pub(in crate::model) fn in_progress(&self) -> bool {
        self.status == UpdateStatus::InProgress
    }
}

/// A new update, as an update-creating operation asks for it once its rules passed.
pub(in crate::model) struct NewUpdate {
    pub target: Target,
    pub kind: UpdateType,
    pub params: Vec<UpdateParam>,
    pub duration_ms: u64,
    /// The part of `duration_ms` before the control plane changes (Auto Mode rollback).
    pub node_phase_ms: u64,
    pub effect: Effect,
}

/// A version update's effect.
#[derive(Debug, Clone)]
pub(crate) struct VersionChange {
    pub(in crate::model) version: String,
    pub(in crate::model) platform_version: String,
    pub(in crate::model) from_version: String,
    pub(in crate::model) from_platform: String,
    pub(in crate::model) rollback: bool,
}

/// A node-group update's effect.
#[derive(Debug, Clone)]
pub(crate) struct NodegroupChange {
    pub(in crate::model) version: String,
    pub(in crate::model) release_version: String,
    /// The launch-template version it moves to (None: unchanged).
    pub(in crate::model) launch_template_version: Option<String>,
}

/// An add-on update's effect.
#[derive(Debug, Clone)]
pub(crate) struct AddonChange {
    pub(in crate::model) version: String,
    pub(in crate::model) configuration_values: Option<String>,
    pub(in crate::model) service_account_role_arn: Option<String>,
}
