//! What a plan is made of: its hops, each with its preflight's gates and its add-on and
//! node-group steps, and the options it is made with. `mod.rs` makes it from a survey.

use crate::domain::text::shown;
use crate::domain::version::{KubeVersion, TargetVersion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The gates of a hop's preflight, each stored and shown as the phrase operators read. A new
/// gate is a variant here (its phrase in `phrase`), so the compiler names every place that
/// lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Gate {
    /// EKS offers the hop's version.
    VersionOffered,
    /// The cluster is ACTIVE.
    ClusterActive,
    /// EKS's upgrade-readiness insights pass (or are overridden with `force`).
    UpgradeInsights,
    /// Every installed add-on has a version for the hop's Kubernetes.
    AddonVersions,
    /// No node group on a custom AMI is left behind the control plane.
    NodegroupSkew,
    /// The verification's alarms are not in ALARM before the hop.
    Alarms,
    /// A gate this version does not know (read from a record written by another one).
    Other(String),
}

impl Gate {
    pub(super) const ALL: [Gate; 6] = [
        Gate::VersionOffered,
        Gate::ClusterActive,
        Gate::UpgradeInsights,
        Gate::AddonVersions,
        Gate::NodegroupSkew,
        Gate::Alarms,
    ];

    /// The phrase operators read (in the plan, the record and its messages).
    pub fn phrase(&self) -> &str {
        match self {
            Gate::VersionOffered => "version offered",
            Gate::ClusterActive => "cluster ACTIVE",
            Gate::UpgradeInsights => "upgrade insights",
            Gate::AddonVersions => "add-ons have a version for the new Kubernetes",
            Gate::NodegroupSkew => "node groups at the control plane's version",
            Gate::Alarms => "verification alarms before the hop",
            Gate::Other(phrase) => phrase,
        }
    }
}

impl From<String> for Gate {
    fn from(phrase: String) -> Self {
        Gate::ALL
            .into_iter()
            .find(|g| g.phrase() == phrase)
            .unwrap_or(Gate::Other(phrase))
    }
}

impl From<Gate> for String {
    fn from(gate: Gate) -> Self {
        gate.phrase().to_owned()
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.phrase())
    }
}

impl PartialEq<&str> for Gate {
    fn eq(&self, other: &&str) -> bool {
        self.phrase() == *other
    }
}

/// One gate of a hop's preflight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateResult {
    pub gate: Gate,
    /// Whether the gate lets the hop go (an unchecked gate does not block it).
    pub passed: bool,
    /// False when nothing could be checked yet (EKS computes upgrade insights for the next
    /// minor only): checked again at that hop's preflight.
    #[serde(default = "checked_by_default")]
    pub checked: bool,
    pub detail: String,
}

fn checked_by_default() -> bool {
    true
}

/// What happens to one add-on in a hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonStep {
    pub name: String,
    pub from: String,
    /// The version it goes to; `None` when it stays (or can't move: see the hop's gates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub why: String,
}

/// A managed node group update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupStep {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<KubeVersion>,
    pub to: KubeVersion,
    /// A custom-AMI node group goes to `to` by this launch template version (the request's
    /// `nodegroupLaunchTemplates`), not by `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_template_version: Option<String>,
}

/// A node group this tool cannot move: an operator rolls it (a custom AMI with no launch
/// template version named for `needs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorNodegroup {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<KubeVersion>,
    /// The Kubernetes version it must reach.
    pub needs: KubeVersion,
    pub why: String,
}

/// `nodegroupLaunchTemplates` of a request: for a custom-AMI node group, the launch template
/// version that carries an AMI for each Kubernetes version,
/// `{"ng-custom": {"1.31": "7", "1.32": "8"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodegroupLaunchTemplates(pub(super) BTreeMap<String, BTreeMap<KubeVersion, LaunchTemplateVersion>>);

impl NodegroupLaunchTemplates {
    /// The launch template version named for node group `name` at Kubernetes `version`.
    pub fn version_for(&self, name: &str, version: KubeVersion) -> Option<&str> {
        self.0.get(name)?.get(&version).map(|v| v.0.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A launch template version number, as EKS takes it: digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LaunchTemplateVersion(String);

impl<'de> Deserialize<'de> for LaunchTemplateVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected a launch template version number such as \"7\", got {}",
                shown(&text)
            )))
        }
    }
}

/// What shapes a plan besides the survey: the request's options.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions<'a> {
    /// Override ERROR upgrade insights (reported as warnings).
    pub force: bool,
    pub launch_templates: &'a NodegroupLaunchTemplates,
}

/// What the EKS API cannot show, said in every plan with hops.
pub const UNSEEN_NODES_NOTE: &str = "The EKS API shows managed node groups only: nodes launched by \
    Karpenter, self-managed node groups and Fargate are not seen or upgraded here. Keep their kubelets \
    within the Kubernetes version skew policy (at most three minors older than the control plane, never \
    newer) before and after each hop.";

/// One minor version: gates, control plane, add-ons, node groups, in that order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    pub from: KubeVersion,
    pub to: KubeVersion,
    pub gates: Vec<GateResult>,
    pub addons: Vec<AddonStep>,
    pub nodegroups: Vec<NodegroupStep>,
    /// Custom-AMI node groups the operator rolls to `to` after the control plane (the next hop
    /// waits for them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodegroups_for_operator: Vec<OperatorNodegroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradePlan {
    pub cluster: String,
    pub requested: TargetVersion,
    pub from_version: KubeVersion,
    pub target_version: KubeVersion,
    /// Node groups behind the control plane: EKS refuses the next hop until they catch up, so
    /// they go first.
    pub node_groups_first: Vec<NodegroupStep>,
    /// Custom-AMI node groups behind the control plane, for the operator to roll first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_groups_for_operator: Vec<OperatorNodegroup>,
    /// With the control plane at (or past) the target: add-ons behind the default for its
    /// version, moved to it (the upgrade finishes the whole cluster, not only the control plane).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finish_addons: Vec<AddonStep>,
    pub hops: Vec<Hop>,
    /// Failed gates: the upgrade would park as BLOCKED with these reasons.
    pub blockers: Vec<String>,
    /// Reported, not blocking (WARNING insights, ERROR insights overridden by force).
    pub warnings: Vec<String>,
    /// What the plan cannot see (nodes outside managed node groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl UpgradePlan {
    /// Whether the plan changes anything, or needs the operator to.
    pub fn has_work(&self) -> bool {
        !(self.hops.is_empty()
            && self.node_groups_first.is_empty()
            && self.node_groups_for_operator.is_empty()
            && self.finish_addons.is_empty())
    }
}

/// Why no plan can be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}
